"""Types and conversions shared by the API's response models and the pages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator


def _as_utc(value: datetime) -> datetime:
    """Workspace timestamps are naive UTC; the API says so (RFC 3339 needs an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A timestamp sent as RFC 3339 in UTC (`2025-12-02T12:40:47Z`)."""


def finite(value: Any) -> float | None:
    """`value` as a float, or None when it is missing, NaN or infinite (JSON has no NaN)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
