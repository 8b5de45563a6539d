"""Integrity signals when coaching is heavy and widespread (issue 23): one test per pattern caught, named
after it, and the legitimate patterns that must stay unflagged. Campaigns come from the benchmark's
generator (benchmarks/integrity_signals.py)."""

import numpy as np
import pytest

from benchmarks.integrity_signals import PATTERNS, generate_campaign
from scoring.integrity import (KIND_NAMES, CallOut, Sensitivity, all_a_flags, county_call_out, flagged_schools,
                               integrity_report, integrity_settings, record_flags, robust_keep)
from scoring.integrity import _robust_loo
from scoring.profile import load_profile
from scoring.recognition import classify_validity

PROFILE = load_profile()
SETTINGS = integrity_settings()


def _report(campaign):
    frame = campaign.responses
    return integrity_report(frame, classify_validity(frame, PROFILE), SETTINGS, PROFILE)


def _coached_county(seed: int, pattern: str, strength: float, share: float = 0.3, n_schools: int = 30):
    """A county with ``share`` of its schools coached, all with one pattern and strength."""
    return generate_campaign(seed, n_schools, patterns=((pattern, strength),) * int(round(share * n_schools)))


# ---- baselines that coached schools cannot move

def _county_shares(seed: int, strength: float, coached: int = 9):
    """30 schools' counts: shares around 35 % (between-school SD 0.11), the last ``coached`` at ``strength``."""
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 160, 30).astype(float)
    theta = np.clip(rng.normal(0.35, 0.11, 30), 0.02, 0.98)
    is_coached = np.arange(30) >= 30 - coached
    theta = np.where(is_coached, strength + (1 - strength) * theta, theta)
    return rng.binomial(n.astype(int), theta).astype(float), n, is_coached


@pytest.mark.parametrize("strength", [0.6, 0.9])
def test_baseline_breakdown_exceeds_30_percent_of_schools_coached(strength):
    """9 of 30 schools coached (30 %), 100 counties: the baseline from the kept schools stays near the clean
    schools' share, where the pooled share of all schools is pulled up by the coaching."""
    robust, pooled, coached_kept = [], [], []
    for seed in range(100):
        x, n, coached = _county_shares(seed, strength)
        keep = robust_keep(x, n, SETTINGS.trim_z, SETTINGS.baseline_z)
        clean = x[~coached].sum() / n[~coached].sum()
        robust.append(x[keep].sum() / n[keep].sum() - clean)
        pooled.append(x.sum() / n.sum() - clean)
        coached_kept.append(keep[coached].mean())
    assert np.mean(np.abs(robust)) < 0.4 * np.mean(np.abs(pooled))
    assert np.mean(coached_kept) < (0.35 if strength == 0.6 else 0.05)


def test_between_school_variation_comes_from_the_clean_schools():
    """ρ with 30 % of the schools coached at 90 %, 100 counties: near the clean schools' own (median ratio), where
    all thirty schools give many times it."""
    robust, everyone = [], []
    for seed in range(100):
        x, n, coached = _county_shares(seed, 0.9)
        clean_rho = _robust_loo(x[~coached], n[~coached], np.inf)[1][0]
        robust.append(_robust_loo(x, n, SETTINGS.trim_z, SETTINGS.baseline_z)[1][0] / clean_rho)
        everyone.append(_robust_loo(x, n, np.inf)[1][0] / clean_rho)
    assert 0.7 < np.median(robust) < 1.5 and np.median(everyone) > 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_county_with_meetings_and_no_javascript_phones_raises_no_flag(seed):
    """The legitimate patterns: parents' meetings, push waves, computer rooms, phones without JavaScript."""
    campaign = generate_campaign(seed, 30, meeting_share=0.5)
    assert campaign.meetings and (campaign.responses["form_trace"] == "").any()
    assert _report(campaign).flags == ()


# ---- detection that does not fall as coaching grows

@pytest.mark.parametrize("strength", [0.3, 0.6, 0.9])
def test_heavy_burst_coaching_in_30_percent_of_schools_is_flagged_at_every_strength(strength):
    campaign = _coached_county(11, "burst_all_a", strength)
    report = _report(campaign)
    assert set(campaign.coached) <= flagged_schools(report.flags)
    assert len(flagged_schools(report.flags) - set(campaign.coached)) <= 1


def test_heavily_coached_school_is_compared_with_the_county():
    """At 90 % a school's coached answers are most of its own answers: the per-group test against the
    other schools' parents (robust baseline) flags it."""
    campaign = _coached_county(12, "push_wave_a", 0.9)
    frame = campaign.responses
    flags = all_a_flags(frame, classify_validity(frame, PROFILE), SETTINGS)
    assert set(campaign.coached) <= flagged_schools(flags)
    flag = next(f for f in flags if f.school_code == campaign.coached[0])
    assert flag.kind == "all_a" and flag.figure > 0.8 and flag.baseline < 0.5 and "家长" in flag.evidence


# ---- the "mostly satisfied" variants, caught by what they share

@pytest.mark.parametrize("strength", [0.3, 0.6])
def test_mostly_satisfied_template_with_one_or_two_b_is_flagged(strength):
    campaign = _coached_county(13, "mostly_satisfied", strength)
    report = _report(campaign)
    assert set(campaign.coached) <= flagged_schools(report.flags)
    kinds = {f.kind for f in report.flags if f.school_code in campaign.coached}
    assert kinds & {"near_a", "burst"}, kinds


@pytest.mark.parametrize("strength", [0.3, 0.9])
def test_skewed_draws_not_copies_are_flagged_by_their_distribution(strength):
    """Answers drawn item by item (A 80 %, B 17 %, C 3 %): no two alike, but seven or eight A with the rest B
    or C, far more often than in the school's other answers and the county's (KIND_NAMES["near_a"]). The goal
    is 90 %: at least 8 of the 9 coached schools."""
    campaign = _coached_county(14, "skewed", strength)
    report = _report(campaign)
    assert len(set(campaign.coached) & flagged_schools(report.flags)) >= 8
    kinds = {f.kind for f in report.flags if f.school_code in campaign.coached}
    assert kinds & {"near_a", "burst"} and KIND_NAMES["near_a"] == "几乎全选满意"
    burst = [f for f in report.flags if f.kind == "burst" and f.school_code in campaign.coached]
    assert all("只有 1 至 2 题未选“满意”" in f.evidence or "九题全选" in f.evidence for f in burst)


# ---- the form's record of how it was answered

def test_scripted_posts_without_the_form_record_are_flagged():
    """A filler's script posting without the page, with human timing, at 30 % in a fifth of the schools: its
    link's answers lack the record while the campaign's others carry it."""
    campaign = _coached_county(15, "scripted", 0.3, share=0.2)
    frame = campaign.responses
    flags = record_flags(frame, classify_validity(frame, PROFILE), SETTINGS)
    assert flagged_schools(flags) == set(campaign.coached)
    flag = flags[0]
    assert flag.kind == "no_record" and flag.scope == "link" and flag.scope_id.endswith("-parent")
    assert "没有问卷页面的作答记录" in flag.evidence
    assert all(frame["form_trace"].iloc[r] == "" for r in flag.rows)


def test_answers_stored_before_the_form_record_existed_raise_no_record_flag():
    campaign = _coached_county(15, "scripted", 0.15, share=0.2)
    frame = campaign.responses.assign(form_trace="")
    assert record_flags(frame, classify_validity(frame, PROFILE), SETTINGS) == ()


# ---- the county-level sentence

def test_flagged_answers_carrying_the_county_across_85_percent_are_called_out():
    """A county at 84.5 % without its coached answers, carried to 87.7 % by them (seed 2 of the benchmark's
    near-threshold counties: a fifth of the schools coached at 30 %)."""
    patterns = tuple((PATTERNS[(2 + k) % len(PATTERNS)], 0.3) for k in range(6))
    campaign = generate_campaign(2, 30, patterns=patterns, level=-0.3)
    report = _report(campaign)
    call_out = county_call_out(report.sensitivity, PROFILE)
    assert call_out is not None and call_out.measure == "rate"
    assert call_out.value >= 0.85 > call_out.value_set_aside
    text = call_out.sentence
    assert f"{100 * call_out.value:.1f}%" in text and "低于 85.0%" in text and "不剔除任何答卷" in text


def test_no_call_out_when_the_county_passes_or_fails_either_way():
    both_pass = Sensitivity(0.90, 0.88, 120, {"S01": 120}, 0.87, 0.86)
    both_fail = Sensitivity(0.83, 0.80, 120, {"S01": 120}, 0.81, 0.79)
    assert county_call_out(both_pass, PROFILE) is None and county_call_out(both_fail, PROFILE) is None
    by_bound = county_call_out(Sensitivity(0.90, 0.89, 120, {"S01": 60, "S02": 60}, 0.853, 0.846), PROFILE)
    assert by_bound == CallOut("lower_bound", 0.853, 0.846, 0.85, 120, 2)
    assert "稳健下限" in by_bound.sentence and "85.3%" in by_bound.sentence and "84.6%" in by_bound.sentence
