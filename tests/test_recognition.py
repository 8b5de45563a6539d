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
    assert g.variance_srs == pytest.approx(3 / 2 * ((y - p * m) ** 2).sum() / m.sum() ** 2)


def test_design_variance_sums_z_over_each_school_then_squares():
    # Parents of S01 (two) and S02 (one): C = 2 clusters, var = C/(C−1)·Σ_c Z_c².
    frame = responses(answers("AAAAAAAAA"), answers("AAAAAADDD"), {**answers("AAAEEEEED"), "school_code": "S02"})
    g = evaluate_rate(frame, PROFILE).groups["parent"]
    y, m = np.array([9, 6, 3]), np.array([9, 9, 4])
    p = y.sum() / m.sum()
    z = (y - p * m) / m.sum()
    assert g.clusters == 2
    assert g.variance == pytest.approx(2 / 1 * ((z[0] + z[1]) ** 2 + z[2] ** 2))


def test_one_school_gives_a_school_linked_group_design_variance_zero():
    frame = responses(answers("AAAAAAAAA"), answers("AAAAAADDD"), answers("AAAEEEEED"))
    g = evaluate_rate(frame, PROFILE).groups["parent"]
    assert g.clusters == 1 and g.variance == 0 and g.variance_srs > 0


def test_deputies_cppcc_and_public_are_clusters_alone_so_design_equals_simple():
    rows = [{**answers(p), "group": grp, "school_code": None, "questionnaire": "public"}
            for grp in ("npc_deputy", "cppcc_member", "public") for p in ("AAAAAAAAA", "AAAAAADDD", "ADDDDDDDD")]
    result = evaluate_rate(responses(*rows), PROFILE)
    for grp in ("npc_deputy", "cppcc_member", "public"):
        g = result.groups[grp]
        assert g.clusters == 3 and g.variance == pytest.approx(g.variance_srs)


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


def in_schools(rows: list[dict], n_schools: int = 4) -> list[dict]:
    """The rows spread round-robin over schools S01..S0n."""
    return [{**row, "school_code": f"S{i % n_schools + 1:02d}"} for i, row in enumerate(rows)]


def test_status_robust_marginal_fail_and_no_data():
    robust = responses(*in_schools([answers("AAAAAAAAA")] * 40 + [answers("AAAAAAAAD")] * 40))
    assert evaluate_rate(robust, PROFILE).status == "robust_pass"
    marginal = responses(*[answers("AAAAAAAAA")] * 3 + [answers("AAAAAADDD")] * 2)   # 39/45 = 0.8667
    assert evaluate_rate(marginal, PROFILE).status == "marginal_pass"
    failing = responses(*[answers("AAAAAADDD")] * 5)
    assert evaluate_rate(failing, PROFILE).status == "fail"
    assert evaluate_rate(responses(ALL_E), PROFILE).status == "no_data"
    assert evaluate_rate(None, PROFILE).status == "no_data"


def test_thin_when_fewer_than_30_rated_and_it_blocks_robust_pass():
    # 80 parents over four schools and 12 all-satisfied teachers: the lower bound is high,
    # but the teachers' 12 answers cannot make the rate robust.
    rows = in_schools([answers("AAAAAAAAA")] * 80) + in_schools(
        [{**answers("AAAAAAAAA"), "group": "teacher", "questionnaire": "staff"}] * 12)
    result = evaluate_rate(responses(*rows), PROFILE)
    assert result.thin_groups == ("teacher",)
    assert result.lower_bound_95 >= 0.85 and result.status == "marginal_pass"
    assert any("教师只有 12 份" in w and "不能算稳健达标" in w for w in result.warnings)


def test_thin_when_a_school_linked_group_comes_from_one_school():
    rows = in_schools([answers("AAAAAAAAA")] * 80) + [
        {**answers("AAAAAAAAA"), "group": "teacher", "questionnaire": "staff"}] * 40
    result = evaluate_rate(responses(*rows), PROFILE)
    assert result.groups["teacher"].clusters == 1 and result.thin_groups == ("teacher",)
    assert "来自 1 所学校" in result.warnings[0]


def test_the_public_with_30_answers_is_not_thin_though_it_names_no_school():
    rows = in_schools([answers("AAAAAAAAA")] * 80) + [
        {**answers("AAAAAAAAA"), "group": "public", "school_code": None}] * 30
    result = evaluate_rate(responses(*rows), PROFILE)
    assert result.thin_groups == () and result.status == "robust_pass"


def test_simple_interval_kept_beside_the_design_interval():
    rows = in_schools([answers(p) for p in ["AAAAAAAAA", "AAAAAADDD", "AAADDDDDD", "AAAAAAAAD"] * 10], 3)
    result = evaluate_rate(responses(*rows), PROFILE)
    sd = math.sqrt(result.variance_srs)
    assert result.ci95_srs == pytest.approx((result.rate - 1.959964 * sd, result.rate + 1.959964 * sd))
    assert result.lower_bound_95_srs == pytest.approx(result.rate - 1.644854 * sd)


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
