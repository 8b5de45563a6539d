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
