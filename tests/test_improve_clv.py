"""Lifetime value: RFM preparation, the BG/NBD fit on CDNOW against the published values."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from crmroi.errors import UserError
from crmroi.improve.clv import fit_bgnbd, rfm
from tests.conftest import shared_data

# Fader, Hardie & Lee (2005), Marketing Science 24(2): CDNOW 1/10th sample, 39-week
# calibration to 1997-09-30, time in weeks; log-likelihood -9582.4.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
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
