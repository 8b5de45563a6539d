"""The roadmap (时间表和路线图, spec/roadmap.md): from the shortfall ledger to the year a county passes.

A plan is a table of changes, one a row (year, school, column, ``+x``/``=x``, department,
note), with an optional sheet of new schools. ``read_plan`` reads it from an .xlsx (sheets
``规划``/``plan`` and ``新建学校``/``new_schools``), a CSV, a folder or a .zip of CSVs, with
Chinese or English headers, and locates every problem like the workbook reader (sheet, row,
the header as written, the value, what was expected), raised together as a ``PlanError``.

``project`` builds, for each year Y of the plan, the base workbook with every row of year ≤ Y
applied in table order and every new school with ``opens_year`` ≤ Y added, and calls
``scoring.verdict.evaluate`` on it (no rule is re-implemented here) and ``scoring.ledger.ledger``
for what still fails and what it costs. ``compliance_year`` is the first year passing R, G and Q
with no veto (and S when responses are given).

``plan_from_ledger`` starts a plan from ledger rows; ``write_plan`` writes a plan (or the empty
template) as an .xlsx with Chinese headers that ``read_plan`` reads back.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from . import workbook as wbk
from .county_keys import key_label
from .errors import InputError, Problem
from .ledger import LedgerRow, cost_by_department, demanded_changes, ledger
from .profile import Profile, load_profile
from .verdict import Verdict, evaluate

if TYPE_CHECKING:
    from .workbook import Workbook

SHEETS = {"plan": "规划", "new_schools": "新建学校"}
PLAN_COLUMNS = {"year": "年度", "school_code": "学校代码", "column": "字段", "change": "变化",
                "department": "责任单位", "note": "备注"}
REQUIRED_COLUMNS = ("year", "column", "change")
OPENS_YEAR = "opens_year"
OPENS_YEAR_CHINESE = "开办年度"

# The rule (of the profile's department table) a changed column belongs to.
COLUMN_RULES = {
    **{f"qualified_teachers_{s}": "R1" for s in ("primary", "junior")},
    **{f"backbone_teachers_{s}": "R2" for s in ("primary", "junior")},
    **{f"pe_art_teachers_{s}": "R3" for s in ("primary", "junior")},
    "teaching_area_m2": "R4", "sports_area_m2": "R5", "equipment_value_yuan": "R6", "multimedia_rooms": "R7",
    **dict.fromkeys(("classes", "music_rooms", "art_rooms", "music_room_min_area_m2", "art_room_min_area_m2"), "G3"),
    **dict.fromkeys(("students_primary", "students_junior", "students_senior"), "G4"),
    **dict.fromkeys(("max_class_size_primary", "max_class_size_junior"), "G5"),
    "funded_students": "G6", "public_funds_yuan": "Q4", "training_funds_yuan": "Q4",
}
SCHOOL_CHANGEABLE = wbk.NUMBER_COLUMNS          # counts, areas and money of the schools sheet
INTEGER_KEYS = (*wbk.YEAR_KEYS,)
YES_TEXT = {True: "是", False: "否"}
CHANGE_FORM = "应为 +x（增加 x，可为负数）或 =x（设为 x）"
CHANGE_HINT = "不是变化：" + CHANGE_FORM
NOT_A_YEAR = "不是年份：应为整数年份，如 2026"
# Years a plan may name: the workbook's data year (evaluation_year) up to 15 years on. Every
# distinct year is one projection, an evaluation of the whole county: a plan of 120 years
# (2027-2146) held the province's acceptance page for half a minute (issue 21).
YEARS_AHEAD = 15
_SPLIT_DEPARTMENTS = re.compile(r"[、,，;；/\s]+")
_FULL_WIDTH = str.maketrans({"＋": "+", "＝": "=", "－": "-", "（": "(", "）": ")", "．": ".", "％": "%"})


class PlanError(InputError):
    """The plan cannot be projected."""


def county_rule(key: str) -> str:
    """The rule a county key belongs to: G2a → G2, G11_rotated → G11, Q9_min_level → Q9, G9 → G9;
    keys of no rule (population, years) → ``default``."""
    m = re.match(r"^([GQ]\d+)", key)
    return m.group(1) if m else "default"


def column_rule(column: str) -> str:
    return COLUMN_RULES.get(column) or county_rule(column)


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlanRow:
    """One change of a plan. ``column`` is the English key (a schools column or a county key);
    ``mode`` is ``add`` or ``set``; ``value`` the typed x (a number, True/False for yes/no keys,
    a rating for Q6). ``sheet``/``row``/``header`` locate the row as the user wrote it."""

    year: int
    school_code: str | None
    column: str
    mode: str
    value: Any
    departments: tuple[str, ...]
    note: str | None = None
    change: str | None = None          # the change as written (``+1152.8``, ``=是``)
    sheet: str = "规划"                 # the sheet as the user named it (a CSV: its stem)
    row: int | None = None
    header: str = "变化"                # the header of the change column as written

    @property
    def lead_department(self) -> str:
        return self.departments[0]

    @property
    def rule(self) -> str:
        return column_rule(self.column)

    def change_text(self) -> str:
        if self.change:
            return self.change
        if isinstance(self.value, bool):
            return "=" + YES_TEXT[self.value]
        if self.mode == "set":
            return f"={_num_text(self.value)}"
        return _add_text(self.value)

    def change_words(self) -> str:
        """The change as a page says it (``设为 95%``, ``增加 3``); ``change_text`` is the plan file's form."""
        if isinstance(self.value, bool):
            return "改为" + YES_TEXT[self.value]
        if isinstance(self.value, str):
            return "改为" + self.value
        number = float(self.value)
        if self.mode == "set":
            shown = f"{number * 100:.15g}%" if self.column in wbk.RATE_KEYS else f"{number:,.15g}"
            return "设为 " + shown
        return ("减少 " if number < 0 else "增加 ") + f"{abs(number):,.15g}"

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "school_code": self.school_code, "column": self.column,
                "change": self.change_text(), "mode": self.mode, "value": self.value,
                "departments": list(self.departments), "note": self.note,
                "sheet": self.sheet, "row": self.row}


@dataclass(frozen=True, eq=False)   # eq=False: a DataFrame has no single truth value
class Plan:
    """A plan: its rows in table order and its new schools (a schools frame as the workbook
    reader returns it, plus ``opens_year``)."""

    rows: tuple[PlanRow, ...]
    new_schools: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: tuple[Problem, ...] = ()
    source: str = "plan"

    @property
    def years(self) -> tuple[int, ...]:
        """The years of the plan: those of its rows and the opening years of its new schools."""
        years = {r.year for r in self.rows}
        if not self.new_schools.empty:
            years |= {int(y) for y in self.new_schools[OPENS_YEAR]}
        return tuple(sorted(years))


def _num_text(value: Any) -> str:
    value = float(value)
    return f"{int(value)}" if value.is_integer() else f"{value:.15g}"


def _add_text(value: Any) -> str:
    """``+x``, or ``+(-x)`` for a negative x (the form of roadmap.md)."""
    return f"+({_num_text(value)})" if float(value) < 0 else f"+{_num_text(value)}"


def _round_up(value: float) -> float:
    """A ledger amount as a plan states it: whole when whole, else up to the cent (never short)."""
    if float(value).is_integer():
        return float(value)
    return math.ceil(value * 100 - 1e-6) / 100 if value > 0 else -math.floor(-value * 100 + 1e-6) / 100


# ---------------------------------------------------------------- reading


def read_plan(path: str | Path, workbook: Workbook, *, profile: Profile | None = None) -> Plan:
    """Read a plan for ``workbook``: an .xlsx, a .csv, a folder or a .zip of CSVs
    (``plan.csv``/``规划.csv`` and optionally ``new_schools.csv``/``新建学校.csv``)."""
    path = Path(path)
    if path.is_dir():
        files = {f.name: f.read_bytes() for f in sorted(path.iterdir())
                 if f.is_file() and f.suffix.lower() == ".csv" and _sheet_key(f.stem)}
        if not files:
            raise PlanError([Problem(path.name, None, None, None,
                                     "文件夹中没有规划：应有 规划.csv（或 plan.csv），"
                                     "可另附 新建学校.csv（或 new_schools.csv）")])
        return read_plan_csvs(files, workbook, profile=profile)
    if not path.is_file():
        raise PlanError([Problem(path.name, None, None, None, "文件不存在")])
    return read_plan_bytes(path.name, path.read_bytes(), workbook, profile=profile)


def read_plan_bytes(filename: str, data: bytes, workbook: Workbook, *,
                    profile: Profile | None = None) -> Plan:
    """Read an uploaded plan: .xlsx, .csv or .zip of CSVs."""
    suffix = PurePosixPath(filename).suffix.lower()
    try:
        if len(data) > wbk.MAX_BYTES:
            raise PlanError([wbk._too_large(filename)])
        if suffix == ".csv":
            return read_plan_csvs({filename: data}, workbook, profile=profile)
        if suffix == ".xls":
            raise PlanError([Problem(filename, None, None, None, "是旧版 .xls 文件：请在 Excel 中另存为 .xlsx 后再上传")])
        if suffix not in (".xlsx", ".xlsm", ".zip"):
            raise PlanError([Problem(filename, None, None, None, "不是规划表：应为 .xlsx、.csv 或 .zip 文件")])
        names = wbk._zip_names(filename, data)
        if "xl/workbook.xml" in names:
            return _build(wbk._xlsx_sheets(filename, data), filename, workbook, profile, single=False)
        return read_plan_csvs(_zip_csvs(filename, data), workbook, profile=profile)
    except PlanError:
        raise
    except InputError as exc:   # the workbook reader's file helpers
        raise PlanError(exc.problems) from exc


def read_plan_csvs(files: Mapping[str, bytes], workbook: Workbook, *,
                   profile: Profile | None = None) -> Plan:
    """Read plan CSVs by file name; a single CSV of any name is the plan sheet."""
    grids: dict[str, pd.DataFrame] = {}
    problems = []
    for name, data in files.items():
        rows = data.count(b"\n")
        if rows > wbk.MAX_ROWS:   # counted before parsing, as the workbook reader does
            label = _sheet_label(PurePosixPath(name).name)
            problems.append(dataclasses.replace(wbk._too_many_rows(_sheet_key(name) or "plan", rows, 0),
                                                sheet_label=label, expected=f"超过 {wbk.MAX_ROWS} 行，未读取"
                                                "（一个县的规划远小于此）：请删除多余的行后再上传"))
            continue
        try:
            grids[PurePosixPath(name).name] = wbk._csv_grid(data)
        except Exception:  # undecodable or unparsable text
            problems.append(wbk._unreadable(PurePosixPath(name).name, " CSV 文件"))
    if problems:
        raise PlanError(problems)
    return _build(grids, ", ".join(files) or "plan", workbook, profile, single=len(grids) == 1)


def _zip_csvs(filename: str, data: bytes) -> dict[str, bytes]:
    import zipfile

    members = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                path = PurePosixPath(wbk._member_name(info))
                if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("._"):
                    continue
                if path.suffix.lower() == ".csv" and _sheet_key(path.stem):
                    with archive.open(info) as member:
                        members[str(path)] = member.read(wbk.MAX_BYTES + 1)
    except Exception as exc:
        raise PlanError([wbk._unreadable(filename, " .zip 压缩包")]) from exc
    if not members:
        raise PlanError([Problem(filename, None, None, None, "压缩包中没有规划：应有 规划.csv（或 plan.csv）")])
    return members


def _sheet_key(name: str) -> str | None:
    name = PurePosixPath(name.strip()).stem.strip().lower() if name.lower().endswith(".csv") else name.strip().lower()
    return next((k for k, zh in SHEETS.items() if name in (k, zh)), None)


def _sheet_label(name: str) -> str:
    """A sheet as the user named it: the sheet's name, or a CSV file's stem (as the workbook reader)."""
    return PurePosixPath(name).stem if name.lower().endswith(".csv") else name


@dataclass
class _Header:
    row: int
    positions: dict[str, int]     # key -> grid column
    written: dict[str, str]       # key -> the header as the user wrote it
    sheet: str                    # the sheet key (plan, new_schools)
    label: str                    # the sheet as the user named it
    chinese: Mapping[str, str]    # key -> the template's Chinese header

    def problem(self, row: int | None, key: str | None, value: str | None, expected: str) -> Problem:
        """A problem of this sheet, its column named by the header as written (else the template's
        Chinese one when the user's headers are Chinese, as the workbook reader does)."""
        heading = self.written.get(key) if key else None
        if heading is None and key and any(self.chinese.get(k) == t for k, t in self.written.items()):
            heading = self.chinese.get(key)
        return Problem(self.sheet, row, key, value, expected, sheet_label=self.label, column_label=heading)


def _header(cells: pd.DataFrame, sheet: str, name: str, names: Mapping[str, str], chinese: Mapping[str, str],
            problems: list[Problem], warnings: list[Problem]) -> _Header | None:
    label = _sheet_label(name)
    row = wbk._header_row(cells, names)
    if row is None:
        problems.append(Problem(sheet, None, None, None, "工作表为空：应有一行表头", sheet_label=label))
        return None
    header = _Header(row, {}, {}, sheet, label, chinese)
    for position, text in cells.loc[row].items():
        key = names.get(text.lower())
        if key in header.positions:
            problems.append(Problem(sheet, row, key, text, "与前面的列重复：同一列只能有一个",
                                    sheet_label=label, column_label=f"第 {position + 1} 列"))
        elif key:
            header.positions[key], header.written[key] = position, text
        elif text:
            warnings.append(Problem(sheet, row, text, None, "不是规划表的列，已忽略", sheet_label=label))
    return header


def _build(sheets: Mapping[str, pd.DataFrame], source: str, workbook: Workbook,
           profile: Profile | None, *, single: bool) -> Plan:
    profile = profile or load_profile()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    by_key: dict[str, tuple[str, pd.DataFrame]] = {}
    for name, cells in sheets.items():
        key = _sheet_key(name) or ("plan" if single else None)
        if key is None:
            continue
        if key in by_key:
            problems.append(Problem(key, None, None, name, f"与另一“{SHEETS[key]}”重复：规划表只能有一个“{SHEETS[key]}”",
                                    sheet_label=_sheet_label(name)))
        else:
            by_key[key] = (name, cells)
    if "plan" not in by_key:
        raise PlanError([Problem(source, None, None, None,
                                 "没有规划：应有名为“规划”（或 plan）的工作表或 CSV 文件")])
    new_schools = pd.DataFrame()
    if "new_schools" in by_key:
        new_schools = _new_schools(*by_key["new_schools"], workbook, profile, problems, warnings)
    rows = _plan_rows(*by_key["plan"], workbook, new_schools, profile, problems, warnings)
    if problems:
        raise PlanError(problems)
    return Plan(tuple(rows), new_schools, tuple(warnings), source)


def _new_schools(sheet: str, cells: pd.DataFrame, workbook: Workbook, profile: Profile,
                 problems: list[Problem], warnings: list[Problem]) -> pd.DataFrame:
    """New schools: rows of the schools sheet, read by the workbook reader, plus ``opens_year``."""
    names = {**wbk._header_names(wbk.SCHOOL_COLUMNS), OPENS_YEAR: OPENS_YEAR, OPENS_YEAR_CHINESE: OPENS_YEAR}
    if not (cells != "").to_numpy().any():
        return pd.DataFrame()   # an empty sheet (the template's) is no new school
    header = _header(cells, "new_schools", sheet, names, {**wbk.SCHOOL_COLUMNS, OPENS_YEAR: OPENS_YEAR_CHINESE},
                     problems, [])
    if header is None:
        return pd.DataFrame()
    if not (cells.loc[header.row + 1:] != "").to_numpy().any():
        return pd.DataFrame()
    if OPENS_YEAR not in header.positions:
        problems.append(header.problem(header.row, OPENS_YEAR, None,
                                       f"缺少此列：请在表头加上“{OPENS_YEAR_CHINESE}”（或 {OPENS_YEAR}）"))
        return pd.DataFrame()
    opens_col = header.positions[OPENS_YEAR]
    found = wbk._Findings()
    schools = wbk._schools(cells.drop(columns=[opens_col]), profile, found)

    def relocated(p: Problem) -> Problem:
        """The workbook reader's problem of its schools sheet, placed on this sheet."""
        p = found.labelled(p)
        return dataclasses.replace(p, sheet="new_schools", sheet_label=header.label)

    problems.extend(relocated(p) for p in found.errors)
    warnings.extend(relocated(p) for p in found.warnings)
    if schools.empty:
        return pd.DataFrame()
    opens_text = cells.loc[schools["excel_row"].to_numpy(), opens_col].reset_index(drop=True)
    opens, bad = _integers(opens_text)
    for i in np.flatnonzero(bad):
        problems.append(header.problem(int(schools.at[i, "excel_row"]), OPENS_YEAR, opens_text[i] or None,
                                       "未填写：请填写新建学校的开办年度（如 2027）" if not opens_text[i]
                                       else NOT_A_YEAR))
    first, last, why_window = year_window(workbook, opens[~bad])
    for i in np.flatnonzero(~bad & ~opens.between(first, last).to_numpy(bool)):
        problems.append(header.problem(int(schools.at[i, "excel_row"]), OPENS_YEAR, opens_text[i], why_window))
    base_codes = set(workbook.schools["school_code"].astype(str))
    for i, code in enumerate(schools["school_code"].astype(str)):
        if code in base_codes:
            problems.append(header.problem(int(schools.at[i, "excel_row"]), "school_code", code,
                                           "已是指标表中的学校代码：新建学校须用新的代码"))
    return schools.assign(**{OPENS_YEAR: opens.fillna(0).astype(int)})


def year_window(workbook: Workbook, years: pd.Series) -> tuple[int, int, str]:
    """(first, last, why) of the years a plan may name: the workbook's evaluation_year up to
    ``YEARS_AHEAD`` years on; without one, the plan's earliest year up to as many on."""
    data_year = workbook.county.get("evaluation_year")
    if data_year is not None:
        first = int(data_year)
        since = f"指标表的评估年度 {first} 年"
    else:
        first = int(years.min()) if len(years) else 0
        since = f"规划最早的年度 {first} 年（指标表未填评估年度）"
    last = first + YEARS_AHEAD
    return first, last, f"超出规划的年度范围：应在 {first} 至 {last} 年之间（{since}起 {YEARS_AHEAD} 年内）"


def _integers(texts: pd.Series) -> tuple[pd.Series, np.ndarray]:
    values, bad, percent = wbk._numbers(texts.astype(str))
    bad = bad | percent | (texts == "") | ~(values.fillna(0.5) % 1 == 0)
    return values.where(~bad), bad.to_numpy(bool)


def _column_names() -> tuple[dict[str, str], dict[str, str]]:
    """Lower-case header text -> key, for schools columns and county keys."""
    schools = wbk._header_names(wbk.SCHOOL_COLUMNS)
    county = {**{k.lower(): k for k in (*wbk.COUNTY_KEYS, *wbk.YEAR_KEYS)},
              **{zh: k for k, zh in wbk.COUNTY_CHINESE.items()},
              **{key_label(k).lower(): k for k in wbk.COUNTY_CHINESE}}      # as write_plan names them
    return schools, county


def _plan_rows(sheet: str, cells: pd.DataFrame, workbook: Workbook, new_schools: pd.DataFrame,
               profile: Profile, problems: list[Problem], warnings: list[Problem]) -> list[PlanRow]:
    header = _header(cells, "plan", sheet, wbk._header_names(PLAN_COLUMNS), PLAN_COLUMNS, problems, warnings)
    if header is None:
        return []
    missing = [c for c in REQUIRED_COLUMNS if c not in header.positions]
    for c in missing:
        problems.append(header.problem(header.row, c, None, f"缺少此列：请在表头加上“{PLAN_COLUMNS[c]}”（或 {c}）"))
    if missing:
        return []
    body = cells.loc[header.row + 1:]
    body = body[(body != "").any(axis=1)]
    if body.empty:
        warnings.append(header.problem(header.row + 1, None, None, "规划中还没有任何一行变化"))
    get = {k: (body[p] if p in body else pd.Series("", body.index)) for k, p in header.positions.items()}
    blank = pd.Series("", body.index, dtype=str)
    texts = {k: get.get(k, blank) for k in PLAN_COLUMNS}
    at = header.written
    problem = header.problem
    school_names, county_names = _column_names()
    base_codes = set(workbook.schools["school_code"].astype(str))
    opens = {} if new_schools.empty else dict(zip(new_schools["school_code"].astype(str), new_schools[OPENS_YEAR]))
    years, bad_years = _integers(texts["year"])
    first, last, why_window = year_window(workbook, years[~bad_years])
    rows = []
    for i, r in enumerate(body.index):
        r = int(r)
        before = len(problems)
        year = None
        if bad_years[i]:
            text = texts["year"].iat[i]
            problems.append(problem(r, "year", text or None,
                                    "未填写：请填写变化到位的年度（如 2026）" if not text else NOT_A_YEAR))
        elif not first <= years.iat[i] <= last:
            problems.append(problem(r, "year", texts["year"].iat[i], why_window))
        else:
            year = int(years.iat[i])
        code = texts["school_code"].iat[i] or None
        column_text = texts["column"].iat[i]
        key = school_names.get(column_text.lower()) or county_names.get(column_text.lower())
        where = "school"
        if key not in county_names.values() and code is not None and code not in base_codes \
                and code not in opens:
            problems.append(problem(r, "school_code", code,
                                    "不是指标表中的学校，也不在“新建学校”表中：应为已有或新建学校的代码"))
        if not column_text:
            problems.append(problem(r, "column", None, "未填写：应为学校表的列名或县域表的指标"))
            key = None
        elif key is None:
            problems.append(problem(r, "column", column_text,
                                    "不是学校表的列，也不是县域表的指标：应为指标表中的列名或指标"))
        elif key in wbk.SCHOOL_COLUMNS and key not in SCHOOL_CHANGEABLE:
            problems.append(problem(r, "column", column_text,
                                    "不能由规划修改：规划只改学校的数量、面积、金额或县域指标"))
            key = None
        elif key == "county_name":
            problems.append(problem(r, "column", column_text, "不能由规划修改：县名不随规划变化"))
            key = None
        elif key in SCHOOL_CHANGEABLE:
            if code is None:
                problems.append(problem(r, "school_code", None,
                                        f"未填写：“{_column_header(key)}”是学校表的列，应填写学校代码"))
            elif code in opens and year is not None and year < opens[code]:
                problems.append(problem(r, "year", str(year),
                                        f"早于新建学校 {code} 的开办年度 {opens[code]}（见“新建学校”表）："
                                        "应为开办当年或以后"))
        else:
            where = "county"
            if code is not None:
                problems.append(problem(r, "school_code", code,
                                        f"应为空：“{_column_header(key)}”是县域指标，不属于某所学校"))
        change_text = texts["change"].iat[i]
        mode = value = None
        if key is not None:
            mode, value, why = _parse_change(key, change_text, where)
            if why:
                problems.append(problem(r, "change", change_text or None, why))
        for free in ("department", "note"):
            if wbk.CONTROL_CHARACTERS.search(texts[free].iat[i]):
                problems.append(problem(r, free, texts[free].iat[i], wbk.HAS_CONTROL))
        department_text = texts["department"].iat[i]
        departments = tuple(d for d in _SPLIT_DEPARTMENTS.split(department_text) if d) if department_text \
            else (profile.departments_of(column_rule(key)) if key else ())
        if len(problems) == before:
            rows.append(PlanRow(year, code, key, mode, value, departments, texts["note"].iat[i] or None,
                                _normal(change_text), header.label, r, at["change"]))
    return rows


def _normal(text: str) -> str:
    return text.translate(_FULL_WIDTH).replace(" ", "")


def _parse_change(key: str, text: str, where: str) -> tuple[str | None, Any, str | None]:
    """(mode, typed x, None) or (None, None, why) for the change cell of a row changing ``key``."""
    if not text:
        return None, None, "未填写：" + CHANGE_FORM
    t = _normal(text)
    if t[0] in "+=":
        mode, body = ("add" if t[0] == "+" else "set"), t[1:]
    elif t[0] == "-":
        mode, body = "add", t          # "-5" is "+(-5)"
    elif t.startswith("#"):      # Excel computed "=是" as a formula: #NAME?
        return None, None, CHANGE_HINT + "（Excel 把它算成了公式：请把此列设为文本格式）"
    else:
        return None, None, CHANGE_HINT
    m = re.fullmatch(r"\((.*)\)", body)
    body = m.group(1) if m else body
    if key in wbk.YES_NO_KEYS:
        value = wbk.YES_NO.get(body.lower())
        if mode != "set" or value is None:
            return None, None, f"不是变化：“{_column_header(key)}”是“是/否”项，应为 =是 或 =否"
        return mode, value, None
    if key == "Q6":
        if mode != "set" or body not in wbk.Q6_RATINGS:
            return None, None, f"不是变化：“{_column_header(key)}”是评价等级，应为 =优秀、=良好、=合格 或 =不合格"
        return mode, body, None
    if key == "Q9_min_level" and mode == "set":
        level = wbk.Q9_LEVELS.get(body.upper().removesuffix("级"))
        if level is None:
            return None, None, f"不是变化：“{_column_header(key)}”是等级，应为 =1 至 =4（或 Ⅰ–Ⅳ）"
        return mode, level, None
    values, bad, percent = wbk._numbers(pd.Series([body.lstrip("+") if mode == "add" else body], dtype=str))
    number, percent = float(values.iat[0]), bool(percent.iat[0])
    if bad.iat[0] or np.isnan(number):
        return None, None, CHANGE_HINT + "，x 为数字"
    if where == "school" and percent:
        return None, None, "是百分数，但此列是数量、面积或金额：应为数字"
    if key in wbk.RATE_KEYS:
        if abs(number) > 1 and not percent:
            number /= 100      # a plain number above 1 in a rate key is a percentage (workbook.md)
        if mode == "set" and not 0 <= number <= 1:
            return None, None, "不是比率：应为 0 到 1 之间的数（或 0%–100%）"
    elif key in INTEGER_KEYS and not number.is_integer():
        return None, None, "不是整年：应为整数年份（如 2024）"
    elif mode == "set" and number < 0:
        return None, None, "应为不小于 0 的数字"
    return mode, number, None


# ---------------------------------------------------------------- the projection


@dataclass(frozen=True)
class PlanChange:
    """A plan row (or a new school's column) as applied in one year's projection."""

    year: int                     # the row's year (a new school: its opening year)
    school_code: str | None
    column: str
    before: Any
    after: Any
    departments: tuple[str, ...]
    cost_yuan: float | None       # (after − before) × the unit cost; None: the column has no cost
    row: PlanRow | None = None    # None for a new school's column
    new_school: bool = False

    @property
    def delta(self) -> float | None:
        if isinstance(self.after, (bool, str)) or self.after is None:
            return None
        return float(self.after) - (float(self.before) if self.before is not None else 0.0)

    @property
    def lead_department(self) -> str:
        return self.departments[0]

    def to_dict(self) -> dict[str, Any]:
        out = {"year": self.year, "school_code": self.school_code, "column": self.column,
               "before": self.before, "after": self.after, "increase": self.delta,
               "departments": list(self.departments), "cost_yuan": self.cost_yuan,
               "new_school": self.new_school}
        if self.row is not None:
            out.update(change=self.row.change_text(), note=self.row.note, sheet=self.row.sheet, row=self.row.row)
        return out


@dataclass(frozen=True, eq=False)
class YearProjection:
    year: int | None              # None: the base workbook
    workbook: Workbook
    verdict: Verdict
    passed: bool                  # R, G, Q passed, no veto, and S when responses are given
    ledger: tuple[LedgerRow, ...]
    ledger_cost_yuan: float
    cost_by_department: Mapping[str, float]        # the remaining ledger's cost by lead department
    changes: tuple[PlanChange, ...]                # the plan as applied in this year's projection
    plan_cost_yuan: float
    plan_cost_by_department: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict.to_dict()
        return {"year": self.year, "passed": self.passed, "verdict_passed": self.verdict.passed,
                "failed_parts": v["failed_parts"], "parts": v["parts"], "veto": v["veto"],
                "precondition": v["precondition"],
                "ledger_cost_yuan": self.ledger_cost_yuan, "cost_by_department": dict(self.cost_by_department),
                "plan_cost_yuan": self.plan_cost_yuan,
                "plan_cost_by_department": dict(self.plan_cost_by_department),
                "ledger": [r.to_dict() for r in self.ledger]}


@dataclass(frozen=True, eq=False)
class Roadmap:
    county: str
    profile: str
    base_year: int | None
    base: YearProjection
    years: tuple[YearProjection, ...]
    compliance_year: int | None
    with_recognition: bool
    plan: Plan

    def year(self, year: int) -> YearProjection:
        return next(y for y in self.years if y.year == year)

    def to_dict(self) -> dict[str, Any]:
        return {"county": self.county, "profile": self.profile, "base_year": self.base_year,
                "compliance_year": self.compliance_year, "with_recognition": self.with_recognition,
                "base": self.base.to_dict(), "years": [y.to_dict() for y in self.years],
                "plan": [r.to_dict() for r in self.plan.rows],
                "new_schools": [] if self.plan.new_schools.empty else
                [{"school_code": str(c), "school_name": str(n), "opens_year": int(y)} for c, n, y in
                 zip(self.plan.new_schools["school_code"], self.plan.new_schools["school_name"],
                     self.plan.new_schools[OPENS_YEAR])],
                "warnings": [str(w) for w in self.plan.warnings]}


def passes(verdict: Verdict, with_recognition: bool) -> bool:
    """A projection passes when R, G and Q pass with no veto, and S when responses are given."""
    ok = verdict.resources.passed and verdict.guarantee.passed and verdict.quality.passed and not verdict.veto
    return bool(ok and (verdict.recognition.passed or not with_recognition))


def _cost(column: str, delta: float | None, profile: Profile) -> float | None:
    unit = profile.unit_cost(column)
    return None if unit is None or delta is None else delta * unit


def _schools_with_new(workbook: Workbook, plan: Plan, year: int, profile: Profile
                      ) -> tuple[pd.DataFrame, list[PlanChange]]:
    schools = workbook.schools
    changes: list[PlanChange] = []
    if plan.new_schools.empty:
        return schools.copy(), changes
    opening = plan.new_schools[plan.new_schools[OPENS_YEAR] <= year]
    if opening.empty:
        return schools.copy(), changes
    for record in opening.to_dict("records"):
        for column in wbk.NUMBER_COLUMNS:
            value = record.get(column)
            cost = _cost(column, float(value), profile) if pd.notna(value) and value else None
            if cost is not None:
                changes.append(PlanChange(int(record[OPENS_YEAR]), str(record["school_code"]), column, None,
                                          float(value), profile.departments_of(column_rule(column)), cost,
                                          None, True))
    added = opening.drop(columns=[OPENS_YEAR]).reindex(columns=schools.columns)
    return pd.concat([schools, added], ignore_index=True), changes


def _made(row: PlanRow, expected: str) -> Problem:
    """A row whose change, applied, makes a value out of range: located at its change cell."""
    return Problem("plan", row.row, "change", row.change_text(), expected, sheet_label=row.sheet,
                   column_label=row.header)


def projected_workbook(workbook: Workbook, plan: Plan, year: int, profile: Profile | None = None
                       ) -> tuple[Workbook, tuple[PlanChange, ...]]:
    """The workbook of ``year``: the base with every row of year ≤ ``year`` applied in table order
    and every new school with opens_year ≤ ``year`` added; and the changes as applied."""
    profile = load_profile(profile)
    schools, changes = _schools_with_new(workbook, plan, year, profile)
    county = dict(workbook.county)
    problems = []
    position = {code: i for i, code in enumerate(schools["school_code"].astype(str))}
    for row in plan.rows:
        if row.year > year:
            continue
        if row.school_code is not None:
            i = position[row.school_code]
            current = schools.at[i, row.column]
            before = 0.0 if pd.isna(current) else float(current)
            after = row.value if row.mode == "set" else before + row.value
            if not profile.at_least(after, 0):
                problems.append(_made(row, f"使学校 {row.school_code} 的“{_column_header(row.column)}”在 {year} 年"
                                           f"变为 {after:g}：应为不小于 0 的数字"))
            schools.at[i, row.column] = float(after)
            cost = _cost(row.column, float(after) - before, profile)
        else:
            before = county.get(row.column)
            if row.mode == "set":
                after = row.value
            else:
                after = (float(before) if before is not None else 0.0) + row.value
                if row.column in wbk.RATE_KEYS and not (profile.at_least(after, 0) and profile.at_most(after, 1)):
                    problems.append(_made(row, f"使“{_column_header(row.column)}”在 {year} 年变为 {after:g}："
                                               "应为 0 到 1 之间的比率"))
                elif row.column == "Q9_min_level" and after not in (1, 2, 3, 4):
                    problems.append(_made(row, f"使“{_column_header(row.column)}”在 {year} 年变为 {after:g}："
                                               "应为等级 1–4"))
                elif not profile.at_least(after, 0):
                    problems.append(_made(row, f"使“{_column_header(row.column)}”在 {year} 年变为 {after:g}："
                                               "应为不小于 0 的数字"))
                if row.column in INTEGER_KEYS or row.column == "Q9_min_level":
                    after = round(after)
            county[row.column] = after
            cost = None
        changes.append(PlanChange(row.year, row.school_code, row.column, before, after, row.departments,
                                  cost, row))
    if problems:
        raise PlanError(problems)
    projected = dataclasses.replace(workbook, schools=schools, county=MappingProxyType(county))
    return projected, tuple(changes)


def _projection(year: int | None, workbook: Workbook, changes: Sequence[PlanChange], profile: Profile,
                responses: pd.DataFrame | None) -> YearProjection:
    verdict = evaluate(workbook, responses, profile)
    rows = tuple(ledger(verdict, workbook, profile, responses))
    total, by_department = cost_by_department(rows)
    plan_by_department: dict[str, float] = {}
    for change in changes:
        if change.cost_yuan is not None:
            plan_by_department[change.lead_department] = plan_by_department.get(change.lead_department, 0.0) \
                + change.cost_yuan
    return YearProjection(year, workbook, verdict, passes(verdict, responses is not None), rows, total,
                          MappingProxyType(by_department), tuple(changes),
                          sum(plan_by_department.values(), 0.0), MappingProxyType(plan_by_department))


def project(workbook: Workbook, plan: Plan, profile: Profile | str | None = None,
            responses: pd.DataFrame | None = None) -> Roadmap:
    """The projection of roadmap.md: each year of the plan evaluated with the same profile and,
    when given, the same responses; the compliance year is the first that passes."""
    profile = load_profile(profile)
    base = _projection(None, workbook, (), profile, responses)
    years = []
    problems: list[Problem] = []
    for year in plan.years:
        try:
            projected, changes = projected_workbook(workbook, plan, year, profile)
        except PlanError as exc:
            problems += [p for p in exc.problems if p not in problems]
            continue
        years.append(_projection(year, projected, changes, profile, responses))
    if problems:
        raise PlanError(problems)
    compliance = next((y.year for y in years if y.passed), None)
    base_year = workbook.county.get("evaluation_year")
    return Roadmap(str(workbook.county["county_name"]), profile.name,
                   int(base_year) if base_year is not None else None, base, tuple(years), compliance,
                   responses is not None, plan)


# ---------------------------------------------------------------- from the ledger, to a file


def plan_from_ledger(rows: Iterable[LedgerRow | Mapping[str, Any]], year: int | Callable[[Mapping[str, Any]], int],
                     *, years_by_school: Mapping[str, int] | None = None,
                     profile: Profile | None = None) -> Plan:
    """A plan prefilled from ledger rows ("start a plan from the ledger"): one row per cell the
    ledger changes (``+increase``; a cell named by several rows takes the most demanding one, as
    ``apply_rows`` does) and per county key (``=target``). Survey, veto and precondition rows
    change no workbook cell and are left out. ``year`` is the year of every row, or a function of
    the ledger row's dict; ``years_by_school`` sets the year per school. The reason becomes the
    note; the departments are the ledger row's (else the profile's)."""
    profile = load_profile(profile)
    cells, keys = demanded_changes(rows)
    out: list[PlanRow] = []

    def year_of(r: Mapping[str, Any]) -> int:
        code = r.get("school_code")
        if years_by_school and code is not None and str(code) in years_by_school:
            return int(years_by_school[str(code)])
        return int(year(r) if callable(year) else year)

    def departments(r: Mapping[str, Any], column: str) -> tuple[str, ...]:
        return tuple(r.get("departments") or ()) or profile.departments_of(column_rule(column))

    for (code, column), (r, inc) in cells.items():
        inc = _round_up(inc)
        out.append(PlanRow(year_of(r), code, column, "add", inc, departments(r, column), r.get("reason"),
                           _add_text(inc), row=len(out) + 2))
    for key, r in keys.items():
        target = r["target"]
        if isinstance(target, str) and target.lower() in ("yes", "no"):
            value: Any = target.lower() == "yes"
            text = "=" + YES_TEXT[value]
        elif isinstance(target, str):
            value, text = target, f"={target}"
        else:
            value, text = float(target), f"={_num_text(target)}"
            if key in INTEGER_KEYS or key == "Q9_min_level":
                value = int(value)
        out.append(PlanRow(year_of(r), None, key, "set", value, departments(r, key), r.get("reason"), text,
                           row=len(out) + 2))
    return Plan(tuple(out))


def _column_header(column: str) -> str:
    return wbk.SCHOOL_COLUMNS.get(column) or (key_label(column) if column in wbk.COUNTY_CHINESE else column)


def write_plan(plan: Plan | None = None, path: str | Path | None = None) -> bytes:
    """The plan as an .xlsx with Chinese headers (sheets 规划 and 新建学校); with no plan, the empty
    template. ``read_plan`` reads it back. Written to ``path`` when given; the bytes are returned."""
    plan = plan or Plan(())
    records = [{PLAN_COLUMNS["year"]: r.year, PLAN_COLUMNS["school_code"]: r.school_code or "",
                PLAN_COLUMNS["column"]: _column_header(r.column), PLAN_COLUMNS["change"]: r.change_text(),
                PLAN_COLUMNS["department"]: "、".join(r.departments), PLAN_COLUMNS["note"]: r.note or ""}
               for r in plan.rows]
    rows = pd.DataFrame(records, columns=list(PLAN_COLUMNS.values()))
    school_columns = list(wbk.SCHOOL_COLUMNS)
    if plan.new_schools.empty:
        new = pd.DataFrame(columns=[*wbk.SCHOOL_COLUMNS.values(), OPENS_YEAR_CHINESE])
    else:
        frame = plan.new_schools.copy()
        frame["school_type"] = frame["school_type"].map(wbk.SCHOOL_TYPES)
        frame["location"] = frame["location"].map(wbk.LOCATION_NAMES)
        new = frame[[*school_columns, OPENS_YEAR]].rename(
            columns={**wbk.SCHOOL_COLUMNS, OPENS_YEAR: OPENS_YEAR_CHINESE})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        rows.to_excel(writer, sheet_name=SHEETS["plan"], index=False)
        new.to_excel(writer, sheet_name=SHEETS["new_schools"], index=False)
        # Every text a text cell: "=是" or "=120" stays a change, a note or department "=2+3" stays
        # what was written (openpyxl would store it as a formula, read back empty). Control
        # characters cannot be stored in an .xlsx at all (the readers refuse them).
        for written in writer.sheets.values():
            for row in written.iter_rows(min_row=2):
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.value = ILLEGAL_CHARACTERS_RE.sub("", cell.value)
                        cell.data_type = "s"
        sheet = writer.sheets[SHEETS["plan"]]
        for r in range(2, max(len(records) + 2, 500)):
            for c in range(1, len(PLAN_COLUMNS) + 1):
                sheet.cell(row=r, column=c).number_format = "@" if c != 1 else "0"
        for c, width in zip("ABCDEF", (8, 12, 26, 14, 24, 60)):
            sheet.column_dimensions[c].width = width
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


# ---------------------------------------------------------------- text


def render_text(roadmap: Roadmap) -> str:
    part_names = {"resources": "资源配置", "guarantee": "政府保障程度", "quality": "教育质量", "recognition": "社会认可度"}
    lines = [f"{roadmap.county} 路线图（基准年度 {roadmap.base_year or '—'}）",
             f"达标年度：{roadmap.compliance_year or '规划期内未达标'}",
             f"当前台账费用：{roadmap.base.ledger_cost_yuan:,.0f} 元"]
    for y in roadmap.years:
        failed = [part_names[p] for p in y.verdict.failed_parts
                  if p != "recognition" or roadmap.with_recognition]
        state = "达标" if y.passed else "未达标（" + "、".join(failed + [f"一票否决 {v}" for v in y.verdict.veto]) + "）"
        lines.append(f"{y.year} 年：{state}；剩余台账费用 {y.ledger_cost_yuan:,.0f} 元；"
                     f"规划累计费用 {y.plan_cost_yuan:,.0f} 元")
        for dept, cost in y.plan_cost_by_department.items():
            lines.append(f"    {dept}：{cost:,.0f} 元")
    return "\n".join(lines) + "\n"
