"""The case editor in the reader's language: every label, help text and choice the
editor derives from the case model is in the message catalogue, and a page in another
language shows them translated (the English page is unchanged)."""

from __future__ import annotations

from pydantic import BaseModel

from crmroi.finance.case import AvoidedLoss, Case, CostItem
from crmroi.finance.drivers import DRIVER_KINDS
from crmroi.reports.i18n import get_lang
from crmroi.web import case_forms as cf
from crmroi.web.case_words import LABELS, OPTIONS
from tests.test_catalogues import TRANSLATED, extracted


def _words(model: type[BaseModel], out: dict[str, set[str]]) -> None:
    for name, info in cf._field_names(model):
        kind = cf.classify(info.annotation)
        out["labels"].add(cf._label(name))
        if info.description:
            out["help"].add(info.description)
        out["options"].update(kind.options)
        if kind.model is not None:
            _words(kind.model, out)


def editor_words() -> dict[str, set[str]]:
    """Labels, help texts and select choices of every model the editor can show."""
    out: dict[str, set[str]] = {"labels": set(), "help": set(), "options": set(DRIVER_KINDS)}
    for model in (Case, CostItem, AvoidedLoss):
        _words(model, out)
    for kind in DRIVER_KINDS:
        driver = cf.driver_class(kind)
        assert driver is not None
        _words(driver, out)
    return out


def test_every_label_and_choice_is_listed_for_the_catalogue() -> None:
    words = editor_words()
    assert len(words["labels"]) > 50 and len(words["help"]) > 15
    assert words["labels"] - set(LABELS) == set()
    assert words["options"] - set(OPTIONS) == set()
    catalogue = extracted()
    assert {w for group in words.values() for w in group} - set(catalogue) == set()


def test_row_titles_are_messages_and_english_is_unchanged() -> None:
    form = cf.form_from_data(
        {"name": "x", "costs": [{"category": "licence", "amount": 1, "name": "seats"}]}
    )
    row = form.sections["costs"][0]
    assert row.title == "Cost 1: seats" and row.name == "seats"
    assert row.heading is not None and str(row.heading) == "Cost 1"
    ru = get_lang("ru")
    assert row.heading.render(ru) == "Затрата 1"
    assert {ru.gettext(w) for w in ("Horizon months", "one_time", "per year")}.isdisjoint(
        {"Horizon months", "one_time", "per year"}
    )
    for code in TRANSLATED:
        lang = get_lang(code)
        assert lang.gettext("Cac") != "Cac" and lang.gettext("licence") != "licence"
