"""Server-side staff sessions (kept in the shared ``SQLStore``), made at login only.

- **Only at login.** Litestar stores a session for every response, an empty one for each
  cookie-less anonymous request; here an empty session stores nothing (and a stale cookie
  is cleared), so only ``begin`` (a login) writes a session row.
- **A new ID at login.** Litestar keeps the ID a browser already holds; an ID planted
  before login (session fixation) would then become a logged-in session its planter knows.
  ``begin`` marks the response: it gets a fresh ID, and the data under the old one is deleted.
- **Two lifetimes.** The idle one is the store's expiry (``max_age``, renewed by every
  response); the absolute one (``max_lifetime``) counts from the login, checked when loaded.
- **Kept under a hash of the ID.** A copy of the database (a backup) holds no cookie that
  would sign anyone in.
- **CSRF bound to the session.** ``begin`` issues a fresh Litestar CSRF token (its cookie
  replaces the one held before login) and keeps it in the session; ``csrf_bound`` refuses an
  unsafe request of a signed-in session whose CSRF cookie is not that one. Litestar's own
  middleware has checked the form's token against the cookie before.
"""

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
LOGIN_AT, CSRF = "login_at", "csrf"


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
        data = await super().load_from_connection(connection)
        if data and self.config.clock() - float(data.get(LOGIN_AT) or 0) > self.config.max_lifetime:
            return {}           # past its absolute lifetime: the response deletes it
        return data

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
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
        if connection.scope.get(_RENEW) and held:
            await self.delete(old, store=store)
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RenewingSessionConfig(ServerSideSessionConfig):
    _backend_class = RenewingBackend
    max_lifetime: int = 12 * 3600
    clock: Callable[[], float] = field(default=time.time)
