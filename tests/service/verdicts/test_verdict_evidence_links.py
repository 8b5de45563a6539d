"""Inspectors reach the evidence from the verdict page (issue 22): a value of the resource table
(a school's R1–R7 and enrolment) and a G or Q item link to the files that support it, from the
round the version was assembled from, else the round of the version's data year; "无佐证材料"
where there is none; one query of the files' metadata, no file's bytes read."""

import pytest
import re
from contextlib import contextmanager

from chinese_text import leaks, visible_text
from inspector_helpers import COUNTY_A, COUNTY_B, browser, county_url, example_zip, make_users, upload
from sqlalchemy import event
from sqlmodel import Session, select
from svc_helpers import csrf_token

from service.collection.evidence import attach
from service.db.models import CollectionRound, WorkbookVersion
from service.verdicts.evidence import evidence_index

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DATA_YEAR = 2024                     # the example's evaluation_year: version 1's data year
LINK = re.compile(r'<a class="evidence-file" href="([^"]+)"[^>]*>([^<]+)</a>')


def open_round(bureau, county: str, year: int) -> None:
    token = csrf_token(bureau.get(county_url(county, "/collection")).text)
    r = bureau.post(county_url(county, "/collection"), data={"_csrf_token": token, "data_year": str(year)},
                    files={"school_list": ("", b"", "application/octet-stream")})
    assert r.status_code == 200, r.text[:500]


@contextmanager
def county_with_evidence(app, year: int = DATA_YEAR):
    """County A, version 1 and a round of ``year`` with evidence for S01's R6 and students, the
    county's G1 and V1 and S01's Q4; yields the files' ids by what they support."""
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        assert upload(bureau, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200
        open_round(bureau, COUNTY_A, year)
    ids = {}
    with Session(app.state.engine) as s:
        rnd = s.exec(select(CollectionRound).where(CollectionRound.data_year == year)).one()
        for key, school, group, name, data in (("R6", "S01", "R6", "资产台账.pdf", PDF),
                                               ("R6b", "S01", "R6", "设备清单.pdf", PDF + b"2"),
                                               ("students", "S01", "students", "学籍名册.pdf", PDF + b"3"),
                                               ("G1", None, "G1", "学校布局规划.pdf", PDF + b"4"),
                                               ("Q4", "S01", "Q4", "经费预算.pdf", PDF + b"5"),
                                               ("V1", None, "V1", "招生工作方案.pdf", PDF + b"6")):
            entry, problems = attach(s, rnd.id, school, group, name, data, None)
            assert problems == []
            ids[key] = entry.id
    yield ids


def _row(page: str, code: str) -> str:
    return re.search(rf"<tr[^>]*><td>{code} {code}学校</td>.*?</tr>", page, re.S).group(0)


def _item(page: str, code: str) -> str:
    return re.search(rf'<tr[^>]*id="item-{code}">.*?</tr>', page, re.S).group(0)


def test_an_inspector_of_the_county_reaches_a_resource_value_and_a_g_or_q_items_evidence(app):
    with county_with_evidence(app) as ids, browser(app, "inspector_a") as inspector:
        page = inspector.get(county_url(COUNTY_A, "/verdict")).text
        assert f"{DATA_YEAR} 年度数据采集" in page
        s01 = _row(page, "S01")
        links = LINK.findall(s01)
        base = county_url(COUNTY_A, "/evidence/")
        assert (base + str(ids["students"]), "佐证") in links                  # the enrolment's one file
        assert (base + str(ids["R6"]), "佐证1") in links and (base + str(ids["R6b"]), "佐证2") in links
        assert s01.count("无佐证材料") == 6                                     # R1–R5 and R7
        assert LINK.findall(_row(page, "S02")) == [] and _row(page, "S02").count("无佐证材料") == 8
        assert LINK.findall(_item(page, "G1")) == [(base + str(ids["G1"]), "学校布局规划.pdf")]
        assert LINK.findall(_item(page, "Q4")) == [(base + str(ids["Q4"]), "S01：经费预算.pdf")]
        assert "无佐证材料" in _item(page, "G2") and "无佐证材料" in _item(page, "Q1")
        assert leaks(visible_text(page).replace("inspector_a", "")) == []
        r = inspector.get(base + str(ids["R6b"]))
        assert r.status_code == 200 and r.content == PDF + b"2"
        assert r.headers["content-disposition"].startswith("attachment;")
        report = inspector.get(county_url(COUNTY_A, "/report")).text
        assert "evidence-file" not in report and "无佐证材料" not in report    # the printed report: no links


def test_each_veto_item_is_listed_with_its_result_and_evidence(app):
    with county_with_evidence(app) as ids, browser(app, "inspector_a") as inspector:
        page = inspector.get(county_url(COUNTY_A, "/verdict")).text
        v1 = _item(page, "V1")
        assert "以考试方式招生" in v1 and "未触发" in v1
        assert LINK.findall(v1) == [(county_url(COUNTY_A, f"/evidence/{ids['V1']}"), "招生工作方案.pdf")]
        assert all("无佐证材料" in _item(page, f"V{i}") for i in range(2, 8))


def test_another_countys_staff_get_no_link_and_no_file(app):
    with county_with_evidence(app) as ids, browser(app, "bureau_b") as other:
        assert upload(other, COUNTY_B, [("county.zip", example_zip("example-fail"))]).status_code == 200
        page = other.get(county_url(COUNTY_B, "/verdict")).text
        assert "evidence-file" not in page and "本版指标表没有对应年度的数据采集，无佐证材料" in page
        assert other.get(county_url(COUNTY_A, "/verdict"), follow_redirects=False).status_code == 403
        assert other.get(county_url(COUNTY_A, f"/evidence/{ids['G1']}"), follow_redirects=False).status_code == 403
        assert other.get(county_url(COUNTY_B, f"/evidence/{ids['G1']}")).status_code == 404


def test_the_round_the_version_was_assembled_from_is_linked_before_a_round_of_its_data_year(app):
    with county_with_evidence(app, year=DATA_YEAR + 1) as later:
        with browser(app, "inspector_a") as inspector:          # 2025's round: not version 1's data year
            page = inspector.get(county_url(COUNTY_A, "/verdict")).text
            assert "evidence-file" not in page and "本版指标表没有对应年度的数据采集" in page
        with browser(app, "bureau_a") as bureau:
            open_round(bureau, COUNTY_A, DATA_YEAR)             # the data year's round, without files
        with Session(app.state.engine) as s:
            rnd = s.exec(select(CollectionRound).where(CollectionRound.data_year == DATA_YEAR + 1)).one()
            rnd.assembled_version = 1                           # as if version 1 were assembled from it
            s.add(rnd)
            s.commit()
        with browser(app, "inspector_a") as inspector:
            page = inspector.get(county_url(COUNTY_A, "/verdict")).text
            assert f"{DATA_YEAR + 1} 年度数据采集，本版即由其汇总" in page
            assert LINK.findall(_item(page, "G1")) == [(county_url(COUNTY_A, f"/evidence/{later['G1']}"),
                                                        "学校布局规划.pdf")]


def test_the_evidence_of_a_verdict_is_one_query_of_metadata_without_the_files_bytes(app):
    with county_with_evidence(app):
        statements = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        with Session(app.state.engine) as s:
            version = s.exec(select(WorkbookVersion)).one()
            event.listen(app.state.engine, "before_cursor_execute", seen)
            try:
                index = evidence_index(s, version)
            finally:
                event.remove(app.state.engine, "before_cursor_execute", seen)
        assert len(statements) == 1 and "evidence_blob.data" not in statements[0]
        assert [f.filename for f in index.of("S01", "R6")] == ["资产台账.pdf", "设备清单.pdf"]
        assert index.of("S02", "R6") == [] and [f.filename for f in index.of_item("G1")] == ["学校布局规划.pdf"]


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
