"""The one exception hierarchy of crmroi.

Core code raises these; only the edges (the CLI, later the web app) translate them
into exit codes or HTTP statuses. Every one pickles with what it carries (file, reason,
status), so it crosses unchanged from the web app's worker processes.

    CrmroiError                  anything crmroi raises on purpose
    ├── UserError                the user can fix it: exit code 1, one clear line
    │   ├── InputFileError       a file cannot be read at all (format, encoding, header)
    │   ├── MappingError         a mapping or preset is invalid or does not fit the file
    │   ├── WorkspaceError       a workspace is missing, locked or of the wrong shape
    │   ├── ConfigurationError   an option or setting is invalid (dates, URLs, extras)
    │   ├── UploadRefused        a web upload too large or of the wrong type (413/415)
    │   └── AccessError          a web request without the right to do what it asks
    │       ├── NotAuthenticated     no valid session or token (401, or the login page)
    │       ├── PermissionDenied     the role does not allow it, or the CSRF token is wrong (403)
    │       └── TooManyAttempts      too many failed logins (429)
    ├── ServerBusy               the web app's slow-work queue is full (503, try again)
    └── ImportAborted            an import was rolled back; nothing was written
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmroi.messages import Message

from crmroi.messages import N_, Message

FILE_REASON = N_("%(file)s: %(reason)s")
"""A file's refusal: its name, then why (`InputFileError` raised with a message)."""


class CrmroiError(Exception):
    """Base of every error crmroi raises on purpose.

    `code` is the stable machine code of the kind of error (the API answers it beside
    the text); an error raised with a `crmroi.messages.Message` answers the message's own
    code instead (`error_code`).
    """

    code = "error"


class UserError(CrmroiError):
    """An error the user can fix; the CLI prints it as one line and exits with 1."""

    code = "user_error"


class InputFileError(UserError):
    """A file that cannot be read at all: unknown format, undecodable, missing columns."""

    code = "input_file"

    def __init__(self, path: Path | str, reason: str | Message) -> None:
        self.path = Path(path)
        self.reason = reason
        if isinstance(reason, Message):  # the file's name before it; the reason's code
            params = {"file": self.path.name, "reason": reason}
            super().__init__(Message(reason.code, FILE_REASON, params))
        else:
            super().__init__(f"{self.path.name}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[Path, str | Message]]:
        """Pickled with its path and reason (it crosses to the web app's worker processes)."""
        return (type(self), (self.path, self.reason))


class MappingError(UserError):
    """A mapping (YAML or preset) that is invalid or does not fit the file it is used on."""

    code = "mapping"


class WorkspaceError(UserError):
    """A workspace that cannot be opened or used."""

    code = "workspace"


class ConfigurationError(UserError):
    """An invalid option, setting or missing optional dependency."""

    code = "configuration"


class ImportAborted(CrmroiError):
    """An import failed part-way and was rolled back; the workspace is unchanged."""

    code = "import_aborted"


class UploadRefused(UserError):
    """A web upload refused before reading it: too large (413) or of the wrong type (415)."""

    code = "upload_refused"

    def __init__(self, reason: str | Message, status: int) -> None:
        self.status = status
        self.code = {413: "upload_too_large", 415: "upload_unsupported_type"}.get(
            status, "upload_refused"
        )
        super().__init__(reason)

    def __reduce__(self) -> tuple[type, tuple[object, int]]:
        return (type(self), (self.args[0], self.status))


class AccessError(UserError):
    """A web request without the right to do what it asks."""

    code = "access"


class NotAuthenticated(AccessError):
    """No valid session cookie or API token."""

    code = "not_authenticated"


class PermissionDenied(AccessError):
    """The user's role does not allow this, or the CSRF token is missing or wrong."""

    code = "permission_denied"


class TooManyAttempts(AccessError):
    """Too many failed logins; `retry_after` seconds until the next try."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message or f"too many failed logins; try again in {retry_after} seconds")

    def __reduce__(self) -> tuple[type, tuple[int, object]]:
        return (type(self), (self.retry_after, self.args[0]))


class ServerBusy(CrmroiError):
    """Every worker of the web app's slow-work pool is busy and its queue is full."""

    code = "server_busy"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(
            message or f"the server is busy with other uploads; try again in {retry_after} seconds"
        )

    def __reduce__(self) -> tuple[type, tuple[int, object]]:
        return (type(self), (self.retry_after, self.args[0]))


def error_code(exc: BaseException) -> str:
    """The stable machine code of an error: its message's code when it was raised with a
    `crmroi.messages.Message`, else its class's `code` ('error' for anything else)."""
    first = exc.args[0] if exc.args else None
    first = getattr(exc, "reason", first) if isinstance(exc, InputFileError) else first
    code = getattr(first, "code", None)
    if isinstance(code, str) and hasattr(first, "params"):
        return code
    return str(getattr(exc, "code", "error"))
