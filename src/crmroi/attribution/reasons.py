"""Why a KPI is not attributed, as messages (`crmroi.messages`): the text of an
`AttributionError` (and of `workspace.Unavailable.reason`), English as it always read,
worded in the reader's language by the report, the CLI and the case page, with a stable
code for JSON and the API.
"""

from __future__ import annotations

from crmroi.messages import M_, Items, Message

__all__ = [
    "MARKET_INDEX_SHAPE",
    "NO_GO_LIVE_KNOWN",
    "NO_PANEL",
    "cluster_dates_differ",
    "its_no_counterfactual",
    "its_not_finite",
    "its_short",
    "its_too_few",
    "market_index_dates",
    "market_index_number",
    "naive_short",
    "no_comparison",
    "no_go_live",
    "no_lapse_rate",
    "panel_empty",
    "panel_lacks",
    "supplied_kind",
    "supplied_short",
    "too_few_orders",
    "units_without_go_live",
    "unknown_kpis",
]


def its_short(name: str, months: int) -> Message:
    return M_(
        "attribution_its_short",
        "%(kpi)s: need at least %(n)s months before go-live and one after",
        kpi=name,
        n=str(months),
    )


def its_levels_without_noise(name: str) -> Message:
    return M_(
        "attribution_its_levels_without_noise",
        "%(kpi)s: the units' own levels use up every unit-month before go-live, so "
        "nothing is left to tell their noise and an interval would be too narrow",
        kpi=name,
    )


def its_no_counterfactual(name: str, idle: list[str]) -> Message:
    return M_(
        "attribution_its_no_counterfactual",
        "%(kpi)s: the market index's %(names)s moved in the go-live month and never varied "
        "before it, so no month after go-live has a counterfactual",
        kpi=name,
        names=Items(idle),
    )


def its_too_few(name: str) -> Message:
    return M_(
        "attribution_its_too_few",
        "%(kpi)s: too few months before go-live to fit the series",
        kpi=name,
    )


def its_not_finite(name: str) -> Message:
    return M_(
        "attribution_its_not_finite",
        "%(kpi)s: the time-series fit did not give a finite effect",
        kpi=name,
    )


def naive_short(name: str) -> Message:
    return M_(
        "attribution_naive_short",
        "%(kpi)s: need at least two months before and after go-live",
        kpi=name,
    )


def no_go_live(name: str) -> Message:
    return M_("attribution_no_go_live", "%(kpi)s: no go-live date is known", kpi=name)


def units_without_go_live(name: str, units: list[str]) -> Message:
    return M_(
        "attribution_units_without_go_live",
        "%(kpi)s: no go-live date for units %(units)s",
        kpi=name,
        units=Items(units),
    )


def cluster_dates_differ(name: str, cluster: str) -> Message:
    return M_(
        "attribution_cluster_dates_differ",
        "%(kpi)s: units of %(cluster)s have different go-live dates",
        kpi=name,
        cluster=cluster,
    )


def no_comparison(name: str) -> Message:
    return M_(
        "attribution_no_comparison",
        "%(kpi)s: no live month has a team still without the CRM to compare with; a "
        "staggered comparison needs teams not yet live",
        kpi=name,
    )


def too_few_orders(name: str, orders: int, teams: int) -> Message:
    return M_(
        "attribution_too_few_orders",
        "%(kpi)s: only %(orders)s orders of go-live over %(teams)s teams: too few to bound a "
        "95%% interval by randomisation inference",
        kpi=name,
        orders=str(orders),
        teams=str(teams),
    )


def panel_lacks(name: str, missing: list[str]) -> Message:
    return M_(
        "attribution_panel_lacks",
        "%(kpi)s: the KPI panel lacks columns %(columns)s",
        kpi=name,
        columns=Items(missing),
    )


def panel_empty(name: str) -> Message:
    return M_("attribution_panel_empty", "%(kpi)s: no observations in the KPI panel", kpi=name)


def no_lapse_rate(name: str) -> Message:
    return M_(
        "attribution_no_lapse_rate",
        "%(kpi)s: no counterfactual lapse rate to restate the effect in annual terms",
        kpi=name,
    )


def supplied_kind(name: str, source: str, kind: str) -> Message:
    return M_(
        "attribution_supplied_kind",
        "%(kpi)s: the baseline is %(label)s; a %(kind)s KPI has no company series from team "
        "cells, so it is not attributed (`crmroi kpis` compares it)",
        kpi=name,
        label=_supplied_label(source),
        kind=kind,
    )


def supplied_short(name: str, source: str, before: int, needed: int) -> Message:
    return M_(
        "attribution_supplied_short",
        "%(kpi)s: the baseline is %(label)s and gives %(n)s months before go-live; the time "
        "series needs %(needed)s",
        kpi=name,
        label=_supplied_label(source),
        n=str(before),
        needed=str(needed),
    )


def _supplied_label(source: str) -> Message:
    return M_("attribution_supplied_label", "supplied (source: %(source)s)", source=source)


NO_PANEL = M_("attribution_no_panel", "no monthly panel (no data, or a KPI over a window)")


# -- the market index file and the request (`attribute_workspace`) --------------------
MARKET_INDEX_SHAPE = M_(
    "attribution_market_index_shape",
    "a market index needs a date column and at least one value",
)
NO_GO_LIVE_KNOWN = M_(
    "attribution_no_go_live_known",
    "no go-live date known: pass --go-live or record one in the workspace",
)


def market_index_dates(column: object) -> Message:
    return M_(
        "attribution_market_index_dates",
        "column %(column)s does not hold dates",
        column=repr(column),
    )


def market_index_number(row: int, column: object) -> Message:
    return M_(
        "attribution_market_index_number",
        "row %(row)s, column %(column)s: not a number",
        row=str(row),
        column=repr(column),
    )


def unknown_kpis(names: list[str]) -> Message:
    return M_(
        "attribution_unknown_kpi",
        "unknown KPI %(names)s; see `crmroi kpis`",
        names=Items(names),
    )
