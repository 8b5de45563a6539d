"""County-item evidence (佐证材料 of G1–G15, Q1–Q9, V1–V7, issue 22): the bureau attaches it to its
round's county and year with the school evidence's own checks (kind from the bytes, 10 MB,
stored once per sha256), audited; a school clerk never sees nor uploads it, and another
county's staff cannot reach it."""

from chinese_text import leaks, visible_text
from collection_helpers import ROUND, county_with_round, print_accounts, school_login
from inspector_helpers import COUNTY_A, COUNTY_B, browser, county_url
from sqlmodel import Session, select
from svc_helpers import csrf_token

from service.collection.evidence import MAX_EVIDENCE_BYTES
from service.db.models import AuditEntry, CollectionEvidence, EvidenceBlob

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def attach_item(c, item: str, name: str, data: bytes, round_url: str = ROUND):
    page = c.get(round_url)
    token = csrf_token(page.text if page.status_code == 200 else c.get("/inspector").text)
    return c.post(round_url + "/county-evidence", data={"_csrf_token": token, "item": item},
                  files={"file": (name, data, "application/octet-stream")})


def test_the_bureau_attaches_evidence_to_a_county_item_stored_once_and_audited(app):
    with county_with_round(app) as bureau:
        page = bureau.get(ROUND).text
        assert "县级指标佐证材料" in page and "G1 县域内义务教育学校规划布局合理" in page
        assert "尚无佐证材料的县级指标（31 项）" in page
        r = attach_item(bureau, "G1", "学校布局规划.pdf", PDF)
        assert r.status_code == 200 and "学校布局规划.pdf" in r.text
        assert "尚无佐证材料的县级指标（30 项）" in r.text
        attach_item(bureau, "G1", "学校布局规划（再次）.pdf", PDF)       # the same bytes for G1: kept once
        attach_item(bureau, "V2", "择校治理文件.pdf", PDF)               # for another item: one blob
        with Session(app.state.engine) as s:
            entries = s.exec(select(CollectionEvidence)).all()
            assert sorted((e.school_code, e.field_group) for e in entries) == [(None, "G1"), (None, "V2")]
            assert len(s.exec(select(EvidenceBlob)).all()) == 1
            g1 = next(e for e in entries if e.field_group == "G1")
            logged = s.exec(select(AuditEntry).where(AuditEntry.action == "collection_evidence")).all()
        assert [e.detail["item"] for e in logged] == ["G1", "G1", "V2"]
        assert logged[0].target == f"county/{COUNTY_A}/collection/2025" and logged[0].file_sha256 == g1.sha256
        download = bureau.get(f"{ROUND}/evidence/{g1.id}")
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-disposition"].startswith("attachment;")


def test_county_item_evidence_is_refused_when_not_a_document_too_large_or_no_item(app):
    with county_with_round(app) as bureau:
        r = attach_item(bureau, "Q3", "章程.html", b"<html><script>alert(1)</script>")
        assert r.status_code == 422 and "不是可接受的文件类型" in r.text
        r = attach_item(bureau, "Q3", "大文件.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES)
        assert r.status_code == 422 and "每份佐证材料不超过 10 兆字节" in r.text
        for item in ("R1", "G16", ""):                  # R1 is a school's, not a county item
            r = attach_item(bureau, item, "材料.pdf", PDF)
            assert r.status_code == 422 and "请选择这份材料佐证的指标" in r.text, item
        with Session(app.state.engine) as s:
            assert s.exec(select(CollectionEvidence)).all() == []


def test_a_school_clerk_is_refused_county_item_evidence_and_never_sees_it(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
        attach_item(bureau, "G1", "学校布局规划.pdf", PDF)
        with Session(app.state.engine) as s:
            g1 = s.exec(select(CollectionEvidence)).one().id
        with school_login(app, *accounts["S01"]) as c:
            form = c.get("/school").text
            assert "学校布局规划.pdf" not in form and "县域内义务教育学校规划布局合理" not in form
            token = csrf_token(form)
            r = c.post(ROUND + "/county-evidence", data={"_csrf_token": token, "item": "G1"},
                       files={"file": ("布局.pdf", PDF, "application/pdf")}, follow_redirects=False)
            assert r.status_code == 403
            r = c.post("/school/evidence", data={"_csrf_token": token, "group": "G1"},
                       files={"file": ("布局.pdf", PDF, "application/pdf")})
            assert r.status_code == 422 and "请选择这份材料佐证的指标" in r.text
            assert c.get(f"/school/evidence/{g1}").status_code == 404
            for path in (f"{ROUND}/evidence/{g1}", county_url(COUNTY_A, f"/evidence/{g1}")):
                assert c.get(path, follow_redirects=False).status_code == 403, path
        with Session(app.state.engine) as s:
            assert len(s.exec(select(CollectionEvidence)).all()) == 1


def test_another_countys_staff_cannot_attach_or_download_county_item_evidence(app):
    with county_with_round(app) as bureau:
        attach_item(bureau, "G1", "学校布局规划.pdf", PDF)
        with Session(app.state.engine) as s:
            g1 = s.exec(select(CollectionEvidence)).one().id
    with browser(app, "bureau_b") as other:
        token = csrf_token(other.get("/inspector").text)
        r = other.post(ROUND + "/county-evidence", data={"_csrf_token": token, "item": "G2"},
                       files={"file": ("四统一.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert r.status_code == 403
        for path in (f"{ROUND}/evidence/{g1}", county_url(COUNTY_A, f"/evidence/{g1}")):
            assert other.get(path, follow_redirects=False).status_code == 403, path
        assert other.get(county_url(COUNTY_B, f"/evidence/{g1}")).status_code == 404   # not of its county
    with browser(app, "inspector_a") as inspector:
        r = inspector.get(county_url(COUNTY_A, f"/evidence/{g1}"))
        assert r.status_code == 200 and r.content == PDF and r.headers["x-content-type-options"] == "nosniff"
        assert inspector.post(ROUND + "/county-evidence", data={"_csrf_token": csrf_token(
            inspector.get("/inspector").text), "item": "G2"}, files={"file": ("a.pdf", PDF, "application/pdf")},
            follow_redirects=False).status_code == 403                             # reading is not running
    with Session(app.state.engine) as s:
        assert len(s.exec(select(CollectionEvidence)).all()) == 1


def test_the_county_evidence_pages_are_chinese_only(app):
    with county_with_round(app) as bureau:
        pages = [attach_item(bureau, "Q3", "章程.pdf", b"<html>"), attach_item(bureau, "G16", "材料.pdf", PDF),
                 attach_item(bureau, "G1", "学校布局规划.pdf", PDF)]
        for page in pages:
            text = visible_text(page.text).replace("bureau_a", "")
            assert leaks(text) == [], leaks(text)
