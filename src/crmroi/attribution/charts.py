"""Charts of attribution results (Altair / Vega-Lite): they take results, return charts.

- `event_study_chart`: the effect by month since go-live with 95% intervals; the
  months before go-live are the placebo's (go-live moved six months earlier), and
  their staying near zero is what makes the estimate credible.
- `counterfactual_chart`: the KPI as it was versus what the model says it would
  have been without the CRM (interrupted time series).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crmroi.attribution.results import Attribution, AttributionError


def event_study_chart(result: Attribution) -> alt.LayerChart:
    """The CRM's effect by month since go-live with 95% intervals (placebo before it)."""
    study = result.event_study
    if study is None:
        raise AttributionError(f"{result.name}: no event study (method {result.method})")
    data = pd.DataFrame(
        {
            "month": study.relative_month,
            "effect": study.effect,
            "low": study.ci_low,
            "high": study.ci_high,
        }
    )
    axis = alt.X("month:Q", title="months since go-live (before 0: placebo)")
    base = alt.Chart(data).encode(x=axis)
    band = base.mark_errorbar().encode(
        y=alt.Y("low:Q", title=f"effect on {result.name}"), y2="high:Q"
    )
    points = base.mark_point(filled=True).encode(
        y="effect:Q", tooltip=["month", "effect", "low", "high"]
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q")
    go_live = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(color="gray").encode(x="x:Q")
    subtitle = (
        f"placebo test p = {study.pretrend_p_value:.3f}"
        if study.pretrend_p_value is not None
        else "no placebo test"
    )
    return alt.LayerChart(
        layer=[band, points, zero, go_live],
        title=alt.TitleParams(f"Event study: {result.name}", subtitle=subtitle),
        width=480,
        height=240,
    )


def counterfactual_chart(result: Attribution) -> alt.LayerChart:
    """Actual KPI versus the counterfactual without the CRM, with its 95% band."""
    frame = result.counterfactual
    if frame is None:
        raise AttributionError(f"{result.name}: no counterfactual (method {result.method})")
    base = alt.Chart(frame).encode(x=alt.X("period:T", title="month"))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title=result.name), y2="high:Q")
    predicted = base.mark_line(strokeDash=[6, 3]).encode(y="predicted:Q")
    actual = base.mark_line(point=True).encode(
        y="actual:Q", tooltip=["period", "actual", "predicted"]
    )
    return alt.LayerChart(
        layer=[band, predicted, actual],
        title=alt.TitleParams(
            f"{result.name}: actual versus without the CRM", subtitle="dashed: counterfactual"
        ),
        width=480,
        height=240,
    )
