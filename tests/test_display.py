"""Display rounds towards failure (standard.md "Comparisons")."""

from scoring import display
from scoring.profile import load_profile


def test_failing_rate_0_8496_shows_84_9_percent():
    assert display.percent(0.8496, passed=False) == "84.9%"


def test_failing_cv_0_5004_shows_0_501():
    assert display.cv(0.5004, passed=False) == "0.501"


def test_passing_values_round_to_nearest_with_two_decimals():
    assert display.number(4.2049) == "4.20" and display.number(4.2051) == "4.21"


def test_comparisons_use_the_1e_9_tolerance():
    p = load_profile()
    assert p.at_least(4.1999999999, 4.2)
    assert not p.below(0.1499999999, 0.15)
    assert p.below(0.1498, 0.15)
    assert p.at_most(0.4500000001, 0.45)
