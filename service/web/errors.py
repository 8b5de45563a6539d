"""Every error as a short Chinese page (never a stack trace), and ``GoTo``: a guard's redirect.

``last_resort`` wraps the whole app: an exception that escapes Litestar's own handlers (one
raised while a response is being sent, e.g. a session that cannot be stored, which Litestar
reports as "caught after response started") still ends in the Chinese error page, never the
server's bare English "Internal Server Error"; a response whose bytes had already gone out
is ended where it stands."""

import logging

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.exceptions import HTTPException, InternalServerException
from litestar.response import Redirect, Template
from sqlalchemy.exc import DataError, OperationalError

from service.web.uploads import too_large_message

ERROR_PAGES = {
    400: ("请求有误", "请返回上一页重新操作。"),
    403: ("页面已过期", "页面已过期或无权访问，请刷新页面后重试。"),
    404: ("页面不存在", "没有找到您要访问的页面，请检查网址。"),
    405: ("操作不支持", "请返回上一页重新操作。"),
    413: ("提交的内容过多", "提交的内容超过了允许的大小，请返回上一页检查后再提交。"),
    429: ("操作太频繁", "请稍等一分钟后再试。"),
}
SERVER_ERROR = ("服务器暂时出错", "请稍后再试。您填写的答案如已显示“提交成功”则已保存。")
# The database cannot be reached or written (down, disk full, locked too long): try again soon.
UNAVAILABLE = ("服务器暂时繁忙", "数据库暂时无法使用，请稍后再试。您填写的答案如已显示“提交成功”则已保存。")
RETRY_AFTER_S = 10
log = logging.getLogger("service")


class GoTo(Exception):
    """Raised by a guard to send the browser elsewhere (a 303)."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(path)


def go_to(_request: Request, exc: GoTo) -> Redirect:
    return Redirect(path=exc.path, status_code=303)


# What Litestar raises (a 500) when the client goes away before its request body is read.
CLIENT_GONE = "client disconnected prematurely"


def _client_gone(exc: Exception) -> bool:
    return isinstance(exc, InternalServerException) and exc.detail == CLIENT_GONE


def error_page(request: Request, exc: Exception) -> Template:
    """5xx are logged; the page never shows the exception. A database that cannot be used
    (or an answer's store that timed out) is a 503 with ``Retry-After``: the phone form's
    script resends the answer then. A dropped connection is no server error: one line, no
    traceback (anyone can drop connections, and would flood the log)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(getattr(exc, "headers", None) or {})
    if isinstance(exc, (OverflowError, DataError)):
        status = 404    # an id beyond the database's integer range (a forged URL): nothing there
    elif isinstance(exc, (OperationalError, TimeoutError)):
        status = 503
        headers["Retry-After"] = str(RETRY_AFTER_S)
    if _client_gone(exc):
        log.info("client disconnected before its request was read: %s %s", request.method, request.url.path)
        status, (title, message) = 400, ERROR_PAGES[400]
    elif status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        title, message = UNAVAILABLE if status == 503 else SERVER_ERROR
    elif status == 413 and request.url.path.startswith("/s/"):
        title, message = ERROR_PAGES[413]     # a phone form's post, not a file
    elif status == 413:
        title, message = "文件过大", too_large_message(request)
    else:
        title, message = ERROR_PAGES.get(status, ("出错了", "请返回上一页重新操作。"))
    return Template(template_name="respondent/message.html", status_code=status, headers=headers,
                    context={"title": title, "message": message, "campaign": None})


def last_resort(app: ASGIApp, page: bytes) -> ASGIApp:
    """``app`` answering ``page`` (the rendered Chinese 500 page) for any exception that
    escapes it before its response began."""
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode())]

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = ended = False

        async def tracking(message: Message) -> None:
            nonlocal started, ended
            await send(message)
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
        try:
            await app(scope, receive, tracking)
        except Exception:  # noqa: BLE001 - whatever it was, the person gets the Chinese page
            log.exception("error while answering %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": list(headers)})
                await send({"type": "http.response.body", "body": page, "more_body": False})
            elif not ended:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
    return guarded
