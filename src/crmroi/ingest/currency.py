"""Currency conversion into the workspace's base currency with `fx_rates`.

A rate is `rate_to_base`: units of the base currency per unit of the foreign one,
taken on the row's date or the latest date before it (as of). A row dated before
the first known rate uses the earliest rate. The base currency converts at 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.messages import M_, Items, Message


@dataclass(frozen=True)
class FxRates:
    """Known exchange rates: columns rate_date (datetime64), currency, rate_to_base."""

    base_currency: str
    frame: pd.DataFrame

    @classmethod
    def from_frame(cls, base_currency: str, frame: pd.DataFrame | None) -> FxRates:
        cols = ["rate_date", "currency", "rate_to_base"]
        if frame is None or frame.empty:
            empty = pd.DataFrame(
                {
                    c: pd.Series(dtype=t)
                    for c, t in zip(cols, ["datetime64[us]", "object", "float64"], strict=True)
                }
            )
            return cls(base_currency.upper(), empty)
        clean = frame[cols].dropna().copy()
        clean["rate_date"] = pd.to_datetime(clean["rate_date"]).astype("datetime64[us]")
        clean["currency"] = clean["currency"].astype(str).str.strip().str.upper()
        clean = clean.sort_values(["rate_date", "currency"], kind="stable")
        return cls(base_currency.upper(), clean.reset_index(drop=True))

    def with_rates(self, more: pd.DataFrame) -> FxRates:
        """These rates plus `more` (later rows win on the same date and currency)."""
        combined = pd.concat([self.frame, more[["rate_date", "currency", "rate_to_base"]]])
        combined = combined.drop_duplicates(["rate_date", "currency"], keep="last")
        return FxRates.from_frame(self.base_currency, combined)

    def rates_for(self, currency: pd.Series, when: pd.Series) -> pd.Series:
        """The rate for each (currency, date); NaN where the currency has no rate at all.

        `currency` holds ISO codes (None means the base currency); `when` holds
        datetime64 values (NaT uses the latest rate of that currency).
        """
        codes = currency.fillna(self.base_currency).astype(str).str.strip().str.upper()
        out = pd.Series(np.nan, index=currency.index, dtype="float64")
        out[codes == self.base_currency] = 1.0
        foreign = codes != self.base_currency
        if not foreign.any() or self.frame.empty:
            return out
        dates = pd.to_datetime(when).astype("datetime64[us]")
        for code in codes[foreign].unique():
            table = self.frame[self.frame["currency"] == code]
            if table.empty:
                continue
            rows = codes.index[codes == code]
            row_dates = dates.loc[rows]
            lookup = pd.DataFrame({"when": row_dates.fillna(table["rate_date"].iloc[-1])})
            lookup["order"] = np.arange(len(lookup))
            lookup = lookup.sort_values("when", kind="stable")
            merged = pd.merge_asof(
                lookup,
                table[["rate_date", "rate_to_base"]],
                left_on="when",
                right_on="rate_date",
                direction="backward",
            )
            merged["rate_to_base"] = merged["rate_to_base"].fillna(table["rate_to_base"].iloc[0])
            merged = merged.sort_values("order")
            out.loc[rows] = merged["rate_to_base"].to_numpy()
        return out


# --------------------------------------------------------------------------- currency in a cell

DOLLAR_FAMILY = frozenset(
    {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "CLP", "COP", "ARS", "BRL"}
)
YEN_FAMILY = frozenset({"JPY", "CNY"})
KRONA_FAMILY = frozenset({"SEK", "NOK", "DKK", "ISK"})
RUPEE_FAMILY = frozenset({"INR", "PKR", "LKR", "NPR"})

TOMAN_TO_RIAL = 10.0
"""1 toman = 10 Iranian rials. ISO 4217 has only IRR, so toman amounts are stored in IRR x 10."""


@dataclass(frozen=True)
class CellCurrency:
    """What a currency sign or code written inside an amount cell means.

    `code` is the ISO 4217 code when the sign says it alone; `family` the codes an ambiguous
    sign ($, ¥, kr, Rs) may stand for and `default` the one it means when neither the row's
    currency nor the base currency is in the family (None: refuse the row); `factor` converts
    the written amount into `code` (toman -> rial: 10).
    """

    code: str | None
    family: frozenset[str] = frozenset()
    default: str | None = None
    factor: float = 1.0


# Signs and words exports write next to amounts, longest first so "US$" wins over "$".
CELL_SIGNS: dict[str, CellCurrency] = {
    "US$": CellCurrency("USD"),
    "CA$": CellCurrency("CAD"),
    "C$": CellCurrency("CAD"),
    "AU$": CellCurrency("AUD"),
    "A$": CellCurrency("AUD"),
    "NZ$": CellCurrency("NZD"),
    "HK$": CellCurrency("HKD"),
    "S$": CellCurrency("SGD"),
    "MX$": CellCurrency("MXN"),
    "R$": CellCurrency("BRL"),
    "$": CellCurrency(None, DOLLAR_FAMILY, "USD"),
    "€": CellCurrency("EUR"),
    "£": CellCurrency("GBP"),
    "¥": CellCurrency(None, YEN_FAMILY, "JPY"),
    "￥": CellCurrency(None, YEN_FAMILY, "JPY"),
    "円": CellCurrency("JPY"),
    "元": CellCurrency("CNY"),
    "₽": CellCurrency("RUB"),
    "руб.": CellCurrency("RUB"),
    "руб": CellCurrency("RUB"),
    "р.": CellCurrency("RUB"),
    "₴": CellCurrency("UAH"),
    "грн.": CellCurrency("UAH"),
    "грн": CellCurrency("UAH"),
    "лв.": CellCurrency("BGN"),
    "лв": CellCurrency("BGN"),
    "₹": CellCurrency("INR"),
    "Rs.": CellCurrency(None, RUPEE_FAMILY, None),
    "Rs": CellCurrency(None, RUPEE_FAMILY, None),
    "₩": CellCurrency("KRW"),
    "₺": CellCurrency("TRY"),
    "₪": CellCurrency("ILS"),
    "₫": CellCurrency("VND"),
    "฿": CellCurrency("THB"),
    "₸": CellCurrency("KZT"),
    "₦": CellCurrency("NGN"),
    "₱": CellCurrency("PHP"),
    "zł": CellCurrency("PLN"),
    "Kč": CellCurrency("CZK"),
    "Ft": CellCurrency("HUF"),
    "kr.": CellCurrency(None, KRONA_FAMILY, None),
    "kr": CellCurrency(None, KRONA_FAMILY, None),
    "تومان": CellCurrency("IRR", factor=TOMAN_TO_RIAL),
    "ریال": CellCurrency("IRR"),
    "﷼": CellCurrency("IRR"),
}
CODE_ALIASES = {"RUR": "RUB", "RMB": "CNY", "NIS": "ILS"}
"""Codes exports still write that ISO 4217 replaced (RUR, 1C and Bitrix24) or never had."""


def _sign_pattern() -> str:
    """A regex (RE2-compatible) matching any currency sign, word or ISO code in a cell."""
    escaped = [
        "".join("\\" + ch if ch in ".$+*?()[]{}|^\\" else ch for ch in sign)
        for sign in sorted(CELL_SIGNS, key=len, reverse=True)
    ]
    return "|".join([*escaped, "[A-Z]{3}"])


CELL_SIGN_PATTERN = _sign_pattern()


def any_match(st: pd.Series, pattern: str) -> bool:
    """Whether any cell holds `pattern` (Arrow's vectorised regex search)."""
    found = pc.match_substring_regex(pa.array(st, pa.string()), pattern)
    return bool(pc.any(found).as_py())


def cell_currencies(text: pd.Series) -> pd.Series:
    """The currency sign or code written in each amount cell ("EUR 1,000", "1 000 руб."), or
    <NA>: the raw sign as written (first one in the cell), for `resolve_cell_currencies`."""
    st = text.astype(pd.StringDtype("pyarrow"))
    if not any_match(st, CELL_SIGN_PATTERN):  # extract runs Python per cell: skip it
        return pd.Series(pd.NA, index=st.index, dtype=st.dtype)
    return st.str.extract("(" + CELL_SIGN_PATTERN + ")", expand=False)


def resolve_cell_currencies(
    signs: pd.Series, row_currency: pd.Series, base_currency: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """ISO codes, amount factors and problems for the signs found by `cell_currencies`.

    An ambiguous sign ($, ¥ ￥, kr, Rs) means the row's own currency (currency column or
    constant) when that is in the sign's family, else the base currency when it is, else the
    sign's default (USD for $, JPY for ¥); kr and Rs without such a hint are refused. Returns
    (code or <NA> where the cell has no sign, factor, problem or None: a
    `crmroi.messages.Message`).
    """
    base = base_currency.upper()
    row = row_currency.astype(pd.StringDtype("pyarrow")).str.strip().str.upper()
    codes: list[str | None] = []
    factors: list[float] = []
    problems: list[Message | None] = []
    for sign, stated in zip(signs.tolist(), row.tolist(), strict=True):
        own = None if stated is None or stated is pd.NA or stated == "" else str(stated)
        if sign is None or sign is pd.NA:
            codes.append(None)
            factors.append(1.0)
            problems.append(None)
            continue
        meaning = CELL_SIGNS.get(str(sign))
        if meaning is None:  # an ISO code
            codes.append(CODE_ALIASES.get(str(sign), str(sign)))
            factors.append(1.0)
            problems.append(None)
            continue
        code = meaning.code
        if code is None:
            if own is not None and own in meaning.family:
                code = own
            elif base in meaning.family:
                code = base
            else:
                code = meaning.default
        codes.append(code)
        factors.append(meaning.factor)
        problems.append(None if code is not None else ambiguous_sign(str(sign), meaning.family))
    index = signs.index
    return (
        pd.Series(codes, index=index, dtype=pd.StringDtype("pyarrow")),
        pd.Series(factors, index=index, dtype="float64"),
        pd.Series(problems, index=index, dtype=object),
    )


@dataclass(frozen=True)
class CellCurrencies:
    """Each row's currency once the signs in its amount cells are read.

    `currency`: the ISO code of the row (<NA> where neither the row nor a cell states one:
    the base currency); `factors`: per money column, the factor turning the written amount
    into that currency (10 for toman); `problem`: why a row is refused (a
    `crmroi.messages.Message`), or None.
    """

    currency: pd.Series
    factors: dict[str, pd.Series]
    problem: pd.Series


def apply_cell_currencies(
    stated: pd.Series, signs: dict[str, pd.Series], base_currency: str
) -> CellCurrencies:
    """Combine the row's stated currency (currency column or constant) with the signs found
    in its amount cells (`cell_currencies`, per money column).

    A cell's currency sets the row's currency; a cell that contradicts the stated currency
    or another money cell of the row refuses the row, naming both.
    """
    str_dtype = pd.StringDtype("pyarrow")
    own = stated.astype(str_dtype).str.strip().str.upper()
    own = own.mask((own == "").fillna(False).astype(bool))
    own = own.replace(CODE_ALIASES)
    currency = own.copy()
    problem = pd.Series(None, index=stated.index, dtype=object)
    factors: dict[str, pd.Series] = {}
    for name, found in signs.items():
        codes, factor, trouble = resolve_cell_currencies(found, own, base_currency)
        factors[name] = factor
        problem = problem.where(problem.notna(), trouble)
        has = codes.notna().fillna(False).astype(bool)
        clash = (
            has
            & currency.notna().fillna(False).astype(bool)
            & (codes != currency).fillna(False).astype(bool)
        )
        if clash.any():
            clashes: list[Message | None] = [None] * len(problem)
            for i in np.flatnonzero(clash.to_numpy(dtype=bool)):
                written = (codes.iloc[i], found.iloc[i], currency.iloc[i])
                clashes[i] = currency_clash(name, *(str(v) for v in written))
            what = pd.Series(clashes, index=problem.index, dtype=object)
            problem = problem.where(problem.notna(), what)
        currency = currency.where(~has | clash, codes)
    return CellCurrencies(currency, factors, problem)


def ambiguous_sign(sign: str, family: Iterable[str]) -> Message:
    """A currency sign that may mean several currencies, with no hint which."""
    return M_(
        "import_ambiguous_sign",
        "the currency sign %(sign)s may mean any of %(codes)s; add a currency column or "
        "write the ISO code",
        sign=repr(sign),
        codes=Items(sorted(family)),
    )


def currency_clash(column: str, code: str, written: str, currency: str) -> Message:
    """An amount cell in another currency than its row's."""
    return M_(
        "import_currency_clash",
        "%(column)s is in %(found)s (%(written)s) but the row's currency is %(currency)s",
        column=column,
        found=code,
        written=written,
        currency=currency,
    )


def stated_codes(stated: pd.Series, base_currency: str) -> pd.Series:
    """A currency column's values as ISO codes: a sign or word written there instead of a
    code (`€`, `руб.`, `₽`, `zł`) read as in an amount cell (`$` and `¥`: the base currency
    when it is in the sign's family, else USD and JPY), an old code as its replacement
    (RUR: RUB), lower case as upper case. Signs that need a hint or a factor (kr, Rs,
    toman) are left as written, so the row is refused with them."""
    text = stated.astype(pd.StringDtype("pyarrow")).str.strip()
    base = base_currency.upper()
    codes: dict[str, str] = {}
    for value in text.dropna().unique():
        meaning = CELL_SIGNS.get(str(value)) or CELL_SIGNS.get(str(value).lower())
        if meaning is not None and meaning.factor == 1.0:
            code = meaning.code or (base if base in meaning.family else meaning.default)
            if code is not None:
                codes[str(value)] = code
        elif str(value).upper() in CODE_ALIASES:
            codes[str(value)] = CODE_ALIASES[str(value).upper()]
    return text.replace(codes) if codes else text
