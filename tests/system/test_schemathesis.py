"""schemathesis against the app's OpenAPI schema: no request it generates gets a 5xx.

With RENKE_OPENAPI=1 the app serves /schema/openapi.json to logged-in staff; here every route
(phone form, bureau, inspector, trust pages) is put into the schema, so that each one is
fuzzed with generated paths, queries and form bodies, anonymous and logged in."""

import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "service"))

import svc_helpers as H  # noqa: E402

from service import app as app_module  # noqa: E402


def _layers():
    """The handlers that hide themselves from the schema (staff routers follow ``openapi``)."""
    from service.answers.routes import RespondentController
    return [app_module.index, app_module.healthz, RespondentController]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    for obj in _layers():
        mp.setattr(obj, "include_in_schema", True, raising=False)
    try:
        from service.accounts.roles import create_account
        from service.web.settings import Settings
        app = app_module.create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('fz') / 'r.db'}",
                                             secret="test-secret", clock=H.FakeClock(), openapi=True))
    finally:
        mp.undo()
    create_account(app.state.engine, H.ADMIN, H.PASSWORD)
    with TestClient(app, base_url="http://testserver.local") as c:
        H.login(c)
        cid = H.create_campaign(c)
        H.upload_workbook(c, cid, H.example_zip())
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app, bureau_cookies):
    with TestClient(fuzz_app, base_url="http://testserver.local") as anon:    # staff only
        r = anon.get("/schema/openapi.json", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    return schemathesis.openapi.from_asgi("/schema/openapi.json", fuzz_app, cookies=bureau_cookies)


@pytest.fixture(scope="module")
def bureau_cookies(fuzz_app):
    with TestClient(fuzz_app, base_url="http://testserver.local") as c:
        H.login(c)
        return dict(c.cookies)


def _fuzz(api_schema, max_examples: int, cookies: dict | None = None) -> int:
    """Run hypothesis over every operation of the schema; returns how many were fuzzed."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20, "every route is in the fuzzed schema"
    for operation in operations:
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(cookies=cookies) if cookies else case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.status_code,
                                                 response.text[:300])
        run()
    return len(operations)


def test_no_route_answers_5xx_anonymous(api_schema):
    _fuzz(api_schema, max_examples=10)


def test_no_route_answers_5xx_logged_in(api_schema, bureau_cookies):
    _fuzz(api_schema, max_examples=6, cookies=bureau_cookies)
