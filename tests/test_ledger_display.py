"""Issue 20: the ledger as people read it -- rule codes beside their names, targets in the units
people use, rounded towards failure (a shown target is never below the real one)."""

from scoring.ledger_display import HEADERS, display_row


def test_section_target_is_rounded_up_with_its_unit():
    row = {"rule": "R", "school_code": "S03", "stage": "primary", "indicator": "R5", "column": "sports_area_m2",
           "increase": 1152.8000000000002, "target": 6.375, "reason": "…"}
    shown = display_row(row, {"S03": "第三小学"})
    assert shown["规则"] == "R5 生均体育运动场馆面积"
    assert shown["目标"] == "6.38 m²/生" and shown["调整量"] == "增加 1,152.8 m²"
    assert shown["学校"] == "S03 第三小学" and shown["学段"] == "小学" and shown["调整的数据"] == "体育运动场馆面积"


def test_county_rate_target_in_percent_and_key_by_its_name():
    shown = display_row({"rule": "G9", "key": "G9", "target": 1.0, "reason": "…"})
    assert shown["规则"] == "G9 教师5年360学时培训完成率" and shown["目标"] == "不低于 100%"
    assert shown["指标或项目"] == "教师5年360学时培训完成率"
    shown = display_row({"rule": "G8", "key": "G8_merit_pay_full", "target": "yes"})
    assert shown["目标"] == "是" and shown["指标或项目"] == "绩效工资总量足额核定"


def test_no_code_stands_alone_in_any_column():
    rows = [{"rule": "S2", "group": "parent", "responses": 180}, {"rule": "V3"},
            {"rule": "G5", "school_code": "S05", "stage": "primary", "column": "max_class_size_primary", "increase": -7.0},
            {"rule": "Q9", "key": "Q9_min_level", "target": 3}, {"rule": "rate", "item": "burden", "rate": 0.8}]
    for row in rows:
        shown = display_row(row, {"S05": "第五小学"})
        assert set(shown) == set(HEADERS)
        for value in shown.values():
            assert value in ("", "V3", "S2", "G5", "Q9") or not value.isascii(), (row, value)
    assert display_row(rows[1])["规则"] == "V3 设置重点学校或重点班"
    assert display_row(rows[2])["调整量"] == "减少 7 人"
    assert display_row(rows[3])["目标"] == "Ⅲ级以上"
