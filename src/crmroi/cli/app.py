"""The Typer application, shared console objects and option types of the CLI."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich help imports markdown-it (+0.25 s)
    help="crmroi: does your CRM pay for itself? Measure, decide, improve.",
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # one error, one line

WorkspaceArg = Annotated[
    str, typer.Argument(help="Workspace folder (holds workspace.duckdb) or a postgresql:// URL.")
]


def progress_bar() -> Progress:
    """A rich progress bar on stderr (silent when stderr is not a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
