"""The recognition rate of survey.md: validity, group rates, weights, interval, status."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import classify_validity, evaluate_rate, scores
from tests.factories import load_profile_with, responses

PROFILE = load_profile()
ALL_E = {item: "E" for item in ITEMS}


def answers(pattern: str) -> dict:
    """Nine answers from a string like 'AABBCCDDE'."""
    return dict(zip(ITEMS, pattern))


def test_incomplete_when_a_rated_item_is_unanswered():
    frame = responses({"burden": None})
    assert classify_validity(frame, PROFILE).tolist() == ["incomplete"]


def test_duplicate_when_duplicate_of_is_filled_whatever_it_points_to():
    frame = responses({}, {"duplicate_of": "r000001"}, {"duplicate_of": "no-such-id"})
    assert classify_validity(frame, PROFILE).tolist() == ["valid", "duplicate", "duplicate"]


def test_speeder_below_20_seconds_compared_exactly():
    frame = responses({"duration_s": 19.999}, {"duration_s": 20.0}, {"duration_s": float("nan")})
    # An empty duration counts as 0.
    assert classify_validity(frame, PROFILE).tolist() == ["speeder", "valid", "speeder"]


def test_invalid_counted_under_the_first_rule_that_applies():
    frame = responses({"moral": None, "duplicate_of": "r9", "duration_s": 3},
                      {"duplicate_of": "r9", "duration_s": 3})
    assert classify_validity(frame, PROFILE).tolist() == ["incomplete", "duplicate"]


def test_y_and_m_recognise_abc_count_d_and_exclude_e():
    ym = scores(responses(answers("ABCDEABCD")), PROFILE).iloc[0]
    assert (ym["y"], ym["m"]) == (6, 8)


def test_all_e_response_is_valid_but_carries_no_weight():
    frame = responses(ALL_E, answers("AAAAAAAAD"))
    result = evaluate_rate(frame, PROFILE)
    assert result.valid == 2 and result.groups["parent"].n == 2 and result.groups["parent"].rated == 1
    assert result.groups["parent"].rate == pytest.approx(8 / 9)


def test_group_rate_is_a_ratio_estimator_with_linearised_variance():
    frame = responses(answers("AAAAAAAAA"), answers("AAAAAADDD"), answers("AAAEEEEED"))
    g = evaluate_rate(frame, PROFILE).groups["parent"]
    y, m = np.array([9, 6, 3]), np.array([9, 9, 4])
    p = y.sum() / m.sum()
    assert g.rate == pytest.approx(p)
    assert g.variance == pytest.approx(3 / 2 * ((y - p * m) ** 2).sum() / m.sum() ** 2)


def test_variance_is_zero_with_fewer_than_two_rated():
    result = evaluate_rate(responses(answers("AAAAAAAAD")), PROFILE)
    assert result.groups["parent"].variance == 0 and result.warnings


def test_weights_renormalised_over_present_groups():
    # Parents (design 0.5) and teachers (0.5/6) only: weights become 0.5/(0.5+1/12) and (1/12)/(...).
    frame = responses(answers("AAAAAAAAA"), answers("AAAAAAAAA"),
                      {**answers("AAAAAADDD"), "group": "teacher", "questionnaire": "staff"},
                      {**answers("AAAAAAADD"), "group": "teacher", "questionnaire": "staff"})
    result = evaluate_rate(frame, PROFILE)
    w_parent = 0.5 / (0.5 + 0.5 / 6)
    assert result.weights == pytest.approx({"parent": w_parent, "teacher": 1 - w_parent})
    assert result.rate == pytest.approx(w_parent * 1.0 + (1 - w_parent) * (13 / 18))


def test_absent_group_reports_n_zero_and_null_rate():
    result = evaluate_rate(responses({}), PROFILE)
    assert result.groups["cppcc_member"].n == 0 and result.groups["cppcc_member"].rate is None
    assert set(result.groups) == set(GROUPS)


def test_interval_and_one_sided_lower_bound():
    frame = responses(*[answers(p) for p in ["AAAAAAAAA", "AAAAAADDD", "AAADDDDDD", "AAAAAAAAD"] * 10])
    result = evaluate_rate(frame, PROFILE)
    sd = math.sqrt(result.variance)
    assert result.ci95 == pytest.approx((result.rate - 1.959964 * sd, result.rate + 1.959964 * sd))
    assert result.lower_bound_95 == pytest.approx(result.rate - 1.644854 * sd)


def test_interval_is_clipped_to_zero_one():
    frame = responses(answers("AAAAAAAAA"), answers("AAAAAAAAD"))
    assert evaluate_rate(frame, PROFILE).ci95[1] <= 1.0


def test_status_robust_marginal_fail_and_no_data():
    robust = responses(*[answers("AAAAAAAAA")] * 40 + [answers("AAAAAAAAD")] * 40)
    assert evaluate_rate(robust, PROFILE).status == "robust_pass"
    marginal = responses(*[answers("AAAAAAAAA")] * 3 + [answers("AAAAAADDD")] * 2)   # 39/45 = 0.8667
    assert evaluate_rate(marginal, PROFILE).status == "marginal_pass"
    failing = responses(*[answers("AAAAAADDD")] * 5)
    assert evaluate_rate(failing, PROFILE).status == "fail"
    assert evaluate_rate(responses(ALL_E), PROFILE).status == "no_data"
    assert evaluate_rate(None, PROFILE).status == "no_data"


def test_pooled_weights_make_the_rate_the_pooled_rate():
    profile = load_profile_with(weights="pooled")
    frame = responses(answers("AAAAAAAAA"), {**answers("AAAAAADDD"), "group": "teacher"})
    result = evaluate_rate(frame, profile)
    assert result.rate == result.pooled_rate == pytest.approx(15 / 18)


@settings(max_examples=40, deadline=None)
@given(unit=st.integers(1, 4), patterns=st.lists(st.sampled_from(["AAAAAAAAA", "ABCDDAAAA", "DDDDDDDDA", "AAAAAAAAD"]),
                                                  min_size=12, max_size=12))
def test_design_rate_equals_pooled_rate_when_composition_matches_weights(unit, patterns):
    # No E answers and group counts in proportion to the weights: parents 6·unit, each other group unit.
    rows = []
    for g in GROUPS:
        count = 6 * unit if g == "parent" else unit
        rows += [{**answers(patterns[(i + GROUPS.index(g)) % 12]), "group": g} for i in range(count)]
    # Every group's Σm must match its share, so give each respondent all nine items answered (m_i = 9).
    result = evaluate_rate(responses(*rows), PROFILE)
    assert result.rate == pytest.approx(result.pooled_rate, abs=1e-12)
