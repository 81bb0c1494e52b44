"""`finite`: a number as a float, or None where it is missing, NaN or infinite.

JSON, the reports and the web pages have no NaN; every layer that shows a figure
turns "no value" into None with this one function.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite"]


def finite(value: Any) -> float | None:
    """`value` as a float, or None when it is missing, not a number, NaN or infinite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
