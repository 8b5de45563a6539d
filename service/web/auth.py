"""Login guards: a staff page needs a signed-in session; anonymous visitors go to the login page."""

from urllib.parse import quote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Response

SESSION_KEY = "account_id"
PASSWORD_STAMP = "pw"       # the session's security.password_stamp


def login_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if "session" not in connection.scope or not connection.session.get(SESSION_KEY):
        raise NotAuthorizedException("login required")


def to_login(request: Request, _: Exception) -> Response:
    return Redirect(path="/login?next=" + quote(request.url.path), status_code=303)
