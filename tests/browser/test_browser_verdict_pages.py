"""The verdict page, its per-question table and the PDF report in Debian's Chromium, kept as
screenshots in test-artifacts/screenshots/: each test's last page (the verdict page; the PDF's
first page in Chromium's own viewer) and test_browser_per_question_table.png."""

import pytest

from browser_helpers import log_in, shot_name
from inspector_helpers import COUNTY_B, EXAMPLE_OF, PW, browser, campaign_with_responses, county_url, example_zip, \
    make_users, upload
from scoring import names as N

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def county(app) -> str:
    """The failing example county: its workbook and its answers, set up through the service."""
    make_users(app)
    with browser(app, "bureau_b") as c:
        upload(c, COUNTY_B, [(f"{EXAMPLE_OF[COUNTY_B]}.zip", example_zip(EXAMPLE_OF[COUNTY_B]))])
    campaign_with_responses(app, COUNTY_B, EXAMPLE_OF[COUNTY_B])
    return COUNTY_B


def test_verdict_page_shows_check_sentences_and_the_per_question_table(app, live, desk, county):
    log_in(desk, live, "province", PW)
    desk.goto(live + county_url(county, "/verdict"))
    expect(desk.locator("#banner")).to_contain_text(N.profile_title(app.state.profile))
    s4 = desk.locator("#recognition tr", has_text="S4 ")
    expect(s4).to_contain_text("样本 城区")
    expect(s4).not_to_contain_text("sample_shares")
    questions = desk.locator("#questions")
    expect(questions.locator("h2")).to_contain_text("各题认可情况")
    expect(questions.locator("table.questions tr")).to_have_count(1 + len(N.ITEMS))
    expect(questions.locator("svg rect")).not_to_have_count(0)
    box = questions.bounding_box()
    assert box and box["width"] <= 1280                       # the table fits the desktop width
    questions.screenshot(path=shot_name("test_browser_per_question_table"))


def test_report_pdf_first_page_in_chromium(app, live, desk, county, tmp_path):
    log_in(desk, live, "province", PW)
    desk.goto(live + county_url(county, "/verdict"))
    with desk.expect_download() as info:
        desk.get_by_role("link", name="PDF 报告").click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    from pypdf import PdfReader
    assert PdfReader(pdf).metadata.title == f"{county} · 评估报告"
    desk.goto(pdf.as_uri())                # Chromium's PDF viewer: the fixture's screenshot is page 1
    desk.wait_for_timeout(1500)            # the viewer paints its first page after loading
