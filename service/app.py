"""create_app(settings) -> Litestar: the domains' routes under their audiences' prefixes.

Audiences are router prefixes, domains are folders: ``/s`` the phone form (answers),
``/bureau`` campaigns, ``/inspector`` a county's records, verdicts, roadmap and accounts,
``/trust`` the audit log, integrity signals and comments.
"""

import hashlib
from pathlib import Path

from litestar import Litestar, Request, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.template.config import TemplateConfig

from survey_templates import load_templates

from .accounts import routes as accounts
from .accounts.home import frame, home_path, principal_or_none
from .accounts.roles import bureau_scope, logged_in, provide_principal
from .answers.page_cache import cache_of
from .answers.rate_limit import DeviceLimits
from .answers.routes import RespondentController
from .campaigns import routes as campaigns
from .collection import routes as collection
from .db.engine import app_secret, make_engine, migrate
from .roadmap import routes as roadmap
from .web.settings import Settings
from .trust import routes as trust
from .verdicts import county_routes
from .verdicts import routes as verdicts
from .web.auth import to_login
from .web.clock import DatabaseClock
from .web.dependencies import provide_campaign, provide_db, provide_now, provide_profile, provide_settings
from .web.errors import SERVER_ERROR, GoTo, error_page, go_to, last_resort
from .web.headers import content_security_policy, security_headers
from .web.security import FormSigner
from .web.sessions import RenewingSessionConfig, csrf_bound
from .web.stores import SQLStore
from .workbooks import routes as workbooks

HERE = Path(__file__).parent
TEMPLATE_DIRS = [HERE / d / "templates" for d in ("web", "answers", "accounts", "campaigns", "workbooks",
                                                  "verdicts", "trust", "roadmap", "collection")]
RESPONDENT_PREFIX = "^/s/"


@get("/", include_in_schema=False, sync_to_thread=True)
def index(request: Request) -> Redirect:
    """Each role's home (``accounts/home.py``); the login page for a visitor."""
    p = principal_or_none(request)
    return Redirect(path=home_path(p) if p else "/login", status_code=303)


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict:
    return {"ok": True}


def _no_reload(settings: Settings):
    def configure(engine: JinjaTemplateEngine) -> None:
        # Templates ship with the code: checking every file's mtime on each render costs
        # the phone form's hot path a stat() per template; reload only in debug.
        engine.engine.auto_reload = settings.debug
        engine.register_template_callable("staff_frame", frame)
    return configure


def _routers(in_schema: bool) -> list:
    # Staff routes appear in the OpenAPI description only when it is asked for (RENKE_OPENAPI).
    staff = {"exception_handlers": {NotAuthorizedException: to_login}, "include_in_schema": in_schema}
    return [
        RespondentController,
        Router(path="/bureau", guards=[logged_in, bureau_scope], route_handlers=campaigns.BUREAU_ROUTES, **staff),
        Router(path="/inspector", guards=[logged_in], route_handlers=[
            *county_routes.COUNTY_ROUTES, *workbooks.INSPECTOR_ROUTES, *verdicts.INSPECTOR_ROUTES, *accounts.INSPECTOR_ROUTES,
            *roadmap.INSPECTOR_ROUTES, *collection.BUREAU_ROUTES,
            *collection.EVIDENCE_ROUTES], **staff),
        Router(path="/school", guards=[logged_in], route_handlers=collection.SCHOOL_ROUTES, **staff),
        Router(path="/trust", guards=[logged_in], route_handlers=trust.TRUST_ROUTES, **staff),
        *accounts.LOGIN_ROUTES,
    ]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    templates = load_templates()                  # a broken template stops start-up here
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

    cache_of(engine, settings.cache_seconds)
    # The rate-limit store stays on the wall clock: Litestar's middleware dates its windows by it.
    stores = {"sessions": SQLStore(engine, "sessions", settings.clock), "rate_limit": SQLStore(engine, "rate_limit")}
    session_config = RenewingSessionConfig(store="sessions", max_age=settings.session_idle_s,
                                           max_lifetime=settings.session_max_s, clock=settings.clock, httponly=True,
                                           samesite="lax", secure=settings.secure_cookies,
                                           exclude=[RESPONDENT_PREFIX, "^/healthz"])
    csrf_config = CSRFConfig(secret=settings.secret, exclude=[RESPONDENT_PREFIX], cookie_httponly=True,
                             cookie_secure=settings.secure_cookies, cookie_samesite="lax")
    # Throttles the login only; the phone form is limited per device (DeviceLimits), never per IP.
    rate_limit = RateLimitConfig(rate_limit=("minute", 20), store="rate_limit", exclude=[RESPONDENT_PREFIX],
                                 identifier_for_request=hashed_client, check_throttle_handler=throttle_login)

    def on_startup(app: Litestar) -> None:
        stores["sessions"].purge_expired()

    app = Litestar(
        route_handlers=[index, healthz, *_routers(settings.openapi)],
        # What handlers are handed by name. The sync providers do no I/O (the principal is loaded
        # by the guards and kept for the request), so they run on the event loop.
        dependencies={"db": Provide(provide_db), "campaign": Provide(provide_campaign, sync_to_thread=False),
                      "principal": Provide(provide_principal, sync_to_thread=False),
                      "settings": Provide(provide_settings, sync_to_thread=False),
                      "profile": Provide(provide_profile, sync_to_thread=False),
                      "now": Provide(provide_now, sync_to_thread=False)},
        template_config=TemplateConfig(directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine,
                                       engine_callback=_no_reload(settings)),
        middleware=[session_config.middleware, rate_limit.middleware],
        csrf_config=csrf_config,
        # A route with opt skip_compression (the streamed desk-review ZIP) is sent as it is.
        compression_config=CompressionConfig(backend="gzip", minimum_size=512, gzip_compress_level=6,
                                             exclude_opt_key="skip_compression"),
        stores=stores,
        # db_clock stamps a phone form's load and receipt: one clock whichever instances serve them.
        state=State({"settings": settings, "engine": engine, "templates": templates, "profile": settings.profile,
                     "signer": FormSigner(settings.secret), "db_clock": DatabaseClock(engine, settings.clock),
                     "device_limits": DeviceLimits(settings.device_limit, settings.new_device_limit)}),
        on_startup=[on_startup],
        exception_handlers={HTTPException: error_page, Exception: error_page, GoTo: go_to},
        before_request=csrf_bound,
        before_send=[security_headers(content_security_policy(TEMPLATE_DIRS), https=settings.secure_cookies)],
        debug=settings.debug,
        # RENKE_OPENAPI=1: the routes' description as JSON at /schema/openapi.json, for logged-in
        # staff only (no UI: it would load scripts from a CDN); tests/system/test_schemathesis.py
        # fuzzes every route with it.
        openapi_config=OpenAPIConfig(title="Renke", version="0.1.0", render_plugins=[JsonRenderPlugin()],
                                     openapi_router=Router(path="/schema", route_handlers=[], guards=[logged_in],
                                                           exception_handlers={NotAuthorizedException: to_login}))
        if settings.openapi else None,
    )
    # Outermost: an error escaping while a response is sent still gets the Chinese page.
    title, message = SERVER_ERROR
    page = app.template_engine.get_template("respondent/message.html").render(title=title, message=message)
    app.asgi_handler = last_resort(app.asgi_handler, page.encode())
    return app
