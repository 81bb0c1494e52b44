"""Make pydantic's errors on case.yaml readable before they are given a line number.

Unions (a number or a range or `measured`; a list of costs or `actual`) and the
driver discriminator make pydantic report one problem per union member, with
member names such as `float`, `literal['measured']` or `deal_size` inside the
location. This drops those names from the location, keeps the specific error
when there is one, and merges the generic "wrong type" errors of the members
into one "expected a number or a {low, likely, high} range" message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from crmroi.finance.drivers import DRIVER_KINDS
from crmroi.messages import M_, N_, Message, Num

if TYPE_CHECKING:
    from crmroi.yaml_lines import LineIndex

_MEMBER = re.compile(
    r"^(float|int|str|bool|date|none|literal\[.*\]|list\[.*\]|dict\[.*\]|[A-Z]\w*|"
    r"function-.*|tagged-union\[.*\])$"
)
_GENERIC = {
    "float_type",
    "float_parsing",
    "int_type",
    "int_parsing",
    "literal_error",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "list_type",
    "string_type",
    "none_required",
}
_EXPECTED = {
    "float_type": N_("a number"),
    "float_parsing": N_("a number"),
    "int_type": N_("a whole number"),
    "int_parsing": N_("a whole number"),
    "model_type": N_("a {low, likely, high} range"),
    "model_attributes_type": N_("a {low, likely, high} range"),
    "dict_type": N_("a mapping"),
    "list_type": N_("a list"),
    "string_type": N_("text"),
}
_PYDANTIC: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "string_type": N_("Input should be a valid string"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "literal_error": N_("Input should be %(expected)s"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, %(error)s"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of %(class_name)s"),
    "union_tag_invalid": N_(
        "Input tag '%(tag)s' found using %(discriminator)s does not match any of the expected "
        "tags: %(expected_tags)s"
    ),
    "union_tag_not_found": N_("Unable to extract tag using discriminator %(discriminator)s"),
    "value_error": N_("Value error, %(error)s"),
}
"""pydantic's own English wording of the errors the case models raise (its `msg`), as
message ids: code `case_<type>`. A message whose English is not pydantic's text exactly
keeps pydantic's text (untranslated) under the same code."""


def _param(value: Any) -> Any:
    """A context value as pydantic writes it in `msg` (1.0 -> '1'); a `ValueError`
    raised with a `Message` gives the message."""
    if isinstance(value, BaseException):
        first = value.args[0] if value.args else None
        return first if isinstance(first, Message) else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def error_message(err: Mapping[str, Any], prefix: str = "case_") -> Message:
    """One pydantic error of the case (or mapping: `prefix` 'mapping_') models as a
    message: code `<prefix><type>`, English exactly pydantic's `msg`, worded in the
    reader's language where the catalogue has it."""
    kind = str(err["type"])
    if kind == "case_input" and isinstance(err.get("ctx", {}).get("message"), Message):
        found: Message = err["ctx"]["message"]
        return found
    code = prefix + kind
    text = _PYDANTIC.get(kind)
    if text is not None:
        params = {k: _param(v) for k, v in (err.get("ctx") or {}).items()}
        if kind == "literal_error":
            params["expected"] = _literals(params.get("expected", ""))
        try:
            message = Message(code, text, params)
            if str(message) == err["msg"]:
                return message
        except (KeyError, TypeError, ValueError):
            pass
    return Message(code, "%(msg)s", {"msg": str(err["msg"])})


def _literals(expected: str) -> Message | str:
    """pydantic's "'a', 'b' or 'c'" as nested messages, so 'or' and the commas are
    worded in the reader's language (the English text is the same)."""
    head, joint, last = expected.rpartition(" or ")
    if not joint:
        return expected
    words: list[Message | str] = [*head.split(", "), last]
    return _either(words)


def _either(words: list[Message | str]) -> Message | str:
    """'a, b or c' as nested messages (each word and the joints in the language)."""
    if len(words) == 1:
        return words[0]
    return M_("case_either", "%(items)s or %(last)s", items=_commas(words[:-1]), last=words[-1])


def _commas(words: list[Message | str]) -> Message | str:
    if len(words) == 1:
        return words[0]
    return M_("case_list", "%(first)s, %(rest)s", first=words[0], rest=_commas(words[1:]))


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and _MEMBER.match(part):
            continue
        if (
            isinstance(part, str)
            and part in DRIVER_KINDS
            and i >= 2
            and loc[i - 2] == "benefits"
            and isinstance(loc[i - 1], int)
        ):
            continue
        out.append(part)
    return tuple(out)


def _expected(err: Any) -> Message | str:
    if err["type"] == "literal_error":
        expected = err.get("ctx", {}).get("expected")
        return str(expected) if expected else M_("case_allowed_words", "one of the allowed words")
    text = _EXPECTED.get(err["type"])
    return Message("case_expected_kind", text) if text else str(err["msg"])


def case_error_messages(exc: ValidationError) -> list[tuple[tuple[Any, ...], Message]]:
    """(location, message) of each error, union member names removed from the location
    and the members' "wrong type" errors merged into one 'expected ...' message."""
    return [(loc, message) for loc, message, _ in _grouped(exc)]


def _grouped(exc: ValidationError) -> list[tuple[tuple[Any, ...], Message, Any]]:
    """(location, message, the pydantic error it stands for) of each error kept."""
    errors: list[dict[str, Any]] = [{**e, "loc": _clean_loc(tuple(e["loc"]))} for e in exc.errors()]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for e in errors:
        groups.setdefault(e["loc"], []).append(e)
    kept: list[tuple[tuple[Any, ...], Message, Any]] = []
    for loc, group in groups.items():
        specific = [e for e in group if e["type"] not in _GENERIC]
        deeper = any(len(o["loc"]) > len(loc) and o["loc"][: len(loc)] == loc for o in errors)
        if specific:
            chosen = specific
        elif deeper:
            continue  # another union member got further: its error says more
        elif len(group) == 1:
            chosen = group
        else:
            words = {str(w): w for w in (_expected(e) for e in group)}
            what = _either(list(words.values()))
            kept.append((loc, M_("case_expected", "expected %(what)s", what=what), group[0]))
            continue
        kept += [(loc, error_message(e), e) for e in chosen]
    return kept


def readable_errors(exc: ValidationError) -> ValidationError:
    """The same errors with union member names removed and member errors merged (each
    keeps its message in `ctx['message']`: `error_message` gives it back)."""
    kept = [
        InitErrorDetails(
            type=PydanticCustomError("case_input", "{msg}", {"msg": str(m), "message": m}),
            loc=loc,
            input=e.get("input"),
        )
        for loc, m, e in _grouped(exc)
    ]
    return ValidationError.from_exception_data(exc.title, kept)


TOP_LEVEL = M_("yaml_top_level", "(top level)")
"""Where a problem of the whole file stands (no key of it)."""


def case_invalid(
    found: Iterable[tuple[tuple[Any, ...], Message]],
    index: LineIndex,
    source: str | Path,
    code: str = "case_invalid",
) -> Message:
    """The problems of a case (or mapping) file as one message (code `case_invalid`, or
    `code`): 'FILE line N: path: reason' for each, joined by '; ' (`problem_list` takes
    it apart again)."""
    name = Path(source).name
    parts: list[Message] = []
    for loc, message in found:
        line = index.line_for(loc)
        where: Message | str = ".".join(str(p) for p in loc) or TOP_LEVEL
        if line:
            parts.append(
                M_(
                    "case_problem_line",
                    "%(file)s line %(line)s: %(where)s: %(reason)s",
                    file=name,
                    line=Num(line, grouped=False),
                    where=where,
                    reason=message,
                )
            )
        else:
            problem = M_(
                "case_problem",
                "%(file)s: %(where)s: %(reason)s",
                file=name,
                where=where,
                reason=message,
            )
            parts.append(problem)
    return Message(code, "%(problems)s", {"problems": _joined(parts)})


def _joined(parts: list[Message]) -> Message:
    if len(parts) == 1:
        return parts[0]
    return M_("case_joined", "%(first)s; %(rest)s", first=parts[0], rest=_joined(parts[1:]))


def problem_list(message: Message) -> list[dict[str, Any]]:
    """The problems of a `case_invalid` message for the API: each one's file, line, path,
    stable code, English text and parameters (as the sentence shows them)."""
    out: list[dict[str, Any]] = []
    invalid = message.code in ("case_invalid", "mapping_invalid")
    stack: list[Any] = [message.params.get("problems")] if invalid else []
    while stack:
        part = stack.pop(0)
        if not isinstance(part, Message):
            continue
        if part.code == "case_joined":
            stack[:0] = [part.params["first"], part.params["rest"]]
            continue
        reason = part.params.get("reason")
        if not isinstance(reason, Message):
            continue
        line = part.params.get("line")
        where = part.params.get("where")
        out.append(
            {
                "file": part.params.get("file"),
                "line": int(line.value) if isinstance(line, Num) else None,
                "path": None if where is None else str(where),
                "code": reason.code,
                "message": str(reason),
                "params": reason.worded_params(),
            }
        )
    return out
