"""Per-unit sums of a KPI's facts, computed in the database and returned as small arrays.

`unit_sums` runs one Ibis query per KPI and window set: facts are placed in windows,
grouped by (group, team, unit, period) and reduced with the KPI's aggregations. Only
the per-unit sums (a few rows per account or rep) leave the database; the
estimates and the bootstrap work on them in numpy (`crmroi.kpi.changes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from crmroi.kpi.facts import FACT_COLUMNS, Ctx, FactSpec, WindowLike

GROUP_COLUMNS: dict[str | None, str] = {
    "team": "team",
    "rep": "rep_id",
    "segment": "segment",
    "source": "source",
}


@dataclass
class UnitSums:
    """Sums per (group, team, unit, period): parallel numpy arrays."""

    grp: np.ndarray
    team: np.ndarray
    unit: np.ndarray  # None for fixed rows
    period: np.ndarray
    num: np.ndarray
    den: np.ndarray

    def __len__(self) -> int:
        return len(self.num)

    def take(self, mask: np.ndarray) -> UnitSums:
        return UnitSums(*(getattr(self, k)[mask] for k in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[UnitSums]) -> UnitSums:
        keys = list(UnitSums.__dataclass_fields__)
        return UnitSums(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys))


Evaluation = tuple[WindowLike, str | None]  # windows and grouping


def placed(ctx: Ctx, spec: FactSpec, windows: WindowLike, by: str | None) -> ir.Table:
    """The KPI's facts with `period` (window) and `grp` (group value), outside rows dropped."""
    f = spec.build(ctx if ctx.windows is windows else dataclasses.replace(ctx, windows=windows))
    grp = f[GROUP_COLUMNS[by]].cast("string") if by else ibis.literal("all")
    f = windows.attach(f)
    f = f.mutate(period=windows.period(f, f.ts), grp=grp)
    return f.filter(f.period.notnull() & f.grp.notnull()).select(*FACT_COLUMNS, "period", "grp")


def _all_placed(ctx: Ctx, spec: FactSpec, evaluations: Sequence[Evaluation]) -> ir.Table:
    """Facts placed for several window sets at once, told apart by `ev` (one query)."""
    parts = [
        placed(ctx, spec, w, by).mutate(ev=ibis.literal(i)) for i, (w, by) in enumerate(evaluations)
    ]
    first, *rest = parts
    return first.union(*rest, distinct=False) if rest else first


def _arrays(table: ir.Table) -> dict[str, np.ndarray]:
    arrow = table.to_pyarrow()
    out: dict[str, np.ndarray] = {}
    for name in arrow.column_names:
        col = arrow.column(name)
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            out[name] = col.to_numpy().astype(np.float64)
        else:
            out[name] = np.array(col.to_pylist(), dtype=object)
    return out


def _split(
    a: dict[str, np.ndarray], n: int, value: str, weight: str, units: bool
) -> list[UnitSums]:
    ev = a["ev"].astype(np.int64)
    out = []
    for i in range(n):
        m = ev == i
        unit = a["unit"][m] if units else np.full(int(m.sum()), None, dtype=object)
        out.append(
            UnitSums(
                a["grp"][m], a["team"][m], unit, a["period"][m],
                np.nan_to_num(a[value][m]), np.nan_to_num(a[weight][m]),
            )
        )  # fmt: skip
    return out


def unit_sums(ctx: Ctx, spec: FactSpec, evaluations: Sequence[Evaluation]) -> list[UnitSums]:
    """Numerator and denominator per (group, team, unit, period), one list item per evaluation."""
    f = _all_placed(ctx, spec, evaluations)
    g = f.group_by(["ev", "grp", "team", "unit", "period"]).aggregate(
        num=spec.num_agg(f).cast("float64"), den=spec.den_agg(f).cast("float64")
    )
    return _split(_arrays(g), len(evaluations), "num", "den", units=True)


def value_counts(ctx: Ctx, spec: FactSpec, evaluations: Sequence[Evaluation]) -> list[UnitSums]:
    """For median KPIs: distinct values (rounded to 1e-5) and their counts per cell.

    `num` holds the value and `den` its count; `unit` is None.
    """
    f = _all_placed(ctx, spec, evaluations)
    f = f.mutate(v=f.num.round(5).cast("float64"))
    g = f.group_by(["ev", "grp", "team", "period", "v"]).aggregate(n=f.count().cast("float64"))
    return _split(_arrays(g), len(evaluations), "v", "n", units=False)
