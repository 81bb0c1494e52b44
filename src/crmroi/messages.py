"""Messages for people as ids with parameters, worded in the reader's language.

A `Message` keeps a stable machine `code` (for the API and scripts), the English text
with `%(name)s` placeholders (which is also its gettext message id, extracted by
Babel through the `M_` marker) and the parameters. `str(message)` is the English
sentence, so code that logs or raises with it keeps working; `message.render(lang)`
words it in a report's or page's language (any object with `gettext`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "M_",
    "N_",
    "Figure",
    "Items",
    "Message",
    "Month",
    "Num",
    "Pct",
    "Said",
    "Translator",
    "Worded",
    "code_of",
    "render",
    "said_of",
    "worded_item",
]


class Translator(Protocol):
    """What a message needs of a language: gettext (a `reports.i18n.Lang` has it)."""

    def gettext(self, message: str) -> str: ...


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now (gettext's N_)."""
    return message


@dataclass(frozen=True)
class Num:
    """A number parameter, written with the reader's separators and digits."""

    value: float
    digits: int = 0
    signed: bool = False
    grouped: bool = True
    """False: English writes it without thousands separators ('1234', as a plain str
    parameter did); other languages always group (their digits and separators)."""

    def english(self) -> str:
        group = "," if self.grouped else ""
        return f"{self.value:{'+' if self.signed else ''}{group}.{self.digits}f}"


@dataclass(frozen=True)
class Figure:
    """A number parameter English writes as `format(value, spec)`, exactly as the plain
    text parameter it replaces ('+2.334e+04' for '+.4g', '0.400' for '.3f', '5040' for
    ''); other languages write it with the decimals English shows (rounded to the same
    significant digits where English uses an exponent: '+23 340'), in their separators,
    digits and signs."""

    value: float
    spec: str = ""

    def english(self) -> str:
        return format(self.value, self.spec)

    def worded(self, number: Any) -> str:
        """The figure through a language's `number(value, digits, signed)`."""
        signed = self.spec.startswith("+")
        english = format(abs(self.value), self.spec.lstrip("+"))
        if not math.isfinite(self.value) or "e" not in english:
            digits = len(english.partition(".")[2])
            return str(number(self.value, digits, signed))
        significant = len(english.partition("e")[0].replace(".", ""))
        digits = significant - 1 - math.floor(math.log10(abs(self.value)))
        return str(number(round(self.value, digits), max(0, digits), signed))


@dataclass(frozen=True)
class Pct:
    """A fraction parameter written as a percentage (0.123 -> 12.3%)."""

    value: float
    digits: int = 1
    signed: bool = False

    def english(self) -> str:
        return f"{self.value:{'+' if self.signed else ''}.{self.digits}%}"


class Items(str):
    """A list parameter: English joins the items with ', ' (the text it always was, so
    it stays a plain `str` for files and JSON); a reader's language joins them with its
    own CLDR list separator (fa '،', zh '、': `Lang.items`). An item that is a `str`
    is kept as it is, so one that words itself (`render(lang)`: a scoring reason) is
    worded in the reader's language (`worded_item`)."""

    items: tuple[str, ...]

    def __new__(cls, items: Iterable[object]) -> Items:
        kept = tuple(item if isinstance(item, str) else str(item) for item in items)
        said = super().__new__(cls, ", ".join(kept))
        said.items = kept
        return said

    def __getnewargs__(self) -> tuple[tuple[str, ...]]:  # type: ignore[override]
        """Pickle rebuilds from the items, not from the joined text (worker processes)."""
        return (self.items,)


@dataclass(frozen=True)
class Month:
    """A month parameter (any day of it), in the reader's calendar (English: 2024-01)."""

    value: dt.date

    def english(self) -> str:
        return f"{self.value:%Y-%m}"


@dataclass(frozen=True)
class Message:
    """One message: machine code, English text (the msgid) and its parameters."""

    code: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text % _worded(self.params, None) if self.params else self.text

    def render(self, lang: Translator) -> str:
        """The message in `lang` (English when the catalogue lacks it); whole numbers
        among the parameters with the language's separators and digits."""
        text = lang.gettext(self.text)
        return text % _worded(self.params, lang) if self.params else text

    def worded_params(self, lang: Translator | None = None) -> dict[str, str]:
        """The parameters as the sentence shows them, as text (English without `lang`)."""
        return {k: str(v) for k, v in _worded(self.params, lang).items()}

    def as_json(self, lang: Translator | None = None) -> dict[str, Any]:
        """`{"code", "message", "params"}` for the API (message in `lang`, else English)."""
        text = self.render(lang) if lang is not None else str(self)
        return {"code": self.code, "message": text, "params": dict(self.params)}

    def to_record(self) -> str:
        """The message as JSON text, parameters typed, for a store to keep (a streamed
        import's refused rows); `from_record` gives back an equal message."""
        return json.dumps(_record(self), ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def from_record(text: str) -> Message:
        """The message `to_record` kept."""
        return _from_record(json.loads(text))


def _record(message: Message) -> dict[str, Any]:
    return {
        "code": message.code,
        "text": message.text,
        "params": {k: _param(v) for k, v in message.params.items()},
    }


def _param(value: Any) -> Any:
    """A parameter as JSON: text as is, anything else tagged with its type."""
    if isinstance(value, Items):
        return {"items": list(value.items)}
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return {"message": _record(value)}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, Num):
        return {"num": [value.value, value.digits, value.signed, value.grouped]}
    if isinstance(value, Pct):
        return {"pct": [value.value, value.digits, value.signed]}
    if isinstance(value, Figure):
        return {"figure": [value.value, value.spec]}
    if isinstance(value, Month):
        return {"month": value.value.isoformat()}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return str(value)


def _from_record(data: dict[str, Any]) -> Message:
    params = {k: _unparam(v) for k, v in data["params"].items()}
    return Message(data["code"], data["text"], params)


def _unparam(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((kind, inner),) = value.items()
    if kind == "message":
        return _from_record(inner)
    if kind == "items":
        return Items(inner)
    if kind == "num":
        return Num(*inner)
    if kind == "pct":
        return Pct(*inner)
    if kind == "figure":
        return Figure(*inner)
    if kind == "month":
        return Month(dt.date.fromisoformat(inner))
    if kind == "datetime":
        return dt.datetime.fromisoformat(inner)
    if kind == "date":
        return dt.date.fromisoformat(inner)
    return inner  # bool, int, float


def _worded(params: Mapping[str, Any], lang: Translator | None) -> dict[str, Any]:
    """The parameters as the sentence shows them: numbers in the reader's digits and
    separators (English: 1,234 and 12.3%), dates in the reader's calendar (English:
    ISO), nested messages worded in the same language."""
    out: dict[str, Any] = {}
    number = getattr(lang, "number", None)
    percent = getattr(lang, "percent", None)
    for key, value in params.items():
        if isinstance(value, Message):
            value = value.render(lang) if lang is not None else str(value)
        elif isinstance(value, Items):
            joined = getattr(lang, "items", None)
            if callable(joined) and lang is not None:
                value = joined([worded_item(item, lang) for item in value.items])
            else:
                value = str(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = number(value) if callable(number) else f"{value:,}"
        elif isinstance(value, dt.date):
            day = value.date() if isinstance(value, dt.datetime) else value
            date = getattr(lang, "date", None)
            value = date(day) if callable(date) else day.isoformat()
        elif isinstance(value, Num):
            value = (
                number(value.value, value.digits, value.signed)
                if callable(number)
                else value.english()
            )
        elif isinstance(value, Figure):  # English as the plain text always was
            english = getattr(lang, "code", "en") == "en" or not callable(number)
            value = value.english() if english else value.worded(number)
        elif isinstance(value, Month):
            month = getattr(lang, "month", None)
            value = month(value.value) if callable(month) else value.english()
        elif isinstance(value, Pct):
            value = (
                percent(value.value, value.digits, value.signed)
                if callable(percent)
                else value.english()
            )
        out[key] = value
    return out


def M_(code: str, text: str, **params: Any) -> Message:
    """A `Message`; Babel extracts `text` (its second argument) as the message id."""
    return Message(code, text, params)


class Said(str):
    """A message's English sentence that remembers the message: a column of text (a
    follow-up's detail) stays plain text for files and JSON, and can still be worded in
    another language (`render`)."""

    message: Message

    def __new__(cls, message: Message) -> Said:
        said = super().__new__(cls, str(message))
        said.message = message
        return said


class Worded(str):
    """A text worded in one language (what a report in that language shows) that keeps
    what it was worded from (`source`: a message, a `Said`, a list or anything with a
    `render(lang)` method), so a page computed once in English can word it again in its
    reader's language (`render`). Pickle keeps both (worker processes)."""

    source: Any

    def __new__(cls, text: str, source: object) -> Worded:
        said = super().__new__(cls, text)
        said.source = source
        return said

    def __getnewargs__(self) -> tuple[str, Any]:  # type: ignore[override]
        return (str(self), self.source)


def code_of(value: object, default: str | None = None) -> str | None:
    """The stable code of a message (or of the message a `Said` text keeps), else
    `default` (a plain text has none)."""
    if isinstance(value, Said):
        return value.message.code
    if isinstance(value, Message):
        return value.code
    return default


def said_of(exc: BaseException) -> str:
    """An error's text: a `Said` when it was raised with a `Message` (so a page or report
    can word it in its language and the API give its code), else `str(exc)`."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return Said(first) if isinstance(first, Message) else str(exc)


def worded_item(item: object, lang: Translator) -> str:
    """A list's item in `lang`: one that words itself (a `render(lang)` method: a scoring
    reason, `crmroi.improve.reasons.Reason`) so, any other as its text (from the data)."""
    word = getattr(item, "render", None)
    return str(word(lang)) if callable(word) else str(item)


def render(message: Any, lang: Translator) -> str:
    """A message or a plain string in `lang` (a plain string is translated as a msgid; a
    list, `Items`, has its items worded and joined as the language joins them)."""
    if isinstance(message, Said):
        return message.message.render(lang)
    if isinstance(message, Message):
        return message.render(lang)
    if isinstance(message, Worded):
        return render(message.source, lang)
    word = getattr(message, "render", None)
    if callable(word):  # words itself (a scoring reason, a report section's reason)
        return str(word(lang))
    if isinstance(message, Items):
        return str(_worded({"items": message}, lang)["items"])
    return lang.gettext(message) if message else message
