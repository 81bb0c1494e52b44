"""Activities of the demo company: calls, e-mails, meetings, visits, tasks, chats, faxes.

Three streams: activities on deals (between creation and closing), on leads (while
they are worked) and on active customer accounts (relationship care). Calls exist
only on deals, at an expected `calls per won deal` times the deal's win
probability, so calls / won deals equals that constant; the CRM cuts it by 20%.
Faxes stop at a team's go-live. Who logs what, and when reps start working in the
CRM, follow `crmroi.demo.adoption`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from crmroi.demo import adoption as people
from crmroi.demo import effects as fx
from crmroi.demo.columns import business_time, finish, make_ids, take, ts
from crmroi.demo.company import Reps, World
from crmroi.demo.sales import Sales
from crmroi.demo.service import Service, random_contact

KINDS: tuple[str, ...] = ("call", "email", "meeting", "visit", "fax", "chat", "task")
CALL, EMAIL, MEETING, VISIT, FAX, CHAT, TASK = range(len(KINDS))
INBOUND_SHARE = np.array([0.3, 0.45, 0.0, 0.0, 0.5, 1.0, 0.0])  # per kind
HAS_DIRECTION = np.array([True, True, False, False, True, True, False])
MEDIAN_MINUTES = np.array([6.0, 3.0, 40.0, 120.0, 5.0, 8.0, 15.0])
# Expected activities per deal by segment (SMB, Mid-market, Enterprise) and kind;
# calls are set separately from the win probability.
DEAL_RATES = np.array(
    [
        [0.0, 12.0, 1.0, 0.15, 0.12, 0.6, 4.0],
        [0.0, 17.0, 2.2, 0.8, 0.12, 0.6, 5.5],
        [0.0, 24.0, 4.0, 2.2, 0.12, 0.4, 8.0],
    ]
)
LEAD_RATES = np.array([0.0, 2.4, 0.2, 0.0, 0.0, 0.4, 1.2])  # per lead
ACCOUNT_RATES = np.array([0.0, 1.6, 0.25, 0.08, 0.0, 0.2, 0.7])  # per customer-month


def _expand(rng: np.random.Generator, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per (row, kind): repeated row index and kind of each activity."""
    counts = rng.poisson(rates).ravel()
    n, k = rates.shape
    row = np.repeat(np.repeat(np.arange(n), k), counts)
    kind = np.repeat(np.tile(np.arange(k), n), counts)
    return row, kind


def _uniform(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (rng.random(lo.size) * np.maximum(hi - lo, 1)).astype(np.int64)


def make_activities(
    world: World, reps: Reps, sales: Sales, service: Service, adopted: np.ndarray
) -> pa.Table:
    """All activities, sorted by time, with rep, account, contact, lead and deal links;
    `adopted` is each rep's adoption month (`crmroi.demo.adoption.adoption_months`)."""
    rng = world.rng()
    second_slot, second_share = people.second_reps(world, reps, sales.account_slot)
    pick = people.rng_for(world, 3)
    d = sales.deals
    # -- on deals -------------------------------------------------------------------
    rates = DEAL_RATES[d.segment].copy()
    rates[:, CALL] = fx.expected_calls(d.won, d.p_win, d.is_closed, d.dose)
    rates[:, FAX] *= ~d.treated
    rates *= (d.end >= world.start_us)[:, None]  # deals over before the start: no activities
    row, kind1 = _expand(rng, rates)
    lo = np.maximum(d.created[row], world.start_us)
    t1 = np.clip(business_time(_uniform(rng, lo, d.end[row])), lo, d.end[row])
    acc1 = d.account[row]
    slot1 = np.where(pick.random(row.size) < second_share[acc1], second_slot[acc1], d.slot[row])
    rep1 = reps.rep_at(slot1, t1)
    contact1 = random_contact(rng, service, acc1)
    deal1 = row
    lead1 = np.full(row.size, -1, dtype=np.int64)
    # -- on leads ---------------------------------------------------------------------
    n_leads = len(sales.lead_created)
    row, kind2 = _expand(rng, np.broadcast_to(LEAD_RATES, (n_leads, len(KINDS))))
    lo, hi = sales.lead_created[row], sales.lead_until[row]
    t2 = np.clip(business_time(_uniform(rng, lo, hi)), lo, hi)
    rep2 = sales.lead_owner[row]
    lead2 = row
    none2 = np.full(row.size, -1, dtype=np.int64)
    # -- on customer accounts -------------------------------------------------------
    cust = np.flatnonzero(sales.active_from < sales.active_to)
    owner, t3 = world.events(
        rng, sales.active_from[cust], sales.active_to[cust], ACCOUNT_RATES.sum(), demand=False
    )
    t3 = business_time(t3)
    kind3 = rng.choice(len(KINDS), owner.size, p=ACCOUNT_RATES / ACCOUNT_RATES.sum())
    acc3 = cust[owner]
    slot3 = np.where(
        pick.random(acc3.size) < second_share[acc3], second_slot[acc3], sales.account_slot[acc3]
    )
    rep3 = reps.rep_at(slot3, t3)
    contact3 = random_contact(rng, service, acc3)
    none3 = np.full(owner.size, -1, dtype=np.int64)
    # -- together ---------------------------------------------------------------------
    t = np.concatenate([t1, t2, t3])
    order = np.argsort(t, kind="stable")
    t = t[order]
    kind = np.concatenate([kind1, kind2, kind3])[order]
    rep = np.concatenate([rep1, rep2, rep3])[order]
    acc = np.concatenate([acc1, none2, acc3])[order]
    contact = np.concatenate([contact1, none2, contact3])[order]
    lead = np.concatenate([lead1, lead2, none3])[order]
    deal = np.concatenate([deal1, none2, none3])[order]
    del t1, t2, t3, kind1, kind2, kind3, rep1, rep2, rep3
    hand = np.isin(kind, [KINDS.index(k) for k in people.HAND_KINDS])
    keep = people.keep_logged(world, reps, adopted, rep, t, hand)
    t, kind, rep, acc, contact, lead, deal = (
        x[keep] for x in (t, kind, rep, acc, contact, lead, deal)
    )
    n = t.size
    inbound = rng.random(n) < INBOUND_SHARE[kind]
    direction = np.where(HAS_DIRECTION[kind], inbound.astype(np.int64), -1)
    minutes = np.round(MEDIAN_MINUTES[kind] * rng.lognormal(0.0, 0.5, n), 1)
    contact_ids = service.tables["contacts"].column("contact_id").combine_chunks()
    return finish(
        "activities",
        {
            "activity_id": make_ids("AC", n, 7),
            "occurred_at": ts(t),
            "kind": take(list(KINDS), kind),
            "direction": take(["outbound", "inbound"], direction),
            "rep_id": take(reps.table.column("rep_id").combine_chunks(), rep),
            "account_id": take(sales.account_ids, acc),
            "contact_id": take(contact_ids, contact),
            "lead_id": take(sales.lead_ids, lead),
            "deal_id": take(sales.deal_ids, deal),
            "duration_minutes": pa.array(minutes, pa.float64()),
        },
        world.seed,
    )
