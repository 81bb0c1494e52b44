"""The status of an import batch in the history: 'loaded', 'undone', or a failure.

A failed import's status is stored as 'failed: ' followed by its reason as a message
record (`crmroi.messages.Message.to_record`: stable code, English text, parameters), so
the history (CLI and web) words the reason in the reader's language. `status_text` gives
the English text the API and scripts have always shown ('failed: REASON'). A row stored
before (plain 'failed: English reason') is read as it is: its 'failed' is still worded,
its reason stays the English it was stored in.
"""

from __future__ import annotations

from crmroi.messages import M_, Message, Said

__all__ = ["FAILED", "failed_message", "failed_status", "file_label", "status_text"]

FAILED = "failed: "
_RECORD = '{"code":'
_MAX_RECORD = 4000
"""Longest record kept; a longer reason is stored as English text cut at 500 characters,
as every failure was before."""


def _message(reason: Message | str) -> Message | None:
    if isinstance(reason, Said):
        return reason.message
    return reason if isinstance(reason, Message) else None


def failed_status(reason: Message | str) -> str:
    """The stored status of a failed import: its reason as a message record when it is
    one (a `Said` text included), else the English text (cut at 500 characters)."""
    message = _message(reason)
    if message is not None:
        record = message.to_record()
        if len(record) <= _MAX_RECORD:
            return FAILED + record
    return f"{FAILED}{reason}"[:500]


def _reason(status: str) -> Message | str | None:
    """The reason of a stored failed status (a message, or an older row's text)."""
    if not status.startswith(FAILED):
        return None
    rest = status[len(FAILED) :]
    if rest.startswith(_RECORD):
        try:
            return Message.from_record(rest)
        except (ValueError, KeyError, TypeError):
            return rest
    return rest


def status_text(status: str) -> str:
    """The status in English as it always read ('loaded', 'undone', 'failed: REASON')."""
    reason = _reason(status)
    return status if reason is None else f"{FAILED}{reason}"


def failed_message(status: str) -> Message | None:
    """'failed: REASON' as a message for the history page and `crmroi undo` (code
    `batch_failed`), or None for a batch that did not fail."""
    reason = _reason(status)
    if reason is None:
        return None
    return M_("batch_failed", "failed: %(reason)s", reason=reason)


_GENERATED = "generated: "


def file_label(name: str) -> Message | str:
    """A file of the history as the reader sees it: a file's name as it is; the demo
    generator's 'generated: seed=7 scale=0.25' with 'generated' worded (`demo_generated`)."""
    if name.startswith(_GENERATED):
        settings = name[len(_GENERATED) :]
        return M_("demo_generated", "generated: %(settings)s", settings=settings)
    return name
