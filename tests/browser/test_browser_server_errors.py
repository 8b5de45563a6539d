"""Issue 21, finding 12: a server error does not throw the person's answers away. In a real
Chromium at a phone viewport, the form's post is answered 500 and 503 (with Retry-After) by
a route in front of the server; the page keeps the answers, says it is retrying, resends
them with the same submission id until the server stores them, and only then forgets them.
A refusal the person can act on (a 4xx with a Chinese message) is shown and ends it."""

import re

import pytest

from browser_helpers import SUBMIT, answer, rows
from svc_helpers import link_token

expect = pytest.importorskip("playwright.sync_api").expect
ERROR_PAGE = "<!doctype html><html lang=zh-CN><body><h1>服务器暂时出错</h1></body></html>"


def saved(page) -> str | None:
    return page.evaluate("localStorage.getItem('rk:' + location.pathname)")


def test_finding_12_a_server_error_keeps_the_answers_and_resends_them_until_stored(app, campaign, live, phone, shot):
    path = f"/s/{link_token(app, campaign, 'S01', 'student')}"
    phone.goto(live + path)
    sid = phone.locator("input[name=_sid]").input_value()
    posts: list[str] = []

    def flaky(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.post_data or "")
        if len(posts) == 1:      # stored, but the answer is lost on the way: a 500 from the proxy
            route.fetch()
            route.fulfill(status=500, body=ERROR_PAGE, content_type="text/html; charset=utf-8")
        elif len(posts) == 2:    # the database is down: 503, come back in a second
            route.fulfill(status=503, body=ERROR_PAGE, content_type="text/html; charset=utf-8",
                          headers={"Retry-After": "1"})
        else:
            route.continue_()
    phone.route(re.compile(re.escape(live + path) + r"$"), flaky)

    answer(phone)
    phone.locator(SUBMIT).tap()
    net = phone.locator("#net")
    expect(net).to_contain_text("正在自动重新提交")
    expect(net).to_be_visible()
    assert saved(phone) and f"_sid={sid}" in saved(phone)
    expect(phone.locator("#q-overall input[value=B]")).to_be_checked()   # still the filled-in form
    shot(phone, "retrying")

    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！", timeout=20_000)
    phone.wait_for_timeout(300)
    assert len(posts) == 3 and all(f"_sid={sid}" in p for p in posts), posts
    assert [r.submission_id for r in rows(app)] == [sid]
    assert saved(phone) is None


def test_finding_12_a_refusal_the_person_can_act_on_is_shown_and_the_saved_copy_forgotten(app, campaign, live, phone):
    path = f"/s/{link_token(app, campaign, 'S01', 'student')}"
    phone.goto(live + path)
    posts: list[str] = []

    def refuse(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.post_data or "")
        if len(posts) == 1:
            route.fulfill(status=503, body=ERROR_PAGE, content_type="text/html; charset=utf-8",
                          headers={"Retry-After": "1"})
        else:
            route.fulfill(status=409, content_type="text/html; charset=utf-8",
                          body="<!doctype html><html lang=zh-CN><body><h1>填写码已使用</h1></body></html>")
    phone.route(re.compile(re.escape(live + path) + r"$"), refuse)

    answer(phone)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("填写码已使用", timeout=20_000)
    assert len(posts) == 2
    assert phone.evaluate("Object.keys(localStorage).filter(k => k.startsWith('rk:')).length") == 0
    assert rows(app) == []
