"""Issue 20: the empty new-campaign form names every field to fill, in words (no “”不是数字)."""

import pytest
from svc_helpers import csrf_token, login


def test_empty_new_campaign_form_names_each_missing_field(app, client):
    login(client)
    page = client.get("/bureau/campaigns/new")
    r = client.post("/bureau/campaigns", data={"_csrf_token": csrf_token(page.text), "name": "", "county_name": "",
                                               "resident_population": "", "share_urban": "", "share_town": "",
                                               "share_rural": "", "opens_at": "", "closes_at": ""})
    assert r.status_code == 422
    for message in ("请填写调查名称", "请填写县（市、区）名称", "请填写常住人口（人）", "请填写城区、镇区、乡村三项人口占比",
                    "请填写开始时间", "请填写结束时间"):
        assert message in r.text, message
    assert "“”" not in r.text


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
