"""Part G, government guarantee (standard.md §2): G1-G15."""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import display
from .items import ItemResult, PartResult, part, yes_no
from .profile import Profile
from .scope import compulsory_students, in_scope, small_rural_school

NAMES = {
    "G1": "县域内义务教育学校规划布局合理",
    "G2": "城乡学校“四统一”",
    "G3": "音乐、美术专用教室配备",
    "G4": "学校规模",
    "G5": "班额",
    "G6": "小规模学校按100名学生核定公用经费",
    "G7": "特殊教育学校生均公用经费",
    "G8": "教师平均工资收入与绩效工资",
    "G9": "教师5年360学时培训完成率",
    "G10": "统筹分配各校编制和岗位",
    "G11": "交流轮岗教师比例及骨干教师占比",
    "G12": "专任教师持证上岗率",
    "G13": "就近划片入学比例",
    "G14": "优质高中招生名额分配比例",
    "G15": "留守儿童关爱体系与随迁子女就读比例",
}


def _schools_item(code: str, failing: pd.Series, schools: pd.DataFrame, why: pd.Series) -> ItemResult:
    if not failing.any():
        return ItemResult(code, True)
    codes = tuple(schools.loc[failing, "school_code"].astype(str))
    details = "；".join(f"{c}：{w}" for c, w in zip(codes, why[failing]))
    return ItemResult(code, False, f"{NAMES[code]}未达标：{details}", schools=codes)


def g3_rooms(schools: pd.DataFrame, profile: Profile) -> ItemResult:
    g = profile.guarantee
    scope = in_scope(schools, profile)
    needed = np.maximum(1, np.ceil(schools["classes"].fillna(0) / g["classes_per_room"] - profile.epsilon))
    music_min, art_min = float(g["music_room_min_area_m2"]), float(g["art_room_min_area_m2"])
    checks = {
        "music_rooms": ~profile.at_least(schools["music_rooms"].fillna(0), needed),
        "art_rooms": ~profile.at_least(schools["art_rooms"].fillna(0), needed),
        "music_area": ~profile.at_least(schools["music_room_min_area_m2"].fillna(0), music_min),
        "art_area": ~profile.at_least(schools["art_room_min_area_m2"].fillna(0), art_min),
    }
    failing = scope & pd.concat(checks, axis=1).any(axis=1)
    why = pd.Series("", index=schools.index)
    why = why + np.where(checks["music_rooms"], "音乐教室 " + schools["music_rooms"].fillna(0).astype(int).astype(str)
                         + " 间，应不少于 " + needed.astype(int).astype(str) + " 间 ", "")
    why = why + np.where(checks["art_rooms"], "美术教室 " + schools["art_rooms"].fillna(0).astype(int).astype(str)
                         + " 间，应不少于 " + needed.astype(int).astype(str) + " 间 ", "")
    why = why + np.where(checks["music_area"], f"最小音乐教室面积不足 {music_min:g} m² ", "")
    why = why + np.where(checks["art_area"], f"最小美术教室面积不足 {art_min:g} m² ", "")
    return _schools_item("G3", failing, schools, why.str.strip())


def g4_school_size(schools: pd.DataFrame, profile: Profile) -> ItemResult:
    g = profile.guarantee
    through = schools["school_type"].isin(["nine_year", "twelve_year"])
    cap = np.where(through, g["school_size_cap_through"], g["school_size_cap"])
    students = compulsory_students(schools)
    failing = (schools["school_type"] != "special") & ~profile.at_most(students, cap)
    why = "在校生 " + students.astype(int).astype(str) + " 人，超过 " + pd.Series(cap, index=schools.index).astype(str) + " 人"
    return _schools_item("G4", failing, schools, why)


def g5_class_size(schools: pd.DataFrame, profile: Profile) -> ItemResult:
    g = profile.guarantee
    not_special = schools["school_type"] != "special"
    why = pd.Series("", index=schools.index)
    failing = pd.Series(False, index=schools.index)
    for stage, name in (("primary", "小学"), ("junior", "初中")):
        cap = float(g[f"class_size_cap_{stage}"])
        size = schools[f"max_class_size_{stage}"]
        over = not_special & (schools[f"students_{stage}"].fillna(0) > 0) & ~profile.at_most(size.fillna(0), cap)
        failing |= over
        why = why + np.where(over, f"{name}最大班额 " + size.fillna(0).astype(int).astype(str)
                             + f" 人，超过 {cap:g} 人 ", "")
    return _schools_item("G5", failing, schools, why.str.strip())


def g6_small_school_funding(schools: pd.DataFrame, profile: Profile) -> ItemResult:
    g = profile.guarantee
    applies = small_rural_school(schools, profile)
    floor = float(g["small_school_funded_floor"])
    failing = applies & ~profile.at_least(schools["funded_students"].fillna(0), floor)
    why = "核定公用经费学生数 " + schools["funded_students"].fillna(0).astype(int).astype(str) + f"，应不少于 {floor:g}"
    return _schools_item("G6", failing, schools, why)


def _county_item(code: str, passed: bool, found: str, expected: str) -> ItemResult:
    reason = None if passed else f"{NAMES[code]}：{found}，要求{expected}"
    return ItemResult(code, passed, reason, figures={"found": found, "expected": expected})


def _rate(value: float, passed: bool) -> str:
    return display.percent(value, passed=passed)


def county_items(c: Mapping[str, Any], profile: Profile) -> list[ItemResult]:
    g = profile.guarantee
    ok = profile.at_least
    items = [_county_item("G1", c["G1"], yes_no(c["G1"]), "是")]
    g2 = {k: c[k] for k in ("G2a", "G2b", "G2c", "G2d")}
    items.append(_county_item("G2", all(g2.values()), "、".join(f"{k} {yes_no(v)}" for k, v in g2.items()),
                              "四项均为是"))
    items.append(_county_item("G7", ok(c["G7"], g["G7_min_yuan"]), f"{c['G7']:g} 元",
                              f"不低于 {g['G7_min_yuan']:g} 元"))
    g8 = ok(c["G8_teacher_salary"], c["G8_civil_servant_salary"]) and c["G8_merit_pay_full"]
    items.append(_county_item("G8", g8, f"教师 {c['G8_teacher_salary']:g} 元、公务员 {c['G8_civil_servant_salary']:g} 元、"
                              f"绩效工资足额 {yes_no(c['G8_merit_pay_full'])}", "教师不低于公务员且绩效工资足额核定"))
    g9 = ok(c["G9"], g["G9_min"])
    items.append(_county_item("G9", g9, _rate(c["G9"], g9), f"不低于 {g['G9_min']:.0%}"))
    items.append(_county_item("G10", c["G10"], yes_no(c["G10"]), "是"))
    eligible, rotated, backbone = c["G11_eligible"], c["G11_rotated"], c["G11_rotated_backbone"]
    rot_share = rotated / eligible if eligible > 0 else math.nan
    bb_share = backbone / rotated if rotated > 0 else math.nan
    g11 = (eligible > 0 and rotated > 0 and ok(rot_share, g["G11_rotated_min"])
           and ok(bb_share, g["G11_backbone_min"]))
    items.append(_county_item("G11", g11, f"交流轮岗比例 {_rate(rot_share, g11) if eligible > 0 else '—'}、"
                              f"骨干教师占比 {_rate(bb_share, g11) if rotated > 0 else '—'}",
                              f"分别不低于 {g['G11_rotated_min']:.0%} 和 {g['G11_backbone_min']:.0%}"))
    g12 = ok(c["G12"], g["G12_min"])
    items.append(_county_item("G12", g12, _rate(c["G12"], g12), f"不低于 {g['G12_min']:.0%}"))
    g13 = ok(c["G13_primary"], g["G13_primary_min"]) and ok(c["G13_junior"], g["G13_junior_min"])
    items.append(_county_item("G13", g13, f"小学 {_rate(c['G13_primary'], g13)}、初中 {_rate(c['G13_junior'], g13)}",
                              f"小学不低于 {g['G13_primary_min']:.0%}、初中不低于 {g['G13_junior_min']:.0%}"))
    g14 = ok(c["G14"], g["G14_min"]) and c["G14_rural_tilt"]
    items.append(_county_item("G14", g14, f"分配比例 {_rate(c['G14'], g14)}、向农村初中倾斜 {yes_no(c['G14_rural_tilt'])}",
                              f"不低于 {g['G14_min']:.0%} 且向农村初中倾斜"))
    g15 = c["G15_care_system"] and ok(c["G15_migrant_rate"], g["G15_migrant_min"])
    items.append(_county_item("G15", g15, f"关爱体系 {yes_no(c['G15_care_system'])}、随迁子女比例 "
                              f"{_rate(c['G15_migrant_rate'], g15)}", f"关爱体系健全且比例不低于 {g['G15_migrant_min']:.0%}"))
    return items


def evaluate_guarantee(schools: pd.DataFrame, county: Mapping[str, Any], profile: Profile) -> PartResult:
    items = county_items(county, profile) + [
        g3_rooms(schools, profile), g4_school_size(schools, profile),
        g5_class_size(schools, profile), g6_small_school_funding(schools, profile),
    ]
    return part(sorted(items, key=lambda i: int(i.code[1:])))
