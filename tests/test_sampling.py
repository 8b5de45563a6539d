"""Sampling checks S1-S7 and the quota plan of survey.md."""

import pytest

from scoring.profile import GROUPS, LOCATIONS, load_profile
from scoring.sampling import (
    evaluate_checks,
    largest_remainder,
    required_sample,
    s4_location_mix,
    s7_grade_bands,
    sampling_plan,
)
from tests.factories import responses, schools

PROFILE = load_profile()
SHARES = {"urban": 0.45, "town": 0.30, "rural": 0.25}


def test_s1_required_is_1_5_per_mille_and_600_below_400000():
    assert required_sample(520000, PROFILE) == 780
    assert required_sample(380000, PROFILE) == 600       # 570 -> raised to 600
    assert required_sample(400000, PROFILE) == 600       # 1.5‰ of 400,000 is exactly 600
    assert required_sample(1_000_001, PROFILE) == 1501   # ceil(1500.0015)


def test_s3_groups_between_half_and_one_and_a_half_of_the_mean_inclusive():
    rows = [{"group": "parent"}] * 30
    counts = {"student": 10, "teacher": 10, "principal": 10, "npc_deputy": 10, "cppcc_member": 5, "public": 15}
    for g, n in counts.items():
        rows += [{"group": g, "school_code": None if g in ("npc_deputy", "cppcc_member", "public") else "S01"}] * n
    checks = evaluate_checks(responses(*rows), len(rows), schools({}), 1000, SHARES, PROFILE)
    assert checks["S3"].passed                       # 5 = 0.5 × 10 and 15 = 1.5 × 10
    rows += [{"group": "public", "school_code": None}]
    checks = evaluate_checks(responses(*rows), len(rows), schools({}), 1000, SHARES, PROFILE)
    assert not checks["S3"].passed                   # mean 61/6: now 5 < 0.5 × 10.17


def test_s3_missing_group_fails():
    rows = [{"group": g} for g in GROUPS if g != "cppcc_member"]
    checks = evaluate_checks(responses(*rows), len(rows), schools({}), 1000, SHARES, PROFILE)
    assert not checks["S3"].passed and "政协委员 0 份" in checks["S3"].reason


def test_s4_max_deviation_at_most_5_points_and_chi2_descriptive():
    rows = [{"location": "urban"}] * 50 + [{"location": "town"}] * 25 + [{"location": "rural"}] * 25
    result = s4_location_mix(responses(*rows), SHARES, PROFILE)
    assert result.figures["max_deviation"] == pytest.approx(0.05) and result.passed
    assert 0 < result.figures["chi2_p"] <= 1
    rows.append({"location": "urban"})
    assert not s4_location_mix(responses(*rows), SHARES, PROFILE).passed


def test_s4_shares_are_renormalised_and_zero_share_left_out_of_chi2():
    result = s4_location_mix(responses(*[{"location": "urban"}] * 10), {"urban": 2, "town": 0, "rural": 0}, PROFILE)
    assert result.passed and result.figures["max_deviation"] == 0 and result.figures["chi2_p"] is None


def test_s5_valid_rate_at_least_70_percent():
    frame = responses(*[{}] * 7)
    assert evaluate_checks(frame, 10, schools({}), 1000, SHARES, PROFILE)["S5"].passed
    assert not evaluate_checks(frame, 11, schools({}), 1000, SHARES, PROFILE)["S5"].passed


def test_s6_every_in_scope_school_needs_a_student_parent_or_teacher_response():
    frame = responses({"school_code": "S01"}, {"school_code": "S02", "group": "principal"})
    checks = evaluate_checks(frame, 2, schools({}, {}, {"school_type": "special"}), 1000, SHARES, PROFILE)
    assert checks["S6"].figures["missing"] == ["S02"]


def test_s7_bands_of_the_stages_present_and_grades_1_2_in_no_band():
    students = ([{"group": "student", "grade": 3.0}] * 10 + [{"group": "student", "grade": 6.0}] * 5
                + [{"group": "student", "grade": 1.0}] * 30)
    result = s7_grade_bands(responses(*students), schools({}), PROFILE)
    assert result.figures["bands"] == {"3-4": 10, "5-6": 5} and result.passed
    junior = schools({}, {"school_type": "junior", "students_primary": 0, "students_junior": 300})
    result = s7_grade_bands(responses(*students), junior, PROFILE)
    assert result.figures["bands"]["7-9"] == 0 and not result.passed


def test_s7_fails_without_any_graded_student_response():
    assert not s7_grade_bands(responses({}), schools({}), PROFILE).passed


def test_largest_remainder_adds_up_and_breaks_ties_in_table_order():
    assert largest_remainder(10, [1] * 6) == [2, 2, 2, 2, 1, 1]
    assert largest_remainder(7, [0.45, 0.30, 0.25]) == [3, 2, 2]
    assert sum(largest_remainder(1001, [3, 7, 11, 13])) == 1001


def test_plan_total_parents_and_six_groups():
    plan = sampling_plan(schools({}), 520000, SHARES, PROFILE)
    assert plan.total == 780 and plan.by_group["parent"] == 390
    assert [plan.by_group[g] for g in GROUPS if g != "parent"] == [65] * 6


def test_plan_splits_students_by_enrolment_and_staff_by_sections():
    frame = schools({"students_primary": 300},
                    {"school_type": "nine_year", "students_primary": 600, "students_junior": 300,
                     "qualified_teachers_junior": 20, "backbone_teachers_junior": 4, "pe_art_teachers_junior": 4,
                     "max_class_size_junior": 45, "location": "rural"})
    plan = sampling_plan(frame, 380000, SHARES, PROFILE)
    assert plan.by_school["S01"]["parent"] + plan.by_school["S02"]["parent"] == 300
    assert plan.by_school["S01"]["parent"] == 75 and plan.by_school["S02"]["parent"] == 225  # 300:900
    assert (plan.by_school["S01"]["teacher"], plan.by_school["S02"]["teacher"]) == (17, 33)  # 50 split 1:2
    assert plan.by_location["rural"]["parent"] == 225
    public = [plan.by_location[loc]["public"] for loc in LOCATIONS]
    assert sum(public) == plan.by_group["public"] == 50 and public == [23, 15, 12]


def test_plan_warns_when_a_target_exceeds_what_the_county_can_supply(tmp_path):
    five = schools(*[{"students_primary": 40}] * 5)                  # 5 schools, 200 pupils
    plan = sampling_plan(five, 380000, SHARES, PROFILE)
    assert plan.supply == {"principal": 15, "student": 133}          # 5 x 3; 200 x 4/6 (grades 3-6)
    assert plan.shortfalls == {"principal": (50, 15)}
    assert "校长需 50 份" in plan.warnings()["principal"] and "最多约 15 人" in plan.warnings()["principal"]
    assert plan.to_dict()["warnings"] == plan.warnings()
    more = tmp_path / "province.toml"
    more.write_text("[sampling]\nprincipals_per_school = 10\n", encoding="utf-8")
    assert sampling_plan(five, 380000, SHARES, load_profile(more)).shortfalls == {}
    small = schools(*[{"students_primary": 30}] * 2)
    assert set(sampling_plan(small, 380000, SHARES, PROFILE).shortfalls) == {"principal", "student"}


# ---- feasible targets (survey.md, sampling plan, amended) ----------------------------------

def test_no_school_is_asked_for_more_principals_than_principals_per_school():
    five = schools(*[{"students_primary": 40}] * 5)
    plan = sampling_plan(five, 380000, SHARES, PROFILE)        # 50 principals wanted, 5 schools
    assert [plan.by_school[c]["principal"] for c in plan.by_school] == [3] * 5
    assert plan.unplaced["principal"] == 35 and plan.shortfalls["principal"] == (50, 15)


def test_units_a_school_cannot_take_go_to_the_other_schools_by_largest_remainder(tmp_path):
    # 50 principals over a two-section school and three one-section ones: 20, 10, 10, 10 by
    # sections. With at most 15 per school the first keeps 15 and its 5 go to the three
    # others by largest remainder (ties in table order): 12, 12, 11.
    frame = schools({"school_type": "nine_year", "students_primary": 600, "students_junior": 300,
                     "qualified_teachers_junior": 20, "backbone_teachers_junior": 4, "pe_art_teachers_junior": 4,
                     "max_class_size_junior": 45},
                    {"students_primary": 300}, {"students_primary": 300}, {"students_primary": 300})
    (tmp_path / "p.toml").write_text("[sampling]\nprincipals_per_school = 15\n", encoding="utf-8")
    profile = load_profile(tmp_path / "p.toml")
    plan = sampling_plan(frame, 380000, SHARES, profile)
    assert [plan.by_school[c]["principal"] for c in plan.by_school] == [15, 12, 12, 11]
    assert sum(plan.by_school[c]["principal"] for c in plan.by_school) == 50 and plan.unplaced == {}


def test_what_no_school_can_take_is_one_county_shortfall_that_says_s3_fails():
    five = schools(*[{"students_primary": 40}] * 5)
    warning = sampling_plan(five, 380000, SHARES, PROFILE).warnings(PROFILE)
    assert list(warning) == ["principal"]
    assert "校长需 50 份，但全县最多约 15 人可答" in warning["principal"]
    assert "每校最多安排 3 名校长" in warning["principal"] and "还差 35 份" in warning["principal"]
    assert "S3（非家长各类群体大致相当）也将因此不通过" in warning["principal"]


def test_total_progress_reaches_100_only_when_every_school_and_location_target_is_met(tmp_path):
    frame = schools({"students_primary": 600}, {"students_primary": 600})
    # Two schools can give at most 6 principals of the 50: with that cap the total never
    # reaches 100 % (44 units no school can take stay in it).
    assert sampling_plan(frame, 380000, SHARES, PROFILE).progress(
        {"S01": {"principal": 3}, "S02": {"principal": 3}}, {})[1:] == (600, 1)
    (tmp_path / "p.toml").write_text("[sampling]\nprincipals_per_school = 30\n", encoding="utf-8")
    plan = sampling_plan(frame, 380000, SHARES, load_profile(tmp_path / "p.toml"))
    full_schools = {c: dict(t) for c, t in plan.by_school.items()}
    full_locations = {loc: dict(t) for loc, t in plan.by_location.items()}
    assert plan.progress(full_schools, full_locations) == (600, 600, 100)
    # The county's student total is met, but one school answered for the other: not 100 %.
    a, b = plan.by_school
    skewed = {a: {**full_schools[a], "student": full_schools[a]["student"] + 5},
              b: {**full_schools[b], "student": full_schools[b]["student"] - 5}}
    counted, target, percent = plan.progress(skewed, full_locations)
    assert (counted, target) == (595, 600) and percent == 99


def test_an_out_of_scope_school_says_why_it_has_no_target():
    frame = schools({}, {"school_type": "teaching_point", "students_primary": 20}, {"school_type": "special"})
    plan = sampling_plan(frame, 380000, SHARES, PROFILE)
    assert set(plan.by_school) == {"S01"}
    assert "教学点不在评估范围内" in plan.out_of_scope["S02"] and "特殊教育学校" in plan.out_of_scope["S03"]
