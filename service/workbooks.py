"""Workbook versions of a county: upload (all problems or a new version), list, read, compare,
the blank template, and the county's verdict (workbook version + campaign responses).

The workbook is read by ``scoring.workbook`` and judged by ``scoring.verdict``; nothing here
re-implements a rule.
"""

import hashlib
import io
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scoring.errors import InputError, Problem

from .models import Campaign, Response, WorkbookVersion, utcnow

PARSE_NAMES = (".xlsx", ".zip")


def _parse_name(filename: str) -> str:
    return filename if filename.lower().endswith(PARSE_NAMES) else "upload.zip"


def bundle(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """The uploaded file(s) as one stored file: one .xlsx/.zip as is, CSVs zipped together."""
    if len(files) == 1 and files[0][0].lower().endswith(PARSE_NAMES):
        return files[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name.rsplit("/", 1)[-1], data)
    return "+".join(name for name, _ in files), buf.getvalue()


@lru_cache(maxsize=64)
def _parsed(sha256: str, filename: str, data: bytes, profile_name: str):
    from scoring.profile import load_profile
    from scoring.workbook import read_workbook_bytes
    return read_workbook_bytes(_parse_name(filename), data, profile=load_profile(profile_name))


def parse(filename: str, data: bytes, profile):
    """The parsed workbook (``scoring.workbook``); raises ``InputError`` with every problem."""
    return _parsed(hashlib.sha256(data).hexdigest(), filename, data, profile.name)


def store_version(session: Session, county: str, account_id: int | None, filename: str, data: bytes,
                  profile) -> tuple[WorkbookVersion | None, list[Problem]]:
    """Read the workbook; on any problem store nothing and return them all, else a new version."""
    if not data:
        return None, [Problem(filename or "workbook", None, None, None, "文件为空，请选择指标表文件")]
    try:
        workbook = parse(filename, data, profile)
    except InputError as exc:
        return None, list(exc.problems)
    name = str(workbook.county.get("county_name", ""))
    if name != county:
        row = workbook.county_rows.get("county_name") if workbook.county_rows else None
        return None, [Problem("county", row, "county_name", name, f"须为本县名称“{county}”（指标表属于另一个县）")]
    for _ in range(3):   # two uploads at once: the unique (county, version) decides, the loser retries
        number = (session.exec(select(func.max(WorkbookVersion.version))
                               .where(WorkbookVersion.county_name == county)).one() or 0) + 1
        version = WorkbookVersion(county_name=county, version=number, filename=filename[:255],
                                  sha256=hashlib.sha256(data).hexdigest(), size=len(data), data=data,
                                  schools=len(workbook.schools), uploaded_by=account_id, uploaded_at=utcnow())
        session.add(version)
        try:
            session.commit()
            return version, []
        except IntegrityError:
            session.rollback()
    return None, [Problem(filename, None, None, None, "同时有其他上传，请重试")]


def versions_of(session: Session, county: str) -> list[WorkbookVersion]:
    return list(session.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == county)
                             .order_by(WorkbookVersion.version.desc())))


def version_of(session: Session, county: str, number: int | None) -> WorkbookVersion | None:
    """Version ``number`` of the county, or the latest when None."""
    stmt = select(WorkbookVersion).where(WorkbookVersion.county_name == county)
    stmt = stmt.where(WorkbookVersion.version == number) if number else \
        stmt.order_by(WorkbookVersion.version.desc())
    return session.exec(stmt).first()


def campaigns_of(session: Session, county: str) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.county_name == county).order_by(Campaign.id.desc())))


def campaign_of(session: Session, county: str) -> Campaign | None:
    """The county's latest campaign (its live responses go into the verdict)."""
    return session.exec(select(Campaign).where(Campaign.county_name == county)
                        .order_by(Campaign.id.desc())).first()


# ---- the verdict of a county ------------------------------------------------------------------

@dataclass
class CountyVerdict:
    county: str
    version: WorkbookVersion
    campaign: Campaign | None
    workbook: Any
    responses: Any                       # DataFrame or None
    verdict: Any                         # scoring.verdict.Verdict
    ledger: list                         # scoring.ledger.LedgerRow
    response_problems: list[Problem]

    @property
    def ledger_dicts(self) -> list[dict]:
        return [row.to_dict() for row in self.ledger]


def responses_frame(session: Session, campaign: Campaign | None, school_codes: set[str]):
    """The campaign's responses as ``scoring.responses`` reads them: the same CSV as the bureau's
    export and verdict (``campaigns.export_csv``). Returns (frame or None, problems)."""
    if campaign is None:
        return None, []
    from scoring.responses import read_responses

    from .campaigns import export_csv
    data = export_csv(session, campaign.id)
    if data.count(b"\n") <= 1:
        return None, []
    try:
        return read_responses(data, school_codes), []
    except InputError as exc:
        return None, list(exc.problems)


def county_verdict(session: Session, county: str, number: int | None, profile) -> CountyVerdict | None:
    from scoring.ledger import ledger
    from scoring.verdict import evaluate

    version = version_of(session, county, number)
    if version is None:
        return None
    campaign = campaign_of(session, county)
    # The same version, the same answers (they are only ever added) and profile: the same verdict.
    answers = session.exec(select(func.count(), func.max(Response.id))
                           .where(Response.campaign_id == (campaign.id if campaign else -1))).one()
    key = (version.id, version.sha256, campaign.id if campaign else None, *answers, profile.name)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is None:
        workbook = parse(version.filename, bytes(version.data), profile)
        responses, problems = responses_frame(session, campaign,
                                              set(workbook.schools["school_code"].astype(str)))
        verdict = evaluate(workbook, responses, profile)
        hit = (workbook, responses, verdict, ledger(verdict, workbook, profile, responses), problems)
        with _CACHE_LOCK:
            _CACHE[key] = hit
            while len(_CACHE) > 64:
                _CACHE.popitem(last=False)
    workbook, responses, verdict, rows, problems = hit
    return CountyVerdict(county, version, campaign, workbook, responses, verdict, rows, problems)


_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_LOCK = threading.Lock()


# ---- comparing two versions -------------------------------------------------------------------

def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict) and "school_code" in value[0]:
        out = {}
        for entry in value:
            key = f"{entry.get('school_code')}/{entry.get('stage', '')}".rstrip("/")
            out.update(_flatten({k: v for k, v in entry.items() if k not in ("school_code", "stage")},
                                f"{prefix}[{key}]"))
        return out
    if isinstance(value, list):
        return {prefix: "、".join(map(str, value)) if all(not isinstance(v, (dict, list)) for v in value)
                else str(value)}
    return {prefix: value}


def compare(a: dict, b: dict) -> list[dict[str, Any]]:
    """Figures of two verdict JSONs that differ (numbers within 1e-9 are equal)."""
    fa, fb = _flatten(a), _flatten(b)
    rows = []
    for key in sorted(set(fa) | set(fb)):
        if key.endswith("reason") or key.startswith("ledger"):
            continue
        x, y = fa.get(key), fb.get(key)
        same = x == y
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
            same = abs(x - y) <= 1e-9
        if not same:
            rows.append({"figure": key, "a": x, "b": y,
                         "delta": (y - x) if isinstance(x, (int, float)) and isinstance(y, (int, float))
                         and not isinstance(x, bool) and not isinstance(y, bool) else None})
    return rows


# ---- the blank template -----------------------------------------------------------------------

SCHOOL_NOTES = {
    "school_code": "县内唯一的学校代码", "school_name": "学校全称",
    "school_type": "下拉选择：小学、初中、九年一贯制、十二年一贯制、完全中学、教学点、特殊教育学校",
    "location": "下拉选择：城区、镇区、乡村", "students_primary": "小学阶段在校生数（空白按 0）",
    "students_junior": "初中阶段在校生数（空白按 0）", "students_senior": "高中阶段在校生数（仅用于分摊校舍设备）",
    "qualified_teachers_primary": "R1 分子（小学）", "qualified_teachers_junior": "R1 分子（初中）",
    "backbone_teachers_primary": "R2 分子（小学）", "backbone_teachers_junior": "R2 分子（初中）",
    "pe_art_teachers_primary": "R3 分子（小学）", "pe_art_teachers_junior": "R3 分子（初中）",
    "teaching_area_m2": "R4，全校，平方米", "sports_area_m2": "R5，全校，平方米",
    "equipment_value_yuan": "R6，全校，元", "multimedia_rooms": "R7，全校，间",
    "classes": "G3，义务教育阶段班级数", "music_rooms": "G3，间", "art_rooms": "G3，间",
    "music_room_min_area_m2": "G3，最小一间的面积，平方米", "art_room_min_area_m2": "G3，最小一间的面积，平方米",
    "max_class_size_primary": "G5，小学最大班额", "max_class_size_junior": "G5，初中最大班额",
    "funded_students": "G6，不足 100 人的学校核定公用经费的学生数", "public_funds_yuan": "Q4，元",
    "training_funds_yuan": "Q4，元",
}


def blank_template() -> bytes:
    """An empty workbook to fill in: 学校 and 县域 (and 一票否决) sheets with Chinese headers, a
    说明 sheet explaining each column, drop-downs for school type, location, yes/no and Q6."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from scoring.guarantee import NAMES as G_NAMES
    from scoring.quality import NAMES as Q_NAMES
    from scoring.verdict import VETO_NAMES
    from scoring.workbook import (
        COUNTY_KEYS,
        LOCATION_NAMES,
        Q6_RATINGS,
        SCHOOL_COLUMNS,
        SCHOOL_TYPES,
        SHEETS,
        VETO_KEYS,
        YES_NO_KEYS,
    )

    rows = 500
    wb = Workbook()
    ws = wb.active
    ws.title = SHEETS["schools"]
    ws.append(list(SCHOOL_COLUMNS.values()))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    cols = list(SCHOOL_COLUMNS)

    def letter(key: str) -> str:
        from openpyxl.utils import get_column_letter
        return get_column_letter(cols.index(key) + 1)

    def listed(sheet, values, ref: str) -> None:
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="请从下拉列表选择", error="请从下拉列表选择")
        sheet.add_data_validation(dv)
        for part in ref.split():
            dv.add(part)

    listed(ws, SCHOOL_TYPES.values(), f"{letter('school_type')}2:{letter('school_type')}{rows}")
    listed(ws, LOCATION_NAMES.values(), f"{letter('location')}2:{letter('location')}{rows}")
    for i, key in enumerate(cols, start=1):
        ws.column_dimensions[letter(key)].width = max(10, len(SCHOOL_COLUMNS[key]) * 2 + 2)

    county = wb.create_sheet(SHEETS["county"])
    county.append(["键", "值"])
    yes_rows, q6_row = [], None
    for key in COUNTY_KEYS + ("basic_balance_year", "evaluation_year"):
        county.append([key, None])
        if key in YES_NO_KEYS:
            yes_rows.append(county.max_row)
        if key == "Q6":
            q6_row = county.max_row
    county.column_dimensions["A"].width = 28
    county.column_dimensions["B"].width = 16
    listed(county, ["是", "否"], " ".join(f"B{r}" for r in yes_rows))
    listed(county, Q6_RATINGS, f"B{q6_row}")

    veto = wb.create_sheet(SHEETS["veto"])
    veto.append(["键", "值"])
    for key in VETO_KEYS:
        veto.append([key, "否"])
    listed(veto, ["是", "否"], f"B2:B{len(VETO_KEYS) + 1}")

    notes = wb.create_sheet("说明")
    notes.append(["工作表", "列 / 键", "英文键", "说明"])
    for key, name in SCHOOL_COLUMNS.items():
        notes.append([SHEETS["schools"], name, key, SCHOOL_NOTES.get(key, "")])
    county_notes = {"county_name": "县（市、区）名称，须与平台上的县名一致", "resident_population": "常住人口",
                    "population_share_urban": "城区人口占比（0.45 或 45%）", "population_share_town": "镇区人口占比",
                    "population_share_rural": "乡村人口占比（三者合计为 1）", "Q6": "下拉选择：优秀、良好、合格、不合格",
                    "Q9_min_level": "1–4 或 Ⅰ–Ⅳ", "basic_balance_year": "通过基本均衡认定的年份（可空）",
                    "evaluation_year": "评估年份（可空）"}
    for key in COUNTY_KEYS + ("basic_balance_year", "evaluation_year"):
        code = key.split("_")[0]
        text = county_notes.get(key) or G_NAMES.get(code) or Q_NAMES.get(code) or ""
        if key in YES_NO_KEYS:
            text += "（下拉选择：是/否）"
        notes.append([SHEETS["county"], key, key, text])
    for key in VETO_KEYS:
        notes.append([SHEETS["veto"], key, key, f"{VETO_NAMES[key]}（是/否）"])
    for col, width in zip("ABCD", (10, 26, 30, 60)):
        notes.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
