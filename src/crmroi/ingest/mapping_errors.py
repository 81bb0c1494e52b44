"""A mapping file's validation errors as messages, worded in the reader's language.

pydantic reports each problem of a mapping YAML (a missing key, an unknown key, a value
of the wrong type, a value not allowed) in English; here each becomes a message with a
stable code `mapping_<pydantic type>` (`mapping_missing`, `mapping_extra_forbidden`,
`mapping_int_parsing`, `mapping_literal_error`, `mapping_value_error`, ...) and the
parameters of pydantic's context, and the whole refusal one message `mapping_invalid`:
'FILE line N: path: reason' for each problem, joined by '; ', exactly the English text
it always was. The mapping models' own checks raise `ValueError` with a message (below),
so their reasons are worded too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmroi.finance.case_errors import case_invalid, error_message
from crmroi.messages import M_, Items, Message

if TYPE_CHECKING:
    from pydantic import ValidationError

    from crmroi.yaml_lines import LineIndex

__all__ = [
    "COALESCE_OR_JOIN",
    "STRICT_NEEDS_MAP",
    "mapping_invalid",
    "no_such_column",
    "unknown_entity",
]

COALESCE_OR_JOIN = M_(
    "mapping_coalesce_or_join", "a column takes either coalesce or join, not both"
)
STRICT_NEEDS_MAP = M_("mapping_strict_needs_map", "strict needs a map (the values it accepts)")


def unknown_entity(entity: str, entities: Sequence[str]) -> Message:
    """A table mapping's `entity` that names no canonical table."""
    return M_(
        "mapping_unknown_entity",
        "unknown entity %(entity)s; entities are: %(entities)s",
        entity=repr(entity),
        entities=Items(entities),
    )


def no_such_column(entity: str, key: str, allowed: Sequence[str]) -> Message:
    """A mapped or constant column the entity's table does not have."""
    return M_(
        "mapping_no_such_column",
        "%(entity)s has no column %(column)s; its columns are: %(columns)s",
        entity=entity,
        column=repr(key),
        columns=Items(allowed),
    )


def mapping_invalid(exc: ValidationError, index: LineIndex, source: str | Path) -> Message:
    """Every problem pydantic found in a mapping file as one message (code
    `mapping_invalid`), each 'FILE line N: path: reason' with its own code."""
    found: list[tuple[tuple[Any, ...], Message]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        found.append((loc, error_message(err, prefix="mapping_")))
    return case_invalid(found, index, source, code="mapping_invalid")
