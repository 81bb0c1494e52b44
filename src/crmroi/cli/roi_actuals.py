"""`crmroi roi --actuals`: plan versus actual, measured adoption, usage and people ROI.

Worded by the command's `Speaker` (`--lang`, else the locale): English exactly as it
always printed (each sentence's English text is its message id, its figures formatted
as before), other languages from the catalogues with their own digits and calendar.
Names from the case and the workspace (benefits, teams, tables, fields) stay as written;
cost categories are worded like the report's.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import console
from crmroi.cli.language import Speaker
from crmroi.messages import M_, N_, Message, Said

if TYPE_CHECKING:
    from crmroi.finance.actuals import PlanVsActual

__all__ = ["print_actuals"]

ENGLISH = Speaker("en")


def _money(v: float | None, say: Speaker) -> str:
    return "-" if v is None or not math.isfinite(v) else say.num(v)


def _pct(v: float | None, say: Speaker, digits: int = 1) -> str:
    return "-" if v is None or not math.isfinite(v) else say.pct(v, digits)


def _ratio(v: float | None, say: Speaker) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.2f}" if say.english else say.num(v, 2)


def _months(v: float | None, say: Speaker) -> str:
    if v is None or not math.isfinite(v):
        return say(N_("never"))
    return f"{v:.1f}" if say.english else say.num(v, 1)


def _count(n: int, say: Speaker) -> str:
    """A count as the old f-string wrote it (no separators) in English."""
    return str(n) if say.english else say.num(n)


def _line_name(name: str, side: str, say: Speaker) -> str:
    """A line of the table: a benefit's own name, a cost category in the language."""
    if say.english or side == "benefit":
        return name
    from crmroi.reports.labels import CATEGORY_LABELS

    return say(CATEGORY_LABELS[name]) if name in CATEGORY_LABELS else name


def print_actuals(p: PlanVsActual, say: Speaker = ENGLISH) -> None:
    """Plan versus actual to date, the re-forecast, adoption and people ROI."""
    title = M_(
        "actuals_title",
        "Plan versus actual, months 0-%(n)s (to date)",
        n=_count(p.months_to_date, say),
    )
    table = Table(title=escape(say.say(title)))
    for name in (N_("line"), N_("plan"), N_("actual"), N_("variance"), N_("variance %")):
        table.add_column(escape(say(name)), justify="left" if name == "line" else "right")
    for row in p.lines:
        table.add_row(
            f"{'+' if row.side == 'benefit' else '-'} "
            + escape(_line_name(row.name, row.side, say)),
            _money(row.plan_to_date, say),
            _money(row.actual_to_date, say),
            _money(row.variance, say),
            _pct(row.variance_rel, say),
        )
    console.print(table)
    if p.main_driver:
        side = next((x.side for x in p.lines if x.name == p.main_driver), "benefit")
        driver = _line_name(p.main_driver, side, say)
        text = N_("Explains most of the variance: %(driver)s")
        console.print(say.marked(text, {"driver": driver}))
    for x in p.extrapolated:
        message = x.message()
        warned = M_("warning_coded", "warning (%(rule)s):", rule=message.code)
        console.print(f"[yellow]{escape(say.say(warned))}[/] {escape(say.say(message))}")
    f = p.reforecast
    reforecast = M_(
        "actuals_reforecast",
        "Re-forecast from actuals: NPV %(npv)s, ROI %(roi)s, IRR %(irr)s, payback "
        "%(months)s months",
        npv=_money(f.npv, say),
        roi=_pct(f.roi, say),
        irr=_pct(f.irr, say),
        months=_months(f.payback_months, say),
    )
    console.print(escape(say.say(reforecast)))
    if p.plan is not None:
        measured = M_(
            "actuals_payback",
            "At the measured changes and the actual costs to date, payback (months): "
            "%(months)s (plan: %(plan)s)",
            months=_months(f.payback_months, say),
            plan=_months(p.plan.payback_months, say),
        )
        console.print(escape(say.say(measured)))
    _print_adoption(p, say)
    if p.people:
        people = Table(title=escape(say(N_("People ROI (baseline vs after go-live)"))))
        for name in (N_("measure"), N_("baseline"), N_("after")):
            people.add_column(escape(say(name)), justify="left" if name == "measure" else "right")
        for key, (before, after) in p.people.items():
            fmt = _ratio if key == "human_capital_roi" else _money
            people.add_row(escape(_people_label(key, say)), fmt(before, say), fmt(after, say))
        console.print(people)


def _people_label(key: str, say: Speaker) -> str:
    if say.english:
        return key.replace("_", " ")
    from crmroi.reports.labels import PEOPLE_LABELS

    return say(PEOPLE_LABELS[key]) if key in PEOPLE_LABELS else key.replace("_", " ")


def _print_adoption(p: PlanVsActual, say: Speaker) -> None:
    a = p.adoption
    if a is None:
        return
    title = N_("Adoption: share of users working in the CRM (plan vs measured)")
    table = Table(title=escape(say(title)))
    for name in (N_("month"), N_("plan"), N_("measured"), N_("gap")):
        table.add_column(escape(say(name)), justify="right")
    for m, plan, measured in a.months:
        gap = None if measured is None else measured - plan
        table.add_row(say.digits(m), _pct(plan, say), _pct(measured, say), _pct(gap, say))
    console.print(table)
    console.print(escape(adoption_basis(p.adoption_measure, say)))
    with_measured = M_(
        "actuals_adoption_payback",
        "With the measured adoption, payback (months): %(months)s (plan: %(plan)s); "
        "NPV %(npv)s (plan: %(npv_plan)s)",
        months=_months(a.payback_measured, say),
        plan=_months(a.payback_plan, say),
        npv=_money(a.npv_measured, say),
        npv_plan=_money(a.npv_plan, say),
    )
    console.print(escape(say.say(with_measured)))
    if (warning := a.warning_message()) is not None:
        warned = M_("warning_coded", "warning (%(rule)s):", rule="adoption_lag")
        console.print(f"[yellow]{escape(say.say(warned))}[/] {escape(say.say(warning))}")
    if p.adoption_by_team and p.adoption_month is not None:
        logins = (p.adoption_measure or {}).get("basis") in ("licensed_users", "reps_employed")
        blank = say(N_("(no rep or team)") if logins else N_("(no team)"))
        parts = [
            f"{escape(team or blank)} {_share(active / employed, say)} "
            f"({_count(active, say)}/{_count(employed, say)})"
            for team, (active, employed) in p.adoption_by_team.items()
            if employed
        ]
        head = M_(
            "actuals_adoption_by_team",
            "Adoption by team in %(month)s: ",
            month=say.month(p.adoption_month),
        )
        console.print(escape(say.say(head)) + say.items(parts))
    if p.usage is not None:
        print_usage(p.usage.to_json(), say=say)


def _share(value: float, say: Speaker) -> str:
    """A share as a whole percentage ('83%')."""
    return f"{value:.0%}" if say.english else say.pct(value, 0)


BASIS_WORDS = {"licensed_users": N_("licensed users"), "reps_employed": N_("reps employed")}
"""The login bases of adoption, as the basis line names them."""
BASIS_ACTIVITIES = N_(
    "Measured (basis: reps employed, no user-activity export): reps of a live team "
    "logging meetings or tasks on at least half of their working days, over reps "
    "employed (crmroi.kpi.adoption)."
)


def _definition(measure: dict[str, Any], say: Speaker) -> str:
    """The login basis's definition in the language: worded from its message when the
    kpi module's English text is the message's (else as the module wrote it)."""
    english = str(measure["definition"])
    if say.english:
        return english
    share = next((s for s in range(1, 101) if f"at least {s}%" in english), None)
    if share is None:
        return english
    candidates = [
        M_(
            "adoption_definition_licensed",
            "licensed CRM users (crm_users) who logged in (user_logins) on at least "
            "%(share)s of the working days of the month they held the licence, over those "
            "users; beside the plan, over licensed users and reps employed without a licence "
            "(the users a case's adoption ramp counts, live or not)",
            share=str(share) + "%",
        ),
        M_(
            "adoption_definition_reps",
            "reps employed (no list of licensed users: crm_users is empty) who logged in "
            "(user_logins) on at least %(share)s of the working days of the month they held "
            "the licence, over those users",
            share=str(share) + "%",
        ),
    ]
    for message in candidates:
        if str(message) == english:
            return say.say(Message(message.code, message.text, {"share": say.pct(share / 100, 0)}))
    return english


def adoption_basis(measure: dict[str, Any] | None, say: Speaker = ENGLISH) -> str:
    """One line naming how adoption was measured (the basis and its definition)."""
    if measure is None or measure.get("basis") == "reps_employed_activities":
        return say(BASIS_ACTIVITIES)
    basis = str(measure["basis"])
    basis = say(BASIS_WORDS[basis]) if basis in BASIS_WORDS else basis.replace("_", " ")
    line = say.say(
        M_(
            "actuals_basis",
            "Measured (basis: %(basis)s): %(definition)s.",
            basis=basis,
            definition=_definition(measure, say),
        )
    )
    if measure.get("unmatched_users"):
        unmatched = M_(
            "actuals_unmatched_users",
            "%(n)s licensed user(s) match no rep (by id or e-mail).",
            n=_count(int(measure["unmatched_users"]), say),
        )
        line += " " + say.say(unmatched)
    if measure.get("login_users_left_out"):
        left_out = M_(
            "actuals_logins_left_out",
            "Logins of %(n)s user(s) matching no one counted were left out.",
            n=_count(int(measure["login_users_left_out"]), say),
        )
        line += " " + say.say(left_out)
    return line


def _weekly_table(
    rows: list[dict[str, Any]], title: str, of: str, no_team: str, say: Speaker
) -> Table:
    """Weekly adoption by team: a column per ISO week, 'all' as a share, each team as
    active / `of` (licensed users or reps employed); '-' where a team has none."""
    teams = sorted({t for w in rows for t in w["by_team"]})
    table = Table(title=escape(title))
    table.add_column(escape(say(N_("team"))))
    for w in rows:
        year, number, _ = dt.date.fromisoformat(w["week"]).isocalendar()
        table.add_column(say.digits(f"{year}-W{number:02d}"), justify="right")
    table.add_row(escape(say(N_("all"))), *(_pct(w["share"], say) for w in rows))
    for t in teams:
        cells = []
        for w in rows:
            c = w["by_team"].get(t)
            cells.append(say.digits(f"{c['active']}/{c[of]}") if c and c[of] else "-")
        table.add_row(escape(t or no_team), *cells)
    return table


def _print_licensed_users(u: dict[str, Any], weeks: int, say: Speaker) -> None:
    """The last `weeks` weeks of the share of licensed users active, per team."""
    rows = u["weeks"][-weeks:]
    if not rows:
        return
    title = say(N_("Adoption by week: licensed users active / licensed users (logins)"))
    console.print(_weekly_table(rows, title, "licensed", say(N_("(no rep or team)")), say))
    if u["basis"] == "licensed_users":
        basis = M_(
            "actuals_basis_licensed",
            "Basis: licensed users; %(n)s of %(users)s match no rep (by id or e-mail): "
            "row (no rep or team).",
            n=_count(int(u["unmatched_users"]), say),
            users=_count(int(u["users"]), say),
        )
        line = say.say(basis)
    else:
        line = say(N_("Basis: reps employed (no list of licensed users: crm_users is empty)."))
    if u["login_users_left_out"]:
        left_out = M_(
            "actuals_weekly_logins_left_out",
            "Logins of %(n)s user(s) matching no one were left out.",
            n=_count(int(u["login_users_left_out"]), say),
        )
        line += " " + say.say(left_out)
    console.print(escape(line))


def print_usage(u: dict[str, Any], weeks: int = 4, say: Speaker = ENGLISH) -> None:
    """The last `weeks` weeks of adoption by team, next activities and incomplete fields."""
    if u.get("licensed_users") is not None:
        _print_licensed_users(u["licensed_users"], weeks, say)
    rows = u["weeks"][-weeks:]
    if rows:
        title = say(N_("Adoption by week: reps working in the CRM / reps employed"))
        table = _weekly_table(rows, title, "employed", say(N_("(no team)")), say)
        table.add_row(
            escape(say(N_("records per rep-day"))),
            *("-" if (x := w["records_per_rep_day"]) is None else _records(x, say) for w in rows),
        )
        console.print(table)
        records = N_(
            "Records: deals and leads owned, meetings and tasks logged, per employed working "
            "day of live reps; per rep in --format json (actuals.usage.by_rep)."
        )
        console.print(escape(say(records)))
    console.print(escape(_next_activity(u["next_activity"], say)))
    gaps = [
        f"{t}.{f} {_pct(c['share'], say)}"
        for t, cols in u["completeness"].items()
        for f, c in cols.items()
        if c["share"] is not None and c["share"] < 1.0
    ]
    filled = say(N_("Fields the KPIs need, share filled: "))
    console.print(escape(filled + (say.items(gaps) if gaps else say(N_("all complete")))))


def _records(x: float, say: Speaker) -> str:
    return f"{x:.1f}" if say.english else say.num(x, 1)


def _next_activity(n: dict[str, Any], say: Speaker) -> str:
    """The share of open deals with a next activity, or why it is unavailable."""
    if n["share"] is None:
        reason = n["unavailable"]
        unavailable = M_(
            "actuals_next_activity_unavailable",
            "Open deals with a next activity: unavailable (%(reason)s)",
            reason=reason.message if isinstance(reason, Said) else str(reason),
        )
        return say.say(unavailable)
    day = dt.date.fromisoformat(str(n["as_of"]))
    share = M_(
        "actuals_next_activity",
        "Open deals with a next activity on %(day)s: %(share)s (%(n)s/%(open)s)",
        day=say.day(day),
        share=_pct(n["share"], say),
        n=_count(int(n["with_next_activity"]), say),
        open=_count(int(n["open_deals"]), say),
    )
    return say.say(share)
