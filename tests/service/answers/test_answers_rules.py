"""The answer rules of issue 11: a family's phone, codes, one answer per loaded form, expiring
forms, codes bound to their link, new-device bursts, and a phone form that guides."""

import re
import uuid
from datetime import datetime, timezone

from litestar.testing import TestClient
from sqlmodel import Session, select

from service.answers.rate_limit import DeviceLimits
from service.db.models import Campaign, Link, Answer
from service.web.clock import local

from svc_helpers import (ALL_A, EXAMPLE, answer, create_campaign, csrf_token, example_zip, hidden, link_token,
                         login, upload_workbook)


def stored(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer).order_by(Answer.id)))


def print_slips(client, campaign: int, token: str, count: int) -> list[str]:
    page = client.get(f"/bureau/campaigns/{campaign}")
    r = client.post(f"/bureau/campaigns/{campaign}/codes",
                    data={"_csrf_token": csrf_token(page.text), "link": token, "count": str(count)})
    assert r.status_code == 200
    return re.findall(r'<span class="code">([A-Z0-9]+)</span>', r.text)


def test_family_phone(app, campaign, anon, clock):
    """A pupil answers on a parent's phone, then the parent, then a second parent: the first
    two are valid, the third is a duplicate of the parent's answer, and its page says so."""
    county = "/s/" + link_token(app, campaign)
    child, _, child_sid = answer(anon, clock, county + "?q=student", {**ALL_A, "school_code": "S01", "grade": "3"})
    mother, _, mother_sid = answer(anon, clock, county + "?q=public",
                                   {**ALL_A, "group": "parent", "school_code": "S01", "grade": "3"})
    father, _, father_sid = answer(anon, clock, county + "?q=public",
                                   {**ALL_A, "group": "parent", "school_code": "S01", "grade": "3"})
    rows = {r.submission_id: r for r in stored(app)}
    assert rows[child_sid].device_hash == rows[mother_sid].device_hash == rows[father_sid].device_hash
    assert rows[child_sid].duplicate_of is None and rows[mother_sid].duplicate_of is None
    assert rows[father_sid].duplicate_of == mother_sid
    assert "提交成功" in child.text and "提交成功" in mother.text
    assert father.status_code == 200 and "已经提交过" not in mother.text
    assert "已经提交过一份“家长”的答卷" in father.text and "不会重复计入" in father.text


def test_teacher_who_is_a_parent(app, campaign, anon, clock):
    """Another group on the same phone is another respondent."""
    teacher = answer(anon, clock, "/s/" + link_token(app, campaign, "S02", "teacher"), ALL_A)[0]
    parent = answer(anon, clock, "/s/" + link_token(app, campaign, "S02", "parent"), {**ALL_A, "grade": "5"})[0]
    rows = stored(app)
    assert [r.group for r in rows] == ["teacher", "parent"] and rows[0].device_hash == rows[1].device_hash
    assert [r.duplicate_of for r in rows] == [None, None]
    assert "提交成功" in teacher.text and "已经提交过" not in parent.text


def test_code_answers_never_duplicates(app, campaign, client, anon, clock):
    """A computer-lab session: slips on one shared PC give one valid answer per code."""
    token = link_token(app, campaign, "S01", "student")
    codes = print_slips(client, campaign, token, 3)
    pages = [answer(anon, clock, f"/s/{token}?c={code}", {**ALL_A, "grade": "5"})[0] for code in codes]
    rows = stored(app)
    assert len(rows) == 3 and len({r.device_hash for r in rows}) == 1
    assert [r.duplicate_of for r in rows] == [None, None, None]
    assert all("提交成功" in p.text for p in pages)


def test_one_token_many_ids_one_row(app, campaign, clock):
    """A script loads one form and posts its token with fresh submission ids and no cookie:
    one answer is stored, the other posts are refused; the page's own id is still thanked."""
    path = "/s/" + link_token(app, campaign, None, "public")
    with TestClient(app, base_url="http://testserver.local") as script:
        page = script.get(path)
        token, sid = hidden(page.text, "_t"), hidden(page.text, "_sid")
        clock.advance(21)
        script.cookies.clear()
        first = script.post(path, data={"_t": token, "_sid": sid, **ALL_A, "location": "town"})
        others = [script.post(path, data={"_t": token, "_sid": str(uuid.uuid4()), **ALL_A, "location": "town"})
                  for _ in range(11)]
        retry = script.post(path, data={"_t": token, "_sid": sid, **ALL_A, "location": "town"})
    assert first.status_code == 200 and retry.status_code == 200 and "提交成功" in retry.text
    assert {r.status_code for r in others} == {400} and "页面已失效" in others[0].text
    assert [r.submission_id for r in stored(app)] == [sid]


def test_expired_token(app, campaign, anon, clock):
    """A form held open longer than the token's age is refused, in Chinese, with the marker the
    page's script reloads on; a stored answer's retry after that age is still thanked."""
    path = "/s/" + link_token(app, campaign, None, "public")
    max_age = app.state.settings.form_token_max_age_s
    assert max_age == 12 * 3600
    page = anon.get(path)
    clock.advance(max_age + 1)
    r = anon.post(path, data={"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"), **ALL_A,
                              "location": "town"})
    assert r.status_code == 400 and "页面已过期" in r.text and "12 小时" in r.text
    assert r.headers["x-renke-form"] == "expired" and stored(app) == []
    done, token, sid = answer(anon, clock, path, {**ALL_A, "location": "town"}, wait=max_age - 1)
    assert done.status_code == 200
    clock.advance(5)
    again = anon.post(path, data={"_t": token, "_sid": sid, **ALL_A, "location": "town"})
    assert again.status_code == 200 and "提交成功" in again.text and len(stored(app)) == 1


def test_code_required_on_slip_link_and_refused_on_another_link(app, campaign, client, anon, clock):
    token = link_token(app, campaign, "S05", "parent")
    before = anon.get(f"/s/{token}")                  # loaded before the slips were printed
    [code] = print_slips(client, campaign, token, 1)
    with Session(app.state.engine) as s:
        assert s.exec(select(Link).where(Link.token == token)).one().requires_code
    assert "须凭填写码" in client.get(f"/bureau/campaigns/{campaign}").text
    plain = anon.get(f"/s/{token}")
    assert plain.status_code == 403 and "需要填写码" in plain.text
    clock.advance(60)
    late = anon.post(f"/s/{token}", data={"_t": hidden(before.text, "_t"), "_sid": hidden(before.text, "_sid"),
                                          **ALL_A, "grade": "4"})
    assert late.status_code == 403 and "需要填写码" in late.text
    other = anon.get(f"/s/{link_token(app, campaign, 'S06', 'parent')}?c={code}")
    assert other.status_code == 403 and "不能用于这份问卷" in other.text
    assert stored(app) == []
    ok, _, _ = answer(anon, clock, f"/s/{token}?c={code}", {**ALL_A, "grade": "4"})
    assert ok.status_code == 200 and [r.code_id is not None for r in stored(app)] == [True]


def test_new_device_burst_flagged(app, client, campaign, anon, clock):
    """Beyond the per-link limit of new devices a minute, answers are kept and flagged; a
    device the campaign knows is not new, and another link has its own count."""
    app.state.device_limits = DeviceLimits(limit=30, new_device_limit=2)   # as RENKE_NEW_DEVICE_LIMIT=2 sets
    path = "/s/" + link_token(app, campaign, "S03", "parent")
    for _ in range(3):
        with TestClient(app, base_url="http://testserver.local") as phone:
            answer(phone, clock, path, {**ALL_A, "grade": "3"})
    answer(anon, clock, "/s/" + link_token(app, campaign, "S03", "teacher"), ALL_A)
    answer(anon, clock, path, {**ALL_A, "grade": "3"})     # known device (its teacher answer)
    assert [r.new_device_burst for r in stored(app)] == [False, False, True, False, False]
    page = client.get(f"/trust/campaigns/{campaign}/integrity").text        # reported to the inspector
    assert 'id="new-device-bursts"' in page and "有 1 份答卷来自" in page


def test_failed_submit_focuses_first_missing_question(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, None, "public")
    r, _, _ = answer(anon, clock, path, {**{k: v for k, v in ALL_A.items() if k not in ("equity", "burden")},
                                         "location": "town"})
    assert r.status_code == 422
    assert re.findall(r'<input type="radio" name="(\w+)"[^>]* autofocus', r.text) == ["equity"]
    assert len(re.findall(r" autofocus[ >]", r.text)) == 1 and 'id="q-equity"' in r.text and 'href="#q-equity"' in r.text
    r, _, _ = answer(anon, clock, "/s/" + link_token(app, campaign) + "?q=public", ALL_A)
    assert re.findall(r'name="(\w+)"[^>]* autofocus', r.text) == ["group"]


def test_identity_questions_only_for_their_identities(app, campaign, anon, clock):
    """The school and grade are for parents, the location for the others: the page marks them
    so, and the server ignores what another identity sent."""
    path = "/s/" + link_token(app, campaign) + "?q=public"
    page = anon.get(path)
    assert re.search(r'id="q-school_code"[^>]* data-g="parent"', page.text)
    assert re.search(r'id="q-grade"[^>]* data-g="parent"', page.text)
    assert re.search(r'id="q-location"[^>]* data-g="npc_deputy cppcc_member public"', page.text)
    r, _, _ = answer(anon, clock, path, {**ALL_A, "group": "npc_deputy", "location": "rural", "school_code": "S01",
                                         "grade": "2"})
    assert r.status_code == 200
    [row] = stored(app)
    assert (row.group, row.school_code, row.grade, row.location) == ("npc_deputy", None, None, "rural")


def test_grades_follow_school_stages(app, campaign, anon, clock):
    def grades(path):
        return [int(g) for g in re.findall(r'<option value="(\d)"', anon.get(path).text)]
    assert grades("/s/" + link_token(app, campaign, "S01", "student")) == [3, 4, 5, 6]        # primary
    assert grades("/s/" + link_token(app, campaign, "S15", "student")) == [7, 8, 9]           # junior
    assert grades("/s/" + link_token(app, campaign, "S20", "parent")) == list(range(1, 10))   # nine-year
    r, _, _ = answer(anon, clock, "/s/" + link_token(app, campaign, "S01", "parent"), {**ALL_A, "grade": "8"})
    assert r.status_code == 422 and "所选学校没有这个年级" in r.text and stored(app) == []
    r, _, _ = answer(anon, clock, "/s/" + link_token(app, campaign) + "?q=public",
                     {**ALL_A, "group": "parent", "school_code": "S15", "grade": "2"})
    assert r.status_code == 422 and stored(app) == []


def test_refusals_say_when_the_survey_opens_or_closed(app, client, anon, clock):
    login(client)
    future = create_campaign(client, opens_in_h=48, closes_in_h=96, name="未开始")
    r = anon.get("/s/" + link_token(app, future))
    with Session(app.state.engine) as s:
        opens, closes = s.get(Campaign, future).opens_at, s.get(Campaign, future).closes_at
    assert r.status_code == 403 and f"将于 {local(opens)}（北京时间）开始" in r.text
    clock.advance((closes - datetime.now(timezone.utc)).total_seconds() + 60)
    r = anon.get("/s/" + link_token(app, future))
    assert r.status_code == 410 and f"已于 {local(closes)}（北京时间）结束" in r.text


def test_share_meta_for_wechat_and_qq(app, campaign, anon):
    page = anon.get("/s/" + link_token(app, campaign, "S01", "student"))
    title = app.state.templates["student"]["title"]
    assert f'<meta property="og:title" content="{title}">' in page.text
    assert re.search(r'<meta property="og:description" content="[^"]+">', page.text)
    [image] = re.findall(r'<meta property="og:image" content="([^"]+)">', page.text)
    assert image == "http://testserver.local/s/_/icon.png"
    icon = anon.get("/s/_/icon.png")
    assert icon.status_code == 200 and icon.content.startswith(b"\x89PNG") and icon.headers["content-type"] == "image/png"


def test_reload_after_submit_shows_submitted(app, campaign, anon, client, clock):
    """The phone's cookie names the link and questionnaire answered; another phone's page is blank."""
    root = "/s/" + link_token(app, campaign)
    assert "已提交" not in anon.get(root + "?q=public").text
    answer(anon, clock, root + "?q=public", {**ALL_A, "group": "npc_deputy", "location": "urban"})
    assert "已提交" in anon.get(root + "?q=public").text
    assert "已提交" not in anon.get(root + "?q=student").text
    chooser = anon.get(root).text
    assert re.search(r'\?q=public">家长及社会各界问卷 · 已提交', chooser)
    assert "已提交" not in chooser.replace("家长及社会各界问卷 · 已提交", "")
    assert "已提交" not in client.get(root + "?q=public").text


def test_plan_warns_next_to_the_target_when_it_cannot_be_met(app, client):
    """A five-school county cannot give 50 principals: the campaign page says so by the target."""
    login(client)
    cid = create_campaign(client)
    five = b"".join((EXAMPLE / "schools.csv").read_bytes().splitlines(keepends=True)[:6])
    r = upload_workbook(client, cid, example_zip({"schools.csv": five}))
    assert r.status_code == 200 and "5 所学校" in r.text
    plan = r.text[r.text.index("按群体"):r.text.index("按城乡")]
    assert "校长需 50 份，但全县最多约 15 人可答" in plan
