"""A school clerk reaches its own form and nothing of the bureau's (every staff route, each
method, refused); and every collection page, as the bureau and as a school, is Chinese only
(the leak finder of tests/service/chinese_text.py)."""

import pytest
import re
from urllib.parse import quote

from collection_helpers import ROUND, county_with_round, decide, example_rows, print_accounts, school_login, send
from inspector_helpers import COUNTY_A, county_url
from svc_helpers import csrf_token
from chinese_text import leaks, visible_text


def _concrete(path: str) -> str:
    ids = {"county": quote(COUNTY_A), "year": "2025", "code": "S02"}
    return re.sub(r"\{(\w+):\w+\}", lambda m: ids.get(m.group(1), "1"), path)


def test_a_school_clerk_is_refused_every_route_of_the_bureau_inspectors_and_province(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
    routes = [(route.path, method) for route in app.routes
              if route.path.startswith(("/inspector", "/bureau", "/trust")) and route.path != "/inspector/password"
              for method in sorted(route.methods - {"HEAD", "OPTIONS"})]
    assert len(routes) > 40
    with school_login(app, *accounts["S01"]) as c:
        token = csrf_token(c.get("/school").text)
        for path, method in routes:
            r = c.request(method, _concrete(path), data={"_csrf_token": token} if method != "GET" else None,
                          follow_redirects=False)
            assert r.status_code == 403, (method, path, r.status_code)
            assert "S02学校" not in r.text


def test_every_collection_page_is_chinese_only(app):
    pages = []
    with county_with_round(app) as bureau:
        sheet, accounts = print_accounts(bureau)
        pages.append(("accounts sheet", sheet))
        with school_login(app, *accounts["S01"]) as c:
            pages.append(("school form", c.get("/school").text))
            token = csrf_token(pages[-1][1])
            pages.append(("file refused", c.post("/school/evidence", data={"_csrf_token": token, "group": "R1"},
                                                 files={"file": ("a.pdf", b"<html>", "text/html")}).text))
            pages.append(("refused", send(c, {**example_rows()["S01"], "classes": "三十"}).text))
            pages.append(("draft", send(c, {"classes": "30"}, action="save").text))
            send(c, {**example_rows()["S01"], "classes": "30"})
            pages.append(("review", bureau.get(f"{ROUND}/schools/S01").text))
            decide(bureau, "S01", "return", {"classes": "请核对"})
            pages.append(("returned form", c.get("/school").text))
        pages.append(("rounds", bureau.get(county_url(COUNTY_A, "/collection")).text))
        pages.append(("round", bureau.get(ROUND).text))
        pages.append(("preview refused", bureau.post(ROUND + "/preview",
                                                     data={"_csrf_token": csrf_token(pages[-1][1])}).text))
    for name, page in pages:
        text = visible_text(page).replace("bureau_a", "")        # the signed-in user's name: data
        assert leaks(text) == [], (name, leaks(text))


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
