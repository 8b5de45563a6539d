"""Server-side staff sessions (kept in the shared ``SQLStore``), made at login only.

- **Only at login.** Litestar stores a session for every response, an empty one for each
  cookie-less anonymous request; here an empty session stores nothing (and a stale cookie
  is cleared), so only ``begin`` (a login) writes a session row.
- **A new ID at login.** Litestar keeps the ID a browser already holds; an ID planted
  before login (session fixation) would then become a logged-in session its planter knows.
  ``begin`` marks the response: it gets a fresh ID, and the data under the old one is deleted.
- **Two lifetimes.** The idle one is the store's expiry (``max_age``); the absolute one
  (``max_lifetime``) counts from the login, checked when loaded.
- **Written when changed, touched once a minute.** A response whose session is as loaded
  writes nothing; once ``TOUCH_EVERY_S`` has passed since the last write it renews the idle
  expiry with a compare-and-set (a logout or change made meanwhile wins), waiting at most
  ``TOUCH_WAIT_S``: a page that only reads renders while the database cannot be written
  (disk full, a long lock), its session merely not renewed this time.
- **A failed write is not tried again** for the error page that reports it.
- **Kept under a hash of the ID.** A copy of the database (a backup) holds no cookie that
  would sign anyone in.
- **CSRF bound to the session.** ``begin`` issues a fresh Litestar CSRF token (its cookie
  replaces the one held before login) and keeps it in the session; ``csrf_bound`` refuses an
  unsafe request of a signed-in session whose CSRF cookie is not that one. Litestar's own
  middleware has checked the form's token against the cookie before.
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import generate_csrf_token
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.response import Response
from litestar.types import Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

_RENEW = "renke.session_renew"
_NEW_ID = "renke.session_new_id"
_LOADED = "renke.session_loaded"          # the stored bytes as loaded by this request
_FAILED = "renke.session_store_failed"
LOGIN_AT, CSRF, SEEN = "login_at", "csrf", "seen"
TOUCH_EVERY_S = 60
TOUCH_WAIT_S = 1.0
log = logging.getLogger("service.sessions")
_touching: set[str] = set()               # stored keys with a renewal under way in this process


def renew_id(request: Request) -> None:
    request.scope[_RENEW] = True  # type: ignore[literal-required]


def begin(request: Request, data: dict[str, Any], response: Response) -> Response:
    """Sign the browser in: a session under a new ID holding ``data``, its login time and a
    new CSRF token, whose cookie ``response`` sets."""
    csrf = request.app.csrf_config
    token = generate_csrf_token(secret=csrf.secret)
    request.clear_session()
    renew_id(request)
    request.set_session({**data, LOGIN_AT: request.app.state.settings.clock(), CSRF: token})
    response.set_cookie(Cookie(key=csrf.cookie_name, value=token, path=csrf.cookie_path, domain=csrf.cookie_domain,
                               secure=csrf.cookie_secure, httponly=csrf.cookie_httponly,
                               samesite=csrf.cookie_samesite))
    return response


async def csrf_bound(request: Request) -> None:
    """App-wide ``before_request``: a signed-in session's unsafe requests carry its own CSRF cookie."""
    session = request.scope.get("session")
    if request.method in request.app.csrf_config.safe_methods or not session:
        return
    cookie = request.cookies.get(request.app.csrf_config.cookie_name) or ""
    if not secrets.compare_digest(cookie, str(session.get(CSRF) or "")):
        raise PermissionDeniedException("CSRF token not of this session")


def _stored_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class RenewingBackend(ServerSideSessionBackend):
    config: "RenewingSessionConfig"

    async def get(self, session_id: str, store: Any) -> bytes | None:
        return await super().get(_stored_key(session_id), store)

    async def set(self, session_id: str, data: bytes, store: Any) -> None:
        await super().set(_stored_key(session_id), data, store)

    async def delete(self, session_id: str, store: Any) -> None:
        await super().delete(_stored_key(session_id), store)

    def get_session_id(self, connection: ASGIConnection) -> str:
        scope: Any = connection.scope
        if not scope.get(_RENEW):
            return super().get_session_id(connection)
        if not scope.get(_NEW_ID):
            scope[_NEW_ID] = self.generate_session_id()
        return scope[_NEW_ID]

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key)
        if not session_id:
            return {}
        raw = await self.get(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
        if raw is None:
            return {}
        data = self.deserialize_data(raw)
        if self.config.clock() - float(data.get(LOGIN_AT) or 0) > self.config.max_lifetime:
            return {}           # past its absolute lifetime: the response deletes it
        connection.scope[_LOADED] = raw  # type: ignore[literal-required]
        return data

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection) -> None:
        scope: Any = connection.scope
        if scope.get(_FAILED):  # the error page of a failed write: do not wait on the store again
            return
        try:
            await self._store_in_message(scope_session, message, connection)
        except Exception:
            scope[_FAILED] = True
            raise

    async def _store_in_message(self, scope_session: ScopeSession, message: Message,
                                connection: ASGIConnection) -> None:
        old = connection.cookies.get(self.config.key)
        held = bool(old) and old != "null"
        store = self.config.get_store_from_app(connection.scope["app"])
        if not scope_session:   # anonymous, logged out or expired: nothing to keep
            if held:
                await self.delete(old, store=store)
                params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
                MutableScopeHeaders.from_message(message).add(
                    "Set-Cookie", Cookie(value="null", key=self.config.key, expires=0, **params).to_header(header=""))
            return
        now = self.config.clock()
        loaded = connection.scope.get(_LOADED)  # type: ignore[call-overload]
        if loaded is not None and held and not connection.scope.get(_RENEW) and isinstance(scope_session, dict):
            if self.serialize_data(scope_session, connection.scope) == loaded:
                if now - float(scope_session.get(SEEN) or 0) >= TOUCH_EVERY_S:
                    await self._touch(store, _stored_key(old), loaded, {**scope_session, SEEN: now})
                self._set_cookie(old, message)
                return
        if connection.scope.get(_RENEW) and held:
            await self.delete(old, store=store)
        if isinstance(scope_session, dict):   # else Empty: cleared, super() deletes it
            scope_session[SEEN] = now
        await super().store_in_message(scope_session, message, connection)

    def _set_cookie(self, session_id: str, message: Message) -> None:
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **params).to_header(header=""))

    async def _touch(self, store: Any, key: str, loaded: bytes, data: dict[str, Any]) -> None:
        """Renew an unchanged session's idle expiry; a failure or a wait beyond TOUCH_WAIT_S
        leaves it as it was (the write goes on in its thread; one per session at a time)."""
        if key in _touching:
            return
        _touching.add(key)

        def touch() -> None:
            try:
                store.replace(key, loaded, self.serialize_data(data), self.config.max_age)
            except Exception as exc:  # noqa: BLE001 - a renewal may fail; the page must not
                log.warning("session not renewed: %s", exc)
            finally:
                _touching.discard(key)
        with anyio.move_on_after(TOUCH_WAIT_S):
            await anyio.to_thread.run_sync(touch, abandon_on_cancel=True)


@dataclass
class RenewingSessionConfig(ServerSideSessionConfig):
    _backend_class = RenewingBackend
    max_lifetime: int = 12 * 3600
    clock: Callable[[], float] = field(default=time.time)
