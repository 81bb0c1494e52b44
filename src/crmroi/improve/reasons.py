"""A scoring reason: one feature's push on a score, kept structured, worded per language.

A `Reason` is the English machine text it always was (`source=referral (+0.88)`:
feature code, value, log-odds contribution with two decimals), so tables, CSV and JSON
stay as they were, and it keeps its parts (`field`, `value`, `effect`) for the API's
`reason_codes` and for `render(lang)`: in ru, bg, fa and zh the feature's name comes
from the catalogue (`FEATURE_LABELS`), a weekday is CLDR's name of the day, the "(none)"
of a missing value is translated, and numbers take the language's digits, separators
and signs ('источник: referral (+0,88)', 'روز ایجاد: پنجشنبه (‎+۰٫۰۸)').
Values taken from the data (referral, EMEA Central, R0003) stay as they are.

Pickle rebuilds a `Reason` from its parts (`__getnewargs__`), as the web app's worker
processes send scores back pickled.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np

from crmroi.improve.features import MISSING
from crmroi.messages import N_

__all__ = ["FEATURE_LABELS", "NUMERIC_FEATURES", "WEEKDAYS", "Reason", "Wording"]

FEATURE_LABELS: dict[str, str] = {
    # leads and deals
    "source": N_("source"),
    "segment": N_("segment"),
    "owner": N_("owning rep"),
    "owner_team": N_("rep's team"),
    "owner_region": N_("rep's region"),
    "weekday": N_("weekday created"),
    # deals only
    "kind": N_("deal type"),
    "product": N_("product"),
    "account_segment": N_("account's segment"),
    "account_industry": N_("account's industry"),
    "account_region": N_("account's region"),
    "account_country": N_("account's country"),
    "account_age_days": N_("account's age, days"),
    "prior_won_deals": N_("won deals before"),
    "prior_lost_deals": N_("lost deals before"),
    "prior_orders": N_("orders before"),
    "log_prior_order_amount": N_("order amount before (log)"),
}
"""The name of each feature `crmroi.improve.features` builds, as a reader sees it (the
English output keeps the code)."""

NUMERIC_FEATURES = frozenset(
    {
        "account_age_days",
        "prior_won_deals",
        "prior_lost_deals",
        "prior_orders",
        "log_prior_order_amount",
    }
)
"""Features that are numbers (naive Bayes shows them as bins: '<1', '1-3', '>=3')."""

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""The `weekday` feature's values (pandas' `day_name`), CLDR's day 0 to 6."""

REASON = N_("%(feature)s=%(value)s (%(effect)s)")
"""How a reason reads: the translations put their own punctuation ('источник: referral
(+0,88)')."""
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


class Wording(Protocol):
    """What a reason needs of a language (a `crmroi.reports.i18n.Lang` has it)."""

    code: str
    locale: Any

    def gettext(self, message: str) -> str: ...
    def number(self, value: float | None, digits: int = 0, signed: bool = False) -> str: ...
    def localise_digits(self, text: str) -> str: ...


class Reason(str):
    """One feature's push on a score: its `field` (feature code), `value` (text, or a
    float for a numeric feature) and `effect` (log-odds contribution, natural log;
    positive raises the probability). As text: `field=value (+0.88)`, in English."""

    field: str
    value: str | float
    effect: float

    def __new__(cls, field: str, value: object, effect: float) -> Reason:
        kept: str | float = float(value) if isinstance(value, float | np.floating) else str(value)
        sign = "+" if effect >= 0 else "-"
        reason = super().__new__(cls, f"{field}={_shown(kept)} ({sign}{abs(effect):.2f})")
        reason.field, reason.value, reason.effect = str(field), kept, float(effect)
        return reason

    def __getnewargs__(self) -> tuple[str, str | float, float]:  # type: ignore[override]
        """Pickle rebuilds from the parts, not from the text (worker processes)."""
        return (self.field, self.value, self.effect)

    @property
    def shown_value(self) -> str:
        """The value as the English text shows it ('referral', 'Thursday', '0', '3.2581')."""
        return _shown(self.value)

    def render(self, lang: Wording) -> str:
        """The reason in `lang`; English: the text itself, byte for byte."""
        if lang.code == "en":
            return str(self)
        label = FEATURE_LABELS.get(self.field)
        effect = lang.number(self.effect, 2, signed=True)
        return lang.gettext(REASON) % {
            "feature": self.field if label is None else lang.gettext(label),
            "value": self._worded_value(lang),
            "effect": effect,
        }

    def _worded_value(self, lang: Wording) -> str:
        value = self.value
        if isinstance(value, float):
            return _number(value, lang)
        if self.field == "weekday" and value in WEEKDAYS:
            return str(lang.locale.days["format"]["wide"][WEEKDAYS.index(value)])
        if value == MISSING:
            return lang.gettext(MISSING)
        if self.field in NUMERIC_FEATURES:  # a naive-Bayes bin: '<1', '1-3', '>=3'
            return _NUMBER.sub(lambda m: _number(float(m.group()), lang), value)
        return value  # from the data: as it is


def _shown(value: str | float) -> str:
    """A value as the English text shows it: a number with `{:g}`, text as it is."""
    return f"{value:g}" if isinstance(value, float) else value


def _number(value: float, lang: Wording) -> str:
    """`value` with the decimals English shows (`{:g}`), in the language's digits."""
    english = f"{value:g}"
    if "e" in english or not np.isfinite(value):
        return lang.localise_digits(english)
    digits = len(english.partition(".")[2])
    return lang.number(value, digits)
