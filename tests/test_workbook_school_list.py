"""workbook.md "A school list alone": the identity columns of the schools sheet, as an .xlsx,
a .csv or a full workbook's 学校 sheet, every problem located; other columns ignored."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scoring.errors import WorkbookError
from scoring.workbook import MAX_BYTES, SCHOOL_LIST_COLUMNS, read_school_list

EXAMPLE = Path(__file__).parent / "examples" / "example-pass"
HEADER = "学校代码,学校名称,学校类型,城乡类型,小学在校生数,初中在校生数"


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems_of(filename: str, data: bytes) -> list[str]:
    with pytest.raises(WorkbookError) as caught:
        read_school_list(filename, data)
    return [str(p) for p in caught.value.problems]


def test_a_csv_school_list_of_the_six_identity_columns_is_read():
    data = (HEADER + "\nA01,城关小学,小学,城区,\"1,200\",\nA02,河口初中,初中,乡村,,300\n").encode()
    schools = read_school_list("名录.csv", data).schools
    assert list(schools["school_code"]) == ["A01", "A02"]
    assert list(schools["school_type"]) == ["primary", "junior"]
    assert list(schools["location"]) == ["urban", "rural"]
    # A blank enrolment is 0; students_senior may be left out.
    assert list(schools["students_primary"]) == [1200.0, 0.0]
    assert list(schools["students_senior"]) == [0.0, 0.0]
    assert list(schools["excel_row"]) == [2, 3]


def test_an_xlsx_school_list_is_its_学校_sheet_else_its_first_sheet():
    rows = [HEADER.split(","), ["B1", "一小", "primary", "town", 400, 0]]
    named = xlsx({"说明": [["这是说明"]], "学校": rows})
    first = xlsx({"Sheet1": rows, "其他": [["x"]]})
    for data in (named, first):
        assert list(read_school_list("名录.xlsx", data).schools["school_code"]) == ["B1"]


def test_a_full_workbooks_学校_sheet_is_a_school_list_and_its_indicator_columns_are_ignored():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in ("schools.csv", "county.csv"):
            z.write(EXAMPLE / name, f"示例县/{name}")
    school_list = read_school_list("示例县.zip", buffer.getvalue())
    expected = pd.read_csv(EXAMPLE / "schools.csv", dtype={"school_code": str})
    assert list(school_list.schools["school_code"]) == list(expected["school_code"])
    assert list(school_list.schools.columns) == [*SCHOOL_LIST_COLUMNS, "excel_row"]
    assert school_list.warnings == ()


def test_every_problem_of_a_school_list_is_located_by_sheet_row_and_header_as_written():
    data = ("学校代码,学校名称,学校类型,城乡类型,小学在校生数\n"
            "1,甲,小学,城区,abc\n1,乙,大学,,5\n").encode()
    assert problems_of("名录.csv", data) == [
        "名录 第 1 行 初中在校生数：缺少此列：请在表头加上“初中在校生数”",
        "名录 第 2 行 小学在校生数：“abc”应为数字",
        "名录 第 3 行 学校类型：“大学”应为学校类型之一：小学、初中、九年一贯制、十二年一贯制、完全中学、教学点、特殊教育学校",
        "名录 第 3 行 城乡类型：未填写：每所学校必填",
        "名录 第 3 行 学校代码：“1”与第 2 行的学校代码重复：学校代码须唯一",
    ]


def test_enrolment_in_a_stage_the_school_type_lacks_is_an_error_in_a_school_list():
    data = (HEADER + "\nC1,一中,初中,城区,50,300\n").encode()
    assert problems_of("名录.csv", data) == ["名录 第 2 行 小学在校生数：“50”填有小学在校生，但初中没有小学学段"]


def test_an_old_xls_school_list_is_named_as_what_it_is():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le") + b"\x00" * 64
    (message,) = problems_of("名录.xls", ole)
    assert message.startswith("名录.xls：") and ".xls 旧格式：请在 Excel 中另存为 .xlsx" in message
    assert "压缩包" not in message and ".csv" not in message


def test_a_school_list_over_the_size_limit_says_the_limit_and_its_size():
    (message,) = problems_of("名录.csv", b"a" * (MAX_BYTES + 2**20))
    assert message == "名录.csv：文件过大（约 51.0 MB，上限 50 MB）"


def test_an_empty_file_is_not_a_school_list():
    (message,) = problems_of("名录.csv", b"")
    assert message.startswith("名录.csv：文件为空")
