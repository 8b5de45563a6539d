"""The settings: every environment variable the service reads (DATABASE_URL, RENKE_SECRET, HOST,
PORT, WEB_CONCURRENCY, RENKE_*), read once into one object that command-line options override.
The app hands it, its profile and its clock to the handlers as dependencies
(``web/dependencies.py``); a test builds one with its own values (a clock it moves)."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB_PATH = Path("var") / "renke.db"


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_DB_PATH}"


def normalise_database_url(url: str) -> str:
    """Plain postgres URLs use psycopg 3 (the driver installed)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL") or default_database_url())
    # The secret signs form tokens and keys device hashes; set RENKE_SECRET in
    # production (several instances must share it).
    secret: str = field(default_factory=lambda: os.environ.get("RENKE_SECRET") or "")
    # RENKE_SECRET_IN_DB=1: without RENKE_SECRET, keep a generated secret in the database (a
    # backup then lets its reader forge form and CSRF tokens); production refuses to start
    # without one of the two (``python -m service``).
    secret_in_db: bool = field(default_factory=lambda: os.environ.get("RENKE_SECRET_IN_DB", "") == "1")
    host: str = field(default_factory=lambda: os.environ.get("HOST") or "127.0.0.1")
    port: int = field(default_factory=lambda: int(os.environ.get("PORT", "8000")))
    # Worker processes of ``python -m service`` (WEB_CONCURRENCY, uvicorn's name for it).
    workers: int = field(default_factory=lambda: int(os.environ.get("WEB_CONCURRENCY", "1")))
    # Absolute base for QR links (e.g. https://renke.example.cn); default: the request's.
    public_url: str | None = field(default_factory=lambda: os.environ.get("RENKE_PUBLIC_URL") or None)
    # The scoring profile, a value loaded once here (RENKE_PROFILE: a bundled name or a file) and
    # handed to whoever needs it: nothing reloads it by name.
    profile: Any = field(default_factory=lambda: os.environ.get("RENKE_PROFILE") or None)
    debug: bool = False
    # RENKE_SECURE_COOKIES=1: served over HTTPS (cookies marked Secure, HSTS sent).
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("RENKE_SECURE_COOKIES", "") == "1")
    # Addresses of the proxies whose X-Forwarded-For is believed (RENKE_TRUSTED_PROXIES, comma
    # separated IPs or networks; none by default: the client address is the TCP peer's).
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("RENKE_TRUSTED_PROXIES", "").strip())
    # A staff session ends after this long unused, and this long after its login whatever happens.
    session_idle_s: int = field(default_factory=lambda: int(os.environ.get("RENKE_SESSION_IDLE_S", "7200")))
    session_max_s: int = field(default_factory=lambda: int(os.environ.get("RENKE_SESSION_MAX_S", "43200")))
    # OpenAPI description of every route at /schema/openapi.json, staff only (RENKE_OPENAPI=1).
    openapi: bool = field(default_factory=lambda: os.environ.get("RENKE_OPENAPI", "") == "1")
    # A loaded phone form is accepted this long (RENKE_FORM_TOKEN_MAX_AGE_S, default 12 h): an
    # older one is refused, so that holding a form open cannot make any answer look slow.
    form_token_max_age_s: float = field(
        default_factory=lambda: float(os.environ.get("RENKE_FORM_TOKEN_MAX_AGE_S") or 12 * 3600))
    # The phone path's per-process cache period (RENKE_CACHE_SECONDS, 0 turns it off) and device
    # limits (answers/rate_limit.py: RENKE_DEVICE_LIMIT a minute per phone and campaign,
    # RENKE_NEW_DEVICE_LIMIT new devices a minute per link before answers are flagged).
    cache_seconds: float = field(default_factory=lambda: float(os.environ.get("RENKE_CACHE_SECONDS", "2")))
    device_limit: int = field(default_factory=lambda: int(os.environ.get("RENKE_DEVICE_LIMIT", "30")))
    new_device_limit: int = field(default_factory=lambda: int(os.environ.get("RENKE_NEW_DEVICE_LIMIT", "120")))
    # The app's one clock (seconds since the epoch): every handler's "now" (``now``), the
    # sessions' ages and, with the database's offset, the phone form's stamps (``DatabaseClock``).
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        from scoring.profile import load_profile

        self.database_url = normalise_database_url(self.database_url)
        self.profile = load_profile(self.profile)
        # An empty secret is replaced at start-up by one generated once and kept
        # in the database (app_meta), so restarts and instances agree.
