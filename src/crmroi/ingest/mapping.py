"""Mappings: how the columns of an export become the columns of a canonical table.

A mapping file (YAML) holds one or more table mappings. The vendor presets
(Salesforce, HubSpot, Pipedrive, Odoo) are mapping files shipped in the package;
the `generic` source takes the user's own. Example::

    source_system: maven_crm
    tables:
      - entity: deals
        files: ["sales_pipeline*.csv"]      # which files this mapping reads
        detect: [opportunity_id, deal_stage] # header columns that identify the export
        columns:
          deal_id: opportunity_id           # canonical column: source column
          amount: [close_value, Amount]     # first one present in the file is used
          closed_at: {column: [Won time, Lost time], coalesce: true}  # first filled per row
          is_won: {column: deal_stage, map: {Won: true, Lost: false, Open: false}, strict: true}
          created_at: {column: engage_date, format: "%Y-%m-%d"}
          account_id: {column: [Org ID], names: [Organization]}  # or the account's name
        constants: {kind: new, currency: USD}
        missing_id: row_hash                 # no id column: key rows by their content
        partial: false                       # true: update only the mapped columns
        dates: {order: DMY}                  # DD.MM.YYYY when a column is ambiguous
        numbers: {decimal: ",", thousands: " "}
        csv: {encoding: cp1251, delimiter: ";"}
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crmroi.errors import MappingError
from crmroi.ingest import mapping_errors, refusals
from crmroi.ingest.mapping_errors import COALESCE_OR_JOIN, STRICT_NEEDS_MAP
from crmroi.ingest.patterns import check_pattern
from crmroi.ingest.yaml_lines import load_yaml_with_lines
from crmroi.messages import Items
from crmroi.store.schema import TABLES

ScalarValue = str | int | float | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """Where a canonical column comes from and how its values are translated.

    `column`: source column name, or a list of alternatives (the first present wins).
    `map`: source value -> canonical value (matched ignoring case and surrounding
    spaces); values not in the map pass through unless `default` is set.
    `pattern`: a regular expression the raw value must match to be used (others
    become empty), e.g. Salesforce ids starting with 006 are opportunities.
    `format`: a strftime format or DMY/MDY/YMD for a date column.
    `multiply`: a factor for numbers (HubSpot call durations in ms -> minutes).
    `coalesce`: with several columns, take each row's first non-empty value among
    the columns present (Pipedrive "Won time" / "Lost time").
    `join`: a separator; the non-empty values of all listed columns joined with it
    (first name + last name).
    `strict`: a non-empty value not in `map` refuses the row instead of passing
    through or taking `default` (`default` then fills empty cells only).
    `names`: columns holding the *name* of the linked record (an organization's
    name, a deal's title); used when no `column` is present or the id cell is
    empty, and resolved to ids across the import's files and the workspace.
    """

    column: str | list[str] | None = None
    map: dict[str, ScalarValue] | None = None
    default: ScalarValue = None
    pattern: str | None = None
    format: str | None = None
    multiply: float | None = None
    coalesce: bool = False
    join: str | None = None
    strict: bool = False
    names: list[str] = Field(default_factory=list)

    @field_validator("names", mode="before")
    @classmethod
    def _one_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.coalesce and self.join is not None:
            raise ValueError(COALESCE_OR_JOIN)
        if self.strict and not self.map:
            raise ValueError(STRICT_NEEDS_MAP)
        return self

    _pattern_is_linear = field_validator("pattern")(check_pattern)

    @property
    def alternatives(self) -> list[str]:
        if self.column is None:
            return []
        return [self.column] if isinstance(self.column, str) else list(self.column)

    def lookup(self) -> dict[str, ScalarValue]:
        """The value map with normalised keys (stripped, case-folded)."""
        return {str(k).strip().casefold(): v for k, v in (self.map or {}).items()}


class DateSettings(_Strict):
    order: Literal["DMY", "MDY", "YMD"] | None = None
    format: str | None = None


class NumberSettings(_Strict):
    decimal: Literal[".", ","] | None = None
    thousands: str | None = None

    @field_validator("decimal", mode="before")
    @classmethod
    def _arabic_decimal(cls, value: Any) -> Any:
        """The Arabic decimal separator ٫ is always read as the decimal point."""
        return "." if value == "\u066b" else value


class CsvSettings(_Strict):
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)  # 1-based; default: found


class TableMapping(_Strict):
    """How one kind of export file maps to one canonical table."""

    entity: str
    name: str | None = Field(default=None, description="a label such as 'Opportunity'")
    files: list[str] = Field(default_factory=list)
    detect: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    constants: dict[str, ScalarValue] = Field(default_factory=dict)
    dates: DateSettings = DateSettings()
    numbers: NumberSettings = NumberSettings()
    csv: CsvSettings = CsvSettings()
    missing_id: Literal["refuse", "row_hash"] = "refuse"
    partial: bool = Field(
        default=False,
        description="the file updates only the columns it maps in rows already stored "
        "(or loaded by an earlier file of the same import)",
    )
    names: list[str] = Field(
        default_factory=list, description="columns holding each record's name or title"
    )

    @field_validator("names", mode="before")
    @classmethod
    def _one_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("columns", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """Accept `canonical: source` and `canonical: [a, b]` as short forms."""
        if not isinstance(value, dict):
            return value
        return {
            k: {"column": v} if isinstance(v, str | list) or v is None else v
            for k, v in value.items()
        }

    @model_validator(mode="after")
    def _known_columns(self) -> TableMapping:
        if self.entity not in TABLES:
            raise ValueError(mapping_errors.unknown_entity(self.entity, list(TABLES)))
        allowed = set(TABLES[self.entity].column_names) - {"source_system", "batch_id"}
        for key in [*self.columns, *self.constants]:
            if key not in allowed:
                raise ValueError(mapping_errors.no_such_column(self.entity, key, sorted(allowed)))
        return self

    @property
    def label(self) -> str:
        return self.name or self.entity

    def matches_file(self, path: Path) -> bool:
        return any(fnmatch.fnmatch(path.name.lower(), g.lower()) for g in self.files)

    def detect_score(self, header: list[str]) -> int:
        """How many `detect` columns the header has, or -1 when any is missing."""
        present = {h.strip().casefold() for h in header}
        wanted = [d.strip().casefold() for d in self.detect]
        if not wanted or any(w not in present for w in wanted):
            return -1
        return len(wanted)


class MappingFile(_Strict):
    """A whole mapping file: one source system, several table mappings."""

    source_system: str
    description: str | None = None
    missing_columns: Literal["error", "ignore"] = Field(
        default="error",
        description="a single named column absent from the file: an error (a typo), or "
        "ignored (presets, which name the columns of many export variants)",
    )
    tables: list[TableMapping]

    def for_entity(self, entity: str) -> list[TableMapping]:
        return [t for t in self.tables if t.entity == entity]


def parse_mapping(text: str, source: str | Path) -> MappingFile:
    """Validate mapping YAML; errors name the file, the line and the field."""
    name = Path(source).name
    try:
        data, index = load_yaml_with_lines(text, str(source))
    except yaml.YAMLError as exc:
        raise MappingError(refusals.not_yaml(name, exc)) from None
    if not isinstance(data, dict):
        raise MappingError(refusals.not_a_mapping(name))
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        raise MappingError(mapping_errors.mapping_invalid(exc, index, source)) from None


def load_mapping(path: Path) -> MappingFile:
    """Read and validate a mapping file from disk."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(refusals.cannot_read_mapping(path, exc.strerror)) from None
    except UnicodeDecodeError:
        raise MappingError(refusals.mapping_not_utf8(path)) from None
    return parse_mapping(text, path)


def choose_table_mapping(
    mapping: MappingFile, path: Path, header: list[str], entity: str | None
) -> TableMapping:
    """Pick the table mapping for one file: by --entity, by file name, then by header."""
    candidates = mapping.tables
    if entity is not None:
        if entity not in TABLES:
            raise MappingError(refusals.unknown_entity(entity, list(TABLES)))
        candidates = mapping.for_entity(entity)
        if not candidates:
            raise MappingError(refusals.nothing_for(path.name, mapping.source_system, entity))
        if len(candidates) == 1:
            return candidates[0]
    by_name = [t for t in candidates if t.matches_file(path)]
    if len(by_name) == 1:
        return by_name[0]
    pool = by_name or candidates
    scored = sorted(((t.detect_score(header), i, t) for i, t in enumerate(pool)), reverse=True)
    scored = [s for s in scored if s[0] >= 0]
    if not scored and len(pool) == 1 and not pool[0].detect:
        return pool[0]
    if not scored:
        kinds = Items(sorted({t.label for t in pool}))
        raise MappingError(refusals.no_export_matches(path.name, mapping.source_system, kinds))
    best = [s for s in scored if s[0] == scored[0][0]]
    if len(best) > 1 and len({s[2].entity for s in best}) > 1:
        kinds = Items(s[2].label for s in best)
        raise MappingError(refusals.several_exports(path.name, kinds))
    return best[0][2]


def with_date_order(mapping: MappingFile, order: str | None) -> MappingFile:
    """``mapping`` with every table's ambiguous dates read in ``order`` (DMY, MDY or YMD;
    `crmroi import --date-order`), overriding the mapping's own `dates: {order: ...}`.
    A column whose dates show their order (a part above 12) keeps it."""
    if order is None:
        return mapping
    if order not in ("DMY", "MDY", "YMD"):
        raise ValueError(f"the date order must be DMY, MDY or YMD, not {order!r}")
    tables = [
        t.model_copy(update={"dates": t.dates.model_copy(update={"order": order})})
        for t in mapping.tables
    ]
    return mapping.model_copy(update={"tables": tables})
