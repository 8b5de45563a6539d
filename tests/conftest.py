"""Fixtures shared by the service and browser tests (each of those folders provides ``app``), and
the databases of a run: one migrated SQLite file per session, copied for each test, and under
pytest-xdist a PostgreSQL database of its own for each worker (TEST_DATABASE_URL's, suffixed)."""

import os
import shutil

import pytest
from litestar.testing import TestClient


def _worker_database(url: str, worker: str, *, create: bool) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from service.web.settings import normalise_database_url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


BASE_DATABASE_URL = pytest.StashKey[str]()


def pytest_configure(config):
    # Workers of one run must not empty each other's tables: each gets its own database, and
    # everything below (app fixtures, real servers, the system tests' helpers) reads the variable.
    url, worker = os.environ.get("TEST_DATABASE_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        config.stash[BASE_DATABASE_URL] = url
        os.environ["TEST_DATABASE_URL"] = _worker_database(url, worker, create=True)


def pytest_unconfigure(config):
    url = config.stash.get(BASE_DATABASE_URL, None)
    if url:
        _worker_database(url, os.environ["PYTEST_XDIST_WORKER"], create=False)
        os.environ["TEST_DATABASE_URL"] = url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """The session's SQLite template: migrated once (per xdist worker), with the admin account."""
    from svc_helpers import migrated_sqlite   # tests/service, on the path in both folders
    return migrated_sqlite(tmp_path_factory.mktemp("template") / "renke.db")


@pytest.fixture
def sqlite_url(migrated_sqlite, tmp_path) -> str:
    """A test's own copy of the migrated SQLite file."""
    shutil.copyfile(migrated_sqlite, tmp_path / "renke.db")
    return f"sqlite:///{tmp_path / 'renke.db'}"


@pytest.fixture
def client(app):
    """Litestar's client on the folder's app (the browser tests use it for set-up only)."""
    with TestClient(app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
def campaign(client) -> int:
    """A logged-in client with an open campaign of the example county, its schools imported."""
    from svc_helpers import open_campaign
    return open_campaign(client)
