"""Fixtures driving the real app: Litestar's TestClient on a real SQLite file (a copy of the
session's migrated one), and on PostgreSQL too when TEST_DATABASE_URL is set (migrated once per
session, emptied back to the admin account before each test)."""

import os

import pytest
from litestar.testing import TestClient

from svc_helpers import BACKENDS, FakeClock, PostgresTemplate, make_app


def pytest_collection_modifyitems(config, items):
    """A module marked ``one_database`` (pages, words, guards, files: nothing there depends on
    which database holds the rows, and the rows' reads and writes are tested on both by the
    others) runs on SQLite only, which keeps the suite within its time on two cores."""
    keep, drop = [], []
    for item in items:
        on_pg = getattr(item, "callspec", None) and item.callspec.params.get("database_url") == "postgresql"
        (drop if on_pg and item.get_closest_marker("one_database") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres_template():
    template = PostgresTemplate(os.environ["TEST_DATABASE_URL"])
    yield template
    template.engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request) -> str:
    """Both databases hold the migrated schema and the tests' admin account, nothing else."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    request.getfixturevalue("postgres_template").reset()
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url, clock):
    application = make_app(database_url, clock, admin=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def anon(app):
    """A second, separate browser (no cookies shared with ``client``)."""
    with TestClient(app, base_url="http://testserver.local") as c:
        yield c
