"""Monte Carlo of a business case: PERT draws of every ranged input, vectorised.

Every input given as a `{low, likely, high}` range is drawn `runs` times from its
PERT distribution (`crmroi.finance.estimates`); the other inputs stay fixed.
Line amounts are then a (runs x lines) matrix and the monthly flows of all runs
one matrix product with the (lines x periods) shapes, so 100,000 runs of 36
months take well under a second. The distributions (NPV, ROI, payback) are of the
flows before the TEI risk adjustment: the ranges already express the uncertainty,
and applying both would count it twice. The probability of a positive ROI is also
given for the same draws with the risk adjustment applied, and at 12 months
(`SHORT_HORIZON`, the flows cut as `CashFlowTable.truncated` cuts them) as well as
at the horizon: `SimulationResult.probabilities`.

`tornado` ranks the ranged inputs by their swing on NPV: each input alone set
to its low and to its high value, the others at their most likely value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crmroi.finance.cashflow import FloatArray, discount_factors
from crmroi.finance.estimates import Range, pert_draws
from crmroi.finance.metrics import payback_many
from crmroi.finance.model import CaseModel

SHORT_HORIZON = 12  # months of the first-year view (`crmroi.finance.evaluate` uses it too)

__all__ = [
    "SHORT_HORIZON",
    "SimulationResult",
    "TornadoRow",
    "deterministic_npv",
    "draw_inputs",
    "npv_roi_at",
    "simulate",
    "tornado",
]


@dataclass(frozen=True)
class TornadoRow:
    """NPV (money) with one input at its low and at its high value."""

    input: str
    low: float
    high: float
    npv_at_low: float
    npv_at_high: float

    @property
    def swing(self) -> float:
        return abs(self.npv_at_high - self.npv_at_low)


@dataclass
class SimulationResult:
    """Distribution of ROI (fraction), NPV (money) and payback (months) over the runs.

    `npv`, `roi` and `payback` are at the full horizon before risk adjustment. For
    the probability of a positive ROI the same runs are also evaluated with the risk
    adjustment (`roi_risk`) and cut at `short_months` = min(12, horizon) months
    (`roi_short`, `roi_short_risk`); ROI is NPV / PV of costs, NaN without costs.
    """

    runs: int
    seed: int
    npv: FloatArray
    roi: FloatArray
    payback: FloatArray  # NaN: no payback within the horizon
    horizon_months: int
    short_months: int
    roi_risk: FloatArray
    roi_short: FloatArray
    roi_short_risk: FloatArray
    tornado: list[TornadoRow] = field(default_factory=list)

    @property
    def p_roi_positive(self) -> float:
        """Share of runs with ROI > 0 (at the horizon, before risk adjustment)."""
        return _share_positive(self.roi)

    @property
    def p_roi_positive_risk(self) -> float:
        """Share of runs with a risk-adjusted ROI > 0 at the horizon."""
        return _share_positive(self.roi_risk)

    @property
    def p_roi_positive_short(self) -> float:
        """Share of runs with ROI > 0 at `short_months` (12), before risk adjustment."""
        return _share_positive(self.roi_short)

    @property
    def p_roi_positive_short_risk(self) -> float:
        """Share of runs with a risk-adjusted ROI > 0 at `short_months` (12)."""
        return _share_positive(self.roi_short_risk)

    def probabilities(self) -> dict[tuple[int, bool], float]:
        """P(ROI > 0) by (months, risk adjusted), at `short_months` and the horizon
        (one pair of keys when the horizon is 12 months or less)."""
        return {
            (self.short_months, False): self.p_roi_positive_short,
            (self.short_months, True): self.p_roi_positive_short_risk,
            (self.horizon_months, False): self.p_roi_positive,
            (self.horizon_months, True): self.p_roi_positive_risk,
        }

    def as_dict(self) -> dict[str, Any]:
        """The contract's `simulation` keys, plus payback percentiles and the tornado."""
        roi = np.percentile(self.roi, [10, 50, 90])
        npv = np.percentile(self.npv, [10, 50, 90])
        never = np.where(np.isnan(self.payback), np.inf, self.payback)
        pb = np.percentile(never, [10, 50, 90], method="inverted_cdf")
        out: dict[str, Any] = {"runs": self.runs, "seed": self.seed}
        out["p_roi_positive"] = self.p_roi_positive
        out["p_roi_positive_risk_adjusted"] = self.p_roi_positive_risk
        out["p_roi_positive_by_horizon"] = {
            str(months): {
                "p_roi_positive": self.probabilities()[(months, False)],
                "p_roi_positive_risk_adjusted": self.probabilities()[(months, True)],
            }
            for months in dict.fromkeys((self.short_months, self.horizon_months))
        }
        for name, values in (("roi", roi), ("npv", npv), ("payback_months", pb)):
            for p, v in zip((10, 50, 90), values, strict=True):
                out[f"{name}_p{p}"] = float(v) if math.isfinite(v) else None
        out["npv_mean"] = float(self.npv.mean())
        out["p_payback_within_horizon"] = float(np.mean(~np.isnan(self.payback)))
        out["tornado"] = [
            {
                "input": r.input,
                "low": r.low,
                "high": r.high,
                "npv_at_low": r.npv_at_low,
                "npv_at_high": r.npv_at_high,
                "swing": r.swing,
            }
            for r in self.tornado
        ]
        return out


def draw_inputs(model: CaseModel, runs: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    """PERT draws of every ranged input of `model`, in a fixed (sorted) order."""
    ranged = model.ranged_inputs()
    return {key: pert_draws(ranged[key], runs, rng) for key in sorted(ranged)}


def _share_positive(roi: FloatArray) -> float:
    """Share of runs with ROI > 0 (a NaN ROI, no costs, counts as not positive)."""
    return float(np.mean(roi > 0))


def _npv_roi(
    signed: FloatArray, shapes: FloatArray, signs: FloatArray, disc: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """NPV and ROI (NPV / PV of costs) of each run, over the periods of `disc`."""
    pv_lines = signed * (shapes[:, : len(disc)] @ disc)  # runs x lines
    is_cost = signs < 0
    pv_costs = -pv_lines[:, is_cost].sum(axis=1)
    npv = pv_lines.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(pv_costs != 0, npv / pv_costs, np.nan)
    return npv, roi


def _evaluate(
    model: CaseModel, draws: dict[str, FloatArray], runs: int, risk_adjusted: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """NPV, ROI (NPV / PV of costs) and payback months of each run."""
    return _evaluate_amounts(model, model.amounts(draws, runs), risk_adjusted)


def _evaluate_amounts(
    model: CaseModel, amounts: FloatArray, risk_adjusted: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """`_evaluate` of a (runs x lines) matrix of amounts."""
    shapes = model.shapes()  # lines x periods
    signs = model.signs(risk_adjusted)
    signed = amounts * signs  # runs x lines, costs negative
    disc = discount_factors(model.case.discount_rate, model.n_periods)
    npv, roi = _npv_roi(signed, shapes, signs, disc)
    net = signed @ shapes  # runs x periods
    return npv, roi, payback_many(net)


def npv_roi_at(
    model: CaseModel, amounts: FloatArray, months: int, risk_adjusted: bool
) -> tuple[FloatArray, FloatArray]:
    """NPV (money) and ROI of each run of `amounts` (runs x lines) with the flows cut at
    `months` (month 0 to `months`, at most the horizon)."""
    signs = model.signs(risk_adjusted)
    n = min(months, model.case.horizon_months) + 1
    disc = discount_factors(model.case.discount_rate, n)
    return _npv_roi(amounts * signs, model.shapes(), signs, disc)


def _roi_at(model: CaseModel, amounts: FloatArray, months: int, risk_adjusted: bool) -> FloatArray:
    """ROI of each run with the flows cut at `months` (month 0 to `months`)."""
    return npv_roi_at(model, amounts, months, risk_adjusted)[1]


def simulate(
    model: CaseModel, runs: int = 10_000, seed: int = 0, *, with_tornado: bool = True
) -> SimulationResult:
    """Run the Monte Carlo: `runs` draws with `seed` (same seed, same result)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    rng = np.random.default_rng(seed)
    draws = draw_inputs(model, runs, rng)
    amounts = model.amounts(draws, runs)  # runs x lines
    npv, roi, pb = _evaluate_amounts(model, amounts)
    horizon = model.case.horizon_months
    short = min(SHORT_HORIZON, horizon)
    rows = tornado(model) if with_tornado else []
    return SimulationResult(
        runs=runs,
        seed=seed,
        npv=npv,
        roi=roi,
        payback=pb,
        horizon_months=horizon,
        short_months=short,
        roi_risk=_roi_at(model, amounts, horizon, True),
        roi_short=_roi_at(model, amounts, short, False),
        roi_short_risk=_roi_at(model, amounts, short, True),
        tornado=rows,
    )


def tornado(model: CaseModel) -> list[TornadoRow]:
    """Ranged inputs by NPV swing, largest first (before risk adjustment)."""
    ranged: dict[str, Range] = model.ranged_inputs()
    rows = []
    for key, est in ranged.items():
        npvs = []
        for value in (est.low, est.high):
            npv, _, _ = _evaluate(model, {key: np.array([value])}, 1)
            npvs.append(float(npv[0]))
        rows.append(TornadoRow(key, est.low, est.high, npvs[0], npvs[1]))
    rows.sort(key=lambda r: r.swing, reverse=True)
    return rows


def deterministic_npv(model: CaseModel) -> float:
    """NPV with every input at its most likely value (before risk adjustment)."""
    npv, _, _ = _evaluate(model, {}, 1)
    return float(npv[0])
