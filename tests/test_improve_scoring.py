"""Lead and deal scoring: the leakage guard, the models, the metrics, the Olist validation."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmroi.demo import generate_company
from crmroi.improve.features import LEAKY_COLUMNS, deal_examples, lead_examples
from crmroi.improve.frames import frames_from_arrow, load_frames
from crmroi.improve.models import LogisticScorer, NaiveBayesScorer
from crmroi.improve.scoring import (
    NotEnoughHistory,
    calibration_bins,
    score_kind,
    score_workspace,
    top_decile_lift,
)
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store
from tests.conftest import shared_data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@functools.cache
def _demo() -> dict[str, pd.DataFrame]:
    return frames_from_arrow(generate_company(scale=0.3, seed=7).tables)


def demo_frames() -> dict[str, pd.DataFrame]:
    """A small demo company as frames (a fresh copy per test)."""
    return {name: frame.copy() for name, frame in _demo().items()}


def _snapshot(frames: dict[str, pd.DataFrame], t: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The workspace as an export taken at `t` would have shown it: later records are
    absent and later outcomes not yet known (with scrambled post-outcome fields)."""
    rng = np.random.default_rng(1)
    leads = frames["leads"][frames["leads"].created_at <= t].copy()
    later = ~(leads.converted_at <= t)
    leads.loc[later, ["converted_at"]] = pd.NaT
    leads.loc[later, ["deal_id", "account_id"]] = None
    leads.loc[later, "status"] = "working"
    deals = frames["deals"][frames["deals"].created_at <= t].copy()
    deals = deals.sample(frac=1.0, random_state=3)  # row order must not matter either
    still_open = ~(deals.closed_at <= t)
    deals.loc[still_open, "closed_at"] = pd.NaT
    deals.loc[still_open, ["is_closed", "is_won"]] = False
    deals.loc[still_open, "stage"] = "Proposal"
    deals["amount"] = rng.uniform(1, 1e6, len(deals))  # amounts change up to the close
    deals["cost"] = rng.uniform(1, 1e5, len(deals))
    orders = frames["orders"][frames["orders"].ordered_at <= t]
    return {**frames, "leads": leads, "deals": deals, "orders": orders}


def _by_id(ids: pd.Series, features: pd.DataFrame) -> pd.DataFrame:
    return features.set_axis(ids.to_numpy()).sort_index()


@pytest.mark.parametrize("t", ["2024-03-15", "2025-06-30"])
def test_features_are_the_same_in_hindsight_and_at_the_time(t: str) -> None:
    """Leakage guard: the features of every record created by `t`, computed from the
    full history, equal those computed from a snapshot at `t`, in which later records
    are missing and the outcomes, stages, close dates and amounts are not yet known."""
    full, as_of = demo_frames(), pd.Timestamp(t)
    then = _snapshot(full, as_of)
    end = pd.Timestamp("2026-01-01")
    for build in (
        lambda f, day: lead_examples(f["leads"], f["deals"], f["reps"], day),
        lambda f, day: deal_examples(f["deals"], f["accounts"], f["reps"], f["orders"], day),
    ):
        hindsight, at_the_time = build(full, end), build(then, as_of)
        known = hindsight.ids.isin(at_the_time.ids)
        assert known.sum() > 500
        expected = _by_id(hindsight.ids[known], hindsight.features[known])
        got = _by_id(at_the_time.ids, at_the_time.features)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        # and the outcome fields do differ between the two views
        assert (hindsight.label[known].fillna(-1).to_numpy() != -1).sum() > (
            at_the_time.label.notna().sum()
        )


def test_post_outcome_fields_are_not_features() -> None:
    ex = demo_frames()
    leads = lead_examples(ex["leads"], ex["deals"], ex["reps"], pd.Timestamp("2026-01-01"))
    deals = deal_examples(
        ex["deals"], ex["accounts"], ex["reps"], ex["orders"], pd.Timestamp("2026-01-01")
    )
    for examples in (leads, deals):
        assert not set(examples.features.columns) & set(LEAKY_COLUMNS[examples.kind])
        assert examples.label.notna().sum() > 1000 and examples.open.sum() > 10


def test_naive_bayes_is_odoo_frequency_formula() -> None:
    X = pd.DataFrame({"source": ["web", "web", "web", "event", "event"]})
    y = pd.Series([1.0, 0.0, 0.0, 1.0, 1.0])
    model = NaiveBayesScorer().fit(X, y)
    won, lost = 3 + 0.1, 2 + 0.1
    p_web_won, p_web_lost = (1 + 0.1) / won, (2 + 0.1) / lost
    expected = won * p_web_won / (won * p_web_won + lost * p_web_lost)
    got = model.predict_proba(pd.DataFrame({"source": ["web"]}))[0]
    assert got == pytest.approx(expected)
    reasons = model.reasons(pd.DataFrame({"source": ["event"]}))[0]
    assert reasons[0].field == "source" and reasons[0].effect > 0
    # an unseen value is neutral
    unseen = model.predict_proba(pd.DataFrame({"source": ["fax"]}))[0]
    assert unseen == pytest.approx(won / (won + lost))


def test_logistic_learns_a_signal_and_explains_it() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame(
        {
            "source": rng.choice(["referral", "web", "cold"], n),
            "noise": rng.choice(["a", "b"], n),
            "prior_won_deals": rng.poisson(1.0, n).astype(float),
        }
    )
    logit = -1.5 + 1.5 * (X.source == "referral") + 0.5 * X.prior_won_deals
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float))
    model = LogisticScorer().fit(X, y)
    p = model.predict_proba(X)
    assert abs(p.mean() - y.mean()) < 0.01  # calibrated in the large
    top = model.reasons(X.head(200), top=1)
    fields = {r[0].field for r in top if r}
    assert fields <= {"source", "prior_won_deals"}


def test_top_decile_lift_and_calibration_bins() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0] * 10, dtype=float)
    perfect = y.copy()
    assert top_decile_lift(y, perfect) == pytest.approx(10.0)
    assert top_decile_lift(y, np.full(100, 0.3)) == pytest.approx(1.0)  # all tied
    bins = calibration_bins(y, np.linspace(0, 1, 100))
    assert len(bins) == 10 and sum(b.count for b in bins) == 100


def test_demo_scores_open_records_with_reasons() -> None:
    report = score_workspace(demo_frames())
    assert {r.kind for r in report.results} == {"leads", "deals"}
    leads = next(r for r in report.results if r.kind == "leads")
    assert [e.model for e in leads.evaluations] == ["naive_bayes", "logistic"]
    for e in leads.evaluations:
        assert e.auc > 0.55 and e.lift_top_decile > 1.2 and e.n_test > 500
    scores = leads.scores
    assert len(scores) > 50
    assert scores.logistic_probability.between(0, 1).all()
    assert scores.logistic_probability.is_monotonic_decreasing
    assert all(1 <= len(r) <= 3 for r in scores.logistic_reasons)
    assert all(r[0].startswith("source=") for r in scores.logistic_reasons.head(5))


def test_too_little_history_is_a_clear_error() -> None:
    frames = demo_frames()
    frames["leads"] = frames["leads"].head(30)
    frames["deals"] = frames["deals"].head(30)
    with pytest.raises(NotEnoughHistory, match=r"nothing to score: leads: .* at least 20"):
        score_workspace(frames)


def _entropy(rate: float) -> float:
    return -(rate * math.log(rate) + (1 - rate) * math.log(1 - rate))


def test_olist_holdout(workspace: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """Validation on the real Olist funnel: 8,000 leads, 842 won; origin and first-contact
    weekday are the only fields known before the outcome (the shared file has no
    landing page column). Trained before 2018-04-15, tested on the later leads."""
    folder = shared_data("olist_funnel")
    files = [
        folder / "olist_marketing_qualified_leads_dataset.csv",
        folder / "olist_closed_deals_dataset.csv",
    ]
    import_files(workspace, files, mapping=EXAMPLES / "olist_funnel.yaml")
    frames = load_frames(workspace, ["reps", "accounts", "leads", "deals", "orders"])
    report = score_workspace(frames)
    assert "deals" in report.skipped  # the file has won deals only, no creation date
    (leads,) = report.results
    assert str(leads.train_until.date()) == "2018-04-15"
    with capsys.disabled():
        print()
        for e in leads.evaluations:
            print(
                f"olist {e.model}: train {e.n_train} test {e.n_test} rate {e.rate_test:.3f} "
                f"AUC {e.auc:.3f} log-loss {e.log_loss:.4f} (base {_entropy(e.rate_test):.4f}) "
                f"Brier {e.brier:.4f} ECE {e.calibration_error:.4f} "
                f"lift@10% {e.lift_top_decile:.2f}"
            )
    for e in leads.evaluations:
        assert (e.n_train, e.n_test) == (5981, 2019)
        assert 0.60 < e.auc < 0.70
        assert e.log_loss < _entropy(e.rate_test)  # better than the base rate alone
        assert e.calibration_error < 0.03
        assert e.lift_top_decile > 1.5


def test_explicit_train_until_moves_the_split() -> None:
    frames = demo_frames()
    as_of = pd.Timestamp("2026-01-01")
    examples = lead_examples(frames["leads"], frames["deals"], frames["reps"], as_of)
    result = score_kind(examples, pd.Timestamp("2025-01-01"))
    assert result.train_until == pd.Timestamp("2025-01-01")
    nb = result.evaluations[0]
    assert nb.n_train == int((examples.created_at < "2025-01-01")[examples.resolved()].sum())
