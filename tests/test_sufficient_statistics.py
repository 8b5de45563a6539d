"""The recognition part from sufficient statistics equals the per-respondent computation."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.profile import GROUPS, ITEMS, LOCATIONS, load_profile
from scoring.recognition import (AGGREGATE_KEYS, AGGREGATE_SUMS, SCHOOL_GROUPS, aggregate_responses,
                                 classify_validity, evaluate_rate, evaluate_rate_from_aggregate)
from scoring.sampling import chi2_sf, evaluate_checks, sample_counts
from tests.factories import load_profile_with, schools

PROFILE = load_profile()
POOLED = load_profile_with(weights="pooled")
SCHOOLS = schools({}, {"school_code": "S02", "school_type": "junior", "students_primary": 0.0,
                       "students_junior": 400.0}, {}, {})
SHARES = {"urban": 0.5, "town": 0.3, "rural": 0.2}
TOL = dict(rel=1e-9, abs=1e-13)

row = st.fixed_dictionaries({
    "group": st.sampled_from(GROUPS),
    "school": st.sampled_from(["S01", "S02", "S03", "S04", None]),
    "location": st.sampled_from(LOCATIONS),
    "grade": st.sampled_from([None, 1.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0]),
    "duration_s": st.sampled_from([5.0, 20.0, 300.0]),
    "duplicate": st.booleans() | st.just(False),
    # Answers biased per row so that clusters and E answers both occur.
    "answers": st.lists(st.sampled_from(["A", "A", "B", "C", "D", "E", None]), min_size=9, max_size=9)
    | st.lists(st.sampled_from(["A", "D"]), min_size=9, max_size=9),
})


def frame_of(rows: list[dict]) -> pd.DataFrame:
    records = []
    for i, r in enumerate(rows):
        school = r["school"] if r["group"] in SCHOOL_GROUPS and r["school"] else (
            "S01" if r["group"] in SCHOOL_GROUPS else r["school"])   # deputies may name one; it is ignored
        records.append({"response_id": f"r{i}", "questionnaire": "public", "group": r["group"],
                        "school_code": school, "location": r["location"],
                        "grade": r["grade"] if r["grade"] is not None else np.nan,
                        "duration_s": r["duration_s"], "duplicate_of": "r0" if r["duplicate"] else None,
                        **dict(zip(ITEMS, r["answers"]))})
    return pd.DataFrame.from_records(records)


def assert_same(a, b, path="$"):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
            assert a == b or (a != a and b != b), path
        else:
            assert a == pytest.approx(b, **TOL), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif hasattr(a, "__dataclass_fields__"):
        for k in a.__dataclass_fields__:
            assert_same(getattr(a, k), getattr(b, k), f"{path}.{k}")
    else:
        assert a == b, path


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(row, min_size=0, max_size=80), pooled=st.booleans())
def test_rate_variances_clusters_and_status_from_sufficient_statistics_equal_per_respondent(rows, pooled):
    profile = POOLED if pooled else PROFILE
    frame = frame_of(rows)
    direct = evaluate_rate(frame, profile)
    if frame.empty:
        assert direct.status == "no_data"
        return
    assert_same(evaluate_rate_from_aggregate(aggregate_responses(frame, profile), profile), direct)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=80))
def test_s1_to_s7_from_sufficient_statistics_equal_per_respondent(rows):
    frame = frame_of(rows)
    validity = classify_validity(frame, PROFILE)
    valid = frame[(validity == "valid").to_numpy()]
    direct = evaluate_checks(valid, len(frame), SCHOOLS, 380000, SHARES, PROFILE)
    aggregate = aggregate_responses(frame, PROFILE, validity)
    counts = sample_counts(aggregate.valid_cells())
    collected = int(aggregate.cells["n"].sum())
    assert_same(evaluate_checks(counts, collected, SCHOOLS, 380000, SHARES, PROFILE), direct)


def test_aggregate_has_its_documented_columns_and_keeps_no_school_for_singletons():
    frame = frame_of([{"group": g, "school": "S02", "location": "urban", "grade": 3.0, "duration_s": 300.0,
                       "duplicate": False, "answers": ["A"] * 9} for g in GROUPS])
    cells = aggregate_responses(frame, PROFILE).cells
    assert tuple(cells.columns) == AGGREGATE_KEYS + AGGREGATE_SUMS
    alone = cells[~cells["group"].isin(SCHOOL_GROUPS)]
    assert alone["school_code"].isna().all() and alone["grade"].isna().all()
    assert cells.loc[cells["group"] == "student", "grade"].tolist() == [3.0]


def test_singleton_groups_need_only_sums_of_squares_however_many_share_a_cell():
    # 40 members of the public in one cell: design variance = simple variance, 40 clusters.
    rows = [{"group": "public", "school": None, "location": "town", "grade": None, "duration_s": 300.0,
             "duplicate": False, "answers": ["A"] * (9 - i % 4) + ["D"] * (i % 4)} for i in range(40)]
    aggregate = aggregate_responses(frame_of(rows), PROFILE)
    assert len(aggregate.cells) == 1
    g = evaluate_rate_from_aggregate(aggregate, PROFILE).groups["public"]
    assert g.clusters == 40 and g.variance == pytest.approx(g.variance_srs) and g.variance > 0


@pytest.mark.parametrize("df", [1, 2])
def test_location_chi_square_p_value_is_scipys(df):
    from scipy import stats
    for x in (0.0, 0.3, 2.5, 11.0):
        assert chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-12)
