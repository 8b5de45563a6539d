"""Trends across surveys in a desktop Chromium: the bureau reads its three years of surveys on
the monitoring page — the chart, the table and the change since the last survey — and the
province reads every county's surveys side by side from its home. Screenshots
of the page and of the trends section in test-artifacts/."""

import pytest
from browser_helpers import log_in, shot_name
from inspector_helpers import COUNTY_A, COUNTY_B, PW, make_users
from trend_helpers import slightly_better, survey, worse

expect = pytest.importorskip("playwright.sync_api").expect


def test_bureau_reads_three_years_of_surveys_side_by_side(request, app, live, desk):
    make_users(app)
    survey(app, 2024, "2024年满意度调查", worse)
    survey(app, 2025, "2025年满意度调查", slightly_better)
    survey(app, 2026, "2026年满意度调查")
    log_in(desk, live, "bureau_a", PW)
    desk.goto(f"{live}/inspector/counties/{COUNTY_A}/roadmap")
    desk.get_by_role("link", name="历年监测").click()
    section = desk.locator("#survey-trends")
    expect(section.locator("h3")).to_have_text("历次满意度调查 · 社会认可度")
    expect(section.get_by_role("img", name="历次调查的认可度及 95% 区间")).to_be_visible()
    header = section.locator("table tr").first
    for year in (2024, 2025, 2026):
        expect(header).to_contain_text(f"{year} 年")
    rate = section.locator("tr", has=desk.locator("td", has_text="认可度")).first
    expect(rate.locator("td.change")).to_contain_text("超出抽样误差")
    section.screenshot(path=shot_name(request.node.name, "section"))


def test_province_reads_every_countys_surveys_from_its_home(request, app, live, desk):
    make_users(app)
    survey(app, 2024, "2024年满意度调查", worse)
    survey(app, 2026, "2026年满意度调查")
    survey(app, 2025, "示范县2025年调查", county=COUNTY_B)
    log_in(desk, live, "province", PW)
    desk.get_by_role("link", name="历次调查").click()
    expect(desk.locator("h2")).to_have_text("各县历次满意度调查 · 社会认可度")
    row = desk.locator("tr", has=desk.get_by_role("link", name=COUNTY_A))
    expect(row.locator("td.change")).to_contain_text("超出抽样误差")
    expect(desk.locator("tr", has=desk.get_by_role("link", name=COUNTY_B))).to_contain_text("仅 1 次调查")
    desk.screenshot(path=shot_name(request.node.name, "overview"), full_page=True)
    row.get_by_role("link", name=COUNTY_A).click()                   # on to the county's own trends
    expect(desk.locator("#survey-trends h3")).to_have_text("历次满意度调查 · 社会认可度")
