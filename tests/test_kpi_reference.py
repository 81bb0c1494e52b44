"""A straightforward pandas implementation of every KPI (the independent reference).

Written from the definitions in docs/kpis.md without the engine's code: whole
tables are read into pandas, rows are placed in their team's windows (dictionary
maps from team to window bounds, vectorised), and each KPI is a groupby. Used by
the KPI tests to check the Ibis engine and by benchmarks/bench_kpis.py as the
pandas baseline.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd

from crmroi.kpi.coverage import DATES, REACH
from crmroi.kpi.definitions import KPI_DEFINITIONS
from crmroi.store.schema import TABLES
from crmroi.store.store import Store

P = ("baseline", "after")


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """Every canonical table as a pandas DataFrame."""
    return {n: store.table(n).to_pyarrow().to_pandas() for n in TABLES}


def _reach(column: str, last: pd.Timestamp) -> pd.Timestamp:
    """Exclusive end of what a date column's last value covers (docs/kpis.md)."""
    day = last.normalize()
    if REACH.get(column) == "month":
        return day.replace(day=1) + pd.offsets.MonthBegin(1)
    if REACH.get(column) == "week":
        return day + pd.Timedelta(days=7)
    return day + pd.Timedelta(days=1)


def _cal_months(lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    """[lo, hi) in calendar months: each month's covered days over its days."""
    total, day = 0.0, lo
    while day < hi:
        first = day.replace(day=1).normalize()
        nxt = first + pd.offsets.MonthBegin(1)
        total += (min(nxt, hi) - day) / (nxt - first)
        day = nxt
    return total


class Ref:
    """Windows and lookups for the reference computation.

    `use(name)` selects a KPI: its rows are counted only inside its covered span
    (the intersection of its date columns' spans, `DATES`), and company-level KPIs
    place every row in the company windows.
    """

    def __init__(
        self,
        f: dict[str, pd.DataFrame],
        go_live: dt.date,
        by_team: dict[str, dt.date],
        bm: int = 12,
        am: int = 12,
    ) -> None:
        self.f, self.bm, self.am = f, bm, am
        self.team_win = {t: self._w(d) for t, d in by_team.items()}
        self.win = self.team_win
        self.default = self._w(go_live)
        reps = f["reps"]
        self.rep_team = dict(zip(reps.rep_id, reps.team, strict=True))
        acc = f["accounts"]
        self.acc_owner = dict(zip(acc.account_id, acc.owner_rep_id, strict=True))
        self.acc_team = {a: self.rep_team.get(o) for a, o in self.acc_owner.items()}
        self.spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
        for col in sorted({c for cols in DATES.values() for c in cols}):
            table, column = col.split(".")
            values = pd.to_datetime(f[table][column]).dropna()
            if len(values):
                self.spans[col] = (values.min().normalize(), _reach(col, values.max()))
        self.lo, self.hi = pd.Timestamp.min, pd.Timestamp.max
        self.name = ""

    def use(self, name: str) -> Ref:
        """Count the rows of KPI `name` only: its covered span, its windows."""
        d = KPI_DEFINITIONS[name]
        cols = [
            c for c in DATES[name]
            if c.split(".")[0] in d.tables or len(self.f[c.split(".")[0]])
        ]  # fmt: skip
        self.lo = max(self.spans[c][0] for c in cols)
        self.hi = min(self.spans[c][1] for c in cols)
        self.win = {} if d.company_level else self.team_win
        self.name = name
        return self

    def _w(self, g: dt.date) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
        return (
            pd.Timestamp(add_months(g, -self.bm)),
            pd.Timestamp(g),
            pd.Timestamp(add_months(g, self.am)),
        )

    def clipped(self, team: object, period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        b0, g, a1 = self.win.get(team, self.default)  # type: ignore[call-overload]
        s, e = (b0, g) if period == "baseline" else (g, a1)
        lo, hi = max(s, self.lo), min(e, self.hi)
        return lo, max(lo, hi)

    def bounds(self, team: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Each row's (baseline start, go-live, after end): its team's, else the company's."""
        w = [
            pd.to_datetime(team.map({t: b[i] for t, b in self.win.items()}).fillna(self.default[i]))
            for i in range(3)
        ]
        return w[0], w[1], w[2]

    def coverages(self, team: pd.Series, period: pd.Series | str, of: str = "share") -> np.ndarray:
        """`coverage` (or covered `months`) of each row's (team, period)."""
        p = pd.Series(period, index=team.index) if isinstance(period, str) else period
        codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([team, p]), use_na_sentinel=False)
        measure = self.coverage if of == "share" else self.months
        return np.array([measure(t, q) for t, q in pairs], dtype=float)[codes]

    def period(self, team: pd.Series, ts: pd.Series) -> pd.Series:
        b0, g, a1 = self.bounds(team)
        lo, hi = self.lo, self.hi
        ts = pd.to_datetime(ts)
        out = pd.Series(None, index=ts.index, dtype=object)
        out[(ts >= b0) & (ts < g) & (ts >= lo) & (ts < hi)] = "baseline"
        out[(ts >= g) & (ts < a1) & (ts >= lo) & (ts < hi)] = "after"
        return out

    def coverage(self, team: object, period: str) -> float:
        b0, g, a1 = self.win.get(team, self.default)  # type: ignore[call-overload]
        s, e = (b0, g) if period == "baseline" else (g, a1)
        return _cal_months(*self.clipped(team, period)) / _cal_months(s, e)

    def months(self, team: object, period: str) -> float:
        return self.coverage(team, period) * (self.bm if period == "baseline" else self.am)

    def whole(self) -> bool:
        return all(self.coverage(t, p) >= 1 - 1e-9 for t in [None, *self.win] for p in P)

    def whole_teams(self, team: pd.Series) -> pd.Series:
        """Rows whose team (or the company) has whole baseline and after windows."""
        ok = {t: min(self.coverage(t, p) for p in P) >= 1 - 1e-9 for t in self.win}
        default = min(self.coverage(None, p) for p in P) >= 1 - 1e-9
        return team.map(ok).fillna(default).astype(bool)

    def team_of(self, rep: pd.Series, account: pd.Series | None = None) -> pd.Series:
        team = rep.map(self.rep_team)
        if account is not None:
            team = team.fillna(account.map(self.acc_team))
        return team

    def total(self, team: pd.Series, ts: pd.Series, value: pd.Series) -> dict[str, float]:
        """Window totals; per covered month when a window is not whole."""
        df = pd.DataFrame({"team": team, "p": self.period(team, ts), "v": value}).dropna(
            subset=["p"]
        )
        out = {}
        for p in P:
            part = df[df.p == p]
            if part.empty:
                out[p] = 0.0
                continue
            per = 1.0 if self.whole() else self.coverages(part.team, p, "months")
            out[p] = float((part.v / per).sum())
        return out

    def ratio(self, team: pd.Series, ts: pd.Series, num: pd.Series, den: pd.Series) -> dict:
        df = pd.DataFrame({"p": self.period(team, ts), "n": num, "d": den})
        g = df.dropna(subset=["p"]).groupby("p")[["n", "d"]].sum()
        return {p: (g.n[p] / g.d[p] if p in g.index and g.d[p] > 0 else np.nan) for p in P}

    def rep_months(self, rm: pd.DataFrame, p: str) -> pd.Series:
        """Each employed rep-month's share inside its team's clipped `p` window."""
        teams = rm.team if self.win else pd.Series(None, index=rm.index, dtype=object)
        codes, uniq = pd.factorize(teams, use_na_sentinel=False)
        clips = [self.clipped(t, p) for t in uniq]
        lo = pd.to_datetime(pd.Series([clips[c][0] for c in codes], index=rm.index))
        hi = pd.to_datetime(pd.Series([clips[c][1] for c in codes], index=rm.index))
        start = np.maximum(rm.m0, lo)
        end = np.minimum(rm.m1, hi)
        return ((end - start) / (rm.m1 - rm.m0)).clip(lower=0.0)


def worked(ref: Ref, deals: pd.DataFrame) -> pd.Series:
    """The "created" exposure: deals created in the (team's, unclipped) window they
    closed in, i.e. created on or after the start of that window."""
    b0, g, _ = ref.bounds(ref.team_of(deals.owner_rep_id, deals.account_id))
    created = pd.to_datetime(deals.created_at).fillna(pd.to_datetime(deals.closed_at))
    closed = pd.to_datetime(deals.closed_at)
    return ((closed < g) & (created >= b0)) | ((closed >= g) & (created >= g))


def pandas_kpis(ref: Ref, exposure: str = "closed") -> dict[str, dict[str, float]]:
    """Baseline and after value of every KPI, computed with pandas."""
    f = ref.f
    out: dict[str, dict[str, float]] = {}
    d = f["deals"]
    all_won = d[d.is_won.fillna(False).astype(bool) & d.closed_at.notna()]
    ref.win = ref.team_win
    won = all_won[worked(ref, all_won)] if exposure == "created" else all_won
    won_team = ref.team_of(won.owner_rep_id, won.account_id)
    amount = won.amount.fillna(0.0)
    out["sales_volume"] = ref.use("sales_volume").total(won_team, won.closed_at, amount)
    one_won = pd.Series(1.0, index=won.index)
    out["won_deals"] = ref.use("won_deals").total(won_team, won.closed_at, one_won)
    # rep-months
    reps = f["reps"]
    months = pd.date_range(
        min(w[0] for w in [ref.default, *ref.win.values()]).replace(day=1),
        max(w[2] for w in [ref.default, *ref.win.values()]) + pd.offsets.MonthBegin(1),
        freq="MS",
    )
    rm = reps.merge(pd.DataFrame({"m0": months[:-1], "m1": months[1:]}), how="cross")
    hired = pd.to_datetime(rm.hired_on)
    left = pd.to_datetime(rm.left_on)
    rm = rm[(hired.isna() | (hired < rm.m1)) & (left.isna() | (left > rm.m0))]
    ref.use("sales_per_rep")
    won_p = ref.period(won_team, won.closed_at)
    rm_w = {p: ref.rep_months(rm, p) for p in P}
    out["sales_per_rep"] = {
        p: amount[won_p == p].sum() / rm_w[p].sum() if rm_w[p].sum() else np.nan for p in P
    }
    has_amount = won.amount.notna().astype(float)
    out["avg_deal_size"] = ref.use("avg_deal_size").ratio(
        won_team, won.closed_at, amount, has_amount
    )
    closed = d[d.is_closed.fillna(False).astype(bool) & d.closed_at.notna()]
    closed = closed[worked(ref, closed)] if exposure == "created" else closed
    ct = ref.team_of(closed.owner_rep_id, closed.account_id)
    out["win_rate"] = ref.use("win_rate").ratio(
        ct, closed.closed_at, closed.is_won.fillna(False).astype(float), closed.is_won * 0 + 1.0
    )
    cyc = won[won.created_at.notna() & (won.closed_at >= won.created_at)]
    days = (cyc.closed_at - cyc.created_at).dt.total_seconds() / 86400
    cp = ref.use("sales_cycle_days").period(
        ref.team_of(cyc.owner_rep_id, cyc.account_id), cyc.closed_at
    )
    out["sales_cycle_days"] = {p: float(days[cp == p].median()) for p in P}
    # forecast accuracy
    fc = f["forecasts"].copy()
    if len(fc) and len(all_won):
        fc["made"] = pd.to_datetime(fc.made_at).fillna(pd.Timestamp("1900-01-01"))
        fc["period"] = pd.to_datetime(fc.period_start)
        last = fc.groupby(["team", "period"]).made.transform("max")
        fc = fc[fc.made == last].groupby(["team", "period"], as_index=False).forecast_amount.mean()
        act = pd.DataFrame(
            {"team": all_won.owner_rep_id.map(ref.rep_team), "amount": all_won.amount}
        )
        act["period"] = all_won.closed_at.dt.to_period("M").dt.to_timestamp()
        act = act.groupby(["team", "period"], as_index=False).amount.sum()
        cell = fc.merge(act, on=["team", "period"])
        cell = cell[cell.amount > 0]
        accuracy = 1 - (cell.amount - cell.forecast_amount).abs() / cell.amount
        out["forecast_accuracy"] = ref.use("forecast_accuracy").ratio(
            cell.team, cell.period, accuracy, accuracy * 0 + 1
        )
    # relationship concentration
    a = f["activities"]
    aa = a[a.account_id.notna() & a.rep_id.notna()]
    at = aa.account_id.map(ref.acc_team).fillna(aa.rep_id.map(ref.rep_team))
    ref.use("relationship_concentration")
    ap = ref.period(at, aa.occurred_at).where(ref.whole_teams(at))
    per = pd.DataFrame({"acc": aa.account_id, "p": ap, "rep": aa.rep_id}).dropna(subset=["p"])
    counts = per.groupby(["acc", "p", "rep"]).size()
    share = counts.groupby(level=[0, 1]).max() / counts.groupby(level=[0, 1]).sum()
    out["relationship_concentration"] = {
        p: float(share.xs(p, level=1).mean()) if p in share.index.get_level_values(1) else np.nan
        for p in P
    }
    # activity
    at_rep = a.rep_id.map(ref.rep_team).fillna(a.account_id.map(ref.acc_team))
    call = a.kind == "call"
    one = pd.Series(1.0, index=a.index)
    for name, mask in (
        ("calls_inbound", call & (a.direction == "inbound")),
        ("calls_outbound", call & (a.direction == "outbound")),
    ):
        out[name] = ref.use(name).total(at_rep[mask], a.occurred_at[mask], one[mask])
    ref.use("calls_per_won_deal")
    calls_p = ref.period(at_rep[call], a.occurred_at[call])
    won_rep_p = ref.period(won.owner_rep_id.map(ref.rep_team), won.closed_at)
    out["calls_per_won_deal"] = {
        p: (calls_p == p).sum() / (won_rep_p == p).sum() if (won_rep_p == p).sum() else np.nan
        for p in P
    }
    sp = f["spend"]
    no_team = pd.Series(None, index=sp.index, dtype=object)
    ref.use("cost_per_sales_call")
    spend_p = ref.period(no_team, sp.spent_on)
    rm_cost = rm.monthly_cost.fillna(0.0)
    rm_w = {p: ref.rep_months(rm, p) for p in P}
    visits = (call & (a.direction == "outbound")) | (a.kind == "visit")
    vis_p = ref.period(at_rep[visits], a.occurred_at[visits])
    out["cost_per_sales_call"] = {
        p: ((rm_cost * rm_w[p]).sum() + sp.amount[(sp.category == "sales") & (spend_p == p)].sum())
        / (vis_p == p).sum()
        if (vis_p == p).sum()
        else np.nan
        for p in P
    }
    te = f["time_entries"]
    admin = te.admin_hours.fillna(0.0)
    out["admin_time_share"] = ref.use("admin_time_share").ratio(
        te.rep_id.map(ref.rep_team), te.week_start, admin, admin + te.selling_hours.fillna(0.0)
    )
    out.update(_customer_kpis(ref, all_won, sp))
    out.update(_lead_and_service_kpis(ref, won, sp))
    return out


def _customer_kpis(ref: Ref, won: pd.DataFrame, sp: pd.DataFrame) -> dict:
    f = ref.f
    o = f["orders"]
    rev = pd.concat(
        [
            pd.DataFrame(
                {
                    "ts": won.closed_at,
                    "amount": won.amount,
                    "cost": won.cost,
                    "acc": won.account_id,
                    "rep": won.owner_rep_id,
                    "up": won.kind.isin(["upsell", "cross_sell"]).astype(float),
                }
            ),
            pd.DataFrame(
                {
                    "ts": o.ordered_at,
                    "amount": o.amount,
                    "cost": o.cost,
                    "acc": o.account_id,
                    "rep": o.account_id.map(ref.acc_owner),
                    "up": 0.0,
                }
            ),
        ],
        ignore_index=True,
    )
    rev["rep"] = rev.rep.fillna(rev.acc.map(ref.acc_owner))
    rev["team"] = rev.rep.map(ref.rep_team).fillna(rev.acc.map(ref.acc_team))
    new = won[won.kind.fillna("new") == "new"].groupby("account_id").closed_at.min()
    rev["since"] = rev.acc.map(new)
    ref.use("revenue_per_customer")  # every revenue KPI: the same tables and dates
    all_rev = rev
    rev = all_rev.assign(p=ref.period(all_rev.team, all_rev.ts))
    rev["since_p"] = ref.period(rev.team, rev.since)
    rev = rev.dropna(subset=["p"])
    out: dict[str, dict[str, float]] = {}
    gm = rev[rev.cost.notna() & rev.amount.notna()]
    out["gross_margin"] = {
        p: (gm.amount - gm.cost)[gm.p == p].sum() / gm.amount[gm.p == p].sum() for p in P
    }
    per_month = 1.0 if ref.whole() else 0.0  # 0: per covered month (kept windows are whole)
    rev = rev[ref.whole_teams(rev.team)]  # the other revenue KPIs need whole windows
    is_new = rev.since.notna() & (rev.ts >= rev.since) & (rev.since_p == rev.p)
    nr = rev[is_new]
    out["new_customer_revenue"] = {
        p: float(nr.amount[nr.p == p].fillna(0).sum())
        / (per_month or (ref.bm if p == "baseline" else ref.am))
        for p in P
    }
    b0, g, _ = ref.bounds(rev.team)
    start = np.where(rev.p == "baseline", b0, g)
    ex = rev[rev.since.isna() | (rev.since < start)]
    acc = ex.groupby(["p", "acc"]).up.max()
    out["upsell_rate"] = {p: float(acc[p].mean()) if p in acc.index else np.nan for p in P}
    buyers = rev.groupby("p").acc.nunique()
    out["revenue_per_customer"] = {
        p: rev.amount[rev.p == p].fillna(0).sum() / buyers[p] if p in buyers else np.nan for p in P
    }
    b0, g, a1 = ref.bounds(rev.team)
    mid = np.where(rev.p == "baseline", b0 + (g - b0) / 2, g + (a1 - g) / 2)  # window midpoints
    rev["h2"] = (rev.ts >= pd.to_datetime(mid).floor("s")).astype(float)
    halves = rev.groupby(["p", "acc"]).h2.agg(["min", "max"])
    res = {}
    for p in P:
        if p not in halves.index:
            res[p] = np.nan
            continue
        h = halves.loc[p]
        first = (h["min"] == 0).sum()
        both = ((h["min"] == 0) & (h["max"] == 1)).sum()
        months = ref.bm if p == "baseline" else ref.am
        res[p] = (both / first) ** (12 / (months / 2)) if first else np.nan
    out["retention_rate"] = res
    # company-level KPIs: every row in the company windows
    no_team = pd.Series(None, index=sp.index, dtype=object)
    ref.use("cac")
    spend_p = ref.period(no_team, sp.spent_on)
    ms = sp.category.isin(["marketing", "sales"])
    nc_p = ref.period(pd.Series(None, index=new.index, dtype=object), new)
    out["cac"] = {
        p: sp.amount[ms & (spend_p == p)].sum() / (nc_p == p).sum() if (nc_p == p).sum() else np.nan
        for p in P
    }
    ref.use("cost_per_customer")
    spend_p = ref.period(no_team, sp.spent_on)
    company = all_rev.assign(p=ref.period(pd.Series(None, index=all_rev.index), all_rev.ts))
    buyers = company.dropna(subset=["p"]).groupby("p").acc.nunique()
    whole = ref.whole()
    out["cost_per_customer"] = {
        p: sp.amount[spend_p == p].sum() / buyers[p] if p in buyers and whole else np.nan for p in P
    }
    return out


def _lead_and_service_kpis(ref: Ref, won: pd.DataFrame, sp: pd.DataFrame) -> dict:
    f = ref.f
    out: dict[str, dict[str, float]] = {}
    le = f["leads"]
    lt = ref.team_of(le.owner_rep_id, le.account_id)
    conv = (le.converted_at.notna() | (le.status.str.lower() == "converted")).astype(float)
    out["leads"] = ref.use("leads").total(lt, le.created_at, conv * 0 + 1)
    out["lead_conversion_rate"] = ref.use("lead_conversion_rate").ratio(
        lt, le.created_at, conv, conv * 0 + 1
    )
    mk = sp.category == "marketing"
    no_team = pd.Series(None, index=sp.index, dtype=object)

    def marketing(p: str) -> float:
        return float(sp.amount[mk & (ref.period(no_team, sp.spent_on) == p)].sum())

    out["marketing_spend"] = ref.use("marketing_spend").total(
        no_team[mk], sp.spent_on[mk], sp.amount[mk]
    )
    ref.use("cost_per_lead")
    lp = ref.period(lt, le.created_at)
    out["cost_per_lead"] = {p: marketing(p) / (lp == p).sum() for p in P}
    ws = won[won.source.notna() & (won.source != "customer_base")]
    ref.use("cost_per_won_deal")
    wp = ref.period(ref.team_of(ws.owner_rep_id, ws.account_id), ws.closed_at)
    out["cost_per_won_deal"] = {p: marketing(p) / (wp == p).sum() for p in P}
    t = f["tickets"]
    tt = t.account_id.map(ref.acc_team)
    a = t[t.csat.notna()]
    out["csat"] = ref.use("csat").ratio(tt[a.index], a.opened_at, a.csat, a.csat * 0 + 1)
    c = t[t.cost.notna()]
    out["service_cost_per_ticket"] = ref.use("service_cost_per_ticket").ratio(
        tt[c.index], c.opened_at, c.cost, c.cost * 0 + 1
    )
    return out
