"""The indicator workbook reader (spec/workbook.md)."""

import functools
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.errors import WorkbookError
from scoring.workbook import (
    MAX_ROWS,
    SCHOOL_COLUMNS,
    SCHOOL_TYPES,
    SHEETS,
    read_workbook,
    read_workbook_bytes,
    read_workbook_csvs,
)

EXAMPLES = Path(__file__).parent / "examples"
EXAMPLE_NAMES = ("example-pass", "example-fail")
SHEET_KEYS = ("schools", "county", "veto")


def example_frames(example: str = "example-pass") -> dict[str, pd.DataFrame]:
    """The example sheets as text, the way a user's cells arrive."""
    return {k: pd.read_csv(EXAMPLES / example / f"{k}.csv", dtype=str, keep_default_na=False)
            for k in SHEET_KEYS}


def csv_bytes(frames: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    return {f"{k}.csv": frame.to_csv(index=False).encode() for k, frame in frames.items()}


def read_frames(frames: dict[str, pd.DataFrame], **kwargs):
    return read_workbook_csvs(csv_bytes(frames), **kwargs)


def errors_of(frames: dict[str, pd.DataFrame]) -> list:
    with pytest.raises(WorkbookError) as caught:
        read_frames(frames)
    return list(caught.value.problems)


def located(problems, sheet, row, column):
    """The one problem at sheet/row/column."""
    hits = [p for p in problems if (p.sheet, p.row, p.column) == (sheet, row, column)]
    assert len(hits) == 1, (sheet, row, column, [str(p) for p in problems])
    return hits[0]


def set_cell(frames, sheet, excel_row, column, value):
    frames[sheet].loc[excel_row - 2, column] = value


def set_county(frames, key, value):
    county = frames["county"]
    county.loc[county["key"] == key, "value"] = value


def county_row(frames, key) -> int:
    """The Excel row of a county key (header = row 1)."""
    return int(frames["county"].index[frames["county"]["key"] == key][0]) + 2


def write_xlsx(path: Path, example: str, chinese: bool = False) -> Path:
    """An .xlsx built from the example CSVs, numbers as numeric cells."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for key in SHEET_KEYS:
            frame = pd.read_csv(EXAMPLES / example / f"{key}.csv")
            if chinese:
                frame = frame.rename(columns={**SCHOOL_COLUMNS, "key": "键", "value": "值"})
            frame.to_excel(writer, sheet_name=SHEETS[key] if chinese else key, index=False)
    return path


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.schools, b.schools)
    assert dict(a.county) == pytest.approx(dict(b.county))
    assert dict(a.veto) == dict(b.veto)


# ---------------------------------------------------------------- examples read cleanly


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_folder_reads_cleanly(example):
    book = read_workbook(EXAMPLES / example)
    assert book.warnings == ()
    assert book.source == example
    schools = book.schools
    assert len(schools) == 25
    assert list(schools.columns) == [*SCHOOL_COLUMNS, "excel_row"]
    assert schools["excel_row"].tolist() == list(range(2, 27))
    assert schools["excel_row"].dtype == "int64"
    for column in list(SCHOOL_COLUMNS)[4:]:
        assert schools[column].dtype == "float64", column
    assert set(schools["school_type"]) <= {"primary", "junior", "nine_year", "teaching_point", "special"}
    assert schools["max_class_size_junior"].isna().sum() > 0  # blank and allowed
    county = book.county
    assert county["resident_population"] in (380000.0, 520000.0)
    assert county["G1"] is True and county["Q9_min_level"] == 3
    assert county["basic_balance_year"] == 2016 and county["evaluation_year"] == 2024
    assert sum(county[k] for k in ("population_share_urban", "population_share_town",
                                   "population_share_rural")) == pytest.approx(1.0)
    assert book.county_rows["county_name"] == 2
    assert set(book.veto) == {f"V{i}" for i in range(1, 8)}
    assert book.veto["V3"] is (example == "example-fail")


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_as_zip_in_a_subfolder(example, tmp_path):
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for key in SHEET_KEYS:
            zf.write(EXAMPLES / example / f"{key}.csv", f"county-data/{key}.csv")
        zf.writestr("county-data/notes.txt", "not a sheet")
    assert_same(read_workbook(archive), read_workbook(EXAMPLES / example))
    assert_same(read_workbook_bytes("upload.zip", archive.read_bytes()), read_workbook(EXAMPLES / example))


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("chinese", [False, True])
def test_example_as_xlsx(example, chinese, tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", example, chinese)
    book = read_workbook(path)
    assert book.warnings == ()
    assert_same(book, read_workbook(EXAMPLES / example))
    assert_same(read_workbook_bytes("book.xlsx", path.read_bytes()), book)


def test_chinese_csv_names_and_gb18030(tmp_path):
    frames = example_frames()
    frames["schools"] = frames["schools"].rename(columns=SCHOOL_COLUMNS)
    files = {f"{SHEETS[k]}.csv": f.to_csv(index=False).encode("gb18030") for k, f in frames.items()}
    assert_same(read_workbook_csvs(files), read_workbook(EXAMPLES / "example-pass"))


def test_headers_any_order_spaces_and_bom():
    frames = example_frames()
    schools = frames["schools"]
    frames["schools"] = schools[list(reversed(schools.columns))].rename(columns=lambda c: f"  {c} ")
    files = csv_bytes(frames)
    files["schools.csv"] = b"\xef\xbb\xbf" + files["schools.csv"]
    assert_same(read_workbook_csvs(files), read_workbook(EXAMPLES / "example-pass"))


def test_chinese_type_and_location_names():
    frames = example_frames()
    set_cell(frames, "schools", 2, "school_type", "小学")
    set_cell(frames, "schools", 2, "location", "镇区")
    set_cell(frames, "schools", 25, "school_type", "教学点")
    set_cell(frames, "schools", 16, "school_type", "Junior")
    schools = read_frames(frames).schools
    assert schools.loc[0, ["school_type", "location"]].tolist() == ["primary", "town"]
    assert schools.loc[23, "school_type"] == "teaching_point"
    assert schools.loc[14, "school_type"] == "junior"


def test_schools_only_needs_no_county():
    frames = example_frames()
    del frames["county"], frames["veto"]
    book = read_frames(frames, schools_only=True)
    assert len(book.schools) == 25 and dict(book.county) == {}
    assert not any(book.veto.values())


# ---------------------------------------------------------------- parsing rules


def test_thousands_separators():
    frames = example_frames()
    set_cell(frames, "schools", 2, "equipment_value_yuan", "1,716,400.5")
    set_county(frames, "G7", "6,500")
    book = read_frames(frames)
    assert book.schools.loc[0, "equipment_value_yuan"] == 1716400.5
    assert book.county["G7"] == 6500.0


def test_bad_thousands_grouping_is_not_a_number():
    frames = example_frames()
    set_cell(frames, "schools", 2, "classes", "1,6")
    problem = located(errors_of(frames), "schools", 2, "classes")
    assert str(problem) == 'schools 第 2 行 班级数（classes）：“1,6”应为数字'


@pytest.mark.parametrize(("text", "rate"), [("95%", 0.95), ("95 %", 0.95), ("95", 0.95),
                                            ("0.95", 0.95), ("1", 1.0), ("100%", 1.0)])
def test_rates_as_fraction_percent_or_plain_number(text, rate):
    frames = example_frames()
    set_county(frames, "Q1", text)
    assert read_frames(frames).county["Q1"] == pytest.approx(rate)


def test_percent_applies_to_any_number_but_plain_above_one_only_to_rates():
    frames = example_frames()
    set_county(frames, "Q9_school_diff_rate", "11%")
    set_county(frames, "G11_rotated", "52")
    county = read_frames(frames).county
    assert county["Q9_school_diff_rate"] == pytest.approx(0.11)
    assert county["G11_rotated"] == 52.0


def test_rate_above_one_hundred_percent_is_an_error():
    frames = example_frames()
    set_county(frames, "G12", "120%")
    problem = located(errors_of(frames), "county", county_row(frames, "G12"), "G12")
    assert problem.value == "120%"


@pytest.mark.parametrize(("text", "value"), [
    ("yes", True), ("YES", True), ("Y", True), ("True", True), ("1", True), ("是", True), ("√", True),
    ("no", False), ("No", False), ("n", False), ("FALSE", False), ("0", False), ("否", False), ("×", False),
])
def test_yes_no_variants(text, value):
    frames = example_frames()
    set_county(frames, "G1", text)
    frames["veto"].loc[frames["veto"]["key"] == "V2", "value"] = text
    book = read_frames(frames)
    assert book.county["G1"] is value
    assert book.veto["V2"] is value


def test_yes_no_rejects_other_words():
    frames = example_frames()
    set_county(frames, "G10", "maybe")
    assert located(errors_of(frames), "county", county_row(frames, "G10"), "G10").value == "maybe"


@pytest.mark.parametrize(("text", "level"), [("3", 3), ("Ⅲ", 3), ("III", 3), ("iv", 4),
                                             ("Ⅳ级", 4), ("I", 1), ("2", 2)])
def test_q9_levels_numbers_and_roman_numerals(text, level):
    frames = example_frames()
    set_county(frames, "Q9_min_level", text)
    assert read_frames(frames).county["Q9_min_level"] == level


@pytest.mark.parametrize("text", ["5", "0", "V", "three"])
def test_q9_level_out_of_range(text):
    frames = example_frames()
    set_county(frames, "Q9_min_level", text)
    assert located(errors_of(frames), "county", county_row(frames, "Q9_min_level"), "Q9_min_level").value == text


def test_q6_must_be_a_rating():
    frames = example_frames()
    set_county(frames, "Q6", "good")
    assert located(errors_of(frames), "county", county_row(frames, "Q6"), "Q6").value == "good"


def test_population_shares_are_renormalised():
    frames = example_frames()
    set_county(frames, "population_share_rural", "0.26")  # sums to 1.01: accepted
    county = read_frames(frames).county
    assert county["population_share_urban"] == pytest.approx(0.45 / 1.01)
    assert county["population_share_rural"] == pytest.approx(0.26 / 1.01)
    assert sum(county[f"population_share_{loc}"] for loc in ("urban", "town", "rural")) == pytest.approx(1.0)


def test_population_shares_as_percentages():
    frames = example_frames()
    for key, text in (("urban", "45%"), ("town", "30"), ("rural", "25%")):
        set_county(frames, f"population_share_{key}", text)
    assert read_frames(frames).county["population_share_town"] == pytest.approx(0.30)


def test_population_shares_must_sum_to_one():
    frames = example_frames()
    set_county(frames, "population_share_rural", "0.3")
    problem = located(errors_of(frames), "county", 4, "population_share_urban")
    assert "1.05" in problem.expected


def test_blank_students_are_zero():
    frames = example_frames()
    set_cell(frames, "schools", 2, "students_junior", "")
    set_cell(frames, "schools", 2, "students_senior", "")
    schools = read_frames(frames).schools
    assert schools.loc[0, ["students_junior", "students_senior"]].tolist() == [0.0, 0.0]


def test_missing_senior_column_means_no_senior_students():
    frames = example_frames()
    frames["schools"] = frames["schools"].drop(columns=["students_senior"])
    assert (read_frames(frames).schools["students_senior"] == 0).all()


def test_optional_precondition_years_may_be_absent():
    frames = example_frames()
    county = frames["county"]
    frames["county"] = county[county["key"] != "basic_balance_year"]
    set_county(frames, "evaluation_year", "")
    book = read_frames(frames)
    assert book.county["basic_balance_year"] is None and book.county["evaluation_year"] is None


def test_missing_veto_sheet_and_blank_veto_values_mean_no():
    frames = example_frames("example-fail")
    frames["veto"].loc[frames["veto"]["key"] == "V1", "value"] = ""
    assert read_frames(frames).veto["V3"] is True
    del frames["veto"]
    assert not any(read_frames(frames).veto.values())
    files = csv_bytes(frames)
    files["veto.csv"] = b""
    assert not any(read_workbook_csvs(files).veto.values())


# ---------------------------------------------------------------- blank cells


def test_blank_cells_a_rule_needs_are_errors():
    frames = example_frames()
    set_cell(frames, "schools", 3, "classes", "")                     # in-scope school
    set_cell(frames, "schools", 4, "qualified_teachers_primary", "")  # stage with students
    set_cell(frames, "schools", 5, "public_funds_yuan", "")           # every school
    set_cell(frames, "schools", 23, "funded_students", "")            # G6 applies (rural point, 93)
    problems = errors_of(frames)
    assert len(problems) == 4
    assert str(located(problems, "schools", 3, "classes")) == \
        "schools 第 3 行 班级数（classes）：未填写：参评学校必填"
    located(problems, "schools", 4, "qualified_teachers_primary")
    located(problems, "schools", 5, "public_funds_yuan")
    located(problems, "schools", 23, "funded_students")


def test_blank_cells_no_rule_needs_are_allowed():
    frames = example_frames()
    set_cell(frames, "schools", 2, "funded_students", "")       # town school: no G6
    set_cell(frames, "schools", 2, "qualified_teachers_junior", "")  # no junior students
    set_cell(frames, "schools", 26, "classes", "")              # special school: out of scope
    set_cell(frames, "schools", 24, "students_primary", "49")   # small teaching point ...
    set_cell(frames, "schools", 24, "teaching_area_m2", "")     # ... is out of scope
    schools = read_frames(frames).schools
    assert pd.isna(schools.loc[0, "funded_students"]) and pd.isna(schools.loc[24, "classes"])


def test_missing_required_column_is_one_problem():
    frames = example_frames()
    frames["schools"] = frames["schools"].drop(columns=["classes", "training_funds_yuan"])
    problems = errors_of(frames)
    assert {(p.row, p.column) for p in problems} == {(1, "classes"), (1, "training_funds_yuan")}


def test_enrolment_columns_are_required_even_though_blanks_are_zero():
    frames = example_frames()
    frames["schools"] = frames["schools"].drop(columns=["students_junior"])
    problem = located(errors_of(frames), "schools", 1, "students_junior")
    assert "初中在校生数" in problem.expected


def test_columns_no_school_needs_may_be_left_out():
    frames = example_frames()
    schools = frames["schools"]
    frames["schools"] = schools[schools["school_type"] == "primary"].drop(
        columns=["qualified_teachers_junior", "backbone_teachers_junior", "pe_art_teachers_junior",
                 "max_class_size_junior"])
    book = read_frames(frames)
    assert book.schools["max_class_size_junior"].isna().all()


# ---------------------------------------------------------------- bad workbooks


def test_text_in_a_number_column():
    frames = example_frames()
    set_cell(frames, "schools", 14, "students_junior", "abc")
    problem = located(errors_of(frames), "schools", 14, "students_junior")
    assert str(problem) == 'schools 第 14 行 初中在校生数（students_junior）：“abc”应为数字'


def test_unknown_school_type():
    frames = example_frames()
    set_cell(frames, "schools", 3, "school_type", "高中")
    assert located(errors_of(frames), "schools", 3, "school_type").value == "高中"


def test_unknown_location():
    frames = example_frames()
    set_cell(frames, "schools", 3, "location", "suburb")
    assert located(errors_of(frames), "schools", 3, "location").value == "suburb"


def test_negative_area():
    frames = example_frames()
    set_cell(frames, "schools", 5, "sports_area_m2", "-12.5")
    problem = located(errors_of(frames), "schools", 5, "sports_area_m2")
    assert str(problem) == 'schools 第 5 行 体育运动场馆面积（sports_area_m2）：“-12.5”应为不小于 0 的数字'


def test_missing_county_key():
    frames = example_frames()
    frames["county"] = frames["county"][frames["county"]["key"] != "G7"]
    problem = located(errors_of(frames), "county", None, "G7")
    assert "缺少此行" in problem.expected


def test_blank_county_value():
    frames = example_frames()
    set_county(frames, "G8_teacher_salary", "")
    assert "未填写" in located(errors_of(frames), "county", county_row(frames, "G8_teacher_salary"), "G8_teacher_salary").expected


def test_duplicated_school_code():
    frames = example_frames()
    set_cell(frames, "schools", 7, "school_code", "S01")
    problem = located(errors_of(frames), "schools", 7, "school_code")
    assert "第 2 行" in problem.expected


def test_missing_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        example_frames()["schools"].to_excel(writer, sheet_name="Sheet1", index=False)
        example_frames()["county"].to_excel(writer, sheet_name="county", index=False)
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    assert [(p.sheet, p.row, p.column) for p in caught.value.problems] == [("schools", None, None)]
    assert "学校" in caught.value.problems[0].expected


def test_missing_csv_file():
    frames = example_frames()
    del frames["county"]
    problem = located(errors_of(frames), "county", None, None)
    assert "county.csv" in problem.expected


def test_every_problem_in_one_run():
    frames = example_frames()
    set_cell(frames, "schools", 14, "students_junior", "abc")   # text in a number column
    set_cell(frames, "schools", 3, "school_type", "高中")        # unknown school type
    set_cell(frames, "schools", 5, "teaching_area_m2", "-1")    # negative area
    set_cell(frames, "schools", 7, "school_code", "S01")        # duplicated code
    frames["county"] = frames["county"][frames["county"]["key"] != "G9"]  # missing key
    set_county(frames, "Q1", "high")                            # text in a rate
    problems = errors_of(frames)
    assert {(p.sheet, p.row, p.column) for p in problems} == {
        ("schools", 14, "students_junior"),
        ("schools", 3, "school_type"),
        ("schools", 5, "teaching_area_m2"),
        ("schools", 7, "school_code"),
        ("county", None, "G9"),
        ("county", 27, "Q1"),  # row 28 of the example, one up without G9
    }


def test_missing_sheet_reported_with_the_other_sheets_problems(tmp_path):
    frames = example_frames()
    set_cell(frames, "schools", 14, "students_junior", "abc")
    set_cell(frames, "schools", 3, "school_type", "高中")
    set_cell(frames, "schools", 5, "teaching_area_m2", "-1")
    set_cell(frames, "schools", 7, "school_code", "S01")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frames["schools"].to_excel(writer, sheet_name="学校", index=False)
        frames["veto"].to_excel(writer, sheet_name="veto", index=False)
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    assert {(p.sheet, p.row, p.column) for p in caught.value.problems} == {
        ("county", None, None),
        ("schools", 14, "students_junior"),
        ("schools", 3, "school_type"),
        ("schools", 5, "teaching_area_m2"),
        ("schools", 7, "school_code"),
    }


@pytest.mark.parametrize(("row", "school_type", "column"), [
    (2, "primary", "students_junior"),
    (2, "teaching_point", "students_junior"),
    (16, "junior", "students_primary"),
    (16, "complete_middle", "students_primary"),
    (21, "nine_year", "students_senior"),
])
def test_enrolment_in_a_stage_the_type_lacks(row, school_type, column):
    frames = example_frames()
    set_cell(frames, "schools", row, "school_type", school_type)
    for key in ("students_primary", "students_junior", "students_senior",
                "qualified_teachers_primary", "qualified_teachers_junior",
                "backbone_teachers_primary", "backbone_teachers_junior",
                "pe_art_teachers_primary", "pe_art_teachers_junior",
                "max_class_size_primary", "max_class_size_junior"):
        if frames["schools"].loc[row - 2, key] == "":
            set_cell(frames, "schools", row, key, "0")
    set_cell(frames, "schools", row, column, "120")
    problem = located(errors_of(frames), "schools", row, column)
    assert SCHOOL_TYPES[school_type] in problem.expected


def test_through_schools_may_have_senior_students():
    frames = example_frames()
    set_cell(frames, "schools", 21, "school_type", "twelve_year")
    set_cell(frames, "schools", 21, "students_senior", "300")
    assert read_frames(frames).schools.loc[19, "students_senior"] == 300.0


def test_unknown_column_is_a_warning_not_an_error():
    frames = example_frames()
    frames["schools"]["备注"] = "note"
    frames["county"].loc[len(frames["county"])] = ["mystery_key", "1"]
    book = read_frames(frames)
    assert "备注" not in book.schools.columns
    assert {(w.sheet, w.row, w.column) for w in book.warnings} == {
        ("schools", 1, "备注"), ("county", 39, "key")}


def test_blank_rows_are_skipped_but_rows_keep_their_numbers():
    frames = example_frames()
    text = frames["schools"].to_csv(index=False).splitlines()
    text.insert(3, ",,,")
    files = csv_bytes(frames)
    files["schools.csv"] = "\n".join(text).encode()
    schools = read_workbook_csvs(files).schools
    assert len(schools) == 25 and schools["excel_row"].tolist()[:3] == [2, 3, 5]


# ---------------------------------------------------------------- garbage never escapes


def test_unreadable_files_are_located(tmp_path):
    for name, data in (("a.xlsx", b"not a zip"), ("a.zip", b"PK\x03\x04garbage"),
                       ("a.xls", b"\xd0\xcf\x11\xe0"), ("a.pdf", b"%PDF")):
        with pytest.raises(WorkbookError) as caught:
            read_workbook_bytes(name, data)
        assert caught.value.problems[0].sheet == name
    with pytest.raises(WorkbookError):
        read_workbook(tmp_path / "nowhere.xlsx")


def test_zip_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("schools.csv", b"0" * (60 * 2**20))
    assert len(buffer.getvalue()) < 2**20
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("bomb.zip", buffer.getvalue())
    assert "文件过大" in caught.value.problems[0].expected


def test_undecodable_csv_is_located_and_other_sheets_still_checked():
    files = csv_bytes(example_frames())
    files["schools.csv"] = b"\xff\xfe\x00\x81\x30" * 10
    files["county.csv"] = files["county.csv"].replace(b"G7,6500", b"G7,lots")
    with pytest.raises(WorkbookError) as caught:
        read_workbook_csvs(files)
    assert {(p.sheet, p.column) for p in caught.value.problems} == {("schools", None), ("county", "G7")}


cell_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "-1", "1,000", "95%", "%", "nan", "inf", "1e400", "yes", "Ⅲ",
                     "primary", "教学点", "rural", "S01", "0x10", "=SUM(A1)", "\x00", "1,2"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
)


def _fuzz_frames(data, column_cells):
    frames = example_frames()
    schools, county = frames["schools"], frames["county"]
    for _ in range(data.draw(st.integers(1, 8))):
        row = data.draw(st.integers(0, len(schools) - 1))
        column = data.draw(st.sampled_from(list(schools.columns)))
        schools.loc[row, column] = data.draw(column_cells)
    for _ in range(data.draw(st.integers(0, 4))):
        row = data.draw(st.integers(0, len(county) - 1))
        county.loc[row, data.draw(st.sampled_from(["key", "value"]))] = data.draw(column_cells)
    return frames


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_arbitrary_cells_in_csvs_give_only_workbook_errors(data):
    frames = _fuzz_frames(data, cell_text)
    try:
        book = read_frames(frames)
    except WorkbookError as error:
        assert error.problems and all(p.sheet for p in error.problems)
    else:
        assert len(book.schools) == 25


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_arbitrary_cells_in_xlsx_give_only_workbook_errors(data):
    # Cells that openpyxl cannot store (control characters) are not a user's input.
    printable = cell_text.filter(lambda s: all(c >= " " or c in "\t\n" for c in s))
    frames = _fuzz_frames(data, printable)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for key, frame in frames.items():
            frame.to_excel(writer, sheet_name=key, index=False)
    try:
        read_workbook_bytes("fuzz.xlsx", buffer.getvalue())
    except WorkbookError as error:
        assert error.problems


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["x.xlsx", "x.zip", "x.csv"]))
def test_arbitrary_bytes_give_only_workbook_errors(data, name):
    with pytest.raises(WorkbookError):
        read_workbook_bytes(name, data)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.integers(0, 4000))
def test_damaged_xlsx_gives_only_workbook_errors(noise, offset):
    path_bytes = _example_xlsx_bytes()
    offset %= len(path_bytes)
    damaged = path_bytes[:offset] + noise + path_bytes[offset + len(noise):]
    try:
        read_workbook_bytes("damaged.xlsx", damaged)
    except WorkbookError as error:
        assert error.problems


@functools.cache
def _example_xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for key, frame in example_frames().items():
            frame.to_excel(writer, sheet_name=key, index=False)
    return buffer.getvalue()


def test_xlsx_rows_are_the_rows_excel_shows(tmp_path):
    """A title above the header and a blank row between schools keep Excel's numbering."""
    frames = example_frames()
    set_cell(frames, "schools", 3, "classes", "many")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "学校"
    sheet.append(["示例县学校名单"])
    schools = frames["schools"]
    sheet.append(list(schools.columns))
    for i, row in enumerate(schools.itertuples(index=False)):
        if i == 1:
            sheet.append([])
        sheet.append(list(row))
    for key in ("county", "veto"):
        extra = book.create_sheet(key)
        extra.append(["key", "value"])
        for row in frames[key].itertuples(index=False):
            extra.append(list(row))
    path = tmp_path / "titled.xlsx"
    book.save(path)
    with pytest.raises(WorkbookError) as caught:
        read_workbook(path)
    assert [(p.sheet, p.row, p.column) for p in caught.value.problems] == [("schools", 5, "classes")]
    set_cell(frames, "schools", 3, "classes", "23")
    book["学校"]["R5"] = "23"
    book.save(path)
    assert read_workbook(path).schools["excel_row"].tolist()[:3] == [3, 5, 6]


# ---------------------------------------------------------------- what the user reads


def chinese_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """The workbook as the Chinese template has it: 学校/县域/一票否决 sheets, Chinese headers."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frames["schools"].rename(columns=SCHOOL_COLUMNS).to_excel(writer, sheet_name=SHEETS["schools"], index=False)
        for key in ("county", "veto"):
            frames[key].rename(columns={"key": "键", "value": "值"}).to_excel(writer, sheet_name=SHEETS[key],
                                                                            index=False)
    return buffer.getvalue()


def test_problem_names_the_sheet_and_the_header_as_the_user_wrote_them():
    frames = example_frames()
    set_cell(frames, "schools", 4, "students_primary", "一千三百")
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsx", chinese_xlsx(frames))
    problem = located(caught.value.problems, "schools", 4, "students_primary")
    assert str(problem) == "学校 第 4 行 小学在校生数：“一千三百”应为数字"


def test_a_missing_column_is_named_in_chinese():
    frames = example_frames()
    frames["schools"] = frames["schools"].drop(columns=["students_junior"])
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsx", chinese_xlsx(frames))
    problem = located(caught.value.problems, "schools", 1, "students_junior")
    assert str(problem) == "学校 第 1 行 初中在校生数：缺少此列：请在表头加上“初中在校生数”"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


@pytest.mark.parametrize(("data", "named"), [
    (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}), "Word 文档（.docx）"),
    (_zip({"notes.txt": b"hello"}), "改了扩展名的 .zip 压缩包"),
    ("学校代码,学校名称\nS01,一小\n".encode(), "文本文件"),
    (b"%PDF-1.7\n", "PDF 文件"),
    (OLE + "Workbook".encode("utf-16-le"), ".xls 旧格式：请在 Excel 中另存为 .xlsx"),
    (OLE + "WordDocument".encode("utf-16-le"), "Word 文档（.doc）"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "网页文件"),
    (bytes(range(256)) * 4, "无法识别的文件格式"),
])
def test_wrong_file_types_are_recognised_by_their_bytes_and_named(data, named):
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsx", data)
    (problem,) = caught.value.problems
    assert problem.sheet == "指标表.xlsx" and named in problem.expected
    # An .xls is an Excel file: it is told only to be saved as .xlsx.
    assert named.startswith(".xls") or "这不是 Excel 文件" in problem.expected


def _with_members(data: bytes, extra: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        for name, member in extra.items():
            target.writestr(name, member)
    return buffer.getvalue()


def test_workbook_with_a_macro_part_is_refused():
    data = _with_members(chinese_xlsx(example_frames()), {"xl/vbaProject.bin": b"\0" * 64})
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsm", data)
    assert [p.sheet for p in caught.value.problems] == ["指标表.xlsm"]
    assert "含有宏" in caught.value.problems[0].expected


def test_workbook_with_an_external_link_is_refused():
    data = _with_members(chinese_xlsx(example_frames()), {"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsx", data)
    assert "外部链接" in caught.value.problems[0].expected


def test_too_many_rows_are_refused_before_the_sheet_is_parsed(monkeypatch):
    frames = example_frames()
    many = pd.concat([frames["schools"]] * (MAX_ROWS // len(frames["schools"]) + 1), ignore_index=True)
    data = chinese_xlsx({**frames, "schools": many})

    def parse(*args, **kwargs):
        raise AssertionError("parsed although too large")
    monkeypatch.setattr(pd, "read_excel", parse)
    with pytest.raises(WorkbookError) as caught:
        read_workbook_bytes("指标表.xlsx", data)
    (problem,) = caught.value.problems
    assert (problem.sheet, problem.row, problem.place) == ("schools", MAX_ROWS + 1, "学校")
    assert f"超过 {MAX_ROWS} 行" in str(problem)


def test_too_many_csv_rows_are_refused_before_the_file_is_parsed():
    files = csv_bytes(example_frames())
    files["schools.csv"] += files["schools.csv"].split(b"\n", 1)[1] * (MAX_ROWS // 20)
    with pytest.raises(WorkbookError) as caught:
        read_workbook_csvs(files)
    assert [(p.sheet, p.row) for p in caught.value.problems] == [("schools", MAX_ROWS + 1)]


# ---- issue 20: codes carry names --------------------------------------------------------------

def test_county_key_may_be_written_as_its_chinese_name(tmp_path):
    import shutil

    from scoring.county_keys import COUNTY_KEYS
    folder = tmp_path / "zh"
    shutil.copytree(EXAMPLES / "example-pass", folder)
    lines = (folder / "county.csv").read_text(encoding="utf-8").splitlines()
    renamed = [line if line.startswith("key,") else
               COUNTY_KEYS[line.split(",", 1)[0]][0] + "," + line.split(",", 1)[1] for line in lines]
    (folder / "county.csv").write_text("\n".join(renamed) + "\n", encoding="utf-8")
    assert read_workbook(folder).county == read_workbook(EXAMPLES / "example-pass").county


def test_a_missing_county_key_is_named_in_chinese():
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "w"
        shutil.copytree(EXAMPLES / "example-pass", folder)
        lines = (folder / "county.csv").read_text(encoding="utf-8").splitlines()
        (folder / "county.csv").write_text(
            "\n".join(line for line in lines if not line.startswith("G8_teacher_salary,")) + "\n", encoding="utf-8")
        with pytest.raises(WorkbookError) as err:
            read_workbook(folder)
    texts = [str(p) for p in err.value.problems]
    assert any("教师平均工资收入" in t and "缺少此行" in t for t in texts), texts
