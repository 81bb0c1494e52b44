"""Messages for people as ids with parameters, worded in the reader's language.

A `Message` keeps a stable machine `code` (for the API and scripts), the English text
with `%(name)s` placeholders (which is also its gettext message id, extracted by
Babel through the `M_` marker) and the parameters. `str(message)` is the English
sentence, so code that logs or raises with it keeps working; `message.render(lang)`
words it in a report's or page's language (any object with `gettext`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["M_", "Message", "Translator", "render"]


class Translator(Protocol):
    """What a message needs of a language: gettext (a `reports.i18n.Lang` has it)."""

    def gettext(self, message: str) -> str: ...


@dataclass(frozen=True)
class Message:
    """One message: machine code, English text (the msgid) and its parameters."""

    code: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text % dict(self.params) if self.params else self.text

    def render(self, lang: Translator) -> str:
        """The message in `lang` (English when the catalogue lacks it)."""
        text = lang.gettext(self.text)
        return text % dict(self.params) if self.params else text

    def as_json(self, lang: Translator | None = None) -> dict[str, Any]:
        """`{"code", "message", "params"}` for the API (message in `lang`, else English)."""
        text = self.render(lang) if lang is not None else str(self)
        return {"code": self.code, "message": text, "params": dict(self.params)}


def M_(code: str, text: str, **params: Any) -> Message:
    """A `Message`; Babel extracts `text` (its second argument) as the message id."""
    return Message(code, text, params)


def render(message: Message | str, lang: Translator) -> str:
    """A message or a plain string in `lang` (a plain string is translated as a msgid)."""
    if isinstance(message, Message):
        return message.render(lang)
    return lang.gettext(message) if message else message
