"""What bureau staff read, chase and print: exact progress with an overall bar that refreshes
itself, the lagging schools and their reminder notices, the comments page and its exports,
the new-campaign form and the warning on loopback link bases (that slips fit A4 is checked in
Chromium: tests/browser/test_browser_printouts.py)."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from inspector_helpers import COUNTY_A, browser, make_users
from service.db.models import Campaign, Answer
from svc_helpers import add_answers, csrf_token, link_token

HIDDEN = "（人数较少，不显示）"


def test_campaign_page_shows_an_overall_progress_bar_and_refreshes_itself(app, client, campaign):
    add_answers(app, campaign, "S01", "parent", 3)
    page = client.get(f"/bureau/campaigns/{campaign}").text
    bar = re.search(r'<progress class="bar" max="100" value="(\d+)"', page)
    assert bar and "总进度" in page
    assert '<meta http-equiv="refresh" content="60">' in page


def test_a_closed_campaign_page_does_not_refresh(app, client, campaign):
    client.post(f"/bureau/campaigns/{campaign}/close",
                data={"_csrf_token": csrf_token(client.get(f"/bureau/campaigns/{campaign}").text)})
    assert 'http-equiv="refresh"' not in client.get(f"/bureau/campaigns/{campaign}").text


def test_lagging_schools_are_listed_by_what_they_miss(app, client, campaign):
    with Session(app.state.engine) as s:
        from service.campaigns.progress import plan_for
        plan = plan_for(s, s.get(Campaign, campaign), app.state.profile)
    for code, targets in plan.by_school.items():       # every school complete but three
        for group, n in targets.items():
            add_answers(app, campaign, code, group, n)
    s01, s02, s03 = (plan.by_school[c] for c in ("S01", "S02", "S03"))
    with Session(app.state.engine) as s:                  # take answers back: S02 misses most, then S01, S03
        for code, missing in (("S01", 2), ("S02", 5), ("S03", 1)):
            rows = s.exec(select(Answer).where(Answer.campaign_id == campaign, Answer.school_code == code,
                                                 Answer.group == "parent")).all()[:missing]
            for row in rows:
                s.delete(row)
        s.commit()
    assert min(s01["parent"], s02["parent"], s03["parent"]) >= 5
    page = client.get(f"/bureau/campaigns/{campaign}").text
    lagging = page.split("未达计划的学校")[1].split("<h4>")[0]
    assert re.findall(r"<tr><td>(S\d+)学校</td><td class=\"n behind\">(\d+)</td>", lagging) == \
        [("S02", "5"), ("S01", "2"), ("S03", "1")]
    assert "reminders?school=S02" in lagging


def test_reminder_notice_of_a_school_says_what_it_misses(app, client, campaign):
    add_answers(app, campaign, "S01", "parent", 2)
    with Session(app.state.engine) as s:
        from service.campaigns.progress import plan_for
        plan = plan_for(s, s.get(Campaign, campaign), app.state.profile)
    want = plan.by_school["S01"]
    r = client.get(f"/bureau/campaigns/{campaign}/reminders?school=S01")
    assert r.status_code == 200
    assert "催办通知" in r.text and "S01学校" in r.text and "@page{size:A4" in r.text
    row = re.search(r"<tr><td>家长</td><td>(\d+)</td><td>(\d+)</td><td[^>]*>(\d+)</td></tr>", r.text)
    assert row.groups() == ("2", str(want["parent"]), str(want["parent"] - 2))
    assert f"/s/{link_token(app, campaign, 'S01')}" in r.text
    every = client.get(f"/bureau/campaigns/{campaign}/reminders").text
    assert every.count('<div class="notice">') == sum(1 for t in plan.by_school.values() if sum(t.values()))
    assert client.get(f"/bureau/campaigns/{campaign}/reminders?school=NOPE").status_code == 404


# ---- comments (意见建议) ------------------------------------------------------------------------

def test_comments_name_school_and_group_only_for_cells_of_k_answers(app, client, campaign):
    add_answers(app, campaign, "S01", "parent", 5)
    add_answers(app, campaign, "S01", "parent", 1, comment="食堂饭菜可以再改进")      # 6 parents of S01
    add_answers(app, campaign, "S02", "teacher", 1, comment="希望减少非教学任务")      # 1 teacher of S02
    page = client.get(f"/trust/campaigns/{campaign}/comments").text
    rows = re.findall(r"<tr><td class=\"n\">\d+</td><td>(.*?)</td><td>(.*?)</td><td class=\"text\">(.*?)</td>", page)
    assert ("S01学校", "家长", "食堂饭菜可以再改进") in rows
    assert (HIDDEN, HIDDEN, "希望减少非教学任务") in rows
    by_school = client.get(f"/trust/campaigns/{campaign}/comments?school=S02").text
    assert "希望减少非教学任务" not in by_school                      # a small cell is never filtered out
    by_group = client.get(f"/trust/campaigns/{campaign}/comments?group=parent").text
    assert "食堂饭菜可以再改进" in by_group and "希望减少非教学任务" not in by_group


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_comment_exports_neutralise_formulas(app, client, campaign, text):
    add_answers(app, campaign, "S01", "parent", 5, comment=text)
    data = client.get(f"/trust/campaigns/{campaign}/comments.csv").content
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["序号", "学校", "调查对象", "意见建议"]
    assert {r[3] for r in rows[1:]} == {"'" + text}
    sheet = load_workbook(io.BytesIO(client.get(f"/trust/campaigns/{campaign}/comments.xlsx").content)).active
    cells = [sheet.cell(row, 4) for row in range(3, sheet.max_row + 1)]
    assert cells and all(c.data_type == "s" and c.value.startswith("'") for c in cells)


# ---- the new-campaign form ---------------------------------------------------------------------

@pytest.mark.parametrize(("urban", "town", "rural"), [("45%", "30%", "25%"), ("0.45", "0.30", "0.25"),
                                                       ("45", "30", "25"), ("45％", "30 %", "25%")])
def test_new_campaign_takes_percents_or_decimals(app, client, urban, town, rural):
    from svc_helpers import login
    login(client)
    page = client.get("/bureau/campaigns/new").text
    r = client.post("/bureau/campaigns", data={
        "_csrf_token": csrf_token(page), "name": "比例", "county_name": "示例县", "resident_population": "380000",
        "share_urban": urban, "share_town": town, "share_rural": rural,
        "opens_at": "2026-01-01T08:00", "closes_at": "2026-12-01T08:00"})
    assert r.status_code == 200, r.text[:1000]
    with Session(app.state.engine) as s:
        c = s.exec(select(Campaign).where(Campaign.name == "比例")).one()
    assert (c.share_urban, c.share_town, c.share_rural) == pytest.approx((0.45, 0.30, 0.25))


def test_new_campaign_form_prefills_a_bureaus_one_county_and_refuses_another_in_chinese(app):
    make_users(app)
    with browser(app, "bureau_a") as c:
        page = c.get("/bureau/campaigns/new").text
        assert f'name="county_name" type="text" value="{COUNTY_A}"' in page
        r = c.post("/bureau/campaigns", data={
            "_csrf_token": csrf_token(page), "name": "越权", "county_name": "别的县", "resident_population": "1000",
            "share_urban": "50%", "share_town": "30%", "share_rural": "20%",
            "opens_at": "2026-01-01T08:00", "closes_at": "2026-12-01T08:00"})
        assert r.status_code == 422 and "不能为“别的县”创建" in r.text and COUNTY_A in r.text
    with Session(app.state.engine) as s:
        assert s.exec(select(Campaign).where(Campaign.name == "越权")).first() is None


# ---- printouts ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "warned"), [("http://127.0.0.1:8000", True), ("http://localhost", True),
                                             ("http://192.168.1.20", True), ("http://10.0.0.5", True),
                                             ("http://172.20.0.3", True), ("http://testserver.local", False),
                                             ("http://172.32.0.1", False)])
@pytest.mark.filterwarnings("ignore:The base_url:UserWarning")    # Litestar's doubt about http://localhost: the case under test
def test_printouts_warn_while_links_use_a_loopback_or_private_address(app, base, warned):
    from litestar.testing import TestClient

    from svc_helpers import open_campaign
    with TestClient(app, base_url=base) as c:
        cid = open_campaign(c)
        for path in (f"/bureau/campaigns/{cid}/sheets?school=S01", f"/bureau/campaigns/{cid}/reminders"):
            assert ("家长的手机打不开" in c.get(path).text) is warned, (base, path)


def test_no_printout_warning_once_the_public_address_is_set(app, client, campaign):
    app.state.settings.public_url = "https://renke.example.gov.cn"
    try:
        assert "家长的手机打不开" not in client.get(f"/bureau/campaigns/{campaign}/sheets").text
    finally:
        app.state.settings.public_url = None


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
