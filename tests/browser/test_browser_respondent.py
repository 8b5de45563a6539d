"""The phone form in a real Chromium at a phone viewport (390x844, touch, zh-CN): a respondent
opens the QR link, answers with taps and submits; a missing answer, a double tap and a network
cut at submit behave as a person on a phone needs them to."""

import pytest

from browser_helpers import SUBMIT, answer, rows
from svc_helpers import link_token
from survey_templates import ITEMS

expect = pytest.importorskip("playwright.sync_api").expect


def open_form(page, live, app, campaign, school="S01", group="student") -> str:
    """Open the link a QR code carries; the form's submission id."""
    page.goto(f"{live}/s/{link_token(app, campaign, school, group)}")
    expect(page.locator("form#f")).to_be_visible()
    return page.locator("input[name=_sid]").input_value()


def test_scan_link_answer_and_see_thanks(app, campaign, live, phone):
    sid = open_form(phone, live, app, campaign)
    expect(phone.locator("h1")).to_contain_text("学生")
    expect(phone.locator("main")).to_contain_text("学校：")
    answer(phone)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    [row] = rows(app)
    assert (row.submission_id, row.group, row.school_code, row.grade) == (sid, "student", "S01", 5)
    assert all(getattr(row, item) == "B" for item in ITEMS)


def test_missing_answer_is_shown_next_to_its_question_and_answers_are_kept(app, campaign, live, phone, shot):
    sid = open_form(phone, live, app, campaign)
    answer(phone, skip=("burden",), option="满意")
    phone.locator(SUBMIT).tap()

    question = phone.locator("fieldset#q-burden")
    message = question.locator("#e-burden")          # inside the question's own block
    expect(message).to_have_text("这道题还没有作答")
    expect(question).to_have_class("err")
    expect(phone.get_by_role("alert")).to_contain_text("还有 1 处未完成")
    assert phone.locator("p.msg[id^=e-]").count() == 1   # no other question marked
    q, m, first = question.bounding_box(), message.bounding_box(), question.locator("label.o").first.bounding_box()
    assert q["y"] <= m["y"] and m["y"] + m["height"] <= first["y"], "the message sits between the question and its options"
    assert q["x"] <= m["x"] and m["x"] + m["width"] <= q["x"] + q["width"]
    for radio in question.locator("input[type=radio]").all():   # and a screen reader reads it with each option
        expect(radio).to_have_attribute("aria-describedby", "e-burden")
        expect(radio).to_have_attribute("aria-invalid", "true")
    shot(phone, "error")

    for item in ITEMS:                                # what was answered is still answered
        if item != "burden":
            expect(phone.locator(f"#q-{item} input[value=A]")).to_be_checked()
    expect(phone.locator("select[name=grade]")).to_have_value("5")
    assert rows(app) == []

    question.locator("label.o").get_by_text("不了解", exact=True).tap()
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    [row] = rows(app)
    assert (row.submission_id, row.burden, row.moral, row.grade) == (sid, "E", "A", 5)


def test_double_tap_on_submit_stores_one_response(app, campaign, live, phone):
    sid = open_form(phone, live, app, campaign)
    answer(phone)
    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    phone.locator(SUBMIT).dblclick()                  # two taps in quick succession
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    phone.wait_for_timeout(300)                       # let a second request, if any, land
    assert [r.submission_id for r in rows(app)] == [sid]
    assert 1 <= len(posts) <= 2


def test_network_cut_at_submit_keeps_answers_and_sends_them_once_when_back(app, campaign, live, phone, shot):
    sid = open_form(phone, live, app, campaign, "S02")
    answer(phone)
    phone.context.set_offline(True)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("#net")).to_contain_text("答案已保存在本机")
    expect(phone.locator("#net")).to_be_visible()
    saved = phone.evaluate("localStorage.getItem('rk:' + location.pathname)")
    assert saved and f"_sid={sid}" in saved and "overall=B" in saved
    expect(phone.locator("#q-overall input[value=B]")).to_be_checked()   # the form is still filled in
    assert rows(app) == []
    shot(phone, "offline")

    phone.context.set_offline(False)                  # back online: the page resends by itself
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！", timeout=20_000)
    phone.wait_for_timeout(300)
    assert [r.submission_id for r in rows(app)] == [sid]
    assert phone.evaluate("Object.keys(localStorage).filter(k => k.startsWith('rk:')).length") == 0
