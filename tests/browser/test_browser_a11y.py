"""Accessibility of the respondent pages at a phone viewport: axe-core (bundled in the
axe-playwright-python package, so nothing is fetched) finds no serious or critical violation on
the choice page, each questionnaire's form, the form with errors, the thanks page and a refusal;
and the keyboard reaches the questions in order, before the submit button."""

import json

import pytest

from browser_helpers import ARTIFACTS, SUBMIT, answer
from svc_helpers import link_token
from survey_templates import ITEMS

expect = pytest.importorskip("playwright.sync_api").expect
Axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe

BLOCKING = ("serious", "critical")


def check(page, name: str) -> None:
    """axe-core over the whole page; fails on a serious or critical violation (all kept in the report)."""
    results = Axe().run(page, options={"resultTypes": ["violations"],
                                       "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                             "wcag21aa", "wcag22aa", "best-practice"]}})
    violations = results.response["violations"]
    (ARTIFACTS / "axe").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe" / f"{name}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8")
    blocking = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
                for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: {blocking}"


def test_the_choice_page_and_each_questionnaire_have_no_serious_violation(app, campaign, live, phone):
    phone.goto(f"{live}/s/{link_token(app, campaign)}")       # the county-wide link: choose a questionnaire
    expect(phone.locator("a.btn")).to_have_count(3)
    check(phone, "choose")
    hrefs = phone.locator("a.btn").evaluate_all("els => els.map(e => e.href)")
    for href in hrefs:
        phone.goto(href)
        expect(phone.locator("form#f")).to_be_visible()
        check(phone, "form-" + href.rsplit("=", 1)[1])


def test_form_with_errors_thanks_and_refusal_have_no_serious_violation(app, campaign, live, phone):
    phone.goto(f"{live}/s/{link_token(app, campaign, 'S01', 'student')}")
    check(phone, "form-student-school")
    phone.locator(SUBMIT).tap()                                  # nothing answered
    expect(phone.get_by_role("alert")).to_be_visible()
    check(phone, "form-errors")
    answer(phone)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    check(phone, "thanks")
    phone.goto(f"{live}/s/no-such-link")
    expect(phone.locator("h1")).to_have_text("链接无效")
    check(phone, "refusal")


def test_keyboard_reaches_every_question_in_order_before_submit(app, campaign, live, phone):
    phone.goto(f"{live}/s/{link_token(app, campaign, 'S01', 'student')}")
    order = []
    for _ in range(40):
        phone.keyboard.press("Tab")
        name = phone.evaluate("(() => { const e = document.activeElement;"
                              " return e === document.body ? null : (e.name || e.tagName.toLowerCase()); })()")
        order.append(name)
        if name == "button":
            break
    assert order[0] == "grade" and order[-1] == "button", order
    assert [n for n in order if n in ITEMS] == list(ITEMS), order   # each question once, in reading order
    assert order.index("overall") < order.index("comment") < order.index("button")
    # the focused option is visibly marked
    phone.locator("#q-moral input").first.focus()
    outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
