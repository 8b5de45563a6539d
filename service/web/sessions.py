"""Server-side sessions (kept in the shared ``SQLStore``) whose ID is replaced at login.

Litestar keeps the ID a browser already holds; an ID planted before login (session
fixation) would then become a logged-in session its planter knows. ``renew_id(request)``
marks the response: it gets a fresh ID, and the data stored under the old one is deleted.
"""

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Message, ScopeSession

_RENEW = "renke.session_renew"
_NEW_ID = "renke.session_new_id"


def renew_id(request: Request) -> None:
    request.scope[_RENEW] = True  # type: ignore[literal-required]


class RenewingBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        scope: Any = connection.scope
        if not scope.get(_RENEW):
            return super().get_session_id(connection)
        if not scope.get(_NEW_ID):
            scope[_NEW_ID] = self.generate_session_id()
        return scope[_NEW_ID]

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection) -> None:
        old = connection.cookies.get(self.config.key)
        if connection.scope.get(_RENEW) and old and old != "null":
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RenewingSessionConfig(ServerSideSessionConfig):
    _backend_class = RenewingBackend
