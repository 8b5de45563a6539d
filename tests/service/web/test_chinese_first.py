"""Chinese first: every staff page, as each role (bureau admin, inspector, province admin), on
the seeded demo database, shows no English word and no raw data structure in its visible text.

Visible text is the page without tags, scripts and styles. Allowed: file extensions, QR, Excel,
CSV, PDF, SPSS, Stata, SHA-256, PNG, SVG, URLs and paths shown to copy, school codes (S01) and the method's
rule codes (R1–R7, G1–G15, Q1–Q9, S1–S7, V1–V7, CV), one-time codes, and user names (data).
Pages another engineer owns that still leak are expected failures with the owner named.
"""

import re

import pytest
from litestar.testing import TestClient

from service.app import _routers
from chinese_text import leaks, visible_text
from svc_helpers import csrf_token

ROLES = ("demo", "inspector", "province")          # bureau admin, inspector, province admin
NOT_PAGES = re.compile(r"\.(csv|xlsx|json|pdf|sav|dta|zip)$|/qr/|/checksum$|/workbooks/\{version")


def _page_routes() -> list[str]:
    paths = []
    for router in _routers(False):
        for route in getattr(router, "routes", []):
            if "GET" in route.methods and route.path.startswith(("/bureau", "/inspector", "/trust")) \
                    and not NOT_PAGES.search(route.path):
                paths.append(route.path)
    return sorted(set(paths))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from service.demo import seed
    from svc_helpers import make_app
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'renke.db'}")
    info = seed(app.state.engine, app.state.templates, app.state.profile)
    clients = {}
    for role in ROLES:
        client = TestClient(app, base_url="http://testserver.local")
        client.__enter__()
        page = client.get("/login")
        client.post("/login", data={"username": role, "password": info["logins"][role],
                                    "_csrf_token": csrf_token(page.text)})
        clients[role] = client
    admin = clients["demo"]
    page = admin.get(f"/bureau/campaigns/{info['campaign_id']}").text
    admin.post(f"/bureau/campaigns/{info['campaign_id']}/codes",
               data={"_csrf_token": csrf_token(page), "link": info["link_token"], "count": "2"})
    yield info, clients
    for client in reversed(clients.values()):       # last entered first: their portals nest
        client.__exit__(None, None, None)
    app.state.engine.dispose()


def _url(path: str, info: dict) -> str:
    return (path.replace("{cid:int}", str(info["campaign_id"])).replace("{county:str}", info["county"])
            .replace("{batch:int}", "1"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", _page_routes())
def test_staff_page_shows_no_english_or_raw_data(demo, role, path):
    info, clients = demo
    r = clients[role].get(_url(path, info))
    assert "text/html" in r.headers.get("content-type", ""), (path, r.headers.get("content-type"))
    found = leaks(visible_text(r.text))
    assert found == [], (role, path, r.status_code, found)


@pytest.mark.parametrize(("text", "leaked"), [
    ("数据：sample_shares={'urban': 0.45}", True), ("未达标（未达标部分：recognition）", True),
    ("人大代表 npc_deputy", True), ("本县 S01学校 R1 达标，导出 Excel、CSV（.xlsx）", False),
    ("网址 http://testserver.local/s/AbC123 可复制", False), ("评估办法 national-2017", True),
])
def test_the_leak_finder_finds_english_words_and_raw_structures(text, leaked):
    assert bool(leaks(text)) is leaked, leaks(text)


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
