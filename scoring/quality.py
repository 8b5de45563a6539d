"""Part Q, education quality (standard.md §3): Q1-Q9."""

from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import display
from .items import ItemResult, PartResult, part, yes_no
from .profile import Profile

NAMES = {
    "Q1": "初中三年巩固率",
    "Q2": "残疾儿童少年入学率",
    "Q3": "学校章程与管理、教学信息化",
    "Q4": "教师培训经费占公用经费比例",
    "Q5": "教师熟练运用信息化手段组织教学",
    "Q6": "学校德育工作、校园文化建设水平",
    "Q7": "课程开齐开足，教学秩序规范",
    "Q8": "无过重课业负担",
    "Q9": "国家义务教育质量监测",
}
ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


def _item(code: str, passed: bool, found: str, expected: str) -> ItemResult:
    reason = None if passed else f"{NAMES[code]}：{found}，要求{expected}"
    return ItemResult(code, passed, reason, figures={"found": found, "expected": expected})


def q4_training_funds(schools: pd.DataFrame, profile: Profile) -> ItemResult:
    """Every school, special ones and small teaching points included."""
    share = float(profile.quality["Q4_training_share_min"])
    required = share * schools["public_funds_yuan"].fillna(0)
    failing = ~profile.at_least(schools["training_funds_yuan"].fillna(0), required)
    if not failing.any():
        return ItemResult("Q4", True)
    codes = tuple(schools.loc[failing, "school_code"].astype(str))
    details = "；".join(
        f"{c}：培训经费 {t:,.0f} 元，应不少于 {r:,.2f} 元"
        for c, t, r in zip(codes, schools.loc[failing, "training_funds_yuan"].fillna(0), required[failing]))
    return ItemResult("Q4", False, f"{NAMES['Q4']}低于 {share:.0%}：{details}", schools=codes)


def evaluate_quality(schools: pd.DataFrame, c: Mapping[str, Any], profile: Profile) -> PartResult:
    q = profile.quality
    ok = profile.at_least
    q1, q2 = ok(c["Q1"], q["Q1_min"]), ok(c["Q2"], q["Q2_min"])
    q6 = c["Q6"] in q["Q6_passing"]
    q9 = ok(c["Q9_min_level"], q["Q9_level_min"]) and profile.below(c["Q9_school_diff_rate"], q["Q9_diff_rate_below"])
    diff = display.number(c["Q9_school_diff_rate"], passed=q9, rule="max", decimals=3)
    items = [
        _item("Q1", q1, display.percent(c["Q1"], passed=q1), f"不低于 {q['Q1_min']:.0%}"),
        _item("Q2", q2, display.percent(c["Q2"], passed=q2), f"不低于 {q['Q2_min']:.0%}"),
        _item("Q3", c["Q3"], yes_no(c["Q3"]), "是"),
        q4_training_funds(schools, profile),
        _item("Q5", c["Q5"], yes_no(c["Q5"]), "是"),
        _item("Q6", q6, f"最低评价为{c['Q6']}", "、".join(q["Q6_passing"])),
        _item("Q7", c["Q7"], yes_no(c["Q7"]), "是"),
        _item("Q8", c["Q8"], yes_no(c["Q8"]), "是"),
        _item("Q9", q9, f"最低学业水平 {ROMAN.get(c['Q9_min_level'], c['Q9_min_level'])} 级、校际差异率 {diff}",
              f"{ROMAN[int(q['Q9_level_min'])]} 级以上且差异率低于 {q['Q9_diff_rate_below']:g}"),
    ]
    return part(items)
