"""The roadmap pages (issue 16) on the real app: plans started from the ledger or uploaded, kept as
versions; the timeline of the projection; departments' task lists; the province's acceptance
plan; the mock acceptance report; a workbook version's data year and the years on file."""

import io
import re
from urllib.parse import quote

import pytest
from inspector_helpers import (
    COUNTY_A,
    COUNTY_B,
    EXAMPLE_OF,
    EXAMPLES,
    browser,
    county_url,
    example_zip,
    make_users,
    upload,
)
from openpyxl import load_workbook
from sqlmodel import Session, select
from svc_helpers import csrf_token

from scoring.ledger import cost_by_department, ledger
from scoring.profile import load_profile
from scoring.roadmap import read_plan_bytes
from scoring.verdict import evaluate
from scoring.workbook import read_workbook
from service.db.models import AcceptancePlan, AuditEntry, PlanVersion, WorkbookVersion

PROFILE = load_profile()
FAIL_WB = read_workbook(EXAMPLES / "example-fail", profile=PROFILE)
FAIL_LEDGER = ledger(evaluate(FAIL_WB, None, PROFILE), FAIL_WB, PROFILE)
NO_VETO = (EXAMPLES / "example-fail" / "veto.csv").read_text(encoding="utf-8").replace("V3,yes", "V3,no").encode()


def plans(app, county: str) -> list[PlanVersion]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(PlanVersion).where(PlanVersion.county_name == county).order_by(PlanVersion.version)))


@pytest.fixture
def counties(app):
    """Both example counties with their workbook (uploaded by their bureaus); no campaign."""
    make_users(app)
    for county, bureau in ((COUNTY_A, "bureau_a"), (COUNTY_B, "bureau_b")):
        with browser(app, bureau) as c:
            r = upload(c, county, [(f"{EXAMPLE_OF[county]}.zip", example_zip(EXAMPLE_OF[county]))])
            assert r.status_code == 200 and "处问题" not in r.text, r.text[:3000]


def start_form(page: str) -> tuple[list[tuple[str, list[str]]], str]:
    """The start form's year selects (name, options) and the workbook version it was made for."""
    selects = re.findall(r'<select name="(year_\d+)"[^>]*>(.*?)</select>', page, re.DOTALL)
    version = re.search(r'name="workbook_version" value="(\d+)"', page).group(1)
    return [(n, re.findall(r'<option value="(\d+)"', body)) for n, body in selects], version


def start_plan(c, county: str, pick) -> object:
    """Post the start form with the year ``pick(row_index, options)`` for each row."""
    page = c.get(county_url(county, "/roadmap")).text
    selects, version = start_form(page)
    data = {"_csrf_token": csrf_token(page), "workbook_version": version}
    data |= {name: pick(int(name[5:]), options) for name, options in selects}
    return c.post(county_url(county, "/roadmap/start"), data=data)


def sports_later(index: int, options: list[str]) -> str:
    """The worked plan: the sports ground (S03's R5 row, the ledger's first plan row) in the second
    year, the rest in the first."""
    row = [r for r in FAIL_LEDGER if r.column is not None or r.key is not None][index]
    return options[2] if row.column == "sports_area_m2" else options[1]


def timeline_rows(page: str) -> dict[str, list[str]]:
    section = page.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    out = {}
    for row in re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", section, re.DOTALL):
        out[row[0]] = [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.DOTALL)]
    return out


def test_plan_from_ledger_is_saved_as_a_version_and_read_back(app, counties):
    with browser(app, "bureau_b") as c:
        page = c.get(county_url(COUNTY_B, "/roadmap")).text
        selects, _ = start_form(page)
        assert len(selects) == sum(r.column is not None or r.key is not None for r in FAIL_LEDGER)  # every row
        r = start_plan(c, COUNTY_B, sports_later)
        assert r.status_code == 200 and "第 1 版" in r.text
        again = start_plan(c, COUNTY_B, sports_later)                       # the same choices: the same bytes
        assert again.status_code == 200
    [version] = plans(app, COUNTY_B)
    plan = read_plan_bytes(version.filename, bytes(version.data), FAIL_WB, profile=PROFILE)
    _, options = selects[0]
    assert {(row.school_code, row.column, row.year) for row in plan.rows} == {
        (r.school_code, r.column or r.key, int(options[2] if r.column == "sports_area_m2" else options[1]))
        for r in FAIL_LEDGER if r.column is not None or r.key is not None}
    with Session(app.state.engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "plan_create")).first() is not None
    with browser(app, "inspector_a") as c:                                 # readers see, never start
        assert c.get(county_url(COUNTY_A, "/roadmap")).status_code == 200
        token = csrf_token(c.get(county_url(COUNTY_A, "/roadmap")).text)
        assert c.post(county_url(COUNTY_A, "/roadmap/start"), data={"_csrf_token": token}).status_code == 403


def test_a_bad_plan_upload_lists_located_chinese_problems_and_stores_nothing(app, counties):
    bad = ("年度,学校代码,字段,变化\n"
           "2027,S99,体育运动场馆面积,+100\n"          # unknown school
           "2027,S03,操场,+100\n"                       # unknown column
           "二〇二七,S03,教学仪器设备值,+100\n"           # not a year
           "2027,S03,教学仪器设备值,很多\n").encode()      # not a change
    with browser(app, "bureau_b") as c:
        token = csrf_token(c.get(county_url(COUNTY_B, "/roadmap")).text)
        r = c.post(county_url(COUNTY_B, "/roadmap/plans"), data={"_csrf_token": token},
                   files={"plan": ("规划.csv", bad, "text/csv")})
    assert r.status_code == 422 and "未保存任何内容" in r.text
    found = re.findall(r'<tr class="fail"><td>(.*?)</td><td class="n">(.*?)</td><td>(.*?)</td><td>(.*?)</td>'
                       r'<td>(.*?)</td></tr>', r.text)
    assert {sheet for sheet, *_ in found} == {"规划"}                   # the file as the user named it
    located = {(row, column, value) for _, row, column, value, _ in found}
    assert {("2", "学校代码", "S99"), ("3", "字段", "操场"), ("4", "年度", "二〇二七"), ("5", "变化", "很多")} <= located
    assert all(re.search(r"[\u4e00-\u9fff]", e) and not re.search(r"[A-Za-z]{3,}", e) for *_, e in found)
    assert any(e.startswith("不是指标表中的学校") for *_, e in found)      # the reader's own message
    assert plans(app, COUNTY_B) == []


def test_the_timeline_shows_the_compliance_year_of_the_worked_plan_once_the_veto_is_cleared(app, counties):
    with browser(app, "bureau_b") as c:
        start_plan(c, COUNTY_B, sports_later)
        page = c.get(county_url(COUNTY_B, "/roadmap")).text
        assert "规划期内未达标" in page and "一票否决仍然触发（V3" in page      # why none, plainly
        r = upload(c, COUNTY_B, [("no-veto.zip", example_zip("example-fail", {"veto.csv": NO_VETO}))])
        assert r.status_code == 200 and "处问题" not in r.text
        page = c.get(county_url(COUNTY_B, "/roadmap")).text
        exported = list(load_workbook(io.BytesIO(c.get(county_url(COUNTY_B, "/roadmap/timeline.xlsx")).content))
                        .active.values)
    years = sorted(re.findall(r"<tr><th>(\d{4}) 年</th>", page))
    assert len(years) == 2
    first, second = years
    assert f"预计 {second} 年达到优质均衡标准" in page
    rows = timeline_rows(page)
    assert rows[f"{first} 年"][0] == "未达标" and rows[f"{second} 年"][0] == "达标"       # the resource part
    assert rows[f"{first} 年"][1:3] == ["达标", "达标"]                                    # G and Q in the first
    total, _ = cost_by_department(FAIL_LEDGER)
    base_cost = float(rows["当前"][6].replace(",", ""))
    assert base_cost == pytest.approx(total, abs=1) and float(rows[f"{second} 年"][6].replace(",", "")) == 0
    assert float(rows[f"{second} 年"][7].replace(",", "")) == pytest.approx(total, abs=1)   # the plan's cost
    assert [r[0] for r in exported[1:4]] == ["当前", first, second] and exported[3][1] == "达标"
    assert ("达标年度", int(second)) in {r[:2] for r in exported}                          # the timeline .xlsx


def test_each_department_has_its_task_list_as_xlsx_with_the_rows_it_leads(app, counties):
    with browser(app, "bureau_b") as c:
        page = start_plan(c, COUNTY_B, sports_later).text
        departments = re.findall(r"roadmap/department\.xlsx\?name=([^&]+)&(?:amp;)?plan=1", page)
        assert departments
        leads = {}
        for r in FAIL_LEDGER:
            if r.column is not None or r.key is not None:
                leads.setdefault(r.lead_department, []).append(r)
        assert sorted(departments) == sorted(quote(d) for d in leads)
        for department, rows in leads.items():
            r = c.get(county_url(COUNTY_B, f"/roadmap/department.xlsx?name={quote(department)}&plan=1"))
            assert r.status_code == 200 and quote(department) in r.headers["content-disposition"]
            sheet = load_workbook(io.BytesIO(r.content)).active
            values = list(sheet.values)
            assert values[0][0] == f"{COUNTY_B} {department} 任务清单"
            body = values[2:-1]
            assert sorted(b[1] or "" for b in body) == sorted(x.school_code or "" for x in rows)
            assert values[-1][8] == pytest.approx(sum(x.cost_yuan or 0 for x in rows))
            printed = c.get(county_url(COUNTY_B, f"/roadmap/department?name={quote(department)}&plan=1"))
            assert printed.status_code == 200 and f"{department}任务清单" in printed.text
        assert c.get(county_url(COUNTY_B, "/roadmap/department.xlsx?name=%E6%97%A0&plan=1")).status_code == 404


def test_the_acceptance_plan_flags_a_late_county_and_one_without_a_plan(app, counties):
    with browser(app, "bureau_b") as c:
        upload(c, COUNTY_B, [("no-veto.zip", example_zip("example-fail", {"veto.csv": NO_VETO}))])
        start_plan(c, COUNTY_B, sports_later)
        projected = int(re.search(r"预计 (\d{4}) 年达到", c.get(county_url(COUNTY_B, "/roadmap")).text).group(1))
        token = csrf_token(c.get(county_url(COUNTY_B)).text)
        refused = c.post("/inspector/acceptance", data={"_csrf_token": token, "county": COUNTY_B,
                                                        "planned_year": str(projected)})
        assert refused.status_code == 403                                   # the province's form only
    with browser(app, "province") as c:
        page = c.get("/inspector/acceptance").text
        token = csrf_token(page)
        bad = c.post("/inspector/acceptance", data={"_csrf_token": token, "county": COUNTY_B, "planned_year": "明年"})
        assert bad.status_code == 422 and "应为年份" in bad.text
        r = c.post("/inspector/acceptance", data={"_csrf_token": token, "county": COUNTY_B,
                                                  "planned_year": str(projected - 1)})
        assert r.status_code == 200
        rows = dict(re.findall(r'roadmap">(.*?)</a></td>.*?<td>([^<]*)</td></tr>', r.text, re.DOTALL))
        assert rows[COUNTY_B] == "预计达标晚于计划" and "无规划" in rows[COUNTY_A]
        assert f"{projected}（规划第 1 版）" in r.text
        with Session(app.state.engine) as s:
            assert s.get(AcceptancePlan, COUNTY_B).planned_year == projected - 1
            entry = s.exec(select(AuditEntry).where(AuditEntry.action == "acceptance_plan_set")).one()
            assert entry.detail == {"planned_year": projected - 1}
        page = c.post("/inspector/acceptance", data={"_csrf_token": token, "county": COUNTY_B,
                                                     "planned_year": str(projected)}).text   # on time: not flagged
    assert dict(re.findall(r'roadmap">(.*?)</a></td>.*?<td>([^<]*)</td></tr>', page, re.DOTALL))[COUNTY_B] == "—"


def test_the_mock_acceptance_pdf_is_chinese_text_in_the_order_of_the_parts(app, counties):
    pypdf = pytest.importorskip("pypdf")
    with browser(app, "bureau_b") as c:
        start_plan(c, COUNTY_B, sports_later)
        page = c.get(county_url(COUNTY_B, "/mock-acceptance"))
        r = c.get(county_url(COUNTY_B, "/mock-acceptance.pdf"))
    assert page.status_code == 200 and r.status_code == 200 and r.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages).replace(" ", "")
    assert f"{COUNTY_B}县域义务教育优质均衡发展模拟验收自评报告" in text
    order = [text.index(f"{i}.{h}") for i, h in enumerate(("资源配置", "政府保障程度", "教育质量", "社会认可度", "一票否决",
                                                            "前置条件", "尚存短板", "时间表和路线图", "责任单位"), 1)]
    assert order == sorted(order)
    assert "财政局" in text and "规划期内未达标" in text


def test_a_workbook_version_records_its_data_year_and_the_years_on_file_are_monitored(app, counties):
    county = (EXAMPLES / "example-pass" / "county.csv").read_text(encoding="utf-8")
    without_year = "\n".join(line for line in county.splitlines() if not line.startswith("evaluation_year")) + "\n"
    schools = (EXAMPLES / "example-pass" / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = schools[0].split(",")
    col = header.index("sports_area_m2")
    cells = schools[1].split(",")
    cells[col] = str(float(cells[col]) * 0.5)                              # the first school's ground, halved
    older = "\n".join([schools[0], ",".join(cells), *schools[2:]]).encode() + b"\n"
    with browser(app, "bureau_a") as c:
        token = csrf_token(c.get(county_url(COUNTY_A)).text)
        r = c.post(county_url(COUNTY_A, "/workbooks"), data={"_csrf_token": token, "data_year": "2022"},
                   files=[("workbook", ("old.zip", example_zip("example-pass", {"county.csv": without_year.encode(),
                                                                                "schools.csv": older}),
                                        "application/zip"))])
        assert r.status_code == 200 and "处问题" not in r.text
        r = c.post(county_url(COUNTY_A, "/workbooks"), data={"_csrf_token": token, "data_year": "去年"},
                   files=[("workbook", ("x.zip", example_zip("example-pass"), "application/zip"))])
        assert r.status_code == 422 and "应为年份" in r.text
        page = c.get(county_url(COUNTY_A, "/monitoring")).text
    with Session(app.state.engine) as s:
        years = [v.data_year for v in s.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == COUNTY_A)
                                             .order_by(WorkbookVersion.version))]
    assert years == [2024, 2022]                      # the county sheet's evaluation_year, else the form's
    assert "已有统计年度：2022、2024 年" in page
    assert page.count("<svg") >= 2 and "R5 生均体育运动场馆面积" in page


def test_an_uploaded_plan_is_kept_as_a_new_version_and_the_same_file_again_is_the_same_version(app, counties):
    with browser(app, "bureau_b") as c:
        start_plan(c, COUNTY_B, sports_later)
        saved = c.get(county_url(COUNTY_B, "/roadmap/plan.xlsx?plan=1")).content
        token = csrf_token(c.get(county_url(COUNTY_B, "/roadmap")).text)
        r = c.post(county_url(COUNTY_B, "/roadmap/plans"), data={"_csrf_token": token},
                   files={"plan": ("规划.xlsx", saved, "application/octet-stream")})
        assert r.status_code == 200 and len(plans(app, COUNTY_B)) == 1          # the same bytes
        csv = "年度,学校代码,字段,变化\n2027,S03,体育运动场馆面积,+1152.8\n".encode()
        r = c.post(county_url(COUNTY_B, "/roadmap/plans"), data={"_csrf_token": token},
                   files={"plan": ("规划.csv", csv, "text/csv")})
        assert r.status_code == 200 and "第 2 版" in r.text
    first, second = plans(app, COUNTY_B)
    assert bytes(first.data) == saved                                            # never overwritten
    assert second.filename == "规划.xlsx"                                        # a CSV is kept as the plan .xlsx
    [row] = read_plan_bytes(second.filename, bytes(second.data), FAIL_WB, profile=PROFILE).rows
    assert (row.year, row.school_code, row.column, row.value) == (2027, "S03", "sports_area_m2", 1152.8)


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
