"""Types shared by the API's response models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from starlette.exceptions import HTTPException


def _as_utc(value: datetime) -> datetime:
    """Workspace timestamps are naive UTC; the API says so (RFC 3339 needs an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A timestamp sent as RFC 3339 in UTC (`2025-12-02T12:40:47Z`)."""


class CodedHTTPException(HTTPException):
    """An HTTP error whose JSON body carries `code` (a stable machine code) beside the
    text; plain `HTTPException`s get a code by status (`web.app.HTTP_CODES`)."""

    def __init__(
        self, status_code: int, detail: str, code: str, errors: list[Any] | None = None
    ) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code
        self.errors = errors
        """Each problem's own code, text and parameters (a case's: `problem_list`)."""
