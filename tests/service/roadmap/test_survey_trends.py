"""Trends across surveys on the monitoring page (issue 24): a county's real campaigns of three years
side by side — the rate with its interval, group rates, item shares — with the change since the
survey before and whether it exceeds the noise; test campaigns left out; other counties refused."""

import math
import re

import numpy as np
import pytest
from inspector_helpers import COUNTY_A, COUNTY_B, browser, county_url, make_users
from sqlmodel import Session, select
from trend_helpers import all_d, slightly_better, survey, worse

from scoring import names as N
from scoring.recognition import (
    classify_validity,
    evaluate_rate,
    ratio_variance,
    school_clusters,
)
from scoring.responses import read_responses
from scoring.trends import survey_figures
from service.db.models import ITEM_FIELDS, School
from service.verdicts.pipeline import campaign_aggregate


@pytest.fixture
def three_years(app):
    """Real surveys of 2024, 2025 and 2026 (opened in that order), and a 2026 test campaign."""
    make_users(app)
    ids = [survey(app, 2024, "2024年满意度调查", worse), survey(app, 2025, "2025年满意度调查", slightly_better),
           survey(app, 2026, "2026年满意度调查")]
    survey(app, 2026, "内部演练", all_d, is_test=True)
    return ids


def answers_of(app, client, cid: int):
    """The campaign's answers one by one, as the verdict's fallback reads them (the oracle)."""
    with Session(app.state.engine) as s:
        codes = set(s.exec(select(School.school_code).where(School.campaign_id == cid)).all())
    return read_responses(client.get(f"/bureau/campaigns/{cid}/export.csv").content, codes)


def trends_section(page: str) -> str:
    return page[page.index('id="survey-trends"'):page.index("</section>", page.index('id="survey-trends"'))]


def row_cells(section: str, name: str) -> list[str]:
    """The cells of the table row headed ``name`` (tags removed)."""
    row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", section, re.DOTALL).group(1)
    return [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def test_three_real_surveys_are_shown_in_year_order_with_each_rate_and_interval(app, three_years):
    profile = app.state.profile
    with browser(app, "bureau_a") as c:
        section = trends_section(c.get(county_url(COUNTY_A, "/monitoring")).text)
        rates = [evaluate_rate(answers_of(app, c, cid), profile) for cid in three_years]
    assert [section.index(f"{y} 年") for y in (2024, 2025, 2026)] == sorted(section.index(f"{y} 年")
                                                                            for y in (2024, 2025, 2026))
    assert "内部演练" not in section                                   # a test campaign is no survey
    cells = row_cells(section, "认可度")
    assert [cell[0] for cell in cells[:3]] == [pct(r.rate) for r in rates]
    for r in rates:
        assert f"{pct(r.ci95[0])}–{pct(r.ci95[1])}" in section and f"{r.valid} 份" in section
    assert section.count("<svg") >= 1 and 'aria-label="历次调查的认可度及 95% 区间"' in section
    for code, name in N.GROUPS.items():
        assert [cell[0] for cell in row_cells(section, name)[:3]] == [pct(r.groups[code].rate) for r in rates]


def test_each_items_share_is_recognised_over_counting_valid_answers(app, three_years):
    profile = app.state.profile
    rec = profile.recognition
    with browser(app, "bureau_a") as c:
        section = trends_section(c.get(county_url(COUNTY_A, "/monitoring")).text)
        frames = [answers_of(app, c, cid) for cid in three_years]
    for item in ITEM_FIELDS:
        shares = []
        for frame in frames:
            valid = frame[classify_validity(frame, profile) == "valid"]
            shares.append(valid[item].isin(rec["recognised"]).sum()
                          / valid[item].isin([*rec["recognised"], *rec["not_recognised"]]).sum())
        assert [cell[0] for cell in row_cells(section, N.ITEMS[item])[:3]] == [pct(s) for s in shares], item
    assert row_cells(section, N.ITEMS["moral"])[0] != row_cells(section, N.ITEMS["moral"])[2]   # the data moved


def test_item_shares_and_their_variance_from_the_sums_equal_those_from_each_answer(app, three_years):
    profile = app.state.profile
    rec = profile.recognition
    cid = three_years[0]
    with browser(app, "bureau_a") as c:
        frame = answers_of(app, c, cid)
    with Session(app.state.engine) as s:
        codes = set(s.exec(select(School.school_code).where(School.campaign_id == cid)).all())
        _, aggregate = campaign_aggregate(s, cid, profile, codes)
    figures = survey_figures(aggregate, profile)
    valid = frame[(classify_validity(frame, profile) == "valid").to_numpy()]
    for item in ITEM_FIELDS:
        counts = valid[item].isin([*rec["recognised"], *rec["not_recognised"]]).to_numpy()
        y = valid[item].isin(rec["recognised"]).to_numpy(float)[counts]
        one = ratio_variance(y, np.ones(len(y)), np.zeros(len(y), np.intp), 1, school_clusters(valid[counts]))
        assert math.isclose(figures.items[item].value, one["rate"][0], rel_tol=1e-12)
        assert math.isclose(figures.items[item].variance, one["variance"][0], rel_tol=1e-9), item
        assert figures.items[item].n == int(counts.sum())


def test_the_change_since_the_last_survey_exceeds_the_noise_when_its_95_interval_excludes_0(app, three_years):
    profile = app.state.profile
    z = float(profile.recognition["z_two_sided_95"])
    with browser(app, "province") as c:              # the province reads a county's trends too
        section = trends_section(c.get(county_url(COUNTY_A, "/monitoring")).text)
        before, after = (evaluate_rate(answers_of(app, c, cid), profile) for cid in three_years[1:])
    d = after.rate - before.rate
    half = z * math.sqrt(before.variance + after.variance)
    assert d - half > 0                                  # 2025 → 2026: beyond the noise
    change = row_cells(section, "认可度")[3]
    assert change == [f"+{d * 100:.1f}", "个百分点", "超出抽样误差"]
    assert "区间不含 0" in section and "√（两次方差之和）" in section


def test_a_change_inside_the_noise_is_said_to_be_inside_it(app):
    make_users(app)
    ids = survey(app, 2024, "2024年满意度调查", worse), survey(app, 2025, "2025年满意度调查", slightly_better)
    profile = app.state.profile
    z = float(profile.recognition["z_two_sided_95"])
    with browser(app, "bureau_a") as c:
        section = trends_section(c.get(county_url(COUNTY_A, "/monitoring")).text)
        before, after = (evaluate_rate(answers_of(app, c, cid), profile) for cid in ids)
    d = after.rate - before.rate
    assert 0 < d < z * math.sqrt(before.variance + after.variance)
    assert row_cells(section, "认可度")[2][-1] == "在抽样误差之内"


def test_a_county_with_only_a_test_campaign_has_no_trend_and_another_countys_bureau_is_refused(app, three_years):
    survey(app, 2026, "内部演练", is_test=True, county=COUNTY_B)
    with browser(app, "bureau_b") as c:
        assert c.get(county_url(COUNTY_A, "/monitoring")).status_code == 403
        page = c.get(county_url(COUNTY_B, "/monitoring"))
    assert page.status_code == 200 and "本县尚无收到有效答卷的正式调查" in trends_section(page.text)
    assert "内部演练" not in page.text
