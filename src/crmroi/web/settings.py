"""The web app's settings: one pydantic-settings class, read from `CRMROI_*` variables.

Outside development the app refuses to start with the default secret: sessions and
CSRF tokens would then be forgeable by anyone who has read this file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-development-only"


class WebSettings(BaseSettings):
    """Everything `crmroi serve` and the app factory need; one source of truth."""

    model_config = SettingsConfigDict(env_prefix="CRMROI_", extra="ignore")

    workspace: str = Field(description="Workspace folder (DuckDB) or postgresql:// URL.")
    environment: Literal["development", "production"] = "production"
    secret_key: str = Field(default=DEFAULT_SECRET, description="Signs nothing users can forge.")
    admin_password: str | None = Field(
        default=None, description="Password of the first admin; printed once when unset."
    )
    cookie_secure: bool = Field(
        default=True, description="Send cookies over HTTPS only (browsers allow localhost)."
    )
    session_hours: float = Field(default=12.0, gt=0, description="Session lifetime, hours.")
    api_token_days: float = Field(default=90.0, gt=0, description="API token lifetime, days.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Per upload.")
    max_request_bytes: int = Field(
        default=2 * 1024 * 1024,
        gt=0,
        description="Body of any request that is not a file upload (JSON, YAML, forms), bytes.",
    )
    max_concurrent_hashes: int = Field(
        default=2,
        gt=0,
        description="Password hashes computed at once (argon2id takes 64 MiB and a core each); "
        "a login that waits more than `hash_wait_seconds` for one is answered 429.",
    )
    hash_wait_seconds: float = Field(default=5.0, gt=0)
    workers: int = Field(
        default=2,
        gt=0,
        description="Slow requests (reading and checking an upload, evaluating a case) "
        "run at once, each in a thread of their own (and a worker process, see "
        "`worker_kind`), without the workspace lock.",
    )
    worker_kind: Literal["process", "thread"] = Field(
        default="process",
        description="Where the CPU-heavy part of slow requests (parsing and mapping files, "
        "a case's simulation) runs: in `workers` worker processes, so the server keeps "
        "answering other requests within milliseconds, or (`thread`, where processes cannot "
        "be started) in the request's worker thread, which competes for the interpreter lock.",
    )
    worker_queue: int = Field(
        default=16,
        ge=0,
        description="Slow requests waiting for a worker; one more is answered 503 with "
        "Retry-After instead of piling up memory.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; none by default (the client address is the peer's).",
    )
    login_failures_per_pair: int = Field(
        default=3,
        ge=0,
        description="Failed logins of one user name from one address within the window before "
        "each further failure doubles the wait (1 s, 2 s, 4 s, ... up to the maximum).",
    )
    login_failures_per_user: int = Field(
        default=10, ge=0, description="The same, for one user name from any address."
    )
    login_failures_per_ip: int = Field(
        default=30, ge=0, description="The same, for one address and any user name."
    )
    login_max_delay_seconds: int = Field(default=15 * 60, gt=0)
    login_user_max_delay_seconds: int = Field(
        default=60,
        gt=0,
        description="Cap of the wait imposed on a user name by failures from anywhere: "
        "nobody can lock an account for longer (there is no hard lockout).",
    )
    login_window_seconds: int = Field(
        default=15 * 60, gt=0, description="Failed logins older than this are forgotten."
    )
    default_language: Literal["en", "ru", "bg", "fa", "zh"] = Field(
        default="en",
        description="Language of pages for users who chose none and whose browser asks for "
        "none of en, ru, bg, fa, zh.",
    )
    simulation_runs: int = Field(default=2_000, ge=0, description="Monte Carlo runs shown.")
    bootstrap: int = Field(default=200, ge=0, description="KPI interval replicates.")
    warm_cache: bool = Field(
        default=True,
        description="Compute the default dashboard in the background at start and after "
        "every import or undo, so the first visitor does not wait.",
    )
    warm_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the warm-up looks for new data."
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> WebSettings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "CRMROI_SECRET_KEY is the development default; set a long random secret "
                "(for example `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                "or run with CRMROI_ENVIRONMENT=development"
            )
        if self.environment != "development" and len(self.secret_key) < 16:
            raise ValueError("CRMROI_SECRET_KEY must be at least 16 characters")
        return self
