"""The data contract: canonical tables, their columns and types.

This module is the single source of truth for table and column names; the store
creates tables from it, the importer validates against it and the demo generator
fills it. Money columns are in the workspace's base currency (after conversion with
`fx_rates`); timestamps are naive UTC; rates are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Kind = Literal["id", "text", "timestamp", "date", "money", "number", "integer", "boolean"]

ARROW_TYPES: dict[Kind, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "money": pa.float64(),
    "number": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, kind and whether an import must provide it."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One canonical table.

    `key` names the columns that identify a row within one source system; when a
    source gives no id of its own, the importer builds `source_id` from them.
    `currency_column` is set on tables whose money columns are converted from an
    original currency; `original_amount_column` keeps the unconverted main amount.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""
    has_currency: bool = False
    time_column: str | None = None

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Content columns followed by the lineage columns every table carries."""
        lineage: list[Column] = []
        if self.has_currency:
            lineage += [
                Column("currency", "text", doc="ISO 4217 code of the original amounts"),
                Column("amount_original", "money", doc="main amount before conversion"),
            ]
        lineage += [
            Column("source_system", "text", doc="where the row came from"),
            Column("source_id", "text", doc="the row's id in its source system"),
            Column("batch_id", "text", doc="the import batch that last wrote the row"),
        ]
        return self.columns + tuple(lineage)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.all_columns]

    @property
    def content_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def money_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "money"]

    def column(self, name: str) -> Column:
        for col in self.all_columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.all_columns])


C = Column

DEAL_KINDS = ("new", "upsell", "cross_sell", "renewal")
ACTIVITY_KINDS = ("call", "email", "meeting", "visit", "fax", "chat", "task")
DIRECTIONS = ("inbound", "outbound")
SPEND_CATEGORIES = ("marketing", "sales", "service", "admin")
CRM_COST_CATEGORIES = (
    "licence",
    "subscription",
    "implementation",
    "customisation",
    "training",
    "integration",
    "infrastructure",
    "internal_labour",
    "process_change",
    "parallel_running",
    "maintenance",
    "migration",
    "exit",
    "productivity_dip",
)
CREDIT_STATUSES = ("ok", "watch", "hold")
USAGE_KINDS = ("login", "record_created", "record_edited", "other")
# the KPI names a supplied baseline can be given for: every KPI of the registry
# (`crmroi.kpi.definitions`; tests/test_supplied_baselines.py keeps the two in step,
# the store does not import the KPI engine)
SUPPLIED_KPIS = (
    "sales_volume", "won_deals", "sales_per_rep", "avg_deal_size", "win_rate",
    "sales_cycle_days", "forecast_accuracy", "relationship_concentration", "calls_inbound",
    "calls_outbound", "calls_per_won_deal", "upsell_rate", "revenue_per_customer",
    "lead_conversion_rate", "new_customer_revenue", "cac", "leads", "marketing_spend",
    "cost_per_lead", "cost_per_won_deal", "csat", "service_cost_per_ticket", "retention_rate",
    "cost_per_sales_call", "admin_time_share", "gross_margin", "cost_per_customer",
)  # fmt: skip

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "reps",
            (
                C("rep_id", "id", True),
                C("name", "text"),
                C("team", "text"),
                C("region", "text"),
                C("hired_on", "date"),
                C("left_on", "date"),
                C("monthly_cost", "money", doc="loaded cost of the rep per month"),
                C("email", "text", doc="the rep's e-mail (links CRM users to reps)"),
            ),
            key=("rep_id",),
            doc="Sales people, their team and region.",
        ),
        Table(
            "accounts",
            (
                C("account_id", "id", True),
                C("name", "text"),
                C("segment", "text"),
                C("industry", "text"),
                C("region", "text"),
                C("country", "text"),
                C("created_at", "timestamp"),
                C("owner_rep_id", "id"),
                C("credit_status", "text", choices=CREDIT_STATUSES),
            ),
            key=("account_id",),
            doc="Customer and prospect companies.",
            time_column="created_at",
        ),
        Table(
            "contacts",
            (
                C("contact_id", "id", True),
                C("account_id", "id"),
                C("name", "text"),
                C("email", "text"),
                C("phone", "text"),
                C("title", "text"),
            ),
            key=("contact_id",),
            doc="People at accounts.",
        ),
        Table(
            "leads",
            (
                C("lead_id", "id", True),
                C("created_at", "timestamp", True),
                C("source", "text"),
                C("status", "text"),
                C("owner_rep_id", "id"),
                C("converted_at", "timestamp"),
                C("account_id", "id"),
                C("deal_id", "id"),
                C("segment", "text"),
            ),
            key=("lead_id",),
            doc="Prospects before they become deals.",
            time_column="created_at",
        ),
        Table(
            "deals",
            (
                C("deal_id", "id", True),
                C("name", "text", doc="the deal's title in the CRM (links by title)"),
                C("account_id", "id"),
                C("owner_rep_id", "id"),
                C("source", "text"),
                C("kind", "text", choices=DEAL_KINDS),
                C("created_at", "timestamp"),
                C("closed_at", "timestamp"),
                C("stage", "text"),
                C("is_closed", "boolean"),
                C("is_won", "boolean"),
                C("amount", "money"),
                C("cost", "money", doc="cost of goods sold for the deal"),
                C("product", "text"),
            ),
            key=("deal_id",),
            doc="Opportunities, open and closed.",
            has_currency=True,
            time_column="created_at",
        ),
        Table(
            "activities",
            (
                C("activity_id", "id", True),
                C("occurred_at", "timestamp", True),
                C("kind", "text", True, choices=ACTIVITY_KINDS),
                C("direction", "text", choices=DIRECTIONS),
                C("rep_id", "id"),
                C("account_id", "id"),
                C("contact_id", "id"),
                C("lead_id", "id"),
                C("deal_id", "id"),
                C("duration_minutes", "number"),
            ),
            key=("activity_id",),
            doc="Calls, emails, meetings, visits and tasks.",
            time_column="occurred_at",
        ),
        Table(
            "orders",
            (
                C("order_id", "id", True),
                C("account_id", "id"),
                C("ordered_at", "timestamp", True),
                C("amount", "money", True),
                C("cost", "money"),
                C("product", "text"),
            ),
            key=("order_id",),
            doc="Invoiced orders (repeat purchases, renewals).",
            has_currency=True,
            time_column="ordered_at",
        ),
        Table(
            "tickets",
            (
                C("ticket_id", "id", True),
                C("account_id", "id"),
                C("opened_at", "timestamp", True),
                C("closed_at", "timestamp"),
                C("channel", "text"),
                C("csat", "number", doc="satisfaction score 1-5"),
                C("cost", "money"),
            ),
            key=("ticket_id",),
            doc="Service cases.",
            time_column="opened_at",
        ),
        Table(
            "spend",
            (
                C("spend_id", "id"),
                C("spent_on", "date", True),
                C("category", "text", True, choices=SPEND_CATEGORIES),
                C("source", "text"),
                C("amount", "money", True),
            ),
            key=("spent_on", "category", "source"),
            doc="Sales, marketing, service and admin spend.",
            has_currency=True,
            time_column="spent_on",
        ),
        Table(
            "time_entries",
            (
                C("rep_id", "id", True),
                C("week_start", "date", True),
                C("selling_hours", "number"),
                C("admin_hours", "number"),
            ),
            key=("rep_id", "week_start"),
            doc="Weekly hours per rep, selling versus admin.",
            time_column="week_start",
        ),
        Table(
            "forecasts",
            (
                C("team", "text", True),
                C("period_start", "date", True),
                C("forecast_amount", "money", True),
                C("made_at", "date"),
            ),
            key=("team", "period_start", "made_at"),
            doc="Sales forecasts per team and month.",
            time_column="period_start",
        ),
        Table(
            "crm_costs",
            (
                C("cost_id", "id"),
                C("incurred_on", "date", True),
                C("category", "text", True, choices=CRM_COST_CATEGORIES),
                C("amount", "money", True),
                C("one_time", "boolean"),
            ),
            key=("incurred_on", "category"),
            doc="What the CRM costs: licences, implementation, training and the rest.",
            has_currency=True,
            time_column="incurred_on",
        ),
        Table(
            "fx_rates",
            (
                C("rate_date", "date", True),
                C("currency", "text", True),
                C("rate_to_base", "number", True, doc="base currency per unit"),
            ),
            key=("rate_date", "currency"),
            doc="Exchange rates into the base currency.",
        ),
        Table(
            "supplied_baselines",
            (
                C("kpi", "text", True, choices=SUPPLIED_KPIS, doc="KPI name (docs/kpis.md)"),
                C("period_start", "date", True, doc="first day of the month the value is for"),
                C("value", "number", True, doc="the KPI's monthly value in its own unit"),
                C("source", "text", True, doc="where the figure comes from (finance, ERP...)"),
                C("note", "text"),
            ),
            key=("kpi", "period_start"),
            doc="Monthly KPI values from outside the CRM (finance, ERP, spreadsheets) for "
            "months the workspace has no rows of: labelled supplied, never measured.",
            time_column="period_start",
        ),
        Table(
            "crm_users",
            (
                C("user_id", "id", True, doc="the user's id in the CRM (often the rep_id)"),
                C("name", "text"),
                C("email", "text", doc="links the user to a rep when the ids differ"),
                C("licensed", "boolean", doc="holds a CRM licence now (empty: yes)"),
                C("licensed_from", "date", doc="first day with a licence (empty: always)"),
                C(
                    "licensed_until",
                    "date",
                    doc="last day with a licence (empty: still licensed; a user not "
                    "licensed now: through the last login)",
                ),
            ),
            key=("user_id",),
            doc="CRM users and their licences: who could log in (optional; the "
            "denominator of the share of licensed users active).",
        ),
        Table(
            "user_logins",
            (
                C("login_id", "id", True),
                C("user_id", "id", True, doc="the CRM user (crm_users.user_id or a rep_id)"),
                C("user_email", "text", doc="links the user to a rep when the ids differ"),
                C("user_name", "text"),
                C("occurred_at", "timestamp", True),
                C("kind", "text", choices=USAGE_KINDS, doc="login (default) or a record change"),
                C("succeeded", "boolean", doc="false for a failed login (empty: succeeded)"),
                C("application", "text", doc="browser, mobile app, API client..."),
            ),
            key=("login_id",),
            doc="Users' logins and actions from a CRM's user-activity export (optional; "
            "Salesforce LoginHistory): adoption measured from who uses the CRM.",
            time_column="occurred_at",
        ),
    ]
}

RECORD_DATES: tuple[tuple[str, str], ...] = (
    ("leads", "created_at"),
    ("deals", "created_at"),
    ("deals", "closed_at"),
    ("activities", "occurred_at"),
    ("orders", "ordered_at"),
)
"""(table, column) pairs that date a record: the latest of them, never later than today,
is the workspace's last day (`crmroi.improve.frames.data_date`)."""

ADDED_COLUMNS: dict[str, tuple[str, ...]] = {"deals": ("name",), "reps": ("email",)}
"""Columns added after the first schema: a workspace made before them gets them (empty)
when it is opened (`Store.ensure_schema`)."""

# Tables whose primary id column doubles as the natural key.
ID_COLUMN: dict[str, str] = {
    "reps": "rep_id",
    "accounts": "account_id",
    "contacts": "contact_id",
    "leads": "lead_id",
    "deals": "deal_id",
    "activities": "activity_id",
    "orders": "order_id",
    "tickets": "ticket_id",
    "spend": "spend_id",
    "crm_costs": "cost_id",
    "crm_users": "user_id",
    "user_logins": "login_id",
}

IMPORT_BATCHES = pa.schema(
    [
        pa.field("batch_id", pa.string()),
        pa.field("started_at", pa.timestamp("us")),
        pa.field("finished_at", pa.timestamp("us")),
        pa.field("source_system", pa.string()),
        pa.field("files", pa.string()),
        pa.field("rows_in", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("rows_rejected", pa.int64()),
        pa.field("status", pa.string()),
    ]
)

SETTINGS = pa.schema([pa.field("key", pa.string()), pa.field("value", pa.string())])


def table(name: str) -> Table:
    """The canonical table called `name`, or a KeyError listing the valid names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; tables are: {', '.join(TABLES)}") from None
