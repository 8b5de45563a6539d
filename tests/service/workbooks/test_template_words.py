"""Issue 20: the blank template names every 县域 key in Chinese with its unit and meaning beside
it, and a template filled in reads back without a warning about those columns."""

import pytest
import csv
import io

from openpyxl import load_workbook

from scoring.county_keys import COUNTY_KEYS
from scoring.workbook import read_workbook, read_workbook_bytes
from service.workbooks.template import blank_template
from svc_helpers import EXAMPLE


def test_template_county_keys_carry_name_unit_and_meaning():
    wb = load_workbook(io.BytesIO(blank_template()))
    rows = list(wb["县域"].iter_rows(values_only=True))
    assert rows[0] == ("键", "名称", "值", "单位或填法", "说明")
    by_key = {r[0]: r for r in rows[1:]}
    assert by_key["G8_teacher_salary"][1] == "教师平均工资收入" and by_key["G8_teacher_salary"][3] == "元/年"
    assert by_key["G2a"][1] == "城乡统一学校建设标准" and "四统一" in by_key["G2a"][4]
    assert set(by_key) == set(COUNTY_KEYS)


def test_filled_template_reads_back_without_warnings_and_equal_to_the_csv_workbook():
    wb = load_workbook(io.BytesIO(blank_template()))
    schools = list(csv.reader((EXAMPLE / "schools.csv").read_text(encoding="utf-8").splitlines()))
    ws = wb["学校"]
    header = [c.value for c in ws[1]]
    from scoring.workbook import SCHOOL_COLUMNS
    position = {SCHOOL_COLUMNS[k]: i for i, k in enumerate(schools[0])}
    for row in schools[1:]:
        ws.append([row[position[h]] if h in position else None for h in header])
    values = dict(csv.reader((EXAMPLE / "county.csv").read_text(encoding="utf-8").splitlines()[1:]))
    for row in wb["县域"].iter_rows(min_row=2):
        row[2].value = values.get(row[0].value)
    out = io.BytesIO()
    wb.save(out)
    book = read_workbook_bytes("模板.xlsx", out.getvalue())
    assert [str(w) for w in book.warnings] == []
    assert book.county == read_workbook(EXAMPLE).county


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
