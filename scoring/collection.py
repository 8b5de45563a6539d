"""A school's own row of the schools sheet (issue 22, 数据采集): checked by the workbook
reader's own rules, and the review's flag for an unusual change.

A school fills every column of ``workbook.SCHOOL_COLUMNS`` but the identity ones, which come
from the school list. ``check_row`` writes the row as a one-row schools sheet and reads it
with ``workbook.read_workbook_csvs``: whatever the reader refuses in an uploaded workbook is
refused here, located by column, and nothing else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InputError, Problem
from .profile import Profile
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
                                 f"上次 {_plain(old)}，本次 {_plain(new)}，变化 {change:+.0%}")
    return flags


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if number == number else None        # NaN: a blank cell


def _plain(x: float) -> str:
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
