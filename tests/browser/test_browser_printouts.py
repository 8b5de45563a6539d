"""Printouts and the progress page in Chromium: the slips fit the A4 printable width (190 mm =
718 CSS px at the slips' 10 mm margins), and on a phone the progress page keeps its width and
its tables scroll instead of wrapping one character per line."""

import pytest

from svc_helpers import ADMIN, PASSWORD, csrf_token, link_token, open_campaign

from browser_helpers import log_in  # noqa: E402
expect = pytest.importorskip("playwright.sync_api").expect
A4_PRINTABLE_PX = 718


def test_slips_fit_the_a4_printable_width(app, live, client, desk):
    cid = open_campaign(client)
    page = client.get(f"/bureau/campaigns/{cid}").text
    client.post(f"/bureau/campaigns/{cid}/codes", data={
        "_csrf_token": csrf_token(page), "link": link_token(app, cid, "S01", "parent"), "count": "6"})
    log_in(desk, live, ADMIN, PASSWORD)
    desk.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1000})
    desk.goto(f"{live}/bureau/campaigns/{cid}/codes/1")
    expect(desk.locator(".link-warning")).to_contain_text("家长的手机打不开")     # served from 127.0.0.1
    desk.emulate_media(media="print")
    expect(desk.locator(".slip").first).to_be_visible()
    assert desk.evaluate("document.documentElement.scrollWidth") <= A4_PRINTABLE_PX
    widest = desk.evaluate("Math.max(...[...document.querySelectorAll('.slip')].map(e => e.getBoundingClientRect().right))")
    assert widest <= A4_PRINTABLE_PX


def test_progress_page_on_a_phone_keeps_its_width_and_does_not_wrap_cells(app, live, client, phone):
    cid = open_campaign(client)
    log_in(phone, live, ADMIN, PASSWORD)
    phone.goto(f"{live}/bureau/campaigns/{cid}")
    expect(phone.locator("progress.bar")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # a header cell of a school table is one line high, not a column of single characters
    heights = phone.evaluate("[...document.querySelectorAll('section table th')].map(e => e.getBoundingClientRect().height)")
    assert heights and max(heights) < 40, heights
