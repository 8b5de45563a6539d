"""The forecast of the official survey and the what-if table on the verdict page in Debian's
Chromium, kept as screenshots: test-artifacts/screenshots/test_browser_forecast_and_what_if-section.png (and the whole page)."""

import pytest

from browser_helpers import log_in, shot_name
from forecast_helpers import campaign_of, example_records, lowered
from inspector_helpers import COUNTY_A, EXAMPLE_OF, PW, browser, county_url, example_zip, make_users, upload

expect = pytest.importorskip("playwright.sync_api").expect
Axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe


@pytest.fixture
def county(app) -> str:
    """The passing example county with lowered answers: its forecast is below 95 %."""
    make_users(app)
    with browser(app, "bureau_a") as c:
        upload(c, COUNTY_A, [(f"{EXAMPLE_OF[COUNTY_A]}.zip", example_zip(EXAMPLE_OF[COUNTY_A]))])
    campaign_of(app, COUNTY_A, lowered(example_records("example-pass")))
    return COUNTY_A


def test_browser_forecast_and_what_if(app, live, desk, county):
    log_in(desk, live, "bureau_a", PW)
    desk.goto(live + county_url(county, "/verdict"))
    forecast = desk.locator("#forecast")
    expect(forecast.locator("#forecast-sentence")).to_contain_text("若正式调查访问到的人群与本次相近，达到 85% 的把握约为")
    expect(forecast.locator("#forecast-caveat")).to_contain_text("只计入抽样的偶然误差")
    expect(forecast.locator("#whatif-plain")).to_contain_text("不会改变人们的看法")
    expect(forecast.locator("#whatif-groups tr")).to_have_count(1 + 7)
    box = forecast.bounding_box()
    assert box and box["width"] <= 1280
    forecast.screenshot(path=shot_name("test_browser_forecast_and_what_if", "section"))


def test_the_forecast_section_has_no_serious_accessibility_violation(app, live, desk, county):
    log_in(desk, live, "bureau_a", PW)
    desk.goto(live + county_url(county, "/verdict"))
    expect(desk.locator("#whatif-groups")).to_be_visible()
    results = Axe().run(desk, context="#forecast", options={"resultTypes": ["violations"], "runOnly": {
        "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    blocking = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert blocking == []
