"""The language of each web page: the user's saved choice, else Accept-Language, else
the workspace default; and the gettext callables of the templates.

The web app shares the reports' gettext catalogues (`crmroi/reports/locale`): English
text is the message id. Templates mark text with `{{ _("...") }}` or `{% trans %}`
(Jinja's i18n extension, old-style like the report template); the callables read the
page's language from the template context (`ui`), so one Jinja environment serves
every language.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from crmroi.ingest.rejects import reason_code
from crmroi.languages import LANGUAGES
from crmroi.messages import N_, Message, render
from crmroi.reports.i18n import Lang, get_lang
from crmroi.web.access import WorkspaceAccess, sql
from crmroi.web.import_words import detected_text

__all__ = [
    "LANGUAGE_NAMES",
    "MONEY_UNITS",
    "accepted_language",
    "install_i18n",
    "page_language",
    "save_language",
    "save_money_units",
    "saved_language",
    "saved_money_units",
]

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ru": "Русский",
    "bg": "Български",
    "fa": "فارسی",
    "zh": "中文",
}
"""Each language by its own name (the switcher shows these untranslated)."""
LANGUAGE_COOKIE = "crmroi_lang"
MONEY_UNITS: dict[str, str] = {
    "": N_("as the currency writes them"),
    "toman": N_("rials as tomans (1 toman = 10 rials)"),
    "wan": N_("large amounts in 万 and 亿 (Chinese pages)"),
}
"""A user's money display choices (`reports.i18n.MONEY_UNITS`' modifiers, '' = none)."""


def accepted_language(accept_language: str | None) -> str | None:
    """The language of `LANGUAGES` an Accept-Language header prefers, or None.

    Ranges are taken by quality (RFC 9110 section 12.5.4), ties in header order; a range
    matches by its primary subtag ('ru-RU' and 'ru' both pick 'ru'); 'q=0' excludes.
    """
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, index, primary))
    return next((p for _, _, p in sorted(ranked) if p in LANGUAGES), None)


def saved_language(access: WorkspaceAccess, user_id: str) -> str | None:
    """The language a user chose in the header's switcher, or None (remembered until the
    next write, see `WorkspaceAccess.memo`)."""
    rows = access.lookup("SELECT language FROM web_user_settings WHERE user_id = ?", (user_id,))
    code = rows[0][0] if rows else None
    return code if code in LANGUAGES else None


def save_language(access: WorkspaceAccess, user_id: str, code: str) -> None:
    """Keep `code` as the user's language (every page and device they log in from)."""
    with access.transaction() as tx:
        tx.execute(sql(tx, "DELETE FROM web_user_settings WHERE user_id = ?"), (user_id,))
        tx.execute(sql(tx, "INSERT INTO web_user_settings VALUES (?, ?)"), (user_id, code))


def saved_money_units(access: WorkspaceAccess, user_id: str) -> str:
    """How the user chose to see amounts: '' (the currency's own), 'toman' or 'wan'."""
    rows = access.lookup("SELECT money_units FROM web_user_display WHERE user_id = ?", (user_id,))
    units = str(rows[0][0]) if rows else ""
    return units if units in MONEY_UNITS else ""


def save_money_units(access: WorkspaceAccess, user_id: str, units: str) -> None:
    """Keep the user's money display (`MONEY_UNITS`) for every page they see."""
    with access.transaction() as tx:
        tx.execute(sql(tx, "DELETE FROM web_user_display WHERE user_id = ?"), (user_id,))
        tx.execute(sql(tx, "INSERT INTO web_user_display VALUES (?, ?)"), (user_id, units))


def with_money_units(code: str, units: str) -> str:
    """`code` with the money modifier the language takes ('fa' + 'toman' -> 'fa@toman';
    'wan' only in zh: other languages write 万/亿 nowhere)."""
    if units == "toman" or (units == "wan" and code == "zh"):
        return f"{code}@{units}"
    return code


def page_language(request: Request) -> Lang:
    """The request's language: the user's saved one, else the switcher's cookie (before
    login), else Accept-Language, else the workspace default (`CRMROI_DEFAULT_LANGUAGE`);
    computed once per request."""
    known: Lang | None = getattr(request.state, "ui_lang", None)  # money display included
    if known is not None:
        return known
    state = request.app.state.crmroi
    session = getattr(request.state, "session", None)
    code = saved_language(state.access, session.user.user_id) if session else None
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    code = code or (cookie if cookie in LANGUAGES else None)
    code = code or accepted_language(request.headers.get("accept-language"))
    code = code or state.settings.default_language
    units = saved_money_units(state.access, session.user.user_id) if session else ""
    lang = get_lang(with_money_units(code, units))
    request.state.ui_lang = lang
    return lang


def _context_lang(context: Context) -> Lang:
    lang = context.get("ui")
    return lang if isinstance(lang, Lang) else get_lang("en")


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _context_lang(context).gettext(message)


@pass_context
def _render(context: Context, message: Message | str | None) -> str:
    return "" if message is None else render(message, _context_lang(context))


@pass_context
def _number(context: Context, value: float | None, digits: int = 0) -> str:
    return _context_lang(context).number(value, digits)


@pass_context
def _detected(context: Context, text: str) -> str:
    return detected_text(text, _context_lang(context))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _context_lang(context).ngettext(singular, plural, n)


@lru_cache(maxsize=8)
def _chart_locale(code: str) -> str:
    """The d3 number and time locales of `code`'s charts as JSON for a <script> element
    (the reports' own, `Lang.vega_format_locale`: Persian digits in fa, decimal commas in
    ru and bg), so the dashboard's and case pages' axes read like their tables."""
    lang = get_lang(code)
    locale = {"number": lang.vega_format_locale(), "time": lang.vega_time_locale()}
    return json.dumps(locale, ensure_ascii=False).replace("</", "<\\/")


@pass_context
def _chart_locale_json(context: Context) -> str:
    return _chart_locale(_context_lang(context).code)


def install_i18n(env: Environment) -> None:
    """Jinja's i18n extension with callables translating into the context's `ui` language."""
    env.add_extension("jinja2.ext.i18n")
    install: Any = env.install_gettext_callables  # type: ignore[attr-defined]
    install(_gettext, _ngettext, newstyle=False)
    env.globals["t"] = _render  # a `crmroi.messages.Message` (or a msgid) in the language
    env.globals["num"] = _number  # a number with the language's separators and digits
    env.globals["chart_locale"] = _chart_locale_json  # d3 locales of the page's charts
    env.globals["detected"] = _detected  # what the importer detected in a column
    env.globals["reason_code"] = reason_code  # an importer's reason's stable code
