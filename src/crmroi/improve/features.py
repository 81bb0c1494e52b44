"""Leakage-guarded features for lead and deal scoring.

Every feature of a record is known when the record is created: its own fields that
are set at creation (source, segment, kind, product, owner), static facts about its
owner and account, and the account's history strictly before the record's
`created_at`. Fields that are only known after the outcome are never read:

- leads: `status`, `converted_at`, `deal_id`, `account_id` (set on conversion);
- deals: `stage`, `closed_at`, `is_closed`, `is_won`, `amount`, `cost` (the amount
  table holds its final value, changed up to the close).

They feed only the label (`LEAKY_COLUMNS` lists them; the tests scramble them and
check that the features do not change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["leads", "deals"]

LEAKY_COLUMNS: dict[Kind, tuple[str, ...]] = {
    "leads": ("status", "converted_at", "deal_id", "account_id"),
    "deals": ("stage", "closed_at", "is_closed", "is_won", "amount", "cost"),
}
# Lead statuses that close a lead without a conversion (lower-cased).
LOST_STATUSES = frozenset(
    {"disqualified", "unqualified", "lost", "closed lost", "junk", "rejected", "dead", "closed"}
)
CONVERTED_STATUSES = frozenset({"converted", "qualified", "won", "closed won"})
MISSING = "(none)"


@dataclass(frozen=True)
class Examples:
    """One row per lead or deal: features, outcome and whether it is still open.

    `label` is 1.0 (converted / won), 0.0 (not converted / lost) or NaN while the
    outcome is unknown; `open` marks the records to score.
    """

    kind: Kind
    ids: pd.Series
    created_at: pd.Series
    features: pd.DataFrame
    label: pd.Series
    open: pd.Series

    @property
    def categorical(self) -> list[str]:
        f = self.features
        return [str(c) for c in f.columns if not pd.api.types.is_numeric_dtype(f[c])]

    @property
    def numeric(self) -> list[str]:
        f = self.features
        return [str(c) for c in f.columns if pd.api.types.is_numeric_dtype(f[c])]

    def resolved(self) -> pd.Series:
        """Rows whose outcome is known (the training and hold-out population)."""
        return self.label.notna()


def _text(values: pd.Series) -> pd.Series:
    out = values.astype("object").where(values.notna(), MISSING)
    return out.map(lambda v: str(v).strip() or MISSING).astype("object")


def _rep_facts(frame: pd.DataFrame, rep_column: str, reps: pd.DataFrame | None) -> pd.DataFrame:
    """The owner's team and region (static facts about the rep)."""
    out = pd.DataFrame(index=frame.index)
    out["owner"] = _text(frame[rep_column])
    if reps is not None and len(reps):
        lookup = reps.drop_duplicates("rep_id").set_index("rep_id")
        for column in ("team", "region"):
            out[f"owner_{column}"] = _text(frame[rep_column].map(lookup[column]))
    return out


def lead_examples(
    leads: pd.DataFrame,
    deals: pd.DataFrame | None,
    reps: pd.DataFrame | None,
    as_of: pd.Timestamp,
    maturity_days: int = 90,
) -> Examples:
    """Lead features and conversion outcome.

    A lead counts as converted when it has `converted_at`, a `deal_id`, a converted
    status, or a deal whose `deal_id` equals its `lead_id` (one deal per lead, as in
    the Olist funnel). It counts as not converted when its status closes it
    (`LOST_STATUSES`) or when it is older than `maturity_days` at `as_of` without a
    conversion; younger unconverted leads are open.
    """
    leads = leads.reset_index(drop=True)
    created = pd.to_datetime(leads["created_at"])
    features = pd.DataFrame(index=leads.index)
    features["source"] = _text(leads["source"])
    if "segment" in leads and leads["segment"].notna().any():
        features["segment"] = _text(leads["segment"])
    if "owner_rep_id" in leads and leads["owner_rep_id"].notna().any():
        features = features.join(_rep_facts(leads, "owner_rep_id", reps))
    features["weekday"] = created.dt.day_name().astype("object")

    status = leads["status"].astype("object").fillna("").map(lambda s: str(s).strip().lower())
    deal_ids = set() if deals is None else set(deals["deal_id"].dropna())
    converted = (
        leads["converted_at"].notna()
        | leads["deal_id"].notna()
        | status.isin(CONVERTED_STATUSES)
        | leads["lead_id"].isin(deal_ids)
    )
    matured = created < as_of - pd.Timedelta(days=maturity_days)
    lost = ~converted & (status.isin(LOST_STATUSES) | matured)
    label = pd.Series(np.where(converted, 1.0, np.where(lost, 0.0, np.nan)), index=leads.index)
    return Examples(
        "leads", leads["lead_id"], created, features, label, label.isna() & (created <= as_of)
    )


def _prior_counts(
    queries: pd.DataFrame, events: pd.DataFrame, time_column: str, value: str | None = None
) -> pd.DataFrame:
    """Per query row: the number (and sum of `value`) of its account's events strictly
    before the query's `created_at`."""
    events = events.dropna(subset=["account_id", time_column]).sort_values(time_column)
    events = events.assign(_n=1.0, _v=events[value] if value else 0.0)
    events[["_n", "_v"]] = events.groupby("account_id")[["_n", "_v"]].cumsum()
    q = queries[["account_id", "created_at"]].reset_index().dropna()
    q = q.sort_values("created_at")
    merged = pd.merge_asof(
        q,
        events[["account_id", time_column, "_n", "_v"]].rename(columns={time_column: "_t"}),
        left_on="created_at",
        right_on="_t",
        by="account_id",
        allow_exact_matches=False,
    ).set_index("index")
    out = pd.DataFrame(index=queries.index)
    out["n"] = merged["_n"].reindex(queries.index).fillna(0.0)
    out["v"] = merged["_v"].reindex(queries.index).fillna(0.0)
    return out


def deal_examples(
    deals: pd.DataFrame,
    accounts: pd.DataFrame | None,
    reps: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    as_of: pd.Timestamp,
) -> Examples:
    """Deal features and won/lost outcome (closed deals are labelled, open ones scored).

    Numeric features (all counted strictly before the deal's `created_at`): the
    account's age in days, its earlier won and lost deals, and its earlier orders
    (count and amount in the base currency, log-scaled).
    """
    deals = deals.dropna(subset=["created_at"]).reset_index(drop=True)
    created = pd.to_datetime(deals["created_at"])
    features = pd.DataFrame(index=deals.index)
    for column in ("source", "kind", "product"):
        if column in deals and deals[column].notna().any():
            features[column] = _text(deals[column])
    if "owner_rep_id" in deals and deals["owner_rep_id"].notna().any():
        features = features.join(_rep_facts(deals, "owner_rep_id", reps))
    if accounts is not None and len(accounts):
        lookup = accounts.drop_duplicates("account_id").set_index("account_id")
        for column in ("segment", "industry", "region", "country"):
            values = deals["account_id"].map(lookup[column])
            if values.notna().any():
                features[f"account_{column}"] = _text(values)
        since = created - deals["account_id"].map(lookup["created_at"])
        features["account_age_days"] = (since.dt.days.clip(lower=0)).fillna(0.0).astype(float)
    closed = deals[deals["is_closed"].fillna(False).astype(bool)]
    won = closed[closed["is_won"].fillna(False).astype(bool)]
    lost = closed[~closed["is_won"].fillna(False).astype(bool)]
    features["prior_won_deals"] = _prior_counts(deals, won, "closed_at")["n"]
    features["prior_lost_deals"] = _prior_counts(deals, lost, "closed_at")["n"]
    if orders is not None and len(orders):
        prior = _prior_counts(deals, orders, "ordered_at", "amount")
        features["prior_orders"] = prior["n"]
        features["log_prior_order_amount"] = np.log1p(prior["v"].clip(lower=0.0))

    is_closed = deals["is_closed"].fillna(False).astype(bool)
    is_won = deals["is_won"].fillna(False).astype(bool)
    label = pd.Series(np.where(is_closed, is_won.astype(float), np.nan), index=deals.index)
    return Examples("deals", deals["deal_id"], created, features, label, ~is_closed)
