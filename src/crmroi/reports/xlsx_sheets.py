"""Worksheet names and direction: translated titles made into names Excel accepts.

Excel refuses a sheet name longer than 31 characters, one with any of `[]:*?/\\`, one
that starts or ends with an apostrophe and two names equal but for case; a translation
may break any of these rules, so every sheet is added through `add_sheet`. A
right-to-left report language (fa) turns every sheet right to left (`right_to_left`).
"""

from __future__ import annotations

import re

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

__all__ = ["MAX_SHEET_NAME", "add_sheet", "set_direction", "sheet_title"]

MAX_SHEET_NAME = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str) -> str:
    """`title` as a valid sheet name: forbidden characters to spaces, at most 31 characters."""
    name = re.sub(r"\s+", " ", _FORBIDDEN.sub(" ", title)).strip().strip("'").strip()
    return name[:MAX_SHEET_NAME].rstrip().rstrip("'") or "Sheet"


def add_sheet(wb: Workbook, title: str) -> Worksheet:
    """A new worksheet named `sheet_title(title)`, numbered when that name is taken."""
    name = sheet_title(title)
    taken = {existing.casefold() for existing in wb.sheetnames}
    number = 2
    unique = name
    while unique.casefold() in taken:
        suffix = f" ({number})"
        unique = name[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        number += 1
    ws: Worksheet = wb.add_worksheet(unique)
    return ws


def set_direction(wb: Workbook, direction: str) -> None:
    """Lay every sheet of `wb` out right to left when `direction` is 'rtl'."""
    if direction == "rtl":
        for ws in wb.worksheets():
            ws.right_to_left()
