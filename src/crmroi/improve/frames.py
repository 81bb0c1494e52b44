"""Reading the canonical tables the improve commands need, as pandas frames.

The models in this package are pure functions over data frames; this module is the
one place that touches the store. `data_date` fixes the "today" of a workspace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import pyarrow as pa

from crmroi.store import Store
from crmroi.store.schema import RECORD_DATES

# The columns each command reads (only these are fetched from the store).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reps": ("rep_id", "name", "team", "region", "hired_on", "left_on"),
    "accounts": (
        "account_id",
        "name",
        "segment",
        "industry",
        "region",
        "country",
        "created_at",
        "owner_rep_id",
        "credit_status",
    ),
    "leads": (
        "lead_id",
        "created_at",
        "source",
        "status",
        "owner_rep_id",
        "converted_at",
        "account_id",
        "deal_id",
        "segment",
    ),
    "deals": (
        "deal_id",
        "account_id",
        "owner_rep_id",
        "source",
        "kind",
        "created_at",
        "closed_at",
        "stage",
        "is_closed",
        "is_won",
        "amount",
        "cost",
        "product",
    ),
    "activities": (
        "activity_id",
        "occurred_at",
        "kind",
        "rep_id",
        "account_id",
        "lead_id",
        "deal_id",
    ),
    "orders": ("order_id", "account_id", "ordered_at", "amount", "cost", "product"),
}


def load_frames(store: Store, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The named canonical tables as pandas frames (only the columns in `COLUMNS`)."""
    return frames_from_arrow(
        {name: store.table(name).select(*COLUMNS[name]).to_pyarrow() for name in names}
    )


def frames_from_arrow(tables: Mapping[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """Arrow tables (for example a generated demo company) as frames with datetime columns."""
    out: dict[str, pd.DataFrame] = {}
    for name, table in tables.items():
        wanted = [c for c in COLUMNS.get(name, table.column_names) if c in table.column_names]
        frame = table.select(wanted).to_pandas()
        for column in frame.columns:
            if column in ("hired_on", "left_on") or column.endswith("_at"):
                frame[column] = pd.to_datetime(frame[column])
        out[name] = frame
    return out


def data_date(frames: dict[str, pd.DataFrame], today: pd.Timestamp | None = None) -> pd.Timestamp:
    """The workspace's "today": the latest record, but never later than the real today.

    A live CRM export ends today (planned activities may lie in the future, hence the
    cap); a snapshot or the demo company ends earlier, and then its last day is used.
    """
    cap = pd.Timestamp.now().normalize() + pd.Timedelta(days=1) if today is None else today
    latest: list[pd.Timestamp] = []
    for name, column in RECORD_DATES:
        frame = frames.get(name)
        if frame is not None and column in frame and frame[column].notna().any():
            values = frame[column]
            latest.append(values[values <= cap].max())
    found = [t for t in latest if not pd.isna(t)]
    return min(max(found), cap) if found else cap
