"""create_app(settings) -> Litestar."""

import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar, Request, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.response import Response as ASGIResponse
from litestar.template.config import TemplateConfig
from sqlalchemy.exc import DataError
from sqlmodel import Session

from scoring.profile import load_profile
from survey_templates import load_templates

from .bureau.routes import bureau_router, login_handlers, login_required, to_login
from .db import app_secret, make_engine, migrate
from .inspector.routes import inspector_router
from .respondent.routes import RespondentController
from .roles import GoTo, go_to
from .security import FormSigner
from .sessions import RenewingSessionConfig
from .settings import Settings
from .stores import SQLStore
from .trust.routes import trust_router

HERE = Path(__file__).parent
RESPONDENT_PREFIX = "^/s/"


async def provide_db(state: State) -> AsyncIterator[Session]:
    """One ORM session per request. An *async* generator on purpose: Litestar runs the
    clean-up of a sync generator in a worker thread, and when every worker waits for a
    pooled connection the clean-ups that would return them can never run (deadlock)."""
    session = Session(state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Redirect:
    return Redirect(path="/bureau", status_code=303)


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict:
    return {"ok": True}


ERROR_PAGES = {
    400: ("请求有误", "请返回上一页重新操作。"),
    403: ("页面已过期", "页面已过期或无权访问，请刷新页面后重试。"),
    404: ("页面不存在", "没有找到您要访问的页面，请检查网址。"),
    405: ("操作不支持", "请返回上一页重新操作。"),
    429: ("操作太频繁", "请稍等一分钟后再试。"),
}


SECURITY_HEADERS = {
    # Everything is served by this host: no other host is ever contacted (WeChat's browser too).
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def security_headers(response: ASGIResponse) -> ASGIResponse:
    # async on purpose: a sync hook runs in the 6-thread executor after the handler, while
    # the request still holds its pooled DB connection -> pool deadlock under load.
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def error_page(request: Request, exc: Exception) -> Template:
    """Every error as a short Chinese page (never a stack trace); 5xx are logged."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if isinstance(exc, (OverflowError, DataError)):
        status = 404    # an id beyond the database's integer range (a forged URL): nothing there
    if status >= 500:
        logging.getLogger("service").exception("unhandled error on %s %s", request.method, request.url.path,
                                               exc_info=exc)
        title, message = "服务器暂时出错", "请稍后再试。您填写的答案如已显示“提交成功”则已保存。"
    else:
        title, message = ERROR_PAGES.get(status, ("出错了", "请返回上一页重新操作。"))
    headers = getattr(exc, "headers", None) or {}
    return Template(template_name="respondent/message.html", status_code=status, headers=headers,
                    context={"title": title, "message": message, "campaign": None})


def _no_reload(settings: Settings):
    def configure(engine: JinjaTemplateEngine) -> None:
        # Templates ship with the code: checking every file's mtime on each render costs
        # the phone form's hot path a stat() per template; reload only in debug.
        engine.engine.auto_reload = settings.debug
    return configure


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    templates = load_templates()                  # a broken template stops start-up here
    profile = load_profile(settings.profile)
    engine = make_engine(settings.database_url)
    migrate(engine)
    if not settings.secret:
        settings.secret = app_secret(engine)

    def hashed_client(request: Request) -> str:
        # Rate-limit key without storing the raw IP.
        ip = request.client.host if request.client else "?"
        return hashlib.sha256(f"{settings.secret}:{ip}".encode()).hexdigest()[:32]

    async def throttle_login(request: Request) -> bool:   # async: no executor hop on every request
        return request.method == "POST" and request.url.path == "/login"

    stores = {"sessions": SQLStore(engine, "sessions"), "rate_limit": SQLStore(engine, "rate_limit")}
    session_config = RenewingSessionConfig(store="sessions", max_age=8 * 3600, httponly=True, samesite="lax",
                                             secure=settings.secure_cookies, exclude=[RESPONDENT_PREFIX, "^/healthz"])
    csrf_config = CSRFConfig(secret=settings.secret, exclude=[RESPONDENT_PREFIX], cookie_httponly=True,
                             cookie_secure=settings.secure_cookies, cookie_samesite="lax")
    rate_limit = RateLimitConfig(rate_limit=("minute", 20), store="rate_limit",
                                 identifier_for_request=hashed_client, check_throttle_handler=throttle_login)

    def on_startup(app: Litestar) -> None:
        stores["sessions"].purge_expired()

    return Litestar(
        route_handlers=[index, healthz, RespondentController, bureau_router, inspector_router, trust_router, *login_handlers],
        dependencies={"db": Provide(provide_db)},
        template_config=TemplateConfig(directory=[HERE / "respondent" / "templates", HERE / "bureau" / "templates",
                                                  HERE / "inspector" / "templates", HERE / "trust" / "templates"],
                                       engine=JinjaTemplateEngine, engine_callback=_no_reload(settings)),
        middleware=[session_config.middleware, rate_limit.middleware],
        csrf_config=csrf_config,
        compression_config=CompressionConfig(backend="gzip", minimum_size=512, gzip_compress_level=6),
        stores=stores,
        state=State({"settings": settings, "engine": engine, "templates": templates, "profile": profile,
                     "signer": FormSigner(settings.secret)}),
        on_startup=[on_startup],
        exception_handlers={HTTPException: error_page, Exception: error_page, GoTo: go_to},
        after_request=security_headers,
        debug=settings.debug,
        # RENKE_OPENAPI=1: the routes' description as JSON at /schema/openapi.json, for logged-in
        # staff only (no UI: it would load scripts from a CDN); tests/system/test_schemathesis.py
        # fuzzes every route with it.
        openapi_config=OpenAPIConfig(title="Renke", version="0.1.0", render_plugins=[JsonRenderPlugin()],
                                     openapi_router=Router(path="/schema", route_handlers=[], guards=[login_required],
                                                           exception_handlers={NotAuthorizedException: to_login}))
        if settings.openapi else None,
    )
