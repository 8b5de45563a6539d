"""Workbook versions of a county: the only place a workbook lives, and the one path of an upload.
``upload`` (every problem or a version; the same bytes again are the same version), ``withdraw``
(撤销: kept in the history, never counted again), list, read, parse (cached by sha256 and profile
digest).

The workbook is read by ``scoring.workbook``; nothing here re-implements a rule. What a county's
campaigns need of an upload (the schools with answers it must keep) is passed in by the caller:
this folder knows no campaign (campaigns use workbooks, not the other way round).
"""

import hashlib
import io
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scoring.errors import InputError, Problem
from service.db.models import WorkbookVersion, utcnow

PARSE_NAMES = (".xlsx", ".zip")
PARSE_CACHE_SIZE = 256
BUNDLE_JOIN = "+"


def _parse_name(filename: str) -> str:
    """The name a stored file is read under: CSVs uploaded together are stored zipped."""
    return f"{filename}.zip" if BUNDLE_JOIN in filename and filename.lower().endswith(".csv") else filename


def bundle(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """The uploaded file(s) as one stored file: one file as is, several CSVs zipped together."""
    if len(files) == 1:
        return files[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name.rsplit("/", 1)[-1], data)
    return BUNDLE_JOIN.join(name.rsplit("/", 1)[-1] for name, _ in files), buf.getvalue()


_PARSED: "OrderedDict[tuple[str, str], Any]" = OrderedDict()
_PARSED_LOCK = threading.Lock()


def parse(filename: str, data: bytes, profile, sha256: str | None = None):
    """The parsed workbook (``scoring.workbook``), cached by the bytes' sha256 and the profile's
    digest; raises ``InputError`` with every problem."""
    from scoring.workbook import read_workbook_bytes

    key = (sha256 or hashlib.sha256(data).hexdigest(), profile.digest)
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
        if hit is not None:
            _PARSED.move_to_end(key)
            return hit
    workbook = read_workbook_bytes(_parse_name(filename), data, profile=profile)
    with _PARSED_LOCK:
        _PARSED[key] = workbook
        while len(_PARSED) > PARSE_CACHE_SIZE:
            _PARSED.popitem(last=False)
    return workbook


def parse_version(version: WorkbookVersion, profile):
    return parse(version.filename, bytes(version.data), profile, version.sha256)


def read_upload(county: str, files: list[tuple[str, bytes]], profile) -> tuple[Any, list[Problem]]:
    """The parsed upload of ``county`` (one .xlsx, .zip or .csv, or several CSVs, each named in
    its problems as the user sent it), or every problem (an empty file, a workbook of another county)."""
    from scoring.workbook import SHEETS, read_workbook_csvs

    if not files:
        return None, [Problem("指标表", None, None, None, "请选择要上传的指标表文件（.xlsx、.zip 或 CSV）")]
    empty = [name for name, data in files if not data]
    if empty:
        return None, [Problem(name, None, None, None, "文件为空，请选择指标表文件") for name in empty]
    others = [name for name, _ in files if not name.lower().endswith(".csv")]
    if len(files) > 1 and others:
        return None, [Problem(name, None, None, None, "一次只能上传一个 .xlsx 或 .zip 文件，或同时选择几个 CSV 文件")
                      for name in others]
    try:
        if len(files) > 1:
            workbook = read_workbook_csvs(dict(files), profile=profile)
        else:
            workbook = parse(files[0][0], files[0][1], profile)
    except InputError as exc:
        return None, list(exc.problems)
    name = str(workbook.county.get("county_name", ""))
    if name != county:
        row = workbook.county_rows.get("county_name") if workbook.county_rows else None
        return None, [Problem("county", row, "county_name", name, f"须为本县名称“{county}”（指标表属于另一个县）",
                              sheet_label=SHEETS["county"], column_label="县名")]
    return workbook, []


def missing_answered(workbook, keep: Mapping[str, str], place: str) -> list[Problem]:
    """A school with answers (code -> name in ``keep``) must stay in every version counted."""
    codes = set(workbook.schools["school_code"].astype(str)) if workbook is not None else set()
    return [Problem(place, None, "school_code", code,
                    f"学校“{keep[code]}”（代码 {code}）在计入评估的调查中已有答卷，须保留在本县指标表中",
                    column_label="学校代码")
            for code in sorted(set(keep) - codes)]


def upload(session: Session, county: str, account_id: int | None, files: list[tuple[str, bytes]], profile,
           data_year: int | None = None, keep: Mapping[str, str] | None = None
           ) -> tuple[WorkbookVersion | None, list[Problem]]:
    """The one path of a county's workbook upload: every problem and nothing stored, or the
    stored version. ``keep``: the schools with answers (code -> name) the version must hold."""
    workbook, problems = read_upload(county, files, profile)
    if problems:
        return None, problems
    filename, data = bundle(files)
    problems = missing_answered(workbook, keep or {}, filename)
    if problems:
        return None, problems
    return store_version(session, county, account_id, filename, data, workbook, data_year)


def store_version(session: Session, county: str, account_id: int | None, filename: str, data: bytes,
                  workbook, data_year: int | None = None) -> tuple[WorkbookVersion | None, list[Problem]]:
    """Store a parsed upload as the county's next version (the same bytes: the existing version).
    Its data year is the county sheet's evaluation_year, else ``data_year`` (the form's). Commits."""
    digest = hashlib.sha256(data).hexdigest()
    same = session.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == county,
                                                      WorkbookVersion.sha256 == digest,
                                                      WorkbookVersion.withdrawn_at.is_(None))
                        .order_by(WorkbookVersion.version)).first()
    if same is not None:
        return same, []
    for _ in range(3):   # two uploads at once: the unique (county, version) decides, the loser retries
        number = (session.exec(select(func.max(WorkbookVersion.version))
                               .where(WorkbookVersion.county_name == county)).one() or 0) + 1
        version = WorkbookVersion(county_name=county, version=number, filename=filename[:255], sha256=digest,
                                  size=len(data), data=data, schools=len(workbook.schools),
                                  data_year=workbook.county.get("evaluation_year") or data_year,
                                  uploaded_by=account_id, uploaded_at=utcnow())
        session.add(version)
        try:
            session.commit()
            return version, []
        except IntegrityError:
            session.rollback()
    return None, [Problem(filename, None, None, None, "同时有其他上传，请重试")]


def versions_of(session: Session, county: str, withdrawn: bool = False) -> list[WorkbookVersion]:
    """The county's versions, newest first: those counted, or (``withdrawn``) the whole history."""
    stmt = select(WorkbookVersion).where(WorkbookVersion.county_name == county)
    if not withdrawn:
        stmt = stmt.where(WorkbookVersion.withdrawn_at.is_(None))
    return list(session.exec(stmt.order_by(WorkbookVersion.version.desc())))


def version_of(session: Session, county: str, number: int | None, withdrawn: bool = False) -> WorkbookVersion | None:
    """Version ``number`` of the county, or the latest when None; a withdrawn one only when asked."""
    stmt = select(WorkbookVersion).where(WorkbookVersion.county_name == county)
    if not withdrawn:
        stmt = stmt.where(WorkbookVersion.withdrawn_at.is_(None))
    stmt = stmt.where(WorkbookVersion.version == number) if number else \
        stmt.order_by(WorkbookVersion.version.desc())
    return session.exec(stmt).first()


def withdraw(session: Session, county: str, number: int, account_id: int | None, reason: str, profile,
             keep: Mapping[str, str] | None = None) -> tuple[WorkbookVersion | None, list[Problem]]:
    """撤销 version ``number``: kept in the history, never counted again; the verdict then uses the
    latest version still counted (the one before it, when it was the latest). Refused, every school named, when a school with answers (``keep``) would
    be in no version still counted. Commits."""
    version = version_of(session, county, number)
    place = f"第 {number} 版"
    if version is None:
        return None, [Problem(place, None, None, None, "没有这一版，或已撤销")]
    if not reason.strip():
        return None, [Problem(place, None, None, None, "请写明撤销原因（如：误传了其他年度的文件）")]
    # The version the verdict uses afterwards: the latest of those still counted.
    after = next((v for v in versions_of(session, county) if v.version != number), None)
    if keep:
        problems = missing_answered(parse_version(after, profile) if after else None, keep, place)
        if problems:
            return None, [Problem(place, None, p.column, p.value,
                                  p.expected.replace("须保留在本县指标表中", "撤销后它不在任何计入的版本中，不能撤销"),
                                  column_label=p.column_label) for p in problems]
    version.withdrawn_at, version.withdrawn_by, version.withdrawn_reason = utcnow(), account_id, reason.strip()[:500]
    session.add(version)
    session.commit()
    return version, []
