"""The command line: thin commands over the core, errors translated here only.

Exit codes: 0 success, 1 a user error (one line on stderr, no traceback),
2 bad usage (typer/click's own). Each command lives in its own module and
registers itself on `app` when imported below.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from crmroi.cli import (  # noqa: F401  (registers the commands)
    attribute,
    demo,
    forecast,
    importing,
    improve,
    kpis,
    report,
    roi,
    serve,
    undo,
    users,
)
from crmroi.cli.app import app, err_console
from crmroi.errors import CrmroiError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning crmroi's own errors into one line and exit 1."""
    try:
        app()
    except CrmroiError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
