"""A family on one phone (390x844, touch, zh-CN, real Chromium): the pupil answers the student
questionnaire, then a parent the public one, both counted; a second parent is told the answer
is kept but not counted. A failed submit lands on the first question to fix, with and without
JavaScript."""

import pytest

from browser_helpers import SUBMIT, rows, shot_name
from svc_helpers import link_token
from survey_templates import ITEMS

expect = pytest.importorskip("playwright.sync_api").expect


def tap_all(page, option: str = "满意", skip: tuple[str, ...] = ()) -> None:
    for item in ITEMS:
        if item not in skip:
            page.locator(f"#q-{item} label.o").get_by_text(option, exact=True).tap()


def answer_as_parent(page, county: str) -> None:
    page.goto(county)
    page.get_by_role("link", name="家长及社会各界问卷").tap()
    expect(page.locator("#q-school_code")).to_be_hidden()        # asked only once the identity is known
    page.locator("#q-group label.o").get_by_text("学生家长", exact=True).tap()
    expect(page.locator("#q-school_code")).to_be_visible()
    expect(page.locator("#q-location")).to_be_hidden()           # the public's question, not a parent's
    page.locator("select[name=school_code]").select_option("S01")
    page.locator("select[name=grade]").select_option("3")
    tap_all(page)
    page.locator(SUBMIT).tap()


def test_family_answers_twice_on_one_phone(app, campaign, live, phone, shot):
    county = f"{live}/s/{link_token(app, campaign)}"
    phone.goto(county)
    phone.get_by_role("link", name="学生问卷").tap()
    phone.locator("select[name=school_code]").select_option("S01")
    offered = phone.locator("select[name=grade] option:not([disabled])").all_inner_texts()
    assert offered == ["请选择", "3 年级", "4 年级", "5 年级", "6 年级"]   # a primary school's grades
    phone.locator("select[name=grade]").select_option("4")
    tap_all(phone)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")

    phone.goto(county)
    expect(phone.get_by_role("link", name="学生问卷")).to_contain_text("已提交")
    answer_as_parent(phone, county)
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    expect(phone.locator("main")).not_to_contain_text("不会重复计入")
    shot(phone, "parent-thanks")

    answer_as_parent(phone, county)                              # the other parent, same phone
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    expect(phone.locator("main")).to_contain_text("已经提交过一份“家长”的答卷")
    expect(phone.locator("main")).to_contain_text("不会重复计入统计")
    stored = sorted(rows(app), key=lambda r: r.id)
    assert [(r.group, r.duplicate_of is None) for r in stored] == [("student", True), ("parent", True),
                                                                 ("parent", False)]
    assert stored[2].duplicate_of == stored[1].submission_id

    phone.goto(county + "?q=public")                             # a reload says it was submitted
    expect(phone.locator("p.done")).to_contain_text("已提交")
    phone.evaluate("document.documentElement.style.fontSize = '200%'")   # the phone's largest font
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def test_failed_submit_lands_on_the_first_missing_question(app, campaign, live, phone, chromium, request):
    path = f"{live}/s/{link_token(app, campaign, None, 'public')}"
    phone.goto(path)
    phone.locator("#q-location label.o").get_by_text("镇区", exact=True).tap()
    tap_all(phone, skip=("quality", "burden"))
    phone.locator(SUBMIT).tap()
    expect(phone.get_by_role("alert")).to_contain_text("还有 2 处未完成")
    expect(phone.locator("#q-quality input[value=A]")).to_be_focused()
    assert in_view(phone, "#q-quality legend"), "the first missing question is on screen"
    assert rows(app) == []

    # Without JavaScript the re-rendered page focuses (and so scrolls to) the same question.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                   locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(path)
        page.locator("#q-location label.o").get_by_text("镇区", exact=True).tap()
        tap_all(page, skip=("quality", "burden"))
        page.locator(SUBMIT).tap()
        expect(page.get_by_role("alert")).to_contain_text("还有 2 处未完成")
        expect(page.locator("#q-quality input[value=A]")).to_be_focused()
        assert in_view(page, "#q-quality")
        page.screenshot(path=shot_name(request.node.name, "no-js"), full_page=False)
    finally:
        context.close()
    assert rows(app) == []


def test_expired_form_reloads_keeping_the_answers(app, campaign, live, phone):
    """A form held open past the token's age is reloaded fresh by its script, the answers kept."""
    app.state.settings.form_token_max_age_s = 2
    phone.goto(f"{live}/s/{link_token(app, campaign, 'S15', 'student')}")
    old_sid = phone.locator("input[name=_sid]").input_value()
    phone.locator("select[name=grade]").select_option("8")
    tap_all(phone, option="基本满意")
    phone.wait_for_timeout(2500)
    phone.locator(SUBMIT).tap()
    expect(phone.locator("#net")).to_contain_text("已为您重新打开问卷并保留了填好的答案")
    assert phone.locator("input[name=_sid]").input_value() != old_sid
    expect(phone.locator("select[name=grade]")).to_have_value("8")
    for item in ITEMS:
        expect(phone.locator(f"#q-{item} input[value=C]")).to_be_checked()
    assert rows(app) == []
    app.state.settings.form_token_max_age_s = 12 * 3600      # the fresh page is answered in time
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    [row] = rows(app)
    assert (row.grade, row.overall) == (8, "C")
