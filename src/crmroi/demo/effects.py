"""The true CRM effects and market conditions injected into the demo company.

Everything here is the ground truth that `truth.json` records. Effects apply to a
team's rows only from that team's go-live date on (a step, no ramp), on top of
seasonality and the market shock, which hit every team alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# -- CRM effects (steady state, per row after the team's go-live) --------------------
WIN_RATE_ABS = 0.05  # added to each deal's win probability (fraction)
SALES_CYCLE_REL = -0.15  # multiplies each deal's cycle length (days)
DEAL_SIZE_REL = 0.08  # multiplies each deal's amount (USD)
ADMIN_SHARE_ABS = -0.06  # added to each rep-week's admin share of hours (fraction)
RETENTION_ABS = 0.04  # added to the annual customer retention rate (fraction)
GROSS_MARGIN_ABS = 0.02  # added to each deal's and order's gross margin (fraction)
CSAT_ABS = 0.30  # added to the mean satisfaction score (1-5 scale)
CALLS_PER_WON_REL = -0.20  # multiplies the calls needed per won deal
CALLS_PER_WON = 15.0  # calls per won deal before go-live
FORECAST_SD_BEFORE = 0.25  # relative forecast error (standard deviation) before go-live
FORECAST_SD_AFTER = 0.10  # and after

# Lead sources: share of leads, base conversion rate and CRM effect (absolute).
LEAD_SOURCES: tuple[str, ...] = ("web", "referral", "event", "paid_search", "outbound", "partner")
LEAD_SOURCE_SHARE: tuple[float, ...] = (0.30, 0.10, 0.10, 0.25, 0.15, 0.10)
LEAD_CONVERSION_BASE: tuple[float, ...] = (0.14, 0.32, 0.20, 0.12, 0.09, 0.26)
LEAD_CONVERSION_ABS: tuple[float, ...] = (0.04, 0.02, 0.04, 0.06, 0.02, 0.04)

# CSAT answer distributions (scores 1..5): means 3.75 before and 4.05 after go-live.
CSAT_PROBS_BEFORE: tuple[float, ...] = (0.05, 0.10, 0.20, 0.35, 0.30)
CSAT_PROBS_AFTER: tuple[float, ...] = (0.03, 0.06, 0.14, 0.37, 0.40)

# Base annual retention of customers before go-live (fraction).
RETENTION_BASE = 0.80

# -- Market -------------------------------------------------------------------------
SHOCK_MONTH = 18  # month index (from the start) the demand shock begins: 2024-07-01
DEMAND_SHOCK_REL = -0.15  # leads, opportunities and orders per month fall by this much
SHOCK_WIN_RATE_ABS = -0.03  # the shock also makes deals harder to win, for everyone
SHOCK_DEAL_SIZE_REL = -0.04  # and a little smaller
TREND_PER_YEAR = 0.03  # underlying demand growth per year (relative)

# Seasonality of demand by calendar month (Q4 up, summer dip).
SEASON: tuple[float, ...] = (0.95, 0.97, 1.02, 1.00, 1.00, 0.95, 0.85, 0.80, 1.00, 1.08, 1.15, 1.23)


def expected_calls(
    won: np.ndarray, p_win: np.ndarray, is_closed: np.ndarray, dose: np.ndarray
) -> np.ndarray:
    """Expected calls on each deal: `CALLS_PER_WON` x (half its win probability, half its
    outcome; the probability while open), so calls / won deals is `CALLS_PER_WON`; the
    CRM (dose: share of its full effect) cuts it by `CALLS_PER_WON_REL`."""
    outcome = np.where(is_closed, won, p_win)
    calls = CALLS_PER_WON * (0.5 * p_win + 0.5 * outcome)
    return calls * (1 + CALLS_PER_WON_REL * dose)


def overall_lead_conversion_abs() -> float:
    """The overall lead conversion effect: source effects weighted by source share."""
    return sum(s * d for s, d in zip(LEAD_SOURCE_SHARE, LEAD_CONVERSION_ABS, strict=True))


def csat_mean(probs: tuple[float, ...]) -> float:
    """The mean score of a distribution over 1..5."""
    return sum((i + 1) * p for i, p in enumerate(probs))


def forecast_accuracy_abs() -> float:
    """Change in forecast accuracy (1 - mean absolute relative error) from the error SDs."""
    return (FORECAST_SD_BEFORE - FORECAST_SD_AFTER) * math.sqrt(2.0 / math.pi)


def effects_truth() -> dict[str, dict[str, float]]:
    """The designed KPI effects in the truth.json format."""
    return {
        "win_rate": {"change_abs": WIN_RATE_ABS},
        "sales_cycle_days": {"change_rel": SALES_CYCLE_REL},
        "avg_deal_size": {"change_rel": DEAL_SIZE_REL},
        "admin_time_share": {"change_abs": ADMIN_SHARE_ABS},
        "retention_rate": {"change_abs": RETENTION_ABS},
        "gross_margin": {"change_abs": GROSS_MARGIN_ABS},
        "csat": {
            "change_abs": round(csat_mean(CSAT_PROBS_AFTER) - csat_mean(CSAT_PROBS_BEFORE), 6)
        },
        "calls_per_won_deal": {"change_rel": CALLS_PER_WON_REL},
        "lead_conversion_rate": {"change_abs": round(overall_lead_conversion_abs(), 6)},
        "forecast_accuracy": {"change_abs": round(forecast_accuracy_abs(), 4)},
    }


def truth_document(
    *,
    seed: int,
    scale: float,
    start: str,
    end: str,
    go_live_by_team: dict[str, str],
    shock_start: str,
    realised: dict[str, dict[str, float]],
    design: dict[str, Any] | None = None,
    market_by_month: list[dict[str, Any]] | None = None,
    realised_by_team_month: dict[str, dict[str, list[list[float]]]] | None = None,
    teams: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Assemble truth.json: designed effects plus realised ones (sales volume, won deals).

    `design` (name, effect_scale, ramp_months, ramp_by_month: the share of the full
    effect k months after go-live) scales the designed effects: under a ramp the
    effect k months after a team's go-live is the full effect x ramp_by_month[k],
    and the exact answer for an average over live months weights that list by the
    estimator's months; realised effects are already measured on the rows.
    `realised_by_team_month[kpi]`: per team (in `teams` order) and creation month
    0..35, the actual and the counterfactual (same draws without the CRM) totals, so
    the exact answer over any set of team-months (an estimator's) is their ratio.
    """
    scale = float(design["effect_scale"]) if design else 1.0
    effects = {
        k: {key: (round(v * scale, 6) if scale != 1.0 else v) for key, v in e.items()}
        for k, e in effects_truth().items()
    }
    effects.update(realised)
    extra: dict[str, Any] = {}
    if design is not None:
        extra["design"] = design
    if realised_by_team_month:
        extra["realised_by_team_month"] = {
            kpi: {part: dict(zip(teams, grid, strict=True)) for part, grid in parts.items()}
            for kpi, parts in realised_by_team_month.items()
        }
    return {
        "seed": seed,
        "scale": scale,
        "start": start,
        "end": end,
        "go_live_by_team": go_live_by_team,
        "effects": effects,
        "lead_conversion_by_source": {
            s: d for s, d in zip(LEAD_SOURCES, LEAD_CONVERSION_ABS, strict=True)
        },
        "market": {
            "shock_start": shock_start,
            "demand_change_rel": DEMAND_SHOCK_REL,
            "win_rate_change_abs": SHOCK_WIN_RATE_ABS,
            "deal_size_change_rel": SHOCK_DEAL_SIZE_REL,
            "trend_per_year_rel": TREND_PER_YEAR,
            "seasonality_by_month": list(SEASON),
            **({"by_month": market_by_month} if market_by_month is not None else {}),
        },
        **extra,
        "notes": (
            "Effects are step changes applied to each team's rows from its go-live on; "
            "rates are absolute changes in fractions, amounts and durations relative. "
            "retention_rate is the annual retention of customers; sales_volume and "
            "won_deals are the realised effects on deals created after their team's "
            "go-live and closed in the period (actual versus the same draws without the "
            "CRM: deals it induced, directly or through customers it won or kept, "
            "absent); realised_by_team_month holds both totals per team and creation "
            "month (0 = the start month) for the exact answer over any team-months; for "
            "avg_deal_size (won amount / won deals) and calls_per_won_deal (expected calls "
            "/ won deals) it holds numerators and denominators (actual_den, "
            "counterfactual_den): the exact answer weights each month's counterfactual "
            "ratio by its actual denominator."
        ),
    }
