"""Digits and punctuation of other scripts, normalised to ASCII before values are parsed.

Exports write numbers and dates with Persian (۰-۹) or Arabic-Indic (٠-٩) digits, or with the
full-width forms of East Asian input methods (１２３，４５６．７８). Every parser first maps those
to ASCII here, one table for all scripts, so a value means the same whatever digits it was typed
with. Only the rows that hold such characters are touched (a Python loop over those rows only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ARABIC_DECIMAL",
    "ARABIC_THOUSANDS",
    "STR",
    "Parsed",
    "all_ascii",
    "ascii_strings",
    "clean_strings",
    "mask",
    "to_ascii_digits",
]

STR = pd.StringDtype("pyarrow")

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ARABIC_DECIMAL = "\u066b"  # ٫ ARABIC DECIMAL SEPARATOR
ARABIC_THOUSANDS = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR

# Full-width ASCII (U+FF01-U+FF5E) -> ASCII, the ideographic space -> space. The full-width yen
# sign ￥ (U+FFE5) is left alone: it is a currency sign, read by the currency parser.
_FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)}
_FULL_WIDTH[0x3000] = 0x20
# Direction marks Arabic and Persian locales put around digits ("1\u200f/2\u200f/2024"): dropped.
_BIDI_MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_TABLE: dict[int, int | None] = {
    **{ord(c): ord("0") + i for i, c in enumerate(PERSIAN_DIGITS)},
    **{ord(c): ord("0") + i for i, c in enumerate(ARABIC_DIGITS)},
    **_FULL_WIDTH,
    **dict.fromkeys(map(ord, _BIDI_MARKS)),
}
_NEEDS_TABLE = "[۰-۹٠-٩\uff01-\uff5e\u3000" + _BIDI_MARKS + "]"


@dataclass(frozen=True)
class Parsed:
    """Result of parsing a column: typed values, a bad-value mask and what was detected."""

    values: pd.Series
    bad: pd.Series
    detail: str
    guessed: pd.Series | None = None
    """Cells read by a convention rather than by evidence in the column (a lone "1.500":
    thousands or decimals?), which the import names in a warning; None when none are."""
    decimal: str | None = None
    """Numbers: the decimal separator the column was read with."""
    decimal_shown: bool = False
    """Numbers: whether the column's own values showed that separator ("1.234,56", "2.5")."""
    order_assumed: bool = False
    """Dates: whether some year-last dates' day/month order came from the separator's
    convention (nothing in the column told it, none was given): an order given would read
    those dates, and only those."""


def mask(b: pd.Series) -> pd.Series:
    """A boolean (maybe nullable) Series as plain bool, <NA> -> False."""
    return b.fillna(False).astype(bool)


def all_ascii(st: pd.Series) -> bool:
    """Whether every cell of a pyarrow string Series is plain ASCII (missing ones too)."""
    cells = pa.array(st.array)
    return bool(pc.all(pc.fill_null(pc.string_is_ascii(cells), True)).as_py() is not False)


def ascii_strings(st: pd.Series) -> pd.Series:
    """Persian, Arabic-Indic and full-width digits and punctuation -> ASCII on a pyarrow
    string Series (only the rows that need it are rewritten)."""
    if all_ascii(st):  # every character to rewrite is outside ASCII: a byte scan says so
        return st
    hits = mask(st.str.contains(_NEEDS_TABLE, regex=True))
    if not hits.any():
        return st
    out = st.copy()
    fixed = [v.translate(_TABLE) for v in st[hits]]
    out[hits] = pd.Series(fixed, index=st.index[hits.to_numpy()], dtype=STR)
    return out


def clean_strings(s: pd.Series) -> pd.Series:
    """Strings (pyarrow) stripped, empty strings -> <NA>, other scripts' digits -> ASCII."""
    st = s.astype(STR) if s.dtype != STR else s
    st = ascii_strings(st).str.strip()
    return st.mask((st == "").fillna(False))


def to_ascii_digits(s: pd.Series) -> pd.Series:
    """Convert Persian (۰-۹), Arabic-Indic (٠-٩) and full-width (０-９) digits to ASCII 0-9.

    Full-width punctuation becomes its ASCII form too; other text is unchanged. Returns an
    object Series of ``str``/``None`` with the input's index.
    """
    st = ascii_strings(s.astype(STR))
    arr = np.asarray(st.to_numpy(dtype=object), dtype=object)
    arr[pd.isna(arr)] = None
    return pd.Series(arr, index=s.index, dtype="object")
