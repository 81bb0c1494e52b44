"""Two lead/deal scoring models with per-record reasons.

- `NaiveBayesScorer`: the frequency-based naive Bayes of the open-source CRMs'
  predictive lead scoring (Odoo `crm.lead` PLS, `addons/crm/models/crm_lead.py`:
  per field value, the won and lost counts plus 0.1; P(won | values) is the prior
  won count times the product of P(value | won), normalised against the same for
  lost). Numeric fields are cut into quantile bins first. Not recalibrated, as in Odoo.
- `LogisticScorer`: an L2-regularised logistic regression (scikit-learn) over
  one-hot categories and standardised numbers, with Platt (sigmoid) calibration
  fitted on 5-fold out-of-fold predictions (the model itself is refit on all rows).

Both give `reasons`: the fields that pushed a score up or down, as log-odds
contributions (natural log; positive raises the probability), each a
`crmroi.improve.reasons.Reason` (English text `field=value (+0.88)` that keeps its parts).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from crmroi.improve.reasons import Reason

SMOOTHING = 0.1  # Odoo's pseudo-count per value and outcome
OTHER = "(other)"


def _top_reasons(contributions: pd.DataFrame, values: pd.DataFrame, top: int) -> list[list[Reason]]:
    out: list[list[Reason]] = []
    fields = list(contributions.columns)
    matrix = contributions.to_numpy()
    cells = values[fields].to_numpy(dtype=object)  # one conversion, not a Series per row
    for i in range(len(contributions)):
        order = np.argsort(-np.abs(matrix[i]), kind="stable")[:top]
        out.append(
            [
                Reason(fields[j], cells[i, j], float(matrix[i, j]))
                for j in order
                if abs(matrix[i, j]) > 1e-9
            ]
        )
    return out


class NaiveBayesScorer:
    """Frequency naive Bayes over categorical fields (Odoo's predictive lead scoring)."""

    name = "naive_bayes"

    def __init__(self, bins: int = 5) -> None:
        self.bins = bins
        self.edges: dict[str, np.ndarray] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.won = 0.0
        self.lost = 0.0

    def _discrete(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for column, edges in self.edges.items():
            index = np.searchsorted(edges, X[column].to_numpy(dtype=float), side="right")
            names = [
                f"<{edges[0]:g}",
                *(f"{lo:g}-{hi:g}" for lo, hi in itertools.pairwise(edges)),
                f">={edges[-1]:g}",
            ]
            out[column] = np.array(names, dtype=object)[index]
        return out.astype("object")

    def fit(self, X: pd.DataFrame, y: pd.Series) -> NaiveBayesScorer:
        """Count won and lost per field value (`y` is 1.0 won, 0.0 lost)."""
        labels = y.to_numpy(dtype=float)
        self.edges = {}
        for column in map(str, X.columns):
            if pd.api.types.is_numeric_dtype(X[column]):
                cuts = np.unique(
                    np.quantile(X[column].astype(float), np.linspace(0, 1, self.bins + 1))
                )
                self.edges[column] = cuts[1:-1] if len(cuts) > 2 else cuts[:1]
        D = self._discrete(X)
        self.won, self.lost = float(labels.sum()), float((1 - labels).sum())
        self.tables = {}
        for column in map(str, D.columns):
            counts = pd.crosstab(D[column], labels).reindex(columns=[0.0, 1.0], fill_value=0)
            table = pd.DataFrame(
                {
                    "p_won": (counts[1.0] + SMOOTHING) / (self.won + SMOOTHING),
                    "p_lost": (counts[0.0] + SMOOTHING) / (self.lost + SMOOTHING),
                }
            )
            self.tables[column] = table
        return self

    def _log_ratios(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per field: log P(value | won) - log P(value | lost); unseen values add 0."""
        D = self._discrete(X)
        out = pd.DataFrame(index=X.index)
        for column, table in self.tables.items():
            ratio = np.log(table["p_won"]) - np.log(table["p_lost"])
            out[column] = D[column].map(ratio).astype(float).fillna(0.0).to_numpy()
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(won) per row."""
        prior = np.log(self.won + SMOOTHING) - np.log(self.lost + SMOOTHING)
        logit = prior + self._log_ratios(X).sum(axis=1).to_numpy()
        return 1.0 / (1.0 + np.exp(-logit))

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
        return _top_reasons(self._log_ratios(X), self._discrete(X), top)


class LogisticScorer:
    """Regularised logistic regression with Platt calibration (scikit-learn).

    Categories seen fewer than `min_frequency` times in training share one
    "(other)" column per field; numbers are standardised with the training mean and
    standard deviation.
    """

    name = "logistic"

    def __init__(self, c: float = 1.0, min_frequency: int = 10) -> None:
        self.c = c
        self.min_frequency = min_frequency
        self.vocab: dict[str, list[str]] = {}
        self.scale: dict[str, tuple[float, float]] = {}
        self.columns: list[str] = []  # the field of each design-matrix column
        self.model: LogisticRegression | None = None
        self.calibrated: CalibratedClassifierCV | None = None
        self.mean: np.ndarray | None = None

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        blocks: list[np.ndarray] = []
        for field, vocab in self.vocab.items():
            values = X[field].astype(str)
            codes = pd.Categorical(values.where(values.isin(vocab), OTHER), categories=vocab)
            block = np.zeros((len(X), len(vocab)))
            block[np.arange(len(X)), codes.codes] = 1.0
            blocks.append(block)
        for field, (mean, std) in self.scale.items():
            blocks.append(((X[field].to_numpy(dtype=float) - mean) / std)[:, None])
        return np.hstack(blocks) if blocks else np.zeros((len(X), 0))

    def fit(self, X: pd.DataFrame, y: pd.Series) -> LogisticScorer:
        """Fit on all rows; calibrate on 5-fold out-of-fold predictions."""
        self.vocab, self.scale, self.columns = {}, {}, []
        for field in map(str, X.columns):
            if pd.api.types.is_numeric_dtype(X[field]):
                values = X[field].to_numpy(dtype=float)
                self.scale[field] = (float(values.mean()), float(values.std()) or 1.0)
            else:
                counts = X[field].astype(str).value_counts()
                kept = sorted(str(v) for v in counts.index[counts >= self.min_frequency])
                self.vocab[field] = [*kept, OTHER]
                self.columns += [field] * len(self.vocab[field])
        self.columns += list(self.scale)
        Z = self._design(X)
        labels = y.to_numpy(dtype=int)
        folds = int(min(5, np.bincount(labels, minlength=2).min()))
        try:
            self._fit_design(Z, labels, folds, "newton-cholesky")
        except ConvergenceWarning:
            # Newton's line search can stall on (nearly) separable histories; L-BFGS on
            # the same L2-penalised likelihood gets there (the penalty keeps it finite)
            self._fit_design(Z, labels, folds, "lbfgs")
        self.mean = Z.mean(axis=0)
        return self

    def _fit_design(self, Z: np.ndarray, labels: np.ndarray, folds: int, solver: str) -> None:
        """Fit (and calibrate) on the design matrix; a convergence warning is raised."""
        model = LogisticRegression(
            C=self.c, solver=solver, max_iter=200 if solver != "lbfgs" else 5000
        )
        # multi-threaded BLAS on these small dense matrices is ~40x slower (2 cores)
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            if folds >= 2:
                self.calibrated = CalibratedClassifierCV(
                    model, method="sigmoid", cv=folds, ensemble=False
                ).fit(Z, labels)
                self.model = self.calibrated.calibrated_classifiers_[0].estimator
            else:
                self.calibrated, self.model = None, model.fit(Z, labels)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(won) per row."""
        model = self.calibrated if self.calibrated is not None else self.model
        assert model is not None, "fit first"
        with threadpool_limits(limits=1, user_api="blas"):
            return np.asarray(model.predict_proba(self._design(X))[:, 1])

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
        """Per field: sum of coefficient x (encoded value - training mean)."""
        assert self.model is not None and self.mean is not None, "fit first"
        weighted = (self._design(X) - self.mean) * self.model.coef_[0]
        owner = np.array(self.columns)
        contributions = pd.DataFrame(
            {f: weighted[:, owner == f].sum(axis=1) for f in dict.fromkeys(self.columns)},
            index=X.index,
        )
        return _top_reasons(contributions, X, top)
