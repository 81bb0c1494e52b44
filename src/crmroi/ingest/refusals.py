"""Why the importer refuses a whole file, a mapping or an import, as messages
(`crmroi.messages`): a stable code, the English text (unchanged) and parameters. Raised
as the `UserError` of the refusal (`InputFileError` puts the file's name before its
reason), so the CLI and the API keep the English text, the API answers the message's
code, and the import wizard words it in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crmroi.messages import M_, Items, Message, Num

__all__ = [
    "EMPTY",
    "FILE_NOT_FOUND",
    "GENERIC_NEEDS_MAPPING",
    "NOT_XLSX",
    "NO_FILES",
    "NO_HEADER",
    "NO_SHEETS",
    "NO_SUCH_FILE",
    "TOO_LARGE",
    "all_refused",
    "bad_delimiter",
    "base_currency_code",
    "base_currency_held",
    "baselines_whole",
    "cannot_decode",
    "cannot_detect_encoding",
    "cannot_open",
    "chart_sheet",
    "field_limit",
    "header_past_end",
    "header_row",
    "long_field",
    "long_field_row",
    "many_cells",
    "no_sheet",
    "not_csv",
    "sheet_empty",
    "sheet_no_header",
    "strict_refused",
    "unknown_extension",
    "unknown_preset",
    "unknown_source",
    "unreadable",
    "wide_header",
    "xlsx_cannot_read",
    "xlsx_unpacked",
    "xlsx_unreadable",
]

# -- a file that cannot be read (`InputFileError`'s reason) --------------------------
FILE_NOT_FOUND = M_("input_file_not_found", "file not found")
NO_SUCH_FILE = M_("input_no_such_file", "no such file")
EMPTY = M_("input_empty", "the file is empty")
NO_HEADER = M_("input_no_header", "no header row: the first row is empty")
TOO_LARGE = M_("input_too_large", "the file is too large to read into memory")
NOT_XLSX = M_("input_not_xlsx", "not a real XLSX workbook (not a zip archive)")
NO_SHEETS = M_("input_no_sheets", "the workbook has no sheets")


def unknown_extension(suffix: str, known: str) -> Message:
    return M_(
        "input_unknown_extension",
        "unknown file extension %(extension)s (expected %(known)s)",
        extension=repr(suffix),
        known=known,
    )


def cannot_open(error: object) -> Message:
    return M_("input_cannot_open", "cannot open the file: %(error)s", error=str(error))


def unreadable(error: BaseException) -> Message:
    said = f"{type(error).__name__}: {error}"
    return M_("input_unreadable", "cannot read the file: %(error)s", error=said)


def bad_delimiter(delimiter: str) -> Message:
    return M_("input_bad_delimiter", "invalid delimiter %(delimiter)s", delimiter=repr(delimiter))


def header_past_end(row: int) -> Message:
    return M_(
        "input_header_past_end",
        "no header row: row %(row)s is past the end of the file",
        row=str(row),
    )


def header_row(row: int) -> Message:
    return M_("input_header_row", "header_row must be 1 or more, not %(row)s", row=str(row))


def cannot_detect_encoding(tried: Sequence[str], offset: int) -> Message:
    return M_(
        "input_cannot_detect_encoding",
        "cannot detect the text encoding (tried %(tried)s; invalid byte at offset "
        "%(offset)s); pass the encoding explicitly",
        tried=Items(tried),
        offset=str(offset),
    )


def cannot_decode(encoding: str, byte: int, offset: int) -> Message:
    return M_(
        "input_cannot_decode",
        "cannot decode the file as %(encoding)s: invalid byte %(byte)s at offset %(offset)s",
        encoding=encoding,
        byte=format(byte, "#04x"),
        offset=str(offset),
    )


def field_limit(limit: int) -> Message:
    return M_(
        "input_field_limit",
        "a field is longer than %(limit)s characters (setting CRMROI_MAX_FIELD_BYTES)",
        limit=limit,
    )


def not_csv(error: object) -> Message:
    return M_("input_not_csv", "cannot parse the file as CSV: %(error)s", error=str(error))


def long_field(row: int, column: object, limit: int) -> Message:
    """A field past `limit` characters refuses the whole file (a row's own refusal for a
    shorter limit is `reasons.long_field`)."""
    return M_(
        "input_long_field",
        "row %(row)s, column %(column)s: the field is longer than %(limit)s characters "
        "(setting CRMROI_MAX_FIELD_BYTES)",
        row=str(row),
        column=str(column),
        limit=limit,
    )


def wide_header(columns: int, limit: int) -> Message:
    return M_(
        "input_wide_header",
        "the header has %(columns)s columns; at most %(limit)s are read (setting "
        "CRMROI_MAX_COLUMNS)",
        columns=columns,
        limit=limit,
    )


def many_cells(rows: int, columns: int, limit: int) -> Message:
    return M_(
        "input_many_cells",
        "%(rows)s rows x %(columns)s columns exceed the limit of %(limit)s cells (setting "
        "CRMROI_MAX_CELLS)",
        rows=rows,
        columns=columns,
        limit=limit,
    )


def xlsx_unreadable(error: object) -> Message:
    return M_("input_xlsx_unreadable", "not a readable XLSX workbook: %(error)s", error=str(error))


def xlsx_cannot_read(error: object) -> Message:
    return M_(
        "input_xlsx_cannot_read", "cannot read the XLSX workbook: %(error)s", error=str(error)
    )


def xlsx_unpacked(size: int, limit: int) -> Message:
    return M_(
        "input_xlsx_unpacked",
        "the workbook unpacks to %(size)s bytes; at most %(limit)s (setting "
        "CRMROI_MAX_XLSX_UNPACKED_BYTES)",
        size=size,
        limit=limit,
    )


def no_sheet(sheet: str, names: Sequence[str]) -> Message:
    return M_(
        "input_no_sheet",
        "no sheet named %(sheet)s; sheets: %(sheets)s",
        sheet=repr(sheet),
        sheets=Items(map(repr, names)),
    )


def chart_sheet(sheet: str) -> Message:
    return M_("input_chart_sheet", "sheet %(sheet)s is a chart, not a table", sheet=repr(sheet))


def sheet_empty(sheet: str) -> Message:
    return M_("input_sheet_empty", "sheet %(sheet)s is empty", sheet=repr(sheet))


def sheet_no_header(row: int, sheet: str) -> Message:
    return M_(
        "input_sheet_no_header",
        "no header row: row %(row)s of sheet %(sheet)s is empty",
        row=str(row),
        sheet=repr(sheet),
    )


# -- an import refused as a whole (`UserError`) ----------------------------------------
NO_FILES = M_("import_no_files", "no files to import")
GENERIC_NEEDS_MAPPING = M_(
    "import_generic_needs_mapping", "the generic source needs a mapping file: --mapping MAP.yaml"
)


def unknown_source(source: str, sources: Sequence[str]) -> Message:
    return M_(
        "import_unknown_source",
        "unknown source %(source)s; sources are: %(sources)s",
        source=repr(source),
        sources=Items(sources),
    )


def unknown_preset(name: str, presets: Sequence[str]) -> Message:
    return M_(
        "import_unknown_preset",
        "unknown preset %(preset)s; presets are: %(presets)s",
        preset=repr(name),
        presets=Items(presets),
    )


def base_currency_code(code: str) -> Message:
    return M_(
        "import_base_currency_code",
        "base currency %(currency)s is not a three-letter ISO 4217 code",
        currency=repr(code),
    )


def base_currency_held(current: str, tables: Sequence[str], code: str) -> Message:
    return M_(
        "import_base_currency_held",
        "the workspace already holds amounts in %(current)s (%(tables)s); its base currency "
        "cannot become %(new)s",
        current=current,
        tables=Items(tables),
        new=code,
    )


def _see(path: Path | None) -> Message | str:
    return M_("import_see_file", "; see %(path)s", path=str(path)) if path else ""


def all_refused(file: str, rows: int, common: tuple[str, int] | None, path: Path | None) -> Message:
    """Every row of `file` refused: nothing imported; the most common reason (`common`:
    its text, a `Said` when a message, and rows) and where the rejects file is."""
    why: Message | str = ""
    if common is not None:
        reason, count = common
        why = M_(
            "import_most_often",
            "; most often (%(n)s rows) %(reason)s",
            n=str(count),
            reason=getattr(reason, "message", reason),
        )
    return M_(
        "import_all_refused",
        "%(file)s: all %(rows)s rows were refused, nothing was imported%(why)s%(where)s",
        file=file,
        rows=str(rows),
        why=why,
        where=_see(path),
    )


def strict_refused(problems: int, rows: int, path: Path | None) -> Message:
    return M_(
        "import_strict_refused",
        "%(problems)s problems in %(rows)s rows; nothing was imported (--strict)%(where)s",
        problems=str(problems),
        rows=str(rows),
        where=_see(path),
    )


def baselines_whole(file: str, row: int, column: str, reason: str, more: int) -> Message:
    """Supplied baselines refused whole: the first problem and how many more there are."""
    return M_(
        "import_baselines_whole",
        "%(file)s row %(row)s%(column)s: %(reason)s%(more)s; supplied baselines are imported "
        "whole or not at all: nothing was imported",
        file=file,
        row=str(row),
        column=M_("import_comma_column", ", column %(column)s", column=column) if column else "",
        reason=getattr(reason, "message", reason),
        more=M_("import_more_problems", " (and %(n)s more problems)", n=str(more)) if more else "",
    )


def long_field_row(column: str, limit: int) -> Message:
    """A row holding a field longer than `limit` characters (kept, reported)."""
    return M_(
        "import_long_field",
        "field in column %(column)s is longer than %(limit)s characters",
        column=column,
        limit=Num(limit, grouped=False),
    )


# -- a mapping that does not fit (`MappingError`) ---------------------------------------
def column_not_in_file(
    file: str, name: str, entity: str, column: str, close: str | None, written: Sequence[str],
    no_id: bool,
) -> Message:  # fmt: skip
    """A mapped source column the file lacks: the closest header, else the file's columns;
    `no_id`: the column is the table's id (an export may have none)."""
    hint = (
        M_("mapping_did_you_mean", "did you mean %(name)s?", name=repr(close))
        if close is not None
        else M_(
            "mapping_its_columns",
            "its columns are: %(columns)s",
            columns=Items(repr(h) for h in written[:20]),
        )
    )
    id_hint: Message | str = (
        M_("mapping_id_hint", " (an export without an id column: set `missing_id: row_hash`)")
        if no_id
        else ""
    )
    return M_(
        "mapping_column_not_in_file",
        "%(file)s: column %(name)s (mapped to %(entity)s.%(column)s) is not in the file; "
        "%(hint)s%(id_hint)s",
        file=file,
        name=repr(name),
        entity=entity,
        column=column,
        hint=hint,
        id_hint=id_hint,
    )


def nothing_mapped(file: str, entity: str, column: str) -> Message:
    return M_(
        "mapping_nothing_mapped",
        "%(file)s: no column is mapped to %(entity)s.%(column)s (required); add it to the "
        "mapping's columns or constants",
        file=file,
        entity=entity,
        column=column,
    )


def missing_required(file: str, entity: str, column: str, looked: Sequence[str]) -> Message:
    return M_(
        "mapping_missing_required",
        "%(file)s: missing required column for %(entity)s.%(column)s (looked for: %(names)s)",
        file=file,
        entity=entity,
        column=column,
        names=Items(looked),
    )


def repeated_header(file: str, count: int, name: str, where: str) -> Message:
    return M_(
        "mapping_repeated_header",
        "%(file)s: the header has %(n)s columns named %(name)s (columns %(where)s) and the "
        "mapping reads %(name)s; rename them in the file so the mapping can tell them apart",
        file=file,
        n=str(count),
        name=repr(name),
        where=where,
    )


def not_yaml(name: str, error: object) -> Message:
    return M_(
        "mapping_not_yaml",
        "%(file)s: not valid YAML: %(error)s",
        file=name.replace("\n", " "),
        error=str(error).replace("\n", " "),
    )


def not_a_mapping(name: str) -> Message:
    return M_(
        "mapping_not_a_mapping",
        "%(file)s: a mapping file must be a YAML mapping with 'tables'",
        file=name,
    )


def cannot_read_mapping(path: Path, error: object) -> Message:
    return M_(
        "mapping_cannot_read",
        "%(path)s: cannot read mapping file (%(error)s)",
        path=str(path),
        error=str(error),
    )


def mapping_not_utf8(path: Path) -> Message:
    return M_("mapping_not_utf8", "%(path)s: mapping file is not UTF-8 text", path=str(path))


def unknown_entity(entity: str, entities: Sequence[str]) -> Message:
    return M_(
        "mapping_unknown_entity",
        "unknown entity %(entity)s; entities are: %(entities)s",
        entity=repr(entity),
        entities=Items(entities),
    )


def nothing_for(file: str, source: str, entity: str) -> Message:
    return M_(
        "mapping_nothing_for",
        "%(file)s: the %(source)s mapping has nothing for %(entity)s",
        file=file,
        source=source,
        entity=entity,
    )


def no_export_matches(file: str, source: str, kinds: str) -> Message:
    return M_(
        "mapping_no_export_matches",
        "%(file)s: columns do not match any %(source)s export (%(kinds)s); pass --entity or a "
        "--mapping file",
        file=file,
        source=source,
        kinds=kinds,
    )


def several_exports(file: str, kinds: str) -> Message:
    return M_(
        "mapping_several_exports",
        "%(file)s: could be any of %(kinds)s; pass --entity",
        file=file,
        kinds=kinds,
    )
