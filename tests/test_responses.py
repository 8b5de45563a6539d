"""The responses file reader (spec/survey.md "Responses file")."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.errors import ResponsesError
from scoring.profile import GROUPS, ITEMS
from scoring.responses import MAX_PROBLEMS, RESPONSE_COLUMNS, UNREAD, normalise_responses, read_responses

EXAMPLES = Path(__file__).parent / "examples"
CODES = {f"S{i:02d}" for i in range(1, 26)}
HEADER = ",".join(RESPONSE_COLUMNS)
GOOD = {
    "parent": "r1,public,parent,S01,town,4,120,,A,B,C,D,E,A,B,C,A",
    "public": "r2,public,public,,urban,,300,,A,A,A,A,A,A,A,A,A",
    "student": "r3,student,student,S15,urban,8,90,,B,B,B,B,B,B,B,B,B",
}


def csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode()


def problems_of(data: bytes) -> list:
    with pytest.raises(ResponsesError) as caught:
        read_responses(data, CODES)
    return list(caught.value.problems)


def only_problem(data: bytes):
    problems = problems_of(data)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


@pytest.mark.parametrize(("example", "rows"), [("example-pass", 787), ("example-fail", 900)])
def test_examples_read(example, rows):
    frame = read_responses(EXAMPLES / example / "responses.csv", CODES)
    assert list(frame.columns) == [*RESPONSE_COLUMNS, "line"]
    assert len(frame) == rows
    assert frame["line"].tolist() == list(range(2, rows + 2))
    assert set(frame["group"]) <= set(GROUPS)
    assert set(frame["location"]) <= {"urban", "town", "rural"}
    assert frame["grade"].dtype == "float64" and frame["duration_s"].dtype == "float64"
    assert frame["line"].dtype == "int64"
    for item in ITEMS:
        assert set(frame[item].dropna()) <= set("ABCDE")
    public = frame[frame["group"].isin(["npc_deputy", "cppcc_member", "public"])]
    assert public["school_code"].isna().all()


def test_typed_values():
    frame = read_responses(csv(*GOOD.values()), CODES)
    first = frame.iloc[0]
    assert (first["response_id"], first["questionnaire"], first["group"]) == ("r1", "public", "parent")
    assert (first["school_code"], first["location"], first["grade"]) == ("S01", "town", 4.0)
    assert first["duration_s"] == 120.0 and pd.isna(first["duplicate_of"])
    assert [first[i] for i in ITEMS] == list("ABCDEABCA")
    assert pd.isna(frame.loc[1, "school_code"]) and pd.isna(frame.loc[1, "grade"])


def test_empty_cells_mean_incomplete_zero_duration_and_no_duplicate():
    frame = read_responses(csv("r1,public,parent,S01,town,,,r0,A,,C,D,E,A,B,C,"), CODES)
    assert frame.loc[0, "duration_s"] == 0.0
    assert frame.loc[0, "duplicate_of"] == "r0"
    assert pd.isna(frame.loc[0, "equity"]) and pd.isna(frame.loc[0, "overall"])


def test_lower_case_answers_spaces_and_chinese_locations_accepted():
    frame = read_responses(csv("r1,public, parent ,S01,镇区,4,120,,a,b,c,d,e,a,b,c, a "), CODES)
    assert frame.loc[0, "group"] == "parent" and frame.loc[0, "location"] == "town"
    assert [frame.loc[0, i] for i in ITEMS] == list("ABCDEABCA")


def test_bom_accepted_in_bytes_and_text():
    data = b"\xef\xbb\xbf" + csv(GOOD["parent"])
    assert read_responses(data, CODES).loc[0, "response_id"] == "r1"
    text = io.StringIO(data.decode("utf-8"))
    assert read_responses(text, CODES).loc[0, "response_id"] == "r1"


def test_extra_columns_are_ignored_and_codes_stay_text():
    header = HEADER + ",comment,submitted_at"
    frame = read_responses(csv(GOOD["parent"] + ',"很好, 谢谢",2024-05-01', header=header), CODES)
    assert list(frame.columns) == [*RESPONSE_COLUMNS, "line"]
    numeric_code = read_responses(csv(GOOD["parent"].replace("S01", "001")), {"001"})
    assert numeric_code.loc[0, "school_code"] == "001"


def test_blank_lines_skipped_lines_keep_their_numbers():
    frame = read_responses(csv(GOOD["parent"], "", GOOD["public"]), CODES)
    assert frame["line"].tolist() == [2, 4]


def test_missing_column():
    header = HEADER.replace(",duration_s", "")
    row = GOOD["parent"].replace(",120,", ",")
    problem = only_problem(csv(row, header=header))
    assert (problem.row, problem.column) == (1, "duration_s")


@pytest.mark.parametrize(("row", "column", "value"), [
    ("r1,public,parents,S01,town,4,120,,A,B,C,D,E,A,B,C,A", "group", "parents"),
    ("r1,public,parent,S01,town,4,120,,A,B,F,D,E,A,B,C,A", "sharing", "F"),
    ("r1,public,parent,S01,town,4,120,,A,B,C,D,E,A,B,C,AB", "overall", "AB"),
    ("r1,public,parent,S01,,4,120,,A,B,C,D,E,A,B,C,A", "location", None),
    ("r1,public,parent,S01,suburb,4,120,,A,B,C,D,E,A,B,C,A", "location", "suburb"),
    ("r1,public,parent,S99,town,4,120,,A,B,C,D,E,A,B,C,A", "school_code", "S99"),
    ("r1,public,parent,,town,4,120,,A,B,C,D,E,A,B,C,A", "school_code", None),
    ("r1,staff,teacher,,town,,120,,A,B,C,D,E,A,B,C,A", "school_code", None),
    ("r1,public,parent,S01,town,10,120,,A,B,C,D,E,A,B,C,A", "grade", "10"),
    ("r1,public,parent,S01,town,0,120,,A,B,C,D,E,A,B,C,A", "grade", "0"),
    ("r1,public,parent,S01,town,4.5,120,,A,B,C,D,E,A,B,C,A", "grade", "4.5"),
    ("r1,public,parent,S01,town,four,120,,A,B,C,D,E,A,B,C,A", "grade", "four"),
    ("r1,public,parent,S01,town,4,fast,,A,B,C,D,E,A,B,C,A", "duration_s", "fast"),
])
def test_each_rejection_is_located(row, column, value):
    problem = only_problem(csv(GOOD["public"], row))
    assert (problem.sheet, problem.row, problem.column, problem.value) == \
        ("responses.csv", 3, column, value)


def test_located_message():
    problem = only_problem(csv("r1,public,parent,S01,town,4,120,,A,B,F,D,E,A,B,C,A"))
    assert str(problem) == 'responses.csv 第 2 行 sharing：“F”应为答案 A–E'


def test_every_problem_listed_in_line_order():
    rows = ["r1,public,parent,S99,town,4,120,,A,B,F,D,E,A,B,C,A",
            GOOD["public"],
            "r3,public,nobody,,mars,4,x,,A,B,C,D,E,A,B,C,A"]
    problems = problems_of(csv(*rows))
    assert [(p.row, p.column) for p in problems] == [
        (2, "school_code"), (2, "sharing"), (4, "group"), (4, "location"), (4, "duration_s")]


def test_too_many_problems_are_counted_not_listed():
    rows = [f"r{i},public,parent,S01,town,4,120,,Z,B,C,D,E,A,B,C,A" for i in range(MAX_PROBLEMS + 5)]
    problems = problems_of(csv(*rows))
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0].row == 2 and problems[MAX_PROBLEMS - 1].row == MAX_PROBLEMS + 1
    assert "另有 5 处" in problems[-1].expected


def test_unreadable_files_are_problems(tmp_path):
    for data in (b"", b"\xff\xfe\x00garbage\x81", csv(GOOD["parent"] + ",extra,fields")):
        assert problems_of(data)
    with pytest.raises(ResponsesError):
        read_responses(tmp_path / "missing.csv", CODES)


def test_normalise_a_frame_built_by_the_service():
    raw = pd.DataFrame([dict(zip(RESPONSE_COLUMNS, row.split(","))) for row in GOOD.values()],
                       dtype=object)
    raw.loc[1, "school_code"] = None  # a database NULL
    raw.loc[0, "grade"] = 4           # not text
    frame = normalise_responses(raw, CODES)
    assert frame["line"].tolist() == [2, 3, 4]
    assert frame.loc[0, "grade"] == 4.0 and pd.isna(frame.loc[1, "school_code"])
    pd.testing.assert_frame_equal(frame, read_responses(csv(*GOOD.values()), CODES))


def test_many_rows_normalise_by_distinct_value():
    raw = pd.read_csv(EXAMPLES / "example-pass" / "responses.csv", dtype=str, keep_default_na=False)
    big = pd.concat([raw] * 60, ignore_index=True)
    frame = normalise_responses(big, CODES)
    assert len(frame) == len(big)
    expected = big["moral"].replace("", np.nan)
    assert frame["moral"].fillna("-").tolist() == expected.fillna("-").tolist()
    assert frame["line"].iloc[-1] == len(big) + 1


def test_problems_in_a_service_frame_show_null_as_empty():
    raw = pd.DataFrame([dict(zip(RESPONSE_COLUMNS, GOOD["parent"].split(",")))], dtype=object)
    raw.loc[0, "location"] = None
    with pytest.raises(ResponsesError) as caught:
        normalise_responses(raw, CODES)
    assert str(caught.value) == "responses 第 2 行 location：未填写：应为 urban/town/rural（或 城区/镇区/乡村）"


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=1000))
def test_arbitrary_bytes_give_only_responses_errors(data):
    try:
        read_responses(data, CODES)
    except ResponsesError as error:
        assert error.problems


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(RESPONSE_COLUMNS), st.text(max_size=6)), max_size=6))
def test_arbitrary_cells_give_a_frame_or_located_problems(edits):
    raw = pd.DataFrame([dict(zip(RESPONSE_COLUMNS, row.split(","))) for row in GOOD.values()],
                       dtype=object)
    for row, (column, text) in enumerate(edits):
        raw.loc[row % len(raw), column] = text
    try:
        frame = normalise_responses(raw, CODES)
    except ResponsesError as error:
        assert all(p.row and p.column for p in error.problems)
    else:
        assert set(frame["location"]) <= {"urban", "town", "rural"}


def _export_like(rows: int, seed: int) -> bytes:
    """A responses file like the service's export, with what real files add: grades, blank
    items, all-E rows, duplicates, decimal durations, a free-text column with commas and
    line breaks, a blank line, lower case, Chinese locations, spaces around headers."""
    rng = np.random.default_rng(seed)
    codes = sorted(CODES)
    lines = [" " + HEADER.replace(",", " , ") + ",comment"]
    for i in range(rows):
        group = GROUPS[rng.integers(len(GROUPS))]
        school = codes[rng.integers(len(codes))] if group in ("student", "parent", "teacher", "principal") else ""
        answers = ["E"] * len(ITEMS) if rng.random() < 0.05 else \
            [str(rng.choice(list("ABCDEabcde") + [""], p=[0.3, 0.2, 0.1, 0.05, 0.05] + [0.04] * 5 + [0.1]))
             for _ in ITEMS]
        location = ["urban", "town", "rural", "城区", "乡村", " rural "][rng.integers(6)]
        grade = str(rng.integers(1, 10)) if group == "student" else ""
        duplicate = f"id-{rng.integers(i)}" if i and rng.random() < 0.1 else ""
        comment = ['', 'ok', '"a, b"', '"line\nbreak"'][rng.integers(4)]
        lines.append(",".join([f"id-{i}", "public", group, school, location, grade,
                               f"{rng.random() * 100:.1f}", duplicate, *answers, comment]))
        if i == rows // 2:
            lines.append("")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_reader_gives_the_frame_of_the_pandas_reader(seed):
    from scoring.responses import _read_arrow, _read_pandas

    data = _export_like(400, seed)
    fast = _read_arrow(io.BytesIO(data))
    assert fast is not None  # a well-formed file takes the typed Arrow path
    expected = normalise_responses(_read_pandas(io.BytesIO(data), "x"), CODES)
    pd.testing.assert_frame_equal(normalise_responses(fast, CODES), expected)
    pd.testing.assert_frame_equal(read_responses(data, CODES), expected)
    pd.testing.assert_frame_equal(read_responses(data, CODES, verdict_only=True),
                                  expected.drop(columns=list(UNREAD)))


def test_fast_reader_locates_the_same_problems():
    from scoring.responses import _read_arrow, _read_pandas

    data = _export_like(300, 4).replace(b",urban,", b",moon,").replace(b",A,", b",Z,")
    assert _read_arrow(io.BytesIO(data)) is not None
    with pytest.raises(ResponsesError) as slow:
        normalise_responses(_read_pandas(io.BytesIO(data), "responses.csv"), CODES, name="responses.csv")
    assert [str(p) for p in problems_of(data)] == [str(p) for p in slow.value.problems]
    with pytest.raises(ResponsesError) as verdict_only:
        read_responses(data, CODES, verdict_only=True)
    assert verdict_only.value.problems == slow.value.problems


@pytest.mark.parametrize("row", ["r9" + "," * (len(RESPONSE_COLUMNS) - 1),
                                 ",public" + "," * (len(RESPONSE_COLUMNS) - 2)])
def test_a_row_with_only_an_id_or_questionnaire_is_not_blank_when_the_verdict_reads_neither(row):
    data = csv(GOOD["parent"], row)
    assert problems_of(data) == _problems_verdict_only(data)
    assert [(p.row, p.column) for p in problems_of(data)] == [(3, "location")]  # not skipped as blank


def _problems_verdict_only(data: bytes) -> list:
    with pytest.raises(ResponsesError) as caught:
        read_responses(data, CODES, verdict_only=True)
    return list(caught.value.problems)
