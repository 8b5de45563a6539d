"""Issue 20: the public address is a setting the province sets on a page (stored, audited); the
environment variable stays as the deployment's default and no page tells staff about it."""

import pytest
from sqlmodel import Session, select
from svc_helpers import csrf_token, login

from service.db.models import AuditEntry
from inspector_helpers import browser, make_users


def _save(c, value: str):
    page = c.get("/inspector/settings")
    return c.post("/inspector/settings", data={"public_url": value, "_csrf_token": csrf_token(page.text)})


def test_public_address_set_by_the_province_is_stored_audited_and_printed_in_links(app, client, campaign):
    r = _save(client, "https://renke.example.gov.cn/")
    assert r.status_code == 200 and "已保存" in r.text
    sheet = client.get(f"/bureau/campaigns/{campaign}/sheets").text
    assert "https://renke.example.gov.cn/s/" in sheet and "家长的手机打不开" not in sheet
    with Session(app.state.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "public_url_set")).one()
    assert entry.detail == {"from": "", "to": "https://renke.example.gov.cn"}
    assert "设置对外网址" in client.get("/trust/audit").text


def test_public_address_refuses_what_is_not_an_address_in_chinese(app, client):
    login(client)
    r = _save(client, "renke.example.gov.cn")
    assert r.status_code == 422 and "不是网址" in r.text and "https://" in r.text
    assert "不是网址" in _save(client, "ftp://x.cn").text
    assert "只填写网址本身" in _save(client, "https://x.cn/?a=1").text


def test_public_address_page_is_the_provinces_only(app):
    make_users(app)
    for user in ("bureau_a", "inspector_a"):
        with browser(app, user) as c:
            assert c.get("/inspector/settings").status_code == 403
            assert c.post("/inspector/settings", data={"public_url": "https://evil.example"}).status_code in (403, 401)


def test_print_warning_names_the_settings_page_not_the_environment(app):
    from litestar.testing import TestClient

    from svc_helpers import open_campaign
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        cid = open_campaign(c)
        page = c.get(f"/bureau/campaigns/{cid}/sheets").text
    assert "系统设置" in page and "RENKE_PUBLIC_URL" not in page


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
