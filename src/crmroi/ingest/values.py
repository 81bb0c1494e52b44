"""Vectorised value parsers: numbers, dates and booleans from columns of raw strings.

Every parser takes a pandas Series of ``str``/``None`` and returns :class:`Parsed`: the typed
values, a mask of cells that were non-empty but could not be parsed, and a one-line description
of what was detected (decimal separator, date order, ...). Formats are decided for the whole
column, never per value, except that a column mixing recognisable shapes (ISO and DD.MM.YYYY,
say) parses each value in its own shape. All work is done with pandas/pyarrow string kernels;
Python loops only run over a handful of format groups.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.ingest.digits import Parsed, all_ascii, clean_strings, mask, to_ascii_digits
from crmroi.ingest.numbers import parse_numbers

__all__ = [
    "FALSE_VALUES",
    "TRUE_VALUES",
    "Parsed",
    "parse_booleans",
    "parse_dates",
    "parse_numbers",
    "to_ascii_digits",
]

DateOrder = Literal["DMY", "MDY", "YMD"]

TRUE_VALUES: tuple[str, ...] = (
    *("true", "yes", "y", "t", "1", "да", "д", "是", "بله", "on"),
    *("истина", "wahr", "vrai"),  # TRUE as a Russian/Bulgarian, German, French Excel saves it
)
FALSE_VALUES: tuple[str, ...] = (
    *("false", "no", "n", "f", "0", "нет", "н", "не", "否", "خیر", "نه", "off"),
    *("ложь", "неистина", "falsch", "faux"),
)

# --------------------------------------------------------------------------- dates

_CJK_DATE = "[年月日時时分秒點点년월일시분초午]"
_CJK_REWRITES: tuple[tuple[str, str], ...] = (
    (r"^([0-9]{4}) *[年년] *([0-9]{1,2}) *[月월] *([0-9]{1,2}) *[日일号號]?", r"\1-\2-\3 "),
    (r"([0-9]{1,2}) *[时時点點시] *([0-9]{1,2}) *[分분] *([0-9]{1,2}) *[秒초]", r"\1:\2:\3"),
    (r"([0-9]{1,2}) *[时時点點시] *([0-9]{1,2}) *[分분]?", r"\1:\2"),
    (r"^(.*?) *(?:上午|오전) *(.*)$", r"\1 \2 AM"),
    (r"^(.*?) *(?:下午|오후) *(.*)$", r"\1 \2 PM"),
    ("  +", " "),
)


def _clean_dates(s: pd.Series) -> pd.Series:
    """`clean_strings`, and Chinese/Japanese/Korean dates rewritten in the Y-M-D shape:
    "2024年2月1日 14时30分" -> "2024-2-1 14:30", 下午/上午 -> PM/AM."""
    st = clean_strings(s)
    if all_ascii(st):  # the CJK characters are outside ASCII
        return st
    cjk = mask(st.str.contains(_CJK_DATE, regex=True))
    if not cjk.any():
        return st
    sub = st[cjk]
    for pattern, replacement in _CJK_REWRITES:
        sub = sub.str.replace(pattern, replacement, regex=True)
    out = st.copy()
    out[cjk] = sub.str.strip()
    return out


_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2}| ?UTC)?$"
)
_GENERAL = (
    r"^(?P<a>[0-9]{1,4})(?P<s1>[./-])(?P<b>[0-9]{1,2})(?P<s2>[./-])(?P<c>[0-9]{1,4})"
    r"(?:(?:T| +)(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<F>[0-9]{1,9}))?)?"
    r" *(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r" *(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2}|UTC)?$"
)
_NUMERIC = r"^[0-9]+(?:\.[0-9]+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")


def _to_us(x: pd.Series) -> pd.Series:
    """Any datetime Series (maybe tz-aware) -> naive UTC datetime64[us]."""
    if isinstance(x.dtype, pd.DatetimeTZDtype):
        x = x.dt.tz_convert("UTC").dt.tz_localize(None)
    return x.astype("datetime64[us]")


def _parse_iso(st: pd.Series) -> pd.Series:
    if mask(st.str.contains("UTC", regex=False)).any():  # a plain search first: cheaper
        st = st.str.replace(r" ?UTC$", "Z", regex=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pd.to_datetime(st, format="ISO8601", utc=True, errors="coerce")
    return _to_us(out)


_STAMP_TYPES = (pa.timestamp("us", tz="UTC"), pa.timestamp("us"))
_PANDAS_YEARS = (1678, 2261)  # within pandas' nanosecond range, whatever it parses with


def _every_iso(st: pd.Series) -> pd.Series | None:
    """`_parse_iso` of cells that are all ISO 8601, by Arrow's cast: all with a zone (to
    UTC) or all without. None when a cell is not such (`_parse_shapes` then reads them as
    before): a year outside 1678-2261 (Solar Hijri years among them), a day that does not
    exist, more than six decimals, zones mixed, 'UTC' written out (Arrow refuses it)."""
    cells = _arrow(st)
    if not len(cells):
        return None
    if not pc.all(pc.match_substring_regex(cells, _ISO)).as_py():
        return None
    for stamp_type in _STAMP_TYPES:
        try:
            stamps = pc.cast(cells, stamp_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        years = pc.min_max(pc.year(stamps)).as_py()
        if not _PANDAS_YEARS[0] <= years["min"] <= years["max"] <= _PANDAS_YEARS[1]:
            return None
        naive = pc.cast(stamps, pa.timestamp("us")).to_numpy()
        return pd.Series(naive, index=st.index, dtype="datetime64[us]")
    return None


def _parse_shapes(
    vals: pd.Series,
    weights: np.ndarray,
    order: DateOrder | None,
    out: pd.Series,
    guessed: pd.Series,
) -> tuple[list[str], bool]:
    """`parse_dates` of present cells of any shape, into `out`; the notes, and whether a
    day/month order was assumed. Cells whose order is only assumed are marked in
    `guessed`."""
    notes: list[str] = []
    numeric = mask(vals.str.contains(_NUMERIC, regex=True))
    handled = None
    if bool(numeric.all()):
        handled = _parse_all_numeric(vals, weights)
    if handled is not None:
        out[vals.index] = handled[0]
        return [handled[1]], False
    iso = mask(vals.str.contains(_ISO, regex=True))
    iso &= ~mask(vals.str.contains("^1[2-4][0-9][0-9]-", regex=True))  # Solar Hijri
    if iso.any():
        out[iso[iso].index] = _parse_iso(vals[iso])
        notes.append("ISO 8601")
    rest = (~iso & ~numeric).to_numpy(dtype=bool)
    other = vals[rest]
    defaulted = False
    if len(other):
        general, gnotes, assumed, defaulted = _parse_general(other, order, weights[rest])
        out[other.index] = general
        guessed[other.index] = assumed
        notes.extend(gnotes)
    return notes, defaulted


def _num(x: pd.Series) -> pd.Series:
    return pd.to_numeric(x, errors="coerce").astype("float64")


def _arrow(st: pd.Series) -> pa.ChunkedArray:
    """The pyarrow string data behind a pyarrow-backed string Series."""
    arr = pa.array(st.array)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _field(parts: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """A string field of an extract_regex result; unmatched optional groups -> null."""
    f = pc.struct_field(parts, name)
    return pc.if_else(pc.equal(f, ""), pa.scalar(None, pa.string()), f)


def _f64(x: pa.ChunkedArray) -> np.ndarray:
    """Digit strings -> float64 numpy array, NaN for null."""
    x = pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.string()), x)
    return np.asarray(pc.cast(x, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")


def _np_bool(x: pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean array as numpy bool, null -> False."""
    return np.asarray(pc.fill_null(x, False).to_numpy(zero_copy_only=False), dtype=bool)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for proleptic Gregorian y/m/d (int64 arrays; H. Hinnant)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="int64")


def _assemble(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, parts: pa.ChunkedArray
) -> np.ndarray:
    """Build datetime64[us] (NaT where invalid) from component arrays and extracted times."""
    hour = np.nan_to_num(_f64(_field(parts, "H")))
    minute = np.nan_to_num(_f64(_field(parts, "M")))
    second = np.nan_to_num(_f64(_field(parts, "S")))
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, "F"), 9, "0"), 0, 6)
    micro = np.nan_to_num(_f64(frac))
    ampm = pc.replace_substring(pc.utf8_lower(pc.struct_field(parts, "ampm")), ".", "")
    ampm_np = np.asarray(ampm.to_numpy(zero_copy_only=False), dtype=object)
    pm, am = ampm_np == "pm", ampm_np == "am"
    valid = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    valid &= ~((am | pm) & ((hour < 1) | (hour > 12)))
    hour = np.where(am & (hour == 12), 0, hour)
    hour = np.where(pm & (hour < 12), hour + 12, hour)
    y = np.nan_to_num(year).astype("int64")
    m = np.clip(np.nan_to_num(month), 0, 12).astype("int64")
    d = np.nan_to_num(day).astype("int64")
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    mdays = _MONTH_DAYS[m] + ((m == 2) & leap)
    valid &= (month >= 1) & (month <= 12) & (d >= 1) & (d <= mdays)
    valid &= (hour < 24) & (minute < 60) & (second < 60) & (y >= 1) & (y <= 9999)
    tz = pc.replace_substring(pc.struct_field(parts, "tz"), ":", "")
    sign = np.where(_np_bool(pc.starts_with(tz, "-")), -1, 1)
    offset = np.zeros(len(y), dtype="int64")
    off_mask = pc.match_substring_regex(tz, "^[+-][0-9]{4}$")
    has_off = _np_bool(off_mask)
    tz = pc.if_else(pc.fill_null(off_mask, False), tz, pa.scalar(None, pa.string()))
    if has_off.any():
        hh = _f64(pc.utf8_slice_codeunits(tz, 1, 3))
        mm = _f64(pc.utf8_slice_codeunits(tz, 3, 5))
        offset = np.where(has_off, sign * (np.nan_to_num(hh) * 60 + np.nan_to_num(mm)), 0)
    days = _days_from_civil(y, np.where(valid, m, 1), np.where(valid, d, 1))
    micros = (
        days * 86_400_000_000
        + (hour * 3_600_000_000).astype("int64")
        + (minute * 60_000_000).astype("int64")
        + (second * 1_000_000).astype("int64")
        + micro.astype("int64")
        - (offset * 60_000_000).astype("int64")
    )
    out = micros.astype("datetime64[us]")
    out[~valid] = np.datetime64("NaT")
    return out


_JALALI_YEARS = (1200, 1499)  # year-first dates in this range are Solar Hijri (Persian calendar)


def _jalali_days(jy: np.ndarray, jm: np.ndarray, jd: np.ndarray) -> np.ndarray:
    """A day count for Solar Hijri dates (arithmetic 33-year cycle, as in the jdf library)."""
    jy = jy + 1595
    days = -355668 + 365 * jy + (jy // 33) * 8 + ((jy % 33) + 3) // 4 + jd
    return days + np.where(jm < 7, (jm - 1) * 31, (jm - 7) * 30 + 186)


_NOWRUZ_1403 = np.datetime64("2024-03-20", "D")
_NOWRUZ_1403_DAYS = int(_jalali_days(np.array([1403]), np.array([1]), np.array([1]))[0])


def _jalali_to_gregorian(
    jy: np.ndarray, jm: np.ndarray, jd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solar Hijri y/m/d (float arrays, NaN allowed) -> Gregorian y/m/d (NaN where invalid)."""
    ok = ~(np.isnan(jy) | np.isnan(jm) | np.isnan(jd))
    ok &= (jm >= 1) & (jm <= 12) & (jd >= 1) & (jd <= np.where(jm <= 6, 31, 30))
    y, m, d = (np.where(ok, v, 1).astype("int64") for v in (jy, jm, jd))
    dates = _NOWRUZ_1403 + (_jalali_days(y, m, d) - _NOWRUZ_1403_DAYS).astype("timedelta64[D]")
    idx = pd.DatetimeIndex(dates.astype("datetime64[s]"))
    nan = np.nan
    return (
        np.where(ok, idx.year, nan),
        np.where(ok, idx.month, nan),
        np.where(ok, idx.day, nan),
    )


def _resolve_order(
    first: np.ndarray,
    second: np.ndarray,
    given: DateOrder | None,
    default: DateOrder,
    counts: np.ndarray,
) -> tuple[DateOrder, str, bool]:
    """Decide DMY vs MDY for values whose year is last (each value counted `counts` times);
    also whether nothing told it, so `default` (the separator's convention) decided."""
    dmy = int(counts[first > 12].sum())
    mdy = int(counts[second > 12].sum())
    if dmy or mdy:
        order: DateOrder = "DMY" if dmy >= mdy else "MDY"
        note = "" if not (dmy and mdy) else f" (conflicting: {dmy} DMY vs {mdy} MDY values)"
        return order, note, False
    if given in ("DMY", "MDY"):
        return given, " (ambiguous: order given)", False
    return default, " (ambiguous: assumed from the separator)", True


def _pattern_name(order: DateOrder, sep: str, with_time: bool) -> str:
    names = {
        "DMY": f"DD{sep}MM{sep}YYYY",
        "MDY": f"M{sep}D{sep}YYYY",
        "YMD": f"YYYY{sep}M{sep}D",
    }
    return names[order] + (" HH:MM" if with_time else "")


class _GeneralParts(NamedTuple):
    """The Y-M-D / D.M.Y / M/D/Y parts of date strings (`_GENERAL`): `matched` where both
    separators agree, `a`, `b`, `c` the three numbers, `alen`, `clen` the first's and the
    last's digits."""

    parts: pa.ChunkedArray
    matched: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    alen: np.ndarray
    clen: np.ndarray

    @property
    def year_last(self) -> np.ndarray:
        """D.M.Y or M/D/Y with a two- or four-digit year: the ones whose order may be unsure."""
        return self.matched & (self.alen <= 2) & ((self.clen == 2) | (self.clen == 4))

    @property
    def separators(self) -> np.ndarray:
        s1 = pc.struct_field(self.parts, "s1")
        return np.asarray(pc.fill_null(s1, "").to_numpy(zero_copy_only=False), dtype=object)


def _general_parts(st: pd.Series) -> _GeneralParts:
    parts = pc.extract_regex(_arrow(st), _GENERAL)
    matched = _np_bool(pc.equal(pc.struct_field(parts, "s1"), pc.struct_field(parts, "s2")))

    def digits(name: str) -> np.ndarray:
        length = pc.utf8_length(pc.struct_field(parts, name))
        return np.asarray(pc.fill_null(length, 0), dtype="int64")

    a, b, c = (_f64(_field(parts, k)) for k in ("a", "b", "c"))
    return _GeneralParts(parts, matched, a, b, c, digits("a"), digits("c"))


def separator_order(sep: str) -> DateOrder:
    """The day/month order of year-last dates that nothing else tells: month first with
    '/' (as US exports write them), day first with '.' and '-'."""
    return "MDY" if sep == "/" else "DMY"


def assumed_date_order(text: str) -> DateOrder:
    """The order `parse_dates` read year-last date `text` in when nothing told it."""
    found = _general_parts(_clean_dates(pd.Series([text], dtype=object)).fillna(""))
    return separator_order(str(found.separators[0]))


def _parse_general(
    st: pd.Series, order: DateOrder | None, counts: np.ndarray
) -> tuple[np.ndarray, list[str], np.ndarray, bool]:
    """Y-M-D / D.M.Y / M/D/Y shapes with optional time, AM/PM and offset; also which cells'
    day/month order is only assumed (no part above 12 anywhere, no order given) and
    whether any group's order was (`order` would have decided it)."""
    n = len(st)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    assumed = np.zeros(n, dtype=bool)
    any_defaulted = False
    notes: list[str] = []
    found = _general_parts(st)
    parts, matched, a, b, c, alen, clen = found
    if not matched.any():
        return out, notes, assumed, False
    has_time = _np_bool(pc.is_valid(_field(parts, "H")))
    seps = found.separators
    nan = np.full(n, np.nan)

    ymd = matched & (alen == 4)
    rest = found.year_last
    year_last = np.where(clen == 4, c, c + np.where(c <= 68, 2000, 1900))
    overall, _, _ = _resolve_order(a[rest], b[rest], None, "DMY", counts[rest])
    any_evidence = bool(((a[rest] > 12) | (b[rest] > 12)).any())
    year, month, day = nan.copy(), nan.copy(), nan.copy()
    year[ymd], month[ymd], day[ymd] = a[ymd], b[ymd], c[ymd]
    jalali = ymd & (a >= _JALALI_YEARS[0]) & (a <= _JALALI_YEARS[1])
    if jalali.any():
        year[jalali], month[jalali], day[jalali] = _jalali_to_gregorian(
            a[jalali], b[jalali], c[jalali]
        )
    for sep in ("-", "/", "."):
        grp = ymd & (seps == sep)
        if (grp & jalali).any():
            notes.append("Solar Hijri " + _pattern_name("YMD", sep, bool(has_time[grp].any())))
        if (grp & ~jalali).any():
            notes.append(_pattern_name("YMD", sep, bool(has_time[grp].any())))
        grp = rest & (seps == sep)
        if not grp.any():
            continue
        ga, gb = a[grp], b[grp]
        default = separator_order(sep)
        if not bool(((ga > 12) | (gb > 12)).any()) and any_evidence:
            ord_, note = overall, " (ambiguous: same order as the rest of the column)"
        else:
            ord_, note, defaulted = _resolve_order(ga, gb, order, default, counts[grp])
            if defaulted:
                any_defaulted = True
                assumed |= grp & (a != b)  # 05.05.2024 reads the same either way
        year[grp] = year_last[grp]
        day[grp], month[grp] = (ga, gb) if ord_ == "DMY" else (gb, ga)
        notes.append(_pattern_name(ord_, sep, bool(has_time[grp].any())) + note)
    out = _assemble(year, month, day, parts)
    return out, notes, assumed, any_defaulted


def _parse_all_numeric(st: pd.Series, counts: np.ndarray) -> tuple[pd.Series, str] | None:
    """Whole-column numeric dates: YYYYMMDD, Excel serial days, epoch ms or seconds."""
    nums = _num(st)
    lens = st.str.len()
    if bool((lens == 8).all()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(st, format="%Y%m%d", errors="coerce")
        read = int(counts[out.notna().to_numpy()].sum())
        if read * 10 > int(counts.sum()) * 9:  # over 90% of the rows read
            return _to_us(out), "dates YYYYMMDD"
    if bool(nums.between(20_000, 80_000).all()):
        days = nums.to_numpy(dtype="float64")
        us = np.round(days * 86_400_000_000).astype("int64").astype("timedelta64[us]")
        return pd.Series(_EXCEL_EPOCH + us, index=st.index), "Excel serial dates (1900 system)"
    if bool(nums.between(1e12, 1e13).all()) and bool((lens >= 13).all()):
        ms = nums.round().astype("int64").to_numpy().astype("datetime64[ms]")
        return pd.Series(ms.astype("datetime64[us]"), index=st.index), "epoch milliseconds"
    if bool(nums.between(1e9, 1e10).all()) and bool((lens == 10).all()):
        sec = nums.round().astype("int64").to_numpy().astype("datetime64[s]")
        return pd.Series(sec.astype("datetime64[us]"), index=st.index), "epoch seconds"
    return None


def parse_dates(
    s: pd.Series,
    *,
    fmt: str | None = None,
    order: DateOrder | None = None,
    counts: np.ndarray | None = None,
) -> Parsed:
    """Parse dates/timestamps into naive-UTC datetime64[us].

    Recognises ISO 8601 (with Z/offsets, converted to UTC), D.M.Y, D-M-Y, M/D/Y, Y/M/D (with
    optional times and AM/PM), whole-column YYYYMMDD, Excel serial days and epoch milliseconds.
    The day/month order is decided for the whole column: a first part > 12 means DMY, a second
    part > 12 means MDY; otherwise ``order`` if given, else '.' and '-' mean DMY and '/' MDY.
    ``fmt`` (strftime) overrides detection. ``counts``: how many rows each value of ``s``
    stands for (its weight in those decisions; one each when not given).
    """
    weights = np.ones(len(s), dtype="int64") if counts is None else np.asarray(counts)
    st = _clean_dates(s)
    present = st.notna()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    guessed = pd.Series(False, index=s.index, dtype=bool)
    order_assumed = False
    notes: list[str] = []
    if fmt is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(st, format=fmt, errors="coerce", utc="%z" in fmt)
        out = _to_us(parsed)
        notes.append(f"dates in the given format {fmt!r}")
    elif present.any():
        vals = st[present]
        weights = weights[present.to_numpy(dtype=bool)]
        every_iso = _every_iso(vals)
        if every_iso is not None and len(vals) == len(out):  # the common case
            out = every_iso
            notes.append("ISO 8601")
        elif every_iso is not None:
            out[vals.index] = every_iso
            notes.append("ISO 8601")
        else:
            shaped, order_assumed = _parse_shapes(vals, weights, order, out, guessed)
            notes += shaped
    bad = pd.Series(present.to_numpy(dtype=bool) & out.isna().to_numpy(), index=s.index)
    detail = "dates " + "; ".join(notes) if notes else "no dates"
    if notes and notes[0].startswith(("dates", "Excel", "epoch")):
        detail = "; ".join(notes)
    guessed &= ~bad
    found = guessed if bool(guessed.any()) else None
    return Parsed(out, bad, detail, found, order_assumed=order_assumed)


# --------------------------------------------------------------------------- booleans


def parse_booleans(
    s: pd.Series,
    *,
    true_values: Iterable[str] = TRUE_VALUES,
    false_values: Iterable[str] = FALSE_VALUES,
    counts: np.ndarray | None = None,
) -> Parsed:
    """Parse yes/no style values (case-insensitive) into the pandas "boolean" dtype;
    `counts`: how many rows each value stands for (in the counts described)."""
    st = _clean_dates(s).str.lower()
    trues = [v.strip().lower() for v in true_values]
    falses = [v.strip().lower() for v in false_values]
    is_true = mask(st.isin(trues)).to_numpy()
    is_false = mask(st.isin(falses)).to_numpy() & ~is_true
    values = pd.Series(pd.array([pd.NA] * len(st), dtype="boolean"), index=s.index)
    values[is_true] = True
    values[is_false] = False
    present = st.notna().to_numpy(dtype=bool)
    bad = pd.Series(present & ~is_true & ~is_false, index=s.index)
    weights = np.ones(len(s), dtype="int64") if counts is None else np.asarray(counts)
    trues_n, falses_n = int(weights[is_true].sum()), int(weights[is_false].sum())
    detail = f"booleans ({trues_n} true, {falses_n} false)"
    return Parsed(values, bad, detail)


def date_order_votes(s: pd.Series) -> tuple[int, int]:
    """(cells that can only be day-first, cells that can only be month-first) among the
    year-last dates of a column of raw strings: a first part above 12 is a day, a second
    part above 12 is a day. Evidence for the columns of the same file (`parse_dates`'s
    `order`), whose own dates may all be ambiguous."""
    st = _clean_dates(s)
    st = st[st.notna()]
    if not len(st):
        return 0, 0
    found = _general_parts(st)
    rest, a, b = found.year_last, found.a, found.b
    return int((rest & (a > 12) & (b <= 12)).sum()), int((rest & (b > 12) & (a <= 12)).sum())
