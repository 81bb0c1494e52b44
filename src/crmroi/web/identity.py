"""User names and passwords as people type them: normalised names, guessable passwords refused.

- A user name is compared in NFKC normal form, case-folded (`Admin`, `ａｄｍｉｎ` and `admin`
  are one name); a name mixing letters of several scripts (`аdmin` with a Cyrillic `а`) is
  refused, since it can pose as another user's name.
- A password needs `MIN_PASSWORD_LENGTH` characters and a zxcvbn score of at least 3
  ("safely unguessable"): zxcvbn ships lists of the 30,000 most common passwords and common
  words and names, and sees through substitutions, keyboard patterns and dates.
"""

from __future__ import annotations

import unicodedata

from crmroi.errors import ConfigurationError
from crmroi.messages import M_, Items

__all__ = ["MIN_PASSWORD_LENGTH", "check_password", "name_key", "normalise_username", "scripts"]

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 0 too guessable ... 4 very unguessable
MAX_USERNAME = 64


def name_key(username: str) -> str:
    """The form two user names are compared in: NFKC, case-folded, stripped."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


def scripts(text: str) -> set[str]:
    """The scripts of the letters of `text` (the first word of each letter's Unicode name)."""
    found: set[str] = set()
    for ch in text:
        if unicodedata.category(ch).startswith("L"):
            name = unicodedata.name(ch, "")
            found.add(name.split(" ")[0] if name else "UNKNOWN")
    return found


def normalise_username(username: str) -> str:
    """The name as stored: NFKC and case-folded; `ConfigurationError` when it is refused."""
    name = name_key(username)
    if not name or len(name) > MAX_USERNAME:
        raise ConfigurationError(
            M_("username_length", "a user name needs 1 to %(most)s characters", most=MAX_USERNAME)
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise ConfigurationError(
            M_("username_invisible", "a user name cannot hold control or invisible characters")
        )
    mixed = scripts(name)
    if len(mixed) > 1:
        raise ConfigurationError(
            M_(
                "username_scripts",
                "user name %(user)s mixes letters of several scripts (%(scripts)s); use one script",
                user=repr(username),
                scripts=Items(sorted(s.title() for s in mixed)),
            )
        )
    return name


def check_password(password: str, username: str = "") -> None:
    """`ConfigurationError` when `password` is too short or too easy to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigurationError(
            M_(
                "password_short",
                "a password needs at least %(least)s characters",
                least=MIN_PASSWORD_LENGTH,
            )
        )
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password, user_inputs=[username, "crmroi"], max_length=200)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        from crmroi.web.password_words import too_easy

        feedback = verdict.get("feedback") or {}
        warning = feedback.get("warning")
        sentences = [warning] if warning else list(feedback.get("suggestions") or [])
        raise ConfigurationError(too_easy([s for s in sentences if s]))
