"""Contacts, repeat orders and service tickets of the demo company.

Customers order and raise tickets only while active (between their first win and
their churn), so the CRM's retention effect shows in who keeps ordering. Gross
margin of orders and ticket satisfaction carry the CRM effect after go-live.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.demo import effects as fx
from crmroi.demo.columns import business_time, finish, make_ids, money, take, ts
from crmroi.demo.company import N_MONTHS, Reps, World
from crmroi.demo.names import COUNTRIES, TITLES, people
from crmroi.demo.sales import PRODUCTS, Sales

ORDER_AMOUNT = np.array([1_800.0, 6_500.0, 24_000.0])  # median order by segment, USD
ORDERS_PER_MONTH = 0.55  # per active customer
TICKETS_PER_MONTH = 0.22  # per active customer
CHANNELS: tuple[str, ...] = ("phone", "email", "chat", "web", "portal")
CHANNEL_SHARE = np.array([0.35, 0.30, 0.15, 0.12, 0.08])
CHANNEL_COST = np.array([22.0, 12.0, 8.0, 9.0, 6.0])  # median cost per ticket, USD
CSAT_RESPONSE = 0.55  # share of tickets with a satisfaction answer


@dataclass
class Service:
    """Outputs of the service step."""

    tables: dict[str, pa.Table]
    contact_start: np.ndarray  # first contact index of each account
    contact_count: np.ndarray
    ticket_cost_by_month: np.ndarray  # USD per month (36)
    order_ids: pa.Array


def random_contact(rng: np.random.Generator, service: Service, account: np.ndarray) -> np.ndarray:
    """A random contact index of each given account."""
    u = rng.random(len(account))
    return service.contact_start[account] + (u * service.contact_count[account]).astype(np.int64)


def _contacts(
    world: World, rng: np.random.Generator, sales: Sales
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    n_acc = len(sales.account_team)
    count = rng.choice([1, 2, 3, 4], n_acc, p=[0.3, 0.3, 0.25, 0.15])
    count = count + (sales.account_segment == 2)  # enterprises have a few more
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    acc = np.repeat(np.arange(n_acc), count)
    n = acc.size
    country_names = list(COUNTRIES)
    country = sales.account_country[acc]
    name, local = people(rng, country, country_names)
    tld = np.array([COUNTRIES[c].tld for c in country_names], dtype=object)[country]
    domain = sales.account_slug[acc]
    email = pc.binary_join_element_wise(
        pa.array(local, pa.string()),
        pa.array("@" + domain + "." + tld, pa.string()),
        "",
    )
    prefix = np.array([COUNTRIES[c].phone for c in country_names], dtype=object)[country]
    digits = pc.utf8_lpad(
        pc.cast(pa.array(rng.integers(0, 10**9, n)), pa.string()), width=9, padding="0"
    )
    area = pc.utf8_slice_codeunits(digits, 0, 3)
    rest = pc.utf8_slice_codeunits(digits, 3, 9)
    phone = pc.binary_join_element_wise(pa.array(prefix, pa.string()), area, rest, " ")
    table = finish(
        "contacts",
        {
            "contact_id": make_ids("C", n, 6),
            "account_id": take(sales.account_ids, acc),
            "name": pa.array(name, pa.string()),
            "email": email,
            "phone": phone,
            "title": take(list(TITLES), rng.integers(0, len(TITLES), n)),
        },
        world.seed,
    )
    return table, start, count


def _orders(world: World, rng: np.random.Generator, sales: Sales) -> tuple[pa.Table, pa.Array]:
    cust = np.flatnonzero(sales.active_from < sales.active_to)
    owner, at = world.events(
        rng, sales.active_from[cust], sales.active_to[cust], ORDERS_PER_MONTH, demand=True
    )
    acc = cust[owner]
    order = np.lexsort((acc, at))
    acc, at = acc[order], business_time(at[order])
    n = acc.size
    seg = sales.account_segment[acc]
    month = world.month_of(at)
    amount = ORDER_AMOUNT[seg] * rng.lognormal(-0.08, 0.4, n) * world.size_factor[month]
    amount = np.round(amount, 2)
    margin = (
        0.38
        + rng.normal(0.0, 0.05, n)
        + fx.GROSS_MARGIN_ABS * world.dose(sales.account_team[acc], at)
    )
    ids = make_ids("O", n, 7)
    table = finish(
        "orders",
        {
            "order_id": ids,
            "account_id": take(sales.account_ids, acc),
            "ordered_at": ts(at),
            "amount": money(amount),
            "cost": money(amount * (1 - margin)),
            "product": take(list(PRODUCTS), rng.integers(0, len(PRODUCTS), n)),
        },
        world.seed,
    )
    return table, ids


def _tickets(world: World, rng: np.random.Generator, sales: Sales) -> tuple[pa.Table, np.ndarray]:
    cust = np.flatnonzero(sales.active_from < sales.active_to)
    owner, opened = world.events(
        rng, sales.active_from[cust], sales.active_to[cust], TICKETS_PER_MONTH, demand=False
    )
    acc = cust[owner]
    order = np.lexsort((acc, opened))
    acc, opened = acc[order], business_time(opened[order])
    n = acc.size
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
    hours = rng.exponential(30.0, n) + 0.25
    closed = opened + (hours * 3_600_000_000).astype(np.int64)
    is_closed = closed < world.end_us
    answered = (rng.random(n) < CSAT_RESPONSE) & is_closed
    u = world.strat(rng, world.cell(sales.account_team[acc], opened) * 2 + answered)
    cdf_before = np.cumsum(fx.CSAT_PROBS_BEFORE)
    cdf_after = np.cumsum(fx.CSAT_PROBS_AFTER)
    # the answer distribution moves from before to after by the row's dose
    dose = world.dose(sales.account_team[acc], opened)[:, None]
    cdf = cdf_before[None, :] + dose * (cdf_after - cdf_before)[None, :]
    score = (u[:, None] >= cdf).sum(axis=1)
    score = np.minimum(score, 4) + 1.0
    cost = CHANNEL_COST[channel] * rng.lognormal(-0.1, 0.45, n)
    by_month = np.bincount(world.month_of(opened), weights=cost, minlength=N_MONTHS)
    table = finish(
        "tickets",
        {
            "ticket_id": make_ids("T", n, 6),
            "account_id": take(sales.account_ids, acc),
            "opened_at": ts(opened),
            "closed_at": ts(closed, mask=~is_closed),
            "channel": take(list(CHANNELS), channel),
            "csat": pa.array(score, pa.float64(), mask=~answered),
            "cost": money(cost),
        },
        world.seed,
    )
    return table, by_month


def make_service(world: World, reps: Reps, sales: Sales) -> Service:
    """Contacts of every account, orders and tickets of active customers."""
    del reps  # service rows are not owned by reps
    contacts, start, count = _contacts(world, world.rng(), sales)
    orders, order_ids = _orders(world, world.rng(), sales)
    tickets, ticket_cost = _tickets(world, world.rng(), sales)
    return Service(
        tables={"contacts": contacts, "orders": orders, "tickets": tickets},
        contact_start=start,
        contact_count=count,
        ticket_cost_by_month=ticket_cost,
        order_ids=order_ids,
    )
