"""Benchmark: the vectorised Monte Carlo against a plain Python loop over runs.

    .venv/bin/python benchmarks/bench_simulation.py [--runs 100000] [--loop-runs 2000]

Both evaluate examples/case.yaml (36 months): draw every ranged input from its PERT
distribution, build the monthly flows, then NPV, ROI and payback. The loop is timed
on `--loop-runs` runs and extrapolated linearly to `--runs` (it is too slow to run in
full); the printed ratio is vectorised time against that extrapolation.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from crmroi.finance.case import load_case
from crmroi.finance.cashflow import monthly_rate
from crmroi.finance.estimates import Range, likely
from crmroi.finance.model import CaseModel, build_model
from crmroi.finance.simulation import simulate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"


def _pert(rng: random.Random, r: Range) -> float:
    if r.high == r.low:
        return r.likely
    span = r.high - r.low
    a = 1 + 4 * (r.likely - r.low) / span
    b = 1 + 4 * (r.high - r.likely) / span
    return r.low + span * rng.betavariate(a, b)


def loop_simulation(model: CaseModel, runs: int, seed: int) -> list[tuple[float, float, float]]:
    """One run at a time in plain Python: draws, flows month by month, NPV, payback."""
    rng = random.Random(seed)
    r_m = monthly_rate(model.case.discount_rate)
    n = model.n_periods
    shapes = [line.shape.tolist() for line in model.lines]
    signs = model.signs(risk_adjusted=False).tolist()
    out = []
    for _ in range(runs):
        amounts = []
        for line in model.lines:
            x = {
                k: _pert(rng, v) if isinstance(v, Range) else likely(v)
                for k, v in line.inputs.items()
            }
            amounts.append(1.0 if line.formula is None else float(line.formula(x)))
        net = [0.0] * n
        pv_costs = 0.0
        for amount, sign, shape in zip(amounts, signs, shapes, strict=True):
            for t in range(n):
                flow = sign * amount * shape[t]
                net[t] += flow
                if sign < 0:
                    pv_costs -= flow / (1 + r_m) ** t
        npv = sum(f / (1 + r_m) ** t for t, f in enumerate(net))
        roi = npv / pv_costs if pv_costs else float("nan")
        cum, payback = 0.0, float("nan")
        for t, f in enumerate(net):
            before, cum = cum, cum + f
            if before < 0 <= cum:
                payback = t - 1 + (-before) / f
            elif cum < 0:
                payback = float("nan")
        out.append((npv, roi, payback))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--loop-runs", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = build_model(load_case(EXAMPLE))
    simulate(model, 1000, seed=args.seed)  # warm-up
    started = time.perf_counter()
    result = simulate(model, args.runs, seed=args.seed, with_tornado=False)
    vectorised = time.perf_counter() - started
    started = time.perf_counter()
    npvs = [r[0] for r in loop_simulation(model, args.loop_runs, args.seed)]
    loop = time.perf_counter() - started
    loop_full = loop * args.runs / args.loop_runs
    print(
        f"case: {EXAMPLE.name}, {model.horizon} months, {len(model.ranged_inputs())} ranged inputs"
    )
    print(f"vectorised: {args.runs:,} runs in {vectorised:.3f} s")
    print(
        f"python loop: {args.loop_runs:,} runs in {loop:.3f} s -> "
        f"{loop_full:.1f} s for {args.runs:,} runs (extrapolated)"
    )
    print(f"ratio: {loop_full / vectorised:,.0f}x faster vectorised")
    print(f"mean NPV: vectorised {result.npv.mean():,.0f}, loop {sum(npvs) / len(npvs):,.0f}")


if __name__ == "__main__":
    main()
