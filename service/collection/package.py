"""The desk-review package (汇审材料包) of a county and a workbook version, streamed as a ZIP, and
the field groups of each school that have no evidence yet.

The package holds the version's stored workbook, the verdict report PDF, the shortfall ledger,
the evidence files in folders named by rule and school (县教育局 for the bureau's files of a
county item), the evidence index PDF (佐证材料目录) and a checksum list of every other member
(``sha256sum -c`` reads it). Nothing is built in
memory: ``zipfile`` writes into an unseekable sink (sizes and CRCs then follow each member in a
data descriptor), and what it wrote is handed on after each member, so one evidence file at a
time is held. The evidence of a version is that of the round assembled into it, else of the
round of its data year (the rule of the verdict page's links, ``verdicts/evidence.py``)."""

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scoring.collection import COUNTY_ITEMS, EVIDENCE_GROUPS
from scoring.names import PARTS
from service.db.models import Account, CollectionEvidence, CollectionRound, CollectionSchool, EvidenceBlob, WorkbookVersion
from service.web.clock import CHINA, local
from service.web.pdf import html_to_pdf



@dataclass(frozen=True)
class Rule:
    """What evidence is filed under: a school's field group, or (``county``) a county item the
    bureau attaches (G1–G15, Q1–Q9, V1–V7; the same code may name both, as G3 does)."""
    part: str
    code: str
    county: bool
    label: str


def _part(code: str) -> str:
    # The enrolment (在校生数) is the base of every per-student figure of 资源配置.
    return {"G": "guarantee", "Q": "quality", "V": "veto"}.get(code[0], "resources")


def _rule_order(rule: Rule) -> tuple:
    number = re.fullmatch(r"[A-Z](\d+)", rule.code)
    return list(PARTS).index(rule.part), int(number.group(1)) if number else 0, not rule.county


RULES = sorted([Rule(_part(g), g, False, label) for g, (label, _) in EVIDENCE_GROUPS.items()]
               + [Rule(_part(c), c, True, label) for c, label in COUNTY_ITEMS.items()], key=_rule_order)
RULE_OF = {(r.code, r.county): r for r in RULES}
BUREAU = "县教育局"                     # the "school" of a county item's files
NO_EVIDENCE = "无佐证材料"
# Evidence is mostly PDF, JPEG, PNG or zipped Office files: deflating them again costs time, saves nothing.
STORED_KINDS = {"pdf", "jpeg", "png", "xlsx", "docx"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_component(text: str, limit: int = 80) -> str:
    """One folder or file name of the package: no separator, control or reserved character, no
    leading or trailing dot or space (so never ``..``), not a reserved device name, bounded."""
    name = _UNSAFE.sub("_", str(text)).strip(" .")[:limit].strip(" .")
    if not name or set(name) <= {"_"}:
        return "未命名"
    return "_" + name if name.split(".")[0].upper() in _RESERVED else name


@dataclass(frozen=True)
class Entry:
    """One evidence file as the package holds it."""
    rule: Rule
    school_code: str | None           # None: a county item's file (the bureau's)
    school_name: str
    filename: str
    sha256: str
    kind: str
    size: int
    uploaded_by: str
    uploaded_at: datetime
    member: str                       # its path inside the package (under the root folder)


@dataclass(frozen=True)
class Contents:
    county: str
    version: WorkbookVersion
    round: CollectionRound | None
    schools: list[tuple[str, str]]    # (code, name) of the version's schools, in its order
    entries: list[Entry]              # by part, rule, school, upload

    @property
    def root(self) -> str:
        return safe_component(f"{self.county}汇审材料包（指标表第{self.version.version}版）", 120)

    def holders(self, rule: Rule) -> list[tuple[str | None, str]]:
        """Who files evidence under ``rule``: every school, or the bureau for a county item."""
        return [(None, BUREAU)] if rule.county else self.schools

    def missing(self) -> dict[Rule, list[tuple[str | None, str]]]:
        """Rule -> the schools (or the bureau) with no evidence for it."""
        have = {(e.rule, e.school_code) for e in self.entries}
        return {r: [h for h in self.holders(r) if (r, h[0]) not in have] for r in RULES}


def round_of_version(db: Session, version: WorkbookVersion) -> CollectionRound | None:
    """The round assembled into the version, else the county's round of the version's data year."""
    rounds = db.exec(select(CollectionRound).where(CollectionRound.county_name == version.county_name)).all()
    assembled = [r for r in rounds if r.assembled_version == version.version]
    same_year = [r for r in rounds if version.data_year is not None and r.data_year == version.data_year]
    return (assembled or same_year or [None])[0]


def _unique(path: str, used: set[str]) -> str:
    """``path``, or ``name（2）.ext`` … when the folder already holds that name."""
    p, n = PurePosixPath(path), 1
    while path in used:
        n += 1
        path = str(p.with_name(f"{p.stem}（{n}）{p.suffix}"))
    used.add(path)
    return path


def contents(db: Session, version: WorkbookVersion, school_rows: list[tuple[str, str]]) -> Contents:
    """What the package of ``version`` holds (the evidence's metadata only, no file's bytes).
    ``school_rows``: (code, name) of the version's schools."""
    rnd = round_of_version(db, version)
    entries: list[Entry] = []
    if rnd is not None:
        names = dict(school_rows)
        names.update({s.school_code: s.school_name for s in db.exec(
            select(CollectionSchool).where(CollectionSchool.round_id == rnd.id))})
        rows = db.exec(select(CollectionEvidence, EvidenceBlob.kind, EvidenceBlob.size, Account.username)
                       .join(EvidenceBlob, EvidenceBlob.sha256 == CollectionEvidence.sha256)
                       .outerjoin(Account, Account.id == CollectionEvidence.uploaded_by)
                       .where(CollectionEvidence.round_id == rnd.id).order_by(CollectionEvidence.id)).all()
        order = {code: i for i, (code, _) in enumerate(school_rows)}
        rows = [r for r in rows if (r[0].field_group, r[0].school_code is None) in RULE_OF]
        rows = sorted(rows, key=lambda r: (_rule_order(RULE_OF[r[0].field_group, r[0].school_code is None]),
                                           order.get(r[0].school_code, -1), r[0].school_code or "", r[0].id))
        # A school's folder is its name; two schools of one name are told apart by their codes.
        counts: dict[str, int] = {}
        for name in names.values():
            counts[name] = counts.get(name, 0) + 1
        used: set[str] = set()
        for e, kind, size, username in rows:
            rule = RULE_OF[e.field_group, e.school_code is None]
            name = BUREAU if rule.county else names.get(e.school_code, e.school_code)
            folder = name if rule.county or counts.get(name, 0) <= 1 else f"{name}（{e.school_code}）"
            member = _unique("/".join(("佐证材料", safe_component(rule.label), safe_component(folder),
                                       safe_component(e.filename, 120))), used)
            entries.append(Entry(rule, e.school_code, name, e.filename, e.sha256, kind, size,
                                 username or "", e.uploaded_at, member))
    # A school of the round that the version lacks still has its files listed and packed.
    listed = {code for code, _ in school_rows}
    extra = list(dict.fromkeys((e.school_code, e.school_name) for e in entries
                               if e.school_code is not None and e.school_code not in listed))
    return Contents(version.county_name, version, rnd, list(school_rows) + extra, entries)


def missing_by_school(db: Session, round_id: int) -> list[tuple[CollectionSchool, list[str]]]:
    """Each school of the round that lacks evidence for some field group, with those groups."""
    have = set(db.exec(select(CollectionEvidence.school_code, CollectionEvidence.field_group)
                       .where(CollectionEvidence.round_id == round_id,
                              CollectionEvidence.school_code.is_not(None))).all())
    schools = db.exec(select(CollectionSchool).where(CollectionSchool.round_id == round_id)
                      .order_by(CollectionSchool.position)).all()
    out = [(s, [g for g in EVIDENCE_GROUPS if (s.school_code, g) not in have]) for s in schools]
    return [(s, groups) for s, groups in out if groups]


def page_count(kind: str, data: bytes) -> str:
    """Pages of a PDF (read by pypdf), 1 for a picture, “—” for a spreadsheet, a document or a
    PDF pypdf cannot read."""
    if kind in ("jpeg", "png"):
        return "1"
    if kind != "pdf":
        return "—"
    from pypdf import PdfReader
    try:
        return str(len(PdfReader(io.BytesIO(data), strict=False).pages))
    except Exception:                   # any unreadable PDF: counted as unknown, still packed
        return "—"


class _Sink(io.RawIOBase):
    """The unseekable file ``zipfile`` writes into; ``take`` hands on what was written so far."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.chunks.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


@dataclass(frozen=True)
class IndexRow:
    entry: Entry
    pages: str
    intact: bool                      # the bytes packed still have the sha256 taken at upload


def stream(engine: Engine, c: Contents, members: list[tuple[str, bytes]],
           render_index: Callable[[Contents, list[IndexRow]], bytes], now: datetime) -> Iterator[bytes]:
    """The package as ZIP bytes, chunk by chunk: ``members`` (name, bytes) first, then every
    evidence file (read from the database one at a time), the index, the checksum list; the
    files made for it dated ``now``."""
    try:
        yield from _stream(engine, c, members, render_index, now)
    except ValueError as exc:
        # Litestar's wrapper of a sync iterator takes a ValueError for the iterator's end: the
        # client would get a cut ZIP as if whole. Any other error aborts the response visibly.
        raise RuntimeError("the desk-review package failed while streaming") from exc


def _stream(engine: Engine, c: Contents, members: list[tuple[str, bytes]],
            render_index: Callable[[Contents, list[IndexRow]], bytes], now: datetime) -> Iterator[bytes]:
    sink, sums = _Sink(), []

    def info(name: str, when: datetime, compress: bool) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(f"{c.root}/{name}", date_time=when.astimezone(CHINA).timetuple()[:6])
        zi.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return zi

    with zipfile.ZipFile(sink, "w", allowZip64=True) as z:
        def put(name: str, data: bytes, when: datetime = now, compress: bool = True) -> str:
            z.writestr(info(name, when, compress), data)
            digest = hashlib.sha256(data).hexdigest()
            sums.append((digest, name))
            return digest

        for name, data in members:
            put(name, data)
            yield sink.take()
        rows = []
        with Session(engine) as db:
            for e in c.entries:
                data = db.exec(select(EvidenceBlob.data).where(EvidenceBlob.sha256 == e.sha256)).one()
                digest = put(e.member, data, e.uploaded_at, compress=e.kind not in STORED_KINDS)
                rows.append(IndexRow(e, page_count(e.kind, data), digest == e.sha256))
                del data
                yield sink.take()
        put("佐证材料目录.pdf", render_index(c, rows))
        yield sink.take()
        z.writestr(info("校验值清单（SHA-256）.txt", now, True),
                   "".join(f"{digest}  {name}\n" for digest, name in sums).encode("utf-8"))
    yield sink.take()


def package_name(c: Contents) -> str:
    return f"{c.root}.zip"


def index_pdf(template_engine, c: Contents, rows: list[IndexRow], now: datetime) -> bytes:
    """佐证材料目录 as an A4 PDF, with the report's PDF machinery (WeasyPrint, Noto CJK)."""
    html = template_engine.get_template("collection/evidence_index.html").render(**index_context(c, rows, now))
    return html_to_pdf(html)


def index_context(c: Contents, rows: list[IndexRow], now: datetime) -> dict:
    """The index's template context: per part, per rule, per school its files or 无佐证材料."""
    by_key: dict[tuple[Rule, str | None], list[IndexRow]] = {}
    for row in rows:
        by_key.setdefault((row.entry.rule, row.entry.school_code), []).append(row)
    parts = []
    for part in PARTS:
        rules = [r for r in RULES if r.part == part]
        if rules:
            parts.append((PARTS[part], [(r.label, [(code, name, by_key.get((r, code), []))
                                                   for code, name in c.holders(r)]) for r in rules]))
    missing = [(r.label, holders) for r, holders in c.missing().items() if holders]
    return {"c": c, "parts": parts, "missing": missing, "files": len(rows), "now": local(now),
            "local": local, "altered": [r for r in rows if not r.intact], "no_evidence": NO_EVIDENCE}
