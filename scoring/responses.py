"""The responses file reader (spec/survey.md "Responses file").

The file may hold a million rows, so every column is checked with pandas
operations; Python only touches each *distinct* cell value (a column of
answers has a handful) and the rows that are reported as problems.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .errors import Problem, ResponsesError
from .profile import GROUPS, ITEMS, LOCATIONS

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
SCHOOL_GROUPS = ("student", "parent", "teacher", "principal")  # they answer for a school
OPTIONS = ("A", "B", "C", "D", "E")
LOCATION_NAMES = {**{c: c for c in LOCATIONS}, "城区": "urban", "镇区": "town", "乡村": "rural"}
CATEGORY_COLUMNS = ("questionnaire", "group", "location", "grade", "duration_s", *ITEMS)
LOCATION_HINT = " urban/town/rural（或 城区/镇区/乡村）"
MAX_PROBLEMS = 1000  # listed one by one; the rest are counted


def read_responses(source: str | Path | bytes | IO, school_codes: Collection[str], *,
                   name: str = "responses.csv") -> pd.DataFrame:
    """Read and check a responses CSV (UTF-8, BOM accepted); see ``normalise_responses``."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    # Columns of a few distinct values are read as categories: the parser factorises
    # them in C, which halves the reading time and hands _by_distinct its distinct
    # values. Codes and ids stay text: categories are type-inferred ("001" -> 1).
    dtypes = defaultdict(lambda: str, dict.fromkeys(CATEGORY_COLUMNS, "category"))
    try:
        raw = pd.read_csv(source, dtype=dtypes, keep_default_na=False,
                          skip_blank_lines=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ResponsesError([Problem(name, None, None, None, "文件不存在")]) from exc
    except pd.errors.EmptyDataError as exc:
        raise ResponsesError([Problem(name, 1, None, None, "文件为空：应有一行表头")]) from exc
    except Exception as exc:  # undecodable bytes, ragged rows: pandas raises several types
        raise ResponsesError([Problem(name, None, None, None,
                                      "无法读取：应为 UTF-8 编码、每行列数相同的 CSV 文件")]) from exc
    # A text stream keeps its BOM; Excel users add spaces around headers.
    raw.columns = [str(c).lstrip("\ufeff").strip() for c in raw.columns]
    return normalise_responses(raw, school_codes, name=name)


def normalise_responses(raw: pd.DataFrame, school_codes: Collection[str], *,
                        name: str = "responses") -> pd.DataFrame:
    """Type and check raw text columns; raise ``ResponsesError`` listing every problem.

    Returns one row per response with ``RESPONSE_COLUMNS`` and ``line``, the row's
    number with the header as 1 (the CSV line unless a quoted cell spans lines):
    ``group``, ``location`` codes; ``school_code``, ``duplicate_of`` str or NaN;
    ``grade`` float64 (NaN when empty); ``duration_s`` float64 (empty = 0); items
    'A'..'E' or NaN. Rows blank in every column are skipped; extra columns are ignored.
    """
    missing = [c for c in RESPONSE_COLUMNS if c not in raw.columns]
    if missing:
        raise ResponsesError([Problem(name, 1, c, None, "缺少此列") for c in missing])
    lines = np.arange(2, len(raw) + 2)
    codes = frozenset(str(c) for c in school_codes)
    # response_id is unique per row: taken as it is, not per distinct value.
    response_id = raw["response_id"].fillna("").astype("str")
    columns: dict[str, pd.api.extensions.ExtensionArray] = {"response_id": response_id.array}
    blank: dict[str, np.ndarray] = {"response_id": (response_id == "").to_numpy()}
    checks: list[tuple[str, np.ndarray, str]] = []  # (column, offending rows mask, expectation)

    def convert(column: str, table: Callable[[pd.Series], pd.Series], expected: str | None,
                categories: tuple[str, ...] | None = None) -> None:
        columns[column], invalid, blank[column] = _by_distinct(raw[column], table, categories)
        if expected:
            checks.append((column, invalid, expected))

    convert("questionnaire", _text, None)
    convert("group", lambda u: u.str.lower().where(u.str.lower().isin(GROUPS)),
            f"应为答卷人群体代码之一：{', '.join(GROUPS)}", GROUPS)
    convert("school_code", lambda u: u.where(u.isin(codes)), "不是指标表中的学校代码")
    convert("location", lambda u: u.str.lower().map(LOCATION_NAMES),
            f"应为{LOCATION_HINT}", LOCATIONS)
    convert("grade", _grade, "应为年级 1–9")
    convert("duration_s", _duration, "应为秒数")
    convert("duplicate_of", _text, None)
    for item in ITEMS:
        convert(item, lambda u: u.str.upper().where(u.str.upper().isin(OPTIONS)),
                "应为答案 A–E", OPTIONS)

    keep = ~np.logical_and.reduce(list(blank.values()))  # blank lines in the file
    school_group = pd.Series(columns["group"]).isin(SCHOOL_GROUPS).to_numpy()
    checks.append(("location", blank["location"], f"未填写：应为{LOCATION_HINT}"))
    checks.append(("school_code", blank["school_code"] & school_group,
                   "未填写：学生、家长、教师和校长须填所在学校的代码"))
    problems = _problems(raw, lines, keep, checks, name)
    if problems:
        raise ResponsesError(problems)

    frame = pd.DataFrame({c: columns[c] for c in RESPONSE_COLUMNS}, copy=False)
    frame["duration_s"] = frame["duration_s"].fillna(0.0)  # an empty duration counts as 0
    frame["line"] = lines
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def _by_distinct(column: pd.Series, table: Callable[[pd.Series], pd.Series],
                 categories: tuple[str, ...] | None = None
                 ) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray, np.ndarray]:
    """Convert each distinct (stripped) cell once: per row (values, invalid mask, blank mask).

    ``table`` maps a Series of distinct cells to values, NaN where a cell is not valid.
    With ``categories`` the values come back categorical over exactly those, so that
    counting and scoring a million answers works on small integer codes.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, uniques = column.cat.codes.to_numpy(), column.cat.categories
    else:
        codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    # Code -1 (a missing cell) picks the trailing "" entry.
    cells = pd.Series([*uniques, ""], dtype=object).astype("str").str.strip()
    blank = (cells == "").to_numpy()
    values = table(cells).where(~blank)
    invalid = values.isna().to_numpy() & ~blank
    if categories is not None:
        value_codes = pd.Categorical(values, categories=list(categories)).codes
        return pd.Categorical.from_codes(value_codes[codes], categories=list(categories)), invalid[codes], blank[codes]
    return values.array.take(codes), invalid[codes], blank[codes]


def _text(cells: pd.Series) -> pd.Series:
    return cells


def _grade(cells: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(cells, errors="coerce")
    return numbers.where(numbers.isin(range(1, 10)))


def _duration(cells: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(cells, errors="coerce")
    return numbers.where(np.isfinite(numbers))


def _cell_text(value: object) -> str | None:
    """A cell as the user wrote it, None when empty (or NULL in the service's frame)."""
    return None if pd.isna(value) else str(value).strip() or None


def _problems(raw: pd.DataFrame, lines: np.ndarray, keep: np.ndarray,
              checks: list[tuple[str, np.ndarray, str]], name: str) -> list[Problem]:
    """Located problems, first MAX_PROBLEMS by line then column, and a count of the rest."""
    order = {c: i for i, c in enumerate(RESPONSE_COLUMNS)}
    found = []
    total = 0
    for column, mask, expected in checks:
        rows = np.flatnonzero(mask & keep)
        total += len(rows)
        found += [(int(lines[r]), order[column], column, r, expected) for r in rows[:MAX_PROBLEMS]]
    found.sort()
    problems = [Problem(name, line, column, _cell_text(raw[column].iat[r]), expected)
                for line, _, column, r, expected in found[:MAX_PROBLEMS]]
    if total > MAX_PROBLEMS:
        problems.append(Problem(name, None, None, None,
                                f"另有 {total - MAX_PROBLEMS} 处问题未列出"))
    return problems
