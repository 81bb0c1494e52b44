"""The workspace store: canonical tables behind one Ibis connection."""

from crmroi.store.engines import UpsertCounts
from crmroi.store.schema import TABLES, Column, Table
from crmroi.store.store import Store, open_store

__all__ = ["TABLES", "Column", "Store", "Table", "UpsertCounts", "open_store"]
