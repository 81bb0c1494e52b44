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
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_

if TYPE_CHECKING:  # the importer is loaded by the command, not by `crmroi --help`
    from crmroi.ingest.pipeline import ImportReport
    from crmroi.ingest.summary import ImportSummary

VALUES_SHOWN = 12  # source values per categorical column in the printed summary


class DateOrderOption(StrEnum):
    DMY = "DMY"
    MDY = "MDY"
    YMD = "YMD"


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
            help="salesforce, hubspot, pipedrive, odoo, bitrix24, amocrm, generic, baselines "
            "(supplied baselines: monthly KPI values with their source) or logins (user "
            "activity and licensed users from any CRM)."
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
    date_order: Annotated[
        DateOrderOption | None,
        typer.Option(
            help="Day/month order of dates the files leave ambiguous (every part 12 or "
            "less); dates that show their order keep it."
        ),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Load CRM exports into the workspace's canonical tables (atomic, idempotent)."""
    from crmroi.errors import ConfigurationError
    from crmroi.ingest.encodings import with_encoding
    from crmroi.ingest.headers import with_header_row
    from crmroi.ingest.mapping import with_date_order
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
    mapping_file = with_date_order(mapping_file, None if date_order is None else date_order.value)
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
    say = speaker(lang)
    _print_import_report(report, say)
    _print_summary(report.summary, say)


def _print_import_report(report: ImportReport, say: Speaker) -> None:
    title = M_("import_title", "Import %(batch)s", batch=report.batch_id)
    table = Table(title=escape(say.say(title)))
    heads = (N_("file"), N_("table"), N_("rows"), N_("new"), N_("changed"), N_("unchanged"))
    for name in (*heads, N_("refused"), N_("read as")):
        left = name in ("file", "table", "read as")
        table.add_column(escape(say(name)), justify="left" if left else "right")
    for f in report.files:
        delimiter = _delimiter_name(f.delimiter)
        read_as = say.items(x for x in (f.encoding, delimiter and say(delimiter)) if x)
        table.add_row(
            f.path.name,
            f"{f.entity} ({f.label})" if f.label != f.entity else f.entity,
            say.num(f.rows_in),
            say.num(f.inserted),
            say.num(f.updated),
            say.num(f.unchanged),
            say.num(f.rejected),
            read_as,
        )
    console.print(table)
    if report.rejects_total:
        first = M_(
            "refused_rows",
            "Refused rows (first 20 of %(n)s problems)",
            n=report.rejects_total,
        )
        shown = Table(title=escape(say.say(first)))
        for name in (N_("file"), N_("row"), N_("column"), N_("reason")):
            shown.add_column(escape(say(name)))
        for r in report.rejects[:20]:
            cells = (r.file, say.digits(r.row), r.column, say.say(r.reason))
            shown.add_row(*(escape(x) for x in cells))
        console.print(shown)
        if report.rejects_path:
            every = M_("all_refused", "All refused rows: %(path)s", path=str(report.rejects_path))
            console.print(escape(say.say(every)))
    loaded, total, refused = report.rows_loaded, report.rows_in, report.rows_rejected
    done = M_(
        "import_done",
        "Loaded %(loaded)s of %(total)s rows; refused %(refused)s.",
        loaded=int(loaded),
        total=int(total),
        refused=int(refused),
    )
    console.print(escape(say.say(done)))


def _print_summary(summary: ImportSummary, say: Speaker) -> None:
    """Date ranges, money per currency, categorical values, links and warnings."""
    if summary.dates:
        dates = Table(title=escape(say(N_("Date columns (rows loaded)"))))
        for name in (N_("table"), N_("column"), N_("first"), N_("last"), N_("filled")):
            dates.add_column(escape(say(name)), justify="right" if name == "filled" else "left")
        for d in summary.dates:
            first, last = (str(x)[:19] for x in (d.first, d.last))
            if not say.english:
                first, last = (say.digits(x) for x in (first, last))
            filled = M_(
                "filled_of", "%(filled)s of %(rows)s", filled=int(d.filled), rows=int(d.rows)
            )
            dates.add_row(d.table, d.column, first, last, escape(say.say(filled)))
        console.print(dates)
    if summary.money:
        money = Table(title=escape(say(N_("Amounts per currency"))))
        for name in (N_("table"), N_("currency"), N_("rows"), N_("amount"), N_("converted")):
            left = name in ("table", "currency")
            money.add_column(escape(say(name)), justify="left" if left else "right")
        for m in summary.money:
            converted = f"{say.num(m.converted, 2)} {m.base_currency}"
            money.add_row(m.table, m.currency, say.num(m.rows), say.num(m.original, 2), converted)
        console.print(money)
    if summary.values:
        values = Table(title=escape(say(N_("Values read (source value -> stored value)"))))
        heads = (N_("table"), N_("column"), N_("source column"), N_("value"), N_("stored as"))
        for name in (*heads, N_("rows")):
            values.add_column(escape(say(name)), justify="right" if name == "rows" else "left")
        shown: dict[tuple[str, str], int] = {}
        unmapped = escape(say(N_("NOT MAPPED")))
        for table, v in summary.values:
            key = (table, v.column)
            shown[key] = shown.get(key, 0) + 1
            if shown[key] > VALUES_SHOWN and v.mapped:
                continue
            stored = "" if v.canonical is None else v.canonical
            stored = stored if v.mapped else f"[bold red]{unmapped}[/] {escape(stored)}".strip()
            cells = (table, v.column, escape(v.source), escape(v.value))
            values.add_row(*cells, stored, say.num(v.count))
        console.print(values)
    if summary.links:
        links = Table(title=escape(say(N_("Links"))))
        named = any(c.by_name or c.name_unmatched or c.name_ambiguous for c in summary.links)
        headers = [N_("table"), N_("column"), N_("to"), N_("linked"), N_("unknown id"), N_("empty")]
        if named:
            headers += [N_("linked by name"), N_("name not found"), N_("name shared")]
        for name in headers:
            left = name in ("table", "column", "to")
            links.add_column(escape(say(name)), justify="left" if left else "right")
        for c in summary.links:
            counts = [say.num(c.resolved), say.num(c.unresolved), say.num(c.empty)]
            if named:
                counts += [say.num(c.by_name), say.num(c.name_unmatched), say.num(c.name_ambiguous)]
            links.add_row(c.table, c.column, c.target, *counts)
        console.print(links)
    warning_label = escape(say(N_("Warning:")))
    for warning in summary.warnings:
        console.print(f"[yellow]{warning_label}[/] {escape(say.say(warning))}")


def _delimiter_name(delimiter: str | None) -> str | None:
    names = {",": N_("comma"), ";": N_("semicolon"), "\t": N_("tab"), "|": N_("pipe")}
    return None if delimiter is None else names.get(delimiter, repr(delimiter))
