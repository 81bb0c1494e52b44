"""The audit log: who imported, undid or edited what, and when (naive UTC)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmroi.store.engines import Transaction
from crmroi.web.access import WorkspaceAccess, sql
from crmroi.web.auth import now


@dataclass(frozen=True)
class AuditEvent:
    at: datetime
    username: str
    action: str
    detail: dict[str, Any]


def record(tx: Transaction, username: str, action: str, **detail: Any) -> None:
    """Write one event inside the caller's transaction, so it lands with the change."""
    tx.execute(
        sql(tx, "INSERT INTO web_audit VALUES (?, ?, ?, ?, ?)"),
        (uuid.uuid4().hex, now(), username, action, json.dumps(detail, default=str)),
    )


def events(access: WorkspaceAccess, limit: int = 200) -> list[AuditEvent]:
    """The latest events, newest first."""
    rows = access.query(
        "SELECT occurred_at, username, action, detail FROM web_audit "
        f"ORDER BY occurred_at DESC LIMIT {int(limit)}"
    )
    return [AuditEvent(r[0], r[1], r[2], json.loads(r[3])) for r in rows]
