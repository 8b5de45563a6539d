"""Trends across surveys (scoring/trends.py): the noise rule for the change between two surveys,
and which figures carry no variance to judge it by."""

import math

import pandas as pd

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import aggregate_responses
from scoring.trends import Change, Estimate, change, latest_change, survey_figures

PROFILE = load_profile()
Z = float(PROFILE.recognition["z_two_sided_95"])        # 1.959964


def test_a_change_exceeds_the_noise_when_the_differences_95_interval_excludes_0():
    # 80 % then 86 %, each with variance 0.0001: d = 6 points, half-width 1.959964·√0.0002 = 2.77 points.
    c = change(Estimate(0.80, 0.0001, 900), Estimate(0.86, 0.0001, 950), Z)
    assert math.isclose(c.difference, 0.06)
    assert math.isclose(c.ci95[0], 0.06 - Z * math.sqrt(0.0002)) and math.isclose(c.ci95[1], 0.06 + Z * math.sqrt(0.0002))
    assert c.exceeds_noise is True
    down = change(Estimate(0.86, 0.0001, 950), Estimate(0.80, 0.0001, 900), Z)
    assert down.difference < 0 and down.exceeds_noise is True


def test_a_change_within_the_differences_95_interval_of_0_is_noise():
    # 80 % then 82 %: d = 2 points < 2.77 points, the interval holds 0.
    c = change(Estimate(0.80, 0.0001, 900), Estimate(0.82, 0.0001, 950), Z)
    assert c.ci95[0] < 0 < c.ci95[1] and c.exceeds_noise is False


def test_the_interval_adds_the_two_surveys_variances():
    # The same 2 points are beyond the noise once both variances are small enough: 2 > 1.96·√(2·0.00004).
    assert change(Estimate(0.80, 0.00004, 900), Estimate(0.82, 0.00004, 950), Z).exceeds_noise is True
    assert change(Estimate(0.80, 0.00001, 900), Estimate(0.82, 0.0002, 950), Z).exceeds_noise is False


def test_a_change_of_a_figure_without_variance_is_not_judged():
    c = change(Estimate(0.80, None, 12), Estimate(0.95, 0.0001, 950), Z)
    assert c == Change(c.difference, None, None) and math.isclose(c.difference, 0.15)


def test_no_change_without_both_values():
    assert change(Estimate(None, None, 0), Estimate(0.9, 0.0001, 100), Z) is None
    assert change(Estimate(0.9, 0.0001, 100), Estimate(None, None, 0), Z) is None


def _responses(n_public: int, n_students: int, d_every: int) -> pd.DataFrame:
    """``n_public`` public answers and ``n_students`` students of five schools; every
    ``d_every``-th answer says D to everything, the others A."""
    rows = []
    for k in range(n_public + n_students):
        student = k >= n_public
        answer = "D" if k % d_every == 0 else "A"
        rows.append({"response_id": f"r{k}", "questionnaire": "student" if student else "public",
                     "group": "student" if student else "public", "school_code": f"S0{1 + k % 5}" if student else None,
                     "location": "urban", "grade": 5 if student else None, "duration_s": 60.0, "duplicate_of": None,
                     **dict.fromkeys(ITEMS, answer)})
    return pd.DataFrame(rows)


def test_a_thin_group_and_the_rate_while_a_group_is_thin_carry_no_variance():
    minimum = int(PROFILE.recognition["min_group_n_warning"])       # 30
    f = survey_figures(aggregate_responses(_responses(60, minimum - 1, 5), PROFILE), PROFILE)
    assert f.groups["public"].variance is not None and f.groups["public"].n == 60
    assert f.groups["student"].variance is None and f.groups["student"].value is not None
    assert f.rate.variance is None and f.rate.value is not None
    assert f.groups["parent"] == Estimate(None, None, 0)
    full = survey_figures(aggregate_responses(_responses(60, minimum, 5), PROFILE), PROFILE)
    assert full.rate.variance is not None and full.groups["student"].variance is not None


def test_the_latest_change_compares_the_last_survey_with_the_one_before():
    before = survey_figures(aggregate_responses(_responses(200, 60, 4), PROFILE), PROFILE)   # a quarter D
    after = survey_figures(aggregate_responses(_responses(200, 60, 20), PROFILE), PROFILE)   # a twentieth D
    assert latest_change([before], Z) is None
    delta = latest_change([before, after], Z)
    assert delta["rate"].difference > 0.15 and delta["rate"].exceeds_noise is True
    assert set(delta["groups"]) == set(GROUPS) and delta["groups"]["parent"] is None
    assert set(delta["items"]) == set(ITEMS)          # no item counts in these cells: no item changes
    assert all(c is None for c in delta["items"].values())
