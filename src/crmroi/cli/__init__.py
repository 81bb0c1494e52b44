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
    followups,
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
from crmroi.cli.allocators import prefer_fast_allocators
from crmroi.cli.app import app, err_console
from crmroi.errors import CrmroiError, InputFileError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning crmroi's own errors into one line and exit 1;
    usage errors (exit 2) in the CLI's language too (`crmroi.cli.usage`)."""
    prefer_fast_allocators()  # before any command loads numpy (loading the CLI does not)
    from crmroi.cli.language import speaker
    from crmroi.cli.usage import speak_usage_errors

    speak_usage_errors(speaker(argv_language(sys.argv[1:])))
    try:
        app()
    except CrmroiError as exc:
        err_console.print(error_line(exc, argv_language(sys.argv[1:])), highlight=False)
        sys.exit(1)


def argv_language(args: list[str]) -> str | None:
    """The `--lang` of the command line (`--lang ru` or `--lang=ru`), if any: errors
    speak the command's language even when they stop it before its options are read."""
    from crmroi.languages import LANGUAGES

    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else None
        if arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value is not None:
            return value if value in LANGUAGES else None
    return None


def error_line(exc: CrmroiError, lang: str | None = None) -> str:
    """'error: ...' in the CLI's language (`--lang`, else the locale): the message the
    error was raised with worded in it, a plain English text as it is (rich markup)."""
    from crmroi.cli.language import speaker
    from crmroi.messages import N_, Message

    say = speaker(lang)
    first = exc.args[0] if exc.args else None
    if isinstance(exc, InputFileError) and isinstance(exc.reason, Message):
        text = f"{exc.path.name}: {say.say(exc.reason)}"
    elif isinstance(first, Message):
        text = say.say(first)
    else:
        text = str(exc)
    prefix = say(N_("error:"))
    return f"[bold red]{escape(prefix)}[/] {escape(text)}"
