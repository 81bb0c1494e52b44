"""Back-test of `crmroi forecast` on several demo companies and on workspaces you name:
per horizon, the accuracy of the pipeline forecast, of the naive three-month mean, of the
blend (their mean) and of the figure the back-test recommended at each origin, and the
share of actual months inside the calibrated 80% intervals of the forecast and of the
blend (beside the model's own interval).

    .venv/bin/python benchmarks/forecast_calibration.py --demo 42:1 7:1 11:1 42:0.5 3:0.5 5:2
    .venv/bin/python benchmarks/forecast_calibration.py --workspace ./ws [--first-origin 2017-04-01]

Each `--demo SEED:SCALE` builds the demo company (`crmroi.demo.generate_company`) in a
temporary workspace. Printed: one table per workspace, then the forecasts of all of them
pooled (coverage over the forecasts that had a calibrated interval, with their count).
About 10 s of CPU per demo at scale 1.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from crmroi.improve.frames import load_frames
from crmroi.improve.pipeline import backtest
from crmroi.store import Store

TABLES = ["reps", "accounts", "deals", "orders"]


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    with Store.open(folder) as store:
        return load_frames(store, TABLES)


def _demo(seed: int, scale: float, root: Path) -> dict[str, pd.DataFrame]:
    from crmroi.demo import generate_company, write_demo

    folder = root / f"demo-{seed}-{scale}"
    with Store.open(folder, create=True) as store:
        write_demo(store, generate_company(scale=scale, seed=seed), store.folder)
    return _frames(folder)


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per horizon over back-test rows (pooled or not): counts, accuracies, coverages."""
    r = rows[rows["actual"] > 0]
    a = r["actual"]

    def inside(low: str, high: str) -> pd.Series:
        return ((a >= r[low]) & (a <= r[high])).astype(float).where(r[low].notna())

    g = pd.DataFrame(
        {
            "horizon": r["horizon"],
            "accuracy": 1 - ((r["forecast"] - a) / a).abs(),
            "naive": 1 - ((r["naive"] - a) / a).abs(),
            "blend": 1 - ((r["blend"] - a) / a).abs(),
            "recommended": 1 - ((r["recommended"] - a) / a).abs(),
            "coverage": inside("low", "high"),
            "blend_coverage": inside("blend_low", "blend_high"),
            "model_coverage": inside("model_low", "model_high"),
        }
    ).groupby("horizon")
    out = g.mean()
    out.insert(0, "forecasts", g.size())
    out.insert(1, "calibrated", g["coverage"].count())
    return out


def _print(title: str, table: pd.DataFrame) -> None:
    print(f"\n{title}")
    print(
        "| horizon | forecasts | accuracy | naive | blend | recommended | calibrated "
        "| in 80% interval | blend in its 80% | model's own interval |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for h, r in table.iterrows():
        print(
            f"| {h} | {r.forecasts:.0f} | {r.accuracy:.1%} | {r.naive:.1%} | {r.blend:.1%} | "
            f"{r.recommended:.1%} | {r.calibrated:.0f} | {r.coverage:.1%} | "
            f"{r.blend_coverage:.1%} | {r.model_coverage:.1%} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", nargs="*", default=[], help="SEED:SCALE demo companies")
    parser.add_argument("--workspace", nargs="*", default=[], type=Path)
    parser.add_argument("--first-origin", default=None, help="first back-test origin")
    args = parser.parse_args()
    first = pd.Timestamp(args.first_origin) if args.first_origin else None
    pooled = []
    with tempfile.TemporaryDirectory() as tmp:
        sources: list[tuple[str, dict[str, pd.DataFrame]]] = []
        for spec in args.demo:
            seed, scale = spec.split(":")
            sources.append(
                (f"demo seed {seed} scale {scale}", _demo(int(seed), float(scale), Path(tmp)))
            )
        for folder in args.workspace:
            sources.append((str(folder), _frames(folder)))
        for name, frames in sources:
            rows = backtest(frames, 6, first_origin=first).rows
            span = f"{rows['origin'].min():%Y-%m} to {rows['origin'].max():%Y-%m}"
            _print(f"{name} (origins {span})", _table(rows))
            pooled.append(rows)
    if len(pooled) > 1:
        _print(f"pooled over {len(pooled)} workspaces", _table(pd.concat(pooled)))


if __name__ == "__main__":
    main()
