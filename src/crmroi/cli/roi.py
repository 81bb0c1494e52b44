"""`crmroi roi`: the business case (TCO, benefits, ROI/NPV/IRR/payback, risk, simulation)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import app, console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_

if TYPE_CHECKING:
    from crmroi.finance.actuals import PlanVsActual
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
    from crmroi.casework.evaluate import evaluate_case, model_for
    from crmroi.errors import ConfigurationError
    from crmroi.finance.case import load_case
    from crmroi.store import open_store

    case = load_case(case_file)
    if actuals and workspace is None:
        raise ConfigurationError("--actuals needs --workspace")
    needs_store = workspace is not None and (actuals or case.needs_workspace)
    if workspace is None and case.needs_workspace:
        raise ConfigurationError(
            f"{case_file.name} reads actual costs, measured benefits or lifetime value: "
            "give --workspace"
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
    _print_result(result, speaker(lang))
    if plan_vs_actual is not None:
        _print_actuals(plan_vs_actual)


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
        users = ", ".join(repr(d.label) for d in case.benefits if d.clv_fields)
        console.print(escape(f"clv inputs of {users}: {r.model.clv.describe()}"))
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
        headline=say(headline.replace("_", " ")),
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
        label = escape(say(way.label))
        table.add_row(f"[bold]{label}[/]" if way.kind == headline else label, *cells)
    console.print(table)
    for way in first:
        formula = f"{escape(say(way.formula))} ({escape(say(way.source))})"
        console.print(f"  {escape(say(way.label))} = {formula}")


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
        name = escape(say(group.upper() if group == "it" else group))
        table.add_row(f"[bold]{name}[/]", _money(a, say), _money(b, say))
        for cat, (x, y) in t.by_category.items():
            if GROUP_OF[cat] == group:
                label = escape(say(cat.replace("_", " ")))
                table.add_row(f"  {label}", _money(x, say), _money(y, say))
    table.add_row("[bold]TCO[/]", _money(t.total_12, say), _money(t.total, say))
    console.print(table)


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
            low, high = f"{row['low']:,.6g}", f"{row['high']:,.6g}"
            tor.add_row(
                escape(row["input"]),
                low if say.english else say.digits(low),
                high if say.english else say.digits(high),
                _money(row["npv_at_low"], say),
                _money(row["npv_at_high"], say),
                _money(row["swing"], say),
            )
        console.print(tor)


def _print_actuals(p: PlanVsActual) -> None:
    table = Table(title=f"Plan versus actual, months 0-{p.months_to_date} (to date)")
    for name in ("line", "plan", "actual", "variance", "variance %"):
        table.add_column(name, justify="left" if name == "line" else "right")
    for row in p.lines:
        table.add_row(
            f"{'+' if row.side == 'benefit' else '-'} {escape(row.name)}",
            _money(row.plan_to_date),
            _money(row.actual_to_date),
            _money(row.variance),
            _pct(row.variance_rel),
        )
    console.print(table)
    if p.main_driver:
        console.print(f"Explains most of the variance: [bold]{escape(p.main_driver)}[/]")
    for x in p.extrapolated:
        message = x.message()
        console.print(f"[yellow]warning ({message.code}):[/] {escape(str(message))}")
    f = p.reforecast
    console.print(
        f"Re-forecast from actuals: NPV {_money(f.npv)}, ROI {_pct(f.roi)}, "
        f"IRR {_pct(f.irr)}, payback {_months(f.payback_months)} months"
    )
    if p.plan is not None:
        console.print(
            f"At the measured changes and the actual costs to date, payback (months): "
            f"{_months(f.payback_months)} (plan: {_months(p.plan.payback_months)})"
        )
    _print_adoption(p)
    if p.people:
        people = Table(title="People ROI (baseline vs after go-live)")
        for name in ("measure", "baseline", "after"):
            people.add_column(name, justify="left" if name == "measure" else "right")
        for key, (before, after) in p.people.items():
            fmt = _ratio if key == "human_capital_roi" else _money
            people.add_row(key.replace("_", " "), fmt(before), fmt(after))
        console.print(people)


def _print_adoption(p: PlanVsActual) -> None:
    a = p.adoption
    if a is None:
        return
    table = Table(title="Adoption: share of users working in the CRM (plan vs measured)")
    for name in ("month", "plan", "measured", "gap"):
        table.add_column(name, justify="right")
    for m, plan, measured in a.months:
        gap = None if measured is None else measured - plan
        table.add_row(str(m), _pct(plan), _pct(measured), _pct(gap))
    console.print(table)
    console.print(_adoption_basis(p.adoption_measure))
    console.print(
        f"With the measured adoption, payback (months): {_months(a.payback_measured)} "
        f"(plan: {_months(a.payback_plan)}); NPV {_money(a.npv_measured)} "
        f"(plan: {_money(a.npv_plan)})"
    )
    if (text := a.warning()) is not None:
        console.print(f"[yellow]warning (adoption_lag):[/] {escape(text)}")
    if p.adoption_by_team and p.adoption_month is not None:
        logins = (p.adoption_measure or {}).get("basis") in ("licensed_users", "reps_employed")
        blank = "(no rep or team)" if logins else "(no team)"
        parts = [
            f"{escape(team or blank)} {active / employed:.0%} ({active}/{employed})"
            for team, (active, employed) in p.adoption_by_team.items()
            if employed
        ]
        console.print(f"Adoption by team in {p.adoption_month:%Y-%m}: " + ", ".join(parts))
    if p.usage is not None:
        _print_usage(p.usage.to_json())


def _adoption_basis(measure: dict[str, Any] | None) -> str:
    """One line naming how adoption was measured (the basis and its definition)."""
    if measure is None or measure.get("basis") == "reps_employed_activities":
        return (
            "Measured (basis: reps employed, no user-activity export): reps of a live team "
            "logging meetings or tasks on at least half of their working days, over reps "
            "employed (crmroi.kpi.adoption)."
        )
    line = f"Measured (basis: {measure['basis'].replace('_', ' ')}): {measure['definition']}."
    if measure.get("unmatched_users"):
        line += f" {measure['unmatched_users']} licensed user(s) match no rep (by id or e-mail)."
    if measure.get("login_users_left_out"):
        line += (
            f" Logins of {measure['login_users_left_out']} user(s) matching no one counted "
            "were left out."
        )
    return line


def _weekly_table(rows: list[dict[str, Any]], title: str, of: str, no_team: str) -> Table:
    """Weekly adoption by team: a column per ISO week, 'all' as a share, each team as
    active / `of` (licensed users or reps employed); '-' where a team has none."""
    teams = sorted({t for w in rows for t in w["by_team"]})
    table = Table(title=title)
    table.add_column("team")
    for w in rows:
        year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
        table.add_column(f"{year}-W{number:02d}", justify="right")
    table.add_row("all", *(_pct(w["share"]) for w in rows))
    for t in teams:
        cells = []
        for w in rows:
            c = w["by_team"].get(t)
            cells.append(f"{c['active']}/{c[of]}" if c and c[of] else "-")
        table.add_row(escape(t or no_team), *cells)
    return table


def _print_licensed_users(u: dict[str, Any], weeks: int) -> None:
    """The last `weeks` weeks of the share of licensed users active, per team."""
    rows = u["weeks"][-weeks:]
    if not rows:
        return
    title = "Adoption by week: licensed users active / licensed users (logins)"
    console.print(_weekly_table(rows, title, "licensed", "(no rep or team)"))
    if u["basis"] == "licensed_users":
        line = (
            f"Basis: licensed users; {u['unmatched_users']} of {u['users']} match no rep "
            "(by id or e-mail): row (no rep or team)."
        )
    else:
        line = "Basis: reps employed (no list of licensed users: crm_users is empty)."
    if u["login_users_left_out"]:
        line += f" Logins of {u['login_users_left_out']} user(s) matching no one were left out."
    console.print(line)


def _print_usage(u: dict[str, Any], weeks: int = 4) -> None:
    """The last `weeks` weeks of adoption by team, next activities and incomplete fields."""
    if u.get("licensed_users") is not None:
        _print_licensed_users(u["licensed_users"], weeks)
    rows = u["weeks"][-weeks:]
    if rows:
        title = "Adoption by week: reps working in the CRM / reps employed"
        table = _weekly_table(rows, title, "employed", "(no team)")
        table.add_row(
            "records per rep-day",
            *("-" if (x := w["records_per_rep_day"]) is None else f"{x:.1f}" for w in rows),
        )
        console.print(table)
        console.print(
            "Records: deals and leads owned, meetings and tasks logged, per employed working "
            "day of live reps; per rep in --format json (actuals.usage.by_rep)."
        )
    n = u["next_activity"]
    if n["share"] is None:
        console.print(f"Open deals with a next activity: unavailable ({escape(n['unavailable'])})")
    else:
        console.print(
            f"Open deals with a next activity on {n['as_of']}: {_pct(n['share'])} "
            f"({n['with_next_activity']}/{n['open_deals']})"
        )
    gaps = [
        f"{t}.{f} {_pct(c['share'])}"
        for t, cols in u["completeness"].items()
        for f, c in cols.items()
        if c["share"] is not None and c["share"] < 1.0
    ]
    console.print(
        "Fields the KPIs need, share filled: " + (", ".join(gaps) if gaps else "all complete")
    )
