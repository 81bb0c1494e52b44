"""`crmroi roi`: the business case (TCO, benefits, ROI/NPV/IRR/payback, risk, simulation)."""

from __future__ import annotations

import contextlib
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.allocators import prefer_fast_allocators
from crmroi.cli.app import app, console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_, Items, Message

if TYPE_CHECKING:
    from crmroi.finance.evaluate import CaseResult


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def roi(
    case_file: Annotated[Path, typer.Argument(metavar="CASE.yaml", help="The business case.")],
    workspace: Annotated[
        str | None,
        typer.Option(
            help="Workspace for 'actual' costs, 'measured' benefits, 'clv' inputs and --actuals."
        ),
    ] = None,
    simulate: Annotated[
        int | None, typer.Option(min=1, help="Monte Carlo runs (PERT draws of every range).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
    format: Annotated[OutputFormat, typer.Option(help="table or json.")] = OutputFormat.table,
    actuals: Annotated[
        bool, typer.Option(help="Plan versus actual to date (needs --workspace).")
    ] = False,
    lang: LangOption = None,
) -> None:
    """ROI, NPV, IRR and payback of CASE.yaml, before and after risk adjustment."""
    prefer_fast_allocators(report=True)  # before pyarrow loads
    from crmroi.casework.evaluate import evaluate_case, model_for
    from crmroi.errors import ConfigurationError
    from crmroi.finance.case import load_case
    from crmroi.store import open_store

    case = load_case(case_file)
    if actuals and workspace is None:
        raise ConfigurationError(M_("actuals_need_workspace", "--actuals needs --workspace"))
    needs_store = workspace is not None and (actuals or case.needs_workspace)
    if workspace is None and case.needs_workspace:
        raise ConfigurationError(
            M_(
                "case_needs_workspace",
                "%(file)s reads actual costs, measured benefits or lifetime value: "
                "give --workspace",
                file=case_file.name,
            )
        )
    plan_vs_actual = None
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_store(workspace)) if needs_store and workspace else None
        model = model_for(case, store)
        result = evaluate_case(case, store, runs=simulate, seed=seed, model=model)
        if actuals and store is not None:
            from crmroi.casework.actuals import plan_vs_actual as compare

            plan_vs_actual = compare(case, store)
    if format is OutputFormat.json:
        doc = result.to_json()
        if plan_vs_actual is not None:
            doc["actuals"] = plan_vs_actual.to_json()
        print(json.dumps(doc, indent=2, default=str))
        return
    say = speaker(lang)
    _print_result(result, say)
    if plan_vs_actual is not None:
        from crmroi.cli.roi_actuals import print_actuals

        print_actuals(plan_vs_actual, say)


ENGLISH = Speaker("en")


def _money(v: float | None, say: Speaker = ENGLISH) -> str:
    return "-" if v is None or not math.isfinite(v) else say.num(v)


def _pct(v: float | None, say: Speaker = ENGLISH) -> str:
    return "-" if v is None or not math.isfinite(v) else say.pct(v)


def _ratio(v: float | None, say: Speaker = ENGLISH) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.2f}" if say.english else say.num(v, 2)


def _months(v: float | None, say: Speaker = ENGLISH) -> str:
    if v is None or not math.isfinite(v):
        return say(N_("never"))
    return f"{v:.1f}" if say.english else say.num(v, 1)


def _print_result(r: CaseResult, say: Speaker = ENGLISH) -> None:
    case = r.case
    head = M_(
        "roi_head",
        "(%(currency)s; horizon %(months)s months, discount rate %(rate)s a year)",
        currency=case.currency,
        months=int(case.horizon_months),
        rate=say.pct(case.discount_rate, 0),
    )
    console.print(f"[bold]{escape(case.name)}[/] {escape(say.say(head))}")
    for note in r.model.notes:
        console.print(escape(say.say(note)))
    if r.model.clv is not None:
        users = Items(repr(d.label) for d in case.benefits if d.clv_fields)
        described = r.model.clv.describe_message()
        line = M_(
            "roi_clv_inputs", "clv inputs of %(users)s: %(inputs)s", users=users, inputs=described
        )
        console.print(escape(say.say(line)))
    years = math.ceil(case.horizon_months / 12)
    by_cat = Table(title=escape(say(N_("Cash flows by category (before risk adjustment)"))))
    by_cat.add_column(escape(say(N_("line"))))
    by_cat.add_column(escape(say(N_("initial"))), justify="right")
    for y in range(years):
        year = M_("year_n", "year %(n)s", n=y + 1)
        by_cat.add_column(escape(say.say(year)), justify="right")
    by_cat.add_column(escape(say(N_("total"))), justify="right")
    for side, lines in (("+", r.table.benefits), ("-", r.table.costs)):
        for name, flows in lines.items():
            cells = [_money(flows[0], say)]
            cells += [
                _money(float(flows[1 + 12 * y : 13 + 12 * y].sum()), say) for y in range(years)
            ]
            cells.append(_money(float(flows.sum()), say))
            by_cat.add_row(f"{side} {escape(name)}", *cells)
    console.print(by_cat)

    monthly = Table(title=escape(say(N_("Monthly cash flows"))))
    heads_m = (N_("month"), N_("benefits"), N_("costs"), N_("net"), N_("net (risk-adj.)"))
    for name in (*heads_m, N_("cumulative")):
        monthly.add_column(escape(say(name)), justify="right")
    net, net_r = r.table.net(), r.table_risk.net()
    benefits, costs = r.table.total_benefits(), r.table.total_costs()
    cum = net.cumsum()
    for m in range(r.table.n_periods):
        monthly.add_row(
            say(N_("initial")) if m == 0 else say.digits(m),
            _money(benefits[m], say),
            _money(costs[m], say),
            _money(net[m], say),
            _money(net_r[m], say),
            _money(cum[m], say),
        )
    console.print(monthly)

    title = N_("Figures (ROI = NPV / PV of costs; simple ROI undiscounted)")
    figures = Table(title=escape(say(title)))
    figures.add_column("")
    heads = [(r.short, r.short_risk), (r.summary, r.summary_risk)]
    for s, _ in heads:
        figures.add_column(_months_column(s.horizon_months, say), justify="right")
        figures.add_column(_months_column(s.horizon_months, say, True), justify="right")
    rows: list[tuple[str, Any]] = [
        (N_("PV of benefits"), lambda s: _money(s.pv_benefits, say)),
        (N_("PV of costs"), lambda s: _money(s.pv_costs, say)),
        (N_("NPV"), lambda s: _money(s.npv, say)),
        (N_("ROI"), lambda s: _pct(s.roi, say)),
        (N_("simple ROI"), lambda s: _pct(s.simple_roi, say)),
        (N_("IRR (annual)"), lambda s: _pct(s.irr, say)),
        (N_("payback (months)"), lambda s: _months(s.payback_months, say)),
        (N_("discounted payback (months)"), lambda s: _months(s.discounted_payback_months, say)),
    ]
    for label, fmt in rows:
        figures.add_row(escape(say(label)), *(fmt(s) for pair in heads for s in pair))
    console.print(figures)
    if r.measured_range is not None:
        console.print(escape(say.say(_measured_range_message(r, say))))
        if r.measured_range.held:
            held = M_(
                "roi_measured_range_held",
                "Measured without an interval, so held at their estimates in that range: %(names)s",
                names=", ".join(r.measured_range.held),
            )
            console.print(escape(say.say(held)))

    _print_roi_ways(r, say)
    _print_tco(r, say)
    for c in r.checks:
        if c.passed:
            passed = M_("check_passed", "check (%(rule)s) passed:", rule=say(c.rule))
            console.print(f"[green]{escape(say.say(passed))}[/] {escape(say.say(c.text))}")
    for w in r.warnings:
        warned = M_("warning_coded", "warning (%(rule)s):", rule=w.code)
        console.print(f"[yellow]{escape(say.say(warned))}[/] {escape(say.say(w.text))}")
    sections = ((N_("Intangible benefits"), case.intangible_benefits), (N_("Risks"), case.risks))
    for heading, items in sections:
        if items:
            console.print(f"[bold]{escape(say(heading))}[/]")
            for item in items:
                console.print(f"  - {escape(item)}")
    if r.simulation is not None:
        _print_simulation(r, say)


def _measured_range_message(r: CaseResult, say: Speaker) -> Message:
    """How far the measured changes' own intervals move the NPV (`measured_range`)."""
    m = r.measured_range
    assert m is not None
    return M_(
        "roi_measured_range",
        "On the measurement alone (the %(n)s measured changes drawn within their 95%% "
        "intervals, %(runs)s runs, every other input at its most likely value) the NPV lies "
        "between %(low)s and %(high)s at %(months)s months (95%%; risk adjusted %(low_r)s to "
        "%(high_r)s) and between %(short_low)s and %(short_high)s at %(short)s months",
        n=len(m.inputs),
        runs=say.num(m.runs),
        low=_money(m.npv[0], say),
        high=_money(m.npv[1], say),
        months=int(m.horizon_months),
        low_r=_money(m.npv_risk_adjusted[0], say),
        high_r=_money(m.npv_risk_adjusted[1], say),
        short_low=_money(m.npv_short[0], say),
        short_high=_money(m.npv_short[1], say),
        short=int(m.short_months),
    )


def _months_column(months: int, say: Speaker, risk: bool = False) -> str:
    """'12 months' or '12 m risk-adj.' (a figures column) in the language."""
    if risk:
        return escape(say.say(M_("months_risk_column", "%(n)s m risk-adj.", n=int(months))))
    return escape(say.say(M_("months_column", "%(n)s months", n=int(months))))


def _print_roi_ways(r: CaseResult, say: Speaker = ENGLISH) -> None:
    headline = r.case.headline_roi
    title = M_(
        "roi_ways_title",
        "ROI five ways (the case's headline: %(headline)s)",
        headline=_roi_label(headline, headline.replace("_", " "), say),
    )
    table = Table(title=escape(say.say(title)))
    table.add_column("")
    horizons = sorted(r.roi_ways)
    for h in horizons:
        table.add_column(_months_column(h, say), justify="right")
        table.add_column(_months_column(h, say, True), justify="right")
    first = r.roi_ways[horizons[0]][False]
    for i, way in enumerate(first):
        fmt = _ratio if way.kind == "benefit_cost_ratio" else _pct
        cells = [fmt(r.roi_ways[h][risk][i].value, say) for h in horizons for risk in (False, True)]
        label = escape(_roi_label(way.kind, way.label, say))
        table.add_row(f"[bold]{label}[/]" if way.kind == headline else label, *cells)
    console.print(table)
    for way in first:
        formula = f"{escape(say(way.formula))} ({escape(say(way.source))})"
        console.print(f"  {escape(_roi_label(way.kind, way.label, say))} = {formula}")


def _print_tco(r: CaseResult, say: Speaker = ENGLISH) -> None:
    if r.tco is None:
        return
    t = r.tco
    table = Table(title=escape(say(N_("Total cost of ownership (undiscounted)"))))
    table.add_column(escape(say(N_("group / category"))))
    table.add_column(_months_column(12, say), justify="right")
    table.add_column(_months_column(t.horizon_months, say), justify="right")
    from crmroi.finance.tco import GROUP_OF

    for group, (a, b) in t.by_group.items():
        name = escape(_tco_label(group, group.upper() if group == "it" else group, say))
        table.add_row(f"[bold]{name}[/]", _money(a, say), _money(b, say))
        for cat, (x, y) in t.by_category.items():
            if GROUP_OF[cat] == group:
                label = escape(_tco_label(cat, cat.replace("_", " "), say))
                table.add_row(f"  {label}", _money(x, say), _money(y, say))
    table.add_row("[bold]TCO[/]", _money(t.total_12, say), _money(t.total, say))
    console.print(table)


def _roi_label(kind: str, english: str, say: Speaker) -> str:
    """An ROI way's name ('net ROI'), in the language as the report names it."""
    if say.english:
        return english
    from crmroi.reports.labels import ROI_LABELS

    return say(ROI_LABELS[kind][0]) if kind in ROI_LABELS else say(english)


def _tco_label(key: str, english: str, say: Speaker) -> str:
    """A TCO group or cost category ('internal labour'), as the report names it."""
    if say.english:
        return english
    from crmroi.reports.labels import CATEGORY_LABELS, GROUP_LABELS

    label = GROUP_LABELS.get(key) or CATEGORY_LABELS.get(key)
    return say(label) if label else say(english)


def _input_value(value: float, say: Speaker) -> str:
    """A tornado input's low or high value: six significant digits ('40,000', '0.04')."""
    english = f"{value:,.6g}"
    if say.english or "e" in english or not math.isfinite(value):
        return english if say.english else say.digits(english)
    decimals = len(english.split(".")[1]) if "." in english else 0
    return say.num(value, decimals)


def _print_simulation(r: CaseResult, say: Speaker = ENGLISH) -> None:
    assert r.simulation is not None
    d = r.simulation.as_dict()
    title = M_(
        "simulation_title",
        "Simulation: %(runs)s runs, seed %(seed)s (before risk adj.)",
        runs=int(d["runs"]),
        seed=str(d["seed"]),
    )
    sim = Table(title=escape(say.say(title)))
    for name in ("", "P10", "P50", "P90"):
        sim.add_column(name, justify="right")
    sim.add_row("ROI", *(_pct(d[f"roi_p{p}"], say) for p in (10, 50, 90)))
    sim.add_row("NPV", *(_money(d[f"npv_p{p}"], say) for p in (10, 50, 90)))
    paybacks = (_months(d[f"payback_months_p{p}"], say) for p in (10, 50, 90))
    sim.add_row(escape(say(N_("payback (months)"))), *paybacks)
    console.print(sim)
    by_horizon = d["p_roi_positive_by_horizon"]
    chance = Table(title=escape(say(N_("Probability that ROI > 0 (same runs)"))))
    chance.add_column("")
    for months in by_horizon:
        chance.add_column(_months_column(months, say), justify="right")
    for label, key in (
        (N_("before risk adj."), "p_roi_positive"),
        (N_("risk adjusted"), "p_roi_positive_risk_adjusted"),
    ):
        chance.add_row(escape(say(label)), *(say.pct(p[key]) for p in by_horizon.values()))
    console.print(chance)
    if d["tornado"]:
        tor = Table(title=escape(say(N_("Tornado: NPV swing per input (others at most likely)"))))
        heads = (N_("input"), N_("low"), N_("high"), N_("NPV at low"), N_("NPV at high"))
        for name in (*heads, N_("swing")):
            tor.add_column(escape(say(name)), justify="left" if name == "input" else "right")
        for row in d["tornado"]:
            tor.add_row(
                escape(row["input"]),
                _input_value(row["low"], say),
                _input_value(row["high"], say),
                _money(row["npv_at_low"], say),
                _money(row["npv_at_high"], say),
                _money(row["swing"], say),
            )
        console.print(tor)
