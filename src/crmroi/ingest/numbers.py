"""Numbers from columns of raw strings, written in any common locale and script.

Vectorised with pandas/pyarrow string kernels; the decimal separator is decided for the whole
column. Regular expressions avoid \\s, \\b, \\d and lookarounds so that pandas runs them in
pyarrow's RE2 instead of Python's re.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmroi.ingest.currency import CELL_SIGN_PATTERN, any_match
from crmroi.ingest.digits import ARABIC_DECIMAL, ARABIC_THOUSANDS, Parsed, clean_strings, mask

__all__ = ["MULTIPLIERS", "parse_numbers"]

_SPACES = "[ \t\r\n\f\v\u00a0\u2009\u202f\u2007'’]"
_STRIPPED_THOUSANDS = frozenset("\u00a0\u202f\u2009\u2007'’" + ARABIC_THOUSANDS)

MULTIPLIERS: dict[str, int] = {"万亿": 12, "萬億": 12, "万": 4, "萬": 4, "亿": 8, "億": 8}
"""Chinese number units after an amount (1.2万 = 12,000; 3亿 = 300,000,000): powers of ten."""
_MULTIPLIER_RE = "(" + "|".join(MULTIPLIERS) + ")"


def _escape(ch: str) -> str:
    """One separator character for an RE2 pattern (RE2 refuses escaped non-punctuation)."""
    return "\\" + ch if ch.isascii() and not ch.isalnum() else ch


def _number_regex(decimal: str, thousands: str | None) -> str:
    d = _escape(decimal)
    t = None if thousands is None else _escape(thousands)
    # groups of three, or the Indian lakh/crore grouping 12,34,567 (twos, then a three)
    threes = rf"[0-9]{{1,3}}(?:{t}[0-9]{{3}})+"
    indian = rf"[0-9]{{1,2}}(?:{t}[0-9]{{2}})+{t}[0-9]{{3}}"
    body = r"[0-9]+" if t is None else rf"(?:{threes}|{indian}|[0-9]+)"
    return rf"^[+-]?(?:{body}(?:{d}[0-9]*)?|{d}[0-9]+)(?:[eE][+-]?[0-9]+)?$"


_LONE_GROUP = r"^[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}$"
"""A number with one separator followed by exactly three digits: 1.500 or 1,500."""


def _vote_decimal(st: pd.Series, counts: np.ndarray) -> tuple[str | None, str]:
    """Detect the decimal separator of a cleaned number column; returns (sep or None, why).

    `counts`: how many rows each value stands for (its votes)."""
    has_dot = mask(st.str.contains(".", regex=False)).to_numpy()
    has_comma = mask(st.str.contains(",", regex=False)).to_numpy()
    both = has_dot & has_comma
    votes = {".": 0, ",": 0}
    if both.any():
        sub = st[both]
        last_dot = sub.str.rfind(".").to_numpy(dtype="int64")
        last_comma = sub.str.rfind(",").to_numpy(dtype="int64")
        votes["."] += int(counts[both][last_dot > last_comma].sum())
        votes[","] += int(counts[both][last_comma > last_dot].sum())
    for sep, other in ((".", ","), (",", ".")):
        only = (has_dot if sep == "." else has_comma) & ~both
        if not only.any():
            continue
        sub, weight = st[only], counts[only]
        count = sub.str.count("\\" + sep).to_numpy(dtype="int64")
        votes[other] += int(weight[count > 1].sum())  # 1.234.567: '.' groups thousands
        single = sub[count == 1]
        grouped = mask(single.str.contains(rf"^[+-]?[1-9][0-9]{{0,2}}\{sep}[0-9]{{3}}(?:[eE]|$)"))
        votes[sep] += int(weight[count == 1][~grouped.to_numpy()].sum())  # 1234,5: a decimal
    if votes["."] == votes[","] == 0:
        return None, "ambiguous"
    if votes[","] > votes["."]:
        return ",", "detected"
    return ".", "detected"


def _multipliers(st: pd.Series) -> tuple[pd.Series, np.ndarray | None]:
    """Strip 万/亿 units; return the strings and each row's power of ten (None: no units)."""
    if not any_match(st, _MULTIPLIER_RE):
        return st, None  # extract runs Python per cell: skipped when nothing matches
    found = st.str.extract(_MULTIPLIER_RE, expand=False)
    powers = found.map(MULTIPLIERS).astype("float64").fillna(0).to_numpy()
    return st.str.replace(_MULTIPLIER_RE, "", regex=True), powers


def _scale(values: pd.Series, norm: pd.Series, powers: np.ndarray) -> pd.Series:
    """values x 10**powers, rounded to the digits written (1.2万 is 12000, not 12000.000000002)."""
    written = norm.str.extract(r"\.([0-9]+)$", expand=False).str.len().fillna(0)
    decimals = np.clip(written.to_numpy(dtype="float64") - powers, 0, 15).astype("int64")
    scaled = values.to_numpy(dtype="float64") * 10.0**powers
    factor = 10.0**decimals
    rounded = np.round(scaled * factor) / factor
    exact = np.where(np.abs(scaled) < 1e15, rounded, scaled)
    return pd.Series(np.where(powers > 0, exact, scaled), index=values.index)


def parse_numbers(
    s: pd.Series,
    *,
    decimal: str | None = None,
    thousands: str | None = None,
    counts: np.ndarray | None = None,
    money: bool = False,
) -> Parsed:
    """Parse numbers written in any common locale into float64.

    Handles decimal point or comma, thousands separators (",", ".", spaces, NBSP, narrow NBSP,
    apostrophes, the Arabic ٬), the Arabic decimal separator ٫, Persian, Arabic-Indic and
    full-width digits, currency signs and codes (see `crmroi.ingest.currency.CELL_SIGNS`),
    the Chinese units 万 (10^4) and 亿 (10^8), accounting negatives "(12)" and scientific
    notation. The decimal separator is decided for the whole column unless given; a lone
    separator followed by exactly three digits is ambiguous and resolved by the other values,
    defaulting to '.' (for `money`, the separator of lone "1.500" cells groups thousands;
    such cells are marked in `Parsed.guessed`). `counts`: how many rows each value of `s`
    stands for (its weight in that decision and in the counts described; one each when not
    given), so a column can be parsed once per distinct value with the whole column's
    evidence.
    """
    weights = np.ones(len(s), dtype="int64") if counts is None else np.asarray(counts)
    st = clean_strings(s)
    present = st.notna().to_numpy()
    st = st.str.replace("−", "-", regex=False)  # unicode minus
    paren = mask(st.str.contains(r"^\(.*\)$", regex=True))
    if paren.any():
        st = st.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    st, powers = _multipliers(st)
    st = st.str.replace(CELL_SIGN_PATTERN, "", regex=True)
    st = st.str.replace(_SPACES, "", regex=True)
    st = st.str.replace(ARABIC_THOUSANDS, "", regex=False)
    inner = mask(st.str.contains(r"^\(.*\)$", regex=True)) & ~paren  # "$ (1,200.00)"
    if inner.any():
        st = st.where(~inner.to_numpy(), st.str.replace(r"^\((.*)\)$", r"\1", regex=True))
        paren = paren | inner

    how = "given"
    guessed = None
    if decimal is None:
        if thousands in (",", "."):
            decimal = "." if thousands == "," else ","
        else:
            found, how = _vote_decimal(st, weights)
            decimal = found or "."
            if found is None:
                how = "ambiguous, assumed"
                lone = mask(st.str.contains(_LONE_GROUP, regex=True))
                if powers is not None:
                    lone &= powers == 0  # 1.000万: decimals before the unit
                if thousands is None and lone.any():  # a space given: "1.500" is 1.5
                    # "1.500" and "1,500" alone: marked guessed (the import says so); in
                    # money a lone separator before three digits groups thousands (money
                    # has two decimals), elsewhere the decimal point stays the default
                    guessed = lone
                    dots = mask(lone & st.str.contains(".", regex=False)).any()
                    commas = mask(lone & st.str.contains(",", regex=False)).any()
                    if money and dots and not commas:
                        decimal = ","
    st = st.str.replace(ARABIC_DECIMAL, decimal, regex=False)
    if thousands is None:
        thousands = "," if decimal == "." else "." if decimal == "," else None
    thou_re = None if thousands is None or thousands.isspace() or thousands == "" else thousands
    if thou_re is not None and (thou_re in _STRIPPED_THOUSANDS or thou_re == decimal):
        thou_re = None  # already stripped with the spaces, or meaningless

    ok = mask(st.str.contains(_number_regex(decimal, thou_re), regex=True))
    norm = st.where(ok)
    if thou_re is not None:
        norm = norm.str.replace(thou_re, "", regex=False)
    if decimal != ".":
        norm = norm.str.replace(decimal, ".", regex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nums = pd.to_numeric(norm, errors="coerce")
    values = pd.Series(np.asarray(nums.astype("float64"), dtype="float64"), index=s.index)
    if powers is not None:
        values = _scale(values, norm, powers)
    if paren.any():
        values = values.where(~paren.to_numpy(), -values.abs())
    bad = pd.Series(present & values.isna().to_numpy(), index=s.index)
    name = {".": "decimal point", ",": "decimal comma"}.get(decimal, f"decimal {decimal!r}")
    detail = f"{name} ({how}), thousands {thousands!r}" if thousands else f"{name} ({how})"
    if powers is not None:
        detail += f"; {int(weights[powers > 0].sum())} values with 万/亿 units"
    if guessed is not None:
        guessed = pd.Series(guessed.to_numpy() & ~bad.to_numpy(), index=s.index)
    return Parsed(
        values,
        bad,
        detail,
        guessed if guessed is not None and guessed.any() else None,
        decimal=decimal,
        decimal_shown=how == "detected",
    )
