"""Retention customer by customer: the lapse panel against a per-customer recomputation,
and the restatement of a lapse-rate effect in points of annual retention."""

from __future__ import annotations

import itertools
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


def test_carry_is_the_share_of_gaps_longer_than_the_time_to_go_live() -> None:
    """Gaps of exactly 2.5 months: a last purchase in month 1 or 2 before go-live is
    always followed by a departure after it (share 1), in month 3 half the time (the
    half of the month within 2.5 months of go-live), before that never."""
    from crmroi.kpi.lapses import MONTH_DAYS, lapse_carry

    day = pd.Timedelta(days=1)
    step = 2.5 * MONTH_DAYS * day
    start = pd.Timestamp("2023-01-01")
    buys = pd.DataFrame(
        {
            "acc": ["a"] * 6 + ["b"] * 4,
            "unit": "t",
            "at": [start + i * step for i in range(6)] + [start + i * step for i in range(4)],
        }
    )
    assert lapse_carry(buys, 0) == pytest.approx([1.0, 1.0, 0.5])
    # months up to `lead` are given even below the floor; the list ends after them
    assert lapse_carry(buys, 5) == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    # exponential gaps of mean 1/lam months: month k carries (e^-lam(k-1) - e^-lam k) / lam
    rng = np.random.default_rng(3)
    lam = 0.6
    gaps = rng.exponential(1 / lam, 100_000) * MONTH_DAYS  # one gap per customer
    accs = np.repeat([f"c{i}" for i in range(gaps.size)], 2)
    times = np.column_stack([np.zeros(gaps.size), gaps]).ravel()
    many = pd.DataFrame({"acc": accs, "unit": "t", "at": start + pd.to_timedelta(times, unit="D")})
    got = lapse_carry(many, 4)
    k = np.arange(1, len(got) + 1)
    want = (np.exp(-lam * (k - 1)) - np.exp(-lam * k)) / lam
    assert got == pytest.approx(want, abs=0.005)
    assert len(got) >= 4 and got[-1] >= 0.001


def test_lapse_panel_gives_the_carry_of_its_purchases(demo: tuple[Store, DemoCompany]) -> None:
    store, _ = demo
    panel, _ = lapse_panel(store)
    carry = panel.attrs["carry"]
    lead = panel.attrs["anticipation"]
    assert len(carry) > lead
    assert all(x >= y for x, y in itertools.pairwise(carry))  # falls with distance
    assert 0.0 < carry[lead] < 0.5
