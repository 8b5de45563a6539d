"""The indicator workbook reader (spec/workbook.md).

A workbook is an .xlsx file, a .zip of CSVs or a folder of CSVs. Every cell is
read as text, typed column by column, and every problem found is collected so
that the user sees them all in one ``WorkbookError``; nothing is half-imported.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .county_keys import COUNTY_KEYS as COUNTY_KEY_TABLE
from .errors import Problem, WorkbookError
from .profile import STAGES, Profile, load_profile
from .scope import TYPE_STAGES, in_scope, small_rural_school

# A county has a few hundred schools: anything near these limits is not a workbook.
MAX_BYTES = 50 * 1024 * 1024  # file size and total uncompressed size of a zip
MAX_MEMBERS = 1000  # zip members (an .xlsx holds a few dozen)
# One part of an .xlsx, uncompressed: a county's sheets and their shared strings are a few
# hundred KB, and 5,000 rows of 25 columns about 6 MB; parsing takes about a second per 5 MB.
# A 157 KB file whose shared strings unpack to 44 MB held a worker 24 s (issue 21). Parts over
# 1 MB may not unpack to more than 100 times their packed size (XML of real cells: 5-20 times).
MAX_PART_BYTES = 10 * 1024 * 1024
MAX_PART_RATIO = 100
# Rows and cells of one sheet, counted in the file's bytes before any parsing: the largest
# county has a few hundred schools, and 5,000 rows parse in about a second.
MAX_ROWS = 5000
MAX_CELLS = MAX_ROWS * 60

SHEETS = {"schools": "学校", "county": "县域", "veto": "一票否决"}

# Text cells a person reads back (school codes and names, the county's name, a plan's notes):
# C0 control characters are invisible, and an .xlsx cannot hold them (a county's exports would
# fail for every reader); a code starting like a formula would run in the spreadsheet of anyone
# opening an export.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
HAS_CONTROL = "含有看不见的控制字符：请在表格中删除后重新输入此单元格"
FORMULA_SIGNS = ("=", "+", "-", "@")
CODE_LIKE_FORMULA = "不能以 =、+、-、@ 开头（电子表格会把它当作公式）：学校代码应以字母、数字或汉字开头"

SCHOOL_COLUMNS = {
    "school_code": "学校代码",
    "school_name": "学校名称",
    "school_type": "学校类型",
    "location": "城乡类型",
    "students_primary": "小学在校生数",
    "students_junior": "初中在校生数",
    "students_senior": "高中在校生数",
    "qualified_teachers_primary": "小学高于规定学历教师数",
    "qualified_teachers_junior": "初中高于规定学历教师数",
    "backbone_teachers_primary": "小学县级以上骨干教师数",
    "backbone_teachers_junior": "初中县级以上骨干教师数",
    "pe_art_teachers_primary": "小学体育艺术专任教师数",
    "pe_art_teachers_junior": "初中体育艺术专任教师数",
    "teaching_area_m2": "教学及辅助用房面积",
    "sports_area_m2": "体育运动场馆面积",
    "equipment_value_yuan": "教学仪器设备值",
    "multimedia_rooms": "网络多媒体教室数",
    "classes": "班级数",
    "music_rooms": "音乐专用教室数",
    "art_rooms": "美术专用教室数",
    "music_room_min_area_m2": "最小音乐专用教室面积",
    "art_room_min_area_m2": "最小美术专用教室面积",
    "max_class_size_primary": "小学最大班额",
    "max_class_size_junior": "初中最大班额",
    "funded_students": "核定公用经费学生数",
    "public_funds_yuan": "年度公用经费预算总额",
    "training_funds_yuan": "教师培训经费",
}
NUMBER_COLUMNS = tuple(SCHOOL_COLUMNS)[4:]
STUDENT_COLUMNS = {"primary": "students_primary", "junior": "students_junior", "senior": "students_senior"}

SCHOOL_TYPES = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "twelve_year": "十二年一贯制",
    "complete_middle": "完全中学",
    "teaching_point": "教学点",
    "special": "特殊教育学校",
}
LOCATION_NAMES = {"urban": "城区", "town": "镇区", "rural": "乡村"}
STAGE_NAMES = {"primary": "小学", "junior": "初中", "senior": "高中"}

# Which blank cells are errors (workbook.md "Blank cells").
ALWAYS_REQUIRED = ("school_code", "school_name", "school_type", "location",
                   "public_funds_yuan", "training_funds_yuan")
STAGE_REQUIRED = {s: (f"qualified_teachers_{s}", f"backbone_teachers_{s}",
                      f"pe_art_teachers_{s}", f"max_class_size_{s}") for s in STAGES}
SCOPE_REQUIRED = ("teaching_area_m2", "sports_area_m2", "equipment_value_yuan", "multimedia_rooms",
                  "classes", "music_rooms", "art_rooms", "music_room_min_area_m2",
                  "art_room_min_area_m2")
# Columns that must be present although blank cells are allowed: without them no other
# requirement could be decided (students_senior may be left out: no senior students).
ENROLMENT_COLUMNS = ("students_primary", "students_junior")

SHARE_KEYS = ("population_share_urban", "population_share_town", "population_share_rural")
RATE_KEYS = ("G9", "G12", "G13_primary", "G13_junior", "G14", "G15_migrant_rate", "Q1", "Q2",
             *SHARE_KEYS)
YES_NO_KEYS = ("G1", "G2a", "G2b", "G2c", "G2d", "G8_merit_pay_full", "G10", "G14_rural_tilt",
               "G15_care_system", "Q3", "Q5", "Q7", "Q8")
YEAR_KEYS = ("basic_balance_year", "evaluation_year")
COUNTY_KEYS = (
    "county_name", "resident_population", *SHARE_KEYS,
    "G1", "G2a", "G2b", "G2c", "G2d", "G7", "G8_teacher_salary", "G8_civil_servant_salary",
    "G8_merit_pay_full", "G9", "G10", "G11_eligible", "G11_rotated", "G11_rotated_backbone",
    "G12", "G13_primary", "G13_junior", "G14", "G14_rural_tilt", "G15_care_system",
    "G15_migrant_rate", "Q1", "Q2", "Q3", "Q5", "Q6", "Q7", "Q8", "Q9_min_level",
    "Q9_school_diff_rate",
)
# The county keys' Chinese names (county_keys.py), accepted in place of the keys.
COUNTY_CHINESE = {key: name for key, (name, _, _) in COUNTY_KEY_TABLE.items()}
VETO_KEYS = tuple(f"V{i}" for i in range(1, 8))
KEY_VALUE_COLUMNS = {"key": "键", "value": "值"}
# Columns the blank template puts beside a key for people; read as known and ignored.
KEY_VALUE_NOTES = {"name": "名称", "unit": "单位或填法", "note": "说明"}
_CHINESE_HEADINGS = {**SCHOOL_COLUMNS, **KEY_VALUE_COLUMNS, **COUNTY_CHINESE}

Q6_RATINGS = ("优秀", "良好", "合格", "不合格")
Q9_LEVELS = {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4,
             "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}
YES_NO = {**dict.fromkeys(("yes", "y", "true", "1", "是", "√"), True),
          **dict.fromkeys(("no", "n", "false", "0", "否", "×"), False)}
YES_NO_HINT = "应为 是/否（也可填 √/×、1/0）"
NOUN = {"sheet": "工作表", "file": "文件"}
NOT_A_WORKBOOK = "请上传 .xlsx 指标表，或由 学校.csv、县域.csv 等文件组成的 .zip 压缩包"


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value
class Workbook:
    county: Mapping[str, Any]
    schools: pd.DataFrame
    veto: Mapping[str, bool]
    warnings: tuple[Problem, ...]
    source: str
    county_rows: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass
class _Findings:
    """Problems collected while reading: errors reject the workbook, warnings do not."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    sheet_names: dict[str, str] = field(default_factory=dict)  # sheet key -> name as written
    headings: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, key) -> as written

    def _written_in_chinese(self, sheet: str) -> bool:
        """Whether the user's headers of a sheet are the Chinese ones (the template's)."""
        return sheet in SHEETS and any(text == _CHINESE_HEADINGS.get(key)
                                       for (where, key), text in self.headings.items() if where == sheet)

    def labelled(self, problem: Problem) -> Problem:
        """The problem with its sheet and column named as the user wrote them."""
        heading = self.headings.get((problem.sheet, problem.column)) or problem.column_label
        chinese = _CHINESE_HEADINGS.get(problem.column) if problem.sheet in SHEETS else None
        if chinese and heading in (None, problem.column):
            # A key or English header never stands alone: its Chinese name first, the key as written after.
            heading = chinese if heading is None else f"{chinese}（{heading}）"
        return dataclasses.replace(problem, column_label=heading,
                                   sheet_label=self.sheet_names.get(problem.sheet) or SHEETS.get(problem.sheet))


# ---------------------------------------------------------------- entry points


def read_workbook(path: str | Path, *, profile: Profile | None = None,
                  schools_only: bool = False) -> Workbook:
    """Read an .xlsx file, a .zip of CSVs or a folder of CSVs."""
    path = Path(path)
    if path.is_dir():
        files = {f.name: f for f in path.iterdir()
                 if f.is_file() and f.suffix.lower() == ".csv" and _sheet_key(f.stem)}
        if sum(f.stat().st_size for f in files.values()) > MAX_BYTES:
            raise WorkbookError([_too_large(path.name)])
        data = {name: f.read_bytes() for name, f in files.items()}
        return _from_csvs(data, path.name, profile, schools_only)
    if not path.is_file():
        raise WorkbookError([Problem(path.name, None, None, None, "文件不存在")])
    if path.stat().st_size > MAX_BYTES:
        raise WorkbookError([_too_large(path.name, path.stat().st_size)])
    return read_workbook_bytes(path.name, path.read_bytes(), profile=profile,
                               schools_only=schools_only)


def read_workbook_bytes(filename: str, data: bytes, *, profile: Profile | None = None,
                        schools_only: bool = False) -> Workbook:
    """Read an uploaded .xlsx file, .zip of CSVs or CSV file, recognised by its bytes, not its name."""
    if len(data) > MAX_BYTES:
        raise WorkbookError([_too_large(filename, len(data))])
    if _kind(filename, data) == "text":
        return read_workbook_csvs({filename: data}, profile=profile, schools_only=schools_only)
    names = _zip_names(filename, data)
    if "xl/workbook.xml" in names:  # an .xlsx, whatever its name says
        sheets = _xlsx_sheets(filename, data, names)
        return _build(sheets, [], filename, profile, schools_only, "sheet")
    members = _zip_csvs(filename, data)
    if not members:
        claims = PurePosixPath(filename).suffix.lower() not in (".zip", "")
        raise WorkbookError([Problem(filename, None, None, None,
                                     ("这不是 Excel 文件，而是改了扩展名的 .zip 压缩包，" if claims else
                                      "压缩包中") + "没有 学校.csv、县域.csv（或 schools.csv、county.csv）："
                                     + NOT_A_WORKBOOK)])
    return _from_csvs(members, filename, profile, schools_only)


def read_workbook_csvs(files: Mapping[str, bytes], *, profile: Profile | None = None,
                       schools_only: bool = False) -> Workbook:
    """Read uploaded CSVs by file name (schools.csv, county.csv, veto.csv or 学校.csv, ...)."""
    if sum(len(d) for d in files.values()) > MAX_BYTES:
        raise WorkbookError([_too_large("上传的文件")])
    return _from_csvs(files, ", ".join(files) or "上传的文件", profile, schools_only)


# ---------------------------------------------------------------- files to grids

# Leading bytes of the files people upload instead of a workbook, and what to call them.
MAGIC = (
    (b"%PDF", "PDF 文件（.pdf）"),
    (b"\x89PNG", "图片（.png）"),
    (b"\xff\xd8\xff", "图片（.jpg）"),
    (b"GIF8", "图片（.gif）"),
    (b"{\\rtf", "RTF 文档（.rtf）"),
    (b"Rar!", "RAR 压缩包（.rar），请改用 .zip 压缩"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包（.7z），请改用 .zip 压缩"),
    (b"\x1f\x8b", "gzip 压缩包（.gz），请改用 .zip 压缩"),
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # the old Office format (.xls, .doc) and encrypted .xlsx
OLE_KINDS = (("EncryptedPackage", "设有打开密码的 Excel 文件，请取消密码后再上传"),
             ("WordDocument", "Word 文档（.doc）"),
             ("PowerPoint Document", "PowerPoint 演示文稿（.ppt）"),
             ("Workbook", ".xls 旧格式：请在 Excel 中另存为 .xlsx 后再上传"),
             ("Book", ".xls 旧格式：请在 Excel 中另存为 .xlsx 后再上传"))
EXCEL_KINDS = {what for _, what in OLE_KINDS if what.startswith((".xls", "设有"))}
ZIP_KINDS = (("word/", "Word 文档（.docx）"), ("ppt/", "PowerPoint 演示文稿（.pptx）"),
             ("content.xml", "OpenDocument 表格（.ods），请另存为 .xlsx"))
ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
TAG_SPAN = 16  # longest tag prefix matched: the overlap kept between chunks


def _not_excel(filename: str, what: str) -> WorkbookError:
    """The file named as what it is. An Excel file of a kind not read (.xls, a password) is told
    only what to do with it, not what a workbook .zip should hold."""
    expected = what if what in EXCEL_KINDS else f"这不是 Excel 文件（{what}）：{NOT_A_WORKBOOK}"
    return WorkbookError([Problem(filename, None, None, None, expected)])


def _kind(filename: str, data: bytes) -> str:
    """"zip" or "text" from the leading bytes; any other file is refused, named by what it is."""
    head = data[:512]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise _not_excel(filename, what)
    if head.startswith(OLE_MAGIC):
        streams = data[:MAX_BYTES]
        what = next((w for name, w in OLE_KINDS if name.encode("utf-16-le") in streams), "旧版 Office 文件")
        raise _not_excel(filename, what)
    try:
        text = _decode(data[:65536].rsplit(b"\n", 1)[0] if len(data) > 65536 else data)
    except UnicodeDecodeError:
        raise _not_excel(filename, "无法识别的文件格式") from None
    if "\x00" in text:
        raise _not_excel(filename, "无法识别的文件格式")
    start = text.lstrip("\ufeff \t\r\n")[:200].lower()
    if start.startswith(("<html", "<!doctype", "<table", "<meta")):
        raise _not_excel(filename, "网页文件（HTML）：有些系统导出的 .xls 其实是网页，请用 Excel 打开后另存为 .xlsx")
    if start.startswith("<?xml"):
        raise _not_excel(filename, "XML 文件，请用 Excel 打开后另存为 .xlsx")
    if PurePosixPath(filename).suffix.lower() != ".csv":
        raise _not_excel(filename, "文本文件：如果是 CSV 表格，请以 .csv 结尾的文件名上传")
    return "text"


def megabytes(size: int) -> str:
    """A file size as people read it: "12.3 MB"."""
    return f"{size / 2**20:.1f} MB"


def _too_large(source: str, size: int | None = None) -> Problem:
    found = f"约 {megabytes(size)}，" if size else ""
    return Problem(source, None, None, None, f"文件过大（{found}上限 {MAX_BYTES // 2**20} MB）")


def _unreadable(source: str, what: str) -> Problem:
    return Problem(source, None, None, None, f"无法读取：不是完好的{what}，请重新保存后上传")


def _too_many_rows(sheet: str, rows: int, cells: int) -> Problem:
    over = rows > MAX_ROWS
    return Problem(sheet, MAX_ROWS + 1 if over else None, None, None,
                   (f"超过 {MAX_ROWS} 行" if over else f"超过 {MAX_CELLS} 个单元格") +
                   "，未读取（一个县的指标表远小于此）：请删除多余的行或列后再上传")


def _sheet_key(name: str) -> str | None:
    """Our sheet key for a sheet name or CSV file stem, English or Chinese."""
    name = name.strip().lower()
    return next((k for k, zh in SHEETS.items() if name in (k, zh)), None)


def _flat(frame: pd.DataFrame) -> pd.Series:
    """All cells of a frame as one text Series, so string operations run once, not per column."""
    return pd.Series(frame.to_numpy(dtype=object).ravel(), dtype=object).fillna("").astype(str)


def _unflat(values: pd.Series, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values.to_numpy().reshape(like.shape), index=like.index, columns=like.columns)


def _grid(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped text ('' when blank), indexed by the row number the user sees."""
    frame = frame.set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)
    return _unflat(_flat(frame).str.strip(), frame).set_axis(pd.RangeIndex(frame.shape[1]), axis=1)


def _zip_names(filename: str, data: bytes) -> set[str]:
    """Member names of a zip, after checking it is not a bomb nor an Office file of another kind."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception:  # zipfile raises several types on garbage
        raise WorkbookError([_unreadable(filename, " .xlsx 或 .zip 文件")]) from None
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_BYTES:
        raise WorkbookError([_too_large(filename)])
    unsafe = [n for n in (_member_name(i) for i in infos) if _escapes(n)]
    if unsafe:
        raise WorkbookError([Problem(filename, None, None, None,
                                     f"压缩包中有文件的路径指向压缩包以外（{'、'.join(unsafe[:3])}），不予接收："
                                     "请只压缩表格文件本身后再上传")])
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        for prefix, what in ZIP_KINDS:
            if any(n.startswith(prefix) for n in names):
                raise _not_excel(filename, what)
    return names


# What an .xlsx may not carry: it is stored and served byte-for-byte to every reader of the county.
# Decided from what the package declares (content types, relationship types) and, as Excel does
# not need either to find a part, from the part names too; all compared in lower case.
MACRO = ("vbaproject", "macroenabled", "macrosheet", "activex")
EXTERNAL = ("externallink", "/connections", "xl/links/")
DDE_FORMULA = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?>[^<]*?[\w.]+\|[^<!]*!")  # cmd|'/C calc'!A0
DDE_SPAN = 8192 + 64  # longest formula Excel writes, plus its tag: the overlap kept between chunks


def _declared(archive: zipfile.ZipFile, names: set[str]) -> list[tuple[str, str]]:
    """(part, what it is declared as) for every content type and relationship of the package, lower case."""
    found = []
    for name in names:
        lower = name.lower()
        if lower != "[content_types].xml" and not lower.endswith(".rels"):
            found.append((name, lower))
            continue
        try:
            root = ET.fromstring(archive.read(name))
        except ET.ParseError:
            continue
        for element in root:
            declared = " ".join(v for k, v in element.attrib.items()
                                if k in ("ContentType", "Type", "Target", "PartName", "Extension"))
            found.append((element.get("PartName") or element.get("Target") or name, declared.lower()))
    return found


def _dde_formulas(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
    """Sheet parts with a dynamic data exchange formula (``cmd|'/C calc'!A0`` runs a program)."""
    found = []
    for part in sorted(n for n in names if n.lower().startswith("xl/worksheets/") and n.lower().endswith(".xml")):
        tail = b""
        with archive.open(part) as stream:
            while chunk := stream.read(1 << 20):
                if DDE_FORMULA.search(tail + chunk):
                    found.append(part)
                    break
                tail = chunk[-DDE_SPAN:]
    return found


def _escapes(name: str) -> bool:
    """A member name that would be written outside the folder it is unpacked in: absolute
    (``/etc/x``, ``C:\\x``) or climbing out with ``..``. The file is kept and served as uploaded, so
    whoever unpacks it later is exposed, not only this reader."""
    path = name.replace("\\", "/")
    return path.startswith("/") or re.match(r"^[A-Za-z]:", path) is not None or ".." in path.split("/")


def _check_part_sizes(filename: str, archive: zipfile.ZipFile) -> None:
    """Every part of an .xlsx bounded, uncompressed, before any of it is parsed. The sizes are the
    ones the zip declares; reading stops at them (zipfile checks), so a lying header fails the CRC."""
    over = [i for i in archive.infolist() if i.file_size > MAX_PART_BYTES
            or i.file_size > 2**20 and i.file_size > MAX_PART_RATIO * max(i.compress_size, 1)]
    if over:
        parts = "、".join(f"{i.filename}（{i.file_size / 2**20:.1f} MB）" for i in over[:3])
        raise WorkbookError([Problem(filename, None, None, None,
                                     f"解压后过大，未读取：{parts}；每个部分解压后不得超过 {MAX_PART_BYTES // 2**20} MB，"
                                     f"超过 1 MB 时不得超过压缩前的 {MAX_PART_RATIO} 倍（一个县的指标表远小于此）："
                                     "请删除多余的行、列和内容后另存再上传")])


def _refuse_active_parts(filename: str, archive: zipfile.ZipFile, names: set[str]) -> None:
    """Macros, links to other files and DDE formulas would be served back to every reader of the county."""
    declared = _declared(archive, names)
    macros = sorted({part for part, what in declared if any(m in what for m in MACRO)})
    links = sorted({part for part, what in declared if any(e in what for e in EXTERNAL)})
    problems = []
    if macros:
        problems.append(Problem(filename, None, None, None, f"含有宏（VBA 代码或控件，见 {'、'.join(macros[:3])}），"
                                "不予接收：请在 Excel 中“另存为 → Excel 工作簿（*.xlsx）”后再上传"))
    if links:
        problems.append(Problem(filename, None, None, None, f"含有指向其他文件或数据源的外部链接（见 {'、'.join(links[:3])}），"
                                "不予接收：请在 Excel 中“数据 → 编辑链接 → 断开链接”后再上传"))
    dde = _dde_formulas(archive, names)
    if dde:
        problems.append(Problem(filename, None, None, None, f"含有动态数据交换（DDE）公式（见 {'、'.join(dde[:3])}），"
                                "可运行其他程序，不予接收：请删除这些公式，或复制后“选择性粘贴 → 数值”再上传"))
    if problems:
        raise WorkbookError(problems)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the archive (namespaces ignored: strict and transitional files)."""
    book = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for sheet in book.iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        target = targets.get(rid, "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _count_tags(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """Rows and cells of a sheet part, read in chunks and stopped as soon as a bound is passed."""
    rows = cells = 0
    tail = b""
    with archive.open(part) as stream:
        while (chunk := stream.read(1 << 20)) and rows <= MAX_ROWS and cells <= MAX_CELLS:
            text = tail + chunk
            # Tags wholly inside the tail were counted with the previous chunk.
            rows += len(ROW_TAG.findall(text)) - len(ROW_TAG.findall(tail))
            cells += len(CELL_TAG.findall(text)) - len(CELL_TAG.findall(tail))
            tail = chunk[-TAG_SPAN:]
    return rows, cells


def _check_xlsx_size(filename: str, archive: zipfile.ZipFile, names: set[str]) -> None:
    try:
        parts = _sheet_parts(archive)
    except Exception:  # a damaged workbook part: the reader reports it
        return
    problems = []
    for sheet, part in parts.items():
        if part in names:
            rows, cells = _count_tags(archive, part)
            if rows > MAX_ROWS or cells > MAX_CELLS:
                problems.append(dataclasses.replace(_too_many_rows(_sheet_key(sheet) or sheet, rows, cells),
                                                    sheet_label=sheet))
    if problems:
        raise WorkbookError(problems)


def _xlsx_sheets(filename: str, data: bytes, names: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet as a grid, once the file is known to hold no macro, no link and no huge sheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = names or set(archive.namelist())
            _check_part_sizes(filename, archive)
            _refuse_active_parts(filename, archive, names)
            _check_xlsx_size(filename, archive, names)
    except WorkbookError:
        raise
    except Exception:  # a damaged member (bad CRC, broken deflate stream, ...)
        raise WorkbookError([_unreadable(filename, " .xlsx 文件")]) from None
    try:
        book = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=str,
                             engine="openpyxl")
    except Exception:  # openpyxl and its XML parser raise anything on garbage
        raise WorkbookError([_unreadable(filename, " .xlsx 文件")]) from None
    return {name: _grid(frame) for name, frame in book.items()}


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name; zips made on Chinese Windows encode names in GBK, not UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except UnicodeError:
        return info.filename


def _zip_csvs(filename: str, data: bytes) -> dict[str, bytes]:
    """The workbook CSVs of a zip, in whatever sub-folder they sit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {}
            for info in archive.infolist():
                path = PurePosixPath(_member_name(info))
                if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("._"):
                    continue
                if path.suffix.lower() == ".csv" and _sheet_key(path.stem):
                    with archive.open(info) as member:
                        members[str(path)] = member.read(MAX_BYTES + 1)
    except Exception:  # bad CRC, encryption, unsupported compression, ...
        raise WorkbookError([_unreadable(filename, " .zip 压缩包")]) from None
    if sum(len(d) for d in members.values()) > MAX_BYTES:
        raise WorkbookError([_too_large(filename)])
    return members


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # what Chinese Excel saves as "CSV"


def _csv_grid(data: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(_decode(data)), header=None, dtype=str,
                            keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    return _grid(frame)


def _from_csvs(files: Mapping[str, bytes], source: str, profile: Profile | None,
               schools_only: bool) -> Workbook:
    grids: dict[str, pd.DataFrame | None] = {}   # by the file's stem, as the user named it
    seen: set[str] = set()
    errors = []
    for name, data in files.items():
        path = PurePosixPath(name)
        key = _sheet_key(path.stem) if path.suffix.lower() == ".csv" else None
        if key is None:
            continue  # other files (responses.csv, notes) travel with workbooks
        if key in seen:
            errors.append(Problem(key, None, None, name, "是该表的第二个文件（每张表只能有一个文件）",
                                  sheet_label=path.stem))
            continue
        seen.add(key)
        rows = data.count(b"\n")
        if rows > MAX_ROWS:   # counted before parsing: refused without reading it
            errors.append(dataclasses.replace(_too_many_rows(key, rows, 0), sheet_label=path.stem))
            grids[path.stem] = None  # present: not also reported missing
            continue
        try:
            grids[path.stem] = _csv_grid(data)
        except Exception:  # undecodable or unparsable text
            errors.append(Problem(key, None, None, None, f"无法读取：{path.name} 不是完好的 CSV 文件"
                                  "（应为 UTF-8 或 GBK 编码的逗号分隔文本）", sheet_label=path.stem))
            grids[path.stem] = None  # present but unreadable: not also reported missing or empty
    return _build(grids, errors, source, profile, schools_only, "file")


# ---------------------------------------------------------------- cell parsing


def _numbers(cells: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse text cells as numbers: (values, filled-but-not-a-number mask, written-with-% mask).

    Accepts thousands separators in groups of three (6,000) and a trailing % (95% -> 0.95).
    """
    percent = cells.str.endswith("%")
    body = cells.str.removesuffix("%").str.strip()
    has_comma = body.str.contains(",", regex=False)
    grouped = body.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
    body = body.where(~has_comma | grouped, "").str.replace(",", "", regex=False)
    plain = body.str.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
    values = pd.to_numeric(body.where(plain, ""), errors="coerce").astype("float64")
    values = values.where(~percent, values / 100)
    bad = (cells != "") & ~np.isfinite(values)
    return values.where(~bad), bad, percent


def _codes(cells: pd.Series, chinese: Mapping[str, str]) -> pd.Series:
    """Map codes (any case) or Chinese names to codes; NaN when unknown or blank."""
    names = {**{c: c for c in chinese}, **{zh: c for c, zh in chinese.items()}}
    return cells.str.lower().map(names)


def _yes_no(text: str) -> tuple[bool | None, str | None]:
    value = YES_NO.get(text.lower())
    return (value, None) if value is not None else (None, YES_NO_HINT)


def _header_names(chinese: Mapping[str, str]) -> dict[str, str]:
    """Lower-case English key or Chinese name -> English key."""
    return {**{k.lower(): k for k in chinese}, **{zh: k for k, zh in chinese.items() if zh}}


# ---------------------------------------------------------------- sheets


def _header_row(cells: pd.DataFrame, names: Mapping[str, str]) -> int | None:
    """The first row naming a known column (rows above it are titles), else the first filled row."""
    if not cells.size:
        return None
    known = _unflat(_flat(cells).str.lower().isin(list(names)), cells).any(axis=1)
    filled = (cells != "").any(axis=1)
    rows = cells.index[known] if known.any() else cells.index[filled]
    return int(rows[0]) if len(rows) else None


def _header(cells: pd.DataFrame, sheet: str, names: Mapping[str, str],
            found: _Findings) -> tuple[int | None, dict[str, int]]:
    """The header row and the position of each known column in it."""
    row = _header_row(cells, names)
    if row is None:
        found.errors.append(Problem(sheet, None, None, None, "工作表为空：应有一行表头"))
        return None, {}
    below = cells.loc[row + 1:]
    positions: dict[str, int] = {}
    for position, text in cells.loc[row].items():
        key = names.get(text.lower())
        if key in positions:
            found.errors.append(Problem(sheet, row, key, text, "与前面的列重复：同一列只能有一个",
                                        column_label=f"第 {position + 1} 列"))
        elif key:
            positions[key] = position
            found.headings[(sheet, key)] = text
        elif text:
            found.warnings.append(Problem(sheet, row, text, None, "不是指标表的列，已忽略"))
        elif (below[position] != "").any():
            found.warnings.append(Problem(sheet, row, f"第 {position + 1} 列", None,
                                          "有数据但没有表头，已忽略"))
    return row, positions


def _flag(found: _Findings, sheet: str, mask: pd.DataFrame, cells: pd.DataFrame,
          expected: str) -> None:
    """One problem per True cell of mask, with the text found in that cell."""
    rows, columns = np.nonzero(mask.to_numpy(dtype=bool))
    for r, c in zip(rows, columns):
        found.errors.append(Problem(sheet, int(mask.index[r]), str(mask.columns[c]),
                                    cells.iat[r, c] or None, expected))


def _schools(cells: pd.DataFrame, profile: Profile, found: _Findings) -> pd.DataFrame:
    header_row, positions = _header(cells, "schools", _header_names(SCHOOL_COLUMNS), found)
    if header_row is None:
        return pd.DataFrame()
    body = cells.loc[header_row + 1:]
    body = body[(body != "").any(axis=1)]
    if body.empty:
        found.errors.append(Problem("schools", header_row + 1, None, None,
                                    "没有学校：表头下面应每行填写一所学校"))
    raw = pd.DataFrame({k: body[positions[k]] if k in positions else pd.Series("", body.index, dtype=str)
                        for k in SCHOOL_COLUMNS}, index=body.index)

    text = raw[["school_code", "school_name"]]
    _flag(found, "schools", text.apply(lambda c: c.str.contains(CONTROL_CHARACTERS)), text, HAS_CONTROL)
    _flag(found, "schools", raw[["school_code"]].apply(lambda c: c.str.startswith(FORMULA_SIGNS)),
          raw[["school_code"]], CODE_LIKE_FORMULA)
    schools = raw[["school_code", "school_name"]].copy()
    for column, chinese, what in (("school_type", SCHOOL_TYPES, "学校类型"),
                                  ("location", LOCATION_NAMES, "城乡类型")):
        schools[column] = _codes(raw[column], chinese)
        unknown = schools[[column]].isna() & (raw[[column]] != "")
        _flag(found, "schools", unknown, raw[[column]], f"应为{what}之一：{'、'.join(chinese.values())}")
    texts = raw[list(NUMBER_COLUMNS)]
    values, bad, _ = (_unflat(part, texts) for part in _numbers(_flat(texts)))
    _flag(found, "schools", bad, texts, "应为数字")
    _flag(found, "schools", values < 0, texts, "应为不小于 0 的数字")
    students = list(STUDENT_COLUMNS.values())
    values[students] = values[students].mask(texts[students] == "", 0.0)  # blank enrolment is 0
    schools = pd.concat([schools, values.astype("float64")], axis=1)

    _check_stages(schools, raw, found)
    _check_required(schools, raw, positions, header_row, profile, found)
    _check_unique(raw["school_code"], found)
    schools["excel_row"] = body.index.astype("int64")
    return schools.reset_index(drop=True)


def _check_stages(schools: pd.DataFrame, raw: pd.DataFrame, found: _Findings) -> None:
    """Enrolment in a stage the school type does not have is an error."""
    kind = schools["school_type"]
    for stage, column in STUDENT_COLUMNS.items():
        having = [t for t, stages in TYPE_STAGES.items() if stage in stages]
        lacking = (schools[column] > 0) & kind.notna() & ~kind.isin(having)
        for row in lacking.index[lacking.to_numpy()]:
            found.errors.append(Problem("schools", int(row), column, raw.at[row, column],
                                        f"填有{STAGE_NAMES[stage]}在校生，但{SCHOOL_TYPES[kind[row]]}"
                                        f"没有{STAGE_NAMES[stage]}学段"))


def _check_required(schools: pd.DataFrame, raw: pd.DataFrame, positions: Mapping[str, int],
                    header_row: int, profile: Profile, found: _Findings) -> None:
    """Blank cells that a rule needs (workbook.md "Blank cells")."""
    # An unknown type is already an error; it makes no blank cell an error too.
    scoped = schools["school_type"].notna() & in_scope(schools, profile)
    g6 = small_rural_school(schools, profile)
    everyone = pd.Series(True, index=raw.index)
    needs = [(ALWAYS_REQUIRED, everyone, "未填写：每所学校必填")]
    needs += [(columns, schools[STUDENT_COLUMNS[stage]] > 0,
               f"未填写：有{STAGE_NAMES[stage]}在校生的学校必填")
              for stage, columns in STAGE_REQUIRED.items()]
    needs += [(SCOPE_REQUIRED, scoped, "未填写：参评学校必填"),
              (("funded_students",), g6,
               "未填写：适用 G6 的学校（乡村小规模小学、教学点）必填")]
    for column in ENROLMENT_COLUMNS:
        if column not in positions:
            found.errors.append(_missing_column(header_row, column))
    for columns, mask, why in needs:
        absent = [c for c in columns if c not in positions]
        if mask.any():
            found.errors.extend(_missing_column(header_row, c) for c in absent)
        present = raw[[c for c in columns if c in positions]]
        _flag(found, "schools", (present == "") & mask.to_numpy()[:, None], present, why)


def _check_unique(codes: pd.Series, found: _Findings) -> None:
    filled = codes != ""
    first = codes[filled & ~codes.duplicated()]
    first_row = dict(zip(first.to_numpy(), first.index))
    repeated = filled & codes.duplicated()
    for row in repeated.index[repeated.to_numpy()]:
        found.errors.append(Problem("schools", int(row), "school_code", codes[row],
                                    f"与第 {first_row[codes[row]]} 行的学校代码重复：学校代码须唯一"))


def _missing_column(header_row: int, column: str) -> Problem:
    return Problem("schools", header_row, column, None,
                   f"缺少此列：请在表头加上“{SCHOOL_COLUMNS[column]}”")


def _key_values(cells: pd.DataFrame, sheet: str, names: Mapping[str, str],
                found: _Findings) -> dict[str, tuple[int, str]]:
    """Rows of a key/value sheet: key -> (row number, value text)."""
    header_row, positions = _header(cells, sheet, _header_names({**KEY_VALUE_COLUMNS, **KEY_VALUE_NOTES}), found)
    if header_row is None:
        return {}
    missing = [c for c in KEY_VALUE_COLUMNS if c not in positions]
    for column in missing:
        found.errors.append(Problem(sheet, header_row, column, None,
                                    f"缺少此列：请在表头加上“{KEY_VALUE_COLUMNS[column]}”"))
    if missing:
        return {}
    entries: dict[str, tuple[int, str]] = {}
    body = cells.loc[header_row + 1:, [positions["key"], positions["value"]]]
    for row, (text, value) in zip(body.index, body.itertuples(index=False)):
        if not text and not value:
            continue
        key = names.get(text.lower())
        if key is None:
            found.warnings.append(Problem(sheet, int(row), "key", text or None,
                                          "不是指标表的键，该行已忽略"))
        elif key in entries:
            found.errors.append(Problem(sheet, int(row), key, value or None,
                                        f"重复：第 {entries[key][0]} 行已填写此项"))
        else:
            entries[key] = (int(row), value)
            found.headings[(sheet, key)] = text
    return entries


def _county_value(key: str, text: str, number: float, percent: bool) -> tuple[Any, str | None]:
    """The typed value of one county cell, or why it is not acceptable."""
    if key == "county_name":
        return (None, HAS_CONTROL) if CONTROL_CHARACTERS.search(text) else (text, None)
    if key in YES_NO_KEYS:
        return _yes_no(text)
    if key == "Q6":
        return (text, None) if text in Q6_RATINGS else (None, "应为 优秀、良好、合格、不合格 之一")
    if key == "Q9_min_level":
        level = Q9_LEVELS.get(text.upper().removesuffix("级").strip())
        if level is None and number in (1, 2, 3, 4):  # "3.0" from a numeric Excel cell
            level = int(number)
        return (level, None) if level else (None, "应为等级 1–4（或 Ⅰ–Ⅳ）")
    if np.isnan(number):
        return None, "应为数字"
    if key in RATE_KEYS:
        rate = number / 100 if number > 1 and not percent else number
        return (rate, None) if 0 <= rate <= 1 else (None, "应为 0 到 1 之间的比率（或 0%–100%）")
    if key in YEAR_KEYS:
        return (int(number), None) if number.is_integer() and number >= 0 else (None, "应为年份（如 2024）")
    return (number, None) if number >= 0 else (None, "应为不小于 0 的数字")


def _county(cells: pd.DataFrame, profile: Profile,
            found: _Findings) -> tuple[dict[str, Any], dict[str, int]]:
    keys = (*COUNTY_KEYS, *YEAR_KEYS)
    entries = _key_values(cells, "county", _header_names({**dict.fromkeys(keys, ""), **COUNTY_CHINESE}),
                          found)
    texts = pd.Series({k: v for k, (_, v) in entries.items()}, dtype=str)
    numbers, _, percent = _numbers(texts)
    county: dict[str, Any] = {}
    for key in keys:
        row, text = entries.get(key, (None, ""))
        if not text:
            if key in COUNTY_KEYS:
                why = "未填写：此项必填" if row else "缺少此行：请加一行填写此项"
                found.errors.append(Problem("county", row, key, None, why))
            continue
        value, why = _county_value(key, text, float(numbers[key]), bool(percent[key]))
        if why:
            found.errors.append(Problem("county", row, key, text, why))
        else:
            county[key] = value
    for key in YEAR_KEYS:
        county.setdefault(key, None)  # optional: present as keys either way
    _renormalise_shares(county, entries, profile, found)
    return county, {k: row for k, (row, _) in entries.items()}


def _renormalise_shares(county: dict[str, Any], entries: Mapping[str, tuple[int, str]],
                        profile: Profile, found: _Findings) -> None:
    """Population shares must sum to 1 within 0.01; they are then scaled to sum exactly 1."""
    if not all(k in county for k in SHARE_KEYS):
        return  # a share is missing or bad: already reported
    total = sum(county[k] for k in SHARE_KEYS)
    if not profile.at_most(abs(total - 1), 0.01):
        found.errors.append(Problem("county", entries[SHARE_KEYS[0]][0], SHARE_KEYS[0], None,
                                    f"三项人口比例之和为 {total:.4g}，应为 1（误差不超过 0.01）"))
        return
    for key in SHARE_KEYS:
        county[key] /= total


def _veto(cells: pd.DataFrame | None, found: _Findings) -> dict[str, bool]:
    """V1–V7; a missing sheet, key or value means no."""
    veto = dict.fromkeys(VETO_KEYS, False)
    if cells is None or not (cells != "").to_numpy().any():  # an empty sheet is a missing one
        return veto
    entries = _key_values(cells, "veto", _header_names(dict.fromkeys(VETO_KEYS, "")), found)
    for key, (row, text) in entries.items():
        if text:
            value, why = _yes_no(text)
            if why:
                found.errors.append(Problem("veto", row, key, text, why))
            else:
                veto[key] = value
    return veto


def _reading_order(problem: Problem) -> tuple[int, int]:
    """Files first, then the sheets in their order, each row by row (a stable sort
    keeps the columns of one row in the order they were checked)."""
    sheets = list(SHEETS)
    return (sheets.index(problem.sheet) + 1 if problem.sheet in sheets else 0, problem.row or 0)


def _build(sheets: Mapping[str, pd.DataFrame | None], errors: list[Problem], source: str,
           profile: Profile | None, schools_only: bool, kind: str) -> Workbook:
    """Type every sheet, collecting all problems, then raise them together or return."""
    profile = profile or load_profile()
    found = _Findings(errors=list(errors))
    by_key: dict[str, pd.DataFrame | None] = {}
    for name, cells in sheets.items():
        key = _sheet_key(name)
        if key and key in by_key:
            found.errors.append(Problem(key, None, None, name, f"与另一{NOUN[kind]}重复：每张表只能有一个{NOUN[kind]}"))
        elif key:
            by_key[key] = cells
            found.sheet_names[key] = name
    for key in ("schools",) if schools_only else ("schools", "county"):
        if key not in by_key:
            place = f"名为“{SHEETS[key]}”（或 {key}）的工作表" if kind == "sheet" else \
                f"文件 {SHEETS[key]}.csv（或 {key}.csv）"
            found.errors.append(Problem(key, None, None, None, f"缺少{NOUN[kind]}：应有{place}"))
    schools = None
    if by_key.get("schools") is not None:
        schools = _schools(by_key["schools"], profile, found)
    county, rows = {}, {}
    veto = dict.fromkeys(VETO_KEYS, False)
    if not schools_only:
        if by_key.get("county") is not None:
            county, rows = _county(by_key["county"], profile, found)
        veto = _veto(by_key.get("veto"), found)
    if found.errors:
        raise WorkbookError(sorted(map(found.labelled, found.errors), key=_reading_order))
    return Workbook(county=MappingProxyType(county), schools=schools, veto=MappingProxyType(veto),
                    warnings=tuple(map(found.labelled, found.warnings)), source=source,
                    county_rows=MappingProxyType(rows))


# ---------------------------------------------------------------- a school list alone

# workbook.md "A school list alone": the identity columns of the schools sheet; every other
# column, if present, is ignored. students_senior may be left out (no senior students).
SCHOOL_LIST_COLUMNS = ("school_code", "school_name", "school_type", "location",
                       "students_primary", "students_junior", "students_senior")
SCHOOL_LIST_REQUIRED = SCHOOL_LIST_COLUMNS[:6]
NOT_A_SCHOOL_LIST = "请上传学校名录：.xlsx 或 .csv 文件（学校代码、学校名称、学校类型、城乡类型、小学在校生数、初中在校生数），或完整的指标表"


@dataclass(frozen=True, eq=False)
class SchoolList:
    """The schools of a county, enough to plan quotas, print links and collect answers."""
    schools: pd.DataFrame            # SCHOOL_LIST_COLUMNS and excel_row, in file order
    warnings: tuple[Problem, ...]
    source: str


def read_school_list(filename: str, data: bytes, *, profile: Profile | None = None) -> SchoolList:
    """A school list from an .xlsx (its sheet 学校/schools, else its first sheet), a .csv, or a
    full workbook (its schools sheet, as .xlsx or .zip of CSVs), recognised by its bytes; raises
    ``WorkbookError`` with every problem located (sheet as named, row, header as written)."""
    if not data:
        raise WorkbookError([Problem(filename, None, None, None, "文件为空：" + NOT_A_SCHOOL_LIST)])
    if len(data) > MAX_BYTES:
        raise WorkbookError([_too_large(filename, len(data))])
    found = _Findings()
    if _kind(filename, data) == "text":
        label = PurePosixPath(filename).stem
        if data.count(b"\n") > MAX_ROWS:
            raise WorkbookError([dataclasses.replace(_too_many_rows("schools", data.count(b"\n"), 0),
                                                     sheet_label=label)])
        try:
            cells = _csv_grid(data)
        except Exception:  # undecodable or unparsable text
            raise WorkbookError([Problem(filename, None, None, None, "无法读取：不是完好的 CSV 文件"
                                         "（应为 UTF-8 或 GBK 编码的逗号分隔文本）")]) from None
    else:
        names = _zip_names(filename, data)
        if "xl/workbook.xml" in names:
            sheets = _xlsx_sheets(filename, data, names)
            label = next((n for n in sheets if _sheet_key(n) == "schools"), next(iter(sheets), None))
            if label is None:
                raise WorkbookError([Problem(filename, None, None, None, "文件中没有工作表：" + NOT_A_SCHOOL_LIST)])
            cells = sheets[label]
        else:
            members = {PurePosixPath(n): d for n, d in _zip_csvs(filename, data).items()}
            path = next((p for p in members if _sheet_key(p.stem) == "schools"), None)
            if path is None:
                raise WorkbookError([Problem(filename, None, None, None,
                                             "压缩包中没有 学校.csv（或 schools.csv）：" + NOT_A_SCHOOL_LIST)])
            label, cells = path.stem, _csv_grid(members[path])
    found.sheet_names["schools"] = label
    schools = _school_list(cells, profile or load_profile(), found)
    if found.errors:
        raise WorkbookError(sorted(map(found.labelled, found.errors), key=_reading_order))
    return SchoolList(schools, tuple(map(found.labelled, found.warnings)), filename)


def _school_list(cells: pd.DataFrame, profile: Profile, found: _Findings) -> pd.DataFrame:
    """The identity columns of a schools sheet, typed and checked (the full sheet's rules for
    these columns: codes or Chinese names, numbers >= 0, stages the type has, unique codes)."""
    # The indicator columns of a full workbook's sheet are known (no warning) but not read.
    header_row, positions = _header(cells, "schools", _header_names(SCHOOL_COLUMNS), found)
    if header_row is None:
        return pd.DataFrame()
    positions = {k: v for k, v in positions.items() if k in SCHOOL_LIST_COLUMNS}
    for column in SCHOOL_LIST_REQUIRED:
        if column not in positions:
            found.errors.append(_missing_column(header_row, column))
    body = cells.loc[header_row + 1:]
    body = body[(body != "").any(axis=1)]
    if body.empty:
        found.errors.append(Problem("schools", header_row + 1, None, None, "没有学校：表头下面应每行填写一所学校"))
    raw = pd.DataFrame({k: body[positions[k]] if k in positions else pd.Series("", body.index, dtype=str)
                        for k in SCHOOL_LIST_COLUMNS}, index=body.index)
    schools = raw[["school_code", "school_name"]].copy()
    for column, chinese, what in (("school_type", SCHOOL_TYPES, "学校类型"), ("location", LOCATION_NAMES, "城乡类型")):
        schools[column] = _codes(raw[column], chinese)
        unknown = schools[[column]].isna() & (raw[[column]] != "")
        _flag(found, "schools", unknown, raw[[column]], f"应为{what}之一：{'、'.join(chinese.values())}")
    students = list(STUDENT_COLUMNS.values())
    texts = raw[students]
    values, bad, _ = (_unflat(part, texts) for part in _numbers(_flat(texts)))
    _flag(found, "schools", bad, texts, "应为数字")
    _flag(found, "schools", values < 0, texts, "应为不小于 0 的数字")
    schools = pd.concat([schools, values.mask(texts == "", 0.0).astype("float64")], axis=1)
    _check_stages(schools, raw, found)
    needed = raw[["school_code", "school_name", "school_type", "location"]]
    _flag(found, "schools", needed == "", needed, "未填写：每所学校必填")
    _check_unique(raw["school_code"], found)
    schools["excel_row"] = body.index.astype("int64")
    return schools.reset_index(drop=True)


# ---------------------------------------------------------------- sheets as the reader sees them


def sheet_cells(filename: str, data: bytes) -> dict[str, pd.DataFrame]:
    """The text grids of a stored workbook (.xlsx, or .zip of CSVs), by sheet key (schools,
    county, veto), exactly as the reader sees them: what a workbook assembled from another
    reuses unchanged. Raises ``WorkbookError`` as the reader does."""
    names = _zip_names(filename, data)
    if "xl/workbook.xml" in names:
        sheets = _xlsx_sheets(filename, data, names)
    else:
        sheets = {PurePosixPath(n).stem: _csv_grid(d) for n, d in _zip_csvs(filename, data).items()}
    return {key: cells for name, cells in sheets.items() if (key := _sheet_key(name))}
