"""The dashboard's Improve area: lead scoring, ideal-customer segments, lifetime value,
pipeline forecast.

Each section is the report's own section (`crmroi.reports.improve`, the code behind
`crmroi score | segments | clv` with the commands' defaults), computed on the
workspace's canonical frames one section at a time, so the page can load each lazily
(htmx) and a quick section does not wait for a slow one. Results are cached in
`state.cache` per data version: an import or undo makes them unreachable.

The sections are company-wide and as of the latest record (`data_date`); the
dashboard's filters do not apply to them. When the data do not allow a section, it
holds the report's one-line reason instead of figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from crmroi.reports.i18n import N_
from crmroi.reports.model import Improvements
from crmroi.web.state import AppState

if TYPE_CHECKING:
    from crmroi.store import Store

Section = Literal["scoring", "segments", "clv", "forecast"]
SECTIONS: tuple[Section, ...] = ("scoring", "segments", "clv", "forecast")
TITLES: dict[str, str] = {
    "scoring": N_("Lead and deal scoring"),
    "segments": N_("Ideal-customer segments"),
    "clv": N_("Customer lifetime value"),
    "forecast": N_("Pipeline forecast"),
}
SEGMENTS_PER_DIMENSION = 3
"""The best values of each dimension shown on the page (the API gives them all)."""


@dataclass(frozen=True)
class Frames:
    """The canonical frames the report's sections read, and their "today"."""

    frames: dict[str, pd.DataFrame]
    as_of: pd.Timestamp


def read_frames(store: Store) -> Frames:
    """The report's frames (`crmroi.reports.improve.FRAMES`) read from `store`."""
    from crmroi.improve.frames import data_date, load_frames
    from crmroi.reports.improve import FRAMES

    found = load_frames(store, FRAMES)
    return Frames(found, data_date(found))


def frames(state: AppState, version: str) -> Frames:
    """The report's frames of data `version` (cached)."""

    def compute() -> Frames:
        with state.access.reader() as store:  # beside other reads, never during a write
            return read_frames(store)

    return state.cache.get_or_compute(("improve-frames", version), compute)


def section(state: AppState, version: str, name: Section) -> Improvements:
    """`Improvements` holding only section `name` (figures or the reason), cached per
    data version. The figures are the report's: the same functions, the same defaults.
    Fitted in a worker process on the workspace's copy when there is one
    (`crmroi.web.snapshots`), else here."""
    if name not in SECTIONS:
        raise ValueError(f"no improvement section called {name!r}")

    def compute() -> Improvements:
        copy = state.snapshot(version)
        if copy is not None:
            from crmroi.web.snapshots import improve_section_in

            return state.work.compute(improve_section_in, str(copy), name)
        found = frames(state, version)
        return build_section(found.frames, found.as_of, name)

    return state.cache.get_or_compute(("improve", version, name), compute)


def build_section(
    frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, name: Section
) -> Improvements:
    """Section `name` of `crmroi.reports.improve.improvements(frames, "en")`, alone.

    Calls the report's section builders one at a time (the public `improvements` builds
    all four at once, follow-ups included, which the dashboard already shows).
    """
    from crmroi.reports import improve as report
    from crmroi.reports.i18n import get_lang

    lang = get_lang("en")
    out = Improvements(as_of=as_of.date())
    if name == "scoring":
        report.add_scoring(frames, as_of, lang, out)
    elif name == "segments":
        report.add_segments(frames, as_of, lang, out)
    elif name == "forecast":
        report.add_forecast(frames, as_of, lang, out)
    else:
        report.add_clv(frames, as_of, lang, out, None, (), ())
    return out


def best_segments(im: Improvements, per_dimension: int = SEGMENTS_PER_DIMENSION) -> list[Any]:
    """The first `per_dimension` segments of each dimension (best revenue per account
    first, the order `crmroi.improve.segments.segments` gives)."""
    seen: dict[str, int] = {}
    out = []
    for row in im.segments:
        seen[row.dimension] = seen.get(row.dimension, 0) + 1
        if seen[row.dimension] <= per_dimension:
            out.append(row)
    return out


def warm(state: AppState, version: str) -> None:
    """Compute every section of data `version` (for the cache warm-up)."""
    for name in SECTIONS:
        section(state, version, name)
