"""Money as these readers write it: rials as tomans, zh amounts in 万 and 亿."""

from __future__ import annotations

import pytest

from crmroi.errors import ConfigurationError
from crmroi.reports.html import render_html
from crmroi.reports.i18n import get_lang
from tests.test_report_model import sample_model


def test_rials_as_tomans() -> None:
    fa = get_lang("fa@toman")
    assert fa.code == "fa" and fa.money_units == "toman"
    assert fa.money(123_450, "IRR") == "۱۲٬۳۴۵ تومان"  # 123,450 rials / 10
    assert fa.money(123_450, "USD") == get_lang("fa").money(123_450, "USD")  # only rials
    assert get_lang("fa").money(123_450, "IRR").endswith("۱۲۳٬۴۵۰")  # rials by default
    assert get_lang("en@toman").money(50, "IRR") == "5 toman"


def test_chinese_large_units() -> None:
    zh = get_lang("zh@wan")
    assert zh.money(123_456_789, "USD") == "US$1.23亿"  # 123,456,789 / 10^8
    assert zh.money(1_234_567, "CNY") == "¥123.46万"  # 1,234,567 / 10^4
    assert zh.money(9_999, "USD") == get_lang("zh").money(9_999, "USD")  # below 万: as is
    with pytest.raises(ConfigurationError, match="money units 'wan' for ru"):
        get_lang("ru@wan")


def test_report_with_a_modifier_keeps_its_language() -> None:
    page = render_html(sample_model("zh@wan"))
    assert '<html lang="zh"' in page
    assert "万" in page or "亿" in page
