"""The phone form: submissions per questionnaire, missing answers, retries, duplicates,
speeders, closed campaigns, one-time codes, page weight."""

import gzip
import re

from sqlmodel import Session, select

from scoring.recognition import respondent_scores

from service.answers import page_cache as hot_cache
from service.campaigns import schools as campaigns
from service.db.models import Campaign, Answer
from survey_templates import ITEMS

from svc_helpers import ALL_A, EXAMPLE, answer, create_campaign, csrf_token, example_zip, hidden, link_token, login


def stored(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer).order_by(Answer.id)))


def test_student_form_full_submission(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    r, _, sid = answer(anon, clock, path, {**ALL_A, "grade": "4", "comment": "希望多开体育课"}, wait=95.3)
    assert r.status_code == 200 and "提交成功" in r.text
    [row] = stored(app)
    assert (row.submission_id, row.questionnaire, row.group, row.school_code, row.location, row.grade) == \
        (sid, "student", "student", "S01", "town", 4)
    assert row.duration_s == 95.3 and row.duplicate_of is None
    assert respondent_scores({i: getattr(row, i) for i in ITEMS}, app.state.profile) == (9, 9)
    assert row.comment == "希望多开体育课" and row.template_version == 1
    assert row.device_hash and len(row.device_hash) == 64


def test_staff_form_asks_identity_and_school_link_fixes_school(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S02") + "?q=staff"
    page = anon.get(path)
    assert "您的身份" in page.text and 'name="school_code"' not in page.text and "S02学校" in page.text
    r, _, _ = answer(anon, clock, path, {**ALL_A, "overall": "D", "burden": "E", "group": "principal"})
    assert r.status_code == 200
    [row] = stored(app)
    assert (row.questionnaire, row.group, row.school_code, row.location, row.grade) == \
        ("staff", "principal", "S02", "urban", None)
    # the scores are computed from the stored items where they are summed
    assert respondent_scores({i: getattr(row, i) for i in ITEMS}, app.state.profile) == (7, 8)


def test_public_form_parent_and_deputy(app, campaign, client, anon, clock):
    root = "/s/" + link_token(app, campaign)
    chooser = anon.get(root)
    assert chooser.status_code == 200 and "?q=public" in chooser.text and "?q=student" in chooser.text
    r, _, _ = answer(anon, clock, root + "?q=public", {**ALL_A, "group": "parent", "school_code": "S13",
                                                        "grade": "2"})
    assert r.status_code == 200
    r, _, _ = answer(client, clock, root + "?q=public", {**ALL_A, "group": "npc_deputy", "location": "rural"})
    assert r.status_code == 200
    parent, deputy = stored(app)
    assert (parent.questionnaire, parent.group, parent.school_code, parent.grade) == ("public", "parent", "S13", 2)
    assert (deputy.group, deputy.school_code, deputy.location, deputy.grade) == ("npc_deputy", None, "rural", None)


def test_missing_answers_are_pointed_out_and_the_others_kept(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S01", "parent")
    answers = dict(ALL_A)
    del answers["equity"], answers["burden"]
    answers["moral"] = "C"
    r, token, sid = answer(anon, clock, path, {**answers, "comment": "好<script>x</script>"})
    assert r.status_code == 422
    assert re.search(r'id="q-equity" class="err"><legend>[^<]*</legend><p class="msg"', r.text)
    assert 'id="e-burden"' in r.text and 'id="e-grade"' in r.text and 'id="e-moral"' not in r.text
    assert 'name="moral" value="C" checked' in r.text and ">好&lt;script&gt;x&lt;/script&gt;</textarea>" in r.text
    assert hidden(r.text, "_sid") == sid and hidden(r.text, "_t") == token   # same load time and id
    assert stored(app) == []
    r = anon.post(path, data={"_t": token, "_sid": sid, **ALL_A, "grade": "5"})
    assert r.status_code == 200 and len(stored(app)) == 1


def test_retry_and_double_submit_store_once(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S03", "teacher")
    r, token, sid = answer(anon, clock, path, ALL_A)
    assert r.status_code == 200
    for _ in range(3):   # network retry, double tap, back-and-resubmit: same submission id
        again = anon.post(path, data={"_t": token, "_sid": sid, **ALL_A, "overall": "D"})
        assert again.status_code == 200 and "提交成功" in again.text
    rows = stored(app)
    assert len(rows) == 1 and rows[0].overall == "A" and rows[0].duplicate_of is None


def test_second_answer_from_same_device_in_the_same_group_is_flagged_duplicate(app, campaign, anon, client, clock):
    path = "/s/" + link_token(app, campaign, "S03", "parent")
    first, _, sid1 = answer(anon, clock, path, {**ALL_A, "grade": "3"})
    second, _, sid2 = answer(anon, clock, path, {**ALL_A, "grade": "3"})     # new page load, same phone
    other, _, sid3 = answer(client, clock, path, {**ALL_A, "grade": "3"})    # another phone
    assert {first.status_code, second.status_code, other.status_code} == {200}
    rows = {r.submission_id: r for r in stored(app)}
    assert rows[sid1].duplicate_of is None
    assert rows[sid2].duplicate_of == sid1
    assert rows[sid3].duplicate_of is None
    assert rows[sid1].device_hash == rows[sid2].device_hash != rows[sid3].device_hash


def test_device_hash_is_salted_per_campaign(app, campaign, client, anon, clock):
    cid2 = create_campaign(client, name="第二次调查")
    answer(anon, clock, "/s/" + link_token(app, campaign, None, "public"), {**ALL_A, "location": "urban"})
    answer(anon, clock, "/s/" + link_token(app, cid2, None, "public"), {**ALL_A, "location": "urban"})
    a, b = stored(app)
    assert a.device_hash != b.device_hash and b.duplicate_of is None


def test_speeder_is_stored_with_its_short_duration(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, None, "public")
    r, _, _ = answer(anon, clock, path, {**ALL_A, "location": "town"}, wait=7)
    assert r.status_code == 200
    [row] = stored(app)
    assert row.duration_s == 7.0
    assert app.state.profile.recognition["min_duration_s"] > row.duration_s


def test_forged_load_time_is_refused(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, None, "public")
    page = anon.get(path)
    token = hidden(page.text, "_t")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    r = anon.post(path, data={"_t": forged, "_sid": hidden(page.text, "_sid"), **ALL_A, "location": "town"})
    assert r.status_code == 400 and "页面已失效" in r.text and stored(app) == []


def test_closed_and_not_yet_open_campaigns_refuse(app, client, anon, clock):
    login(client)
    future = create_campaign(client, opens_in_h=48, closes_in_h=96, name="未开始")
    r = anon.get("/s/" + link_token(app, future))
    assert r.status_code == 403 and "尚未开始" in r.text
    cid = create_campaign(client, opens_in_h=-1, closes_in_h=1, name="快结束")
    path = "/s/" + link_token(app, cid, None, "public")
    page = anon.get(path)
    assert page.status_code == 200
    clock.advance(2 * 3600)    # the campaign closes while the form is open
    r = anon.post(path, data={"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"), **ALL_A,
                              "location": "urban"})
    assert r.status_code == 410 and "已经结束" in r.text and stored(app) == []
    assert anon.get(path).status_code == 410


def _close(client, cid: int) -> None:
    page = client.get(f"/bureau/campaigns/{cid}")
    r = client.post(f"/bureau/campaigns/{cid}/close", data={"_csrf_token": csrf_token(page.text)})
    assert r.status_code == 200


def test_closing_a_campaign_refuses_answers_at_once_though_it_is_cached(app, campaign, client, anon, clock):
    """Submissions read the campaign from a per-process cache; the batch that would store
    the answer finds the campaign changed and the answer is checked again, and refused."""
    path = "/s/" + link_token(app, campaign, "S02", "teacher")
    first, _, _ = answer(anon, clock, path, ALL_A)          # the campaign is now cached
    page = anon.get(path)
    _close(client, campaign)
    r = anon.post(path, data={"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"), **ALL_A})
    assert first.status_code == 200 and r.status_code == 410 and "已经结束" in r.text
    assert len(stored(app)) == 1


def test_retry_of_a_stored_answer_after_the_close_is_still_thanked(app, campaign, client, anon, clock):
    path = "/s/" + link_token(app, campaign, "S02", "teacher")
    first, token, sid = answer(anon, clock, path, ALL_A)
    _close(client, campaign)
    again = anon.post(path, data={"_t": token, "_sid": sid, **ALL_A})   # the phone never saw the thanks
    assert first.status_code == again.status_code == 200 and "提交成功" in again.text
    assert [r.submission_id for r in stored(app)] == [sid]


def test_answers_are_checked_against_the_schools_of_the_latest_import(app, campaign, anon, clock):
    """Schools re-imported by another instance: no answer of this one is checked against the
    school list cached from before the import, even within one cache period."""
    hot_cache.cache_of(app.state.engine, 30.0)        # as RENKE_CACHE_SECONDS=30 sets
    assert anon.get("/s/" + link_token(app, campaign, None, "public")).status_code == 200  # caches the schools
    rows = (EXAMPLE / "schools.csv").read_text().splitlines()
    without_s25 = "\n".join(r for r in rows if not r.startswith("S25,")) + "\n"
    with Session(app.state.engine, expire_on_commit=False) as s:     # the other instance's import
        assert campaigns.import_schools(s, s.get(Campaign, campaign), "schools.csv", without_s25.encode(),
                                        app.state.profile)[1] == []
    path = "/s/" + link_token(app, campaign)           # a link this instance has not cached yet
    page = anon.get(path + "?q=staff")
    r = anon.post(path, data={"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"),
                              "group": "teacher", "school_code": "S25", **ALL_A})
    assert "S02学校" in page.text and "S25学校" not in page.text
    assert r.status_code == 422 and stored(app) == []


def test_unknown_link_is_a_friendly_404(anon):
    r = anon.get("/s/nosuchlink")
    assert r.status_code == 404 and "链接无效" in r.text and "Traceback" not in r.text
    r = anon.post("/s/nosuchlink", data={"_t": "x", "_sid": "y"})
    assert r.status_code == 404


def test_one_time_code_single_use(app, campaign, client, anon, clock):
    page = client.get(f"/bureau/campaigns/{campaign}")
    token = link_token(app, campaign, "S05", "parent")
    r = client.post(f"/bureau/campaigns/{campaign}/codes",
                    data={"_csrf_token": csrf_token(page.text), "link": token, "count": "3"})
    assert r.status_code == 200 and "填写码" in r.text
    codes = re.findall(r'<span class="code">([A-Z0-9]+)</span>', r.text)
    assert len(codes) == 3 and r.text.count("<svg") == 3
    path = f"/s/{token}?c={codes[0]}"
    r1, t, sid = answer(anon, clock, path, {**ALL_A, "grade": "6"})
    assert r1.status_code == 200
    assert anon.post(f"/s/{token}", data={"_t": t, "_sid": sid, **ALL_A, "grade": "6"}).status_code == 200
    used = client.get(path)            # another phone with the same slip
    assert used.status_code == 409 and "已经用过" in used.text
    assert anon.get(f"/s/{token}?c=WRONG123").status_code == 404
    assert len(stored(app)) == 1 and stored(app)[0].code_id is not None


def test_a_slip_used_meanwhile_is_refused_before_missing_answers_are_asked(app, campaign, client, anon, clock):
    page = client.get(f"/bureau/campaigns/{campaign}")
    token = link_token(app, campaign, "S05", "parent")
    r = client.post(f"/bureau/campaigns/{campaign}/codes",
                    data={"_csrf_token": csrf_token(page.text), "link": token, "count": "1"})
    [code] = re.findall(r'<span class="code">([A-Z0-9]+)</span>', r.text)
    second = client.get(f"/s/{token}?c={code}")           # two phones open the same slip
    assert answer(anon, clock, f"/s/{token}?c={code}", {**ALL_A, "grade": "6"})[0].status_code == 200
    late = client.post(f"/s/{token}", data={"_t": hidden(second.text, "_t"), "_sid": hidden(second.text, "_sid"),
                                            "moral": "A"})
    assert late.status_code == 409 and "已经用过" in late.text and len(stored(app)) == 1


def test_form_page_weight_and_no_external_hosts(app, campaign, anon):
    page = anon.get("/s/" + link_token(app, campaign) + "?q=public")
    raw = page.content
    size = len(gzip.compress(raw, 6))
    assert page.headers.get("content-encoding") == "gzip"       # served compressed
    print(f"\nform page (public, school list of 25): {len(raw)} bytes raw, {size} bytes gzip, "
          f"{page.num_bytes_downloaded} bytes on the wire")
    assert size < 30 * 1024 and page.num_bytes_downloaded < 30 * 1024
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "<script src" not in page.text and "<link" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
