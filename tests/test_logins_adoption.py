"""The share of licensed users active (crmroi.kpi.logins): by hand on small frames,
against the demo's injected login curve (truth.json) and an independent weekly count,
preferred over the activity-based measure in roi --actuals, with the basis named."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmroi.cli import app
from crmroi.kpi.adoption import ACTIVITY_BASIS, measure_adoption
from crmroi.kpi.logins import (
    LICENSED_USERS,
    REPS_EMPLOYED,
    login_adoption,
    measure_login_adoption,
)
from crmroi.store import Store

D = dt.date
JUNE = D(2024, 6, 1)  # June 2024: 20 working days (Mon 3 to Fri 28)


def _reps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "email": ["ana@x.com", "Bo@X.com", None],
            "team": ["A", "B", "A"],
            "hired_on": [D(2020, 1, 1), D(2020, 1, 1), D(2024, 6, 17)],
            "left_on": [None, None, None],
        }
    )


def _logins(rows: list[tuple[str | None, str | None, dt.date]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "user_email", "day"])


def _workdays(first: dt.date, n: int) -> list[dt.date]:
    days = pd.bdate_range(first, periods=n)
    return [d.date() for d in days]


def test_licensed_users_by_hand() -> None:
    """June 2024 (the export covers 3 to 28 June, its first and last logins): U1 (= rep
    R1 by id) logs in on 11 of 20 working days: active; U2 (rep
    R2 by e-mail, other case) on 9: not; U3 (no rep) licensed from the 17th (10 working
    days), 5 login days: active; U4 not licensed now, no end date, last login 2024-06-05
    (3 working days, 3 logins): active through the 5th; U5 never logged in and not licensed:
    left out; logins of 'ghost' match no one."""
    users = pd.DataFrame(
        {
            "user_id": ["R1", "U2", "U3", "U4", "U5"],
            "email": [None, "bo@x.com", "cy@x.com", "di@x.com", "ed@x.com"],
            "licensed": [True, True, None, False, False],
            "licensed_from": [D(2024, 1, 1), None, D(2024, 6, 17), None, None],
            "licensed_until": [None, None, None, None, None],
        }
    )
    rows = [("R1", None, d) for d in _workdays(D(2024, 6, 3), 10)]
    rows += [("U2", None, d) for d in _workdays(D(2024, 6, 3), 9)]
    rows += [("U3", None, d) for d in _workdays(D(2024, 6, 17), 5)]
    rows += [("U4", None, d) for d in _workdays(D(2024, 6, 3), 3)]
    rows += [("ghost", None, D(2024, 6, 4)), ("R1", None, D(2024, 6, 28))]
    a = login_adoption(
        _logins(rows), _reps(), users, start=JUNE, until=D(2024, 6, 30), period="month"
    )
    assert a.basis == LICENSED_USERS
    (june,) = a.periods
    assert (june.licensed, june.active) == (4, 3)
    assert june.share == pytest.approx(0.75)
    assert june.by_team == {"": (2, 2), "A": (1, 1), "B": (0, 1)}
    assert (a.users, a.unmatched_users, a.login_users_left_out) == (4, 2, 1)
    # R3 (team A, hired on the 17th) has no user: a rep employed without a licence
    assert (june.reps_without_licence, june.without_by_team) == (1, {"A": 1})
    assert june.intended_by_team() == {"": (2, 2), "A": (1, 2), "B": (0, 1)}
    assert june.to_json("month")["by_team"]["A"] == {
        "active": 1,
        "licensed": 1,
        "reps_without_licence": 1,
    }
    # by week: the export covers from Mon 3 June, so weeks start there
    weeks = login_adoption(_logins(rows), _reps(), users, start=JUNE, period="week")
    got = [(p.start, p.licensed, p.active) for p in weeks.periods]
    assert got[:3] == [
        (D(2024, 6, 3), 3, 3),  # R1 5/5, U2 5/5, U4 3/3 (through its last login)
        (D(2024, 6, 10), 2, 2),  # R1 5/5, U2 4/5
        (D(2024, 6, 17), 3, 1),  # R1 0/5, U2 0/5, U3 5/5
    ]


def test_reps_employed_basis_without_a_user_list() -> None:
    """No crm_users: reps employed are the population; logins join by id or e-mail."""
    rows = [("R1", None, d) for d in _workdays(D(2024, 6, 3), 12)]
    rows += [("whatever", "BO@x.com", d) for d in _workdays(D(2024, 6, 3), 20)]
    rows += [("R3", None, d) for d in _workdays(D(2024, 6, 17), 4)]  # 4 of 10: not active
    a = login_adoption(_logins(rows), _reps(), None, until=D(2024, 6, 30))
    assert a.basis == REPS_EMPLOYED
    (june,) = a.periods
    assert (june.licensed, june.active) == (3, 2)
    assert june.by_team == {"A": (1, 2), "B": (1, 1)}
    assert a.unmatched_users == 0 and a.login_users_left_out == 0


def test_an_empty_export_gives_no_periods() -> None:
    a = login_adoption(_logins([]), _reps(), None)
    assert a.periods == [] and a.to_json()["months"] == []


# -- the demo ------------------------------------------------------------------------
def test_demo_login_curve_recovered(small_demo_folder: Path) -> None:
    """Licensed and adopted users per month equal the generator's (truth.json), month
    by month, and `measure_adoption` prefers the logins."""
    truth = json.loads((small_demo_folder / "truth.json").read_text(encoding="utf-8"))
    expected = {D.fromisoformat(x["month"]): x for x in truth["logins"]["company_by_month"]}
    with Store.open(small_demo_folder) as store:
        measured = measure_login_adoption(store)
        preferred = measure_adoption(store)
        activities = measure_adoption(store, basis="activities")
    assert measured is not None and measured.basis == LICENSED_USERS
    assert measured.unmatched_users == truth["logins"]["users_not_reps"]
    assert measured.login_users_left_out == 0
    assert len(measured.periods) >= 20
    for p in measured.periods:
        x = expected[p.start]
        got = (p.licensed, p.active, p.reps_without_licence)
        assert got == (x["licensed"], x["adopted"], x["reps_without_licence"]), p.start
    assert any(p.reps_without_licence for p in measured.periods)  # a phased roll-out
    assert preferred.basis == LICENSED_USERS and activities.basis == ACTIVITY_BASIS
    # beside the plan: over licensed users and the reps not yet licensed
    assert preferred.share_by_month() == {
        p.start: p.active / p.intended for p in measured.periods if p.intended
    }
    assert preferred.share_by_month() != activities.share_by_month()


def _independent_weekly(store: Store) -> dict[dt.date, tuple[int, int]]:
    """Licensed and active users per ISO week, counted with pandas from the raw tables."""
    users = store.to_arrow("crm_users").to_pandas()
    logins = store.to_arrow("user_logins").to_pandas()
    ok = logins[logins["succeeded"].fillna(True).astype(bool)].copy()
    ok["day"] = ok["occurred_at"].dt.normalize()
    first, last = ok["day"].min(), ok["day"].max()
    days_by_user = ok.groupby("user_id")["day"].apply(set).to_dict()
    out: dict[dt.date, tuple[int, int]] = {}
    week = first - pd.Timedelta(days=first.weekday())
    while week <= last:
        lo_w, hi_w = max(week, first), min(week + pd.Timedelta(days=7), last + pd.Timedelta(days=1))
        licensed = active = 0
        for u in users.itertuples():
            lo = max(lo_w, pd.Timestamp(u.licensed_from))
            hi = (
                hi_w
                if pd.isna(u.licensed_until)
                else min(hi_w, pd.Timestamp(u.licensed_until) + pd.Timedelta(days=1))
            )
            work = int(np.busday_count(lo.date(), hi.date())) if lo < hi else 0
            if not work:
                continue
            licensed += 1
            n = sum(1 for d in days_by_user.get(u.user_id, ()) if lo <= d < hi)
            active += int(n > 0 and 2 * n >= work)
        out[week.date()] = (licensed, active)
        week += pd.Timedelta(days=7)
    return out


def test_demo_weekly_share_equals_an_independent_count(small_demo_folder: Path) -> None:
    with Store.open(small_demo_folder) as store:
        weekly = measure_login_adoption(store, period="week")
        independent = _independent_weekly(store)
    assert weekly is not None
    got = {p.start: (p.licensed, p.active) for p in weekly.periods}
    assert len(got) > 90
    assert got == {w: v for w, v in independent.items() if w in got}
    assert set(got) <= set(independent)


def test_roi_actuals_names_the_basis(small_demo_folder: Path, tmp_path: Path) -> None:
    """roi --actuals prints and returns the basis; without logins it falls back."""
    runner = CliRunner()
    case = small_demo_folder / "case.yaml"
    ws = str(small_demo_folder)
    out = runner.invoke(app, ["roi", str(case), "--workspace", ws, "--actuals", "--format", "json"])
    assert out.exit_code == 0, out.output
    actuals = json.loads(out.stdout)["actuals"]
    assert actuals["adoption_measure"]["basis"] == LICENSED_USERS
    assert actuals["adoption_measure"]["unmatched_users"] == 2
    weeks = actuals["usage"]["licensed_users"]["weeks"]
    assert weeks and weeks[-1]["licensed"] >= weeks[-1]["active"] > 0
    table = runner.invoke(app, ["roi", str(case), "--workspace", ws, "--actuals"])
    assert "Measured (basis: licensed users)" in table.stdout
    assert "licensed users active / licensed users" in table.stdout
    # the same workspace without logins: the activity-based measure, named
    copy = tmp_path / "ws"
    shutil.copytree(small_demo_folder, copy)
    with Store.open(copy) as store, store.transaction() as tx:
        tx.execute('DELETE FROM "user_logins"')
    out = runner.invoke(
        app, ["roi", str(case), "--workspace", str(copy), "--actuals", "--format", "json"]
    )
    actuals = json.loads(out.stdout)["actuals"]
    assert actuals["adoption_measure"]["basis"] == ACTIVITY_BASIS
    assert actuals["usage"]["licensed_users"] is None


def test_a_boolean_licence_column_without_gaps() -> None:
    """`licensed` read as numpy booleans (no empty cell): a user not licensed now who
    never logged in is left out; one licensed until a day counts to that day."""
    users = pd.DataFrame(
        {
            "user_id": ["R1", "R2", "U9"],
            "email": [None, None, None],
            "licensed": np.array([True, False, False]),
            "licensed_from": [None, None, None],
            "licensed_until": [None, D(2024, 6, 14), None],
        }
    )
    rows = [("R1", None, d) for d in _workdays(D(2024, 6, 3), 20)]
    rows += [("R2", None, d) for d in _workdays(D(2024, 6, 3), 5)]
    a = login_adoption(_logins(rows), _reps(), users)
    (june,) = a.periods
    assert (june.licensed, june.active) == (2, 2)  # R2: 5 of 10 working days is half: active
    assert june.by_team == {"A": (1, 1), "B": (1, 1)}
    assert a.users == 2


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Measured from the user-activity export"), ("ru", "выгрузке активности")],
)
def test_the_report_names_the_login_basis(small_demo_folder: Path, lang: str, words: str) -> None:
    """The report's adoption paragraph states the login definition (not the activity one)
    and how many licensed users match no rep."""
    from crmroi.casework.actuals import plan_vs_actual
    from crmroi.casework.evaluate import evaluate_case
    from crmroi.finance.case import load_case
    from crmroi.reports.build import build_report
    from crmroi.reports.html import render_html

    case = load_case(small_demo_folder / "case.yaml")
    with Store.open(small_demo_folder) as store:
        pva = plan_vs_actual(case, store, bootstrap=0)
    model = build_report(evaluate_case(case), actuals=pva, lang=lang, today=D(2025, 1, 1))
    section = model.plan_actual
    assert section is not None
    assert (section.adoption_basis, section.adoption_unmatched) == (LICENSED_USERS, 2)
    html = render_html(model)
    assert 'id="adoption-basis"' in html and words in html
    assert "over all reps employed. With the measured adoption" not in html
    # the weekly share of licensed users, beside the activity-based weeks
    usage = section.usage
    assert usage is not None and usage.licensed and usage.licensed_basis == LICENSED_USERS
    weeks = pva.usage.to_json()["licensed_users"]["weeks"][-len(usage.licensed) :]
    assert [(w.active, w.employed) for w in usage.licensed] == [
        (w["active"], w["licensed"]) for w in weeks
    ]
    last = usage.licensed[-1]
    assert sum(a for a, _ in last.by_team.values()) == last.active
    assert 'id="licensed-weeks"' in html
    lead = "Licensed users active by week" if lang == "en" else "Активные лицензированные"
    assert lead in html


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["R1", "R2", "R3", "U9", "x"]), st.integers(0, 59)),
        max_size=80,
    ),
    st.booleans(),
    st.sampled_from(["month", "week"]),
)
def test_properties(events: list[tuple[str, int]], with_users: bool, period: str) -> None:
    """Any logins: active <= licensed per period and per team, team counts add up to the
    totals, and repeating every login (several logins a day) changes nothing."""
    day0 = D(2024, 5, 1)
    rows = [(u, None, day0 + dt.timedelta(days=k)) for u, k in events]
    users = (
        pd.DataFrame(
            {
                "user_id": ["R1", "R2", "U9"],
                "email": [None, None, None],
                "licensed": [True, None, False],
                "licensed_from": [None, D(2024, 5, 20), None],
                "licensed_until": [None, None, D(2024, 6, 10)],
            }
        )
        if with_users
        else None
    )
    a = login_adoption(_logins(rows), _reps(), users, period=period)  # type: ignore[arg-type]
    b = login_adoption(_logins(rows + rows), _reps(), users, period=period)  # type: ignore[arg-type]
    assert a == b
    for p in a.periods:
        assert 0 <= p.active <= p.licensed
        assert sum(n for _, n in p.by_team.values()) == p.licensed
        assert sum(x for x, _ in p.by_team.values()) == p.active
        assert all(0 <= x <= n for x, n in p.by_team.values())
        assert p.share is None or 0.0 <= p.share <= 1.0


def test_demo_logins_through_the_salesforce_preset(small_demo_folder: Path, tmp_path: Path) -> None:
    """The demo's logins written as a Salesforce LoginHistory export (API names, +0000
    times, Status "Success" or "Invalid Password") and imported with the preset give the
    same measure as the generated table."""
    from crmroi.ingest.pipeline import import_files

    copy = tmp_path / "ws"
    shutil.copytree(small_demo_folder, copy)
    with Store.open(copy) as store:
        before = measure_login_adoption(store, period="week")
        rows = store.to_arrow("user_logins").to_pandas()
        with store.transaction() as tx:
            tx.execute('DELETE FROM "user_logins"')
    export = pd.DataFrame(
        {
            "Id": rows["login_id"],
            "UserId": rows["user_id"],
            "LoginTime": rows["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "LoginType": "Application",
            "Status": np.where(rows["succeeded"], "Success", "Invalid Password"),
            "Application": rows["application"],
        }
    )
    path = tmp_path / "LoginHistory.csv"
    export.to_csv(path, index=False)
    with Store.open(copy) as store:
        report = import_files(store, [path], source="salesforce")
        assert (report.rows_loaded, report.rows_rejected) == (len(rows), 0)
        after = measure_login_adoption(store, period="week")
    assert before is not None and after is not None
    assert after.periods == before.periods
    assert any(not ok for ok in rows["succeeded"])  # failed attempts were in the export
