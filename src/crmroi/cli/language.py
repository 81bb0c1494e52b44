"""The language the CLI speaks: `--lang`, else the locale, else English.

Every command that prints text for people takes `--lang` (`LangOption`); without it the
locale decides, as gettext reads it (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`:
`crmroi.languages.locale_language`). A `Speaker` words the command's text: English is
the message id itself and its numbers and dates are written exactly as before (so the
English output is byte for byte what it was), other languages go through the reports'
catalogues and CLDR formats (`crmroi.reports.i18n`, imported only when a command runs
in one of them: loading the CLI stays light). JSON and CSV output stays English with
machine codes, whatever the language.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmroi.cli.report import Language
from crmroi.languages import locale_language

if TYPE_CHECKING:
    from crmroi.messages import Message
    from crmroi.reports.i18n import Lang

__all__ = ["LangOption", "Speaker", "speaker"]

LangOption = Annotated[
    Language | None,
    typer.Option(
        "--lang",
        help="Language of the text printed (default: the locale's, else English); "
        "JSON and CSV stay English.",
    ),
]


class Speaker:
    """Words a command's output in one language (`code`); English exactly as before."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.english = code == "en"
        self._lang: Lang | None = None

    @property
    def lang(self) -> Lang:
        """The report language (`crmroi.reports.i18n.Lang`), loaded on first use."""
        if self._lang is None:
            from crmroi.reports.i18n import get_lang

            self._lang = get_lang(self.code)
        return self._lang

    def __call__(self, text: str) -> str:
        """`text` (an English msgid) in the language."""
        return text if self.english or not text else self.lang.gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.english:
            return singular if n == 1 else plural
        return self.lang.ngettext(singular, plural, n)

    def say(self, message: Message | str | None) -> str:
        """A `crmroi.messages.Message` (or a msgid) in the language; English as `str`."""
        if message is None:
            return ""
        if self.english:
            return str(message)
        from crmroi.messages import render

        return render(message, self.lang)

    def marked(self, text: str, bold: dict[str, str], **params: str) -> str:
        """`text` (a msgid with `%(name)s` parameters) in the language as rich markup:
        the words escaped, each parameter of `bold` in bold."""
        from rich.markup import escape

        from crmroi.messages import Message

        marks = {k: f"\x00{i}\x01" for i, k in enumerate(bold)}
        line = escape(self.say(Message("cli_sentence", text, {**params, **marks})))
        for key, mark in marks.items():
            line = line.replace(mark, f"[bold]{escape(bold[key])}[/]")
        return line

    def items(self, values: Iterable[object]) -> str:
        """Items of a list joined with ', ' in English, else with the language's CLDR
        list separator (fa '،', zh '、': `crmroi.reports.i18n.Lang.items`), each item
        that words itself (a scoring reason) in the language."""
        if self.english:
            return ", ".join(str(v) for v in values)
        from crmroi.messages import worded_item

        return self.lang.items([worded_item(v, self.lang) for v in values])

    def num(self, value: float | None, digits: int = 0, signed: bool = False) -> str:
        """A number with separators ('1,234.5'; ru '1 234,5'; fa '۱٬۲۳۴٫۵'); '-' if none."""
        if value is None:
            return "-"
        if self.english:  # as the f-string always wrote it ('nan' included)
            return f"{value:{'+' if signed else ''},.{digits}f}"
        return self.lang.number(value, digits, signed) if math.isfinite(value) else "-"

    def pct(self, value: float | None, digits: int = 1, signed: bool = False) -> str:
        """A fraction as a percentage ('12.3%'); '-' if none."""
        if value is None:
            return "-"
        if self.english:
            return f"{value:{'+' if signed else ''}.{digits}%}"
        return self.lang.percent(value, digits, signed) if math.isfinite(value) else "-"

    def day(self, value: dt.date | None) -> str:
        """A date: ISO in English, the reader's calendar and digits otherwise."""
        if value is None:
            return ""
        day = value.date() if isinstance(value, dt.datetime) else value
        return day.isoformat() if self.english else self.lang.date(day)

    def month(self, value: dt.date | None) -> str:
        """A month: '2024-01' in English, the reader's calendar otherwise ('янв. 2024 г.')."""
        if value is None:
            return ""
        day = value.date() if isinstance(value, dt.datetime) else value
        return f"{day:%Y-%m}" if self.english else self.lang.month(day)

    def value(self, value: Any) -> str:
        """A value from the data as it is; the engines' "(none)" of a missing group in
        the language."""
        return str(value) if self.english else str(self.lang.data_value(str(value)))

    def digits(self, text: Any) -> str:
        """`text` with its ASCII digits in the language's digits (fa: ۰-۹)."""
        return str(text) if self.english else self.lang.localise_digits(str(text))


def speaker(lang: Language | str | None) -> Speaker:
    """The `Speaker` of `--lang`, else of the locale (`locale_language`)."""
    return Speaker(str(lang) if lang else locale_language(os.environ))
