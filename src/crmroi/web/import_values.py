"""Value maps and constants in the import wizard's column form.

The fields are the mapping file's own (`crmroi.ingest.mapping`): for a canonical column
taken from a file column, pairs of source value -> canonical value (`ColumnSpec.map`)
and what any other value becomes (`ColumnSpec.default`); for a canonical column the
file does not have, a constant (`TableMapping.constants`). Form fields, for file `i`
and canonical column `c`: `f{i}.map.{c}.{k}.from` and `.to` (pair `k`),
`f{i}.default.{c}` and `f{i}.const.{c}`.

Targets, defaults and constants are checked with the importer's own parser
(`crmroi.ingest.transform.value_problem`) under the file's date order and decimal
separator, so the form refuses, next to the field, exactly what an import would refuse
on every row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from crmroi.ingest.mapping import ScalarValue, TableMapping
from crmroi.ingest.transform import mapping_text, value_problem
from crmroi.store.schema import TABLES, Column

__all__ = [
    "MAX_PAIRS",
    "Pairs",
    "form_values",
    "table_values",
    "value_errors",
    "value_map",
]

MAX_PAIRS = 100
"""Value pairs kept per column (a stage list is a dozen; more is a paste accident)."""
MAX_VALUE = 200
PAIR_FIELD = re.compile(r"^f(\d{1,4})\.map\.([a-z_]{1,40})\.(\d{1,4})\.(from|to)$")

Pairs = list[tuple[str, str]]
"""Source value -> canonical value pairs in the order the form shows them."""


def _clean(value: object) -> str:
    return str(value).strip()[:MAX_VALUE]


def form_values(
    form: Mapping[str, str], index: int, columns: list[Column]
) -> tuple[dict[str, Pairs], dict[str, str], dict[str, str]]:
    """Read file `index`'s value pairs, defaults and constants from the posted form
    (only for `columns`, the canonical columns of the file's table; blanks dropped)."""
    names = {c.name for c in columns}
    found: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in form.items():
        match = PAIR_FIELD.match(key)
        if match is None or int(match[1]) != index or match[2] not in names:
            continue
        found.setdefault(match[2], {}).setdefault(int(match[3]), {})[match[4]] = _clean(value)
    maps: dict[str, Pairs] = {}
    for name, rows in found.items():
        pairs = [(r.get("from", ""), r.get("to", "")) for _, r in sorted(rows.items())]
        pairs = [p for p in pairs if p[0] or p[1]][:MAX_PAIRS]
        if pairs:
            maps[name] = pairs
    defaults, constants = {}, {}
    for col in columns:
        default = _clean(form.get(f"f{index}.default.{col.name}", ""))
        constant = _clean(form.get(f"f{index}.const.{col.name}", ""))
        if default:
            defaults[col.name] = default
        if constant:
            constants[col.name] = constant
    return maps, defaults, constants


def _as_text(value: ScalarValue, table: TableMapping) -> str:
    """A mapping value as the form shows it: the text the importer parses it from
    (a YAML number in the file's decimal separator), '' for none."""
    text = mapping_text(value, table)
    return "" if text is None else _clean(text)


def table_values(
    table: TableMapping, mapped: set[str]
) -> tuple[dict[str, Pairs], dict[str, str], dict[str, str]]:
    """The value maps, defaults and constants of a mapping's table, as the form shows
    them (maps and defaults of the `mapped` canonical columns only)."""
    maps: dict[str, Pairs] = {}
    defaults: dict[str, str] = {}
    for name, spec in table.columns.items():
        if name not in mapped:
            continue
        # a blank file value is missing anyway: `"": null` in a preset changes nothing
        found = [(_as_text(k, table), _as_text(v, table)) for k, v in (spec.map or {}).items()]
        if found := [pair for pair in found if pair[0]][:MAX_PAIRS]:
            maps[name] = found
        if spec.default is not None:
            defaults[name] = _as_text(spec.default, table)
    constants = {
        k: _as_text(v, table)
        for k, v in table.constants.items()
        if k not in mapped and v is not None
    }
    return maps, defaults, constants


def value_map(pairs: Pairs) -> dict[str, ScalarValue]:
    """The `ColumnSpec.map` of checked pairs."""
    return {source: target for source, target in pairs}


def value_errors(
    entity: str,
    columns: Mapping[str, str],
    maps: Mapping[str, Pairs],
    defaults: Mapping[str, str],
    constants: Mapping[str, str],
    settings: TableMapping,
) -> dict[str, str]:
    """Field errors of one file's value maps and constants, keyed `map.{column}`,
    `default.{column}` and `const.{column}`; empty when the mapping can be built.

    `columns` is the file column chosen for each canonical column; `settings` a table
    mapping of `entity` carrying the file's number and date settings.
    """
    table = TABLES[entity]
    known = {c.name: c for c in table.all_columns}
    mapped = {name for name, source in columns.items() if source}
    errors: dict[str, str] = {}
    for name, pairs in maps.items():
        col = known.get(name)
        if col is None:
            continue
        if name not in mapped:
            errors[f"map.{name}"] = (
                f"{name} takes no value from the file: choose its file column, or clear these "
                "values"
            )
            continue
        problem = _pairs_problem(col, pairs, settings)
        if problem:
            errors[f"map.{name}"] = problem
    for name, default in defaults.items():
        col = known.get(name)
        if col is None:
            continue
        if name not in mapped:
            errors[f"default.{name}"] = (
                f"{name} takes no value from the file: choose its file column, or clear this"
            )
        elif problem := value_problem(col, default, settings):
            errors[f"default.{name}"] = f"other values: {problem}"
    for name, constant in constants.items():
        col = known.get(name)
        if col is None:
            continue
        if name in mapped:
            errors[f"const.{name}"] = (
                f"{name} comes from the file column {columns[name]!r}: clear the constant "
                "or the column"
            )
        elif problem := value_problem(col, constant, settings):
            errors[f"const.{name}"] = problem
    return errors


def _pairs_problem(col: Column, pairs: Pairs, settings: TableMapping) -> str | None:
    seen: set[str] = set()
    for source, target in pairs:
        if not source:
            return f"give the file value that becomes {target!r}"
        if not target:
            return f"give the value {source!r} becomes"
        key = source.casefold()
        if key in seen:
            return f"{source!r} is listed twice (values match ignoring case)"
        seen.add(key)
        problem = value_problem(col, target, settings)
        if problem:
            return f"{source!r} becomes {target!r}: {problem}"
    return None
