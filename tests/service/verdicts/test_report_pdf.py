"""The A4 report as a real PDF (WeasyPrint, Noto CJK): its pages, its Chinese text, its width."""

import io

import pytest
from inspector_helpers import COUNTY_A, COUNTY_B, EXAMPLE_OF, browser, campaign_with_responses, county_url, \
    example_zip, make_users, upload
from pypdf import PdfReader

from scoring import display
from scoring import names as N

A4_PT = (595.28, 841.89)     # 210 × 297 mm in PDF points


@pytest.fixture
def world(app):
    make_users(app)
    for county, bureau in ((COUNTY_A, "bureau_a"), (COUNTY_B, "bureau_b")):
        with browser(app, bureau) as c:
            upload(c, county, [(f"{EXAMPLE_OF[county]}.zip", example_zip(EXAMPLE_OF[county]))])
        campaign_with_responses(app, county, EXAMPLE_OF[county])


def _pdf(app, county: str) -> tuple[PdfReader, dict]:
    with browser(app, "province") as c:
        r = c.get(county_url(county, "/report.pdf"))
        verdict = c.get(county_url(county, "/verdict.json")).json()
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    return PdfReader(io.BytesIO(r.content)), verdict


@pytest.mark.parametrize("county", [COUNTY_A, COUNTY_B])
def test_report_pdf_has_its_pages_and_extractable_chinese_text(app, world, county):
    pdf, verdict = _pdf(app, county)
    # Cards, two stages of schools, four parts, S1–S7, the per-question table and the ledger:
    # more than one page, and not one page per table row.
    assert 3 <= len(pdf.pages) <= 10
    text = "".join(page.extract_text() for page in pdf.pages)
    assert f"{county} 县域义务教育优质均衡发展督导评估报告" in text
    assert ("未通过优质均衡评估" in text) == (not verdict["passed"])
    for name in ("资源配置", "政府保障程度", "教育质量", "社会认可度", "各题认可情况", "短板台账",
                 N.profile_title(app.state.profile)):
        assert name.replace(" ", "") in text.replace(" ", "").replace("\n", ""), name
    rate = verdict["parts"]["recognition"]["rate"]
    assert display.percent(rate, passed=rate >= 0.85) in text
    assert "sample_shares" not in text and "{" not in text


def test_report_pdf_pages_are_a4_and_nothing_runs_past_the_right_edge(app, world):
    pdf, _ = _pdf(app, COUNTY_B)
    for page in pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 1), round(height, 1)) == (round(A4_PT[0], 1), round(A4_PT[1], 1))
        starts = []
        page.extract_text(visitor_text=lambda text, cm, tm, *_: starts.append(tm[4] * cm[0] + cm[4])
                          if text.strip() else None)
        assert starts and max(starts) < width - 20          # inside the 12 mm right margin's edge


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
