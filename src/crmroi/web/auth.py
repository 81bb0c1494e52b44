"""Users, roles, sessions, API tokens and the login rate limit.

- Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106).
- A session is a random token in an http-only cookie; the database keeps only its
  HMAC under the app secret, so a copy of the database cannot be replayed as a login.
- Each session has its own CSRF token, required on every state-changing request.
- Failed logins are counted per user name and per client address in the database,
  so the limit holds across several workers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import math
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crmroi.errors import ConfigurationError, TooManyAttempts
from crmroi.messages import M_
from crmroi.web.access import WorkspaceAccess, sql
from crmroi.web.identity import check_password, name_key, normalise_username

_hasher = PasswordHasher()


class Role(StrEnum):
    """What a user may do: each role includes the ones below it."""

    viewer = "viewer"  # read only
    analyst = "analyst"  # import, undo, edit cases
    admin = "admin"  # users and settings

    @property
    def level(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.level >= needed.level


@dataclass(frozen=True)
class User:
    user_id: str
    username: str
    role: Role


TOKEN_ID_CHARS = 12  # the first hex digits of a token's HMAC name it on the account page


@dataclass(frozen=True)
class ApiToken:
    """An API token as its owner sees it (the token itself is never stored)."""

    token_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= now()


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def now() -> datetime:
    """Naive UTC, as every timestamp in the workspace."""
    return datetime.now(UTC).replace(tzinfo=None)


def token_digest(secret: str, token: str) -> str:
    """HMAC-SHA256 of a session or API token under the app secret (hex)."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (its strength is `identity.check_password`'s job)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Accounts:
    """Users, sessions and tokens stored in the workspace database."""

    def __init__(
        self,
        access: WorkspaceAccess,
        secret: str,
        session_hours: float,
        *,
        hash_slots: int = 2,
        hash_wait_seconds: float = 5.0,
    ) -> None:
        self.access = access
        self.secret = secret
        self.session_length = timedelta(hours=session_hours)
        self._hash_slots = threading.BoundedSemaphore(hash_slots)
        self._hash_wait = hash_wait_seconds

    @contextlib.contextmanager
    def _hashing(self) -> Iterator[None]:
        """Hold one of the few hash slots (argon2id: 64 MiB and a core per hash) or say 429."""
        if not self._hash_slots.acquire(timeout=self._hash_wait):
            raise TooManyAttempts(1, "the server is busy checking passwords; try again shortly")
        try:
            yield
        finally:
            self._hash_slots.release()

    def _hash(self, password: str) -> str:
        with self._hashing():
            return hash_password(password)

    def _verify(self, stored_hash: str, password: str) -> bool:
        with self._hashing():
            return verify_password(stored_hash, password)

    # -- users --------------------------------------------------------------------
    def count_users(self) -> int:
        return int(self.access.query("SELECT count(*) FROM web_users")[0][0])

    def create_user(self, username: str, password: str, role: Role) -> User:
        """A new user; the name is normalised (`identity.normalise_username`)."""
        name = normalise_username(username)
        check_password(password, name)
        if self.find_user(name) is not None:
            raise ConfigurationError(
                M_("user_exists", "user %(user)s exists already", user=repr(name))
            )
        user = User(uuid.uuid4().hex, name, role)
        password_hash = self._hash(password)
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?)"),
                (user.user_id, name, password_hash, role.value, now(), False),
            )
        return user

    def users(self) -> list[tuple[User, bool]]:
        """Every user with its disabled flag, by name."""
        rows = self.access.query(
            "SELECT user_id, username, role, disabled FROM web_users ORDER BY username"
        )
        return [(User(r[0], r[1], Role(r[2])), bool(r[3])) for r in rows]

    def find_user(self, username: str) -> tuple[User, bool] | None:
        """The user whose name matches `username` once both are normalised, with its flag."""
        key = name_key(username)
        return next(((u, off) for u, off in self.users() if name_key(u.username) == key), None)

    def set_role(self, user_id: str, role: Role) -> None:
        """Change a role; the user's sessions and tokens end (they carried the old role)."""
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "UPDATE web_users SET role = ? WHERE user_id = ?"), (role.value, user_id)
            )
            _end_all(tx, user_id)

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "UPDATE web_users SET disabled = ? WHERE user_id = ?"), (disabled, user_id)
            )
            if disabled:
                _end_all(tx, user_id)

    def set_password(self, user_id: str, password: str) -> None:
        """Set a new password; every session and API token of the user ends."""
        names = [u.username for u, _ in self.users() if u.user_id == user_id]
        check_password(password, names[0] if names else "")
        password_hash = self._hash(password)
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "UPDATE web_users SET password_hash = ? WHERE user_id = ?"),
                (password_hash, user_id),
            )
            _end_all(tx, user_id)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the name and password match an enabled account."""
        found = self.find_user(username)
        rows = (
            self.access.query(
                "SELECT password_hash FROM web_users WHERE user_id = ?", (found[0].user_id,)
            )
            if found
            else []
        )
        if found is None or not rows:
            self._verify(_dummy_hash(), password)  # same time whether or not the user exists
            return None
        user, disabled = found
        if not self._verify(rows[0][0], password) or disabled:
            return None
        return user

    # -- sessions -----------------------------------------------------------------
    def start_session(self, user: User) -> tuple[str, Session]:
        """A new session for `user`: the cookie token (shown once) and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        created = now()
        with self.access.transaction() as tx:
            tx.execute(sql(tx, "DELETE FROM web_sessions WHERE expires_at < ?"), (created,))
            tx.execute(
                sql(tx, "INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?)"),
                (
                    token_digest(self.secret, token),
                    user.user_id,
                    csrf,
                    created,
                    created + self.session_length,
                ),
            )
        return token, Session(user, csrf)

    def session(self, token: str) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired, disabled user)."""
        rows = self.access.lookup(  # remembered until the next write (logout, reset, ...)
            "SELECT u.user_id, u.username, u.role, s.csrf_token, s.expires_at FROM web_sessions s "
            "JOIN web_users u ON u.user_id = s.user_id "
            "WHERE s.token_hash = ? AND NOT u.disabled",
            (token_digest(self.secret, token),),
        )
        if not rows or not rows[0][4] > now():
            return None
        user_id, name, role, csrf, _ = rows[0]
        return Session(User(user_id, name, Role(role)), csrf)

    def end_session(self, token: str) -> None:
        self.access.query(
            "DELETE FROM web_sessions WHERE token_hash = ?", (token_digest(self.secret, token),)
        )

    # -- API tokens ---------------------------------------------------------------
    def create_api_token(self, user: User, label: str, days: float = 90) -> str:
        """A bearer token for scripts acting as `user` (returned once, stored hashed).

        It expires after `days` days and can be listed and revoked by its owner.
        """
        token = "crmroi_" + secrets.token_urlsafe(32)
        created = now()
        self.access.query(
            "INSERT INTO web_api_tokens (token_hash, user_id, label, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                token_digest(self.secret, token),
                user.user_id,
                label.strip()[:100] or "token",
                created,
                created + timedelta(days=days),
            ),
        )
        return token

    def api_token_user(self, token: str) -> User | None:
        """The user of a live token (not expired, not revoked, user enabled), or None."""
        rows = self.access.lookup(  # remembered until the next write (revoke, disable, ...)
            "SELECT u.user_id, u.username, u.role, t.expires_at FROM web_api_tokens t "
            "JOIN web_users u ON u.user_id = t.user_id "
            "WHERE t.token_hash = ? AND NOT u.disabled",
            (token_digest(self.secret, token),),
        )
        if not rows or (rows[0][3] is not None and not rows[0][3] > now()):
            return None
        return User(rows[0][0], rows[0][1], Role(rows[0][2]))

    def api_tokens(self, user: User) -> list[ApiToken]:
        """The user's tokens, newest first (expired ones included, marked by their date)."""
        rows = self.access.query(
            "SELECT token_hash, label, created_at, expires_at FROM web_api_tokens "
            "WHERE user_id = ? ORDER BY created_at DESC",
            (user.user_id,),
        )
        return [ApiToken(r[0][:TOKEN_ID_CHARS], r[1], r[2], r[3]) for r in rows]

    def revoke_api_token(self, user: User, token_id: str) -> bool:
        """Delete one of the user's tokens by its id; False when there is no such token."""
        ids = {t.token_id for t in self.api_tokens(user)}
        if len(token_id) != TOKEN_ID_CHARS or token_id not in ids:
            return False
        self.access.query(
            "DELETE FROM web_api_tokens WHERE user_id = ? AND token_hash LIKE ?",
            (user.user_id, token_id + "%"),
        )
        return True

    # -- login throttling --------------------------------------------------------
    def login_delay(self, username: str, ip: str, policy: Throttle) -> int:
        """Seconds before this user name may try again from this address (0: now).

        Each key (user name and address together, the user name from anywhere, the
        address for any name) has some free failures within `policy.window`; past them
        every failure doubles the wait after it, from 1 second up to the key's cap. The
        user-name-only key has the small cap, so nobody can lock an account for long.
        """
        key = name_key(username)
        since = now() - policy.window
        rows = self.access.query(
            "SELECT username, ip, failed_at FROM web_login_failures "
            "WHERE failed_at > ? AND (username = ? OR ip = ?) ORDER BY failed_at",
            (since, key, ip),
        )
        pair = [r[2] for r in rows if r[0] == key and r[1] == ip]
        user = [r[2] for r in rows if r[0] == key]
        address = [r[2] for r in rows if r[1] == ip]
        waits = [
            _wait(pair, policy.free_per_pair, policy.max_delay),
            _wait(user, policy.free_per_user, policy.max_user_delay),
            _wait(address, policy.free_per_ip, policy.max_delay),
        ]
        return max(waits)

    def record_failure(self, username: str, ip: str) -> None:
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "DELETE FROM web_login_failures WHERE failed_at < ?"),
                (now() - timedelta(days=1),),
            )
            tx.execute(
                sql(tx, "INSERT INTO web_login_failures VALUES (?, ?, ?)"),
                (name_key(username)[:200], ip, now()),
            )

    def clear_failures(self, username: str) -> None:
        """Forget a user name's failed logins (a successful login, or `crmroi users unlock`)."""
        self.access.query(
            "DELETE FROM web_login_failures WHERE username = ?", (name_key(username),)
        )


@dataclass(frozen=True)
class Throttle:
    """How failed logins slow the next ones (see `Accounts.login_delay`)."""

    window: timedelta
    free_per_pair: int = 3
    free_per_user: int = 10
    free_per_ip: int = 30
    max_delay: int = 900
    max_user_delay: int = 60


def _wait(failures: list[datetime], free: int, cap: int) -> int:
    """Seconds left of the delay the latest of `failures` imposes (0 within the free ones)."""
    extra = len(failures) - free
    if extra < 0 or not failures:
        return 0
    delay = min(cap, 2 ** min(extra, 30))
    left = (failures[-1] + timedelta(seconds=delay) - now()).total_seconds()
    return max(0, math.ceil(left))


def _end_all(tx: Any, user_id: str) -> None:
    """End every session and API token of a user (inside the caller's transaction)."""
    tx.execute(sql(tx, "DELETE FROM web_sessions WHERE user_id = ?"), (user_id,))
    tx.execute(sql(tx, "DELETE FROM web_api_tokens WHERE user_id = ?"), (user_id,))


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown (computed once, on first use)."""
    return _hasher.hash("not a real password, for constant-time misses")


def bootstrap_admin(accounts: Accounts, password: str | None) -> str | None:
    """Create the first admin when there are no users yet.

    Returns the generated password (to print once) when `password` is None and an
    admin was created; None otherwise.
    """
    if accounts.count_users() > 0:
        return None
    generated = password is None
    chosen = password or secrets.token_urlsafe(15)
    accounts.create_user("admin", chosen, Role.admin)
    return chosen if generated else None
