"""The import wizard's mappings: the column choices of its form, the mapping file they
make, and the guesses that fill the form in.

A mapping is a vendor preset, a mapping YAML the user uploaded, or one built from the
column choices of the wizard's form (file columns, value maps and constants, see
`crmroi.web.import_values`); the last is a plain `MappingFile`, so it can be downloaded as
YAML and used with the CLI. The dry run and the commit are `crmroi.web.import_wizard`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from crmroi.errors import MappingError
from crmroi.finance.case_errors import error_message
from crmroi.ingest.encodings import ENCODING_CHOICES, check_encoding_name
from crmroi.ingest.mapping import MappingFile, TableMapping, parse_mapping
from crmroi.ingest.presets import PRESETS, load_preset
from crmroi.messages import M_
from crmroi.store.schema import TABLES, Column
from crmroi.web.import_values import Pairs, form_values, value_errors, value_map
from crmroi.web.uploads import UploadState

DATE_ORDERS = ("", "DMY", "MDY", "YMD")
DECIMALS = ("", ",", ".")
ENCODINGS = ("", *ENCODING_CHOICES)
SOURCE_SYSTEM = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class FileChoice(BaseModel):
    """The form's choices for one file: target table, source column per canonical column,
    value pairs and other-values default per mapped column, constants for the others."""

    entity: str
    columns: dict[str, str] = Field(default_factory=dict)
    date_order: str = ""
    decimal: str = ""
    encoding: str = ""
    maps: dict[str, Pairs] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)

    def settings(self) -> TableMapping:
        """A table mapping with only this file's date order and decimal separator."""
        return TableMapping.model_validate(
            {
                "entity": self.entity,
                "dates": {"order": self.date_order or None},
                "numbers": {"decimal": self.decimal or None},
            }
        )

    def errors(self) -> dict[str, str]:
        """Field errors of the value maps and constants (`crmroi.web.import_values`)."""
        return value_errors(
            self.entity, self.columns, self.maps, self.defaults, self.constants, self.settings()
        )


class ColumnChoices(BaseModel):
    """The interactive mapping of every file of an upload."""

    source_system: str = "generic"
    files: list[FileChoice]


# -- mappings -------------------------------------------------------------------------
def mapping_of(state: UploadState) -> MappingFile | None:
    """The mapping the upload currently uses, or None when it still needs one."""
    if state.mapping_yaml:
        return parse_mapping(state.mapping_yaml, "mapping.yaml")
    if state.source in PRESETS:
        return load_preset(state.source)
    return None


def mapping_yaml(mapping: MappingFile) -> str:
    """The mapping as the YAML `crmroi import --mapping` reads."""
    data = mapping.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("tables", [])
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return text


def read_mapping_upload(data: bytes) -> str:
    """A mapping YAML the user uploaded, validated; returns its text."""
    if len(data) > 1024 * 1024:
        raise MappingError(M_("mapping_upload_too_large", "mapping.yaml: larger than 1 MB"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError(M_("mapping_upload_not_utf8", "mapping.yaml: not UTF-8 text")) from None
    parse_mapping(text, "mapping.yaml")
    return text


def canonical_columns(entity: str) -> list[Column]:
    """The columns a user maps for `entity` (content columns, and the currency)."""
    table = TABLES[entity]
    columns = list(table.columns)
    if table.has_currency:
        columns.append(table.column("currency"))
    return columns


def build_mapping(choices: ColumnChoices, names: list[str]) -> MappingFile:
    """The mapping file equivalent to the form's choices (one table per file)."""
    if not SOURCE_SYSTEM.match(choices.source_system):
        raise MappingError(
            M_(
                "mapping_source_system_name",
                "the source system name must be 1-40 letters, digits, dots, dashes or underscores",
            )
        )
    tables: list[dict[str, Any]] = []
    for name, choice in zip(names, choices.files, strict=True):
        if choice.entity not in TABLES:
            raise MappingError(
                M_(
                    "mapping_unknown_table",
                    "%(file)s: unknown table %(table)s",
                    file=name,
                    table=repr(choice.entity),
                )
            )
        if choice.errors():
            raise MappingError(
                M_(
                    "mapping_fix_marked",
                    "%(file)s: fix the value maps and constants marked in red",
                    file=name,
                )
            )
        columns: dict[str, dict[str, Any]] = {}
        for column, source in choice.columns.items():
            if not source:
                continue
            spec: dict[str, Any] = {"column": source}
            if choice.maps.get(column):
                spec["map"] = value_map(choice.maps[column])
            if choice.defaults.get(column):
                spec["default"] = choice.defaults[column]
            columns[column] = spec
        table: dict[str, Any] = {
            "entity": choice.entity,
            "files": [_glob_escape(name)],
            "columns": columns,
        }
        if choice.constants:
            table["constants"] = dict(choice.constants)
        if choice.date_order in DATE_ORDERS[1:]:
            table["dates"] = {"order": choice.date_order}
        if choice.decimal in DECIMALS[1:]:
            table["numbers"] = {"decimal": choice.decimal}
        if choice.encoding in ENCODINGS[1:]:
            table["csv"] = {"encoding": choice.encoding}
        tables.append(table)
    try:
        return MappingFile.model_validate(
            {"source_system": choices.source_system, "tables": tables}
        )
    except ValidationError as exc:
        first = error_message(exc.errors()[0], prefix="mapping_")
        raise MappingError(
            M_("mapping_columns_invalid", "the column mapping is invalid: %(reason)s", reason=first)
        ) from None


def _glob_escape(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in name)


def choices_from_form(
    form: Mapping[str, str], state: UploadState, headers: list[list[str]]
) -> ColumnChoices:
    """Read the column-mapping form: `source_system`, and per file i `f{i}.entity`,
    `f{i}.col.{column}`, `f{i}.dates`, `f{i}.decimal`, `f{i}.encoding`, and the value maps and
    constants (`crmroi.web.import_values.form_values`). Unknown values are ignored."""
    source_system = str(form.get("source_system", "")).strip() or "generic"
    files = []
    previous = stored_choices(state)
    for i, header in enumerate(headers):
        entity = str(form.get(f"f{i}.entity", ""))
        if entity not in TABLES:
            entity = previous[i].entity if i < len(previous) else guess_entity(header)
        allowed = set(header)
        columns: dict[str, str] = {}
        for col in canonical_columns(entity):
            key = f"f{i}.col.{col.name}"
            if key in form:
                value = str(form[key])
                if value in allowed:
                    columns[col.name] = value
            else:  # the table changed: guess the columns it did not have
                guessed = guess_column(col.name, header)
                if guessed:
                    columns[col.name] = guessed
        date_order = str(form.get(f"f{i}.dates", ""))
        decimal = str(form.get(f"f{i}.decimal", ""))
        encoding = form_encoding(form, i)
        maps, defaults, constants = form_values(form, i, canonical_columns(entity))
        files.append(
            FileChoice(
                entity=entity,
                columns=columns,
                date_order=date_order if date_order in DATE_ORDERS else "",
                decimal=decimal if decimal in DECIMALS else "",
                encoding=encoding,
                maps=maps,
                defaults=defaults,
                constants=constants,
            )
        )
    return ColumnChoices(source_system=source_system[:40], files=files)


def stored_choices(state: UploadState) -> list[FileChoice]:
    if not state.choices:
        return []
    try:
        return ColumnChoices.model_validate(state.choices).files
    except ValidationError:
        return []


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-zа-яё]", "", text.casefold())


def guess_column(name: str, header: list[str]) -> str | None:
    """The header column that looks like canonical column `name`, if any."""
    target = _norm(name)
    by_norm = {_norm(h): h for h in header}
    if target in by_norm:
        return by_norm[target]
    short = _norm(name.removesuffix("_id").removesuffix("_at").removesuffix("_on"))
    if short and short in by_norm:
        return by_norm[short]
    return None


def guess_entity(header: list[str]) -> str:
    """The canonical table whose column names the header matches best."""
    scores = [
        (sum(guess_column(c.name, header) is not None for c in t.columns), -i, name)
        for i, (name, t) in enumerate(TABLES.items())
    ]
    return max(scores)[2]


def form_encoding(form: Mapping[str, str], index: int) -> str:
    """The text encoding the form chose for file `index` ('' detects; unknown ones too)."""
    encoding = str(form.get(f"f{index}.encoding", ""))
    return encoding if encoding in ENCODINGS else ""


def encoding_choice(encoding: str | None) -> str:
    """A mapping's encoding as one of the form's `ENCODINGS` ('' when not offered)."""
    if not encoding:
        return ""
    try:
        name = check_encoding_name(encoding)
    except ValueError:
        return ""
    return next((e for e in ENCODING_CHOICES if check_encoding_name(e) == name), "")
