"""The I/O edge of the reports: read a workspace and a case, and build the report model.

`gather_report_inputs` does the costly, language-free work once (`ReportInputs`);
`report_model` words it in a language; `report_for` is the two in one call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from crmroi.finance.case import Case
from crmroi.finance.model import CaseModel
from crmroi.messages import N_
from crmroi.reports.build import ReportInputs, report_model
from crmroi.reports.improve import ImprovementResults
from crmroi.reports.model import AccountRow, ReportModel
from crmroi.store.store import Store

__all__ = ["gather_report_inputs", "improvement_results", "largest_accounts", "report_for"]

Progress = Callable[[str], None]


def largest_accounts(
    store: Store, since: dt.date | None, until: dt.date | None = None, top: int = 10
) -> list[AccountRow]:
    """Accounts by won deal amount closed in [since, until], with the owner rep's name."""
    if store.count("deals") == 0 or store.count("accounts") == 0:
        return []
    deals = store.table("deals")
    won = deals.filter(deals.is_won & deals.account_id.notnull() & deals.amount.notnull())
    if since is not None:
        won = won.filter(won.closed_at >= dt.datetime.combine(since, dt.time()))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        won = won.filter(won.closed_at < end)
    sums = won.group_by("account_id").aggregate(
        won_amount=won.amount.sum(), won_deals=won.deal_id.count()
    )
    accounts = store.table("accounts").select("account_id", "name", "owner_rep_id")
    reps = store.table("reps").select(rep_id="rep_id", owner="name")
    joined = sums.join(accounts, "account_id").left_join(reps, accounts.owner_rep_id == reps.rep_id)
    frame = joined.order_by(joined.won_amount.desc()).limit(top).execute()
    return [
        AccountRow(
            name=str(r.name),
            owner=None if r.owner is None or r.owner != r.owner else str(r.owner),
            won_amount=float(r.won_amount),
            won_deals=int(r.won_deals),
        )
        for r in frame.itertuples(index=False)
    ]


def report_for(
    case: Case,
    store: Store | None,
    *,
    lang: str = "en",
    runs: int = 10_000,
    seed: int = 0,
    bootstrap: int = 200,
    kpis: Sequence[str] | None = None,
    workspace: str | None = None,
    progress: Progress | None = None,
    improve: bool = True,
) -> ReportModel:
    """The report model of `case` in `lang`: `gather_report_inputs` (see its arguments)
    then `report_model`; `workspace` is the label the report names its data by."""
    inputs = gather_report_inputs(
        case,
        store,
        runs=runs,
        seed=seed,
        bootstrap=bootstrap,
        kpis=kpis,
        progress=progress,
        improve=improve,
    )
    return report_model(inputs, lang=lang, workspace=workspace)


def gather_report_inputs(
    case: Case,
    store: Store | None,
    *,
    runs: int = 10_000,
    seed: int = 0,
    bootstrap: int = 200,
    kpis: Sequence[str] | None = None,
    progress: Progress | None = None,
    improve: bool = True,
) -> ReportInputs:
    """Evaluate `case` (with `runs` simulation runs) and, with a workspace, its KPIs
    (`bootstrap` replicates), lead sources, attribution, largest accounts and (with
    `improve`) the improvement tools: everything a report shows, in no language."""
    from crmroi.casework.evaluate import evaluate_case, model_for

    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    step(N_("evaluating the business case"))
    case_model = model_for(case, store)
    result = evaluate_case(case, store, runs=runs or None, seed=seed, model=case_model)
    if store is None:
        return ReportInputs(result)
    from crmroi.attribution.workspace import attribute_workspace
    from crmroi.errors import UserError
    from crmroi.kpi import compute_kpi_report

    step(N_("computing KPIs"))
    kpi_report = compute_kpi_report(store, bootstrap=bootstrap, seed=seed, kpis=kpis)
    step(N_("lead sources"))
    sources = compute_kpi_report(store, by="source", bootstrap=0, seed=seed)
    step(N_("attribution"))
    try:
        attributions = tuple(attribute_workspace(store, kpis=kpis))
    except UserError:
        attributions = ()
    actuals = None
    if case.start is not None:
        from crmroi.casework.actuals import plan_vs_actual

        step(N_("plan versus actual"))
        try:
            actuals = plan_vs_actual(case, store, report=kpi_report)
        except UserError:
            actuals = None  # e.g. a measured KPI the workspace cannot give: shown in roi
    step(N_("largest accounts"))
    accounts = largest_accounts(store, kpi_report.after[0], kpi_report.after[1])
    step(N_("lead scoring, segments, follow-ups, lifetime value"))
    return ReportInputs(
        result,
        kpis=kpi_report,
        sources=sources,
        attributions=attributions,
        accounts=tuple(accounts),
        improvements=improvement_results(store, case_model) if improve else None,
        actuals=actuals,
    )


def improvement_results(store: Store, case_model: CaseModel) -> ImprovementResults:
    """The improvement tools' results on `store`, in no language; the lifetime-value fit
    the case used (its `clv` inputs), if any, is shown rather than fitted again."""
    from crmroi.finance.estimates import likely
    from crmroi.improve.frames import load_frames
    from crmroi.reports.improve import FRAMES, fit_improvements

    clv = case_model.clv
    used_by = [d.label for d in case_model.case.benefits if d.clv_fields]
    case_inputs = [
        (line.name, name, quantity, float(likely(line.inputs[name])), name in d.clv_fields)
        for line in case_model.lines
        if (d := line.driver) is not None
        for name, quantity in d.CLV_INPUTS.items()
    ]
    frames = load_frames(store, FRAMES)
    return fit_improvements(
        frames,
        clv_fit=clv.fit if clv is not None else None,
        clv_used_by=used_by if clv is not None else (),
        case_inputs=case_inputs,
    )
