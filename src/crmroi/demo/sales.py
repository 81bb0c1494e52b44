"""Leads, accounts and deals of the demo company, with the CRM effects injected.

Flow: leads arrive per team and month (seasonality x trend x market shock); a
converted lead creates an account and a "new" deal; won accounts become customers
who churn at a monthly hazard (lower after go-live) and, while active, open
upsell, cross-sell and renewal deals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from crmroi.demo import effects as fx
from crmroi.demo.columns import US_PER_DAY, business_time, finish, make_ids, money, take, ts
from crmroi.demo.company import N_MONTHS, TEAM_REGION, TEAM_WIN_FE, TEAMS, Reps, World
from crmroi.demo.names import COUNTRIES, companies

SEGMENTS: tuple[str, ...] = ("SMB", "Mid-market", "Enterprise")
SEGMENT_SHARE = np.array([0.62, 0.28, 0.10])
SEGMENT_AMOUNT = np.array([12_000.0, 28_000.0, 60_000.0])  # median deal size, USD
SEGMENT_CYCLE = np.array([38.0, 65.0, 110.0])  # median sales cycle, days
INDUSTRIES: tuple[str, ...] = (
    "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics", "Software",
    "Construction", "Energy", "Food & Beverage", "Professional Services",
)  # fmt: skip
PRODUCTS: tuple[str, ...] = (
    "Core Platform", "Analytics Add-on", "Support Plan", "Hardware Kit",
    "Training Pack", "Integration Service",
)  # fmt: skip
KINDS: tuple[str, ...] = ("new", "upsell", "cross_sell", "renewal")
OPEN_STAGES: tuple[str, ...] = ("Qualification", "Proposal", "Negotiation")
LEADS_PER_SLOT_MONTH = 13.0
WARMUP_MONTHS = 4  # history simulated before the start so the pipeline is full on day one
BASE_WIN = 0.25
EXPANSION_PER_MONTH = 0.2  # upsell/cross-sell/renewal opportunities per customer-month
COUNTRY_NAMES: list[str] = list(COUNTRIES)


@dataclass
class Deals:
    """Deal rows (sorted by creation) with what later steps need."""

    team: np.ndarray
    slot: np.ndarray
    account: np.ndarray
    created: np.ndarray
    end: np.ndarray  # closing time, or the period end for open deals
    is_closed: np.ndarray
    won: np.ndarray
    p_win: np.ndarray
    treated: np.ndarray
    segment: np.ndarray
    dose: np.ndarray  # share of the full CRM effect on the deal (0 before go-live)
    amount: np.ndarray  # USD


@dataclass
class Sales:
    """Outputs of the sales step: tables plus arrays for later steps."""

    tables: dict[str, pa.Table]
    account_team: np.ndarray
    account_slot: np.ndarray
    account_segment: np.ndarray
    account_country: np.ndarray
    account_slug: np.ndarray
    account_ids: pa.Array
    active_from: np.ndarray  # customer since (int64 max when never a customer)
    active_to: np.ndarray  # churned at, or the period end
    deals: Deals
    deal_ids: pa.Array
    lead_created: np.ndarray
    lead_until: np.ndarray  # conversion or end of work on the lead
    lead_owner: np.ndarray
    lead_source: np.ndarray
    lead_ids: pa.Array
    realised: dict[str, dict[str, float]] = field(default_factory=dict)
    realised_by_team_month: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)


@dataclass
class _Outcome:
    created: np.ndarray
    closed: np.ndarray
    closed_cf: np.ndarray
    is_closed: np.ndarray
    won: np.ndarray
    won_cf: np.ndarray
    p_win: np.ndarray
    treated: np.ndarray
    dose: np.ndarray
    amount: np.ndarray
    amount_cf: np.ndarray
    cost: np.ndarray
    stage: np.ndarray


def _outcomes(
    world: World,
    rng: np.random.Generator,
    team: np.ndarray,
    rep: np.ndarray,
    segment: np.ndarray,
    created: np.ndarray,
    skill: np.ndarray,
) -> _Outcome:
    """Win/loss, cycle, amount and cost of deals; `_cf` = the same draws without CRM."""
    n = len(team)
    treated = world.treated(team, created)
    dose = world.dose(team, created)
    month = world.month_of(created)
    p_cf = BASE_WIN + np.array(TEAM_WIN_FE)[team] + skill[rep] + world.win_shift[month]
    p_cf = np.clip(p_cf, 0.02, 0.93)
    p = p_cf + fx.WIN_RATE_ABS * dose
    # cells of stratified draws (Design.draws): team x quarter x segment x before/after go-live
    quarter = np.asarray(team) * 12 + month // 3
    cell = (quarter * len(SEGMENTS) + segment) * 2 + treated
    u = world.strat(rng, cell)
    won, won_cf = u < p, u < p_cf
    cycle_days = np.exp(
        np.log(SEGMENT_CYCLE[segment]) + 0.4 * world.strat_normal(rng, cell * 2 + won)
    )
    closed_cf = business_time(created + (cycle_days * US_PER_DAY).astype(np.int64))
    closed_cf = np.maximum(closed_cf, created + US_PER_DAY // 24)
    cycle_days *= 1 + fx.SALES_CYCLE_REL * dose
    closed = business_time(created + (cycle_days * US_PER_DAY).astype(np.int64))
    closed = np.maximum(closed, created + US_PER_DAY // 24)
    is_closed = closed < world.end_us
    amount_cf = (
        SEGMENT_AMOUNT[segment]
        * np.exp(0.35 * world.strat_normal(rng, cell * 2 + won) - 0.061)
        * world.size_factor[month]
    )
    amount_cf = np.round(amount_cf, -1)
    amount = np.round(amount_cf * (1 + fx.DEAL_SIZE_REL * dose), 2)
    margin = 0.42 + 0.05 * world.strat_normal(rng, cell * 2 + won) + fx.GROSS_MARGIN_ABS * dose
    cost = np.round(amount * (1 - margin), 2)
    stage = np.where(won, "Closed Won", "Closed Lost").astype(object)
    open_stage = np.array(OPEN_STAGES, dtype=object)[rng.integers(0, len(OPEN_STAGES), n)]
    stage = np.where(is_closed, stage, open_stage)
    return _Outcome(
        created=created,
        closed=closed,
        closed_cf=closed_cf,
        is_closed=is_closed,
        won=won & is_closed,
        won_cf=won_cf & (closed_cf < world.end_us),
        p_win=p,
        treated=treated,
        dose=dose,
        amount=amount,
        amount_cf=amount_cf,
        cost=cost,
        stage=stage,
    )


def _churn(
    world: World,
    rng: np.random.Generator,
    team: np.ndarray,
    start: np.ndarray,
    start_cf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Churn times of customers active from `start`: hazard falls at go-live.

    Also the churn time without the CRM (same draw, hazard never falls) of customers
    active from `start_cf` (int64 max: not a customer without the CRM).
    """
    month_us = 30.4375 * US_PER_DAY
    h0 = -math.log(fx.RETENTION_BASE) / 12 / month_us
    # a step at go-live in every design (no ramp), scaled by the design's effect size
    h1 = -math.log(fx.RETENTION_BASE + fx.RETENTION_ABS * world.design.effect_scale) / 12 / month_us
    e = -np.log1p(-world.strat(rng, team))
    g = world.go_live_us[team].astype(np.float64)
    a = start.astype(np.float64)
    before = np.maximum(g - a, 0.0) * h0
    t = np.where(
        a >= g,
        a + e / h1,
        np.where(e <= before, a + e / h0, g + (e - before) / h1),
    )
    t_cf = start_cf.astype(np.float64) + e / h0
    return np.minimum(t, 9.0e18).astype(np.int64), np.minimum(t_cf, 9.0e18).astype(np.int64)


def _realised(
    world: World, team: np.ndarray, out: dict[str, np.ndarray], absent_cf: np.ndarray
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[list[float]]]]]:
    """Realised effects on won deals and sales volume: actual against the same draws
    without the CRM (deals it induced absent, the rest won at p_cf, at amount_cf,
    closed at their own pace). Overall over treated deals closed in the period, and
    per team and creation month (0..35) over deals closed by the end (USD, counts).

    For the ratios avg_deal_size (won amount / won deals) and calls_per_won_deal
    (expected calls / won deals) the grids also hold each side's denominator
    (`actual_den`, `counterfactual_den`): the exact answer over a set of team-months
    weights each month's ratio change by its actual denominator, as the estimator
    does. Without the CRM a deal closes at `closed_cf`, so a deal the CRM closed
    before the data's end may still be open there (its calls counted, no win)."""
    won_cf = out["won_cf"] & ~absent_cf
    t = out["treated"] & out["is_closed"]
    vol, vol_cf = out["amount"] * out["won"], out["amount_cf"] * won_cf
    pairs = {"sales_volume": (vol, vol_cf), "won_deals": (out["won"] * 1.0, won_cf * 1.0)}
    overall = {}
    for name, (a, c) in pairs.items():
        sa, sc = float(a[t].sum()), float(c[t].sum())
        overall[name] = {"change_rel": round(sa / sc - 1, 4) if sc else 0.0}
    p_cf = out["p_win"] - fx.WIN_RATE_ABS * out["dose"]
    closed_cf = out["closed_cf"] < world.end_us
    calls = fx.expected_calls(out["won"], out["p_win"], out["is_closed"], out["dose"])
    calls_cf = fx.expected_calls(out["won_cf"], p_cf, closed_cf, np.zeros_like(p_cf))
    calls_cf = np.where(absent_cf, 0.0, calls_cf)
    ratios = {
        "avg_deal_size": (vol, vol_cf, out["won"] * 1.0, won_cf * 1.0),
        "calls_per_won_deal": (calls, calls_cf, out["won"] * 1.0, won_cf * 1.0),
    }
    month = world.month_of(out["created"])
    inside = out["created"] >= world.start_us
    cell = (team * N_MONTHS + month)[inside]
    size = len(TEAMS) * N_MONTHS

    def grid(x: np.ndarray, digits: int) -> list[list[float]]:
        g = np.bincount(cell, weights=x[inside], minlength=size).reshape(len(TEAMS), N_MONTHS)
        return np.round(g, digits).tolist()

    by_cell: dict[str, dict[str, list[list[float]]]] = {
        name: {"actual": grid(a, 2), "counterfactual": grid(c, 2)} for name, (a, c) in pairs.items()
    }
    for name, (a, c, da, dc) in ratios.items():
        by_cell[name] = {
            "actual": grid(a, 4),
            "counterfactual": grid(c, 4),
            "actual_den": grid(da, 4),
            "counterfactual_den": grid(dc, 4),
        }
    return overall, by_cell


def make_sales(world: World, reps: Reps) -> Sales:
    """Leads, accounts and deals (new and expansion) for the whole period."""
    n_teams = len(TEAMS)
    # -- leads ------------------------------------------------------------------
    rng = world.rng()
    rate = (
        LEADS_PER_SLOT_MONTH
        * reps.team_slot_count[:, None].astype(np.float64)
        * world.month_factor[None, :]
    )
    counts = rng.poisson(rate).ravel()
    cell = np.repeat(np.arange(n_teams * N_MONTHS), counts)
    l_team, l_month = cell // N_MONTHS, cell % N_MONTHS
    l_created = world.in_month(rng, l_month)
    # warm-up leads before the start: their deals and accounts are kept, the leads not
    warm = rng.poisson(rate[:, 0] * WARMUP_MONTHS)
    w_team = np.repeat(np.arange(n_teams), warm)
    warm_us = WARMUP_MONTHS * 30.4375 * US_PER_DAY
    w_created = world.start_us - 1 - (rng.random(w_team.size) * warm_us).astype(np.int64)
    l_team = np.concatenate([w_team, l_team])
    l_created = business_time(np.concatenate([w_created, l_created]))
    order = np.lexsort((l_team, l_created))
    l_team, l_created = l_team[order], l_created[order]
    n_leads = len(l_team)
    l_slot = reps.random_slot(rng, l_team)
    l_owner = reps.rep_at(l_slot, l_created)
    l_cell = world.cell(l_team, l_created)
    cum_share = np.cumsum(fx.LEAD_SOURCE_SHARE)[:-1]
    l_source = np.searchsorted(cum_share, world.strat(rng, l_cell), side="right")
    l_segment = np.searchsorted(
        np.cumsum(SEGMENT_SHARE)[:-1], world.strat(rng, l_cell), side="right"
    )
    l_treated = world.treated(l_team, l_created)
    base = np.array(fx.LEAD_CONVERSION_BASE)[l_source]
    p_conv = base + np.array(fx.LEAD_CONVERSION_ABS)[l_source] * world.dose(l_team, l_created)
    l_quarter = l_team * 12 + world.month_of(l_created) // 3
    strata = ((l_quarter * len(fx.LEAD_SOURCES) + l_source) * 3 + l_segment) * 2 + l_treated
    u = world.strat(rng, strata)
    lag = ((2 + rng.exponential(14.0, n_leads)) * US_PER_DAY).astype(np.int64)
    l_conv_at = np.maximum(business_time(l_created + lag), l_created + US_PER_DAY // 24)
    converted = (u < p_conv) & (l_conv_at < world.end_us)
    induced = converted & (u >= base)
    recent = l_created > world.end_us - 45 * US_PER_DAY
    l_status = np.where(rng.random(n_leads) < 0.7, "disqualified", "nurturing").astype(object)
    l_status[recent] = "working"
    l_status[converted] = "converted"
    l_until = np.where(converted, l_conv_at, business_time(l_created + 30 * US_PER_DAY))
    l_until = np.minimum(l_until, world.end_us - 1)

    # -- accounts: pre-existing ones, then one per converted lead -----------------
    rng = world.rng()
    n_pre = max(n_teams, round(1750 * world.scale))
    pre_team = rng.choice(n_teams, n_pre, p=reps.team_slot_count / reps.team_slot_count.sum())
    pre_created = world.start_us - int(warm_us) - rng.integers(1, 8 * 365, n_pre) * US_PER_DAY
    pre_created = np.sort(business_time(pre_created + rng.integers(0, US_PER_DAY, n_pre)))
    pre_customer = rng.random(n_pre) < 0.8
    conv = np.flatnonzero(converted)
    conv = conv[np.argsort(l_conv_at[conv], kind="stable")]
    n_acc = n_pre + conv.size
    a_team = np.concatenate([pre_team, l_team[conv]])
    a_slot = np.concatenate([reps.random_slot(rng, pre_team), l_slot[conv]])
    a_created = np.concatenate([pre_created, l_conv_at[conv]])
    a_segment = np.concatenate([rng.choice(3, n_pre, p=SEGMENT_SHARE), l_segment[conv]])
    a_owner = reps.rep_at(a_slot, np.maximum(a_created, world.start_us))
    lead_account = np.full(n_leads, -1, dtype=np.int64)
    lead_account[conv] = n_pre + np.arange(conv.size)
    region = np.array(TEAM_REGION)[a_team]
    a_country = np.zeros(n_acc, dtype=np.int64)
    for reg in sorted(set(TEAM_REGION)):
        names = [c for c in COUNTRY_NAMES if COUNTRIES[c].region == reg]
        share = np.array([COUNTRIES[c].share for c in names])
        sel = np.flatnonzero(region == reg)
        pick = rng.choice(len(names), sel.size, p=share / share.sum())
        a_country[sel] = np.array([COUNTRY_NAMES.index(c) for c in names])[pick]
    a_name, a_slug = companies(rng, a_country, COUNTRY_NAMES)
    credit = rng.choice(3, n_acc, p=[0.9, 0.07, 0.03])
    account_ids = make_ids("A", n_acc, 6)

    # -- new deals: one per converted lead -------------------------------------
    rng = world.rng()
    n_team, n_seg = l_team[conv], l_segment[conv]
    n_rep = l_owner[conv]
    new = _outcomes(world, rng, n_team, n_rep, n_seg, l_conv_at[conv], reps.rep_skill)

    # -- customers and churn ----------------------------------------------------
    rng = world.rng()
    never = np.iinfo(np.int64).max
    first_win = np.full(n_acc, never, dtype=np.int64)
    first_win[:n_pre][pre_customer] = world.start_us - int(warm_us)
    first_win[n_pre:][new.won] = new.closed[new.won]
    is_customer = first_win < never
    # without the CRM: induced deals do not exist, the others close at their own pace
    first_win_cf = first_win.copy()
    first_win_cf[n_pre:] = np.where(new.won_cf & ~induced[conv], new.closed_cf, never)
    active_to = np.full(n_acc, world.end_us, dtype=np.int64)
    active_to_cf = np.full(n_acc, world.end_us, dtype=np.int64)
    churn, churn_cf = _churn(
        world, rng, a_team[is_customer], first_win[is_customer], first_win_cf[is_customer]
    )
    active_to[is_customer] = np.minimum(churn, world.end_us)
    active_to_cf[is_customer] = np.minimum(churn_cf, world.end_us)

    # -- expansion deals while customers are active -----------------------------
    rng = world.rng()
    cust = np.flatnonzero(is_customer)
    owner, x_created = world.events(
        rng, first_win[cust], active_to[cust], EXPANSION_PER_MONTH, demand=True
    )
    x_raw, x_created = x_created, business_time(x_created)
    x_acc = cust[owner]
    x_team = a_team[x_acc]
    x_rep = reps.rep_at(a_slot[x_acc], x_created)
    x_kind = rng.choice([1, 2, 3], x_acc.size, p=[0.35, 0.25, 0.40])
    x_source_idx = np.full(x_acc.size, -1, dtype=np.int64)
    exp = _outcomes(world, rng, x_team, x_rep, a_segment[x_acc], x_created, reps.rep_skill)
    # an expansion deal exists without the CRM when its account is a customer then
    x_exists_cf = (x_raw >= first_win_cf[x_acc]) & (x_raw < active_to_cf[x_acc])

    # -- all deals, sorted by creation -----------------------------------------
    d_acc = np.concatenate([n_pre + np.arange(conv.size), x_acc])
    d_team = np.concatenate([n_team, x_team])
    d_rep = np.concatenate([n_rep, x_rep])
    d_kind = np.concatenate([np.zeros(conv.size, dtype=np.int64), x_kind])
    d_source = np.concatenate([l_source[conv], x_source_idx])
    d_lead = np.concatenate([conv, np.full(x_acc.size, -1, dtype=np.int64)])
    d_induced = np.concatenate([induced[conv], ~x_exists_cf])
    out = {
        k: np.concatenate([getattr(new, k), getattr(exp, k)]) for k in _Outcome.__dataclass_fields__
    }
    order = np.lexsort((d_acc, out["created"]))
    d_acc, d_team, d_rep, d_kind = d_acc[order], d_team[order], d_rep[order], d_kind[order]
    d_source, d_lead, d_induced = d_source[order], d_lead[order], d_induced[order]
    out = {k: v[order] for k, v in out.items()}
    n_deals = len(d_acc)
    deal_ids = make_ids("D", n_deals, 7)
    lead_deal = np.full(n_leads, -1, dtype=np.int64)
    has_lead = d_lead >= 0
    lead_deal[d_lead[has_lead]] = np.flatnonzero(has_lead)
    product = rng.choice(len(PRODUCTS), n_deals, p=[0.35, 0.15, 0.15, 0.15, 0.1, 0.1])
    sources = [*fx.LEAD_SOURCES, "customer_base"]
    d_source = np.where(d_source < 0, len(fx.LEAD_SOURCES), d_source)
    is_closed = out["is_closed"]

    realised, by_team_month = _realised(world, d_team, out, d_induced)

    # leads from the warm-up are not part of the data set (they come first)
    n_warm = int(w_team.size)
    keep = slice(n_warm, None)
    n_kept = n_leads - n_warm
    lead_ids = make_ids("L", n_kept, 6)
    seed = world.seed
    rep_ids = reps.table.column("rep_id").combine_chunks()
    tables = {
        "accounts": finish(
            "accounts",
            {
                "account_id": account_ids,
                "name": pa.array(a_name, pa.string()),
                "segment": take(list(SEGMENTS), a_segment),
                "industry": take(list(INDUSTRIES), rng.integers(0, len(INDUSTRIES), n_acc)),
                "region": pa.array(region, pa.string()),
                "country": take(COUNTRY_NAMES, a_country),
                "created_at": ts(a_created),
                "owner_rep_id": take(rep_ids, a_owner),
                "credit_status": take(["ok", "watch", "hold"], credit),
            },
            seed,
        ),
        "leads": finish(
            "leads",
            {
                "lead_id": lead_ids,
                "created_at": ts(l_created[keep]),
                "source": take(list(fx.LEAD_SOURCES), l_source[keep]),
                "status": pa.array(l_status[keep], pa.string()),
                "owner_rep_id": take(rep_ids, l_owner[keep]),
                "converted_at": ts(l_conv_at[keep], mask=~converted[keep]),
                "account_id": take(account_ids, lead_account[keep]),
                "deal_id": take(deal_ids, lead_deal[keep]),
                "segment": take(list(SEGMENTS), l_segment[keep]),
            },
            seed,
        ),
        "deals": finish(
            "deals",
            {
                "deal_id": deal_ids,
                "name": pa.nulls(len(deal_ids), pa.string()),  # demo deals have no titles
                "account_id": take(account_ids, d_acc),
                "owner_rep_id": take(rep_ids, d_rep),
                "source": take(sources, d_source),
                "kind": take(list(KINDS), d_kind),
                "created_at": ts(out["created"]),
                "closed_at": ts(out["closed"], mask=~is_closed),
                "stage": pa.array(out["stage"], pa.string()),
                "is_closed": pa.array(is_closed),
                "is_won": pa.array(out["won"]),
                "amount": money(out["amount"]),
                "cost": money(out["cost"]),
                "product": take(list(PRODUCTS), product),
            },
            seed,
        ),
    }
    return Sales(
        tables=tables,
        account_team=a_team,
        account_slot=a_slot,
        account_segment=a_segment,
        account_country=a_country,
        account_slug=a_slug,
        account_ids=account_ids,
        active_from=np.where(is_customer, np.maximum(first_win, world.start_us), never),
        active_to=active_to,
        deals=Deals(
            team=d_team,
            slot=a_slot[d_acc],
            account=d_acc,
            created=out["created"],
            end=np.where(is_closed, out["closed"], world.end_us - 1),
            is_closed=is_closed,
            won=out["won"],
            p_win=out["p_win"],
            treated=out["treated"],
            segment=a_segment[d_acc],
            dose=out["dose"],
            amount=out["amount"],
        ),
        deal_ids=deal_ids,
        lead_created=l_created[keep],
        lead_until=l_until[keep],
        lead_owner=l_owner[keep],
        lead_source=l_source[keep],
        lead_ids=lead_ids,
        realised=realised,
        realised_by_team_month=by_team_month,
    )
