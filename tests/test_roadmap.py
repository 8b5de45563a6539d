"""The roadmap (spec/roadmap.md): one test per rule, named after it."""

import dataclasses
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from scoring.errors import InputError
from scoring.ledger import ledger
from scoring.profile import load_profile
from scoring.responses import read_responses
from scoring.roadmap import (
    Plan,
    plan_from_ledger,
    project,
    projected_workbook,
    read_plan,
    read_plan_bytes,
    read_plan_csvs,
    write_plan,
)
from scoring.verdict import evaluate
from scoring.workbook import SCHOOL_COLUMNS, read_workbook

EXAMPLES = Path(__file__).parent / "examples"
PROFILE = load_profile()
FAIL_WB = read_workbook(EXAMPLES / "example-fail", profile=PROFILE)
PASS_WB = read_workbook(EXAMPLES / "example-pass", profile=PROFILE)
FAIL_RESPONSES = read_responses(EXAMPLES / "example-fail" / "responses.csv", set(FAIL_WB.schools["school_code"]))
NO_VETO = dataclasses.replace(FAIL_WB, veto={f"V{i}": False for i in range(1, 8)})


def plan_csv(text: str, workbook=FAIL_WB, new_schools: str | None = None, profile=PROFILE) -> Plan:
    files = {"plan.csv": text.encode("utf-8")}
    if new_schools is not None:
        files["new_schools.csv"] = new_schools.encode("utf-8")
    return read_plan_csvs(files, workbook, profile=profile)


def cell(workbook, code, column):
    return float(workbook.schools.set_index("school_code").at[code, column])


def problems_of(call) -> list:
    with pytest.raises(InputError) as info:
        call()
    return list(info.value.problems)


# ---- the projection: application order ------------------------------------------------------

def test_application_order_rows_of_year_up_to_y_in_table_order():
    # Table order, not year order: in 2027 the 2027 "=100" comes first, then the 2026 "+10".
    plan = plan_csv("year,school_code,column,change\n"
                    "2027,S03,qualified_teachers_primary,=100\n"
                    "2026,S03,qualified_teachers_primary,+10\n"
                    "2028,S03,qualified_teachers_primary,+1\n")
    assert plan.years == (2026, 2027, 2028)
    base = cell(FAIL_WB, "S03", "qualified_teachers_primary")
    y2026, _ = projected_workbook(FAIL_WB, plan, 2026, PROFILE)
    y2027, _ = projected_workbook(FAIL_WB, plan, 2027, PROFILE)
    y2028, _ = projected_workbook(FAIL_WB, plan, 2028, PROFILE)
    assert cell(y2026, "S03", "qualified_teachers_primary") == base + 10    # only rows of year ≤ 2026
    assert cell(y2027, "S03", "qualified_teachers_primary") == 110          # =100 then +10
    assert cell(y2028, "S03", "qualified_teachers_primary") == 111
    assert cell(FAIL_WB, "S03", "qualified_teachers_primary") == base       # the base is untouched


# ---- set vs add -----------------------------------------------------------------------------

def test_set_vs_add():
    plan = plan_csv("year,school_code,column,change\n"
                    "2026,S01,sports_area_m2,\"+1,000\"\n"
                    "2026,S02,sports_area_m2,=5000\n"
                    "2026,S04,sports_area_m2,+(-47)\n"
                    "2026,S05,max_class_size_primary,-7\n"
                    "2026,,G14_rural_tilt,=否\n"
                    "2026,,G9,+(-5%)\n"
                    "2026,,G7,=7000\n"
                    "2026,,Q6,=良好\n")
    wb, changes = projected_workbook(FAIL_WB, plan, 2026, PROFILE)
    assert cell(wb, "S01", "sports_area_m2") == pytest.approx(cell(FAIL_WB, "S01", "sports_area_m2") + 1000)
    assert cell(wb, "S02", "sports_area_m2") == 5000                       # =x sets
    assert cell(wb, "S04", "sports_area_m2") == pytest.approx(4900.0)      # +(-47): x may be negative
    assert cell(wb, "S05", "max_class_size_primary") == 45                 # "-7" is "+(-7)"
    assert wb.county["G14_rural_tilt"] is False and wb.county["Q6"] == "良好" and wb.county["G7"] == 7000
    assert wb.county["G9"] == pytest.approx(FAIL_WB.county["G9"] - 0.05)
    s02 = next(c for c in changes if c.school_code == "S02")
    assert s02.delta == pytest.approx(5000 - cell(FAIL_WB, "S02", "sports_area_m2"))


# ---- new schools ----------------------------------------------------------------------------

NEW_SCHOOL_HEADER = ",".join([*SCHOOL_COLUMNS, "opens_year"])
NEW_SCHOOL = ("N01,新城小学,primary,urban,400,0,0,20,0,5,0,4,0,2000,3200,900000,10,12,1,1,100,96,40,,400,360000,20000,2027")


def test_new_schools_open_in_their_year_and_take_pupils_over():
    plan = plan_csv("year,school_code,column,change\n"
                    "2027,S01,students_primary,+(-400)\n"
                    "2028,N01,qualified_teachers_primary,+2\n",
                    new_schools=f"{NEW_SCHOOL_HEADER}\n{NEW_SCHOOL}\n")
    assert plan.years == (2027, 2028)
    roadmap = project(FAIL_WB, plan, PROFILE)
    y2027, y2028 = roadmap.years
    assert "N01" in set(y2027.workbook.schools["school_code"]) and "N01" not in set(FAIL_WB.schools["school_code"])
    assert cell(y2027.workbook, "S01", "students_primary") == cell(FAIL_WB, "S01", "students_primary") - 400
    assert cell(y2028.workbook, "N01", "qualified_teachers_primary") == 22
    # the new school is evaluated like any other: it has a section in the verdict of 2027
    assert any(s.school_code == "N01" for s in y2027.verdict.resources.sections)
    # its facilities are costs of the plan in its opening year
    opened = [c for c in y2027.changes if c.new_school]
    assert {c.column for c in opened} >= {"teaching_area_m2", "sports_area_m2", "equipment_value_yuan"}


def test_new_schools_rows_before_opening_and_reused_codes_are_errors():
    problems = problems_of(lambda: plan_csv(
        "year,school_code,column,change\n2026,N01,sports_area_m2,+10\n",
        new_schools=f"{NEW_SCHOOL_HEADER}\n{NEW_SCHOOL}\n{NEW_SCHOOL.replace('N01', 'S01').replace(',2027', ',')}\n"))
    [early] = [p for p in problems if p.sheet == "plan"]
    assert (early.place, early.row, early.heading, early.value) == ("plan", 2, "year", "2026")
    assert "早于新建学校 N01 的开办年度 2027" in early.expected
    assert any(p.sheet == "new_schools" and p.place == "new_schools" and p.row == 3 and p.column == "school_code"
               and p.value == "S01" and "新建学校须用新的代码" in p.expected for p in problems)
    assert any(p.sheet == "new_schools" and p.row == 3 and p.column == "opens_year"
               and "开办年度" in p.expected for p in problems)


# ---- the compliance year --------------------------------------------------------------------

def fixing_plan(workbook, resource_year=2027, other_year=2026, responses=None) -> Plan:
    rows = ledger(evaluate(workbook, responses, PROFILE), workbook, PROFILE, responses)
    return plan_from_ledger(rows, lambda r: resource_year if r.get("rule") == "R" else other_year)


def test_the_compliance_year_is_the_first_year_passing_r_g_and_q_without_veto():
    roadmap = project(NO_VETO, fixing_plan(NO_VETO), PROFILE)
    assert [y.year for y in roadmap.years] == [2026, 2027]
    assert [y.passed for y in roadmap.years] == [False, True]
    assert roadmap.compliance_year == 2027
    # without responses, S is no_data and left out; the verdict itself cannot pass
    assert roadmap.to_dict()["years"][1]["parts"]["recognition"]["status"] == "no_data"
    assert not roadmap.years[1].verdict.passed


def test_the_compliance_year_is_null_with_a_veto():
    roadmap = project(FAIL_WB, fixing_plan(FAIL_WB), PROFILE)   # V3: nothing in the data removes it
    assert roadmap.years[-1].verdict.resources.passed and roadmap.compliance_year is None


def test_the_compliance_year_needs_s_when_responses_are_given():
    roadmap = project(NO_VETO, fixing_plan(NO_VETO), PROFILE, FAIL_RESPONSES)   # S2 fails every year
    assert roadmap.compliance_year is None and roadmap.with_recognition
    assert roadmap.to_dict()["years"][1]["parts"]["recognition"]["status"] != "no_data"


# ---- costs ----------------------------------------------------------------------------------

def test_costs_ledger_cost_of_the_remaining_rows_and_plan_cost_up_to_each_year():
    roadmap = project(NO_VETO, fixing_plan(NO_VETO), PROFILE)
    base_rows = [r for r in roadmap.base.ledger if r.cost_yuan is not None]
    assert {r.column for r in base_rows} == {"sports_area_m2", "equipment_value_yuan"}
    sports = next(r for r in base_rows if r.column == "sports_area_m2")
    assert sports.cost_yuan == pytest.approx(sports.increase * PROFILE.costs["sports_area_m2"])
    assert roadmap.base.ledger_cost_yuan == pytest.approx(sum(r.cost_yuan for r in base_rows))
    y2026, y2027 = roadmap.years
    assert y2026.ledger_cost_yuan == pytest.approx(roadmap.base.ledger_cost_yuan)   # R rows are for 2027
    assert y2026.plan_cost_yuan == 0.0                                              # G5 and Q6: no unit cost
    assert y2027.ledger_cost_yuan == 0.0 and [r.rule for r in y2027.ledger] == ["S1"]   # no survey given
    assert y2027.plan_cost_yuan == pytest.approx(roadmap.base.ledger_cost_yuan, abs=1.0)


def test_costs_come_from_the_profile(tmp_path):
    override = tmp_path / "county.toml"
    override.write_text("[costs]\nsports_area_m2 = 1000\nequipment_value_yuan = 0.5\n", encoding="utf-8")
    profile = load_profile(override)
    roadmap = project(NO_VETO, fixing_plan(NO_VETO), profile)
    rows = {r.column: r for r in roadmap.base.ledger if r.cost_yuan is not None}
    assert rows["sports_area_m2"].cost_yuan == pytest.approx(rows["sports_area_m2"].increase * 1000)
    assert rows["equipment_value_yuan"].cost_yuan == pytest.approx(rows["equipment_value_yuan"].increase * 0.5)


# ---- lead department ------------------------------------------------------------------------

def test_lead_department_from_the_profile_or_the_plan_and_a_cost_counted_once_under_it():
    plan = plan_csv("年度,学校代码,字段,变化,责任单位\n"
                    "2026,S03,体育运动场馆面积,+100,\n"
                    "2026,S03,教学仪器设备值,+1000,教育局、财政局\n"
                    "2026,,G1,=是,\n")
    sports, equipment, g1 = plan.rows
    assert sports.departments == ("财政局", "发改委", "住建局", "教育局") and sports.lead_department == "财政局"
    assert equipment.departments == ("教育局", "财政局")
    assert g1.departments == ("自然资源局", "教育局")
    [year] = project(NO_VETO, plan, PROFILE).years
    assert dict(year.plan_cost_by_department) == {
        "财政局": pytest.approx(100 * PROFILE.costs["sports_area_m2"]), "教育局": pytest.approx(1000.0)}
    assert year.plan_cost_yuan == pytest.approx(100 * PROFILE.costs["sports_area_m2"] + 1000)
    # the remaining ledger's costs, by lead department (R4-R6 lead: 财政局)
    assert set(year.cost_by_department) == {"财政局"}
    assert year.ledger_cost_yuan == pytest.approx(sum(year.cost_by_department.values()))


# ---- located plan errors --------------------------------------------------------------------

BAD_ROWS = [("2026x", "S03", "sports_area_m2", "+10"),
            ("2026", "S99", "sports_area_m2", "+10"),
            ("2026", "S03", "no_such_column", "+10"),
            ("2026", "S03", "sports_area_m2", "10"),
            ("2026", "S03", "sports_area_m2", "+abc"),
            ("2026", "", "G1", "+1"),
            ("2026", "", "sports_area_m2", "+1"),
            ("2026", "S03", "sports_area_m2", "=-5")]
EXPECTED = [(2, "year", "2026x", "不是年份：应为整数年份"),
            (3, "school_code", "S99", "不是指标表中的学校"),
            (4, "column", "no_such_column", "不是学校表的列，也不是县域表的指标"),
            (5, "change", "10", "不是变化：应为 +x（增加 x，可为负数）或 =x（设为 x）"),
            (6, "change", "+abc", "x 为数字"),
            (7, "change", "+1", "“G1 学校规划布局合理”是“是/否”项，应为 =是 或 =否"),
            (8, "school_code", None, "“体育运动场馆面积”是学校表的列，应填写学校代码"),
            (9, "change", "=-5", "应为不小于 0 的数字")]
CHINESE = {"year": "年度", "school_code": "学校代码", "column": "字段", "change": "变化"}


def _csv(header, rows) -> bytes:
    return ("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n").encode("utf-8")


def _xlsx(sheet_name, header, rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_name
    sheet.append(list(header))
    for i, r in enumerate(rows, start=2):
        for j, value in enumerate(r, start=1):
            c = sheet.cell(row=i, column=j)
            c.value, c.data_type = value, "s"     # as typed into a text cell: "=-5" is no formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _assert_located(problems, sheet, headers):
    """Each problem on the plan sheet, named as the user wrote it, with the Chinese expectation."""
    found = [(p.place, p.row, p.heading, p.value, p.expected) for p in problems]
    for row, column, value, why in EXPECTED:
        match = [p for p in problems if (p.sheet, p.place, p.row, p.column, p.heading, p.value)
                 == ("plan", sheet, row, column, headers[column], value)]
        assert match and why in match[0].expected, (row, column, found)
        assert str(match[0]).startswith(f"{sheet} 第 {row} 行 {headers[column]}：")
    assert len(problems) == len(EXPECTED), found


@pytest.mark.parametrize("chinese", [False, True], ids=["english", "chinese"])
def test_located_plan_errors_csv(chinese):
    headers = CHINESE if chinese else {k: k for k in CHINESE}
    data = _csv(headers.values(), BAD_ROWS)
    problems = problems_of(lambda: read_plan_bytes("规划.csv" if chinese else "plan.csv", data, FAIL_WB))
    _assert_located(problems, "规划" if chinese else "plan", headers)      # a CSV is named by its stem


@pytest.mark.parametrize("chinese", [False, True], ids=["english", "chinese"])
def test_located_plan_errors_xlsx(chinese):
    headers = CHINESE if chinese else {k: k for k in CHINESE}
    sheet = "规划" if chinese else "plan"
    data = _xlsx(sheet, headers.values(), BAD_ROWS)
    problems = problems_of(lambda: read_plan_bytes("plan.xlsx", data, FAIL_WB))
    _assert_located(problems, sheet, headers)
    assert str(problems[0]).startswith(f'{sheet} 第 2 行 {headers["year"]}：“2026x”')


def test_located_plan_errors_missing_columns_sheet_and_a_negative_result():
    problems = problems_of(lambda: plan_csv("year,school_code,note\n2026,S03,x\n"))
    assert {(p.column, p.row) for p in problems} == {("column", 1), ("change", 1)}
    assert {p.expected for p in problems} == {"缺少此列：请在表头加上“字段”（或 column）",
                                              "缺少此列：请在表头加上“变化”（或 change）"}
    problems = problems_of(lambda: plan_csv("年度,学校代码\n2026,S03\n"))   # Chinese headers: Chinese names
    assert {p.heading for p in problems} == {"字段", "变化"}
    [p] = problems_of(lambda: read_plan_bytes("x.xlsx", _xlsx("other", ["a"], []), FAIL_WB))
    assert (p.place, p.expected) == ("x.xlsx", "没有规划：应有名为“规划”（或 plan）的工作表或 CSV 文件")
    plan = plan_csv("year,school_code,column,change\n2026,S03,sports_area_m2,+(-99999)\n")
    [p] = problems_of(lambda: project(FAIL_WB, plan, PROFILE))
    assert (p.sheet, p.place, p.row, p.column, p.heading, p.value) == \
        ("plan", "plan", 2, "change", "change", "+(-99999)")
    assert p.expected.startswith("使学校 S03 的“体育运动场馆面积”在 2026 年变为 ")
    assert p.expected.endswith("：应为不小于 0 的数字")


def test_located_plan_errors_in_new_schools_use_the_header_as_written():
    header = ",".join([*SCHOOL_COLUMNS.values(), "开办年度"])
    bad = NEW_SCHOOL.replace(",2000,", ",abc,")
    problems = problems_of(lambda: plan_csv("年度,学校代码,字段,变化\n", new_schools=f"{header}\n{bad}\n"))
    assert [(p.sheet, p.place, p.row, p.column, p.heading, p.value) for p in problems] == [
        ("new_schools", "new_schools", 2, "teaching_area_m2", "教学及辅助用房面积", "abc")]
    assert problems[0].expected == "应为数字"


# ---- the failing example, plan over two years -----------------------------------------------

def test_failing_example_ledger_as_a_two_year_plan_passes_resources_in_the_second_year():
    rows = ledger(evaluate(FAIL_WB, None, PROFILE), FAIL_WB, PROFILE)
    # first year: the equipment (R6, u* to its floor) and the county items; second: the sports ground
    plan = plan_from_ledger(rows, lambda r: 2026 if r.get("column") == "sports_area_m2" else 2025)
    assert {(r.school_code, r.column, r.year) for r in plan.rows} == {
        ("S03", "sports_area_m2", 2026), ("S03", "equipment_value_yuan", 2025),
        ("S05", "max_class_size_primary", 2025), (None, "Q6", 2025)}
    roadmap = project(FAIL_WB, plan, PROFILE)
    first, second = roadmap.years
    assert (first.year, second.year) == (2025, 2026)
    assert not first.verdict.resources.passed and second.verdict.resources.passed
    assert first.verdict.guarantee.passed and first.verdict.quality.passed
    assert roadmap.compliance_year is None        # V3 stays: nothing in the data removes it
    assert roadmap.base.ledger_cost_yuan == pytest.approx(second.plan_cost_yuan, abs=1.0)


def test_plan_from_ledger_round_trips_through_the_template(tmp_path):
    rows = ledger(evaluate(FAIL_WB, None, PROFILE), FAIL_WB, PROFILE)
    plan = plan_from_ledger(rows, 2025, years_by_school={"S03": 2026})
    path = tmp_path / "plan.xlsx"
    write_plan(plan, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["规划", "新建学校"]
    assert [c.value for c in book["规划"][1]] == ["年度", "学校代码", "字段", "变化", "责任单位", "备注"]
    back = read_plan(path, FAIL_WB)
    assert [(r.year, r.school_code, r.column, r.mode, r.value, r.departments) for r in back.rows] == \
        [(r.year, r.school_code, r.column, r.mode, r.value, r.departments) for r in plan.rows]
    assert read_plan_bytes("t.xlsx", write_plan(), FAIL_WB).rows == ()    # the empty template reads


# ---- CLI and JSON ---------------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scoring", *args], check=False, capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent, timeout=120)


def test_cli_json_years_parts_and_veto_are_what_evaluate_returns(tmp_path):
    plan = tmp_path / "plan.csv"
    plan.write_text("year,school_code,column,change\n2026,S03,sports_area_m2,+1152.8\n"
                    "2026,S03,equipment_value_yuan,+72100\n", encoding="utf-8")
    result = run("roadmap", str(EXAMPLES / "example-fail"), str(plan), "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["county"], out["base_year"], out["compliance_year"]) == ("示范县", 2024, None)
    [year] = out["years"]
    projected, _ = projected_workbook(FAIL_WB, read_plan(plan, FAIL_WB), 2026, PROFILE)
    verdict = json.loads(json.dumps(evaluate(projected, None, PROFILE).to_dict(), ensure_ascii=False))
    assert year["parts"] == verdict["parts"] and year["veto"] == verdict["veto"] == {"triggered": ["V3"],
                                                                                    "reason": verdict["veto"]["reason"]}
    assert year["parts"]["resources"]["passed"] is True and year["passed"] is False
    assert year["parts"]["recognition"]["status"] == "no_data"
    for key in ("ledger_cost_yuan", "cost_by_department", "plan_cost_yuan"):
        assert key in year
    assert year["plan_cost_yuan"] == pytest.approx(1152.8 * PROFILE.costs["sports_area_m2"] + 72100)
    text = run("roadmap", str(EXAMPLES / "example-fail"), str(plan), "--format", "text")
    assert text.returncode == 0 and "示范县 路线图" in text.stdout and "2026 年" in text.stdout


def test_exit_2_with_every_problem_on_stderr_and_nothing_on_stdout(tmp_path):
    plan = tmp_path / "规划.csv"
    plan.write_bytes(_csv(CHINESE.values(), BAD_ROWS))
    result = run("roadmap", str(EXAMPLES / "example-fail"), str(plan))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(EXPECTED) and lines[0] == "规划 第 2 行 年度：“2026x”不是年份：应为整数年份，如 2026"
    # No English word once the values as written (“…” after the header) are set aside: only file
    # extensions, codes (G1, S03, sports_area_m2) and the x of "+x" may remain.
    told = re.sub(r"：“[^”]*”", "：", result.stderr)
    words = re.findall(r"\.?[A-Za-z][A-Za-z0-9_]*", told)
    assert all(w.startswith(".") or w == "x" or re.fullmatch(r"[A-Z]+\d+\w*|[a-z0-9]+(_[a-z0-9]+)+", w)
               for w in words), words
    missing = run("roadmap", str(EXAMPLES / "example-fail"), str(tmp_path / "absent.xlsx"))
    assert missing.returncode == 2 and missing.stdout == "" and missing.stderr.strip() == "absent.xlsx：文件不存在"


def test_a_plan_change_reads_in_words_on_pages():
    from scoring.roadmap import PlanRow
    rate = PlanRow(2027, None, "G9", "set", 0.95, ("教育局",), None, "=0.95", row=2)
    assert rate.change_text() == "=0.95" and rate.change_words() == "设为 95%"
    assert PlanRow(2027, None, "G1", "set", True, ("教育局",), None, "=是", row=3).change_words() == "改为是"
    assert PlanRow(2027, "S01", "music_rooms", "add", -2.0, ("教育局",), None, "+(-2)", row=4).change_words() == "减少 2"
