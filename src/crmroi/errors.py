"""The one exception hierarchy of crmroi.

Core code raises these; only the edges (the CLI, later the web app) translate them
into exit codes or HTTP statuses.

    CrmroiError                  anything crmroi raises on purpose
    ├── UserError                the user can fix it: exit code 1, one clear line
    │   ├── InputFileError       a file cannot be read at all (format, encoding, header)
    │   ├── MappingError         a mapping or preset is invalid or does not fit the file
    │   ├── WorkspaceError       a workspace is missing, locked or of the wrong shape
    │   └── ConfigurationError   an option or setting is invalid (dates, URLs, extras)
    └── ImportAborted            an import was rolled back; nothing was written
"""

from __future__ import annotations

from pathlib import Path


class CrmroiError(Exception):
    """Base of every error crmroi raises on purpose."""


class UserError(CrmroiError):
    """An error the user can fix; the CLI prints it as one line and exits with 1."""


class InputFileError(UserError):
    """A file that cannot be read at all: unknown format, undecodable, missing columns."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class MappingError(UserError):
    """A mapping (YAML or preset) that is invalid or does not fit the file it is used on."""


class WorkspaceError(UserError):
    """A workspace that cannot be opened or used."""


class ConfigurationError(UserError):
    """An invalid option, setting or missing optional dependency."""


class ImportAborted(CrmroiError):
    """An import failed part-way and was rolled back; the workspace is unchanged."""
