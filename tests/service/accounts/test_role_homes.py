"""Issue 20: each role has a home and a way around; one login page for every role."""

import pytest
import re
from urllib.parse import quote

from inspector_helpers import COUNTY_A, browser, log_in, make_users


def _links(html: str) -> dict[str, str]:
    header = html.split("<header>", 1)[1].split("</header>", 1)[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', header)}


def test_province_lands_on_the_overview_with_acceptance_audit_and_accounts_one_click_away(app):
    make_users(app)
    with browser(app) as c:
        r = log_in(c, "province")
        assert r.url.path == "/inspector/overview"
        links = _links(r.text)
        assert links["验收计划"] == "/inspector/acceptance"
        assert links["审计日志"] == "/trust/audit"
        assert links["账号管理"] == "/inspector/accounts"
        assert links["系统设置"] == "/inspector/settings"
        for href in links.values():
            if not href.endswith(".xlsx"):
                assert c.get(href).status_code == 200, href


def test_inspector_lands_on_their_counties(app):
    make_users(app)
    with browser(app) as c:
        r = log_in(c, "inspector_a")
        assert r.url.path == "/inspector"
        assert COUNTY_A in r.text
        assert "账号管理" not in _links(r.text) and "审计日志" not in _links(r.text)


def test_bureau_lands_on_its_county_page_and_the_campaign_list_keeps_the_frame(app):
    make_users(app)
    with browser(app) as c:
        r = log_in(c, "bureau_a")
        assert r.url.path == "/inspector/counties/" + quote(COUNTY_A) or r.url.path == f"/inspector/counties/{COUNTY_A}"
        page = c.get("/bureau")
        links = _links(page.text)
        assert "本县" in links and "调查列表" in links
        assert "（县教育局管理员）" in page.text


def test_root_sends_each_signed_in_role_home_and_a_visitor_to_the_login(app):
    make_users(app)
    with browser(app) as anon:
        assert anon.get("/").url.path == "/login"
    with browser(app, "province") as c:
        assert c.get("/").url.path == "/inspector/overview"


def test_login_wording_is_role_neutral(app):
    with browser(app) as c:
        page = c.get("/login").text
        assert "工作人员登录" in page and "教育局工作人员登录" not in page


def test_audit_details_name_campaigns_and_versions_in_words():
    from service.accounts.audit import detail_text
    assert detail_text({"campaign": 1, "before": 2}, {1: "2026 年满意度调查"}) == "调查：“2026 年满意度调查”；原调查：编号 2 的调查"
    assert detail_text({"version": None}) == "版本：最新版" and detail_text({"version": 3}) == "版本：第 3 版"


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
