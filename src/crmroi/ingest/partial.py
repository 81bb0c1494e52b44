"""Partial files: a file that updates only the columns it maps (`partial: true`).

Olist's closed deals add the close date and amount to leads loaded from another file; a
later export may carry only the changed stage. Each row of a partial file takes the
columns the file does not map from the stored row with the same id (or from a row an
earlier file of the same import loads); a row with no such record, whose file lacks a
required column, is refused with that reason. Pure: the stored rows are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa

from crmroi.ingest import reasons
from crmroi.ingest.rejects import Reject
from crmroi.ingest.transform import MappedTable
from crmroi.store.schema import TABLES

LINEAGE = ("source_system", "source_id", "batch_id")


def merge_partial(mapped: Sequence[MappedTable], stored: Mapping[str, pa.Table]) -> None:
    """Fill the unmapped columns of each partial table in place; `mapped` in import order
    (full files before partial ones), `stored` the workspace's rows of each entity."""
    seen: dict[str, list[pa.Table]] = {}
    for m in mapped:
        if m.given is not None and m.table.num_rows:
            before = [t for t in [stored.get(m.entity), *seen.get(m.entity, [])] if t is not None]
            _fill(m, before)
        seen.setdefault(m.entity, []).append(m.table)


def _fill(m: MappedTable, before: list[pa.Table]) -> None:
    table = TABLES[m.entity]
    schema = table.arrow_schema()
    frame = m.table.to_pandas(types_mapper=None)
    earlier = (
        pd.concat([t.to_pandas() for t in before if t.num_rows], ignore_index=True)
        if any(t.num_rows for t in before)
        else pd.DataFrame(columns=schema.names)
    )
    earlier = earlier.drop_duplicates("source_id", keep="last").set_index("source_id")
    found = frame["source_id"].isin(earlier.index)
    given = m.given or frozenset()
    missing = [c.name for c in table.columns if c.required and c.name not in given]
    refused = ~found & bool(missing)
    for i in refused[refused].index:
        m.rejects.append(
            Reject(
                m.file,
                m.lines[i],
                missing[0],
                reasons.nothing_to_update(m.entity, frame["source_id"][i], missing),
                str(frame["source_id"][i]),
            )
        )
    rows = earlier.reindex(frame["source_id"])
    for name in schema.names:
        if name in given or name in LINEAGE:
            continue
        taken = rows[name].to_numpy() if name in rows.columns else None
        if taken is not None:
            frame[name] = pd.Series(taken, index=frame.index).where(found.to_numpy(), frame[name])
    keep = ~refused
    m.table = pa.Table.from_pandas(frame[keep], schema=schema, preserve_index=False)
    m.lines = [line for line, k in zip(m.lines, keep, strict=True) if k]
