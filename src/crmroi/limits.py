"""Input limits: every file, YAML text and pattern crmroi reads is bounded before it is read.

One settings class, :class:`InputLimits`, read from ``CRMROI_*`` environment variables by the
command line and the web app alike (``CRMROI_MAX_COLUMNS=5000 crmroi import ...``). Each limit
has a safe default; exceeding one raises a :class:`~crmroi.errors.UserError` subclass whose
one-line message names the file, the limit and the setting that raises it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from crmroi.errors import ConfigurationError, InputFileError

__all__ = [
    "CASE_LISTS",
    "InputLimits",
    "current_limits",
    "refuse_long_case",
    "refuse_many_cells",
    "refuse_wide_header",
]


class InputLimits(BaseSettings):
    """Caps on what one input may declare or hold (``CRMROI_`` + the field name, upper case)."""

    model_config = SettingsConfigDict(env_prefix="CRMROI_", extra="ignore")

    max_columns: int = Field(
        default=2_000, gt=0, description="Columns in the header of a CSV/XLSX file."
    )
    max_cells: int = Field(
        default=10_000_000,
        gt=0,
        description="Rows times header columns of one CSV/XLSX file (empty cells count).",
    )
    max_field_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="Characters in one CSV field (longer fields refuse the file).",
    )
    max_xlsx_unpacked_bytes: int = Field(
        default=512 * 1024 * 1024,
        gt=0,
        description="Declared uncompressed size of all parts of one XLSX workbook, bytes.",
    )
    yaml_max_aliases: int = Field(
        default=50, ge=0, description="Aliases (*name) in one YAML text (mapping or case)."
    )
    yaml_max_depth: int = Field(default=50, gt=0, description="Nesting depth of one YAML text.")
    yaml_max_nodes: int = Field(
        default=100_000,
        gt=0,
        description="Values in one YAML text once its aliases are expanded.",
    )
    case_max_lines: int = Field(
        default=500,
        gt=0,
        description="Cost, benefit and do-nothing lines of one business case, each list.",
    )
    pattern_max_chars: int = Field(
        default=1_000, gt=0, description="Length of one mapping `pattern` (RE2 syntax)."
    )


COMMAND_LINE_MAX_CELLS = 200_000_000
"""`crmroi import`'s default cell cap: the command line reads the operator's own exports
(a Salesforce task export of 2M rows x 30 columns is 60M cells), while the web app keeps
`InputLimits.max_cells` against uploads built to exhaust memory."""

_command_line_cells: int | None = None


@contextlib.contextmanager
def command_line_limits() -> Iterator[None]:
    """Within the block, the cell cap is `COMMAND_LINE_MAX_CELLS` unless CRMROI_MAX_CELLS
    is set; nothing of the process's environment changes."""
    global _command_line_cells
    previous, _command_line_cells = _command_line_cells, COMMAND_LINE_MAX_CELLS
    try:
        yield
    finally:
        _command_line_cells = previous


@functools.cache
def _environment_limits() -> InputLimits:
    """The limits from the environment, read once per process."""
    return InputLimits()


def current_limits() -> InputLimits:
    """The limits in force: the environment's, with the command line's cell cap inside
    `command_line_limits`. `current_limits.cache_clear()` re-reads the environment."""
    limits = _environment_limits()
    if _command_line_cells is not None and "CRMROI_MAX_CELLS" not in os.environ:
        return limits.model_copy(update={"max_cells": _command_line_cells})
    return limits


current_limits.cache_clear = _environment_limits.cache_clear  # type: ignore[attr-defined]


def refuse_wide_header(path: Path, columns: int, limits: InputLimits) -> None:
    """Raise :class:`InputFileError` when a header has more columns than allowed."""
    if columns > limits.max_columns:
        from crmroi.ingest.refusals import wide_header

        raise InputFileError(path, wide_header(columns, limits.max_columns))


def refuse_many_cells(path: Path, rows: int, columns: int, limits: InputLimits) -> None:
    """Raise :class:`InputFileError` when rows x columns exceeds ``max_cells``."""
    if rows * columns > limits.max_cells:
        from crmroi.ingest.refusals import many_cells

        raise InputFileError(path, many_cells(rows, columns, limits.max_cells))


CASE_LISTS = ("costs", "benefits", "do_nothing")


def refuse_long_case(data: dict[str, object], source: str) -> None:
    """Raise :class:`ConfigurationError` when a case lists more lines than allowed.

    Checked on the parsed YAML before validation: evaluating a case costs time and memory
    in proportion to its lines (a Monte Carlo draw per line and run).
    """
    limit = current_limits().case_max_lines
    for key in CASE_LISTS:
        lines = data.get(key)
        if isinstance(lines, list) and len(lines) > limit:
            raise ConfigurationError(
                f"{source}: {key} has {len(lines):,} lines; at most {limit:,} "
                "(setting CRMROI_CASE_MAX_LINES)"
            )
