"""Workbook versions of a county: the only place a workbook lives. Upload (all problems or a
version; the same bytes again are the same version), list, read, parse (cached by sha256 and
profile digest) and compare.

The workbook is read by ``scoring.workbook``; nothing here re-implements a rule.
"""

import hashlib
import io
import threading
import zipfile
from collections import OrderedDict
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scoring.errors import InputError, Problem
from service.db.models import WorkbookVersion, utcnow

PARSE_NAMES = (".xlsx", ".zip")
PARSE_CACHE_SIZE = 256


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


def read_upload(county: str, filename: str, data: bytes, profile) -> tuple[Any, list[Problem]]:
    """The parsed upload of ``county``, or every problem (an empty file, a workbook of another county)."""
    if not data:
        return None, [Problem(filename or "指标表", None, None, None, "文件为空，请选择指标表文件")]
    try:
        workbook = parse(filename, data, profile)
    except InputError as exc:
        return None, list(exc.problems)
    name = str(workbook.county.get("county_name", ""))
    if name != county:
        from scoring.workbook import SHEETS
        row = workbook.county_rows.get("county_name") if workbook.county_rows else None
        return None, [Problem("county", row, "county_name", name, f"须为本县名称“{county}”（指标表属于另一个县）",
                              sheet_label=SHEETS["county"])]
    return workbook, []


def store_version(session: Session, county: str, account_id: int | None, filename: str, data: bytes,
                  workbook, data_year: int | None = None) -> tuple[WorkbookVersion | None, list[Problem]]:
    """Store a parsed upload as the county's next version (the same bytes: the existing version).
    Its data year is the county sheet's evaluation_year, else ``data_year`` (the form's). Commits."""
    digest = hashlib.sha256(data).hexdigest()
    same = session.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == county,
                                                      WorkbookVersion.sha256 == digest)
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


def versions_of(session: Session, county: str) -> list[WorkbookVersion]:
    return list(session.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == county)
                             .order_by(WorkbookVersion.version.desc())))


def version_of(session: Session, county: str, number: int | None) -> WorkbookVersion | None:
    """Version ``number`` of the county, or the latest when None."""
    stmt = select(WorkbookVersion).where(WorkbookVersion.county_name == county)
    stmt = stmt.where(WorkbookVersion.version == number) if number else \
        stmt.order_by(WorkbookVersion.version.desc())
    return session.exec(stmt).first()
