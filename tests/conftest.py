"""Fixtures shared by the service and browser tests; each of those folders provides ``app``."""

import pytest
from litestar.testing import TestClient


@pytest.fixture
def client(app):
    """Litestar's client on the folder's app (the browser tests use it for set-up only)."""
    with TestClient(app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
def campaign(client) -> int:
    """A logged-in client with an open campaign of the example county, its schools imported."""
    from svc_helpers import open_campaign   # tests/service, on the path in both folders
    return open_campaign(client)
