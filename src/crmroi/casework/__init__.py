"""The layer between a workspace and the business case: it reads what a case needs
(actual costs, measured KPI changes, lifetime value, exchange rates, adoption) and
hands plain numbers to the pure `crmroi.finance`. The CLI, the web app and the
reports call this layer.

    from crmroi.casework import evaluate_case, model_for, plan_vs_actual
"""

from crmroi.casework.actuals import people_roi, plan_vs_actual
from crmroi.casework.evaluate import evaluate_case, model_for

__all__ = ["evaluate_case", "model_for", "people_roi", "plan_vs_actual"]
