"""The shortfall ledger as people read it (page, CSV, xlsx, PDF): every code with its Chinese
name, targets and amounts in the units people use.

Rounding, one rule everywhere ("towards failure", as ``display``): a value that fails is shown
rounded towards failure (``display.number``), a target is shown rounded **up** to the shown
decimals (6.375 m²/生 → 6.38) and an amount still needed is rounded up (``ledger._amount``), so that
reaching what the page shows always passes and nothing looks met that is not.
"""

import math
from collections.abc import Mapping
from typing import Any

from . import names as N
from .county_keys import COUNTY_KEYS, RATE, YES_NO, key_name
from .ledger import _amount
from .workbook import SCHOOL_COLUMNS

# Per-student indicators: the unit their standard is written in (standard.md §1).
INDICATOR_UNITS = {"R1": "人/百生", "R2": "人/百生", "R3": "人/百生", "R4": "m²/生", "R5": "m²/生",
                   "R6": "元/生", "R7": "间/百生"}
# A school column's unit, for amounts to add (ledger.md: ``increase`` in the column's unit).
COLUMN_UNITS = {"teaching_area_m2": "m²", "sports_area_m2": "m²", "equipment_value_yuan": "元",
                "multimedia_rooms": "间", "music_rooms": "间", "art_rooms": "间", "music_room_min_area_m2": "m²",
                "art_room_min_area_m2": "m²", "funded_students": "人", "public_funds_yuan": "元",
                "training_funds_yuan": "元", "students_primary": "人", "students_junior": "人",
                "max_class_size_primary": "人", "max_class_size_junior": "人"}

HEADERS = ("规则", "学校", "学段", "指标或项目", "目标", "调整的数据", "调整量", "需增加有效答卷", "责任单位",
           "估算费用", "说明")


def rule_text(row: Mapping[str, Any]) -> str:
    """``G3 音乐、美术专用教室配备``; a section row by its indicator (``R5 生均体育运动场馆面积``)."""
    rule = row.get("rule") or ""
    if rule == "R" and row.get("indicator"):
        return f"{row['indicator']} {N.label(row['indicator'])}"
    if rule == "CV" and row.get("indicator"):
        return f"{row['indicator']} 校际差异系数"
    name = N.label(rule)
    if rule in ("rate", "veto", "precondition"):
        return name
    return f"{rule} {name}" if name != rule else rule


def _ceil(value: float, decimals: int) -> float:
    scale = 10 ** decimals
    return math.ceil(value * scale - 1e-9) / scale


def target_text(row: Mapping[str, Any]) -> str:
    target = row.get("target")
    if target is None:
        return ""
    indicator, key = row.get("indicator"), row.get("key")
    if row.get("rule") == "CV" and indicator:
        return f"{_ceil(float(target), 2):.2f} {INDICATOR_UNITS[indicator]}（各学段至少）"
    if indicator in INDICATOR_UNITS:
        return f"{_ceil(float(target), 2):.2f} {INDICATOR_UNITS[indicator]}"
    if target == "yes":
        return "是"
    if isinstance(target, str):
        return f"{target}以上" if key == "Q6" else target
    if key == "Q9_min_level":
        return f"{['', 'Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'][int(target)]}级以上"
    if key == "Q9_school_diff_rate":
        return f"{float(target):.3f} 以下"
    unit = COUNTY_KEYS[key][1] if key in COUNTY_KEYS else ""
    if unit == RATE:
        return f"不低于 {_ceil(float(target) * 100, 1):g}%"
    if unit == YES_NO:
        return "是"
    if unit in ("人",):
        return f"不少于 {math.ceil(float(target) - 1e-9):,} 人"
    return f"不低于 {float(target):,g}{(' ' + unit) if unit and unit != '文字' else ''}"


def subject_text(row: Mapping[str, Any]) -> str:
    """What the row is about besides the rule: a county item, a group, a location, a band, an item."""
    if row.get("key"):
        return key_name(row["key"])
    for field, table in (("group", N.GROUPS), ("location", N.LOCATIONS), ("band", N.BANDS), ("item", N.ITEMS)):
        if row.get(field):
            return table.get(row[field], row[field])
    return ""


def change_text(row: Mapping[str, Any]) -> str:
    increase, column = row.get("increase"), row.get("column")
    if increase is None:
        return ""
    unit = COLUMN_UNITS.get(column, "")
    if increase < 0:
        return "减少 " + _amount(-float(increase), unit or "人")
    return "增加 " + _amount(float(increase), unit) if unit else f"增加 {float(increase):,g}"


def display_row(row: Mapping[str, Any], school_names: Mapping[str, str] | None = None) -> dict[str, str]:
    """One ledger row (``LedgerRow.to_dict``) as the columns of ``HEADERS``, all text."""
    code = row.get("school_code")
    school = f"{code} {(school_names or {}).get(code, '')}".strip() if code else ""
    cost = row.get("cost_yuan")
    return {
        "规则": rule_text(row),
        "学校": school,
        "学段": N.STAGES.get(row.get("stage"), "") if row.get("stage") else "",
        "指标或项目": subject_text(row),
        "目标": target_text(row),
        "调整的数据": SCHOOL_COLUMNS.get(row["column"], row["column"]) if row.get("column") else "",
        "调整量": change_text(row),
        "需增加有效答卷": f"{row['responses']:,} 份" if row.get("responses") is not None else "",
        "责任单位": "、".join(row.get("departments") or ()),
        "估算费用": f"{math.ceil(cost - 1e-9):,} 元" if cost is not None else "",
        "说明": row.get("reason") or "",
    }
