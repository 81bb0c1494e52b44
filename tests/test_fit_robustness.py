"""Every model fit stays finite on degenerate and extreme histories, or says why not.

Each fit runs with numpy's floating-point warnings turned into errors (pytest already
turns Python warnings into errors), so an overflow or a 0/0 a user would otherwise get
silently fails here. The outcome must be finite numbers or crmroi's own `UserError`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.errors import UserError
from crmroi.improve.clv import fit_bgnbd, rfm
from crmroi.improve.lifetime import lifetime_value
from crmroi.improve.models import LogisticScorer, NaiveBayesScorer
from crmroi.improve.spend import GAMMA_GAMMA, MEAN_SPEND, fit_gamma_gamma

AS_OF = pd.Timestamp("2025-12-31")
FITS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _finite(*values: float | None) -> bool:
    return all(v is not None and np.isfinite(v) for v in values)


def test_gamma_gamma_without_spread_within_customers_falls_back_to_their_mean() -> None:
    """Means drawn from the model's own p -> infinity limit (an inverse gamma, the same
    whatever the number of purchases): on this sample the likelihood rises without end
    as p grows (about half of such samples do), so the fit is that limit, said aloud."""
    rng = np.random.default_rng(0)
    m = 1.0 / rng.gamma(3.0, 1.0 / 400.0, 300)
    x = rng.integers(1, 25, 300)
    with np.errstate(all="raise"):
        fit = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary_value": m}))
    assert fit.model == MEAN_SPEND
    assert fit.warning is not None and "hardly varies within customers" in fit.warning
    assert fit.parameters() == {"population_mean_spend": pytest.approx(float(np.mean(m)))}
    spend = fit.expected_spend(np.array([3.0, 0.0]), np.array([250.0, 0.0]))
    assert spend.tolist() == pytest.approx([250.0, float(np.mean(m))])


@pytest.mark.parametrize("p", [0.5, 6.25, 80.0])
def test_stable_likelihood_equals_the_published_density(p: float) -> None:
    """Fader, Hardie & Lee (2005): Gamma(px + q) / (Gamma(px) Gamma(q)) gamma^q
    m^(px - 1) x^px / (gamma + m x)^(px + q), evaluated directly with log-gammas."""
    from scipy.special import gammaln

    from crmroi.improve.spend import gamma_gamma_log_likelihood

    q, gamma = 3.74, 15.44
    x = np.array([1.0, 2.0, 7.0, 30.0])
    m = np.array([12.5, 40.0, 3.2, 99.0])
    px = p * x
    direct = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
    assert gamma_gamma_log_likelihood((p, q, gamma), x, m) == pytest.approx(direct, rel=1e-9)


def test_mean_spend_is_the_limit_of_the_gamma_gamma_expectation() -> None:
    """Closed form: p (gamma + m x) / (p x + q - 1) -> m as p -> inf with p gamma fixed."""
    q, c, x, m = 2.5, 300.0, 4.0, 120.0
    limits = [p * (c / p + m * x) / (p * x + q - 1.0) for p in (1e2, 1e4, 1e6, 1e8)]
    assert abs(limits[-1] - m) < abs(limits[0] - m)
    assert limits[-1] == pytest.approx(m, rel=1e-6)


def test_identical_spends_fall_back_with_a_reason() -> None:
    summary = pd.DataFrame({"frequency": [1, 2, 3] * 5, "monetary_value": 50.0})
    with np.errstate(all="raise"):
        fit = fit_gamma_gamma(summary)
    assert fit.model == MEAN_SPEND and fit.mean_spend == 50.0
    assert fit.warning is not None and "same mean spend" in fit.warning


def test_a_proper_gamma_gamma_sample_still_fits_the_model() -> None:
    rng = np.random.default_rng(7)
    nu = rng.gamma(3.0, 1.0 / 20.0, 3000)
    x = rng.integers(1, 6, 3000)
    m = rng.gamma(5.0 * x, 1.0 / nu) / x
    with np.errstate(all="raise"):
        fit = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary_value": m}))
    assert fit.model == GAMMA_GAMMA and fit.warning is None
    assert fit.mean_spend == pytest.approx(5.0 * 20.0 / 2.0, rel=0.05)


@FITS
@given(
    data=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=60),
            st.one_of(
                st.floats(min_value=0.01, max_value=1e9, allow_nan=False),
                st.sampled_from([1.0, 100.0, 1e8]),
            ),
        ),
        min_size=10,
        max_size=60,
    )
)
def test_gamma_gamma_is_finite_on_any_history(data: list[tuple[int, float]]) -> None:
    summary = pd.DataFrame(data, columns=["frequency", "monetary_value"])
    with np.errstate(all="raise"):
        fit = fit_gamma_gamma(summary)
        spend = fit.expected_spend(
            summary["frequency"].to_numpy(float), summary["monetary_value"].to_numpy(float)
        )
    assert fit.model in (GAMMA_GAMMA, MEAN_SPEND)
    assert _finite(fit.mean_spend) and fit.mean_spend > 0
    assert all(_finite(v) for v in fit.parameters().values())
    assert np.isfinite(spend).all() and (spend > 0).all()


@st.composite
def order_histories(draw: st.DrawFn) -> pd.DataFrame:
    """Orders of 20-40 customers: spread or all on one day, with tiny and huge amounts."""
    customers = draw(st.integers(min_value=20, max_value=40))
    one_day = draw(st.booleans())
    rows = []
    for customer in range(customers):
        orders = draw(st.integers(min_value=1, max_value=8))
        for _ in range(orders):
            day = 0 if one_day else draw(st.integers(min_value=0, max_value=700))
            amount = draw(
                st.one_of(
                    st.floats(min_value=0.01, max_value=1e9, allow_nan=False),
                    st.sampled_from([10.0, 10.0, 1e9]),
                )
            )
            rows.append((f"c{customer}", AS_OF - pd.Timedelta(days=day), amount))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


@FITS
@given(orders=order_histories())
def test_lifetime_value_is_finite_or_refused(orders: pd.DataFrame) -> None:
    summary = rfm(orders, AS_OF)
    try:
        with np.errstate(all="raise"):
            value = lifetime_value(summary, AS_OF, horizon_weeks=52)
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    numbers = value.customers[["p_alive", "expected_purchases", "expected_spend"]]
    assert np.isfinite(numbers.to_numpy()).all() and (numbers.to_numpy() >= 0).all()
    assert _finite(value.active_customers, value.value_per_active_customer_month)
    assert _finite(value.bgnbd.r, value.bgnbd.alpha, value.bgnbd.a, value.bgnbd.b)


def test_bgnbd_on_identical_customers_says_the_fit_is_at_its_edge() -> None:
    """Every customer buys every 4 weeks and is still active: no heterogeneity to fit."""
    summary = pd.DataFrame(
        {"frequency": 10.0, "recency": 40.0, "T": 42.0, "monetary_value": 5.0},
        index=range(30),
    )
    with np.errstate(all="raise"):
        fit = fit_bgnbd(summary)
    assert _finite(fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood)
    assert fit.warning is not None and "edge of the search range" in fit.warning


def test_bgnbd_without_repeat_purchases_is_a_clear_error() -> None:
    summary = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": 10.0}, index=range(30))
    with pytest.raises(UserError, match="customers who ordered again"):
        fit_bgnbd(summary)


@FITS
@given(
    n=st.integers(min_value=12, max_value=60),
    kind=st.sampled_from(["separable", "constant", "noise", "one_category"]),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_scorers_give_probabilities_on_degenerate_histories(n: int, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = pd.Series(np.r_[np.zeros(n // 2), np.ones(n - n // 2)].astype(int))
    amount = {
        "separable": y.to_numpy() * 1e6,
        "constant": np.full(n, 5.0),
        "noise": rng.lognormal(0, 3, n),
        "one_category": rng.normal(0, 1, n),
    }[kind]
    source = ["web"] * n if kind == "one_category" else list(rng.choice(["a", "b"], n))
    X = pd.DataFrame({"amount": amount, "source": source})
    for model in (LogisticScorer(), NaiveBayesScorer()):
        with np.errstate(all="raise"):
            fitted = model.fit(X, y)
            p = fitted.predict_proba(X)
            reasons = fitted.reasons(X)
        assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
        assert all(np.isfinite(r.effect) for rs in reasons for r in rs)


def _series(values: np.ndarray) -> pd.DataFrame:
    periods = pd.date_range("2022-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"period": periods, "value": values})


@pytest.mark.parametrize("shape", ["constant", "one_spike", "step_only"])
def test_interrupted_time_series_is_finite_or_refused(shape: str) -> None:
    from crmroi.attribution.its import interrupted_time_series

    values = np.full(30, 100.0)
    if shape == "one_spike":
        values[10] = 1e9
    if shape == "step_only":
        values[18:] = 150.0
    try:
        with np.errstate(all="raise"):
            result = interrupted_time_series(_series(values), dt.date(2023, 7, 1), name="x")
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert _finite(result.effect, result.ci_low, result.ci_high)
    assert result.ci_low <= result.effect <= result.ci_high


@st.composite
def staggered_panels(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, dt.date | None]]:
    """3-5 teams over 24 months, go-live months staggered (one may never go live);
    values constant, noisy or with one huge outlier; some weights zero."""
    teams = draw(st.integers(min_value=3, max_value=5))
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    kind = draw(st.sampled_from(["constant", "noise", "outlier", "step"]))
    seed = draw(st.integers(min_value=0, max_value=2**16))
    rng = np.random.default_rng(seed)
    go_live: dict[str, dt.date | None] = {}
    rows = []
    for i in range(teams):
        start = draw(st.one_of(st.none(), st.integers(min_value=6, max_value=20)))
        go_live[f"t{i}"] = None if start is None else months[start].date()
        for t, month in enumerate(months):
            value = {"constant": 0.3, "noise": rng.normal(0.3, 0.1), "outlier": 0.3}[
                kind if kind != "step" else "constant"
            ]
            if kind == "outlier" and (i, t) == (0, 3):
                value = 1e12
            if kind == "step" and start is not None and t >= start:
                value += 0.05
            weight = 0.0 if rng.random() < 0.05 else float(rng.integers(1, 40))
            rows.append((f"t{i}", month, value, weight))
    panel = pd.DataFrame(rows, columns=["unit", "period", "value", "weight"])
    return panel, go_live


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=staggered_panels())
def test_staggered_attribution_is_finite_or_refused(
    case: tuple[pd.DataFrame, dict[str, dt.date | None]],
) -> None:
    """The imputation estimator with randomisation-inference intervals (the phased
    roll-out path): finite effect and interval, JSON without NaN, or a one-line refusal."""
    import json

    from crmroi.attribution import attribute

    panel, go_live = case
    try:
        with np.errstate(all="raise"):
            result = attribute(panel, go_live, name="win_rate", method="did")
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert _finite(result.effect, result.ci_low, result.ci_high, result.naive_change)
    assert result.ci_low <= result.effect <= result.ci_high
    json.dumps(result.to_json(), allow_nan=False)
