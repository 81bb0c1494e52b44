"""How one KPI's sums are laid out in cells, and the rows of a KPI's result.

A KPI's sums go to numbered cells (`CellPlan`): first each group's baseline and
after cell, then per difference-in-differences comparison each of its teams'
baseline and after cells. The engine (`crmroi.kpi.engine`) and the median KPIs
(`crmroi.kpi.medians`) read values and changes from them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crmroi.kpi.definitions import KpiDefinition
from crmroi.kpi.report import KpiChange
from crmroi.kpi.stats import Labels, UnitSums
from crmroi.kpi.windows import DidGroup
from crmroi.messages import Message


class CellPlan:
    """Cell numbers of one KPI: main (group, period) cells, then per comparison i
    (team, period) cells of its treated and control teams."""

    def __init__(self, main: UnitSums, groups: list[DidGroup], labels: Labels) -> None:
        self.grps = np.unique(main.grp)
        self.teams = [
            np.array([labels.ids.get(t, -2) for t in (*g.treated, *g.controls)]) for g in groups
        ]
        self.n_treated = [len(g.treated) for g in groups]
        self.offsets = np.cumsum([len(self.grps) * 2] + [len(t) * 2 for t in self.teams])
        self.size = int(self.offsets[-1])

    def main(self, sums: UnitSums) -> np.ndarray:
        return np.searchsorted(self.grps, sums.grp) * 2 + sums.period

    def did(self, i: int, sums: UnitSums) -> np.ndarray:
        """Cells of comparison i's rows (-1: a team outside the comparison)."""
        teams = self.teams[i]
        ok = np.flatnonzero(teams >= 0)  # -2: a team no cube holds
        lut = np.full(max(int(sums.team.max(initial=0)), int(teams.max(initial=0))) + 2, -1)
        lut[teams[ok] + 1] = ok  # team code + 1 (NONE = -1) -> position in the comparison
        pos = lut[sums.team + 1]
        return np.where(pos >= 0, self.offsets[i] + pos * 2 + sums.period, -1)

    def group_cells(self) -> np.ndarray:
        """(group, period, 1) main cell numbers: group j's period p is cell 2 j + p."""
        return (np.arange(len(self.grps))[:, None] * 2 + np.arange(2))[..., None]

    def order(self, labels: Labels) -> list[int]:
        """Group positions in report order (by label text)."""
        names = [str(labels.name(g)) for g in self.grps.tolist()]
        return sorted(range(len(names)), key=names.__getitem__)

    def controls(self, i: int) -> list[int]:
        """Team codes of comparison i's control teams."""
        return list(self.teams[i][self.n_treated[i] :])

    def did_cells(self, i: int, teams: Sequence[int], period: int) -> list[int]:
        """Cells of comparison `i` for the team codes `teams` in `period`."""
        return [
            int(self.offsets[i]) + j * 2 + period for j, t in enumerate(self.teams[i]) if t in teams
        ]


def unavailable(d: KpiDefinition, reason: Message | str, group: str | None = None) -> KpiChange:
    why = reason if isinstance(reason, Message) else Message("unavailable", reason)
    return KpiChange(d.name, d.unit, d.area, available=False, reason=str(why), group=group, why=why)


def bound(x: float) -> float | None:
    """An interval bound, None when the interval is undefined (NaN)."""
    return None if np.isnan(x) else float(x)


def pooled_weights(raw: list[float] | list[np.ndarray]) -> np.ndarray:
    """Weights summing to 1 in proportion to `raw` (equal when they sum to 0)."""
    w = np.asarray(raw, dtype=np.float64)
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / max(len(w), 1))


def change(
    d: KpiDefinition, b: float, a: float, lo: float | None, hi: float | None, group: str | None
) -> KpiChange:
    """A change from finite baseline `b` and after `a` (relative change NaN when b = 0)."""
    relative = (a - b) / b if b != 0 else float("nan")
    k = KpiChange(d.name, d.unit, d.area, b, a, a - b, relative, lo, hi, group=group)
    k.significant = lo is not None and hi is not None and (lo > 0 or hi < 0)
    return k
