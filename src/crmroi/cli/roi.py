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
    _print_result(result)
    if plan_vs_actual is not None:
        _print_actuals(plan_vs_actual)


def _money(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.1%}"


def _ratio(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.2f}"


def _months(v: float | None) -> str:
    return "never" if v is None or not math.isfinite(v) else f"{v:.1f}"


def _print_result(r: CaseResult) -> None:
    case = r.case
    console.print(
        f"[bold]{escape(case.name)}[/] ({case.currency}; horizon {case.horizon_months} months, "
        f"discount rate {case.discount_rate:.0%} a year)"
    )
    for note in r.model.notes:
        console.print(escape(note))
    if r.model.clv is not None:
        users = ", ".join(repr(d.label) for d in case.benefits if d.clv_fields)
        console.print(escape(f"clv inputs of {users}: {r.model.clv.describe()}"))
    years = math.ceil(case.horizon_months / 12)
    by_cat = Table(title="Cash flows by category (before risk adjustment)")
    by_cat.add_column("line")
    by_cat.add_column("initial", justify="right")
    for y in range(years):
        by_cat.add_column(f"year {y + 1}", justify="right")
    by_cat.add_column("total", justify="right")
    for side, lines in (("+", r.table.benefits), ("-", r.table.costs)):
        for name, flows in lines.items():
            cells = [_money(flows[0])]
            cells += [_money(float(flows[1 + 12 * y : 13 + 12 * y].sum())) for y in range(years)]
            cells.append(_money(float(flows.sum())))
            by_cat.add_row(f"{side} {escape(name)}", *cells)
    console.print(by_cat)

    monthly = Table(title="Monthly cash flows")
    for name in ("month", "benefits", "costs", "net", "net (risk-adj.)", "cumulative"):
        monthly.add_column(name, justify="right")
    net, net_r = r.table.net(), r.table_risk.net()
    benefits, costs = r.table.total_benefits(), r.table.total_costs()
    cum = net.cumsum()
    for m in range(r.table.n_periods):
        monthly.add_row(
            "initial" if m == 0 else str(m),
            _money(benefits[m]),
            _money(costs[m]),
            _money(net[m]),
            _money(net_r[m]),
            _money(cum[m]),
        )
    console.print(monthly)

    figures = Table(title="Figures (ROI = NPV / PV of costs; simple ROI undiscounted)")
    figures.add_column("")
    heads = [(r.short, r.short_risk), (r.summary, r.summary_risk)]
    for s, _ in heads:
        figures.add_column(f"{s.horizon_months} months", justify="right")
        figures.add_column(f"{s.horizon_months} m risk-adj.", justify="right")
    rows: list[tuple[str, Any]] = [
        ("PV of benefits", lambda s: _money(s.pv_benefits)),
        ("PV of costs", lambda s: _money(s.pv_costs)),
        ("NPV", lambda s: _money(s.npv)),
        ("ROI", lambda s: _pct(s.roi)),
        ("simple ROI", lambda s: _pct(s.simple_roi)),
        ("IRR (annual)", lambda s: _pct(s.irr)),
        ("payback (months)", lambda s: _months(s.payback_months)),
        ("discounted payback (months)", lambda s: _months(s.discounted_payback_months)),
    ]
    for label, fmt in rows:
        figures.add_row(label, *(fmt(s) for pair in heads for s in pair))
    console.print(figures)

    _print_roi_ways(r)
    _print_tco(r)
    for c in r.checks:
        if c.passed:
            console.print(f"[green]check ({c.rule}) passed:[/] {escape(c.message)}")
    for w in r.warnings:
        console.print(f"[yellow]warning ({w.code}):[/] {escape(w.message)}")
    for title, items in (("Intangible benefits", case.intangible_benefits), ("Risks", case.risks)):
        if items:
            console.print(f"[bold]{title}[/]")
            for item in items:
                console.print(f"  - {escape(item)}")
    if r.simulation is not None:
        _print_simulation(r)


def _print_roi_ways(r: CaseResult) -> None:
    headline = r.case.headline_roi
    table = Table(title=f"ROI five ways (the case's headline: {headline.replace('_', ' ')})")
    table.add_column("")
    horizons = sorted(r.roi_ways)
    for h in horizons:
        table.add_column(f"{h} months", justify="right")
        table.add_column(f"{h} m risk-adj.", justify="right")
    first = r.roi_ways[horizons[0]][False]
    for i, way in enumerate(first):
        fmt = _ratio if way.kind == "benefit_cost_ratio" else _pct
        cells = [fmt(r.roi_ways[h][risk][i].value) for h in horizons for risk in (False, True)]
        label = f"[bold]{way.label}[/]" if way.kind == headline else way.label
        table.add_row(label, *cells)
    console.print(table)
    for way in first:
        console.print(f"  {way.label} = {escape(way.formula)} ({escape(way.source)})")


def _print_tco(r: CaseResult) -> None:
    if r.tco is None:
        return
    t = r.tco
    table = Table(title="Total cost of ownership (undiscounted)")
    table.add_column("group / category")
    table.add_column("12 months", justify="right")
    table.add_column(f"{t.horizon_months} months", justify="right")
    from crmroi.finance.tco import GROUP_OF

    for group, (a, b) in t.by_group.items():
        table.add_row(f"[bold]{group.upper() if group == 'it' else group}[/]", _money(a), _money(b))
        for cat, (x, y) in t.by_category.items():
            if GROUP_OF[cat] == group:
                table.add_row(f"  {cat.replace('_', ' ')}", _money(x), _money(y))
    table.add_row("[bold]TCO[/]", _money(t.total_12), _money(t.total))
    console.print(table)


def _print_simulation(r: CaseResult) -> None:
    assert r.simulation is not None
    d = r.simulation.as_dict()
    sim = Table(title=f"Simulation: {d['runs']:,} runs, seed {d['seed']} (before risk adj.)")
    for name in ("", "P10", "P50", "P90"):
        sim.add_column(name, justify="right")
    sim.add_row("ROI", *(_pct(d[f"roi_p{p}"]) for p in (10, 50, 90)))
    sim.add_row("NPV", *(_money(d[f"npv_p{p}"]) for p in (10, 50, 90)))
    sim.add_row("payback (months)", *(_months(d[f"payback_months_p{p}"]) for p in (10, 50, 90)))
    console.print(sim)
    by_horizon = d["p_roi_positive_by_horizon"]
    chance = Table(title="Probability that ROI > 0 (same runs)")
    chance.add_column("")
    for months in by_horizon:
        chance.add_column(f"{months} months", justify="right")
    for label, key in (
        ("before risk adj.", "p_roi_positive"),
        ("risk adjusted", "p_roi_positive_risk_adjusted"),
    ):
        chance.add_row(label, *(f"{p[key]:.1%}" for p in by_horizon.values()))
    console.print(chance)
    if d["tornado"]:
        tor = Table(title="Tornado: NPV swing per input (others at most likely)")
        for name in ("input", "low", "high", "NPV at low", "NPV at high", "swing"):
            tor.add_column(name, justify="left" if name == "input" else "right")
        for row in d["tornado"]:
            tor.add_row(
                escape(row["input"]),
                f"{row['low']:,.6g}",
                f"{row['high']:,.6g}",
                _money(row["npv_at_low"]),
                _money(row["npv_at_high"]),
                _money(row["swing"]),
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


def _print_licensed_users(u: dict[str, Any], weeks: int) -> None:
    """The last `weeks` weeks of the share of licensed users active, per team."""
    rows = u["weeks"][-weeks:]
    if not rows:
        return
    teams = sorted({t for w in rows for t in w["by_team"]})
    table = Table(title="Adoption by week: licensed users active / licensed users (logins)")
    table.add_column("team")
    for w in rows:
        year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
        table.add_column(f"{year}-W{number:02d}", justify="right")
    table.add_row("all", *(_pct(w["share"]) for w in rows))
    for t in teams:
        cells = []
        for w in rows:
            c = w["by_team"].get(t)
            cells.append(f"{c['active']}/{c['licensed']}" if c and c["licensed"] else "-")
        table.add_row(escape(t or "(no rep or team)"), *cells)
    console.print(table)
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
        teams = sorted({t for w in rows for t in w["by_team"]})
        table = Table(title="Adoption by week: reps working in the CRM / reps employed")
        table.add_column("team")
        for w in rows:
            year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
            table.add_column(f"{year}-W{number:02d}", justify="right")
        table.add_row("all", *(_pct(w["share"]) for w in rows))
        for t in teams:
            cells = []
            for w in rows:
                c = w["by_team"].get(t)
                cells.append(f"{c['active']}/{c['employed']}" if c and c["employed"] else "-")
            table.add_row(escape(t or "(no team)"), *cells)
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
