"""Trends across surveys for the province (issue 24: "and a province's counties side by side"):
every county's real surveys by year with the rate and its interval, the latest change and
whether it exceeds the noise; counties without a survey named apart; an inspector sees only
their own counties; a county's bureau is refused."""

import re

import pytest
from inspector_helpers import COUNTY_A, COUNTY_B, browser, make_users
from sqlmodel import Session, select
from trend_helpers import all_d, survey, worse

from scoring import names as N
from scoring.recognition import evaluate_rate
from scoring.responses import read_responses
from service.db.models import School
from chinese_text import leaks, visible_text


@pytest.fixture
def surveys(app):
    """示例县: 2024 (worse) and 2026; 示范县: 2025 only; a test campaign that never counts."""
    make_users(app)
    ids = {"a2024": survey(app, 2024, "2024年满意度调查", worse), "a2026": survey(app, 2026, "2026年满意度调查"),
           "b2025": survey(app, 2025, "示范县2025年调查", county=COUNTY_B)}
    survey(app, 2026, "内部演练", all_d, is_test=True)
    return ids


def rate_of(app, client, cid: int):
    with Session(app.state.engine) as s:
        codes = set(s.exec(select(School.school_code).where(School.campaign_id == cid)).all())
    return evaluate_rate(read_responses(client.get(f"/bureau/campaigns/{cid}/export.csv").content, codes),
                         app.state.profile)


def county_row(page: str, county: str) -> list[str]:
    row = re.search(rf"<tr><td><a [^>]*>{re.escape(county)}</a></td>(.*?)</tr>", page, re.DOTALL).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def test_every_countys_surveys_by_year_with_rate_interval_and_latest_change(app, surveys):
    with browser(app, "province") as c:
        rates = {k: rate_of(app, c, cid) for k, cid in surveys.items()}
        page = c.get("/inspector/trends")
    assert page.status_code == 200 and "2024 年" in page.text and "2025 年" in page.text and "2026 年" in page.text
    a, b = county_row(page.text, COUNTY_A), county_row(page.text, COUNTY_B)
    r24, r26 = rates["a2024"], rates["a2026"]
    assert a[0].startswith(pct(r24.rate)) and f"{pct(r24.ci95[0])}–{pct(r24.ci95[1])}" in a[0]
    assert a[1] == "—"                                                  # no survey of 示例县 in 2025
    assert a[2].startswith(pct(r26.rate)) and N.RATE_STATUS[r26.status] in a[2]
    assert "超出抽样误差" in a[3] and "在抽样误差之内" not in a[3]            # a third saying 不满意 is no noise
    assert b[0] == "—" and b[1].startswith(pct(rates["b2025"].rate)) and b[2] == "—" and "仅 1 次调查" in b[3]
    assert "内部演练" not in page.text
    assert leaks(visible_text(page.text)) == []


def test_an_inspector_sees_only_their_counties_and_a_bureau_is_refused(app, surveys):
    with browser(app, "inspector_a") as c:
        page = c.get("/inspector/trends").text
    assert COUNTY_A in page and COUNTY_B not in page
    with browser(app, "bureau_a") as c:
        assert c.get("/inspector/trends", follow_redirects=False).status_code in (403, 404)


def test_a_county_without_a_real_survey_is_named_apart(app):
    make_users(app)
    survey(app, 2026, "内部演练", all_d, is_test=True)
    with browser(app, "province") as c:
        page = c.get("/inspector/trends").text
    assert "尚无县收到有效答卷的正式调查" in page and f"尚无有效答卷的正式调查：{COUNTY_A}" in page
