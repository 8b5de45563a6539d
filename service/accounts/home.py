"""Where each role lands and what its frame links to: the province on the overview (acceptance
plan, audit log, accounts and settings one click away), an inspector on their counties, a bureau
on its county's page."""

from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException

from service.accounts import roles as R


def home_path(p: R.Principal) -> str:
    if p.role == R.SCHOOL_CLERK:
        return "/school"
    if p.role == R.BUREAU_ADMIN and len(p.counties) == 1:
        return "/inspector/counties/" + quote(next(iter(p.counties)))
    if p.is_province:
        return "/inspector/overview"
    return "/inspector"


def nav_links(p: R.Principal) -> list[tuple[str, str]]:
    """(label, path) of the frame's links, in reading order."""
    if p.is_province:
        return [("全省概览", "/inspector/overview"), ("历次调查", "/inspector/trends"), ("验收计划", "/inspector/acceptance"),
                ("全部县", "/inspector"), ("调查列表", "/bureau"), ("审计日志", "/trust/audit"),
                ("账号管理", "/inspector/accounts"), ("系统设置", "/inspector/settings"),
                ("指标表模板", "/inspector/template.xlsx")]
    if p.role == R.INSPECTOR:
        return [("我的县", "/inspector"), ("全省概览", "/inspector/overview"), ("历次调查", "/inspector/trends"),
                ("验收计划", "/inspector/acceptance"), ("指标表模板", "/inspector/template.xlsx")]
    if p.role == R.SCHOOL_CLERK:
        return [("本校填报", "/school")]
    return [("本县", home_path(p)), ("调查列表", "/bureau"), ("指标表模板", "/inspector/template.xlsx")]


def frame(ctx: dict) -> dict:
    """Template callable of the staff frame: the signed-in principal and its links (none on the
    login page). Reads the principal once per request (``principal_of`` caches it)."""
    request = ctx.get("request")
    if request is None or "session" not in request.scope:
        return {"me": None, "links": []}
    try:
        p = R.principal_of(request)
    except NotAuthorizedException:
        return {"me": None, "links": []}
    return {"me": p, "links": nav_links(p)}


def principal_or_none(connection: ASGIConnection) -> R.Principal | None:
    try:
        return R.principal_of(connection)
    except NotAuthorizedException:
        return None
