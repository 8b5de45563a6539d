"""The two worked counties produce expected.json in every field verdict.md lists (abs tol 1e-6)."""

import json
from pathlib import Path

import pytest

from scoring.profile import load_profile
from scoring.responses import read_responses
from scoring.verdict import evaluate
from scoring.workbook import read_workbook

EXAMPLES = Path(__file__).parent / "examples"


def evaluate_example(name: str, responses_transform=None, county_overrides=None):
    folder = EXAMPLES / name
    profile = load_profile()
    workbook = read_workbook(folder, profile=profile)
    if county_overrides:
        import dataclasses
        workbook = dataclasses.replace(workbook, county={**workbook.county, **county_overrides})
    responses = read_responses(folder / "responses.csv", set(workbook.schools["school_code"]))
    if responses_transform:
        responses = responses_transform(responses)
    return evaluate(workbook, responses, profile)


def mismatches(actual, expected, path="$"):
    """Every field of ``expected`` must be in ``actual``; floats within 1e-6."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        return [m for k, v in expected.items()
                for m in ([f"{path}.{k} missing"] if k not in actual else mismatches(actual[k], v, f"{path}.{k}"))]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [m for i, (a, e) in enumerate(zip(actual, expected)) for m in mismatches(a, e, f"{path}[{i}]")]
    if isinstance(expected, float) and not isinstance(expected, bool):
        if not isinstance(actual, (int, float)) or abs(actual - expected) > 1e-6:
            return [f"{path}: {actual!r} != {expected!r}"]
        return []
    return [] if actual == expected and type(actual) is type(expected) else [f"{path}: {actual!r} != {expected!r}"]


@pytest.mark.parametrize("name", ["example-pass", "example-fail"])
def test_worked_county_matches_expected_json(name):
    expected = json.loads((EXAMPLES / name / "expected.json").read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(evaluate_example(name).to_dict(), ensure_ascii=False))
    assert mismatches(actual, expected) == []


def test_every_failure_of_the_failing_county_carries_a_chinese_reason():
    v = evaluate_example("example-fail").to_dict()
    failing_sections = [s for s in v["parts"]["resources"]["sections"] if not s["passed"]]
    assert failing_sections and all("未达标准" in s["reason"] for s in failing_sections)
    for part in ("guarantee", "quality"):
        for code, item in v["parts"][part]["items"].items():
            assert item["passed"] or item["reason"], code
    assert "家长" in v["parts"]["recognition"]["checks"]["S2"]["reason"]
    assert v["veto"]["reason"].startswith("V3")


def failing_checks(verdict):
    return {code for code, c in verdict.recognition.checks.items() if not c.passed}


def test_passing_example_passes_every_check():
    assert failing_checks(evaluate_example("example-pass")) == set()


# Each of S1-S7 failing on its own, made from the passing county.

def test_s1_fails_alone_when_the_population_needs_more_than_the_sample():
    verdict = evaluate_example("example-pass", county_overrides={"resident_population": 1_000_000.0})
    assert failing_checks(verdict) == {"S1"}
    assert verdict.recognition.checks["S1"].figures == {"required": 1500, "actual": 761}


def test_s2_fails_alone_below_half_parents():
    def drop_parents(r):
        # Drop parents from the best-covered schools only, so coverage and the mix hold.
        parents = r[(r["group"] == "parent") & r["school_code"].isin(["S11", "S06"])].index[:32]
        return r.drop(parents)
    assert failing_checks(evaluate_example("example-pass", drop_parents)) == {"S2"}


def test_s3_fails_alone_when_one_group_is_under_half_the_mean():
    def thin_public(r):
        public = r[r["group"] == "public"].index
        return r.drop(public[:35])
    assert failing_checks(evaluate_example("example-pass", thin_public)) == {"S3"}


def test_s4_fails_alone_when_the_location_mix_drifts():
    def move_to_urban(r):
        r = r.copy()
        rows = r[(r["group"].isin(["npc_deputy", "cppcc_member", "public"])) & (r["location"] == "rural")].index[:60]
        r.loc[rows, "location"] = "urban"
        return r
    assert failing_checks(evaluate_example("example-pass", move_to_urban)) == {"S4"}


def test_s5_fails_alone_below_70_percent_valid():
    def add_incomplete(r):
        import pandas as pd
        extra = r.iloc[:330].copy()
        extra["response_id"] = extra["response_id"] + "x"
        extra["burden"] = None
        return pd.concat([r, extra], ignore_index=True)
    assert failing_checks(evaluate_example("example-pass", add_incomplete)) == {"S5"}


def test_s6_fails_alone_when_a_school_has_no_response():
    def drop_school(r):
        return r[~((r["school_code"] == "S24") & r["group"].isin(["student", "parent", "teacher"]))]
    verdict = evaluate_example("example-pass", drop_school)
    assert failing_checks(verdict) == {"S6"} and verdict.recognition.checks["S6"].figures["missing"] == ["S24"]


def test_s7_fails_alone_when_grade_bands_are_unbalanced():
    def shift_grades(r):
        r = r.copy()
        juniors = r[(r["group"] == "student") & (r["grade"] >= 7)].index[:12]
        r.loc[juniors, "grade"] = 3.0
        return r
    assert failing_checks(evaluate_example("example-pass", shift_grades)) == {"S7"}
