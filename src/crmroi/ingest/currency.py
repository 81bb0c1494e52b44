"""Currency conversion into the workspace's base currency with `fx_rates`.

A rate is `rate_to_base`: units of the base currency per unit of the foreign one,
taken on the row's date or the latest date before it (as of). A row dated before
the first known rate uses the earliest rate. The base currency converts at 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
