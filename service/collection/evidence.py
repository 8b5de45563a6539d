"""Evidence files (佐证材料) a school attaches to a field group of its row, and the bureau to a
county item (G1–G15, Q1–Q9, V1–V7) of its round's county and year: the kind decided from the
bytes (PDF, JPEG, PNG, .xlsx, .docx; nothing else), at most ``MAX_EVIDENCE_BYTES``, stored in
the database once per sha256, only ever served as a download, and only to the school itself or
the bureau of its round (a county item's: to the bureau, never to a school)."""

import hashlib
import io
import re
import zipfile

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from scoring.collection import COUNTY_ITEMS, EVIDENCE_GROUPS
from scoring.errors import Problem
from service.db.models import CollectionEvidence, CollectionRound, EvidenceBlob, utcnow

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "xlsx": ".xlsx", "docx": ".docx"}
KINDS_SAID = "PDF 文件、图片（照片或 .png）、表格（.xlsx）或文档（.docx）"


def kind_of(data: bytes) -> str | None:
    """pdf | jpeg | png | xlsx | docx, read from the bytes (never the name), else None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def safe_name(filename: str, kind: str) -> str:
    """The file's own name without any path or control character, ending in its true extension."""
    stem = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", stem)[:120] or "佐证材料"
    return stem + EXTENSIONS[kind]


def attach(db: Session, round_id: int, school_code: str | None, group: str, filename: str, data: bytes,
           account_id: int | None) -> tuple[CollectionEvidence | None, list[Problem]]:
    """Store one file against a school's field group, or (``school_code`` None) a county item;
    every problem and nothing stored, or the entry. Commits."""
    place = filename or "佐证材料"
    if group not in (EVIDENCE_GROUPS if school_code is not None else COUNTY_ITEMS):
        return None, [Problem(place, None, None, None, "请选择这份材料佐证的指标")]
    if not data:
        return None, [Problem(place, None, None, None, "文件为空，请选择佐证材料文件")]
    if len(data) > MAX_EVIDENCE_BYTES:
        return None, [Problem(place, None, None, None, f"文件过大（约 {len(data) / 2**20:.1f} 兆字节）：每份佐证材料不超过 {MAX_EVIDENCE_BYTES // 2**20} 兆字节")]
    kind = kind_of(data)
    if kind is None:
        return None, [Problem(place, None, None, None, f"不是可接受的文件类型：请上传 {KINDS_SAID}")]
    digest = hashlib.sha256(data).hexdigest()
    if db.get(EvidenceBlob, digest) is None:
        db.add(EvidenceBlob(sha256=digest, kind=kind, size=len(data), data=data))
    same = db.exec(select(CollectionEvidence).where(
        CollectionEvidence.round_id == round_id, _of_school(school_code),
        CollectionEvidence.field_group == group, CollectionEvidence.sha256 == digest)).first()
    if same is not None:                    # the same file again for the same group: kept once
        db.commit()
        return same, []
    entry = CollectionEvidence(round_id=round_id, school_code=school_code, field_group=group,
                               filename=safe_name(filename, kind), sha256=digest, uploaded_by=account_id,
                               uploaded_at=utcnow())
    db.add(entry)
    db.commit()
    return entry, []


def _of_school(school_code: str | None):
    return (CollectionEvidence.school_code.is_(None) if school_code is None
            else CollectionEvidence.school_code == school_code)


def files_of(db: Session, round_id: int, school_code: str | None) -> list[tuple[CollectionEvidence, EvidenceBlob]]:
    """A school's files, or (``school_code`` None) the county items' files, of the round (their bytes unread)."""
    rows = db.exec(select(CollectionEvidence, EvidenceBlob).options(defer(EvidenceBlob.data)).where(
        CollectionEvidence.round_id == round_id, _of_school(school_code),
        CollectionEvidence.sha256 == EvidenceBlob.sha256).order_by(CollectionEvidence.id))
    return list(rows)


def file_of(db: Session, round_id: int, evidence_id: int, school_code: str | None = None):
    """(entry, blob) of the round (and, for a school, of that school only: never a county item's), else None."""
    entry = db.get(CollectionEvidence, evidence_id)
    if entry is None or entry.round_id != round_id or (school_code is not None and entry.school_code != school_code):
        return None
    return entry, db.get(EvidenceBlob, entry.sha256)


def file_in_county(db: Session, county: str, evidence_id: int):
    """(entry, blob) of any round of ``county`` (what the verdict page links for its readers), else None."""
    entry = db.get(CollectionEvidence, evidence_id)
    rnd = db.get(CollectionRound, entry.round_id) if entry is not None else None
    if rnd is None or rnd.county_name != county:
        return None
    return entry, db.get(EvidenceBlob, entry.sha256)
