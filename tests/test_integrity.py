"""Integrity signals (issue 6): each fires on its injected case and stays quiet on clean campaigns."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.integrity_signals import generate_campaign
from scoring.integrity import (Flag, IntegritySettings, adjust_p_values, all_a_flags, burst_flags,
                               flagged_schools, identical_answer_flags, integrity_flags, integrity_settings,
                               share_flags)
from scoring.integrity import _upper_tail
from scoring.profile import ITEMS, load_profile
from scoring.recognition import classify_validity

PROFILE = load_profile()
SETTINGS = integrity_settings()


def _flags(frame: pd.DataFrame) -> tuple[Flag, ...]:
    return integrity_flags(frame, classify_validity(frame, PROFILE), SETTINGS)


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return generate_campaign(0, n_schools=12).responses


@pytest.fixture(scope="module")
def coached():
    return generate_campaign(4, n_schools=12, n_coached=1)


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    rows["response_id"] = [f"injected{i}" for i in range(len(rows))]
    return pd.concat([frame, rows], ignore_index=True)


def _biggest_school(frame: pd.DataFrame) -> str:
    return str(frame["school_code"].value_counts().index[0])


def test_settings_come_from_the_profile():
    assert SETTINGS == IntegritySettings(alpha=0.01, correction="holm", min_responses=10,
                                         burst_window_minutes=10.0, burst_min_count=10, pattern_min_count=5)
    assert integrity_settings(PROFILE) == SETTINGS


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_clean_campaigns_raise_no_flag(seed):
    assert _flags(generate_campaign(seed, n_schools=12).responses) == ()


def test_coached_school_is_flagged(coached):
    (school,) = coached.coached
    flags = _flags(coached.responses)
    assert flagged_schools(flags) == {school}
    burst = [f for f in flags if f.kind == "burst"]
    assert [(f.scope, f.scope_id, f.school_code) for f in burst] == [("link", f"{school}-parent", school)]
    assert any(f.kind == "identical_answers" and f.scope_id == school for f in flags)


def test_burst_fires_on_a_ten_minute_burst(clean):
    school = "X003"
    link = f"{school}-parent"
    donors = clean[clean["link_id"] == link].sample(20, random_state=1, replace=True)
    start = pd.Timestamp("2026-05-13 20:05")
    donors["submitted_at"] = start + pd.to_timedelta(np.linspace(0, 540, 20), unit="s")
    frame = _append(clean, donors)
    flags = burst_flags(frame, SETTINGS)
    assert [f.scope_id for f in flags] == [link]
    flag = flags[0]
    assert flag.figure == 20 and flag.count == 20 and flag.school_code == school
    assert flag.baseline < 4
    assert flag.raw_p_value <= flag.p_value <= SETTINGS.alpha
    assert "05-13 20:05" in flag.evidence


def test_a_small_link_does_not_flag(clean):
    rows = clean[clean["link_id"] == "county-public"].head(SETTINGS.burst_min_count - 1).copy()
    rows["link_id"] = "tiny-link"
    rows["submitted_at"] = pd.Timestamp("2026-05-12 09:00")
    assert burst_flags(_append(clean, rows), SETTINGS) == ()


def test_identical_answers_fire_on_a_repeated_vector(clean):
    school = "X005"
    rows = clean[clean["school_code"] == school].sample(8, random_state=2).copy()  # times spread over days
    for item, answer in zip(ITEMS, "ABACABACA"):
        rows[item] = answer
    rows["free_text"] = "支持学校工作"
    rows["duration_s"] = 120.0
    rows["duplicate_of"] = np.nan
    frame = _append(clean, rows)
    flags = _flags(frame)
    assert [(f.kind, f.scope_id) for f in flags] == [("identical_answers", school)]
    flag = flags[0]
    assert flag.figure == 8 and flag.baseline < 1
    assert "ABACABACA" in flag.evidence and "支持学校工作" in flag.evidence


def test_free_text_is_part_of_the_vector(clean):
    school = "X005"
    rows = clean[clean["school_code"] == school].sample(8, random_state=2).copy()
    for item, answer in zip(ITEMS, "ABACABACA"):
        rows[item] = answer
    rows["free_text"] = [f"意见{i}" for i in range(8)]   # eight different comments
    rows["duration_s"] = 120.0
    rows["duplicate_of"] = np.nan
    assert identical_answer_flags(_append(clean, rows), SETTINGS) == ()


def test_all_a_fires_on_a_school_far_above_the_county(clean):
    school = _biggest_school(clean)
    frame = clean.copy()
    rows = np.flatnonzero((frame["school_code"] == school).to_numpy())
    # Twelve schools whose all-A shares range from 24 % to 67 %: between-school
    # variation estimated from eleven schools leaves little power, so all of them.
    for item in ITEMS:
        frame.loc[rows, item] = "A"
    flags = all_a_flags(frame, classify_validity(frame, PROFILE), SETTINGS)
    assert [f.scope_id for f in flags] == [school]
    assert flags[0].figure == 1.0 and flags[0].baseline < 0.5


@pytest.mark.parametrize("kind", ["speeder", "duplicate"])
def test_speeder_and_duplicate_shares(clean, kind):
    school = _biggest_school(clean)
    frame = clean.copy()
    rows = np.flatnonzero((frame["school_code"] == school).to_numpy())
    chosen = rows[::4]                       # a quarter of the school's responses
    if kind == "speeder":
        frame.loc[chosen, "duration_s"] = 8.0
    else:
        frame.loc[chosen, "duplicate_of"] = frame.loc[rows[0], "response_id"]
    validity = classify_validity(frame, PROFILE)
    flags = share_flags(frame, validity, SETTINGS)
    assert [(f.kind, f.scope_id) for f in flags] == [(kind, school)]
    assert flags[0].figure >= 0.25 and flags[0].baseline < 0.05
    assert share_flags(clean, classify_validity(clean, PROFILE), SETTINGS) == ()


def test_a_flag_carries_figure_baseline_and_p_value(coached):
    flags = _flags(coached.responses)
    assert flags
    for flag in flags:
        assert isinstance(flag.figure, float) and isinstance(flag.baseline, float)
        assert 0.0 <= flag.raw_p_value <= flag.p_value <= SETTINGS.alpha
        assert flag.figure > flag.baseline
        assert re.search(r"[\u4e00-\u9fff]", flag.evidence) and "p = " in flag.evidence
        assert str(flag.count) in flag.evidence and str(flag.total) in flag.evidence
    with pytest.raises(dataclasses.FrozenInstanceError):
        flags[0].p_value = 1.0


def test_nothing_is_changed_or_excluded(clean):
    frame = clean.copy()
    validity = classify_validity(frame, PROFILE)
    integrity_flags(frame, validity, SETTINGS)
    pd.testing.assert_frame_equal(frame, clean)
    assert len(validity) == len(frame)


def test_timestamps_as_text_or_with_a_time_zone(coached):
    frame = coached.responses
    expected = burst_flags(frame, SETTINGS)
    aware = frame.assign(submitted_at=frame["submitted_at"].dt.tz_localize("Asia/Shanghai"))
    text = frame.assign(submitted_at=frame["submitted_at"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    for other in (aware, text):
        got = burst_flags(other, SETTINGS)
        assert [(f.scope_id, f.figure, f.evidence) for f in got] == \
            [(f.scope_id, f.figure, f.evidence) for f in expected]     # wall-clock times in the evidence


def test_empty_and_partial_inputs(clean):
    empty = clean.iloc[:0]
    assert integrity_flags(empty, pd.Series([], dtype=object), SETTINGS) == ()
    no_times = clean.drop(columns=["submitted_at", "link_id", "free_text"])
    assert _flags(no_times) == ()


def test_multiple_comparison_adjustment():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(adjust_p_values(p, "bh"), stats.false_discovery_control(p, method="bh"))
    assert adjust_p_values(np.array([]), "holm").size == 0


def test_binomial_tail_is_binomtest():
    for x, n, p in [(7, 20, 0.1), (0, 5, 0.3), (30, 30, 0.9), (12, 100, 0.05)]:
        assert _upper_tail(np.array([x]), np.array([n]), np.array([p]), np.array([0.0]))[0] == \
            pytest.approx(stats.binomtest(x, n, p, alternative="greater").pvalue)
    # Between-school correlation widens the tail.
    assert _upper_tail(np.array([40]), np.array([100]), np.array([0.3]), np.array([0.05]))[0] > \
        _upper_tail(np.array([40]), np.array([100]), np.array([0.3]), np.array([0.0]))[0]


def test_benjamini_hochberg_on_request(coached, tmp_path):
    override = tmp_path / "province.toml"
    override.write_text('[integrity]\ncorrection = "bh"\n', encoding="utf-8")
    bh = integrity_settings(override)
    assert bh.correction == "bh"
    frame = coached.responses
    flags = integrity_flags(frame, classify_validity(frame, PROFILE), bh)
    assert flagged_schools(flags) == set(coached.coached)
    override.write_text('[integrity]\ncorrection = "bonferroni"\n', encoding="utf-8")
    with pytest.raises(ValueError):
        integrity_settings(override)
