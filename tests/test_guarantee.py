"""Part G rules of standard.md §2."""

import pytest

from scoring.guarantee import evaluate_guarantee
from scoring.profile import load_profile
from tests.factories import county, schools

PROFILE = load_profile()


def items(frame=None, **county_overrides):
    return evaluate_guarantee(schools({}) if frame is None else frame, county(**county_overrides), PROFILE).items


def test_all_fifteen_items_pass_on_a_good_county():
    result = evaluate_guarantee(schools({}), county(), PROFILE)
    assert list(result.items) == [f"G{i}" for i in range(1, 16)] and result.passed


def test_g2_needs_all_four_unifications():
    assert not items(G2c=False)["G2"].passed


def test_g3_one_room_per_12_classes_and_minimum_areas():
    # 25 classes need ceil(25/12) = 3 music and 3 art rooms.
    assert not items(schools({"classes": 25, "music_rooms": 2, "art_rooms": 3}))["G3"].passed
    assert items(schools({"classes": 24, "music_rooms": 2, "art_rooms": 2}))["G3"].passed
    assert not items(schools({"music_room_min_area_m2": 95.9}))["G3"].passed
    assert items(schools({"music_room_min_area_m2": 96, "art_room_min_area_m2": 90}))["G3"].passed
    assert not items(schools({"art_room_min_area_m2": 89}))["G3"].passed


def test_g3_small_school_still_needs_one_room_of_each():
    assert not items(schools({"classes": 3, "music_rooms": 0}))["G3"].passed


def test_g3_ignores_special_schools_and_small_teaching_points():
    frame = schools({}, {"school_type": "special", "students_primary": 60, "music_rooms": 0},
                    {"school_type": "teaching_point", "students_primary": 30, "art_rooms": 0, "location": "rural",
                     "funded_students": 100})
    assert items(frame)["G3"].passed


def test_g4_school_size_2000_and_2500_for_through_schools():
    assert items(schools({"students_primary": 2000}))["G4"].passed
    assert not items(schools({"students_primary": 2001}))["G4"].passed
    through = {"school_type": "nine_year", "students_primary": 1500, "students_junior": 1000,
               "qualified_teachers_junior": 60, "backbone_teachers_junior": 10, "pe_art_teachers_junior": 10,
               "max_class_size_junior": 45}
    assert items(schools(through))["G4"].passed
    assert not items(schools({**through, "students_junior": 1001}))["G4"].passed


def test_g5_class_size_45_primary_50_junior():
    assert items(schools({"max_class_size_primary": 45}))["G5"].passed
    failed = items(schools({"max_class_size_primary": 46}))["G5"]
    assert not failed.passed and failed.schools == ("S01",) and "46" in failed.reason


def test_g6_small_rural_schools_funded_for_100():
    small = {"location": "rural", "students_primary": 80, "funded_students": 99}
    assert not items(schools(small))["G6"].passed
    assert items(schools({**small, "funded_students": 100}))["G6"].passed
    assert items(schools({**small, "location": "town"}))["G6"].passed


def test_g7_special_education_funding_at_least_6000():
    assert items(G7=6000.0)["G7"].passed and not items(G7=5999.0)["G7"].passed


def test_g8_salary_not_below_civil_servants_and_merit_pay():
    assert items(G8_teacher_salary=96000.0)["G8"].passed
    assert not items(G8_teacher_salary=95999.0)["G8"].passed
    assert not items(G8_merit_pay_full=False)["G8"].passed


def test_g9_and_g12_need_100_percent():
    assert not items(G9=0.99)["G9"].passed and not items(G12=0.999)["G12"].passed


def test_g11_rotation_10_percent_and_backbone_20_percent():
    assert items(G11_eligible=400.0, G11_rotated=40.0, G11_rotated_backbone=8.0)["G11"].passed
    assert not items(G11_eligible=400.0, G11_rotated=39.0, G11_rotated_backbone=8.0)["G11"].passed
    assert not items(G11_eligible=400.0, G11_rotated=40.0, G11_rotated_backbone=7.0)["G11"].passed


def test_g11_zero_eligible_or_rotated_fails():
    assert not items(G11_eligible=0.0)["G11"].passed
    assert not items(G11_rotated=0.0, G11_rotated_backbone=0.0)["G11"].passed


def test_g13_primary_100_junior_95():
    assert items(G13_junior=0.95)["G13"].passed
    assert not items(G13_junior=0.9499)["G13"].passed
    assert not items(G13_primary=0.99)["G13"].passed


def test_g14_half_of_places_and_rural_tilt():
    assert items(G14=0.50)["G14"].passed
    assert not items(G14=0.49)["G14"].passed and not items(G14_rural_tilt=False)["G14"].passed


def test_g15_care_system_and_migrant_rate_85():
    assert items(G15_migrant_rate=0.85)["G15"].passed
    assert not items(G15_migrant_rate=0.84)["G15"].passed
    assert not items(G15_care_system=False)["G15"].passed
    assert "84.0%" in items(G15_migrant_rate=0.84)["G15"].reason


@pytest.mark.parametrize("key", ["G1", "G10"])
def test_yes_no_items(key):
    assert not items(**{key: False})[key].passed
