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
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crmroi.errors import ConfigurationError, TooManyAttempts
from crmroi.web.access import WorkspaceAccess, sql

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigurationError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
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
        username = username.strip()
        if not username or len(username) > 64:
            raise ConfigurationError("a user name needs 1 to 64 characters")
        user = User(uuid.uuid4().hex, username, role)
        with self.access.transaction() as tx:
            if tx.execute(sql(tx, "SELECT 1 FROM web_users WHERE username = ?"), (username,)):
                raise ConfigurationError(f"user {username!r} exists already")
            tx.execute(
                sql(tx, "INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?)"),
                (user.user_id, username, self._hash(password), role.value, now(), False),
            )
        return user

    def users(self) -> list[tuple[User, bool]]:
        """Every user with its disabled flag, by name."""
        rows = self.access.query(
            "SELECT user_id, username, role, disabled FROM web_users ORDER BY username"
        )
        return [(User(r[0], r[1], Role(r[2])), bool(r[3])) for r in rows]

    def set_role(self, user_id: str, role: Role) -> None:
        self.access.query("UPDATE web_users SET role = ? WHERE user_id = ?", (role.value, user_id))

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "UPDATE web_users SET disabled = ? WHERE user_id = ?"), (disabled, user_id)
            )
            if disabled:
                tx.execute(sql(tx, "DELETE FROM web_sessions WHERE user_id = ?"), (user_id,))
                tx.execute(sql(tx, "DELETE FROM web_api_tokens WHERE user_id = ?"), (user_id,))

    def set_password(self, user_id: str, password: str) -> None:
        self.access.query(
            "UPDATE web_users SET password_hash = ? WHERE user_id = ?",
            (self._hash(password), user_id),
        )

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the name and password match an enabled account."""
        rows = self.access.query(
            "SELECT user_id, username, role, password_hash, disabled FROM web_users "
            "WHERE username = ?",
            (username.strip(),),
        )
        if not rows:
            self._verify(_dummy_hash(), password)  # same time whether or not the user exists
            return None
        user_id, name, role, stored, disabled = rows[0]
        if not self._verify(stored, password) or disabled:
            return None
        return User(user_id, name, Role(role))

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
        rows = self.access.query(
            "SELECT u.user_id, u.username, u.role, s.csrf_token FROM web_sessions s "
            "JOIN web_users u ON u.user_id = s.user_id "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND NOT u.disabled",
            (token_digest(self.secret, token), now()),
        )
        if not rows:
            return None
        user_id, name, role, csrf = rows[0]
        return Session(User(user_id, name, Role(role)), csrf)

    def end_session(self, token: str) -> None:
        self.access.query(
            "DELETE FROM web_sessions WHERE token_hash = ?", (token_digest(self.secret, token),)
        )

    # -- API tokens ---------------------------------------------------------------
    def create_api_token(self, user: User, label: str) -> str:
        """A bearer token for scripts acting as `user` (returned once, stored hashed)."""
        token = "crmroi_" + secrets.token_urlsafe(32)
        self.access.query(
            "INSERT INTO web_api_tokens VALUES (?, ?, ?, ?)",
            (token_digest(self.secret, token), user.user_id, label.strip()[:100] or "token", now()),
        )
        return token

    def api_token_user(self, token: str) -> User | None:
        rows = self.access.query(
            "SELECT u.user_id, u.username, u.role FROM web_api_tokens t "
            "JOIN web_users u ON u.user_id = t.user_id "
            "WHERE t.token_hash = ? AND NOT u.disabled",
            (token_digest(self.secret, token),),
        )
        return User(rows[0][0], rows[0][1], Role(rows[0][2])) if rows else None

    # -- login rate limit ---------------------------------------------------------
    def recent_failures(self, username: str, ip: str, window: timedelta) -> tuple[int, int]:
        """Failed logins within `window`: (for this user name, from this address)."""
        since = now() - window
        rows = self.access.query(
            "SELECT "
            "coalesce(sum(CASE WHEN username = ? THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN ip = ? THEN 1 ELSE 0 END), 0) "
            "FROM web_login_failures WHERE failed_at > ?",
            (username.strip().lower(), ip, since),
        )
        return int(rows[0][0]), int(rows[0][1])

    def record_failure(self, username: str, ip: str) -> None:
        with self.access.transaction() as tx:
            tx.execute(
                sql(tx, "DELETE FROM web_login_failures WHERE failed_at < ?"),
                (now() - timedelta(days=1),),
            )
            tx.execute(
                sql(tx, "INSERT INTO web_login_failures VALUES (?, ?, ?)"),
                (username.strip().lower(), ip, now()),
            )

    def clear_failures(self, username: str) -> None:
        self.access.query(
            "DELETE FROM web_login_failures WHERE username = ?", (username.strip().lower(),)
        )


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
