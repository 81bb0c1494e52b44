"""Monte Carlo of a business case: PERT draws of every ranged input, vectorised.

Every input given as a `{low, likely, high}` range is drawn `runs` times from its
PERT distribution (`crmroi.finance.estimates`); the other inputs stay fixed.
Line amounts are then a (runs x lines) matrix and the monthly flows of all runs
one matrix product with the (lines x periods) shapes, so 100,000 runs of 36
months take well under a second. The simulation works on the flows before the
TEI risk adjustment: the ranges already express the uncertainty, and applying
both would count it twice.

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

__all__ = [
    "SimulationResult",
    "TornadoRow",
    "deterministic_npv",
    "draw_inputs",
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
    """Distribution of ROI (fraction), NPV (money) and payback (months) over the runs."""

    runs: int
    seed: int
    npv: FloatArray
    roi: FloatArray
    payback: FloatArray  # NaN: no payback within the horizon
    tornado: list[TornadoRow] = field(default_factory=list)

    @property
    def p_roi_positive(self) -> float:
        """Share of runs with ROI > 0."""
        return float(np.mean(self.roi > 0))

    def as_dict(self) -> dict[str, Any]:
        """The contract's `simulation` keys, plus payback percentiles and the tornado."""
        roi = np.percentile(self.roi, [10, 50, 90])
        npv = np.percentile(self.npv, [10, 50, 90])
        never = np.where(np.isnan(self.payback), np.inf, self.payback)
        pb = np.percentile(never, [10, 50, 90], method="inverted_cdf")
        out: dict[str, Any] = {"runs": self.runs, "seed": self.seed}
        out["p_roi_positive"] = self.p_roi_positive
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


def _evaluate(
    model: CaseModel, draws: dict[str, FloatArray], runs: int, risk_adjusted: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """NPV, ROI (NPV / PV of costs) and payback months of each run."""
    shapes = model.shapes()  # lines x periods
    signs = model.signs(risk_adjusted)
    signed = model.amounts(draws, runs) * signs  # runs x lines, costs negative
    disc = discount_factors(model.case.discount_rate, model.n_periods)
    pv_lines = signed * (shapes @ disc)  # runs x lines
    is_cost = signs < 0
    pv_costs = -pv_lines[:, is_cost].sum(axis=1)
    npv = pv_lines.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(pv_costs != 0, npv / pv_costs, np.nan)
    net = signed @ shapes  # runs x periods
    return npv, roi, payback_many(net)


def simulate(
    model: CaseModel, runs: int = 10_000, seed: int = 0, *, with_tornado: bool = True
) -> SimulationResult:
    """Run the Monte Carlo: `runs` draws with `seed` (same seed, same result)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    rng = np.random.default_rng(seed)
    draws = draw_inputs(model, runs, rng)
    npv, roi, pb = _evaluate(model, draws, runs)
    rows = tornado(model) if with_tornado else []
    return SimulationResult(runs=runs, seed=seed, npv=npv, roi=roi, payback=pb, tornado=rows)


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
