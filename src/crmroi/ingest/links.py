"""Links by name: an export that names the linked record instead of giving its id.

Pipedrive deals name their organization and contact person, activities name their
deal by its title. A column spec's `names` keeps such names (`MappedTable.names`);
here they become ids, looked up among the records of the same import and of the
workspace (same source system) by name, ignoring case and surrounding spaces. A
name no record has, or that several records share, leaves the link empty and is
reported with its count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa

from crmroi.ingest import import_notes
from crmroi.ingest.transform import MappedTable
from crmroi.messages import Items
from crmroi.store.schema import ID_COLUMN

TARGETS: dict[str, str] = {
    "account_id": "accounts",
    "contact_id": "contacts",
    "lead_id": "leads",
    "deal_id": "deals",
    "owner_rep_id": "reps",
    "rep_id": "reps",
}
"""Link columns and the table whose records they name."""

NameIndex = dict[str, dict[str, set[str]]]
"""table -> normalised name -> ids of the records with that name."""


def normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def name_index(mapped: Sequence[MappedTable], workspace: Mapping[str, pa.Table]) -> NameIndex:
    """Names -> ids of this import's records (their `record_names`) and the workspace's
    (tables with `name` and id columns, as given in `workspace`)."""
    index: NameIndex = {}
    for entity, table in workspace.items():
        id_name = ID_COLUMN[entity]
        _add(index, entity, table.column("name").to_pylist(), table.column(id_name).to_pylist())
    for m in mapped:
        own = ID_COLUMN.get(m.entity)
        if own is None or m.record_names is None:
            continue
        named = m.record_names.notna().to_numpy(dtype=bool)  # only rows with a name count
        if not named.any():
            continue
        ids = m.table.column(own).filter(pa.array(named))
        _add(index, m.entity, m.record_names[named].tolist(), ids.to_pylist())
    return index


def _add(index: NameIndex, entity: str, names: list[object], ids: list[object]) -> None:
    bucket = index.setdefault(entity, {})
    for name, id_ in zip(names, ids, strict=True):
        if isinstance(name, str) and name.strip() and id_ is not None:
            bucket.setdefault(normalise(name), set()).add(str(id_))


def resolve_names(mapped: Sequence[MappedTable], index: NameIndex) -> list[str]:
    """Replace the names kept in each table's link columns by ids; return the warnings."""
    warnings: list[str] = []
    for m in mapped:
        for column, names in m.names.items():
            target = TARGETS.get(column)
            if target is None or not len(names):
                continue
            known = index.get(target, {})
            ids = m.table.column(column).to_pylist()
            resolved = unmatched = ambiguous = 0
            missing: Counter[str] = Counter()
            shared: Counter[str] = Counter()
            for i, name in enumerate(names.tolist()):
                if name is None or name is pd.NA or ids[i] is not None:
                    continue
                found = known.get(normalise(str(name)), set())
                if len(found) == 1:
                    ids[i] = next(iter(found))
                    resolved += 1
                elif found:
                    ambiguous += 1
                    shared[str(name)] += 1
                else:
                    unmatched += 1
                    missing[str(name)] += 1
            position = m.table.column_names.index(column)
            m.table = m.table.set_column(position, column, pa.array(ids, pa.string()))
            m.links_by_name[column] = (resolved, unmatched, ambiguous)
            where = import_notes.by_name(m.label, column)
            if unmatched:
                warnings.append(import_notes.unlinked(where, unmatched, target, _examples(missing)))
            if ambiguous:
                warnings.append(
                    import_notes.ambiguous_links(where, ambiguous, target, _examples(shared))
                )
    return warnings


def _examples(counts: Counter[str]) -> str:
    return Items(f"{name!r} ({n})" for name, n in counts.most_common(3))
