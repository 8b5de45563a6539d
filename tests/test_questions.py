"""The per-question table (scoring.questions): counts per item × group among valid answers,
the item's rate under the profile's options, and the minimum cell size on its breakdowns."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.questions import TOTAL, question_table
from scoring.recognition import OPTIONS, classify_validity
from scoring.responses import read_responses
from scoring.workbook import read_workbook

EXAMPLE = Path(__file__).parent / "examples" / "example-pass"


@pytest.fixture(scope="module")
def example():
    profile = load_profile()
    workbook = read_workbook(EXAMPLE, profile=profile)
    return read_responses(EXAMPLE / "responses.csv", set(workbook.schools["school_code"])), profile


def test_counts_are_the_valid_answers_of_each_item_and_group(example):
    responses, profile = example
    valid = responses[(classify_validity(responses, profile) == "valid").to_numpy()]
    rows = question_table(responses, profile, min_cell_size=1)
    assert [r.item for r in rows] == list(ITEMS)
    for row in rows:
        table = pd.crosstab(valid["group"].astype(str), valid[row.item].astype(str))
        for g in GROUPS:
            expected = {o: int(table.loc[g, o]) if g in table.index and o in table.columns else 0 for o in OPTIONS}
            assert row.cells[g].counts == expected
            assert row.cells[g].n == int((valid["group"] == g).sum())
        assert row.cells[TOTAL].counts == {o: int((valid[row.item] == o).sum()) for o in OPTIONS}


def test_item_rate_is_recognised_over_counted_under_the_profiles_options(example, tmp_path):
    responses, _ = example
    override = tmp_path / "strict.toml"
    override.write_text('[recognition]\nrecognised = ["A", "B"]\nnot_recognised = ["C", "D"]\n', encoding="utf-8")
    for profile, yes, counted in ((load_profile(), "ABC", "ABCD"), (load_profile(override), "AB", "ABCD")):
        for row in question_table(responses, profile, min_cell_size=1):
            for cell in row.cells.values():
                denominator = sum(cell.counts[o] for o in counted)
                want = sum(cell.counts[o] for o in yes) / denominator if denominator else None
                assert cell.rate == pytest.approx(want) if want is not None else cell.rate is None


def test_cells_below_the_minimum_size_are_hidden_and_the_total_cannot_give_them_back(example):
    responses, profile = example
    valid = responses[(classify_validity(responses, profile) == "valid").to_numpy()]
    sizes = valid["group"].astype(str).value_counts()
    k = int(sizes.min()) + 1                 # the smallest group falls below the cell size
    for row in question_table(responses, profile, min_cell_size=k):
        hidden = [g for g in GROUPS if row.cells[g].hidden]
        assert {g for g in GROUPS if 0 < row.cells[g].n < k} <= set(hidden)
        assert sum(row.cells[g].n for g in hidden) >= k
        assert all(row.cells[g].counts is None and row.cells[g].rate is None for g in hidden)
        assert all(row.cells[g].n == sizes.get(g, 0) for g in GROUPS)   # counts of answers stay shown


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=len(GROUPS), max_size=len(GROUPS)), st.integers(1, 10))
def test_hidden_cells_always_hold_at_least_k_answers_together(sizes, k):
    profile = load_profile()
    rows = [{"group": g, "duplicate_of": None, "duration_s": 60.0, **dict.fromkeys(ITEMS, "A")}
            for g, n in zip(GROUPS, sizes) for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["group", "duplicate_of", "duration_s", *ITEMS])
    for row in question_table(frame, profile, min_cell_size=k)[:1]:
        hidden = [g for g in GROUPS if row.cells[g].hidden]
        assert not hidden or sum(row.cells[g].n for g in hidden) >= k or len(hidden) == sum(np.array(sizes) > 0)
        assert {g for g, n in zip(GROUPS, sizes) if 0 < n < k} <= set(hidden)


def test_no_answers_give_empty_cells():
    rows = question_table(None, load_profile())
    assert len(rows) == len(ITEMS) and all(c.n == 0 and c.rate is None for r in rows for c in r.cells.values())
