"""Saved business cases (scenarios) of a workspace, kept as case.yaml text in the database.

The YAML text is the source of truth, exactly what `crmroi roi` reads, so a case
edited in the browser can be downloaded and run from the command line unchanged.
When the app starts, the workspace's own `case.yaml` (the demo writes one) is saved as
"default". One case is active: the dashboard shows it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from crmroi.errors import ConfigurationError
from crmroi.finance.case import Case, case_from_text
from crmroi.messages import M_
from crmroi.web.access import WorkspaceAccess, sql
from crmroi.web.audit import record
from crmroi.web.auth import now

DEFAULT_NAME = "default"
ACTIVE_SETTING = "web_active_case"
SEEDED_SETTING = "web_cases_seeded"
MAX_NAME = 80


@dataclass(frozen=True)
class SavedCase:
    name: str
    yaml: str
    updated_at: datetime
    updated_by: str

    @property
    def digest(self) -> str:
        """A short fingerprint of the text (a cache key for results)."""
        return hashlib.sha256(self.yaml.encode()).hexdigest()[:16]


def check_name(name: str) -> str:
    """The name stripped; refused when empty, too long, or with slashes or control characters."""
    name = name.strip()
    if (
        not name
        or len(name) > MAX_NAME
        or any(c in name for c in "/\\")
        or any(unicodedata.category(c) in ("Cc", "Cs", "Cn") for c in name)
    ):
        raise ConfigurationError(
            f"a case name needs 1 to {MAX_NAME} characters, no slashes or control characters"
        )
    return name


class CaseLibrary:
    """List, read, save, delete and activate the saved cases of one workspace."""

    def __init__(self, access: WorkspaceAccess) -> None:
        self.access = access

    def seed(self) -> None:
        """Save the workspace folder's case.yaml as "default" when no case was ever saved.

        Done once per workspace (a setting remembers it), so deleting every case does
        not bring the default back; an invalid case.yaml is skipped.
        """
        with self.access.store() as store:
            if store.settings().get(SEEDED_SETTING):
                return
        if not self.names() and self.access.shared:
            from pathlib import Path

            path = Path(self.access.location) / "case.yaml"
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                    self.save(DEFAULT_NAME, text, "crmroi")
                except (OSError, UnicodeDecodeError, ConfigurationError):
                    pass
        with self.access.transaction() as tx:
            tx.write_settings({SEEDED_SETTING: True})

    def names(self) -> list[str]:
        return [r[0] for r in self.access.lookup("SELECT name FROM web_cases ORDER BY name")]

    def get(self, name: str) -> SavedCase | None:
        rows = self.access.lookup(
            "SELECT name, yaml, updated_at, updated_by FROM web_cases WHERE name = ?", (name,)
        )
        return SavedCase(*rows[0]) if rows else None

    def save(self, name: str, text: str, username: str) -> SavedCase:
        """Validate and store `text` under `name` (replacing it), with an audit event."""
        name = check_name(name)
        case_from_text(text, f"{name}.yaml")
        with self.access.transaction() as tx:
            existed = bool(tx.execute(sql(tx, "SELECT 1 FROM web_cases WHERE name = ?"), (name,)))
            tx.execute(sql(tx, "DELETE FROM web_cases WHERE name = ?"), (name,))
            tx.execute(
                sql(tx, "INSERT INTO web_cases VALUES (?, ?, ?, ?)"), (name, text, now(), username)
            )
            record(tx, username, "case.update" if existed else "case.create", case=name)
        saved = self.get(name)
        assert saved is not None
        return saved

    def delete(self, name: str, username: str) -> None:
        with self.access.transaction() as tx:
            tx.execute(sql(tx, "DELETE FROM web_cases WHERE name = ?"), (name,))
            record(tx, username, "case.delete", case=name)

    def active_name(self) -> str | None:
        """The case the dashboard shows: the one chosen, else the first by name."""
        chosen = self.access.settings().get(ACTIVE_SETTING)
        names = self.names()
        if chosen in names:
            return str(chosen)
        return names[0] if names else None

    def activate(self, name: str, username: str) -> None:
        if name not in self.names():
            raise ConfigurationError(
                M_("case_not_found", "no saved case called %(name)s", name=repr(name))
            )
        with self.access.transaction() as tx:
            tx.write_settings({ACTIVE_SETTING: name})
            record(tx, username, "case.activate", case=name)

    def active(self) -> tuple[SavedCase, Case] | None:
        """The active case, parsed, or None when the workspace has no saved case."""
        name = self.active_name()
        saved = self.get(name) if name else None
        if saved is None:
            return None
        return saved, case_from_text(saved.yaml, f"{saved.name}.yaml")
