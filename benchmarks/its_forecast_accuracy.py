"""Is the time-series path biased for forecast accuracy? Many simulated companies.

    .venv/bin/python benchmarks/its_forecast_accuracy.py --companies 1000 [--seed 1]

The demo's forecast of a team-month is its won amount x max(0.05, 1 + z sd), z
standard normal, sd 0.25 before go-live and 0.10 after, so a team-month's accuracy
is 1 - |max(0.05, 1 + z sd) - 1| and the company's the mean of five teams; the
truth is (0.25 - 0.10) sqrt(2 / pi). Each simulated company draws those 5 x 36
values afresh and runs `interrupted_time_series` with the demo's market index
(single design: go-live in month 12), as `attribution_calibration.py --designs
single` does on whole companies, where 24 companies leave a Monte Carlo error of
about 5% of the effect. Prints the mean estimate, its bias against the truth with
its Monte Carlo error, and the coverage of the 95% interval.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics

import numpy as np
import pandas as pd

from crmroi.attribution.its import interrupted_time_series
from crmroi.demo import effects as fx
from crmroi.demo.company import DESIGNS, START, make_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    world = make_world(1, 1.0, DESIGNS["single"])
    months = pd.date_range(START, periods=36, freq="MS")
    market = pd.DataFrame(
        {
            "period": months,
            "demand": np.round(world.month_factor, 6),
            "win_shift": world.win_shift,
            "size_factor": world.size_factor,
        }
    )
    sd = np.where(np.arange(36) >= 12, fx.FORECAST_SD_AFTER, fx.FORECAST_SD_BEFORE)
    truth = (fx.FORECAST_SD_BEFORE - fx.FORECAST_SD_AFTER) * math.sqrt(2 / math.pi)
    rng = np.random.default_rng(args.seed)
    estimates, covered = [], 0
    for _ in range(args.companies):
        forecast = np.maximum(0.05, 1 + rng.normal(size=(5, 36)) * sd)
        series = pd.DataFrame({"period": months, "value": (1 - np.abs(forecast - 1)).mean(0)})
        result = interrupted_time_series(
            series, dt.date(2024, 1, 1), name="forecast_accuracy", covariates=market
        )
        estimates.append(result.effect)
        covered += result.ci_low <= truth <= result.ci_high
    n = len(estimates)
    mean = statistics.fmean(estimates)
    error = statistics.stdev(estimates) / n**0.5
    print(
        f"{n} companies: mean {mean:+.5f} truth {truth:+.5f} bias {(mean - truth) / truth:+.2%}"
        f" +- {error / truth:.2%}; sd of one company {statistics.stdev(estimates):.4f}; "
        f"95% interval covered {covered}/{n}"
    )


if __name__ == "__main__":
    main()
