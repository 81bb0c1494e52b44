"""Chart specs of the report (Altair -> Vega-Lite dicts) from the report model's rows.

Every chart takes rows the model already holds (no figure is computed here beyond
reshaping) and returns a Vega-Lite spec as a dict, which the HTML embeds with vega-embed
and the PDF renders to SVG with vl-convert. Axis labels use d3 formats without a
currency sign (the currency code is in the title) so the locale's separators apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt

from crmroi.reports.i18n import Lang

if TYPE_CHECKING:
    from crmroi.reports.model import AdoptionRow, ReportModel
    from crmroi.reports.usage import UsageSection

__all__ = ["adoption_chart", "build_charts", "weekly_adoption_chart"]

WIDTH = 560
BENEFIT, COST = "#2e7d32", "#c62828"
FONTS = "Noto Sans, Noto Sans Arabic, Noto Sans CJK SC, DejaVu Sans, sans-serif"
"""Chart fonts: Latin/Cyrillic, then Arabic script (fa) and Simplified Chinese (zh) glyphs."""


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    spec["config"] = {
        "font": FONTS,
        "view": {"stroke": None},
        "axis": {"labelFontSize": 11, "titleFontSize": 12},
    }
    return spec


def cash_flow_chart(model: ReportModel, lang: Lang) -> dict[str, Any]:
    """Cumulative cash flow (plain, discounted, risk adjusted) with the payback point."""
    _ = lang.gettext
    names = {
        "cumulative": _("cumulative"),
        "cumulative_discounted": _("cumulative, discounted"),
        "cumulative_risk_adjusted": _("cumulative, risk adjusted"),
    }
    values = [
        {"month": r.month, "series": label, "value": getattr(r, key)}
        for r in model.cash_flow
        for key, label in names.items()
    ]
    money = f"{_('Money')}, {model.currency}"
    x = alt.X(
        "month:Q",
        title=_("Month"),
        axis=alt.Axis(tickMinStep=1),
        scale=alt.Scale(domain=[0, model.horizon_months], nice=False),
    )
    lines = (
        alt.Chart(alt.Data(values=values))
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("value:Q", title=money, axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "series:N",
                title=None,
                legend=alt.Legend(orient="bottom"),
                sort=list(names.values()),
            ),
            tooltip=["month:Q", "series:N", alt.Tooltip("value:Q", format=",.0f")],
        )
    )
    zero = alt.Chart(alt.Data(values=[{"y": 0}])).mark_rule(color="gray").encode(y="y:Q")
    layers: list[Any] = [zero, lines]
    payback = model.figure(model.horizon_months, False).payback_months
    if payback is not None:
        point = [{"month": payback, "y": 0, "label": f"{_('payback')} {lang.months(payback)}"}]
        base = alt.Chart(alt.Data(values=point))
        layers.append(base.mark_point(size=120, filled=True, color="black").encode(x=x, y="y:Q"))
        layers.append(
            base.mark_text(align="left", dx=8, dy=-10, fontWeight="bold").encode(
                x=x, y="y:Q", text="label:N"
            )
        )
    chart = alt.layer(*layers).properties(
        width=WIDTH, height=260, title=_("Cumulative cash flow and payback")
    )
    return _spec(chart)


def categories_chart(model: ReportModel, lang: Lang) -> dict[str, Any]:
    """Benefits (by line) and costs (by category) over the horizon, costs below zero."""
    _ = lang.gettext
    benefit, cost = _("benefit"), _("cost")
    values = [
        {
            "label": r.label,
            "side": benefit if r.side == "benefit" else cost,
            "total": r.total if r.side == "benefit" else -r.total,
        }
        for r in model.categories
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None),
            x=alt.X(
                "total:Q",
                title=f"{_('Total over the horizon')}, {model.currency}",
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color(
                "side:N",
                title=None,
                # the domain in this order: sorted, translated labels may put costs first
                scale=alt.Scale(domain=[benefit, cost], range=[BENEFIT, COST]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["label:N", alt.Tooltip("total:Q", format=",.0f")],
        )
        .properties(width=WIDTH - 160, title=_("Benefits and costs by category"))
    )
    return _spec(chart)


def kpi_chart(model: ReportModel, lang: Lang) -> dict[str, Any] | None:
    """Each KPI after go-live versus its baseline: % change with the 95% interval."""
    _ = lang.gettext
    rows = [k for k in model.kpis if k.available and k.change_rel is not None]
    if not rows:
        return None
    values = [
        {
            "kpi": k.label,
            "change": k.change_rel,
            "low": k.ci_low_rel if k.ci_low_rel is not None else k.change_rel,
            "high": k.ci_high_rel if k.ci_high_rel is not None else k.change_rel,
            "net": k.net_change_rel,
        }
        for k in rows
    ]
    base = alt.Chart(alt.Data(values=values)).encode(y=alt.Y("kpi:N", title=None, sort=None))
    x_title = _("After go-live versus baseline (change, 95% interval)")
    bars = base.mark_rule(strokeWidth=2, color="#607d8b").encode(
        x=alt.X("low:Q", title=x_title, axis=alt.Axis(format="+.0%")), x2="high:Q"
    )
    points = base.mark_point(filled=True, size=60, color="#1565c0").encode(
        x="change:Q",
        tooltip=[
            "kpi:N",
            alt.Tooltip("change:Q", format="+.1%"),
            alt.Tooltip("low:Q", format="+.1%"),
            alt.Tooltip("high:Q", format="+.1%"),
        ],
    )
    net = base.mark_tick(color="#ef6c00", thickness=2).encode(x="net:Q")
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color="gray").encode(x="x:Q")
    chart = alt.layer(zero, bars, points, net).properties(
        width=WIDTH - 160,
        title=alt.TitleParams(
            _("KPIs: baseline versus after go-live"),
            subtitle=_("dot: change; line: 95% interval; orange tick: net of not-yet-live teams"),
        ),
    )
    return _spec(chart)


def adoption_chart(rows: list[AdoptionRow], lang: Lang) -> dict[str, Any] | None:
    """Share of users working in the CRM by case month: the plan's ramp and the measure."""
    _ = lang.gettext
    if not rows:
        return None
    plan, measured = _("plan"), _("measured")
    values = [
        {"month": r.month, "series": name, "share": v}
        for r in rows
        for name, v in ((plan, r.plan), (measured, r.measured))
        if v is not None
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:Q", title=_("Month"), axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(
                "share:Q",
                title=_("Share of users working in the CRM"),
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "series:N",
                title=None,
                sort=[plan, measured],
                scale=alt.Scale(range=["#90a4ae", "#1565c0"]),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash("series:N", sort=[plan, measured], legend=None),
            tooltip=["month:Q", "series:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(
            width=WIDTH,
            height=220,
            title=alt.TitleParams(_("Adoption: share of users working in the CRM")),
        )
    )
    return _spec(chart)


def weekly_adoption_chart(usage: UsageSection | None, lang: Lang) -> dict[str, Any] | None:
    """Share of reps working in the CRM by week since go-live: all teams and each team."""
    _ = lang.gettext
    if usage is None or len(usage.history) < 2:
        return None
    everyone = _("All teams")
    values = [
        {"week": w.start.isoformat(), "label": w.label, "series": everyone, "share": w.share}
        for w in usage.history
        if w.share is not None
    ]
    teams = sorted({t for w in usage.history for t in w.by_team})
    for w in usage.history:
        for t in teams:
            cell = usage.team_cell(w, t)
            if cell is not None:
                name = t or _("(no team)")
                share = cell[0] / cell[1]
                values.append(
                    {"week": w.start.isoformat(), "label": w.label, "series": name, "share": share}
                )
    order = [everyone, *(t or _("(no team)") for t in teams)]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("week:T", title=_("Week"), axis=alt.Axis(format="%Y-%m")),
            y=alt.Y(
                "share:Q",
                title=_("Share of reps working in the CRM"),
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("series:N", title=None, sort=order, legend=alt.Legend(orient="bottom")),
            size=alt.condition(alt.datum.series == everyone, alt.value(3), alt.value(1.2)),
            tooltip=["label:N", "series:N", alt.Tooltip("share:Q", format=".0%")],
        )
        .properties(
            width=WIDTH,
            height=220,
            title=alt.TitleParams(_("Adoption by week, per team")),
        )
    )
    return _spec(chart)


def histogram_chart(model: ReportModel, lang: Lang) -> dict[str, Any] | None:
    """The simulated NPV distribution (runs per NPV bin) with zero marked."""
    sim = model.simulation
    if sim is None:
        return None
    _ = lang.gettext
    values = [{"start": b.start, "end": b.end, "runs": b.runs} for b in sim.histogram]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#5c6bc0")
        .encode(
            x=alt.X(
                "start:Q",
                title=f"NPV, {model.currency}",
                axis=alt.Axis(format=",.0f"),
                bin="binned",
            ),
            x2="end:Q",
            y=alt.Y("runs:Q", title=_("Runs")),
        )
    )
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color=COST).encode(x="x:Q")
    chart = alt.layer(bars, zero).properties(
        width=WIDTH,
        height=220,
        title=alt.TitleParams(
            _("Simulated NPV"),
            subtitle=f"{lang.number(sim.runs)} {_('runs')}; P(ROI > 0) = "
            f"{lang.percent(sim.p_roi_positive)}",
        ),
    )
    return _spec(chart)


def tornado_chart(model: ReportModel, lang: Lang) -> dict[str, Any] | None:
    """NPV swing of each ranged input between its low and high value."""
    sim = model.simulation
    if sim is None or not sim.tornado:
        return None
    _ = lang.gettext
    values = [
        {
            "input": t.input,
            "from": min(t.npv_at_low, t.npv_at_high),
            "to": max(t.npv_at_low, t.npv_at_high),
            "at_low": t.npv_at_low,
            "at_high": t.npv_at_high,
        }
        for t in sim.tornado[:12]
    ]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#8d6e63")
        .encode(
            y=alt.Y("input:N", title=None, sort=None),
            x=alt.X("from:Q", title=f"NPV, {model.currency}", axis=alt.Axis(format=",.0f")),
            x2="to:Q",
            tooltip=[
                "input:N",
                alt.Tooltip("at_low:Q", format=",.0f"),
                alt.Tooltip("at_high:Q", format=",.0f"),
            ],
        )
    )
    base = alt.Chart(alt.Data(values=[{"x": sim.base_npv}])).mark_rule(color="black")
    chart = alt.layer(bars, base.encode(x="x:Q")).properties(
        width=WIDTH - 200,
        title=alt.TitleParams(
            _("Tornado: NPV by input"), subtitle=_("each input alone at its low and high value")
        ),
    )
    return _spec(chart)


def build_charts(model: ReportModel, lang: Lang) -> dict[str, dict[str, Any]]:
    """Every chart the model's data allow, by name, in page order."""
    out: dict[str, dict[str, Any]] = {
        "cash_flow": cash_flow_chart(model, lang),
        "categories": categories_chart(model, lang),
    }
    for name, make in (("kpis", kpi_chart), ("histogram", histogram_chart)):
        spec = make(model, lang)
        if spec is not None:
            out[name] = spec
    adoption = adoption_chart(model.plan_actual.adoption, lang) if model.plan_actual else None
    if adoption is not None:
        out["adoption"] = adoption
    weekly = weekly_adoption_chart(model.plan_actual.usage, lang) if model.plan_actual else None
    if weekly is not None:
        out["adoption_weeks"] = weekly
    tornado = tornado_chart(model, lang)
    if tornado is not None:
        out["tornado"] = tornado
    return out
