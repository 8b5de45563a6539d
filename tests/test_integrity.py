"""Integrity signals (issues 6, 12): one test per rule; each fires on its injected case and stays quiet on
clean campaigns and on ordinary parents' meetings."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.integrity_signals import generate_campaign
from scoring.integrity import (KIND_NAMES, Flag, IntegritySettings, adjust_p_values, all_a_flags, burst_flags,
                               flagged_schools, identical_answer_flags, integrity_flags, integrity_report,
                               integrity_settings, pacing_flags, robust_keep, share_flags)
from scoring.integrity import _all_candidates, _upper_tail
from scoring.profile import ITEMS, load_profile
from scoring.recognition import classify_validity, evaluate_rate

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
    assert SETTINGS == IntegritySettings(
        alpha=0.01, correction="holm", min_responses=10, burst_window_minutes=15.0, wave_window_minutes=90.0,
        windows_per_link=2, burst_min_count=10, near_max_b=2, prior_weight=20.0, trim_z=4.0, baseline_z=2.5,
        busy_windows=24, trim_p=0.001, pacing_run=15, pacing_hamming=1, pattern_min_count=5)
    assert integrity_settings(PROFILE) == SETTINGS


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_clean_campaigns_raise_no_flag(seed):
    # 30 schools, as in the benchmark. With 12 schools seeds 1 and 2 raise one flag each (a school with 8 of 94
    # answers resubmitted; a school with 70 % all-A answers): robust baselines from a dozen schools are thin.
    assert _flags(generate_campaign(seed, n_schools=30).responses) == ()


def test_coached_school_is_flagged(coached):
    (school,) = coached.coached
    flags = _flags(coached.responses)
    assert flagged_schools(flags) == {school}
    assert any(f.kind == "burst" and f.scope_id == f"{school}-parent" for f in flags)


def _meeting(frame: pd.DataFrame, school: str, n: int, start: str, minutes: float = 15) -> pd.DataFrame:
    """n of the school's parents' answers (ordinary ones) given again within ``minutes`` from ``start``."""
    donors = frame[frame["link_id"] == f"{school}-parent"].sample(n, random_state=1, replace=True).copy()
    donors["submitted_at"] = pd.Timestamp(start) + pd.to_timedelta(
        np.sort(np.random.default_rng(1).uniform(0, 60 * minutes, n)), unit="s")
    donors["duplicate_of"] = np.nan
    donors["device_hash"] = [f"meeting{i}" for i in range(n)]
    return donors


def test_meeting_with_ordinary_mix_is_information_not_a_flag(clean):
    """40 parents within 15 minutes, answering as the school's parents do: 集中作答, informational, no flag."""
    school = "X003"
    frame = _append(clean, _meeting(clean, school, 40, "2026-05-13 16:05"))
    report = integrity_report(frame, classify_validity(frame, PROFILE), SETTINGS, PROFILE)
    assert report.flags == ()
    (info,) = [i for i in report.information if i.scope_id == f"{school}-parent" and i.start.endswith("16:05")]
    assert info.kind == "concentrated" and info.informational and KIND_NAMES[info.kind] == "集中作答"
    assert info.count >= 40 and info.baseline < 10 and "05-13 16:05" in info.evidence and "不是预警" in info.evidence
    assert flagged_schools(report.information) == frozenset()


def test_coached_burst_is_flagged(clean):
    """The same meeting with every answer all-satisfied (nine A): a burst flag on the link."""
    school = "X003"
    rows = _meeting(clean, school, 25, "2026-05-13 20:05", minutes=10)
    for item in ITEMS:
        rows[item] = "A"
    frame = _append(clean, rows)
    flags = _flags(frame)
    burst = [f for f in flags if f.kind == "burst"]
    assert burst and {f.scope_id for f in burst} == {f"{school}-parent"} and flagged_schools(flags) == {school}
    flag = burst[0]
    assert flag.count >= 25 and flag.figure > flag.baseline and flag.start.startswith("2026-05-13 20:0")
    assert "05-13 20:0" in flag.evidence and flag.raw_p_value <= flag.p_value <= SETTINGS.alpha
    assert set(np.flatnonzero(frame["response_id"].str.startswith("injected"))) <= set(flag.rows)


def test_coached_schools_do_not_mask_each_other():
    """Four of twenty schools with 85 % all-A answers (times spread): all four flagged by all_a.

    Without the trimming (trim_z = ∞) the coached schools inflate the baseline and its
    between-school spread and hide each other."""
    campaign = generate_campaign(7, n_schools=20)
    frame = campaign.responses.copy()
    coached = [f"X{i:03d}" for i in (1, 8, 11, 18)]
    rng = np.random.default_rng(0)
    rows = np.flatnonzero(frame["school_code"].isin(coached).to_numpy() & (rng.random(len(frame)) < 0.85))
    for item in ITEMS:
        frame.loc[rows, item] = "A"
    validity = classify_validity(frame, PROFILE)
    robust = {f.scope_id for f in all_a_flags(frame, validity, SETTINGS)}
    assert robust == set(coached)
    naive = {f.scope_id for f in all_a_flags(frame, validity, dataclasses.replace(SETTINGS, trim_z=np.inf))}
    assert len(naive) < len(coached)


def test_robust_keep_trims_outlying_schools():
    n = np.full(20, 100.0)
    x = np.r_[np.full(15, 30.0) + np.arange(15) % 5, np.full(5, 90.0)]
    keep = robust_keep(x, n, 3.5)
    assert keep[:15].all() and not keep[15:].any()


def test_pacing_flags_machine_regular_intervals(clean):
    """Twenty answers 30 s apart (± 1 s), with ordinary answers: a pacing flag, nothing else."""
    school = "X005"
    rows = clean[clean["link_id"] == f"{school}-parent"].sample(20, random_state=3, replace=True).copy()
    rows["submitted_at"] = pd.Timestamp("2026-05-12 02:00") + pd.to_timedelta(
        30 * np.arange(20) + np.random.default_rng(2).uniform(-1, 1, 20), unit="s")
    rows["duplicate_of"] = np.nan
    frame = _append(clean, rows)
    flags = pacing_flags(frame, SETTINGS, classify_validity(frame, PROFILE))
    assert [(f.kind, f.scope_id, f.school_code) for f in flags] == [("pacing", f"{school}-parent", school)]
    assert "过于均匀" in flags[0].evidence and flags[0].count == SETTINGS.pacing_run + 1


def test_pacing_flags_new_devices_with_near_identical_vectors(clean):
    """Thirty fresh devices in a row, one vector with at most one item changed, spread over a night."""
    school = "X005"
    rows = clean[clean["link_id"] == f"{school}-parent"].sample(30, random_state=4, replace=True).copy()
    vector = np.array(list("ABAAAABAA"), dtype=object)
    answers = np.tile(vector, (30, 1))
    answers[np.arange(0, 30, 3), 8] = "B"            # near-identical: every third differs in one item
    for k, item in enumerate(ITEMS):
        rows[item] = answers[:, k]
    rows["submitted_at"] = pd.Timestamp("2026-05-12 03:00") + pd.to_timedelta(
        np.cumsum(np.random.default_rng(5).exponential(120, 30)), unit="s")
    rows["duplicate_of"] = np.nan
    rows["free_text"] = [f"建议{i}" for i in range(30)]
    frame = _append(clean, rows)
    frame["device_hash"] = [f"d{i}" for i in range(len(frame))]
    flags = pacing_flags(frame, SETTINGS, classify_validity(frame, PROFILE))
    assert [(f.kind, f.scope_id) for f in flags] == [("pacing", f"{school}-parent")]
    assert "新设备" in flags[0].evidence and flags[0].figure >= 25
    # The same answers all from one device are resubmissions, not new devices: no pacing flag.
    frame.loc[frame["response_id"].str.startswith("injected"), "device_hash"] = "one-phone"
    assert pacing_flags(frame, SETTINGS, classify_validity(frame, PROFILE)) == ()


def test_one_correction_over_every_signal_and_school(coached):
    """All raw p-values of every signal, school and link are corrected together (Holm)."""
    frame = coached.responses
    validity = classify_validity(frame, PROFILE)
    candidates, _ = _all_candidates(frame, validity, SETTINGS)
    kinds = {c.flag.kind for c in candidates}
    assert {"burst", "pacing", "all_a", "speeder", "duplicate"} <= kinds
    raw = np.array([c.raw for c in candidates])
    adjusted = adjust_p_values(raw, "holm")
    report = integrity_report(frame, validity, SETTINGS, PROFILE)
    assert report.tests == len(candidates) > frame["school_code"].nunique()
    expected = sorted(a for a in adjusted if a <= SETTINGS.alpha)
    assert sorted(f.p_value for f in report.flags) == pytest.approx(expected)
    assert all(f"共 {len(candidates)} 项检验" in f.evidence for f in report.flags)
    # Within one signal alone the correction is milder: a family of all signals is stricter.
    alone = {f.scope_id: f.p_value for f in burst_flags(frame, SETTINGS, validity)}
    for f in report.flags:
        if f.kind == "burst":
            assert f.p_value >= alone[f.scope_id]


def test_sensitivity_figure(coached):
    """The rate with the flagged answers set aside, next to the rate (evaluate_rate both times)."""
    frame = coached.responses
    validity = classify_validity(frame, PROFILE)
    report = integrity_report(frame, validity, SETTINGS, PROFILE)
    s = report.sensitivity
    assert s.rate == evaluate_rate(frame, PROFILE, validity).rate
    rows = sorted({r for f in report.flags for r in f.rows})
    aside = validity.astype(object)
    aside.iloc[rows] = aside.iloc[rows].where(aside.iloc[rows] != "valid", "set_aside")
    assert s.rate_set_aside == evaluate_rate(frame, PROFILE, aside).rate
    assert s.set_aside == int(((validity == "valid").to_numpy()[rows]).sum()) > 0
    assert s.by_school == {coached.coached[0]: s.set_aside} and s.rate_set_aside < s.rate
    assert (validity == classify_validity(frame, PROFILE)).all()     # nothing changed
    clean_report = integrity_report(generate_campaign(0, n_schools=12).responses,
                                    classify_validity(generate_campaign(0, n_schools=12).responses, PROFILE),
                                    SETTINGS, PROFILE)
    assert clean_report.sensitivity.set_aside == 0
    assert clean_report.sensitivity.rate == clean_report.sensitivity.rate_set_aside


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
