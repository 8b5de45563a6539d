"""Fixtures of the system tests: real ``python -m service`` processes (see sys_helpers.py)."""

import os

import pytest

from sys_helpers import BACKENDS, Server, _empty_pg


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []

    def start(database_url: str, **kw) -> Server:
        s = Server(database_url, tmp_path / f"server{len(started)}.log", **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'renke.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    _empty_pg(url)
    return url


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set (.ci/run starts PostgreSQL)")
    _empty_pg(url)
    return url


