"""Profiles: thresholds as data, overridable by name or file."""

import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from tests.factories import load_profile_with


def test_national_profile_holds_the_spec_defaults():
    p = load_profile("national-2017")
    assert p.resources["standards"]["junior"]["R5"] == 10.2
    assert p.resources["cv_cap"]["junior"] == 0.45
    assert p.recognition["min_duration_s"] == 20
    assert p.sampling["sample_per_mille"] == 1.5


def test_design_weights_parent_half_and_others_a_sixth_of_half():
    w = load_profile().design_weights()
    assert w["parent"] == 0.5 and w["public"] == pytest.approx(0.5 / 6) and sum(w.values()) == pytest.approx(1)


def test_bare_parameter_names_override_where_they_live():
    p = load_profile_with(facility_split="students", weights="pooled", min_duration_s=30)
    assert p.resources["facility_split"] == "students"
    assert p.recognition["weights"] == "pooled" and p.recognition["min_duration_s"] == 30
    assert p.name.startswith("tmp")


def test_nested_override_merges_and_keeps_the_rest():
    p = load_profile_with(resources={"cv_cap": {"junior": 0.40}})
    assert p.resources["cv_cap"] == {"primary": 0.50, "junior": 0.40}


def test_unknown_parameter_is_a_located_error():
    with pytest.raises(InputError) as err:
        load_profile_with(no_such_threshold=1)
    assert "no_such_threshold" in str(err.value)


def test_missing_profile_is_an_error():
    with pytest.raises(InputError):
        load_profile("atlantis-2030")
