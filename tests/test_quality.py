"""Part Q rules of standard.md §3, veto (§5) and precondition (§6)."""

from scoring.profile import load_profile
from scoring.quality import evaluate_quality
from scoring.verdict import evaluate_precondition
from tests.factories import county, schools

PROFILE = load_profile()


def items(frame=None, **county_overrides):
    return evaluate_quality(schools({}) if frame is None else frame, county(**county_overrides), PROFILE).items


def test_q1_q2_at_least_95_percent():
    assert items(Q1=0.95)["Q1"].passed and not items(Q1=0.9499)["Q1"].passed
    assert items(Q2=0.95)["Q2"].passed and not items(Q2=0.94)["Q2"].passed


def test_q4_training_funds_5_percent_of_public_funds_every_school():
    assert items(schools({"public_funds_yuan": 100000, "training_funds_yuan": 5000}))["Q4"].passed
    failing = items(schools({}, {"school_type": "special", "public_funds_yuan": 100000, "training_funds_yuan": 4999}))
    assert not failing["Q4"].passed and failing["Q4"].schools == ("S02",)


def test_q6_lowest_school_rating_good_or_excellent():
    assert items(Q6="优秀")["Q6"].passed and items(Q6="良好")["Q6"].passed
    assert not items(Q6="合格")["Q6"].passed and not items(Q6="不合格")["Q6"].passed


def test_q9_level_three_and_diff_rate_strictly_below_0_15():
    assert items(Q9_min_level=3, Q9_school_diff_rate=0.149)["Q9"].passed
    assert not items(Q9_min_level=3, Q9_school_diff_rate=0.15)["Q9"].passed
    # 0.1499999999 is within 1e-9 of 0.15, so it is not "below" it.
    assert not items(Q9_min_level=3, Q9_school_diff_rate=0.1499999999)["Q9"].passed
    assert not items(Q9_min_level=2)["Q9"].passed


def test_q3_q5_q7_q8_are_yes_no():
    for key in ("Q3", "Q5", "Q7", "Q8"):
        assert not items(**{key: False})[key].passed


def test_precondition_three_years_of_basic_balance():
    assert evaluate_precondition(county(basic_balance_year=2021, evaluation_year=2024), PROFILE).status == "passed"
    failed = evaluate_precondition(county(basic_balance_year=2022, evaluation_year=2024), PROFILE)
    assert failed.status == "failed" and failed.reason


def test_precondition_unchecked_when_a_year_is_missing():
    assert evaluate_precondition(county(basic_balance_year=None), PROFILE).status == "unchecked"
