"""Usage errors (a missing argument, an unknown option, a bad option value) in the CLI's
language.

Typer (0.29) carries its own copy of click whose messages are English f-strings, not
gettext calls, so hooking gettext cannot word them. Instead, when the CLI speaks another
language than English, `speak_usage_errors` replaces the `show` of typer's `UsageError`:
the error is read from the exception's own fields (its parameter, option name, the
pydantic error behind a bad value) and worded as messages (codes `usage_*`), its usage
line and help hint too. English keeps typer's own output, byte for byte.
"""

from __future__ import annotations

import re
import sys
from typing import IO, TYPE_CHECKING, Any

from crmroi.messages import M_, Items, Message

if TYPE_CHECKING:
    from crmroi.cli.language import Speaker

__all__ = ["speak_usage_errors", "usage_message"]

USAGE = M_("usage_line", "Usage: %(usage)s")
_EXTRA = re.compile(r"^Got unexpected extra arguments? ?(?:\(s\))? \((?P<args>.*)\)$")
_NO_COMMAND = re.compile(r"^No such command (?P<name>.+)\.$")
_NEEDS_VALUE = re.compile(r"^Option (?P<name>.+) requires an argument\.$")
_NOT_ONE_OF = re.compile(r"^(?P<value>.+) is not one of (?P<choices>.+?)\.?$")


def _hint(exc: Any) -> str | None:
    """The parameter's name as typer shows it ("'--lang'", "'workspace'")."""
    hint = getattr(exc, "param_hint", None)
    if hint is None and getattr(exc, "param", None) is not None:
        hint = exc.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return hint


def _value_reason(exc: Any) -> Message | str:
    """Why a value was refused: the pydantic error behind it as a message, else its text."""
    from pydantic import ValidationError

    from crmroi.finance.case_errors import error_message

    cause = exc.__cause__
    if not isinstance(cause, ValidationError) or not cause.errors():
        return str(exc.message)
    err = cause.errors()[0]
    found = _NOT_ONE_OF.match(str((err.get("ctx") or {}).get("error", "")))
    if err["type"] == "value_error" and found:
        choices = [c.strip() for c in found["choices"].split(",")]
        return M_(
            "usage_not_one_of",
            "%(value)s is not one of %(choices)s",
            value=found["value"],
            choices=Items(choices),
        )
    return error_message(err, prefix="usage_")


def usage_message(exc: Any) -> Message | str:
    """A typer/click usage error as a message (its English text where none fits)."""
    from typer._click import exceptions as ce

    text = str(getattr(exc, "message", "") or "")
    if isinstance(exc, ce.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        name = _hint(exc) or ""
        if text or kind not in ("argument", "option"):
            return exc.format_message()
        if kind == "argument":
            return M_("usage_missing_argument", "Missing argument %(name)s.", name=name)
        return M_("usage_missing_option", "Missing option %(name)s.", name=name)
    if isinstance(exc, ce.BadParameter):
        hint = _hint(exc)
        reason = _value_reason(exc)
        if hint is None:
            return M_("usage_invalid", "Invalid value: %(reason)s", reason=reason)
        return M_(
            "usage_invalid_value",
            "Invalid value for %(name)s: %(reason)s",
            name=hint,
            reason=reason,
        )
    if isinstance(exc, ce.NoSuchOption):
        if exc.possibilities:
            return M_(
                "usage_no_such_option_possible",
                "No such option: %(name)s (Possible options: %(options)s)",
                name=exc.option_name,
                options=Items(sorted(exc.possibilities)),
            )
        return M_("usage_no_such_option", "No such option: %(name)s", name=exc.option_name)
    if found := _EXTRA.match(text):
        return M_(
            "usage_extra_arguments",
            "Got unexpected extra argument(s) (%(args)s)",
            args=found["args"],
        )
    if found := _NEEDS_VALUE.match(text):
        return M_("usage_needs_value", "Option %(name)s requires an argument.", name=found["name"])
    if found := _NO_COMMAND.match(text):
        return M_("usage_no_such_command", "No such command %(name)s.", name=found["name"])
    if text == "Missing command.":
        return M_("usage_missing_command", "Missing command.")
    return exc.format_message()


def _show(exc: Any, say: Speaker, file: IO[Any] | None = None) -> None:
    """typer's `UsageError.show`, worded by `say`."""
    out = file if file is not None else sys.stderr
    ctx = exc.ctx
    if ctx is not None:
        usage = ctx.get_usage()
        if usage.startswith("Usage: "):
            usage = say.say(Message(USAGE.code, USAGE.text, {"usage": usage[len("Usage: ") :]}))
        print(usage, file=out)
        if ctx.command.get_help_option(ctx) is not None:
            command = f"{ctx.command_path} {ctx.help_option_names[0]}"
            hint = M_("usage_try_help", "Try '%(command)s' for help.", command=command)
            print(say.say(hint), file=out)
        print(file=out)
    error = M_("usage_error", "Error: %(message)s", message=usage_message(exc))
    print(say.say(error), file=out)


def speak_usage_errors(say: Speaker) -> None:
    """Show typer's usage errors in `say`'s language from now on (English: unchanged)."""
    if say.english:
        return
    from typer._click import exceptions as ce

    def show(self: Any, file: IO[Any] | None = None) -> None:
        _show(self, say, file)

    ce.UsageError.show = show  # type: ignore[method-assign]
