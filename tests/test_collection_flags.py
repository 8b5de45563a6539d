"""The 数据采集 review's flags (issue 22): a change of more than a third from last year, and a
per-student value far outside the county's spread: further from the median of the round's
submitted schools than 3 × 1.4826 × MAD and than 20% of the median, from five schools on."""

from scoring.collection import (COUNTY_ITEMS, PER_STUDENT, beside_median, county_spreads, per_student,
                                unusual_changes, unusual_per_student)
from scoring.profile import load_profile

PROFILE = load_profile()


def row(students: int = 1000, equipment: int = 3_000_000, **more) -> dict[str, str]:
    return {"students_primary": str(students), "students_junior": "0", "equipment_value_yuan": str(equipment),
            **{k: str(v) for k, v in more.items()}}


# Five schools of 1000 students at 2,800 … 3,200 元 of equipment per student.
COUNTY = [row(equipment=e) for e in (2_800_000, 2_900_000, 3_000_000, 3_100_000, 3_200_000)]


def test_per_student_values_are_of_the_schools_own_enrolment_and_per_hundred_for_teachers_and_rooms():
    values = per_student(row(students=600, equipment=1_716_000, qualified_teachers_primary=33, multimedia_rooms=17,
                             students_senior=200))
    assert values["equipment_value_yuan"] == 1_716_000 / 800
    assert values["qualified_teachers_primary"] == 33 / 600 * 100        # the stage's own students
    assert values["multimedia_rooms"] == 17 / 800 * 100
    assert per_student({"equipment_value_yuan": "5000", "students_primary": "0"}) == {}
    assert PER_STUDENT["equipment_value_yuan"].name == "生均教学仪器设备值"


def test_a_per_student_value_outside_the_county_median_plus_minus_three_robust_sds_is_flagged():
    school = row(equipment=4_500_000)                                    # 4,500 元 per student
    spreads = county_spreads([*COUNTY, school], PROFILE)
    # 2800 2900 3000 3100 3200 4500: median 3050, MAD 150, 3 × 1.4826 × 150 = 667.17 (> 20% × 3050 = 610)
    spread = spreads["equipment_value_yuan"]
    assert spread.median == 3050 and spread.schools == 6
    assert round(spread.low, 2) == 2382.83 and round(spread.high, 2) == 3717.17
    flag = unusual_per_student(school, spreads, PROFILE)["equipment_value_yuan"]
    assert flag.rule == "生均值远离全县中位数"
    assert flag.why == ("生均教学仪器设备值为 4,500 元，全县中位数 3,050 元，超出常见范围（2,382.83～3,717.17："
                        "中位数上下 3 倍稳健标准差、至少中位数的 20%，按 6 所已提交学校计算）")


def test_a_per_student_value_inside_the_county_spread_is_not_flagged():
    school = row(equipment=3_600_000)                                    # 3,600 < 3,717.17
    spreads = county_spreads([*COUNTY[:5], row(equipment=4_500_000), school], PROFILE)
    assert unusual_per_student(school, spreads, PROFILE) == {}
    low = row(equipment=2_000_000)                                       # 2,000 below the range
    assert "equipment_value_yuan" in unusual_per_student(low, county_spreads([*COUNTY, low], PROFILE), PROFILE)


def test_no_median_flag_with_fewer_than_five_schools():
    school = row(equipment=9_000_000)
    few = county_spreads([*COUNTY[:3], school], PROFILE)
    assert few["equipment_value_yuan"].low is None and unusual_per_student(school, few, PROFILE) == {}


def test_the_usual_range_is_at_least_a_fifth_of_the_median_when_schools_cluster_tightly():
    tight = [row(equipment=e) for e in (3_000_000, 3_010_000, 3_020_000, 3_030_000, 3_040_000)]
    school = row(equipment=3_300_000)
    # 3000 … 3040 and 3300: median 3025, MAD 15, 3 × 1.4826 × 15 = 66.7 < 20% × 3025 = 605
    spread = county_spreads([*tight, school], PROFILE)["equipment_value_yuan"]
    assert (spread.low, spread.high) == (2420, 3630)
    assert unusual_per_student(school, county_spreads([*tight, school], PROFILE), PROFILE) == {}
    far = row(equipment=9_000_000)                                       # all alike (MAD 0) but one
    alike = county_spreads([row()] * 5 + [far], PROFILE)
    assert (alike["equipment_value_yuan"].low, alike["equipment_value_yuan"].high) == (2400, 3600)
    assert "equipment_value_yuan" in unusual_per_student(far, alike, PROFILE)


def test_the_threshold_is_the_profiles(tmp_path):
    (tmp_path / "wide.toml").write_text("outlier_mads = 10\n", encoding="utf-8")
    wide = load_profile(tmp_path / "wide.toml")
    school = row(equipment=4_500_000)
    assert unusual_per_student(school, county_spreads([*COUNTY, school], wide), wide) == {}
    assert dict(PROFILE.collection) == {"outlier_mads": 3.0, "outlier_min_share": 0.2, "outlier_min_schools": 5}


def test_the_review_shows_the_schools_value_beside_the_county_median():
    school = row(equipment=4_500_000)
    shown = beside_median(school, county_spreads([*COUNTY, school], PROFILE))
    assert shown["equipment_value_yuan"] == "生均：本校 4,500 元，全县中位数 3,050 元（6 所学校）"


def test_a_change_of_more_than_a_third_from_last_year_is_still_flagged():
    flags = unusual_changes({"classes": "30"}, {"classes": 16.0})
    assert flags["classes"].why == "上次 16，本次 30，变化 +88%"
    assert unusual_changes({"classes": "21"}, {"classes": 16.0}) == {}   # +31%


def test_county_items_are_g1_to_g15_q1_to_q9_and_v1_to_v7_with_their_names():
    assert list(COUNTY_ITEMS) == [*(f"G{i}" for i in range(1, 16)), *(f"Q{i}" for i in range(1, 10)),
                                  *(f"V{i}" for i in range(1, 8))]
    assert COUNTY_ITEMS["G1"] == "G1 县域内义务教育学校规划布局合理"
