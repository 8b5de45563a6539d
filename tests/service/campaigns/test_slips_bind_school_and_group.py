"""Slips bind the school and group, not one URL (issue 20): once slips are printed for a school's
group, every link reaching that group at that school asks for a code, and the code-required page
has a box that takes the code in any case, with or without spaces."""

import re

from sqlmodel import Session, select
from svc_helpers import ALL_A, answer, csrf_token, link_token

from service.db.models import Answer


def print_slips(app, client, campaign: int, school: str | None, group: str | None, count: int = 2) -> list[str]:
    page = client.get(f"/bureau/campaigns/{campaign}")
    r = client.post(f"/bureau/campaigns/{campaign}/codes", data={
        "_csrf_token": csrf_token(page.text), "link": link_token(app, campaign, school, group), "count": str(count)})
    assert r.status_code == 200
    return re.findall(r'<span class="code">([A-Z0-9]+)</span>', r.text)


def stored(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer)))


def test_slips_for_a_schools_parents_make_its_combined_link_ask_for_a_code_with_a_box(app, client, campaign, anon):
    print_slips(app, client, campaign, "S01", "parent")
    combined = "/s/" + link_token(app, campaign, "S01")
    r = anon.get(combined + "?q=public")
    assert r.status_code == 403 and "需要填写码" in r.text
    assert 'action="/s/_/code"' in r.text and 'name="c"' in r.text        # a box to type the code
    assert anon.get(combined + "?q=student").status_code == 200             # the school's pupils: no slips
    assert anon.get("/s/" + link_token(app, campaign, "S02") + "?q=public").status_code == 200   # another school


def test_the_county_wide_link_asks_for_a_code_for_that_school_and_group_only(app, client, campaign, anon, clock):
    print_slips(app, client, campaign, "S01", "parent")
    county = "/s/" + link_token(app, campaign) + "?q=public"
    r, _, _ = answer(anon, clock, county, {**ALL_A, "group": "parent", "school_code": "S01", "grade": "3"})
    assert r.status_code == 403 and "需要填写码" in r.text and 'name="c"' in r.text
    assert stored(app) == []
    anon.cookies.clear()
    r, _, _ = answer(anon, clock, county, {**ALL_A, "group": "parent", "school_code": "S02", "grade": "3"})
    assert r.status_code == 200 and "提交成功" in r.text
    assert [(a.school_code, a.group) for a in stored(app)] == [("S02", "parent")]


def test_the_code_box_takes_the_code_in_any_case_with_or_without_spaces(app, client, campaign, anon, clock):
    code = print_slips(app, client, campaign, "S01", "parent", count=1)[0]
    typed = " ".join([code[:4].lower(), code[4:]])                           # "abcd EFGH"
    r = anon.get("/s/_/code", params={"c": f" {typed} "}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/s/{link_token(app, campaign, 'S01', 'parent')}?c={code}"
    r, _, sid = answer(anon, clock, r.headers["location"], {**ALL_A, "grade": "3"})
    assert r.status_code == 200 and "提交成功" in r.text
    assert [a.submission_id for a in stored(app)] == [sid]                  # stored exactly once
    assert anon.get(f"/s/{link_token(app, campaign, 'S01', 'parent')}?c={code.lower()}").status_code == 409   # used


def test_an_unknown_typed_code_is_refused_with_the_box_again(app, client, campaign, anon):
    r = anon.get("/s/_/code", params={"c": "ZZZZ ZZZZ"})
    assert r.status_code == 404 and "填写码无效" in r.text and 'name="c"' in r.text
