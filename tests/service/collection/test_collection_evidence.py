"""Evidence files (佐证材料): the kind decided from the bytes (PDF, JPEG, PNG, .xlsx, .docx), at most
10 MB, stored once per sha256, downloaded under a safe name and never to another school."""

from urllib.parse import quote

from collection_helpers import ROUND, attach as _attach, county_with_round, docx as _docx, print_accounts, school_login
from sqlmodel import Session, select

from service.collection.evidence import MAX_EVIDENCE_BYTES, kind_of, safe_name
from service.db.models import CollectionEvidence, EvidenceBlob

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_kind_of_an_evidence_file_is_read_from_its_bytes_not_its_name():
    assert kind_of(PDF) == "pdf" and kind_of(_docx()) == "docx"
    assert kind_of(b"\x89PNG\r\n\x1a\n....") == "png" and kind_of(b"\xff\xd8\xff\xe0....") == "jpeg"
    assert kind_of(b"<html><script>alert(1)</script>") is None
    assert safe_name("../../etc/证书清单.exe", "pdf") == "证书清单.pdf"
    assert safe_name('a"\r\nb.pdf', "pdf") == "a_b.pdf"


def test_a_school_attaches_evidence_refused_when_not_a_document_or_too_large(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
    with school_login(app, *accounts["S01"]) as c:
        r = _attach(c, "R1", "教师学历.pdf", b"<html>not a pdf</html>")
        assert r.status_code == 422 and "不是可接受的文件类型" in r.text
        r = _attach(c, "R1", "大文件.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES)
        assert r.status_code == 422 and "每份佐证材料不超过 10 兆字节" in r.text
        r = _attach(c, "R1", "教师学历清单.pdf", PDF)
        assert r.status_code == 200 and "教师学历清单.pdf" in r.text and "尚无佐证材料的指标" in r.text
        assert "R1 高于规定学历教师、" not in r.text.split("尚无佐证材料的指标")[1][:200]
    with Session(app.state.engine) as s:
        assert len(s.exec(select(CollectionEvidence)).all()) == 1


def test_the_same_file_is_stored_once_and_no_school_gets_another_schools_file(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
        with school_login(app, *accounts["S01"]) as one:
            _attach(one, "Q4", "经费预算.docx", _docx())
            _attach(one, "Q4", "经费预算.docx", _docx())              # again: kept once
        with school_login(app, *accounts["S02"]) as two:
            _attach(two, "Q4", "预算.docx", _docx())                   # the same bytes: one blob
            with Session(app.state.engine) as s:
                entries = {e.school_code: e.id for e in s.exec(select(CollectionEvidence))}
                assert len(s.exec(select(EvidenceBlob)).all()) == 1 and len(entries) == 2
            assert two.get(f"/school/evidence/{entries['S01']}").status_code == 404
            own = two.get(f"/school/evidence/{entries['S02']}")
            assert own.status_code == 200 and own.content == _docx()
        r = bureau.get(f"{ROUND}/evidence/{entries['S01']}")
        assert r.status_code == 200 and r.content == _docx()
        assert r.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote('经费预算.docx')}"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "经费预算.docx" in bureau.get(f"{ROUND}/schools/S01").text
