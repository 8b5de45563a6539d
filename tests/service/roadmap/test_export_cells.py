"""Issue 21, findings 4 and 7 in the roadmap's files: the task lists and timelines go to other
departments; no cell of them runs as a formula, and a control character breaks none of them."""

import pytest
import io
from urllib.parse import quote

from inspector_helpers import COUNTY_B, EXAMPLES, browser, county_url, example_zip, make_users, upload
from openpyxl import load_workbook
from svc_helpers import csrf_token

from service.roadmap import exports as X

LINK = '=HYPERLINK("http://x.example","y")'
DEPARTMENT = "=1+2"


def cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]


def assert_inert(data: bytes) -> list[str]:
    found = cells(data)
    assert found and not [c.coordinate for c in found if c.data_type == "f"]
    texts = [c.value for c in found if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    return texts


def test_task_lists_and_timelines_neutralise_every_text_cell(app):
    make_users(app)
    schools = (EXAMPLES / "example-fail" / "schools.csv").read_text(encoding="utf-8")
    schools = schools.replace("S03学校", '"' + LINK.replace('"', '""') + '"', 1)
    with browser(app, "bureau_b") as c:
        r = upload(c, COUNTY_B, [("b.zip", example_zip("example-fail", {"schools.csv": schools.encode()}))])
        assert r.status_code == 200 and "处问题" not in r.text
        token = csrf_token(c.get(county_url(COUNTY_B, "/roadmap")).text)
        plan = f"年度,学校代码,字段,变化,责任单位,备注\n2026,S03,体育运动场馆面积,+100,{DEPARTMENT},@SUM(A1)\n"
        assert c.post(county_url(COUNTY_B, "/roadmap/plans"), data={"_csrf_token": token},
                      files={"plan": ("规划.csv", plan.encode(), "text/csv")}).status_code == 200
        tasks = c.get(county_url(COUNTY_B, f"/roadmap/department.xlsx?name={quote(DEPARTMENT)}"))
        timeline = c.get(county_url(COUNTY_B, "/roadmap/timeline.xlsx"))
    assert tasks.status_code == 200 and timeline.status_code == 200
    texts = assert_inert(tasks.content)
    assert "'" + LINK in texts and "'" + DEPARTMENT in texts and "'@SUM(A1)" in texts
    assert any(DEPARTMENT in t for t in assert_inert(timeline.content))


def test_a_control_character_breaks_no_roadmap_file():
    row = {k: "" for k, _ in X.TASK_HEADERS} | {"year": 2026, "cost": 1.0, "school_name": "一\x01小",
                                                 "note": "\x00备注"}
    texts = assert_inert(X.tasks_xlsx("示范县", "教育\x02局", [row]))
    assert "一小" in texts and "备注" in texts and "示范县 教育局 任务清单" in texts


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
