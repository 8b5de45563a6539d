"""A school's own row of the schools sheet (issue 22, 数据采集): checked by the workbook
reader's own rules, and the review's flags for an unusual value: a change of more than a third
from last year, and a per-student value far outside the county's spread.

A school fills every column of ``workbook.SCHOOL_COLUMNS`` but the identity ones, which come
from the school list. ``check_row`` writes the row as a one-row schools sheet and reads it
with ``workbook.read_workbook_csvs``: whatever the reader refuses in an uploaded workbook is
refused here, located by column, and nothing else.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InputError, Problem
from .names import GUARANTEE_ITEMS, QUALITY_ITEMS, VETO_ITEMS
from .profile import Profile
from .resources import INDICATOR_NAMES
from .workbook import NUMBER_COLUMNS, SCHOOL_COLUMNS, SHEETS, read_workbook_csvs

IDENTITY_COLUMNS = ("school_code", "school_name", "school_type", "location")
FORM_COLUMNS = NUMBER_COLUMNS            # what a school fills in
# A change of more than a third from the last approved value is flagged for a second look.
CHANGE_LIMIT = 1 / 3


def schools_csv(rows: Iterable[Mapping[str, object]]) -> bytes:
    """A schools sheet (学校.csv, Chinese headers, UTF-8 with BOM) of the given rows: their
    identity and filled values as text, blanks as empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCHOOL_COLUMNS.values())
    for row in rows:
        writer.writerow("" if row.get(c) is None else str(row.get(c)).strip() for c in SCHOOL_COLUMNS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def check_row(identity: Mapping[str, str], values: Mapping[str, str], profile: Profile) -> list[Problem]:
    """Every problem the workbook reader finds in this school's row (none when it would be read)."""
    data = schools_csv([{**values, **identity}])
    try:
        read_workbook_csvs({f"{SHEETS['schools']}.csv": data}, profile=profile, schools_only=True)
    except InputError as exc:
        return list(exc.problems)
    return []


@dataclass(frozen=True)
class Flag:
    """A value the review looks at twice: which rule fired and why."""
    column: str
    rule: str
    why: str


def unusual_changes(values: Mapping[str, str], before: Mapping[str, object] | None) -> dict[str, Flag]:
    """Columns whose value moved more than a third from the last approved one (when there is one
    above zero): ``|new - old| > old / 3``."""
    flags = {}
    for column in FORM_COLUMNS:
        new, old = _number(values.get(column)), _number((before or {}).get(column))
        if new is None or old is None or old <= 0:
            continue
        change = (new - old) / old
        if abs(change) > CHANGE_LIMIT:
            flags[column] = Flag(column, "与上次核定值相比变化超过三分之一",
                                 f"上次 {plain(old)}，本次 {plain(new)}，变化 {change:+.0%}")
    return flags


@dataclass(frozen=True)
class PerStudent:
    """A per-student quantity of a school's own row: ``column`` (the value the school enters)
    per ``per`` students of ``students`` (summed)."""
    column: str
    name: str
    unit: str
    students: tuple[str, ...]
    per: int


_ALL_STUDENTS = ("students_primary", "students_junior", "students_senior")
_STAGE = {"primary": "小学", "junior": "初中"}
# The review's per-student quantities: R1–R3 per hundred students of the stage, the facilities
# (R4–R7) and the public funds over the school's whole enrolment, as on the school's own row (the
# verdict's apportionment between stages is the verdict's, not a review's concern).
PER_STUDENT = {
    **{f"{base}_{stage}": PerStudent(f"{base}_{stage}", f"{_STAGE[stage]}{INDICATOR_NAMES[rule]}", "人",
                                     (f"students_{stage}",), 100)
       for rule, base in (("R1", "qualified_teachers"), ("R2", "backbone_teachers"), ("R3", "pe_art_teachers"))
       for stage in _STAGE},
    "teaching_area_m2": PerStudent("teaching_area_m2", INDICATOR_NAMES["R4"], "平方米", _ALL_STUDENTS, 1),
    "sports_area_m2": PerStudent("sports_area_m2", INDICATOR_NAMES["R5"], "平方米", _ALL_STUDENTS, 1),
    "equipment_value_yuan": PerStudent("equipment_value_yuan", INDICATOR_NAMES["R6"], "元", _ALL_STUDENTS, 1),
    "multimedia_rooms": PerStudent("multimedia_rooms", INDICATOR_NAMES["R7"], "间", _ALL_STUDENTS, 100),
    "public_funds_yuan": PerStudent("public_funds_yuan", "生均年度公用经费预算", "元", _ALL_STUDENTS, 1),
}
# 1.4826 × MAD estimates the standard deviation of normally spread values (robust to a few wild ones).
MAD_TO_SD = 1.4826


def per_student(values: Mapping[str, object]) -> dict[str, float]:
    """Column -> its per-student value in this row, where the value and a positive enrolment are numbers."""
    out = {}
    for column, q in PER_STUDENT.items():
        value = _number(values.get(column))
        students = sum(_number(values.get(c)) or 0.0 for c in q.students)
        if value is not None and students > 0:
            out[column] = value / students * q.per
    return out


@dataclass(frozen=True)
class Spread:
    """The county's per-student values of one quantity: their median, and the usual range
    ``median ± max(k × 1.4826 × MAD, share × median)`` (None when too few schools)."""
    median: float
    low: float | None
    high: float | None
    schools: int


def county_spreads(rows: Iterable[Mapping[str, object]], profile: Profile) -> dict[str, Spread]:
    """Column -> the spread of its per-student value over ``rows`` (the round's submitted and
    approved schools). A usual range needs ``outlier_min_schools`` schools and a width above zero."""
    k, share = float(profile.collection["outlier_mads"]), float(profile.collection["outlier_min_share"])
    least = int(profile.collection["outlier_min_schools"])
    found: dict[str, list[float]] = {}
    for row in rows:
        for column, value in per_student(row).items():
            found.setdefault(column, []).append(value)
    spreads = {}
    for column, xs in found.items():
        median = statistics.median(xs)
        half = max(k * MAD_TO_SD * statistics.median(abs(x - median) for x in xs), share * abs(median))
        usual = len(xs) >= least and half > 0
        spreads[column] = Spread(median, median - half if usual else None, median + half if usual else None,
                                 len(xs))
    return spreads


def beside_median(values: Mapping[str, str], spreads: Mapping[str, Spread]) -> dict[str, str]:
    """Column -> what the review shows beside it: the school's per-student value and the county's median."""
    mine = per_student(values)
    out = {}
    for column, spread in spreads.items():
        q = PER_STUDENT[column]
        per = "每百名学生" if q.per == 100 else "生均"
        own = f"本校 {plain(mine[column])} {q.unit}，" if column in mine else ""
        out[column] = f"{per}：{own}全县中位数 {plain(spread.median)} {q.unit}（{spread.schools} 所学校）"
    return out


def unusual_per_student(values: Mapping[str, str], spreads: Mapping[str, Spread], profile: Profile) -> dict[str, Flag]:
    """Columns whose per-student value lies outside the county's usual range: ``|x − median| >
    max(k × 1.4826 × MAD, share × median)`` (k = ``outlier_mads``, share = ``outlier_min_share``)."""
    k, share = float(profile.collection["outlier_mads"]), float(profile.collection["outlier_min_share"])
    flags = {}
    for column, x in per_student(values).items():
        spread = spreads.get(column)
        if spread is None or spread.low is None or spread.low <= x <= spread.high:
            continue
        q = PER_STUDENT[column]
        flags[column] = Flag(column, "生均值远离全县中位数",
                             f"{q.name}为 {plain(x)} {q.unit}，全县中位数 {plain(spread.median)} {q.unit}，"
                             f"超出常见范围（{plain(spread.low)}～{plain(spread.high)}：中位数上下 {k:g} 倍"
                             f"稳健标准差、至少中位数的 {share:.0%}，按 {spread.schools} 所已提交学校计算）")
    return flags


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if number == number else None        # NaN: a blank cell


def plain(x: float) -> str:
    """A figure as the review shows it: 16, 5.30, 1,716,400."""
    return f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


# Field groups evidence (佐证材料) is attached to: the rule a group's columns feed, its columns.
EVIDENCE_GROUPS = {
    "students": ("在校生数", ("students_primary", "students_junior", "students_senior")),
    "R1": ("R1 高于规定学历教师", ("qualified_teachers_primary", "qualified_teachers_junior")),
    "R2": ("R2 县级以上骨干教师", ("backbone_teachers_primary", "backbone_teachers_junior")),
    "R3": ("R3 体育艺术专任教师", ("pe_art_teachers_primary", "pe_art_teachers_junior")),
    "R4": ("R4 教学及辅助用房面积", ("teaching_area_m2",)),
    "R5": ("R5 体育运动场馆面积", ("sports_area_m2",)),
    "R6": ("R6 教学仪器设备值", ("equipment_value_yuan",)),
    "R7": ("R7 网络多媒体教室", ("multimedia_rooms",)),
    "G3": ("G3 班级数与音乐美术专用教室", ("classes", "music_rooms", "art_rooms", "music_room_min_area_m2",
                                 "art_room_min_area_m2")),
    "G5": ("G5 最大班额", ("max_class_size_primary", "max_class_size_junior")),
    "G6": ("G6 核定公用经费学生数", ("funded_students",)),
    "Q4": ("Q4 公用经费与教师培训经费", ("public_funds_yuan", "training_funds_yuan")),
}
assert sorted(c for _, cs in EVIDENCE_GROUPS.values() for c in cs) == sorted(FORM_COLUMNS)

# County items the bureau attaches evidence to (佐证材料 of the county, not of one school).
COUNTY_ITEMS = {**{c: f"{c} {n}" for c, n in GUARANTEE_ITEMS.items()},
                **{c: f"{c} {n}" for c, n in QUALITY_ITEMS.items()},
                **{c: f"{c} {n}" for c, n in VETO_ITEMS.items()}}
