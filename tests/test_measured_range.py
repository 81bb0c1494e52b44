"""The NPV's range on the measurement alone (`crmroi.finance.measured_range`).

References: the deterministic engine at the measured interval's ends (the NPV is linear
in one driver's change, so its 2.5% and 97.5% quantiles are the NPVs at the interval's
ends when the change is drawn with 95% of its draws inside the interval), and the
engine's own figures at the most likely values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.finance.case import parse_case
from crmroi.finance.evaluate import evaluate_model
from crmroi.finance.measured_range import measured_range
from crmroi.finance.model import MeasuredChange, build_model


def win_rate(change: Any) -> dict[str, Any]:
    return {
        "kind": "win_rate",
        "name": "more deals won",
        "opportunities_per_month": 300,
        "win_rate": 0.25,
        "avg_deal_size": 20000,
        "gross_margin": 0.4,
        "change": change,
    }


def deal_size(change: Any) -> dict[str, Any]:
    return {
        "kind": "deal_size",
        "name": "bigger deals",
        "won_deals_per_month": 80,
        "avg_deal_size": 20000,
        "gross_margin": 0.4,
        "change": change,
    }


def doc(*benefits: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "measured",
        "horizon_months": 36,
        "discount_rate": 0.1,
        "go_live_month": 3,
        "risk": {"benefits": 0.15, "costs": 0.1},
        "benefits": list(benefits),
        "costs": [
            {"category": "implementation", "kind": "one_time", "amount": 200000, "start_month": 1},
            {"category": "licence", "amount": 3000, "start_month": 1},
        ],
    }


def npv_at(change: float, months: int | None = None, risk: bool = False) -> float:
    """The engine's NPV with the win-rate change fixed at `change`."""
    result = evaluate_model(build_model(parse_case(doc(win_rate(change)))))
    if months == 12:
        return result.short.npv
    return result.summary_risk.npv if risk else result.summary.npv


def test_one_measured_change_gives_the_npvs_at_its_interval_ends() -> None:
    measured = {"win_rate": MeasuredChange(0.03, 0.01, 0.06)}  # lopsided, as measured often are
    model = build_model(parse_case(doc(win_rate("measured"))), measured=measured)
    got = measured_range(model, runs=200_000)
    assert got is not None and got.inputs == ("more deals won.change",)
    for (low, high), months, risk in (
        (got.npv, None, False),
        (got.npv_risk_adjusted, None, True),
        (got.npv_short, 12, False),
    ):
        ref_low, ref_high = npv_at(0.01, months, risk), npv_at(0.06, months, risk)
        width = ref_high - ref_low
        assert low == pytest.approx(ref_low, abs=0.01 * width)
        assert high == pytest.approx(ref_high, abs=0.01 * width)
        assert low < npv_at(0.03, months, risk) < high


def test_the_default_runs_are_close_enough() -> None:
    measured = {"win_rate": MeasuredChange(0.03, 0.01, 0.06)}
    model = build_model(parse_case(doc(win_rate("measured"))), measured=measured)
    got = measured_range(model)  # 4,000 runs
    assert got is not None and got.runs == 4000
    width = npv_at(0.06) - npv_at(0.01)
    assert got.npv[0] == pytest.approx(npv_at(0.01), abs=0.03 * width)
    assert got.npv[1] == pytest.approx(npv_at(0.06), abs=0.03 * width)
    assert measured_range(model) == got  # the same seed, the same range


def test_only_measured_changes_are_drawn() -> None:
    # the deal-size change is the case's own range: the simulation's, not the measurement's
    measured = {"win_rate": MeasuredChange(0.03, 0.01, 0.06)}
    ranged = deal_size({"low": 0.0, "likely": 0.02, "high": 0.2})
    both = build_model(parse_case(doc(win_rate("measured"), ranged)), measured=measured)
    fixed = build_model(parse_case(doc(win_rate("measured"), deal_size(0.02))), measured=measured)
    got, ref = measured_range(both), measured_range(fixed)
    assert got is not None and ref is not None
    assert got.inputs == ("more deals won.change",)
    assert got.npv == pytest.approx(ref.npv, rel=1e-12)


def test_no_range_without_a_measured_interval() -> None:
    case = parse_case(
        doc(win_rate("measured"), deal_size({"low": 0.0, "likely": 0.02, "high": 0.05}))
    )
    point = build_model(case, measured={"win_rate": MeasuredChange(0.03)})  # no interval
    assert measured_range(point) is None
    result = evaluate_model(point)
    assert result.measured_range is None and "measured_range" not in result.to_json()


def test_the_result_and_its_json_carry_the_range() -> None:
    measured = {
        "win_rate": MeasuredChange(0.03, 0.01, 0.06),
        "avg_deal_size": MeasuredChange(0.05, -0.01, 0.1),
    }
    model = build_model(
        parse_case(doc(win_rate("measured"), deal_size("measured"))), measured=measured
    )
    result = evaluate_model(model)
    assert result.measured_range is not None
    out = result.to_json()["measured_range"]
    assert out["inputs"] == ["bigger deals.change", "more deals won.change"]
    assert out["level"] == 0.95 and out["horizon_months"] == 36 and out["short_months"] == 12
    low, high = out["npv"]
    assert low < result.summary.npv < high
    low_r, high_r = out["npv_risk_adjusted"]
    assert low_r < result.summary_risk.npv < high_r
    assert np.isfinite(out["npv_short"]).all()
    r = result.measured_range  # by figures column, as the dashboard shows it
    assert (r.at(36, False), r.at(36, True)) == (r.npv, r.npv_risk_adjusted)
    assert (r.at(12, False), r.at(12, True)) == (r.npv_short, None)


def test_roi_and_the_report_say_how_wide_the_measured_npv_is(
    small_demo_folder: Path, tmp_path: Path
) -> None:
    """`crmroi roi` on a workspace prints the range beside the figures (in Russian too:
    the test of the held changes below), and the HTML report carries it (the demo's case
    with two drivers `measured`)."""
    import re

    text = (small_demo_folder / "case.yaml").read_text(encoding="utf-8")
    text = text.replace("change: {low: 0.0, likely: 0.015, high: 0.04}", "change: measured")
    text = text.replace("change: {low: -0.06, likely: -0.04, high: -0.02}", "change: measured")
    case = tmp_path / "case.yaml"
    case.write_text(text, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "400"}
    roi = [sys.executable, "-m", "crmroi", "roi", str(case), "--workspace", str(small_demo_folder)]
    done = subprocess.run(roi, capture_output=True, text=True, timeout=300, env=env, check=True)
    said = re.search(
        r"On the measurement alone \(the 2 measured changes .* the NPV lies between (\S+) and "
        r"(\S+) at 36 months",
        done.stdout,
    )
    assert said is not None, done.stdout[-2000:]
    data = subprocess.run(
        [*roi, "--format", "json"], capture_output=True, text=True, timeout=300, env=env, check=True
    )
    got = json.loads(data.stdout)
    low, high = got["measured_range"]["npv"]
    assert [float(x.replace(",", "")) for x in said.groups()] == [round(low), round(high)]
    assert low < got["npv"] < high
    report = tmp_path / "report.html"
    subprocess.run(
        [sys.executable, "-m", "crmroi", "report", str(case), "--workspace",
         str(small_demo_folder), "--out", str(report)],
        capture_output=True, text=True, timeout=600, env=env, check=True,
    )  # fmt: skip
    html = report.read_text(encoding="utf-8")
    assert '<p id="measured-range">On the measurement alone (the 2 measured changes' in html
    from openpyxl import load_workbook

    book = tmp_path / "report.xlsx"
    subprocess.run(
        [sys.executable, "-m", "crmroi", "report", str(case), "--workspace",
         str(small_demo_folder), "--out", str(book)],
        capture_output=True, text=True, timeout=600, env=env, check=True,
    )  # fmt: skip
    sheet = load_workbook(book, read_only=True)["NPV on the measurement"]
    cells = {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.value is not None}
    assert cells["A2"] == "NPV, 36 months" and cells["A4"] == "NPV, 12 months"
    assert [cells["B2"], cells["C2"]] == pytest.approx([low, high])
    assert [cells["B3"], cells["C3"]] == pytest.approx(got["measured_range"]["npv_risk_adjusted"])
    assert cells["B6"] == 4000 and cells["B8"] == 0.95
    assert cells["A10"] == "Measured changes drawn"
    drawn = [cells[f"A{r}"] for r in range(11, 20) if f"A{r}" in cells]
    assert drawn == got["measured_range"]["inputs"]


@settings(max_examples=25, deadline=None)
@given(
    likely=st.floats(0.005, 0.08),
    below=st.floats(0.001, 0.05),
    above=st.floats(0.001, 0.05),
)
def test_any_single_interval_maps_to_the_npvs_at_its_ends(
    likely: float, below: float, above: float
) -> None:
    # lopsided either way, as measured changes often are; the NPV is linear in the change
    low, high = likely - below, likely + above
    measured = {"win_rate": MeasuredChange(likely, low, high)}
    model = build_model(parse_case(doc(win_rate("measured"))), measured=measured)
    got = measured_range(model, runs=40_000)
    assert got is not None
    ref_low, ref_high = npv_at(low), npv_at(high)
    width = ref_high - ref_low
    assert got.npv[0] == pytest.approx(ref_low, abs=0.03 * width)
    assert got.npv[1] == pytest.approx(ref_high, abs=0.03 * width)


def test_a_measured_change_without_an_interval_is_named_as_held(tmp_path: Path) -> None:
    """A measured change without an interval enters as a number: the range draws only the
    other one, names the held one, and equals the range with that change written as a
    plain number; roi's text, the HTML report and the workbook say which it is."""
    measured = {
        "win_rate": MeasuredChange(0.03, 0.01, 0.06),
        "avg_deal_size": MeasuredChange(0.05),  # no interval (e.g. withheld by attribute)
    }
    model = build_model(
        parse_case(doc(win_rate("measured"), deal_size("measured"))), measured=measured
    )
    got = measured_range(model)
    plain = measured_range(
        build_model(
            parse_case(doc(win_rate("measured"), deal_size(0.05))),
            measured={"win_rate": measured["win_rate"]},
        )
    )
    assert got is not None and plain is not None
    assert got.inputs == ("more deals won.change",) and got.held == ("bigger deals.change",)
    assert plain.held == () and got.npv == pytest.approx(plain.npv, rel=1e-12)
    assert got.as_dict()["held"] == ["bigger deals.change"]

    import contextlib
    import io

    from rich.console import Console

    from crmroi.cli import roi as roi_cli
    from crmroi.cli.language import speaker

    result = evaluate_model(model)
    said = (
        ("en", "held at their estimates in that range: bigger deals.change"),
        ("ru", "зафиксированы на своих оценках: bigger deals.change"),
        ("ru", "Только по неопределённости измерения (1 измеренных изменений"),
    )
    for lang, words in said:
        out = io.StringIO()
        wide = Console(file=out, width=400, color_system=None)
        with contextlib.ExitStack() as stack:
            stack.enter_context(pytest.MonkeyPatch.context()).setattr(roi_cli, "console", wide)
            roi_cli._print_result(result, speaker(lang))
        assert words in out.getvalue(), out.getvalue()[-1500:]
    without = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(roi_cli, "console", Console(file=without, width=400, color_system=None))
        roi_cli._print_result(evaluate_model(build_model(
            parse_case(doc(win_rate("measured"))), measured={"win_rate": measured["win_rate"]}
        )))  # fmt: skip
    assert "On the measurement alone" in without.getvalue()
    assert "without an interval" not in without.getvalue()


def test_the_report_and_workbook_name_the_held_changes(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from crmroi.finance.simulation import simulate
    from crmroi.reports.build import build_report
    from crmroi.reports.html import render_html
    from crmroi.reports.xlsx import write_xlsx

    measured = {"win_rate": MeasuredChange(0.03, 0.01, 0.06), "avg_deal_size": MeasuredChange(0.05)}
    model = build_model(
        parse_case(doc(win_rate("measured"), deal_size("measured"))), measured=measured
    )
    result = evaluate_model(model)
    result.simulation = simulate(model, runs=500, seed=1)
    for lang, words in (("en", "held at their estimates in that range: bigger deals.change"),
                        ("zh", "固定为其估计值：bigger deals.change")):  # fmt: skip
        html = render_html(build_report(result, lang=lang))
        assert '<p id="measured-range-held">' in html and words in html
    book = write_xlsx(build_report(result), tmp_path / "r.xlsx")
    sheet = load_workbook(book, read_only=True)["NPV on the measurement"]
    column = [row[0].value for row in sheet.iter_rows(min_row=1, max_col=1)]
    at = column.index("Measured without an interval, held at their estimates")
    assert column[10] == "more deals won.change" and column[at + 1] == "bigger deals.change"
