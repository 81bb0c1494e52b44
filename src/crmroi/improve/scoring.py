"""Lead and deal scoring: time-based hold-out evaluation and scores for open records.

`score_workspace(frames)` builds leakage-guarded examples (`features.py`), trains
both models (`models.py`) on the records created before `train_until`, measures them
on the records created from then on, then refits on all closed history and scores
the open leads and deals with a probability and the top reasons.

Metrics on the hold-out: ROC AUC, log-loss (nats per record), Brier score, expected
calibration error over ten equal-count bins, and the lift in the top decile (the
conversion rate among the 10 % best-scored records over the overall rate; tied
scores at the cut count in proportion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from crmroi.errors import UserError
from crmroi.improve.features import Examples, Kind, deal_examples, lead_examples
from crmroi.improve.frames import data_date
from crmroi.improve.models import LogisticScorer, NaiveBayesScorer, Reason
from crmroi.messages import M_, Message, Num, Said, said_of

MIN_ROWS = 20  # per class, in training and in the hold-out


class NotEnoughHistory(UserError):
    """Too few closed records (of either outcome) to train or test a model."""


class Scorer(Protocol):
    name: str

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Scorer: ...
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...
    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[Reason]]: ...


def make_models() -> list[Scorer]:
    """The two models, side by side (fixed seeds)."""
    return [NaiveBayesScorer(), LogisticScorer()]


@dataclass(frozen=True)
class CalibrationBin:
    """One equal-count bin: mean predicted probability versus observed rate."""

    predicted: float
    observed: float
    count: int


@dataclass(frozen=True)
class Evaluation:
    """Hold-out figures of one model on one kind of record."""

    model: str
    n_train: int
    n_test: int
    rate_train: float
    rate_test: float
    auc: float
    log_loss: float
    brier: float
    calibration_error: float
    lift_top_decile: float
    calibration: list[CalibrationBin] = field(default_factory=list)


def top_decile_lift(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    """Rate among the `share` best-scored rows over the overall rate (ties shared)."""
    n = len(y)
    k = share * n
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    threshold = p_sorted[min(int(np.ceil(k)) - 1, n - 1)]
    above = p_sorted > threshold
    tied = p_sorted == threshold
    room = k - above.sum()
    hits = y_sorted[above].sum() + room * y_sorted[tied].mean()
    return float((hits / k) / y.mean())


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[CalibrationBin]:
    """Equal-count bins of the predicted probability (fewer when there are ties)."""
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(order))):
        if len(chunk):
            out.append(CalibrationBin(float(p[chunk].mean()), float(y[chunk].mean()), len(chunk)))
    return out


def evaluate(model: Scorer, train: Examples, test: Examples) -> Evaluation:
    """Fit `model` on `train`'s closed records and measure it on `test`'s."""
    tr, te = train.resolved(), test.resolved()
    y_train, y_test = train.label[tr], test.label[te].to_numpy(dtype=float)
    model.fit(train.features[tr], y_train)
    p = np.clip(model.predict_proba(test.features[te]), 1e-6, 1 - 1e-6)
    bins = calibration_bins(y_test, p)
    ece = sum(b.count * abs(b.predicted - b.observed) for b in bins) / len(y_test)
    return Evaluation(
        model=model.name,
        n_train=int(tr.sum()),
        n_test=int(te.sum()),
        rate_train=float(y_train.mean()),
        rate_test=float(y_test.mean()),
        auc=float(roc_auc_score(y_test, p)),
        log_loss=float(log_loss(y_test, p, labels=[0.0, 1.0])),
        brier=float(brier_score_loss(y_test, p)),
        calibration_error=float(ece),
        lift_top_decile=top_decile_lift(y_test, p),
        calibration=bins,
    )


def split_by_time(examples: Examples, train_until: pd.Timestamp) -> tuple[Examples, Examples]:
    """Records created before `train_until` (training) and from it on (hold-out)."""
    before = examples.created_at < train_until

    def part(mask: pd.Series) -> Examples:
        return Examples(
            examples.kind,
            examples.ids[mask],
            examples.created_at[mask],
            examples.features[mask],
            examples.label[mask],
            examples.open[mask],
        )

    return part(before), part(~before)


def default_train_until(examples: Examples, share: float = 0.75) -> pd.Timestamp:
    """The day by which `share` of the closed records had been created."""
    created = examples.created_at[examples.resolved()]
    return pd.Timestamp(created.sort_values().iloc[int(share * (len(created) - 1))]).normalize()


def _check(examples: Examples, part: Message) -> None:
    counts = examples.label.value_counts()
    won, lost = int(counts.get(1.0, 0)), int(counts.get(0.0, 0))
    if min(won, lost) < MIN_ROWS:
        raise NotEnoughHistory(
            M_(
                "scoring_few_outcomes",
                "%(kind)s: %(part)s has %(won)s converted/won and %(lost)s lost records; "
                "at least %(least)s of each are needed",
                kind=examples.kind,
                part=part,
                won=Num(won, grouped=False),
                lost=Num(lost, grouped=False),
                least=Num(MIN_ROWS, grouped=False),
            )
        )


@dataclass
class KindResult:
    """Evaluation and open-record scores for leads or for deals."""

    kind: Kind
    train_until: pd.Timestamp
    evaluations: list[Evaluation]
    scores: pd.DataFrame  # id, created_at, <model>_probability, <model>_reasons (`Reason`s)


@dataclass
class ScoringReport:
    """Scores and hold-out figures for every kind of record that has enough history."""

    as_of: pd.Timestamp
    results: list[KindResult]
    skipped: dict[str, str]


def score_kind(
    examples: Examples,
    train_until: pd.Timestamp | None = None,
    top: int = 3,
    refit: bool = True,
) -> KindResult:
    """Hold-out evaluation of both models, then scores for the open records.

    With `refit` (the default) the models are refitted on all closed history before
    scoring; without it the hold-out's models (trained before `train_until`) score
    the open records, which halves the work (the report's cheap setting).
    """
    _check(examples, M_("scoring_closed_history", "the closed history"))
    until = default_train_until(examples) if train_until is None else train_until
    train, test = split_by_time(examples, until)
    before = M_("scoring_training", "the training period (before %(day)s)", day=until.date())
    _check(train, before)
    _check(test, M_("scoring_hold_out", "the hold-out (from %(day)s)", day=until.date()))
    models = make_models()
    evaluations = [evaluate(m, train, test) for m in models]
    resolved, open_ = examples.resolved(), examples.open
    scores = pd.DataFrame(
        {"id": examples.ids[open_].to_numpy(), "created_at": examples.created_at[open_].to_numpy()}
    )
    X_open = examples.features[open_]
    for model in models:
        if refit:
            model.fit(examples.features[resolved], examples.label[resolved])
        if len(X_open):
            scores[f"{model.name}_probability"] = model.predict_proba(X_open)
            scores[f"{model.name}_reasons"] = model.reasons(X_open, top)  # `Reason`s
        else:
            scores[f"{model.name}_probability"] = pd.Series(dtype=float)
            scores[f"{model.name}_reasons"] = pd.Series(dtype=object)
    scores = scores.sort_values("logistic_probability", ascending=False, kind="stable")
    return KindResult(examples.kind, until, evaluations, scores.reset_index(drop=True))


def build_examples(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> list[Examples]:
    """Lead and deal examples from the canonical frames (empty tables are left out)."""
    out = []
    if len(frames.get("leads", ())):
        out.append(lead_examples(frames["leads"], frames.get("deals"), frames.get("reps"), as_of))
    if len(frames.get("deals", ())):
        out.append(
            deal_examples(
                frames["deals"],
                frames.get("accounts"),
                frames.get("reps"),
                frames.get("orders"),
                as_of,
            )
        )
    return out


def score_workspace(
    frames: dict[str, pd.DataFrame],
    train_until: pd.Timestamp | None = None,
    as_of: pd.Timestamp | None = None,
    refit: bool = True,
) -> ScoringReport:
    """Score leads and deals; a kind without enough history is skipped with the reason.

    `refit`: see `score_kind`."""
    day = data_date(frames) if as_of is None else as_of
    results: list[KindResult] = []
    skipped: dict[str, str] = {}  # the reasons as `messages.Said`
    for examples in build_examples(frames, day):
        if not len(examples.ids):
            none = M_(
                "scoring_no_dates", "%(kind)s: none has a created_at date", kind=examples.kind
            )
            skipped[examples.kind] = Said(none)
            continue
        try:
            results.append(score_kind(examples, train_until, refit=refit))
        except NotEnoughHistory as exc:
            skipped[examples.kind] = said_of(exc)
    if not results:
        said = [s.message if isinstance(s, Said) else s for s in skipped.values()]
        reasons: Message | str = M_("scoring_no_records", "the workspace has no leads or deals")
        if said:
            reasons = said[-1]
            for reason in reversed(said[:-1]):
                reasons = M_("case_joined", "%(first)s; %(rest)s", first=reason, rest=reasons)
        raise NotEnoughHistory(
            M_("scoring_nothing", "nothing to score: %(reasons)s", reasons=reasons)
        )
    return ScoringReport(day, results, skipped)
