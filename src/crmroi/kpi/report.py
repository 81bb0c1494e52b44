"""The KPI report's result types: one `KpiChange` per KPI (and group), in a `KpiReport`."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from crmroi.finite import finite
from crmroi.messages import Message


@dataclass
class KpiChange:
    """One KPI's baseline and after values and their change.

    `change_abs` = after - baseline (in the KPI's unit), `change_rel` = change_abs /
    baseline; `ci_low`/`ci_high` bound `change_abs` (95%). `net_change_abs`/
    `net_change_rel` are the change net of the not-yet-treated teams (difference in
    differences, phased roll-outs only), `net_ci_low`/`net_ci_high` its 95% interval
    (of `net_change_abs`). `available` is False, with a `reason`, when the inputs
    are missing: the values are then None, never zero. `baseline_basis` is
    "supplied" when the baseline comes from `supplied_baselines` (figures from
    outside the CRM, `baseline_source` says whose): then there is no interval and no
    net change, and `interval_note` says why.
    """

    name: str
    unit: str
    area: str
    baseline: float | None = None
    after: float | None = None
    change_abs: float | None = None
    change_rel: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool = False
    available: bool = True
    reason: str | None = None
    group: str | None = None
    net_change_abs: float | None = None
    net_change_rel: float | None = None
    net_ci_low: float | None = None
    net_ci_high: float | None = None
    coverage: dict[str, Any] | None = None
    baseline_basis: str = "measured"  # or "supplied" (crmroi.kpi.supplied)
    baseline_source: str | None = None  # where a supplied baseline comes from
    interval_note: str | None = None  # why there is no interval (a supplied baseline)

    @property
    def baseline_label(self) -> str:
        """'measured', or 'supplied (source: ...)' for a supplied baseline."""
        if self.baseline_basis == "supplied":
            return f"supplied (source: {self.baseline_source})"
        return "measured"

    why: Message | None = field(default=None, repr=False, compare=False)
    """`reason` as a message id with parameters (`crmroi.kpi.reasons`), for translation."""

    def __post_init__(self) -> None:
        for key in (
            "baseline", "after", "change_abs", "change_rel", "ci_low", "ci_high",
            "net_change_abs", "net_change_rel", "net_ci_low", "net_ci_high",
        ):  # fmt: skip
            setattr(self, key, finite(getattr(self, key)))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("why")
        return out


@dataclass
class KpiReport:
    """Every KPI for the baseline and after windows around go-live.

    `baseline` and `after` are (first day, last day) of the windows; with a phased
    roll-out they span every team's own windows (`go_live_by_team`).
    """

    go_live: dt.date
    baseline: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    kpis: list[KpiChange]
    by: str | None = None
    go_live_by_team: dict[str, dt.date] = field(default_factory=dict)
    baseline_months: int = 12
    after_months: int = 12
    bootstrap: int = 0
    seed: int = 0
    data_span: tuple[dt.datetime, dt.datetime] | None = None
    data_spans: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    exposure: str = "closed"

    def get(self, name: str, group: str | None = None) -> KpiChange:
        """The change of KPI `name` (for `group` when the report is grouped)."""
        for k in self.kpis:
            if k.name == name and k.group == group:
                return k
        raise KeyError(f"no KPI {name!r} for group {group!r} in the report")

    def to_json(self) -> dict[str, Any]:
        """The `kpis --format json` document (dates as ISO strings, window ends inclusive)."""
        return {
            "go_live": self.go_live.isoformat(),
            "baseline": {
                "start": self.baseline[0].isoformat(),
                "end": self.baseline[1].isoformat(),
            },
            "after": {"start": self.after[0].isoformat(), "end": self.after[1].isoformat()},
            "go_live_by_team": {t: d.isoformat() for t, d in self.go_live_by_team.items()},
            "baseline_months": self.baseline_months,
            "after_months": self.after_months,
            "by": self.by,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "exposure": self.exposure,
            "data_spans": {
                c: {"first": a.isoformat(), "last": b.isoformat()}
                for c, (a, b) in self.data_spans.items()
            },
            "kpis": [k.to_json() for k in self.kpis],
        }
