"""Mapping patterns, matched by RE2: time linear in the value, whatever the pattern.

Python's `re` backtracks: a pattern such as ``(a+)+$`` or one with a backreference takes
time exponential in the length of the value it is tried on, so one mapping file could hold
the server for minutes. RE2 (google-re2) refuses the constructs that need backtracking
(backreferences, lookarounds) with a clear error and matches the rest in linear time.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import re2

from crmroi.limits import current_limits
from crmroi.messages import M_, N_, Message

__all__ = ["check_pattern", "compile_pattern", "pattern_matches"]


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error to stderr
    return options


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The compiled RE2 pattern; `ValueError` with a one-line reason when it is refused."""
    limit = current_limits().pattern_max_chars
    if len(pattern) > limit:
        raise ValueError(
            M_(
                "pattern_too_long",
                "the pattern has %(chars)s characters; at most %(limit)s "
                "(setting CRMROI_PATTERN_MAX_CHARS)",
                chars=len(pattern),
                limit=limit,
            )
        )
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            M_(
                "pattern_unsupported",
                "pattern %(pattern)s is not supported: %(reason)s (patterns use RE2 syntax: "
                "no backreferences or lookarounds)",
                pattern=repr(pattern),
                reason=_re2_reason(str(reason)),
            )
        ) from None


RE2_ERRORS = (
    N_("invalid escape sequence"),
    N_("missing ]"),
    N_("missing )"),
    N_("unexpected )"),
    N_("bad repetition operator"),
    N_("invalid repetition size"),
    N_("invalid perl operator"),
    N_("invalid character class"),
    N_("invalid character class range"),
    N_("trailing \\"),
    N_("invalid named capture group"),
    N_("no argument for repetition operator"),
    N_("invalid UTF-8"),
    N_("unexpected error"),
)
"""RE2's own texts of its parse errors (`RegexpErrorCode`), worded in the catalogue."""


def _re2_reason(reason: str) -> Message | str:
    """RE2's 'what: where' as a message: its error worded, the offending text as it is."""
    what, joint, where = reason.partition(": ")
    if what in RE2_ERRORS:
        said = Message("re2_error", what)
        if not joint:
            return said
        return M_("re2_error_at", "%(error)s: %(found)s", error=said, found=where)
    return reason


def check_pattern(pattern: str | None) -> str | None:
    """`pattern` unchanged when RE2 accepts it (for a pydantic validator)."""
    if pattern:
        compile_pattern(pattern)
    return pattern


def pattern_matches(values: pd.Series, pattern: str) -> pd.Series:
    """Boolean series: the value matches `pattern` at its start (like `re.match`); NA -> False.

    Each distinct value is matched once.
    """
    regex = compile_pattern(pattern)
    cells = values.astype(object).where(values.notna(), None).to_numpy()
    verdict: dict[str, bool] = {}
    hits = np.zeros(len(cells), dtype=bool)
    for i, value in enumerate(cells):
        if value is None:
            continue
        known = verdict.get(value)
        if known is None:
            known = verdict[value] = regex.match(str(value)) is not None
        hits[i] = known
    return pd.Series(hits, index=values.index)
