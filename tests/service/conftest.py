"""Fixtures driving the real app: Litestar's TestClient on a real SQLite file, and on
PostgreSQL too when TEST_DATABASE_URL is set (tables emptied between tests)."""

import os

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from svc_helpers import BACKENDS, TABLES, FakeClock, make_app


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'renke.db'}"
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url, clock):
    if not database_url.startswith("sqlite"):
        from service.db.engine import make_engine, migrate
        engine = make_engine(database_url)
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE"))
        engine.dispose()
    application = make_app(database_url, clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def anon(app):
    """A second, separate browser (no cookies shared with ``client``)."""
    with TestClient(app, base_url="http://testserver.local") as c:
        yield c


