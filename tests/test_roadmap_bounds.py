"""Issue 21, finding 3: every plan format is bounded in rows and years before it is projected
(each distinct year is one evaluation of the whole county)."""

import dataclasses
import io
import zipfile
from pathlib import Path

import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from scoring.roadmap import YEARS_AHEAD, read_plan_bytes, write_plan
from scoring.workbook import MAX_ROWS, read_workbook

EXAMPLES = Path(__file__).parent / "examples"
PROFILE = load_profile()
WB = read_workbook(EXAMPLES / "example-fail", profile=PROFILE)   # evaluation_year 2024
HEADER = "year,school_code,column,change\n"


def problems(filename: str, data: bytes, workbook=WB) -> list:
    with pytest.raises(InputError) as info:
        read_plan_bytes(filename, data, workbook, profile=PROFILE)
    return list(info.value.problems)


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    return buf.getvalue()


def long_plan() -> bytes:
    return (HEADER + "2026,S01,teaching_area_m2,+1\n" * (MAX_ROWS + 1)).encode()


@pytest.mark.parametrize("fmt", ["csv", "zip"])
def test_a_plan_csv_of_more_than_5000_rows_is_refused_unread(fmt):
    data = long_plan() if fmt == "csv" else zipped("规划.csv", long_plan())
    [p] = problems(f"plan.{fmt}", data)
    assert p.sheet_label in ("plan", "规划") and p.row == MAX_ROWS + 1
    assert f"超过 {MAX_ROWS} 行" in p.expected


def test_plan_years_lie_within_15_years_of_the_workbooks_data_year():
    assert YEARS_AHEAD == 15
    ok = read_plan_bytes("plan.csv", (HEADER + "2024,S01,teaching_area_m2,+1\n2039,S01,teaching_area_m2,+15\n").encode(), WB, profile=PROFILE)
    assert [r.year for r in ok.rows] == [2024, 2039]
    rows = "".join(f"{y},S01,teaching_area_m2,+1\n" for y in (2023, 2040, 2146))
    found = problems("plan.csv", (HEADER + rows).encode())
    assert [(p.row, p.value) for p in found] == [(2, "2023"), (3, "2040"), (4, "2146")]
    assert all("应在 2024 至 2039 年之间" in p.expected and "评估年度 2024 年" in p.expected for p in found)


def test_a_hostile_plan_of_120_years_is_refused_in_every_format():
    rows = "".join(f"{y},S01,teaching_area_m2,+1\n" for y in range(2027, 2147))
    csv = (HEADER + rows).encode()
    from scoring.roadmap import read_plan_csvs
    plan_xlsx = write_plan(dataclasses.replace(
        read_plan_csvs({"plan.csv": (HEADER + "2027,S01,teaching_area_m2,+1\n").encode()}, WB, profile=PROFILE)))
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(plan_xlsx))
    for y in range(2028, 2147):
        book["规划"].append([y, "S01", "教学及辅助用房面积", "+1"])
    buf = io.BytesIO()
    book.save(buf)
    for name, data in (("plan.csv", csv), ("plan.zip", zipped("plan.csv", csv)), ("plan.xlsx", buf.getvalue())):
        found = problems(name, data)
        assert len(found) == 2146 - 2039, name
        assert {p.column for p in found} == {"year"}


def test_new_schools_open_within_the_plan_years():
    header, s01 = (EXAMPLES / "example-fail" / "schools.csv").read_text(encoding="utf-8").splitlines()[:2]
    new = f"{header},opens_year\nN01{s01[3:]},2090\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("plan.csv", HEADER + "2026,S01,teaching_area_m2,+1\n")
        z.writestr("new_schools.csv", new)
    [p] = problems("plan.zip", buf.getvalue())
    assert p.sheet == "new_schools" and p.value == "2090" and "应在 2024 至 2039 年之间" in p.expected


def test_without_a_data_year_the_window_starts_at_the_plans_earliest_year():
    county = {k: v for k, v in WB.county.items() if k != "evaluation_year"}
    wb = dataclasses.replace(WB, county=county)
    rows = "2030,S01,teaching_area_m2,+1\n2045,S01,teaching_area_m2,+1\n2046,S01,teaching_area_m2,+1\n"
    [p] = problems("plan.csv", (HEADER + rows).encode(), wb)
    assert p.value == "2046" and "应在 2030 至 2045 年之间" in p.expected and "未填评估年度" in p.expected
