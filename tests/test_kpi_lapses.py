"""Retention customer by customer: the lapse panel against a per-customer recomputation,
and the restatement of a lapse-rate effect in points of annual retention."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from crmroi.attribution.results import Attribution, EventStudy
from crmroi.attribution.retention import lapse_to_retention
from crmroi.demo import DemoCompany, generate_company, write_demo
from crmroi.kpi.lapses import annual_retention, lapse_panel
from crmroi.store import Store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoCompany]]:
    folder = tmp_path_factory.mktemp("lapses")
    company = generate_company(scale=0.1, seed=4)
    store = Store.open(folder, create=True)
    write_demo(store, company, None)
    try:
        yield store, company
    finally:
        store.close()


def test_lapse_panel_follows_each_customer(demo: tuple[Store, DemoCompany]) -> None:
    store, company = demo
    panel, gap = lapse_panel(store)
    assert gap is not None and gap >= 1
    deals = company.tables["deals"].to_pandas()
    orders = company.tables["orders"].to_pandas()
    won = deals[deals["is_won"] & deals["closed_at"].notna()]
    buys = pd.concat(
        [
            won[["account_id", "closed_at"]].set_axis(["acc", "at"], axis=1),
            orders[["account_id", "ordered_at"]].set_axis(["acc", "at"], axis=1),
        ]
    )
    accounts = company.tables["accounts"].to_pandas()[["account_id", "owner_rep_id"]]
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    team = accounts.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    team = dict(zip(team["account_id"], team["team"], strict=True))
    month = buys["at"].dt.year * 12 + buys["at"].dt.month - 1
    stop = int(month.max()) - gap
    counts: dict[tuple[str, int], list[float]] = {}
    for acc, ms in month.groupby(buys["acc"]):
        first, last = int(ms.min()), int(ms.max())
        lapsed = last < stop
        for m in range(first, (last if lapsed else stop - 1) + 1):
            cell = counts.setdefault((team[acc], m), [0.0, 0.0])
            cell[1] += 1
            cell[0] += float(lapsed and m == last)
    columns = (panel["unit"], panel["month"], panel["num"], panel["den"])
    got = {(u, m.year * 12 + m.month - 1): [n, d] for u, m, n, d in zip(*columns, strict=True)}
    assert got == counts
    # the demo's customers lapse at about its 20% a year before go-live
    before = panel[panel["month"] < "2024-01-01"]
    before = before[before["month"] >= "2023-03-01"]
    rate = before["num"].sum() / before["den"].sum()
    assert 0.72 < annual_retention(rate) < 0.88


def test_a_lapse_rate_effect_in_points_of_annual_retention() -> None:
    h, d = 0.0186, -0.0042
    study = EventStudy([-1, 0], [0.001, d], [-0.002, -0.006], [0.004, -0.002], 0.5, [0.0, 1.0])
    result = Attribution(
        "retention_rate", "did", d, -0.006, -0.002, -0.003, effect_rel=d / h,
        seasonal_naive_change=None, notes=["x"], event_study=study,
    )  # fmt: skip
    out = lapse_to_retention(result, 6)
    base = (1 - h) ** 12
    assert out.effect == pytest.approx((1 - h - d) ** 12 - base)
    assert out.ci_low == pytest.approx((1 - h + 0.002) ** 12 - base)
    assert out.ci_high == pytest.approx((1 - h + 0.006) ** 12 - base)
    assert out.ci_low < out.effect < out.ci_high
    assert out.effect_rel == pytest.approx(out.effect / base)
    assert out.event_study is not None
    assert out.event_study.effect[1] == pytest.approx(out.effect)
    assert out.event_study.ci_low[1] == pytest.approx(out.ci_low)
    assert np.isclose(out.naive_change, (1 - h + 0.003) ** 12 - base)
    assert any("annual retention" in n for n in out.notes)


def test_lapse_panel_says_how_many_months_before_go_live_to_leave_out(
    demo: tuple[Store, DemoCompany],
) -> None:
    store, company = demo
    panel, gap = lapse_panel(store)
    deals = company.tables["deals"].to_pandas()
    orders = company.tables["orders"].to_pandas()
    won = deals[deals["is_won"] & deals["closed_at"].notna() & deals["account_id"].notna()]
    buys = pd.concat(
        [
            won[["account_id", "closed_at"]].set_axis(["acc", "at"], axis=1),
            orders[["account_id", "ordered_at"]].set_axis(["acc", "at"], axis=1),
        ]
    ).sort_values(["acc", "at"])
    days = buys.groupby("acc")["at"].diff().dropna().dt.total_seconds() / 86400.0
    expected = int(np.ceil(np.quantile(days, 0.9) / 30.4375))
    assert panel.attrs["anticipation"] == expected
    assert gap is not None and 1 <= expected < gap
