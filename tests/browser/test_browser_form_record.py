"""The form's record of how it was answered (issue 23) in a real Chromium at a phone viewport: written by the
form's script and stored with the answer; with JavaScript off the form still works and stores none."""

import re

import pytest

from browser_helpers import SUBMIT, answer, rows
from svc_helpers import link_token

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def test_the_form_records_time_to_first_answer_sections_and_changes(app, campaign, live, phone):
    phone.goto(f"{live}/s/{link_token(app, campaign, 'S01', 'student')}")
    expect(phone.locator("form#f")).to_be_visible()
    phone.wait_for_timeout(300)
    answer(phone, option="满意")
    phone.locator("#q-burden label.o").get_by_text("比较满意", exact=True).tap()     # one answer changed
    phone.locator(SUBMIT).tap()
    expect(phone.locator("h1")).to_have_text("提交成功，谢谢您！")
    [row] = rows(app)
    record = re.fullmatch(r"f([\d.]+);s([\d.]+),([\d.]+),([\d.]+);c(\d+)", row.form_trace or "")
    assert record, row.form_trace
    first, identity, items, comment, changed = (float(v) for v in record.groups())
    assert first >= 0.2 and items >= 0 and comment == 0 and changed == 1


def test_the_form_works_without_javascript_and_stores_no_record(app, campaign, live, chromium):
    context = chromium.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live}/s/{link_token(app, campaign, 'S01', 'student')}")
        answer(page)
        page.locator(SUBMIT).tap()
        expect(page.locator("h1")).to_have_text("提交成功，谢谢您！")
    finally:
        context.close()
    [row] = rows(app)
    assert row.form_trace is None and row.group == "student"
