"""Attribution on a workspace: KPI panels from the engine, go-live dates from settings.

The I/O edge of the attribution package: reads the store and the market index
file, then calls the pure methods. Units are teams (reps leave and are replaced,
which moves volumes per rep); deals are placed by creation month unless
`exposure="closed"`. Calibration on demo companies: docs/attribution.md, from
benchmarks/attribution_calibration.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crmroi.attribution import Choice, attribute, choose_method, reasons
from crmroi.attribution import notes as said
from crmroi.attribution.results import Attribution, AttributionError
from crmroi.attribution.retention import lapse_to_retention
from crmroi.attribution.supplied import attribute_supplied
from crmroi.errors import ConfigurationError, InputFileError, UserError
from crmroi.ingest.reading import read_raw
from crmroi.ingest.values import parse_dates, parse_numbers
from crmroi.kpi import KPI_DEFINITIONS, kpi_panel
from crmroi.kpi.cohorts import COHORT_KPIS, calls_without_deal, describe_cut
from crmroi.kpi.lapses import lapse_panel
from crmroi.kpi.panel import Exposure
from crmroi.kpi.supplied import lacking_baselines
from crmroi.messages import Said, code_of, said_of
from crmroi.store.store import Store

Progress = Callable[[str, int, int], None]

# What the overall effect averages over (the panel's weight), per KPI.
WEIGHTING: dict[str, str] = {
    "win_rate": "closed deals",
    "avg_deal_size": "won deals",
    "sales_cycle_days": "won deals",
    "gross_margin": "revenue with a known cost",
    "sales_volume": "team-months equally",
    "won_deals": "team-months equally",
    "retention_rate": "customers at risk",
    "admin_time_share": "hours",
}
# KPIs of a rep's own work, attributed rep by rep: each rep is compared with their own
# months before go-live, so a rep leaving and being replaced does not move the team's
# level; go-live dates and the reorderings of the interval stay by team.
REP_UNITS: tuple[str, ...] = ("admin_time_share",)
# Ratio KPIs whose cells' ratio is biased (a ratio of two random sums over the cell's
# deals: calls fall on lost deals too): on the staggered path numerator and denominator
# are imputed per deal created and the effect is a ratio of imputed totals
# (`crmroi.attribution.ratio`). Win rate, deal size and gross margin are not: their
# numerator sums over their denominator's own deals (won / closed, won amount / won
# deals), so a cell's ratio is a mean with no ratio bias to cancel.
RATIO_OF_TOTALS: tuple[str, ...] = ("calls_per_won_deal",)


@dataclass(frozen=True)
class Unavailable:
    """A KPI that could not be attributed, and why (English text; a `Said` remembers the
    message, so outputs word it in their language)."""

    name: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "method": None,
            "available": False,
            "reason": str(self.reason),
            "reason_code": code_of(self.reason),
        }


def go_live_dates(store: Store) -> tuple[dict[str, dt.date | None], dt.date | None]:
    """Per-team go-live dates and the company go-live from the workspace settings."""
    settings = store.settings()
    teams = {
        str(team): dt.date.fromisoformat(str(day)[:10])
        for team, day in (settings.get("go_live_by_team") or {}).items()
    }
    company = settings.get("go_live")
    return dict(teams), dt.date.fromisoformat(str(company)[:10]) if company else None


def unit_go_live(store: Store, unit: str, override: dt.date | None) -> dict[str, dt.date | None]:
    """Go-live date per unit value (rep or team); None for units that never went live."""
    by_team, company = go_live_dates(store)
    if override is not None:
        by_team, company = {}, override
    if unit == "team":
        teams = store.table("reps").select("team").distinct().execute()["team"].dropna()
        return {str(t): by_team.get(str(t), company) for t in teams}
    reps = store.table("reps").select("rep_id", "team").execute()
    return {str(r.rep_id): by_team.get(str(r.team), company) for r in reps.itertuples(index=False)}


def read_market_index(path: Path) -> pd.DataFrame:
    """A monthly covariates CSV/XLSX: a date column first, then numeric columns."""
    raw = read_raw(path)
    frame = raw.frame
    if frame.shape[1] < 2:
        raise InputFileError(path, reasons.MARKET_INDEX_SHAPE)
    dates = parse_dates(frame.iloc[:, 0])
    if dates.bad.any() or dates.values.isna().all():
        raise InputFileError(path, reasons.market_index_dates(frame.columns[0]))
    out = pd.DataFrame({"period": dates.values})
    for column in frame.columns[1:]:
        numbers = parse_numbers(frame[column])
        if numbers.bad.any():
            row = raw.first_data_line + int(numbers.bad.to_numpy().argmax())
            raise InputFileError(path, reasons.market_index_number(row, column))
        out[str(column)] = numbers.values.astype("float64")
    return out.dropna()


def attribute_workspace(
    store: Store,
    *,
    kpis: Sequence[str] | None = None,
    method: Choice = "auto",
    market_index: Path | None = None,
    go_live: dt.date | None = None,
    progress: Progress | None = None,
    exposure: Exposure = "created",
) -> list[Attribution | Unavailable]:
    """Attribute each KPI's change to the CRM on the workspace's data.

    `exposure`: "created" (default) places deals in the month they were created,
    so the deals worked with the CRM are the treated ones; "closed" places them
    by closing month, as the KPI report does (see `crmroi.kpi.panel`).
    """
    names = list(kpis or KPI_DEFINITIONS)
    unknown = [n for n in names if n not in KPI_DEFINITIONS]
    if unknown:
        raise ConfigurationError(reasons.unknown_kpis(unknown))
    covariates = read_market_index(market_index) if market_index else None
    unit = "team"
    dates = unit_go_live(store, unit, go_live)
    if not any(dates.values()):
        raise UserError(reasons.NO_GO_LIVE_KNOWN)
    first = min(d for d in dates.values() if d is not None)
    panel = kpi_panel(store, names, unit=unit, exposure=exposure, mix_before=first)
    cut = describe_cut(panel.attrs.get("cohorts_before"))
    mix_segments = list(panel.attrs.get("deal_size_segments") or [])
    gap, lead, carry = None, 0, []
    if "retention_rate" in names:  # customer by customer: the monthly lapse rate
        # one company series (time series, naive) needs the series that starts level
        chosen = method
        if method == "auto":
            chosen = choose_method(dates, has_covariates=covariates is not None)[0]
        lapses, gap = lapse_panel(store, unit, stationary=chosen != "did")
        lead = int(lapses.attrs.get("anticipation", 0))
        carry = list(lapses.attrs.get("carry", []))
        panel = pd.concat([panel[panel["kpi"] != "retention_rate"], lapses], ignore_index=True)
    by_rep = [n for n in names if n in REP_UNITS]
    rep_dates: dict[str, dt.date | None] = {}
    rep_team: dict[str, str] = {}
    if by_rep:
        panel = panel[~panel["kpi"].isin(by_rep)]
        rep_panel = kpi_panel(store, by_rep, unit="rep", exposure=exposure)
        panel = pd.concat([panel, rep_panel], ignore_index=True)
        rep_dates = unit_go_live(store, "rep", go_live)
        reps = store.table("reps").select("rep_id", "team").execute()
        rep_team = {
            str(r.rep_id): str(r.team) if r.team is not None else str(r.rep_id)
            for r in reps.itertuples(index=False)
        }
    supplied = lacking_baselines(store, names, first)
    out: list[Attribution | Unavailable] = []
    for i, name in enumerate(names):
        if progress is not None:
            progress(f"attributing {name}", i, len(names))
        if name in supplied:  # no measured months before go-live: the supplied ones
            try:
                out.append(attribute_supplied(store, name, supplied[name], first, covariates))
            except AttributionError as exc:
                out.append(Unavailable(name, said_of(exc)))
            continue
        rows = panel[panel["kpi"] == name]
        if rows.empty:
            out.append(Unavailable(name, Said(reasons.NO_PANEL)))
            continue
        weight = rows["den"].where(rows["den"].notna() & (rows["den"] > 0), 1.0)
        frame = pd.DataFrame(
            {
                "unit": rows["unit"],
                "period": rows["month"],
                "value": rows["value"],
                "weight": weight,
            }
        )
        as_ratio = bool(name in RATIO_OF_TOTALS and "deals" in rows and rows["deals"].notna().all())
        if as_ratio:
            frame = frame.assign(num=rows["num"], den=rows["den"], exposure=rows["deals"])
        unit_dates, clusters = (rep_dates, rep_team) if name in REP_UNITS else (dates, None)
        frame = frame[frame["unit"].isin(list(unit_dates))]
        weighting = WEIGHTING.get(name, "the KPI's denominator")
        try:
            result = attribute(
                frame,
                {u: unit_dates[u] for u in frame["unit"].unique()} if clusters else unit_dates,
                name=name,
                method=method,
                covariates=covariates,
                weighting=weighting,
                clusters=clusters,
                anticipation=lead if name == "retention_rate" else 0,
                carry=carry if name == "retention_rate" else (),
                weighted=name == "retention_rate",
                ratio=as_ratio,
            )
            if name == "retention_rate" and gap is not None:
                result = lapse_to_retention(result, gap)
        except AttributionError as exc:
            out.append(Unavailable(name, said_of(exc)))
            continue
        if name in COHORT_KPIS:
            result.notes.append(said.exposure(exposure == "created", exposure))
            if exposure == "created" and cut:
                result.notes.append(cut)
            if exposure == "created" and name == "avg_deal_size" and mix_segments:
                result.notes.append(said.mix_held(mix_segments))
            if exposure == "created" and name == "calls_per_won_deal":
                loose = calls_without_deal(store)
                result.notes.append(said.calls_on_deals(loose))
        out.append(result)
    return out
