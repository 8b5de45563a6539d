"""Every error as a short Chinese page (never a stack trace), and ``GoTo``: a guard's redirect."""

import logging

from litestar import Request
from litestar.exceptions import HTTPException, InternalServerException
from litestar.response import Redirect, Template
from sqlalchemy.exc import DataError

ERROR_PAGES = {
    400: ("请求有误", "请返回上一页重新操作。"),
    403: ("页面已过期", "页面已过期或无权访问，请刷新页面后重试。"),
    404: ("页面不存在", "没有找到您要访问的页面，请检查网址。"),
    405: ("操作不支持", "请返回上一页重新操作。"),
    413: ("提交的内容过多", "提交的内容超过了允许的大小，请返回上一页检查后再提交。"),
    429: ("操作太频繁", "请稍等一分钟后再试。"),
}


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
    """5xx are logged; the page never shows the exception. A dropped connection is no server
    error: one line, no traceback (anyone can drop connections, and would flood the log)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if isinstance(exc, (OverflowError, DataError)):
        status = 404    # an id beyond the database's integer range (a forged URL): nothing there
    if _client_gone(exc):
        logging.getLogger("service").info("client disconnected before its request was read: %s %s",
                                          request.method, request.url.path)
        status, title, message = 400, *ERROR_PAGES[400]
    elif status >= 500:
        logging.getLogger("service").exception("unhandled error on %s %s", request.method, request.url.path,
                                               exc_info=exc)
        title, message = "服务器暂时出错", "请稍后再试。您填写的答案如已显示“提交成功”则已保存。"
    else:
        title, message = ERROR_PAGES.get(status, ("出错了", "请返回上一页重新操作。"))
    headers = getattr(exc, "headers", None) or {}
    return Template(template_name="respondent/message.html", status_code=status, headers=headers,
                    context={"title": title, "message": message, "campaign": None})
