"""The case editor's words for the message catalogue: labels and choices.

The editor (`crmroi.web.case_forms`) derives its fields from the case model, so its
labels ('Horizon months', from `horizon_months`) and the choices of its selects (case.yaml
values such as `one_time`) are not literals Babel could find; they are listed here, marked
with `N_`, and the template translates them. Help texts are the models' own
`Field(description=N_(...))`. `tests/test_case_forms_i18n.py` fails when a field or a
choice is added to the models without its entry here.
"""

from __future__ import annotations

from crmroi.messages import N_

__all__ = ["LABELS", "OPTIONS"]

LABELS: tuple[str, ...] = (
    N_("Admin share"), N_("Adoption"), N_("Amount"), N_("As of"), N_("Avg deal size"),
    N_("Avg upsell size"), N_("Benefit ramp"), N_("Benefits"), N_("By month"), N_("Cac"),
    N_("Capacity share"), N_("Category"), N_("Change"), N_("Clv"), N_("Cost per customer"),
    N_("Cost per ticket"), N_("Costs"), N_("Currency"), N_("Customers"), N_("Discount rate"),
    N_("Do nothing"), N_("End"), N_("End month"), N_("Go live month"), N_("Gross margin"),
    N_("Growth"), N_("Headline roi"), N_("Horizon months"), N_("Hours per user month"),
    N_("Intangible benefits"), N_("Kind"), N_("Kpi"), N_("Leads per month"),
    N_("Loaded hourly cost"), N_("Measured"), N_("Monthly revenue"), N_("Months"), N_("Name"),
    N_("New customers per month"), N_("Opportunities per month"), N_("Per user"),
    N_("Productive share"), N_("Ramp months"), N_("Referrals per satisfaction"),
    N_("Retention per satisfaction"), N_("Revenue per customer"), N_("Risk"),
    N_("Risk adjustment"), N_("Risks"), N_("Source"), N_("Start"), N_("Start month"),
    N_("Tickets per month"), N_("Users"), N_("Value per customer"), N_("Win rate"),
    N_("Won deals per month"),
)  # fmt: skip
"""Every label `_label` makes of the case model's fields, marked for the catalogue (the
template translates `Field.label`; `tests/test_case_forms_i18n.py` checks none is missing)."""

OPTIONS: tuple[str, ...] = (
    N_("true"), N_("false"), N_("one_time"), N_("recurring"), N_("kpi"), N_("attributed"),
    N_("net_roi"), N_("benefit_cost_ratio"), N_("simple_roi"), N_("revenue_roi"),
    N_("idc_roi"), N_("licence"), N_("subscription"), N_("implementation"),
    N_("customisation"), N_("training"), N_("integration"), N_("infrastructure"),
    N_("internal_labour"), N_("process_change"), N_("parallel_running"), N_("maintenance"),
    N_("migration"), N_("exit"), N_("productivity_dip"), N_("win_rate"), N_("deal_size"),
    N_("sales_cycle"), N_("retention"), N_("customer_value"), N_("upsell"),
    N_("lead_conversion"), N_("margin"), N_("time_saved"), N_("cost_per_customer"),
    N_("cac"), N_("service_cost"), N_("satisfaction"), N_("custom"), N_("actual"),
    N_("measured"), N_("clv"),
)  # fmt: skip
"""The words of the editor's choices (case.yaml values): a select shows each in the page's
language (English: the value itself) and posts the value."""
