"""Catalogue completeness: every message of the templates and the code is translated.

Babel extracts the message ids the way `pybabel extract` would: Jinja2 templates (web and
report) through Jinja's own extractor, Python through the markers `_`, `gettext`,
`ngettext`, `N_` and `M_` (a `crmroi.messages.Message`'s English text is its second
argument). Each id must have a non-empty translation in ru, bg, fa and zh (English is
the id itself), with the same `%(name)s` placeholders.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from crmroi.reports.i18n import LOCALE_DIR

SOURCE = Path(__file__).resolve().parents[1] / "src" / "crmroi"
TRANSLATED = ("ru", "bg", "fa", "zh")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "M_": (2,)}
METHODS = [
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/templates/**.j2", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**": {"extensions": "jinja2.ext.i18n"}}


@lru_cache(maxsize=1)
def extracted() -> dict[str, str]:
    """Every message id in the sources, with the first place it occurs."""
    found: dict[str, str] = {}
    for filename, lineno, message, *_ in extract_from_dir(
        SOURCE, METHODS, OPTIONS, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def catalogue(code: str) -> Catalog:
    with (LOCALE_DIR / code / "LC_MESSAGES" / "crmroi.po").open("rb") as handle:
        return read_po(handle, locale=code)


def test_extraction_finds_web_report_and_engine_messages() -> None:
    places = set(extracted().values())
    assert len(extracted()) > 400
    for part in ("web/templates/", "reports/templates/", "web/", "reports/"):
        assert any(p.startswith(part) for p in places), part


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated(code: str) -> None:
    translations = catalogue(code)
    missing = []
    for message, where in sorted(extracted().items()):
        entry = translations.get(message)
        text = entry.string if entry is not None else ""
        if isinstance(text, tuple):
            text = text[0]
        if not text:
            missing.append(f"{where}: {message!r}")
    assert missing == [], f"{len(missing)} messages lack a {code} translation"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code: str) -> None:
    names = re.compile(r"%\((\w+)\)s")
    translations = catalogue(code)
    wrong = []
    for message in extracted():
        entry = translations.get(message)
        if entry is None or not entry.string or isinstance(entry.string, tuple):
            continue
        if sorted(names.findall(message)) != sorted(names.findall(entry.string)):
            wrong.append(message)
    assert wrong == []
