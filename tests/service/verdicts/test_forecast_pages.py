"""The forecast of the official survey and its what-if on the verdict page, the report PDF and
the mock acceptance, computed from the same SQL sums as the verdict (issue 24)."""

import csv
import io

import pytest
from forecast_helpers import campaign_of, example_records, lowered, without_cppcc
from inspector_helpers import COUNTY_A, COUNTY_B, EXAMPLE_OF, EXAMPLES, browser, county_url, example_zip, \
    make_users, upload
from pypdf import PdfReader

from scoring.profile import load_profile
from scoring.recognition import FORECAST_CAVEAT, aggregate_responses, forecast_sentence
from scoring.responses import read_responses
from scoring.verdict import evaluate
from scoring.whatif import PLAIN, county_what_if, headline, row_text
from scoring.workbook import read_workbook

PROFILE = load_profile()


def file_verdict(example: str, records: list[dict]):
    """The verdict and what-if the CLI's way: the responses file read row by row."""
    folder = EXAMPLES / example
    workbook = read_workbook(folder, profile=PROFILE)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    responses = read_responses(buf.getvalue().encode(), set(workbook.schools["school_code"]))
    verdict = evaluate(workbook, responses, PROFILE)
    return verdict, county_what_if(verdict, workbook, aggregate_responses(responses, PROFILE), PROFILE)


@pytest.fixture
def world(app):
    """County A (example-pass) with lowered answers, county B (example-fail) without CPPCC members."""
    make_users(app)
    for county, bureau in ((COUNTY_A, "bureau_a"), (COUNTY_B, "bureau_b")):
        with browser(app, bureau) as c:
            upload(c, county, [(f"{EXAMPLE_OF[county]}.zip", example_zip(EXAMPLE_OF[county]))])
    campaign_of(app, COUNTY_A, lowered(example_records("example-pass")))
    campaign_of(app, COUNTY_B, without_cppcc(example_records("example-fail")))


def flat(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def test_verdict_page_shows_the_forecast_in_words_from_the_sql_sums(app, world):
    verdict, _ = file_verdict("example-pass", lowered(example_records("example-pass")))
    forecast = verdict.recognition.official_forecast
    assert forecast is not None and forecast.p_pass < 0.95
    with browser(app, "bureau_a") as c:
        page = c.get(county_url(COUNTY_A, "/verdict")).text
        data = c.get(county_url(COUNTY_A, "/verdict.json")).json()
    assert data["parts"]["recognition"]["official_forecast"]["p_pass"] == pytest.approx(forecast.p_pass, abs=1e-9)
    assert forecast_sentence(forecast) in page
    assert "若正式调查访问到的人群与本次相近，达到 85% 的把握约为" in page
    assert FORECAST_CAVEAT in page
    for warning in verdict.recognition.rate.warnings:      # the thin groups, repeated beside the forecast
        assert page.count(warning) >= 2


def test_verdict_page_shows_the_what_if_table_as_scoring_computes_it(app, world):
    verdict, expected = file_verdict("example-pass", lowered(example_records("example-pass")))
    assert expected.applies and expected.rows
    with browser(app, "bureau_a") as c:
        page = c.get(county_url(COUNTY_A, "/verdict")).text
    assert 'id="whatif-groups"' in page and headline(expected) in page and PLAIN in page
    assert "不会改变人们的看法" in page
    for row in expected.group_rows:
        assert row_text(row) in page
    for row in expected.school_rows[:3]:
        assert row_text(row) in page
    assert 'id="whatif-drags"' in page


def test_a_missing_group_is_named_and_no_forecast_is_made(app, world):
    with browser(app, "bureau_b") as c:
        page = c.get(county_url(COUNTY_B, "/verdict")).text
        data = c.get(county_url(COUNTY_B, "/verdict.json")).json()
    assert data["parts"]["recognition"]["official_forecast"] is None
    assert 'id="forecast-missing"' in page and "政协委员" in page and "无法预测正式调查的结果" in page
    assert 'id="forecast-sentence"' not in page


def test_report_pdf_reads_the_forecast(app, world):
    verdict, _ = file_verdict("example-pass", lowered(example_records("example-pass")))
    with browser(app, "province") as c:
        r = c.get(county_url(COUNTY_A, "/report.pdf"))
    assert r.status_code == 200
    text = flat("".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages))
    assert flat(forecast_sentence(verdict.recognition.official_forecast)) in text
    assert flat(FORECAST_CAVEAT) in text


def test_mock_acceptance_reads_the_forecast_and_the_missing_group(app, world):
    verdict, _ = file_verdict("example-pass", lowered(example_records("example-pass")))
    with browser(app, "province") as c:
        a = c.get(county_url(COUNTY_A, "/mock-acceptance")).text
        b = c.get(county_url(COUNTY_B, "/mock-acceptance")).text
        pdf = c.get(county_url(COUNTY_A, "/mock-acceptance.pdf"))
    assert forecast_sentence(verdict.recognition.official_forecast) in a and FORECAST_CAVEAT in a
    assert "政协委员" in b and "无法预测正式调查的结果" in b
    text = flat("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert flat(forecast_sentence(verdict.recognition.official_forecast)) in text


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
