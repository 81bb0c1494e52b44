"""Improve the return: lead scoring, ideal-customer segments, follow-ups, lifetime value.

Pure functions and small classes over pandas frames of the canonical tables; the
CLI (`crmroi score|segments|followups|clv`), the web app and the report call the
same code. `frames.load_frames` is the only reader of the store.
"""

from crmroi.improve.features import Examples, deal_examples, lead_examples
from crmroi.improve.frames import data_date, load_frames
from crmroi.improve.models import LogisticScorer, NaiveBayesScorer, Reason
from crmroi.improve.scoring import (
    Evaluation,
    KindResult,
    NotEnoughHistory,
    ScoringReport,
    score_kind,
    score_workspace,
    top_decile_lift,
)

__all__ = [
    "Evaluation",
    "Examples",
    "KindResult",
    "LogisticScorer",
    "NaiveBayesScorer",
    "NotEnoughHistory",
    "Reason",
    "ScoringReport",
    "data_date",
    "deal_examples",
    "lead_examples",
    "load_frames",
    "score_kind",
    "score_workspace",
    "top_decile_lift",
]
