"""Facts a page shows beside a figure, decided here so no page re-derives a rule: whether a
rate meets the recognition threshold, a stage's standards and their floors (standard.md §1),
whether an indicator's value is below its floor."""

from .profile import INDICATORS, Profile
from .resources import standards


def recognition_threshold(profile: Profile) -> float:
    return float(profile.recognition["recognition_threshold"])


def meets_recognition(value: float | None, profile: Profile) -> bool:
    """A rate (or its lower bound) reaches the threshold (">= 85 %" with the profile's tolerance)."""
    return value is not None and profile.at_least(value, recognition_threshold(profile))


def shortfall_floor(profile: Profile) -> float:
    """The share of a standard below which an unmet indicator fails its section (0.85)."""
    return float(profile.resources["shortfall_floor"])


def floors(profile: Profile, stage: str) -> dict[str, float]:
    """Each indicator's floor: ``shortfall_floor`` × its standard (below it, 6-of-7 cannot pass)."""
    floor = shortfall_floor(profile)
    return {ind: floor * value for ind, value in standards(profile, stage).items()}


def below_floor(value: float | None, indicator: str, stage: str, profile: Profile) -> bool:
    return value is not None and not profile.at_least(value, floors(profile, stage)[indicator])


__all__ = ["INDICATORS", "below_floor", "floors", "meets_recognition", "recognition_threshold", "shortfall_floor", "standards"]
