"""Issue 21, findings 4 and 7 in the readers and the plan writer: school codes that a spreadsheet
would run as formulas and invisible control characters are refused where text cells are read;
the plan .xlsx keeps every text as written."""

import io
from pathlib import Path

import openpyxl
import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from scoring.roadmap import read_plan_bytes, read_plan_csvs, write_plan
from scoring.workbook import read_workbook, read_workbook_csvs

EXAMPLE = Path(__file__).parent / "examples" / "example-fail"
PROFILE = load_profile()
WB = read_workbook(EXAMPLE, profile=PROFILE)
HEADER = "year,school_code,column,change,department,note\n"


def workbook_with(old: str, new: str, sheet: str = "schools.csv"):
    files = {n: (EXAMPLE / n).read_text(encoding="utf-8") for n in ("schools.csv", "county.csv", "veto.csv")}
    assert old in files[sheet]
    files[sheet] = files[sheet].replace(old, new, 1)
    return lambda: read_workbook_csvs({n: t.encode() for n, t in files.items()}, profile=PROFILE)


def problems(call) -> list:
    with pytest.raises(InputError) as info:
        call()
    return list(info.value.problems)


@pytest.mark.parametrize("code", ['=HYPERLINK("http://x","y")', "+1", "-S01", "@SUM(A1)"])
def test_school_codes_starting_with_a_formula_sign_are_refused(code):
    [p] = problems(workbook_with("\nS01,", f"\n\"{code.replace(chr(34), chr(34) * 2)}\","))
    assert (p.sheet, p.row, p.column, p.value) == ("schools", 2, "school_code", code)
    assert "不能以 =、+、-、@ 开头" in p.expected


def test_a_control_character_in_a_school_name_or_the_county_name_is_refused():
    [p] = problems(workbook_with("S01学校", "S01\x01学校"))
    assert (p.row, p.column, p.value) == (2, "school_name", "S01\x01学校") and "控制字符" in p.expected
    county = (EXAMPLE / "county.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[1]
    [p] = problems(workbook_with(f",{county}", f",{county}\x07", "county.csv"))
    assert p.column == "county_name" and "控制字符" in p.expected


def test_a_nul_in_a_plan_csv_is_refused_where_read_not_a_500_in_write_plan():
    data = (HEADER + "2026,S01,teaching_area_m2,+1,教育局,第一\x00期\n").encode()
    [p] = problems(lambda: read_plan_bytes("plan.csv", data, WB, profile=PROFILE))
    assert (p.row, p.column) == (2, "note") and "控制字符" in p.expected


def test_a_csv_plan_stored_as_xlsx_keeps_formula_like_text_as_text():
    plan = read_plan_csvs({"plan.csv": (HEADER + "2026,S01,teaching_area_m2,+1,=2+3,=2+3\n").encode()}, WB,
                          profile=PROFILE)
    assert plan.rows[0].departments == ("=2+3",) and plan.rows[0].note == "=2+3"
    data = write_plan(plan)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["规划"]
    assert [(c.value, c.data_type) for c in sheet[2][4:6]] == [("=2+3", "s"), ("=2+3", "s")]
    again = read_plan_bytes("plan.xlsx", data, WB, profile=PROFILE)
    assert again.rows[0].departments == ("=2+3",) and again.rows[0].note == "=2+3"
