"""Display names of the report's data-derived rows, marked for translation with `N_`.

KPI names, units, cost categories, driver inputs and attribution methods are contract
identifiers (`win_rate`); these tables give each the English label that is also its
gettext message id, so `Lang.gettext(label)` gives the label in the report's language.
"""

from __future__ import annotations

from crmroi.reports.i18n import N_, Lang

KPI_LABELS: dict[str, str] = {
    "sales_volume": N_("Sales volume"),
    "won_deals": N_("Won deals"),
    "sales_per_rep": N_("Sales per rep"),
    "avg_deal_size": N_("Average deal size"),
    "win_rate": N_("Win rate"),
    "sales_cycle_days": N_("Sales cycle"),
    "forecast_accuracy": N_("Forecast accuracy"),
    "relationship_concentration": N_("Relationship concentration"),
    "calls_inbound": N_("Inbound calls"),
    "calls_outbound": N_("Outbound calls"),
    "calls_per_won_deal": N_("Calls per won deal"),
    "cost_per_sales_call": N_("Cost per sales call"),
    "admin_time_share": N_("Admin time share"),
    "new_customer_revenue": N_("New customer revenue"),
    "upsell_rate": N_("Upsell rate"),
    "cac": N_("Customer acquisition cost"),
    "revenue_per_customer": N_("Revenue per customer"),
    "retention_rate": N_("Retention rate"),
    "gross_margin": N_("Gross margin"),
    "csat": N_("Customer satisfaction"),
    "cost_per_customer": N_("Cost per customer"),
    "service_cost_per_ticket": N_("Service cost per ticket"),
    "lead_conversion_rate": N_("Lead conversion rate"),
    "leads": N_("Leads"),
    "marketing_spend": N_("Marketing spend"),
    "cost_per_lead": N_("Cost per lead"),
    "cost_per_won_deal": N_("Marketing cost per won deal"),
}

UNIT_LABELS: dict[str, str] = {
    "fraction": N_("share"),
    "fraction per year": N_("share a year"),
    "days": N_("days"),
    "deals": N_("deals"),
    "calls": N_("calls"),
    "calls per deal": N_("calls per deal"),
    "leads": N_("leads"),
    "score 1-5": N_("score 1-5"),
    "per rep-month": N_("per rep-month"),
    "per customer": N_("per customer"),
    "per lead": N_("per lead"),
    "per deal": N_("per deal"),
    "per ticket": N_("per ticket"),
    "per call": N_("per call"),
}

CATEGORY_LABELS: dict[str, str] = {
    "licence": N_("Licences"),
    "subscription": N_("Subscriptions"),
    "implementation": N_("Implementation"),
    "customisation": N_("Customisation"),
    "training": N_("Training"),
    "integration": N_("Integration"),
    "infrastructure": N_("Infrastructure"),
    "internal_labour": N_("Internal labour"),
    "process_change": N_("Process change"),
    "parallel_running": N_("Parallel running"),
    "maintenance": N_("Maintenance"),
    "migration": N_("Data migration"),
    "exit": N_("Exit and retirement"),
    "productivity_dip": N_("Productivity dip while learning"),
}

PEOPLE_LABELS: dict[str, str] = {
    "revenue_per_sales_employee": N_("Revenue per sales employee (a year)"),
    "gross_profit_per_sales_employee": N_("Gross profit per sales employee (a year)"),
    "human_capital_roi": N_("Human-capital ROI (ratio)"),
}

GROUP_LABELS: dict[str, str] = {
    "it": N_("IT"),
    "people": N_("People"),
    "process": N_("Process"),
    "total": N_("TCO total"),
}

ROI_LABELS: dict[str, tuple[str, str, str]] = {
    "net_roi": (
        N_("Net ROI"),
        N_("NPV / PV of costs (discounted)"),
        N_("Forrester Total Economic Impact (TEI)"),
    ),
    "benefit_cost_ratio": (
        N_("Benefit-cost ratio"),
        N_("PV of benefits / PV of costs (discounted)"),
        N_("cost-benefit analysis"),
    ),
    "simple_roi": (
        N_("Simple ROI"),
        N_("(sum of benefits - sum of costs) / sum of costs (undiscounted)"),
        N_("the figure the business press quotes"),
    ),
    "revenue_roi": (
        N_("Revenue-based ROI"),
        N_("(revenue increase - costs) / costs (undiscounted; revenue, not margin)"),
        N_("Persian practitioner article on CRM ROI"),
    ),
    "idc_roi": (
        N_("IDC benefit / investment"),
        N_("(cost reductions + revenue increase) / total cost x 100% (undiscounted)"),
        N_("Chinese practitioner article on CRM ROI, after IDC"),
    ),
}
"""Label, formula and source of each `crmroi.finance.roi.RoiKind` (same texts, translated)."""

METHOD_LABELS: dict[str, str] = {
    "did": N_("difference in differences"),
    "its": N_("interrupted time series"),
    "naive": N_("naive before/after"),
}

INPUT_LABELS: dict[str, str] = {
    "change": N_("change"),
    "amount": N_("amount a month"),
    "users": N_("users"),
    "opportunities_per_month": N_("opportunities a month"),
    "win_rate": N_("win rate"),
    "avg_deal_size": N_("average deal size"),
    "gross_margin": N_("gross margin"),
    "won_deals_per_month": N_("won deals a month"),
    "monthly_revenue": N_("revenue a month"),
    "capacity_share": N_("share of freed capacity sold"),
    "customers": N_("customers"),
    "revenue_per_customer": N_("revenue per customer a month"),
    "value_per_customer": N_("value per customer a month"),
    "avg_upsell_size": N_("average upsell size"),
    "leads_per_month": N_("leads a month"),
    "hours_per_user_month": N_("hours per user a month"),
    "admin_share": N_("admin share of hours"),
    "loaded_hourly_cost": N_("loaded hourly cost"),
    "productive_share": N_("productive share of freed time"),
    "cost_per_customer": N_("cost per customer a month"),
    "new_customers_per_month": N_("new customers a month"),
    "cac": N_("acquisition cost"),
    "tickets_per_month": N_("tickets a month"),
    "cost_per_ticket": N_("cost per ticket"),
}

FOLLOWUP_LABELS: dict[str, str] = {
    "stale_deal": N_("open deal without activity"),
    "overdue_task": N_("overdue task"),
    "hot_lead": N_("hot lead not yet contacted"),
    "credit_hold": N_("credit hold with open business"),
    "rep_dependency": N_("relationship resting on a leaving rep"),
    "key_person": N_("large account resting on one current rep"),
}

SCORING_LABELS: dict[str, str] = {
    "leads": N_("Leads"),
    "deals": N_("Deals"),
    "logistic": N_("logistic regression"),
    "naive_bayes": N_("naive Bayes (frequency)"),
    "industry": N_("industry"),
    "segment": N_("segment"),
    "region": N_("region"),
    "source": N_("source"),
}


def _plain(key: str) -> str:
    return key.replace("_", " ")


def kpi_label(lang: Lang, name: str) -> str:
    """The KPI's display name in `lang`."""
    return lang.gettext(KPI_LABELS.get(name, _plain(name)))


def unit_label(lang: Lang, unit: str, currency: str) -> str:
    """A KPI unit in `lang`; a leading currency code ('USD per deal') is kept; a unit
    stated per covered month (`crmroi.kpi.coverage.PER_MONTH`) says so in `lang`."""
    from crmroi.kpi.coverage import PER_MONTH

    if unit.endswith(" " + PER_MONTH):
        base = unit_label(lang, unit.removesuffix(" " + PER_MONTH), currency)
        return lang.gettext("%(unit)s per covered month") % {"unit": base}
    if unit in UNIT_LABELS:
        return lang.gettext(UNIT_LABELS[unit])
    head, _, rest = unit.partition(" ")
    if head == currency or head.isupper():
        return f"{head} {lang.gettext(UNIT_LABELS.get(rest, rest))}".strip()
    return unit


def category_label(lang: Lang, category: str) -> str:
    """A cost category of the data contract in `lang`."""
    return lang.gettext(CATEGORY_LABELS.get(category, _plain(category)))


def method_label(lang: Lang, method: str | None) -> str:
    """An attribution method in `lang` ('–' when unavailable)."""
    return "–" if method is None else lang.gettext(METHOD_LABELS.get(method, method))


def followup_label(lang: Lang, kind: str) -> str:
    """A kind of follow-up in `lang`."""
    return lang.gettext(FOLLOWUP_LABELS.get(kind, _plain(kind)))


def scoring_label(lang: Lang, name: str) -> str:
    """A record kind, scoring model or segment dimension in `lang`."""
    return lang.gettext(SCORING_LABELS.get(name, _plain(name)))


def input_label(lang: Lang, name: str) -> str:
    """A driver input in `lang`."""
    return lang.gettext(INPUT_LABELS.get(name, _plain(name)))
