"""Lifetime value: RFM preparation, BG/NBD and Gamma-Gamma fits on CDNOW against the
published values, closed-form properties, and parameter recovery on simulated data."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.errors import UserError
from crmroi.improve.clv import BgNbdFit, fit_bgnbd, rfm
from crmroi.improve.lifetime import NotEnoughOrders, lifetime_value
from crmroi.improve.spend import GammaGammaFit, fit_gamma_gamma
from tests.conftest import shared_data

# Fader, Hardie & Lee (2005), Marketing Science 24(2): CDNOW 1/10th sample, 39-week
# calibration to 1997-09-30, time in weeks; log-likelihood -9582.4.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves", JMR 42(4): the
# Gamma-Gamma spend model on the 946 CDNOW customers with a repeat purchase in the
# calibration period (mean spend of their repeat purchase days, in dollars).
PUBLISHED_SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CALIBRATION_END = pd.Timestamp("1997-09-30")


def _cdnow() -> pd.DataFrame:
    path = shared_data("cdnow", "CDNOW_sample.txt")
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def test_rfm_counts_repeat_days_in_weeks() -> None:
    t = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "date": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-01-15", "2020-02-12", "2020-01-08"]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0],
        }
    )
    s = rfm(t, pd.Timestamp("2020-02-05")).set_index("customer_id")
    # a: first day Jan 1, one repeat day (Jan 15) before the end; Feb 12 is after it
    assert s.loc["a"].tolist() == [1, 2.0, 5.0, 20.0]
    assert s.loc["b"].tolist() == [0, 0.0, 4.0, 0.0]
    with pytest.raises(UserError, match="column 'amount' is missing"):
        rfm(t.drop(columns="amount"), pd.Timestamp("2020-02-05"))


def test_cdnow_bgnbd_maximum_likelihood_matches_the_paper() -> None:
    summary = rfm(_cdnow(), CALIBRATION_END)
    assert len(summary) == 2357 and int(summary.frequency.sum()) == 2457
    fit = fit_bgnbd(summary)
    for name, value in PUBLISHED.items():
        assert getattr(fit, name) == pytest.approx(value, abs=0.001), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pymc_marketing") is None,
    reason="pymc-marketing (the optional clv extra) is not installed: pip install 'crmroi[clv]'",
)
def test_cdnow_pymc_marketing_map_fit(tmp_path_factory: pytest.TempPathFactory) -> None:
    """pymc-marketing's MAP fit with its default priors: r and alpha within 2 % of the
    published maximum-likelihood values; a and b within 20 % (the priors pull them)."""
    from crmroi.improve.clv import fit_pymc

    summary = rfm(_cdnow(), CALIBRATION_END)
    params, values = fit_pymc(summary, horizon_weeks=39)
    assert params["r"] == pytest.approx(PUBLISHED["r"], rel=0.02)
    assert params["alpha"] == pytest.approx(PUBLISHED["alpha"], rel=0.02)
    assert params["a"] == pytest.approx(PUBLISHED["a"], rel=0.2)
    assert params["b"] == pytest.approx(PUBLISHED["b"], rel=0.2)
    assert (values.expected_purchases >= 0).all() and len(values) == 2357


def test_clv_without_the_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from crmroi.errors import ConfigurationError
    from crmroi.improve.clv import fit_pymc

    real_import = builtins.__import__

    def no_pymc(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pymc_marketing"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pymc)
    summary = pd.DataFrame(
        {
            "customer_id": [1],
            "frequency": [0],
            "recency": [0.0],
            "T": [1.0],
            "monetary_value": [0.0],
        }
    )
    with pytest.raises(ConfigurationError, match=r"pip install 'crmroi\[clv\]'"):
        fit_pymc(summary)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return rfm(_cdnow(), CALIBRATION_END)


def test_cdnow_gamma_gamma_maximum_likelihood_matches_the_paper(
    cdnow_summary: pd.DataFrame,
) -> None:
    """Published to two decimals: the fit must round to them (tolerance 0.005)."""
    fit = fit_gamma_gamma(cdnow_summary)
    assert fit.customers == 946
    for name, value in PUBLISHED_SPEND.items():
        assert getattr(fit, name) == pytest.approx(value, abs=0.005), name
    # population mean spend per purchase p gamma / (q - 1), dollars
    assert fit.mean_spend == pytest.approx(6.25 * 15.44 / 2.74, rel=0.005)


def test_cdnow_conditional_expectation_matches_the_paper() -> None:
    """FHL (2005), p. 280: a customer with x = 2, t_x = 30.43, T = 38.86 weeks is
    expected to make 1.226 purchases in the next 39 weeks."""
    fit = BgNbdFit(**PUBLISHED, log_likelihood=0.0)
    one = np.array([1.0])
    assert fit.expected_purchases(39, 2 * one, 30.43 * one, 38.86 * one)[0] == pytest.approx(
        1.226, abs=0.0005
    )


def test_cdnow_lifetime_value(cdnow_summary: pd.DataFrame) -> None:
    value = lifetime_value(cdnow_summary, CALIBRATION_END, horizon_weeks=39)
    frame = value.customers
    assert len(frame) == 2357 and frame["p_alive"].between(0, 1).all()
    assert (frame.loc[frame.frequency == 0, "p_alive"] == 1).all()
    assert value.active_customers < 2357
    # 39-week hold-out: 1,882 repeat purchase days observed (measured on the data)
    assert frame["expected_purchases"].sum() == pytest.approx(1653.4, abs=1)
    assert value.spend_frequency_correlation == pytest.approx(0.114, abs=0.005)
    total = value.expected_value
    assert value.value_per_active_customer_month == pytest.approx(
        total / value.active_customers / value.horizon_months
    )


_fit = BgNbdFit(0.243, 4.414, 0.793, 2.426, 0.0)
_spend = GammaGammaFit(6.25, 3.74, 15.44, 0.0, 946)
counts = st.integers(min_value=0, max_value=60)
weeks = st.floats(min_value=0.0, max_value=200.0)


@settings(max_examples=60, deadline=None)
@given(x=counts, recency=weeks, extra=weeks, t=st.floats(min_value=0.1, max_value=300.0))
def test_bgnbd_closed_form_properties(x: int, recency: float, extra: float, t: float) -> None:
    t_x = 0.0 if x == 0 else recency
    T = np.array([t_x + extra + 0.01])
    args = (np.array([float(x)]), np.array([t_x]), T)
    alive = _fit.p_alive(*args)[0]
    assert 0.0 < alive <= 1.0 and (x > 0 or alive == 1.0)
    now, later = _fit.expected_purchases(t, *args)[0], _fit.expected_purchases(2 * t, *args)[0]
    assert 0.0 <= now <= later
    # a customer who is surely active buys at least as much as the average customer
    if x > 0:
        assert now <= _fit.expected_purchases(t, args[0], T, T)[0] + 1e-9


@settings(max_examples=60, deadline=None)
@given(x=st.integers(min_value=0, max_value=50), m=st.floats(min_value=0.01, max_value=1e4))
def test_gamma_gamma_spend_is_between_the_mean_and_the_customer(x: int, m: float) -> None:
    spend = float(_spend.expected_spend(np.array([float(x)]), np.array([m]))[0])
    low, high = sorted((m if x else _spend.mean_spend, _spend.mean_spend))
    assert low - 1e-9 <= spend <= high + 1e-9
    if x == 0:
        assert spend == pytest.approx(_spend.mean_spend)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    """5,000 customers drawn from the model with p=6, q=4, gamma=15 (the mean of k
    Gamma(p, nu) purchases is Gamma(pk, k nu)). Over seeds 0-4 the fits of p and gamma
    spread by about 20 % (they trade off), q by 5 %, the mean spend p gamma / (q - 1)
    by 1 %: the tolerances below."""
    rng = np.random.default_rng(2)
    n, p, q, gamma = 5000, 6.0, 4.0, 15.0
    nu = rng.gamma(q, 1.0 / gamma, n)
    x = rng.integers(1, 8, n)
    mean = rng.gamma(p * x, 1.0 / nu) / x
    fit = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary_value": mean}))
    assert fit.p == pytest.approx(p, rel=0.2)
    assert fit.q == pytest.approx(q, rel=0.1)
    assert fit.gamma == pytest.approx(gamma, rel=0.2)
    assert fit.mean_spend == pytest.approx(p * gamma / (q - 1), rel=0.03)


def test_too_few_customers_is_a_clear_error() -> None:
    summary = pd.DataFrame(
        {"customer_id": range(5), "frequency": 1, "recency": 1.0, "T": 2.0, "monetary_value": 3.0}
    )
    with pytest.raises(NotEnoughOrders, match="at least 20 customers, not 5"):
        lifetime_value(summary, CALIBRATION_END)
    with pytest.raises(UserError, match="at least 10 customers with a repeat purchase"):
        fit_gamma_gamma(summary)
