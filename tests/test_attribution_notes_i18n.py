"""Attribution notes are messages: the English text is what the results always held
(written here with the old f-strings as the reference), and every note reads in ru, bg,
fa and zh without English words beyond codes and names."""

from __future__ import annotations

import datetime as dt

from crmroi.attribution import notes
from crmroi.kpi.cohorts import describe_cut
from crmroi.messages import Said, render
from crmroi.reports.i18n import get_lang
from tests.i18n_words import english_words
from tests.test_catalogues import TRANSLATED

LOW, HIGH, EFFECT, P = -0.01234, 0.05678, 0.0321, 0.0123


def examples() -> dict[Said, str]:
    """Each note with the English the code wrote before it became a message."""
    rows = "unit-months"
    return {
        notes.method("did", Said(notes.WHY_DID)): (
            "method did: units went live at different times (or never), so the not-yet-live "
            "units show what the market did meanwhile"
        ),
        notes.method("its", notes.requested("its")): "method its: its requested",
        notes.cumulative(24, EFFECT, LOW, HIGH): (
            f"cumulative effect over 24 months: {EFFECT:+.4g} (95% {LOW:+.4g} to {HIGH:+.4g})"
        ),
        notes.seasonal(EFFECT): (
            f"seasonality-adjusted (same months a year earlier): {EFFECT:+.4g}"
        ),
        notes.retention_restated(EFFECT, LOW, HIGH, 0.02, 0.78): (
            f"effect {EFFECT:+.5f} on the monthly lapse rate (95% {LOW:+.5f} to {HIGH:+.5f}) "
            f"from a counterfactual {0.02:.5f}, i.e. annual retention {0.78:.4f} without the "
            "CRM; effect, interval and naive change in points of annual retention at that level"
        ),
        notes.imputation(40, 3, by_unit=True): (
            f"imputation estimator (Borusyak, Jaravel & Spiess): 40 live {rows} compared with "
            "each unit's own months before go-live and the units not yet live; 3 live "
            f"{rows} that cannot be imputed (no unit left to compare, or no month before "
            "go-live) are left out"
        ),
        notes.weighted(False, "closed deals"): (
            "effect: mean over live team-months weighted by closed deals"
        ),
        notes.ratio_of_totals(False): (
            "effect: summed numerator over summed denominator of the live team-months, less "
            "the same ratio of their imputed sums (numerator and denominator each imputed per "
            "deal created)"
        ),
        notes.interval(120, 5, 20): (
            "95% interval: randomisation inference over 120 orders in which the 5 teams (5 "
            "clusters of 20 units) could have gone live; assumes the roll-out order was as "
            "good as random"
        ),
        notes.placebo(6, EFFECT, P): (
            f"placebo: go-live moved 6 months earlier on the months before it, effect "
            f"{EFFECT:+.4g}, randomisation p = {P:.3f}"
        ),
        notes.drifted(P): (
            f"warning: the teams already drifted apart before go-live (placebo p = {P:.3f}); "
            "the effect may be biased"
        ),
        notes.exposure(True, "created"): "deals placed by creation month (--exposure created)",
        notes.calls_on_deals(7): (
            "calls counted on their deal, in the deal's creation month; 7 calls with no deal "
            "left out"
        ),
        notes.supplied_baseline("board pack", 12, total=True): (
            "method its: the baseline is supplied (source: board pack), not measured: 12 "
            "months before go-live from it, then the company's measured monthly total (deals "
            "by closing month)"
        ),
        describe_cut(__import__("pandas").Timestamp("2024-05-01")): (  # type: ignore[dict-item]
            "deals created from 2024-05 on left out: most of them had not closed yet"
        ),
    }


def test_english_notes_are_unchanged() -> None:
    for said, english in examples().items():
        assert isinstance(said, Said) and said == english


def test_notes_are_worded_in_every_language() -> None:
    allowed = {"its", "did", "created", "Borusyak", "Jaravel", "Spiess", "board", "pack"}
    for code in TRANSLATED:
        lang = get_lang(code)
        for said in examples():
            text = render(said, lang)
            left = [w for w in english_words(text) if w not in allowed and w != "p"]
            assert left == [], (code, text)
    assert render(notes.interval(120, 5, None), get_lang("ru")).startswith("95%-интервал")
    assert "команд: 5" in render(notes.interval(120, 5, None), get_lang("ru"))
    assert render(describe_cut(None) or "", get_lang("ru")) == ""
    assert dt.date(2024, 5, 1).isoformat() not in render(
        list(examples())[-1], get_lang("fa")
    )  # a Solar Hijri month in Persian
