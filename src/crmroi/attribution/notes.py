"""The notes of an attribution result as messages (`crmroi.messages`).

Each note is a `Said`: its English text is what the result always held (JSON, workbook,
logs), and the report, dashboard and CLI word it in the reader's language. Figures are
given as the English text formats them (`+.4g`), so the wording changes, not the numbers.
Counts are put after a colon in the translations where a noun would have to agree with
them ("команд: 4"), so no plural form can be wrong.
"""

from __future__ import annotations

import datetime as dt

from crmroi.messages import M_, N_, Figure, Items, Message, Month, Said

__all__ = [
    "ITS_LEVELS",
    "WHY_DID",
    "WHY_ITS",
    "WHY_NAIVE",
    "anticipation",
    "calls_on_deals",
    "covariates",
    "cumulative",
    "drifted",
    "estimation_warning",
    "exposure",
    "imputation",
    "interval",
    "its_collinear",
    "its_cut",
    "its_cut_before",
    "its_fit",
    "its_idle",
    "its_too_few_for",
    "its_unit_levels",
    "its_weighted",
    "method",
    "mix_held",
    "naive",
    "placebo",
    "requested",
    "retention_lapse",
    "retention_restated",
    "seasonal",
    "supplied_baseline",
    "supplied_source_change",
    "weighted",
]

WHY_DID = M_(
    "attribution_why_did",
    "units went live at different times (or never), so the not-yet-live units show what the "
    "market did meanwhile",
)
WHY_ITS = M_(
    "attribution_why_its",
    "one go-live for everyone; the market index stands in for a control group",
)
WHY_NAIVE = M_(
    "attribution_why_naive",
    "one go-live and no market data: only the naive before/after is possible",
)
WEIGHTINGS = (
    N_("the KPI's denominator"), N_("closed deals"), N_("won deals"),
    N_("revenue with a known cost"), N_("team-months equally"), N_("customers at risk"),
    N_("hours"),
)  # fmt: skip
"""What an effect over live months is weighted by (`workspace.WEIGHTING`), for the catalogue."""


def _said(message: Message) -> Said:
    return Said(message)


def requested(how: str) -> Said:
    """The reason of a method the user asked for."""
    return _said(M_("attribution_requested", "%(method)s requested", method=how))


def method(how: str, reason: Message | str) -> Said:
    """The first note: the method used and why."""
    why = reason.message if isinstance(reason, Said) else reason
    return _said(M_("attribution_method", "method %(method)s: %(reason)s", method=how, reason=why))


def covariates(names: list[str]) -> Said:
    return _said(M_("attribution_covariates", "covariates: %(names)s", names=Items(names)))


def estimation_warning(text: str) -> Said:
    return _said(
        M_("attribution_estimation_warning", "estimation warning: %(warning)s", warning=text)
    )


def cumulative(months: int, effect: float, low: float, high: float) -> Said:
    return _said(
        M_(
            "attribution_cumulative",
            "cumulative effect over %(months)s months: %(effect)s (95%% %(low)s to %(high)s)",
            months=Figure(months),
            effect=Figure(effect, "+.4g"),
            low=Figure(low, "+.4g"),
            high=Figure(high, "+.4g"),
        )
    )


def naive() -> Said:
    return _said(
        M_(
            "attribution_naive",
            "naive before/after: the market, seasonality and any other change since go-live "
            "are all counted as the CRM's effect",
        )
    )


def seasonal(change: float) -> Said:
    return _said(
        M_(
            "attribution_seasonal",
            "seasonality-adjusted (same months a year earlier): %(change)s",
            change=Figure(change, "+.4g"),
        )
    )


def retention_lapse(gap_months: int) -> Said:
    return _said(
        M_(
            "attribution_retention_lapse",
            "retention measured customer by customer: the monthly lapse rate (a customer lapses "
            "in the month of its last purchase when none follows within %(gap)s months), "
            "annual retention = (1 - monthly lapse rate)^12",
            gap=Figure(gap_months),
        )
    )


def retention_restated(
    effect: float, low: float, high: float, lapse: float, retention: float
) -> Said:
    return _said(
        M_(
            "attribution_retention_restated",
            "effect %(effect)s on the monthly lapse rate (95%% %(low)s to %(high)s) from a "
            "counterfactual %(lapse)s, i.e. annual retention %(retention)s without the CRM; "
            "effect, interval and naive change in points of annual retention at that level",
            effect=Figure(effect, "+.5f"),
            low=Figure(low, "+.5f"),
            high=Figure(high, "+.5f"),
            lapse=Figure(lapse, ".5f"),
            retention=Figure(retention, ".4f"),
        )
    )


def imputation(used: int, dropped: int, by_unit: bool) -> Said:
    """How the staggered estimate was formed: live team-months (or unit-months, `by_unit`)
    used, compared with what, and how many could not be compared."""
    rows = _rows(by_unit)
    if by_unit:
        where = M_(
            "attribution_compared_units",
            "each unit's own months before go-live and the units not yet live",
        )
        why = M_(
            "attribution_dropped_units",
            "that cannot be imputed (no unit left to compare, or no month before go-live)",
        )
    else:
        where = M_("attribution_compared_teams", "the teams not yet live in the same month")
        why = M_("attribution_dropped_teams", "with no team left to compare")
    left_out: Message | str = (
        M_(
            "attribution_left_out",
            "; %(n)s live %(rows)s %(why)s are left out",
            n=Figure(dropped),
            rows=rows,
            why=why,
        )
        if dropped
        else ""
    )
    return _said(
        M_(
            "attribution_imputation",
            "imputation estimator (Borusyak, Jaravel & Spiess): %(n)s live %(rows)s compared "
            "with %(where)s%(left_out)s",
            n=Figure(used),
            rows=rows,
            where=where,
            left_out=left_out,
        )
    )


def _rows(by_unit: bool) -> Message:
    """What an effect averages over: unit-months (rep by rep) or team-months."""
    if by_unit:
        return M_("attribution_unit_months", "unit-months")
    return M_("attribution_team_months", "team-months")


def ratio_of_totals(by_unit: bool) -> Said:
    """How a ratio KPI's staggered effect is formed (`ratio.py`): a ratio of sums."""
    rows = _rows(by_unit)
    return _said(
        M_(
            "attribution_ratio_of_totals",
            "effect: summed numerator over summed denominator of the live %(rows)s, less the "
            "same ratio of their imputed sums (numerator and denominator each imputed per "
            "deal created)",
            rows=rows,
        )
    )


def weighted(by_unit: bool, weighting: str) -> Said:
    rows = _rows(by_unit)
    return _said(
        M_(
            "attribution_weighted",
            "effect: mean over live %(rows)s weighted by %(weighting)s",
            rows=rows,
            weighting=Message("attribution_weighting", weighting),
        )
    )


def anticipation(months: int) -> Said:
    """Months before each go-live left out of the comparison (anticipation)."""
    return _said(
        M_(
            "attribution_anticipation",
            "the %(n)s months before each team's go-live are left out: they may already carry "
            "the CRM's effect",
            n=Figure(months),
        )
    )


def interval(orders: int, teams: int, units: int | None) -> Said:
    """The randomisation-inference interval over `orders` roll-out orders of `teams`
    (clusters of `units` units when units are smaller than teams)."""
    who = (
        M_("attribution_teams", "%(n)s teams (%(n)s clusters)", n=Figure(teams))
        if units is None
        else M_(
            "attribution_teams_units",
            "%(n)s teams (%(n)s clusters of %(units)s units)",
            n=Figure(teams),
            units=Figure(units),
        )
    )
    return _said(
        M_(
            "attribution_interval",
            "95%% interval: randomisation inference over %(orders)s orders in which the "
            "%(who)s could have gone live; assumes the roll-out order was as good as random",
            orders=Figure(orders),
            who=who,
        )
    )


def placebo(months: int, effect: float, p: float) -> Said:
    return _said(
        M_(
            "attribution_placebo",
            "placebo: go-live moved %(months)s months earlier on the months before it, effect "
            "%(effect)s, randomisation p = %(p)s",
            months=Figure(months),
            effect=Figure(effect, "+.4g"),
            p=Figure(p, ".3f"),
        )
    )


def drifted(p: float) -> Said:
    return _said(
        M_(
            "attribution_drifted",
            "warning: the teams already drifted apart before go-live (placebo p = %(p)s); the "
            "effect may be biased",
            p=Figure(p, ".3f"),
        )
    )


def supplied_baseline(source: str, before: int, total: bool) -> Said:
    """The method note of an effect over a supplied baseline."""
    shown = M_("attribution_total", "total") if total else M_("attribution_value", "value")
    return _said(
        M_(
            "attribution_supplied_baseline",
            "method its: the baseline is %(label)s, not measured: %(before)s months before "
            "go-live from it, then the company's measured monthly %(shown)s (deals by closing "
            "month)",
            label=M_("attribution_supplied_label", "supplied (source: %(source)s)", source=source),
            before=Figure(before),
            shown=shown,
        )
    )


def supplied_source_change() -> Said:
    return _said(
        M_(
            "attribution_supplied_switch",
            "the series changes source at go-live: a difference in what the two count would "
            "show as an effect; the interval is the time-series model's (month-to-month "
            "variation), not a sampling interval of the supplied figures",
        )
    )


def exposure(created: bool, flag: str) -> Said:
    """How deals are placed in months (`--exposure`)."""
    placed = (
        M_("attribution_creation", "creation") if created else M_("attribution_closing", "closing")
    )
    return _said(
        M_(
            "attribution_exposure",
            "deals placed by %(placed)s month (--exposure %(flag)s)",
            placed=placed,
            flag=flag,
        )
    )


def calls_on_deals(loose: int) -> Said:
    loose_note: Message | str = (
        M_("attribution_loose_calls", "; %(n)s calls with no deal left out", n=Figure(loose))
        if loose
        else ""
    )
    return _said(
        M_(
            "attribution_calls_on_deals",
            "calls counted on their deal, in the deal's creation month%(loose)s",
            loose=loose_note,
        )
    )


# -- the interrupted time series (its.py) ---------------------------------------------
ITS_LEVELS = M_(
    "attribution_its_levels",
    "the KPI is not positive in every month, so it is modelled in levels",
)


def its_idle(names: list[str]) -> Said:
    """Covariates that did not vary before go-live, left out of the model."""
    return _said(
        M_(
            "attribution_its_idle",
            "%(names)s did not vary before go-live, so the months before it cannot show what "
            "they do to the KPI; left out of the model",
            names=Items(names),
        )
    )


def its_cut(month: dt.date) -> Said:
    """Months from `month` on left out: an idle covariate moves then."""
    return _said(
        M_(
            "attribution_its_cut",
            "months from %(month)s on left out: a covariate that did not vary before go-live "
            "moves then, and what that does to the KPI cannot be learned from months without "
            "the CRM",
            month=Month(month),
        )
    )


def its_weighted() -> Said:
    """The time series' fit weights its months (weighted least squares)."""
    return _said(
        M_(
            "attribution_its_weighted",
            "the fit weights each month by its denominator (weighted least squares)",
        )
    )


def its_unit_levels(units: int, left_out: int) -> Said:
    """The time series is formed from each unit's values less its own level before
    go-live (units joining or leaving do not move it); `left_out` units had no month
    before go-live."""
    return _said(
        M_(
            "attribution_its_unit_levels",
            "each unit compared with its own months before go-live (its level before go-live "
            "taken out, so units joining or leaving do not move the series); units: %(units)s; "
            "left out, with no month before go-live: %(n)s",
            units=Figure(units),
            n=Figure(left_out),
        )
    )


def its_cut_before(month: dt.date, moved: dt.date, months: int) -> Said:
    """Months from `month` on left out: an idle covariate moves in `moved`, and the
    `months` before that may already carry it (a lapse dated before its departure)."""
    return _said(
        M_(
            "attribution_its_cut_before",
            "months from %(month)s on left out: a covariate that did not vary before go-live "
            "moves in %(moved)s, and the %(n)s months before that may already carry its effect",
            month=Month(month),
            moved=Month(moved),
            n=Figure(months),
        )
    )


def its_collinear(names: list[str]) -> Said:
    return _said(
        M_(
            "attribution_its_collinear",
            "%(names)s left out: collinear with the rest before go-live",
            names=Items(names),
        )
    )


def its_too_few_for(term: str) -> Said:
    return _said(
        M_(
            "attribution_its_too_few_for",
            "%(term)s left out: too few months before go-live for it",
            term=term,
        )
    )


def its_fit(before: int, logs: bool, terms: list[str], after: int, df: float) -> Said:
    """How the counterfactual was learned: months before go-live, the regression (of the
    KPI or its logarithm on `terms`), months projected and the t interval's freedom."""
    what = (
        M_("attribution_its_log_kpi", "log of the KPI")
        if logs
        else M_("attribution_its_kpi", "the KPI")
    )
    return _said(
        M_(
            "attribution_its_fit",
            "counterfactual learned from the %(before)s months before go-live only (%(what)s "
            "on %(terms)s; OLS), projected over %(after)s months after; 95%% t interval with "
            "%(df)s degrees of freedom",
            before=Figure(before),
            what=what,
            terms=Items(terms),
            after=Figure(after),
            df=Figure(df, ".0f"),
        )
    )


def mix_held(segments: list[str]) -> Said:
    """Average deal size with the segment mix held (`crmroi.kpi.cohorts.mix_held_amount`)."""
    return _said(
        M_(
            "attribution_mix_held",
            "deal size with the segment mix held: each won deal at its amount x (mean of all "
            "won deals / mean of its segment's; segments %(segments)s), so a month's mix of "
            "small and large accounts does not read as a change; a change of the mix itself "
            "is not counted",
            segments=Items(segments),
        )
    )
