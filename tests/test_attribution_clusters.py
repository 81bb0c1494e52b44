"""Units smaller than what goes live together (reps in teams): each rep is compared with
their own months before go-live, the reorderings of the interval stay by team."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crmroi.attribution import AttributionError, difference_in_differences

TEAM_START = {"A": 12, "B": 14, "C": 17, "D": 20, "E": 28}  # months from 2023-01


def _panel(seed: int, effect: float) -> tuple[pd.DataFrame, dict[str, dt.date], dict[str, str]]:
    """Three rep seats a team; two months after the team's go-live the rep of one seat
    leaves and a rep with a much higher level (+0.08) takes over: a team-level panel
    reads that replacement as part of the effect."""
    rng = np.random.default_rng(seed)
    rows, go_live, team_of = [], {}, {}
    for team, start in TEAM_START.items():
        day = dt.date(2023 + start // 12, start % 12 + 1, 1)
        switch = start + 2
        for r in range(4):
            rep = f"{team}{r}"
            level = 0.30 + rng.normal(0, 0.01) + (0.08 if r == 3 else 0.0)
            months = range(switch, 36) if r == 3 else range(switch) if r == 2 else range(36)
            for m in months:
                live = m >= start
                value = level + effect * live + rng.normal(0, 0.004) + 0.01 * np.sin(m)
                rows.append((rep, pd.Timestamp(2023 + m // 12, m % 12 + 1, 1), value, 160.0))
            go_live[rep] = day
            team_of[rep] = team
    frame = pd.DataFrame(rows, columns=["unit", "period", "value", "weight"])
    return frame, go_live, team_of


def test_reps_compared_with_themselves_recover_the_effect() -> None:
    panel, go_live, team_of = _panel(1, -0.06)
    result = difference_in_differences(panel, go_live, name="admin", clusters=team_of)
    assert result.effect == pytest.approx(-0.06, abs=0.004)
    assert result.ci_low <= -0.06 <= result.ci_high
    assert any("5 teams (5 clusters of 20 units)" in n for n in result.notes)
    # the same data as teams: the replacements read as part of the effect
    teams = panel.assign(unit=panel["unit"].str[0], value=panel["value"] * panel["weight"])
    teams = teams.groupby(["unit", "period"], as_index=False)[["value", "weight"]].sum()
    teams["value"] /= teams["weight"]
    dates = {t: go_live[f"{t}0"] for t in TEAM_START}
    team_level = difference_in_differences(teams, dates, name="admin")
    assert abs(team_level.effect + 0.06) > abs(result.effect + 0.06) + 0.005


def test_units_of_one_cluster_share_a_go_live() -> None:
    panel, go_live, team_of = _panel(2, 0.0)
    go_live["A1"] = dt.date(2024, 6, 1)
    with pytest.raises(AttributionError, match="different go-live dates"):
        difference_in_differences(panel, go_live, name="admin", clusters=team_of)
