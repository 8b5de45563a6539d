"""The desk-review package (汇审材料包, issue 22): one streamed ZIP of a county's version with its
workbook, verdict report, shortfall ledger, evidence files by rule and school, the evidence
index (佐证材料目录) and a checksum list; fields without evidence listed as such, in the index
and on the bureau's round page; readable only by whoever may read the county's verdict."""

import hashlib
import io
import re
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone

import openpyxl
import pytest
from collection_helpers import (ROUND, YEAR, attach, county_with_round, docx as _docx, example_rows, print_accounts,
                                school_login)
from inspector_helpers import COUNTY_A, browser, county_url
from pypdf import PdfReader, PdfWriter
from sqlmodel import Session, select
from svc_helpers import csrf_token

from scoring.collection import COUNTY_ITEMS, EVIDENCE_GROUPS
from service.collection import evidence as E
from service.collection import rounds as K
from service.collection import package as PK
from service.collection.package import NO_EVIDENCE, safe_component
from service.db.models import CollectionEvidence, CollectionSchool, WorkbookVersion

NOW = datetime(2026, 5, 1, 8, tzinfo=timezone.utc)

PACKAGE = county_url(COUNTY_A, "/desk-review.zip?version=2")
ROOT = f"{COUNTY_A}汇审材料包（指标表第2版）"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _attach(c, group: str, name: str, data: bytes):
    r = attach(c, group, name, data)
    assert r.status_code == 200, r.text[:500]


@contextmanager
def assembled_with_evidence(app, s01_name: str | None = None):
    """Version 2 assembled from the 2025 round of the example's 25 schools; S01 attached a
    two-page PDF to R1 and a picture to G5 through its form, S02 a document to Q4, the bureau a
    one-page PDF to the county item G1; nothing else has evidence. ``s01_name``: S01's name in the round as typed by someone (the package names
    its folders after the round's schools)."""
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
        with school_login(app, *accounts["S01"]) as s01:
            _attach(s01, "R1", "教师学历证书清单.pdf", _pdf(2))
            _attach(s01, "G5", "班额照片.png", PNG)
        with school_login(app, *accounts["S02"]) as s02:
            _attach(s02, "Q4", "经费预算.docx", _docx())
        token = csrf_token(bureau.get(ROUND).text)
        r = bureau.post(ROUND + "/county-evidence", data={"_csrf_token": token, "item": "G1"},
                        files={"file": ("学校布局规划.pdf", _pdf(1), "application/pdf")})
        assert r.status_code == 200, r.text[:500]
        rows = example_rows()
        with Session(app.state.engine) as s:
            rnd = K.round_of(s, COUNTY_A, YEAR)
            for school in K.schools_of(s, rnd.id):
                assert K.submit(s, school, K.clean(rows[school.school_code]), None, app.state.profile)[1] == []
                assert K.decide(s, school, True, {}, None)[1] == []
        r = bureau.post(ROUND + "/assemble", data={"_csrf_token": csrf_token(bureau.get(ROUND).text)})
        assert r.status_code == 200 and "第 2 版" in r.text, r.text[:800]
        if s01_name:
            with Session(app.state.engine) as s:
                school = K.school_of(s, K.round_of(s, COUNTY_A, YEAR).id, "S01")
                school.school_name = s01_name
                s.add(school)
                s.commit()
        yield bureau


def _download(c) -> zipfile.ZipFile:
    r = c.get(PACKAGE)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text[:500]
    return zipfile.ZipFile(io.BytesIO(r.content))


def _index_text(z: zipfile.ZipFile) -> str:
    reader = PdfReader(io.BytesIO(z.read(f"{ROOT}/佐证材料目录.pdf")))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_the_package_holds_the_versions_workbook_report_ledger_and_every_evidence_file_by_rule_and_school(app):
    with assembled_with_evidence(app) as bureau:
        z = _download(bureau)
    with Session(app.state.engine) as s:
        version = s.exec(select(WorkbookVersion).where(WorkbookVersion.version == 2)).one()
        files = s.exec(select(CollectionEvidence)).all()
    names = z.namelist()
    assert z.read(f"{ROOT}/指标表（第2版）.zip") == bytes(version.data)
    assert len(PdfReader(io.BytesIO(z.read(f"{ROOT}/评估报告（第2版）.pdf"))).pages) >= 2
    ledger = openpyxl.load_workbook(io.BytesIO(z.read(f"{ROOT}/短板台账（第2版）.xlsx")))
    assert ledger.sheetnames == ["短板台账"]
    assert {f"{ROOT}/佐证材料/R1 高于规定学历教师/S01学校/教师学历证书清单.pdf",
            f"{ROOT}/佐证材料/G5 最大班额/S01学校/班额照片.png",
            f"{ROOT}/佐证材料/Q4 公用经费与教师培训经费/S02学校/经费预算.docx",
            f"{ROOT}/佐证材料/G1 县域内义务教育学校规划布局合理/县教育局/学校布局规划.pdf"} == \
        {n for n in names if "/佐证材料/" in n}
    for entry in files:                                   # each file is the bytes uploaded
        member = next(n for n in names if n.endswith("/" + entry.filename))
        assert hashlib.sha256(z.read(member)).hexdigest() == entry.sha256
    assert names[-1] == f"{ROOT}/校验值清单（SHA-256）.txt" and f"{ROOT}/佐证材料目录.pdf" in names


def test_the_index_lists_every_evidence_file_with_its_pages_sha256_and_who_uploaded_it_when(app):
    with assembled_with_evidence(app) as bureau:
        text = _index_text(_download(bureau))
    with Session(app.state.engine) as s:
        files = s.exec(select(CollectionEvidence)).all()
    assert text.startswith(f"{COUNTY_A}佐证材料目录") and "共25所学校、4份佐证材料" in text
    for part in ("资源配置", "政府保障程度", "教育质量"):
        assert part in text
    for entry in files:
        row = text[text.index(entry.filename):][:200]
        assert entry.sha256 in row and (f"r1-{entry.school_code}" if entry.school_code else "bureau_a") in row
    assert "教师学历证书清单.pdf2" + files[0].sha256 in text      # a two-page PDF: 2 pages (pypdf)
    assert "班额照片.png1" in text and "经费预算.docx—" in text    # a picture 1, a document —


def test_the_checksum_list_holds_the_sha256_of_every_other_member(app):
    with assembled_with_evidence(app) as bureau:
        z = _download(bureau)
    lines = z.read(f"{ROOT}/校验值清单（SHA-256）.txt").decode("utf-8").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    members = [n for n in z.namelist() if not n.endswith("校验值清单（SHA-256）.txt")]
    assert sorted(f"{ROOT}/{name}" for name in listed) == sorted(members)
    for name, digest in listed.items():
        assert hashlib.sha256(z.read(f"{ROOT}/{name}")).hexdigest() == digest, name


def test_fields_without_evidence_are_listed_as_such_in_the_index_and_on_the_round_page(app):
    with assembled_with_evidence(app) as bureau:
        text = _index_text(_download(bureau))
        page = bureau.get(ROUND).text
    # 25 schools × 12 field groups, 3 with a file: 297 rows of 无佐证材料; 31 county items, G1 with a file.
    assert text.count("学校" + NO_EVIDENCE) == 25 * len(EVIDENCE_GROUPS) - 3       # a school, then 无佐证材料
    assert text.count("县教育局" + NO_EVIDENCE) == len(COUNTY_ITEMS) - 1             # the county items but G1
    summary = text[text.index("缺少佐证材料的指标"):text.index("资源配置")]
    assert "R1高于规定学历教师S02学校、" in summary and "（24所）" in summary and "（25所）" in summary
    section = page[page.index('<section id="evidence">'):]
    section = section[:section.index("</section>")]
    assert "以下 25 所学校还有指标没有佐证材料" in section
    s01 = section[section.index("S01学校"):].split("</tr>")[0]
    assert "R1 高于规定学历教师" not in s01 and "G5 最大班额" not in s01 and "R2 县级以上骨干教师" in s01
    assert "desk-review.zip?version=2" in section


def test_another_countys_staff_and_a_school_clerk_are_refused_the_package_its_inspector_reads_it(app):
    with assembled_with_evidence(app):
        pass
    with Session(app.state.engine) as s:
        clerk = K.clerk_accounts(s, K.round_of(s, COUNTY_A, YEAR).id)["S01"]
    with browser(app, "bureau_b") as other:
        r = other.get(PACKAGE)
        assert r.status_code == 403 and "S01学校" not in r.text
    with school_login(app, clerk, "school-own-password", change=False) as c:
        assert c.get(PACKAGE, follow_redirects=False).status_code == 403
    with browser(app, "inspector_a") as inspector:
        assert f"{ROOT}/佐证材料目录.pdf" in _download(inspector).namelist()


def test_the_package_is_streamed_member_by_member_and_not_gzipped_again(app):
    with assembled_with_evidence(app) as bureau:
        r = bureau.get(PACKAGE, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "content-length" not in r.headers     # sent as it is made
        assert "content-encoding" not in r.headers and zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None
        with Session(app.state.engine) as s:
            version = s.exec(select(WorkbookVersion).where(WorkbookVersion.version == 2)).one()
            contents = PK.contents(s, version, [("S01", "S01学校"), ("S02", "S02学校")])
        members = [("指标表.zip", bytes(version.data))]
        chunks = list(PK.stream(app.state.engine, contents, members, lambda c, rows: b"%PDF-index", NOW))
    # one chunk per member (the workbook, 4 evidence files, the index), then the checksums and the directory
    assert len(chunks) == 1 + 4 + 1 + 1 and len(chunks[0]) < len(version.data) + 200

    def broken_index(c, rows):
        raise ValueError("index")
    # Litestar ends a sync stream quietly on a ValueError: a failure must abort it, never look whole.
    with pytest.raises(RuntimeError):
        list(PK.stream(app.state.engine, contents, members, broken_index, NOW))


def test_names_in_the_package_are_safe(app):
    assert safe_component("../../etc/passwd") == "_.._etc_passwd" and safe_component("..") == "未命名"
    assert safe_component("a\\b:c*?<>|\x00.") == "a_b_c_" and safe_component("CON.txt") == "_CON.txt"
    with assembled_with_evidence(app, s01_name="../..\\第一/小学\x07") as bureau:
        z = _download(bureau)
    for name in z.namelist():
        parts = name.split("/")
        assert parts[0] == ROOT and "\\" not in name and not {"", ".", ".."} & set(parts), name
        assert not any(ord(ch) < 32 for ch in name), name
    assert f"{ROOT}/佐证材料/R1 高于规定学历教师/_.._第一_小学_/教师学历证书清单.pdf" in z.namelist()
    with Session(app.state.engine) as s:
        assert s.exec(select(CollectionSchool).where(CollectionSchool.school_code == "S01")).one().school_name \
            == "../..\\第一/小学\x07"


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
