"""`crmroi import`: load CRM exports into the canonical tables."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console, progress_bar

if TYPE_CHECKING:  # the importer is loaded by the command, not by `crmroi --help`
    from crmroi.ingest.pipeline import ImportReport
    from crmroi.ingest.summary import ImportSummary

VALUES_SHOWN = 12  # source values per categorical column in the printed summary


class ImportFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("import")
def import_(
    workspace: WorkspaceArg,
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX exports to load.")],
    source: Annotated[
        str,
        typer.Option(
            help="salesforce, hubspot, pipedrive, odoo, bitrix24, amocrm, generic, or baselines "
            "(supplied baselines: monthly KPI values with their source)."
        ),
    ] = "generic",
    mapping: Annotated[
        Path | None, typer.Option(help="YAML mapping file (required for generic).")
    ] = None,
    entity: Annotated[
        str | None, typer.Option(help="Canonical table to load into (default: detected).")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Import nothing if any row is refused.")] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Where to write the CSV of refused rows.")
    ] = None,
    base_currency: Annotated[
        str | None, typer.Option(help="ISO code amounts are converted into (set once).")
    ] = None,
    format: Annotated[
        ImportFormat, typer.Option(help="table (for people) or json (the same summary).")
    ] = ImportFormat.table,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of the CSV files (utf-8, cp1252, iso-8859-15, cp1251, gbk, ...); "
            "overrides detection and the preset or mapping."
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Row number of the header (title rows above it are skipped); default: found.",
        ),
    ] = None,
) -> None:
    """Load CRM exports into the workspace's canonical tables (atomic, idempotent)."""
    from crmroi.errors import ConfigurationError
    from crmroi.ingest.encodings import with_encoding
    from crmroi.ingest.headers import with_header_row
    from crmroi.ingest.pipeline import import_files, resolve_mapping
    from crmroi.limits import command_line_limits
    from crmroi.store import open_store

    mapping_file = resolve_mapping(
        source, mapping
    )  # fail on a bad mapping before creating anything
    try:
        mapping_file = with_encoding(mapping_file, encoding)
    except ValueError as exc:
        raise ConfigurationError(f"--encoding: {exc}") from None
    mapping_file = with_header_row(mapping_file, header_row)
    with (
        command_line_limits(),
        open_store(workspace, create=True) as store,
        progress_bar() as progress,
    ):
        task = progress.add_task("importing", total=None)

        def on_step(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        report = import_files(
            store,
            files,
            source=source,
            mapping=mapping_file,
            entity=entity,
            strict=strict,
            rejects_path=rejects,
            base_currency=base_currency,
            progress=on_step,
        )
    if format is ImportFormat.json:
        from crmroi.ingest.summary import report_json

        typer.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2, default=str))
        return
    _print_import_report(report)
    _print_summary(report.summary)


def _print_import_report(report: ImportReport) -> None:
    table = Table(title=f"Import {report.batch_id}")
    for name in ("file", "table", "rows", "new", "changed", "unchanged", "refused", "read as"):
        table.add_column(name, justify="left" if name in ("file", "table", "read as") else "right")
    for f in report.files:
        read_as = ", ".join(x for x in (f.encoding, _delimiter_name(f.delimiter)) if x)
        table.add_row(
            f.path.name,
            f"{f.entity} ({f.label})" if f.label != f.entity else f.entity,
            f"{f.rows_in:,}",
            f"{f.inserted:,}",
            f"{f.updated:,}",
            f"{f.unchanged:,}",
            f"{f.rejected:,}",
            read_as,
        )
    console.print(table)
    if report.rejects:
        shown = Table(title=f"Refused rows (first 20 of {len(report.rejects):,} problems)")
        for name in ("file", "row", "column", "reason"):
            shown.add_column(name)
        for r in report.rejects[:20]:
            shown.add_row(*(escape(x) for x in (r.file, str(r.row), r.column, r.reason)))
        console.print(shown)
        if report.rejects_path:
            console.print(f"All refused rows: {report.rejects_path}")
    loaded, total, refused = report.rows_loaded, report.rows_in, report.rows_rejected
    console.print(f"Loaded {loaded:,} of {total:,} rows; refused {refused:,}.")


def _print_summary(summary: ImportSummary) -> None:
    """Date ranges, money per currency, categorical values, links and warnings."""
    if summary.dates:
        dates = Table(title="Date columns (rows loaded)")
        for name in ("table", "column", "first", "last", "filled"):
            dates.add_column(name, justify="right" if name == "filled" else "left")
        for d in summary.dates:
            first, last = (str(x)[:19] for x in (d.first, d.last))
            dates.add_row(d.table, d.column, first, last, f"{d.filled:,} of {d.rows:,}")
        console.print(dates)
    if summary.money:
        money = Table(title="Amounts per currency")
        for name in ("table", "currency", "rows", "amount", "converted"):
            money.add_column(name, justify="left" if name in ("table", "currency") else "right")
        for m in summary.money:
            converted = f"{m.converted:,.2f} {m.base_currency}"
            money.add_row(m.table, m.currency, f"{m.rows:,}", f"{m.original:,.2f}", converted)
        console.print(money)
    if summary.values:
        values = Table(title="Values read (source value -> stored value)")
        for name in ("table", "column", "source column", "value", "stored as", "rows"):
            values.add_column(name, justify="right" if name == "rows" else "left")
        shown: dict[tuple[str, str], int] = {}
        for table, v in summary.values:
            key = (table, v.column)
            shown[key] = shown.get(key, 0) + 1
            if shown[key] > VALUES_SHOWN and v.mapped:
                continue
            stored = "" if v.canonical is None else v.canonical
            stored = stored if v.mapped else f"[bold red]NOT MAPPED[/] {escape(stored)}".strip()
            cells = (table, v.column, escape(v.source), escape(v.value))
            values.add_row(*cells, stored, f"{v.count:,}")
        console.print(values)
    if summary.links:
        links = Table(title="Links")
        named = any(c.by_name or c.name_unmatched or c.name_ambiguous for c in summary.links)
        headers = ["table", "column", "to", "linked", "unknown id", "empty"]
        if named:
            headers += ["linked by name", "name not found", "name shared"]
        for name in headers:
            links.add_column(name, justify="left" if name in ("table", "column", "to") else "right")
        for c in summary.links:
            counts = [f"{c.resolved:,}", f"{c.unresolved:,}", f"{c.empty:,}"]
            if named:
                counts += [f"{c.by_name:,}", f"{c.name_unmatched:,}", f"{c.name_ambiguous:,}"]
            links.add_row(c.table, c.column, c.target, *counts)
        console.print(links)
    for warning in summary.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning)}")


def _delimiter_name(delimiter: str | None) -> str | None:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return None if delimiter is None else names.get(delimiter, repr(delimiter))
