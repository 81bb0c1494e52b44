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
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from crmroi.finance.drivers import DRIVER_KINDS

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
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "model_type": "a {low, likely, high} range",
    "model_attributes_type": "a {low, likely, high} range",
    "dict_type": "a mapping",
    "list_type": "a list",
    "string_type": "text",
}


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


def _expected(err: Any) -> str:
    if err["type"] == "literal_error":
        return str(err.get("ctx", {}).get("expected", "one of the allowed words"))
    return _EXPECTED.get(err["type"], err["msg"])


def readable_errors(exc: ValidationError) -> ValidationError:
    """The same errors with union member names removed and member errors merged."""
    errors: list[dict[str, Any]] = [{**e, "loc": _clean_loc(tuple(e["loc"]))} for e in exc.errors()]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for e in errors:
        groups.setdefault(e["loc"], []).append(e)
    kept: list[InitErrorDetails] = []
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
            wanted = list(dict.fromkeys(_expected(e) for e in group))
            text = ", ".join(wanted[:-1]) + f" or {wanted[-1]}" if len(wanted) > 1 else wanted[0]
            kept.append(
                InitErrorDetails(
                    type=PydanticCustomError("case_input", "expected {what}", {"what": text}),
                    loc=loc,
                    input=group[0].get("input"),
                )
            )
            continue
        for e in chosen:
            kept.append(
                InitErrorDetails(
                    type=PydanticCustomError("case_input", "{msg}", {"msg": e["msg"]}),
                    loc=loc,
                    input=e.get("input"),
                )
            )
    return ValidationError.from_exception_data(exc.title, kept)
