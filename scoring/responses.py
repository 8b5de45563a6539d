"""The responses file reader (spec/survey.md "Responses file").

The file may hold a million rows, so every column is checked with pandas
operations; Python only touches each *distinct* cell value (a column of
answers has a handful) and the rows that are reported as problems.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .errors import Problem, ResponsesError
from .profile import GRADES, GROUPS, ITEMS, LOCATIONS, OPTIONS, SCHOOL_GROUPS

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
LOCATION_NAMES = {**{c: c for c in LOCATIONS}, "城区": "urban", "镇区": "town", "乡村": "rural"}
CATEGORY_COLUMNS = ("questionnaire", "group", "location", "grade", "duration_s", *ITEMS)
LOCATION_HINT = " urban/town/rural（或 城区/镇区/乡村）"
MAX_PROBLEMS = 1000  # listed one by one; the rest are counted
UNREAD = ("response_id", "questionnaire")  # what the verdict never reads


def read_responses(source: str | Path | bytes | IO, school_codes: Collection[str], *,
                   name: str = "responses.csv", verdict_only: bool = False) -> pd.DataFrame:
    """Read and check a responses CSV (UTF-8, BOM accepted); see ``normalise_responses``.

    ``verdict_only=True`` leaves the columns the verdict never reads (``UNREAD``) out of the
    frame (a million distinct ids are most of the reading's time and memory): the file is
    checked and its blank rows skipped exactly as with them.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    raw = _read_arrow(source, verdict_only)
    if raw is None:
        raw = _read_pandas(source, name)
    frame = normalise_responses(raw, school_codes, name=name)
    return frame.drop(columns=list(UNREAD)) if verdict_only else frame


BLOCK_BYTES = 1 << 19  # Arrow parses the file this much at a time: its memory is a few blocks


def _read_arrow(source: str | Path | IO, verdict_only: bool = False) -> pd.DataFrame | None:
    """The survey.md columns of a well-formed file, as codes into each column's distinct cells;
    None to use pandas.

    Arrow's streaming reader parses the file block by block and only the needed columns
    (extra free-text columns are skipped); each block's cells become small integer codes
    into that block's distinct cells at once, so memory holds a few blocks of text, not the
    file. A column of a million answers ends as a byte per row plus its few distinct cells,
    which ``_by_distinct`` converts once each; all cells stay text ("001" stays "001").
    Anything unusual (a text stream, duplicate headers, a ragged or undecodable row, a file
    Arrow rejects) returns None and the pandas reader below reads it, with its located errors.
    """
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the pandas path still works
        return None
    if isinstance(source, (str, Path)):
        try:
            with open(source, "rb") as handle:
                first = handle.readline(1 << 20)
        except OSError:
            return None
    elif isinstance(source, io.BytesIO):
        first = source.getvalue()[:1 << 20].split(b"\n", 1)[0]
    else:
        return None  # a text stream or another object: pandas reads it as before
    try:
        header = next(csv.reader([first.decode("utf-8-sig").rstrip("\r\n")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    stripped = [h.lstrip("\ufeff").strip() for h in header]
    wanted = {h: s for h, s in zip(header, stripped) if s in RESPONSE_COLUMNS}
    if len(set(stripped)) != len(stripped) or len(wanted) != len(RESPONSE_COLUMNS):
        return None  # pandas renames duplicates ("x.1") and reports missing columns
    if verdict_only:  # a million distinct ids are most of the reading's time and memory
        wanted = {h: s for h, s in wanted.items() if s not in UNREAD}
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(wanted, pa.string()), include_columns=list(wanted),
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    columns = {h: _BlockCodes(pa) for h, s in wanted.items() if s != "response_id"}
    id_blocks = []
    try:
        reader = pacsv.open_csv(source, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
                                parse_options=pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=True),
                                convert_options=options)
        # Arrow parses the next block in a second thread (without the GIL) while this one
        # codes the current block: one block ahead, so memory stays a few blocks.
        with ThreadPoolExecutor(1) as ahead:
            pending = ahead.submit(reader.read_next_batch)
            while True:
                try:
                    batch = pending.result()
                except StopIteration:
                    break
                pending = ahead.submit(reader.read_next_batch)
                for header, cells in zip(batch.schema.names, batch.columns):
                    if header in columns:
                        columns[header].add(cells)
                    else:
                        id_blocks.append(cells)
    except (pa.ArrowException, OSError, ValueError):
        if not isinstance(source, (str, Path)):
            source.seek(0)
        return None
    raw = {wanted[h]: pd.Series(cells.categorical(), copy=False) for h, cells in columns.items()}
    del reader, columns
    pa.default_memory_pool().release_unused()
    if not verdict_only:
        raw["response_id"] = pd.Series(pd.array(pa.chunked_array(id_blocks, pa.string()), dtype="str"), copy=False)
    frame = pd.DataFrame(raw, copy=False)
    if verdict_only:
        # The unread columns only decide whether a row blank in every other column is a blank
        # line (skipped) or a row with problems; only when such a row exists are they read.
        blank_elsewhere = np.ones(len(frame), dtype=bool)
        for _, column in frame.items():
            blank_elsewhere &= pd.Series(column.cat.categories, dtype=object).str.strip().eq("").to_numpy()[
                column.cat.codes.to_numpy()]
        if blank_elsewhere.any():
            if not isinstance(source, (str, Path)):
                source.seek(0)
            return _read_arrow(source)
        for column in UNREAD:  # filled, as far as blank rows go: no row is blank in every column
            frame[column] = np.ones(len(frame), dtype=bool)
    return frame


def _small(n: int) -> type:
    """The narrowest integer type for codes 0..n-1: a byte per cell for answers, groups, grades."""
    return np.int8 if n < 128 else np.int16 if n < 32768 else np.int32


class _BlockCodes:
    """One column read block by block: each block's codes into its own distinct cells (its
    cells' bytes, or Arrow's hashing), then one code per row into the column's distinct cells;
    no per-row Python. ``pa`` is pyarrow, imported by the reader only when it is there."""

    def __init__(self, pa) -> None:
        self.pa = pa
        self.codes: list[np.ndarray] = []
        self.cells: list = []  # per block, its distinct cells (Arrow strings)

    def add(self, block) -> None:
        offsets = np.frombuffer(block.buffers()[1], np.int32, len(block) + 1, 4 * block.offset)
        lengths = np.diff(offsets)
        if lengths.max(initial=0) <= 1:
            # Answers and grades: a byte per cell or none, so the byte is the code (256 for
            # an empty cell) and no hashing is needed. A one-byte cell of UTF-8 is ASCII.
            byte = np.full(len(block), 256, np.int16)
            one = lengths == 1
            if one.any():
                byte[one] = np.frombuffer(block.buffers()[2], np.uint8)[offsets[:-1][one]]
            present = np.flatnonzero(np.bincount(byte, minlength=257))
            rank = np.zeros(257, np.int8)
            rank[present] = np.arange(len(present))
            self.cells.append(self.pa.array([chr(b) if b < 256 else "" for b in present], self.pa.string()))
            self.codes.append(rank[byte])
            return
        encoded = block.dictionary_encode()
        self.cells.append(encoded.dictionary)
        self.codes.append(encoded.indices.to_numpy().astype(_small(len(encoded.dictionary))))

    def categorical(self) -> pd.Categorical:
        pa = self.pa
        if not self.cells:
            return pd.Categorical.from_codes(np.empty(0, np.int8), pd.Index([], dtype="str"), validate=False)
        # The blocks' distinct cells, all together, encoded once more: where each lands.
        merged = pa.concat_arrays(self.cells).dictionary_encode()
        uniques = merged.dictionary.to_pylist()
        landing = merged.indices.to_numpy().astype(_small(len(uniques)))
        codes = np.empty(sum(len(c) for c in self.codes), landing.dtype)
        row = first = 0
        for block, cells in zip(self.codes, self.cells):
            np.take(landing[first:first + len(cells)], block, out=codes[row:row + len(block)])
            row, first = row + len(block), first + len(cells)
        return pd.Categorical.from_codes(codes, uniques, validate=False)


def _read_pandas(source: str | Path | IO, name: str) -> pd.DataFrame:
    """Any file pandas' C reader accepts (short rows padded, blank lines kept as rows)."""
    # Columns of a few distinct values are read as categories: the parser factorises
    # them in C and hands _by_distinct its distinct values. Codes and ids stay text:
    # categories are type-inferred ("001" -> 1).
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
    return raw


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
    columns: dict[str, pd.api.extensions.ExtensionArray] = {}
    filled = np.zeros(len(raw), dtype=bool)  # rows blank in every column are blank lines
    checks: list[tuple[str, np.ndarray, str]] = []  # (column, offending rows, expectation)
    for column in UNREAD:
        if raw[column].dtype == bool:  # left out by the fast reader, which found no row to skip
            columns[column] = raw[column].array
            filled |= raw[column].to_numpy()
    # response_id is unique per row: taken as it is, not per distinct value.
    if "response_id" not in columns:
        response_id = raw["response_id"].fillna("").astype("str")
        columns["response_id"] = response_id.array
        filled |= (response_id != "").to_numpy()

    def convert(column: str, table: Callable[[pd.Series], pd.Series], expected: str | None,
                categories: tuple[str, ...] | None = None) -> np.ndarray:
        """The column's values; its invalid rows to check; its blank cells returned."""
        columns[column], invalid, blank = _by_distinct(raw[column], table, categories)
        np.logical_or(filled, ~blank, out=filled)
        if expected:
            checks.append((column, np.flatnonzero(invalid), expected))
        return blank

    if "questionnaire" not in columns:
        convert("questionnaire", _text, None)
    convert("group", lambda u: u.str.lower().where(u.str.lower().isin(GROUPS)),
            f"应为答卷人群体代码之一：{', '.join(GROUPS)}", GROUPS)
    school_blank = convert("school_code", lambda u: u.where(u.isin(codes)), "不是指标表中的学校代码")
    location_blank = convert("location", lambda u: u.str.lower().map(LOCATION_NAMES),
                             f"应为{LOCATION_HINT}", LOCATIONS)
    convert("grade", _grade, "应为年级 1–9")
    convert("duration_s", _duration, "应为秒数")
    convert("duplicate_of", _text, None)
    for item in ITEMS:
        convert(item, lambda u: u.str.upper().where(u.str.upper().isin(OPTIONS)),
                "应为答案 A–E", OPTIONS)

    keep = filled
    school_group = pd.Series(columns["group"]).isin(SCHOOL_GROUPS).to_numpy()
    checks.append(("location", np.flatnonzero(location_blank), f"未填写：应为{LOCATION_HINT}"))
    checks.append(("school_code", np.flatnonzero(school_blank & school_group),
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
    return numbers.where(numbers.isin(GRADES))


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
    for column, rows, expected in checks:
        rows = rows[keep[rows]]
        total += len(rows)
        found += [(int(lines[r]), order[column], column, r, expected) for r in rows[:MAX_PROBLEMS]]
    found.sort()
    problems = [Problem(name, line, column, _cell_text(raw[column].iat[r]), expected)
                for line, _, column, r, expected in found[:MAX_PROBLEMS]]
    if total > MAX_PROBLEMS:
        problems.append(Problem(name, None, None, None,
                                f"另有 {total - MAX_PROBLEMS} 处问题未列出"))
    return problems
