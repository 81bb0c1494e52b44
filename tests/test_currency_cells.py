"""A currency written inside the amount cell ("EUR 1,000.00", "1 000 руб.", "¥1,000") sets the
row's currency and is converted with the dated rates; a currency without a rate, an ambiguous
sign without a hint, or a sign contradicting the row's currency refuses the row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crmroi.ingest.currency import TOMAN_TO_RIAL, apply_cell_currencies, cell_currencies
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store


@pytest.mark.parametrize(
    ("cell", "stated", "base", "code", "factor"),
    [
        ("EUR 1,000.00", None, "RUB", "EUR", 1.0),
        ("1,000.00 EUR", None, "RUB", "EUR", 1.0),
        ("JPY 1,000,000", None, "RUB", "JPY", 1.0),
        ("1 000 руб.", None, "EUR", "RUB", 1.0),
        ("1 000 р.", None, "EUR", "RUB", 1.0),
        ("RUR 10", None, "EUR", "RUB", 1.0),  # the pre-1998 code 1C and Bitrix24 still write
        ("€1.000,50", None, "RUB", "EUR", 1.0),
        ("£5", None, "RUB", "GBP", 1.0),
        ("₽ 5", None, "EUR", "RUB", 1.0),
        ("$5", None, "EUR", "USD", 1.0),  # $: USD unless the row or the base says another dollar
        ("$5", "CAD", "EUR", "CAD", 1.0),
        ("$5", None, "AUD", "AUD", 1.0),
        ("US$5", None, "CAD", "USD", 1.0),
        ("¥1,000", None, "RUB", "JPY", 1.0),  # ¥/￥: JPY unless the row or the base says CNY
        ("￥1,000", None, "CNY", "CNY", 1.0),
        ("￥1,000", "CNY", "RUB", "CNY", 1.0),
        ("1000元", None, "RUB", "CNY", 1.0),
        ("5 kr", "SEK", "EUR", "SEK", 1.0),
        ("ریال ۱۲۰٬۰۰۰", None, "USD", "IRR", 1.0),
        ("۵۰۰ تومان", None, "USD", "IRR", TOMAN_TO_RIAL),
        ("100", None, "RUB", None, 1.0),
        ("100", "eur", "RUB", "EUR", 1.0),
    ],
)
def test_cell_currency(cell: str, stated: str | None, base: str, code: str, factor: float) -> None:
    signs = cell_currencies(pd.Series([cell]))
    result = apply_cell_currencies(pd.Series([stated], dtype=object), {"amount": signs}, base)
    got = result.currency.iloc[0]
    assert (None if pd.isna(got) else got) == code
    assert result.factors["amount"].iloc[0] == factor
    assert pd.isna(result.problem.iloc[0])


@pytest.mark.parametrize(
    ("cell", "stated", "message"),
    [
        ("5 kr", None, "'kr' may mean any of DKK, ISK, NOK, SEK"),
        ("Rs. 500", None, "'Rs.' may mean any of INR, LKR, NPR, PKR"),
        ("EUR 5", "USD", "amount is in EUR (EUR) but the row's currency is USD"),
        ("$5", "EUR", "amount is in USD ($) but the row's currency is EUR"),
    ],
)
def test_cell_currency_refusals(cell: str, stated: str | None, message: str) -> None:
    signs = cell_currencies(pd.Series([cell]))
    result = apply_cell_currencies(pd.Series([stated], dtype=object), {"amount": signs}, "GBP")
    assert message in str(result.problem.iloc[0])


MAPPING = """
source_system: cells
tables:
  - entity: deals
    files: ["deals*.csv"]
    columns:
      deal_id: Deal
      account_id: Account
      amount: Amount
      closed_at: Closed
      is_won: {column: Won, map: {yes: true, no: false}}
  - entity: fx_rates
    files: ["rates*.csv"]
    columns:
      rate_date: date
      currency: code
      rate_to_base: rate
"""

# Rates into RUB; EUR changes on 2024-02-01, so the deal's close date picks the rate.
RATES = """date,code,rate
2024-01-01,EUR,100
2024-02-01,EUR,110
2024-01-01,JPY,0.6
2024-01-01,USD,90
2024-01-01,GBP,115
2024-01-01,IRR,0.002
"""

DEALS = [
    # id, amount cell, close date, expected (amount in RUB, currency, amount_original)
    ("1", "EUR 1,000.00", "2024-01-15", (100_000.0, "EUR", 1000.0)),
    ("2", "EUR 1,000.00", "2024-02-15", (110_000.0, "EUR", 1000.0)),
    ("3", "JPY 1,000,000", "2024-01-15", (600_000.0, "JPY", 1_000_000.0)),
    ("4", "1 000 руб.", "2024-01-15", (1000.0, "RUB", 1000.0)),
    ("5", "¥1,000", "2024-01-15", (600.0, "JPY", 1000.0)),
    ("6", "$250", "2024-01-15", (22_500.0, "USD", 250.0)),
    ("7", "£10", "2024-01-15", (1150.0, "GBP", 10.0)),
    ("8", "۵۰۰٬۰۰۰ تومان", "2024-01-15", (10_000.0, "IRR", 5_000_000.0)),
    ("9", "750", "2024-01-15", (750.0, "RUB", 750.0)),
]


def test_import_converts_currency_cells(workspace: Store, tmp_path: Path) -> None:
    workspace.set_settings(base_currency="RUB")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES, encoding="utf-8")
    deals = tmp_path / "deals.csv"
    rows = [f'{d},acme,"{cell}",{closed},yes' for d, cell, closed, _ in DEALS]
    rows.append('10,acme,"CHF 100",2024-01-15,yes')  # no CHF rate: refused
    rows.append('11,acme,"5 kr",2024-01-15,yes')  # kr without a hint: refused
    deals.write_text("Deal,Account,Amount,Closed,Won\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = import_files(workspace, [deals, rates], mapping=mapping)
    reasons = {r.row: r.reason for r in report.rejects}
    assert set(reasons) == {11, 12}
    assert "no exchange rate for CHF into RUB" in reasons[11]
    assert "'kr' may mean any of" in reasons[12]
    stored = workspace.table("deals").to_pandas().set_index("deal_id")
    for deal_id, _, _, (amount, currency, original) in DEALS:
        row = stored.loc[deal_id]
        assert row["amount"] == pytest.approx(amount), deal_id
        assert row["currency"] == currency, deal_id
        assert row["amount_original"] == pytest.approx(original), deal_id
