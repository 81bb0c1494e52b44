"""Retention customer by customer: the lapse panel against a per-customer recomputation,
and the restatement of a lapse-rate effect in points of annual retention."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi.attribution.results import Attribution, EventStudy
from crmroi.attribution.retention import lapse_to_retention
from crmroi.demo import DemoCompany, generate_company, write_demo
from crmroi.kpi.lapses import annual_retention, lapse_cells, lapse_panel
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


def _demo_purchases(company: DemoCompany) -> pd.DataFrame:
    """Won deals when closed, orders when ordered; with the source table."""
    deals = company.tables["deals"].to_pandas()
    orders = company.tables["orders"].to_pandas()
    won = deals[deals["is_won"] & deals["closed_at"].notna() & deals["account_id"].notna()]
    return pd.concat(
        [
            won[["account_id", "closed_at"]].set_axis(["acc", "at"], axis=1).assign(src="d"),
            orders[["account_id", "ordered_at"]].set_axis(["acc", "at"], axis=1).assign(src="o"),
        ]
    )


def _brute_force(buys: pd.DataFrame, team: dict[str, str], gap: int, stationary: bool) -> dict:
    """Per (team, month code): [lapses, customers at risk], customer by customer."""
    month = buys["at"].dt.year * 12 + buys["at"].dt.month - 1
    stop = int(month.max()) - gap
    complete = int(month.groupby(buys["src"]).min().max()) if stationary else int(month.min())
    counts: dict[tuple[str, int], list[float]] = {}
    for acc, ms in month.groupby(buys["acc"]):
        first, last = int(ms.min()), int(ms.max())
        if stationary:
            first = max(first + 1, complete)
        lapsed = last < stop
        for m in range(first, (last if lapsed else stop - 1) + 1):
            cell = counts.setdefault((team[acc], m), [0.0, 0.0])
            cell[1] += 1
            cell[0] += float(lapsed and m == last)
    return counts


@pytest.mark.parametrize("stationary", [False, True])
def test_lapse_panel_follows_each_customer(
    demo: tuple[Store, DemoCompany], stationary: bool
) -> None:
    store, company = demo
    panel, gap = lapse_panel(store, stationary=stationary)
    assert gap is not None and gap >= 1
    buys = _demo_purchases(company)
    accounts = company.tables["accounts"].to_pandas()[["account_id", "owner_rep_id"]]
    reps = company.tables["reps"].to_pandas()[["rep_id", "team"]]
    team = accounts.merge(reps, left_on="owner_rep_id", right_on="rep_id")
    team = dict(zip(team["account_id"], team["team"], strict=True))
    counts = _brute_force(buys, team, gap, stationary)
    columns = (panel["unit"], panel["month"], panel["num"], panel["den"])
    got = {(u, m.year * 12 + m.month - 1): [n, d] for u, m, n, d in zip(*columns, strict=True)}
    assert got == counts
    # the demo's customers lapse at about its 20% a year before go-live
    before = panel[panel["month"] < "2024-01-01"]
    before = before[before["month"] >= "2023-03-01"]
    rate = before["num"].sum() / before["den"].sum()
    assert 0.72 < annual_retention(rate) < 0.88
    if stationary:  # the demo's orders start in 2023-01; its first won deals earlier
        assert panel["month"].min() == pd.Timestamp("2023-01-01")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 30), st.sampled_from(["d", "o"])),
        min_size=2,
        max_size=40,
    )
)
def test_stationary_panel_equals_the_customer_by_customer_count(
    rows: list[tuple[int, int, str]],
) -> None:
    start = pd.Timestamp("2023-01-01")
    buys = pd.DataFrame(
        {
            "acc": [f"c{a}" for a, _, _ in rows],
            "unit": [f"t{a % 2}" for a, _, _ in rows],
            "at": [start + pd.DateOffset(months=m) + pd.Timedelta(days=3) for _, m, _ in rows],
            "src": [s for _, _, s in rows],
        }
    )
    panel, gap = lapse_cells(buys, stationary=True)
    assert gap is not None
    team = {f"c{a}": f"t{a % 2}" for a, _, _ in rows}
    counts = _brute_force(buys, team, gap, stationary=True)
    columns = (panel["unit"], panel["month"], panel["num"], panel["den"])
    got = {(u, m.year * 12 + m.month - 1): [n, d] for u, m, n, d in zip(*columns, strict=True)}
    assert got == counts


def test_stationary_series_is_level_from_the_first_month_on() -> None:
    """Customers buying at Poisson times (0.75 a month) until an exponential departure
    (2% a month), observed from 2023-01 on: two thirds were customers before
    (left-truncated), the others join later (their win a purchase). Counted from their
    first observed purchase, the first months' lapse rate runs far above the later
    months'; counted from the month after, it does not."""
    rng = np.random.default_rng(11)
    month = 30.4375
    n_old, n_new = 20000, 10000
    join = np.r_[np.zeros(n_old), rng.uniform(0, 36 * month, n_new)]
    stop = np.minimum(join + rng.exponential(month / 0.02, join.size), 36 * month)
    # Poisson purchases on [join, stop): a count, then uniform times
    count = rng.poisson(0.75 * (stop - join) / month)
    owner = np.repeat(np.arange(join.size), count)
    at = join[owner] + rng.random(owner.size) * (stop - join)[owner]
    acc = np.r_[owner, np.arange(n_old, join.size)]  # a new customer's win is a purchase
    at = np.r_[at, join[n_old:]]
    start = pd.Timestamp("2023-01-01")
    buys = pd.DataFrame(
        {"acc": acc, "unit": "t", "at": start + pd.to_timedelta(np.asarray(at), unit="D")}
    )
    z = {}
    for stationary in (False, True):
        panel, _ = lapse_cells(buys, stationary=stationary)
        panel = panel.set_index("month")
        later = panel.loc["2023-07-01":"2024-12-01"]
        level = later["num"].sum() / later["den"].sum()
        first = panel.loc["2023-01-01":"2023-03-01"]
        # each first month's distance from the later level, in binomial sds of that month
        z[stationary] = (first["num"] / first["den"] - level) / np.sqrt(level / first["den"])
    assert z[False].iloc[0] > 8.0  # 11.4: the default series starts high
    assert z[True].index[0] == pd.Timestamp("2023-02-01")  # from the data's second month
    assert np.abs(z[True]).max() < 2.5  # -0.1, -1.2


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
    buys = _demo_purchases(company).sort_values(["acc", "at"])
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
