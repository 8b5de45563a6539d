"""The forecast of the official survey (survey.md, "Forecast of the official survey")."""

import json
import math
from statistics import NormalDist

import pytest

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import (evaluate_rate, forecast_sentence, no_forecast_sentence, official_forecast,
                                 pass_probability, probability_words)
from scoring.report import render_text
from scoring.sampling import group_targets
from tests.factories import load_profile_with, responses
from tests.test_examples import evaluate_example

PROFILE = load_profile()
OFFICIAL_1500 = {"student": 125, "parent": 750, "teacher": 125, "principal": 125, "npc_deputy": 125,
                 "cppcc_member": 125, "public": 125}


def every_group(patterns: dict[str, list[str]]) -> "responses":
    """Responses of each group from nine-letter answer strings (school-linked ones at S01)."""
    rows = [{"group": g, **dict(zip(ITEMS, pattern))} for g, ps in patterns.items() for pattern in ps]
    return responses(*rows)


def test_official_sample_is_the_plans_group_targets_parents_half():
    # T = 1500 (1,000,000 residents): parents 750, the other six 125 each (verdict.md's example).
    assert group_targets(1500, PROFILE) == OFFICIAL_1500
    verdict = evaluate_example("example-pass", county_overrides={"resident_population": 1_000_000.0})
    assert dict(verdict.recognition.official_forecast.sample) == OFFICIAL_1500


def test_official_group_sample_splits_the_remainder_by_largest_remainder_in_table_order():
    # T = 1503: parents ceil(751.5) = 752; 751 over six groups is 125 each and one left, to the first.
    assert group_targets(1503, PROFILE) == {**OFFICIAL_1500, "student": 126, "parent": 752}
    verdict = evaluate_example("example-pass", county_overrides={"resident_population": 1_002_000.0})
    assert sum(verdict.recognition.official_forecast.sample.values()) == 1503


def test_expected_rate_and_variance_follow_the_formula_with_the_simple_variance():
    verdict = evaluate_example("example-fail")
    rate, forecast = verdict.recognition.rate, verdict.recognition.official_forecast
    weights = PROFILE.design_weights()   # not renormalised
    mu = sum(weights[g] * rate.groups[g].rate for g in GROUPS)
    v = sum(weights[g] ** 2 * rate.groups[g].variance_srs * (1 + rate.groups[g].rated / forecast.sample[g])
            for g in GROUPS)
    assert forecast.expected_rate == pytest.approx(mu, abs=1e-12)
    assert forecast.sd == pytest.approx(math.sqrt(v), abs=1e-12)
    assert forecast.p_pass == pytest.approx(NormalDist().cdf((mu - 0.85) / math.sqrt(v)))


def test_docstring_example_one_group_gives_0_961():
    assert pass_probability(0.90, 0.0004 * (1 + 100 / 100), PROFILE) == pytest.approx(0.9615, abs=1e-4)


def test_no_data_gives_no_forecast_and_null_in_json():
    verdict = evaluate_example("example-pass", responses_transform=lambda r: r.iloc[0:0])
    assert verdict.recognition.official_forecast is None
    assert verdict.to_dict()["parts"]["recognition"]["official_forecast"] is None
    assert no_forecast_sentence(verdict.recognition.rate) == "还没有有效评分答卷，无法预测正式调查的结果。"


def test_a_missing_group_gives_null_and_the_sentence_names_it():
    verdict = evaluate_example("example-pass", lambda r: r[r["group"] != "cppcc_member"])
    assert verdict.recognition.official_forecast is None
    assert json.loads(json.dumps(verdict.to_dict()))["parts"]["recognition"]["official_forecast"] is None
    sentence = no_forecast_sentence(verdict.recognition.rate)
    assert "政协委员" in sentence and "无法预测" in sentence and "家长" not in sentence


def test_a_group_of_all_e_answers_counts_as_missing():
    patterns = {g: ["AAAAAAAAA", "AAAAAAAAD"] for g in GROUPS}
    patterns["public"] = ["EEEEEEEEE"]
    assert official_forecast(evaluate_rate(every_group(patterns), PROFILE), OFFICIAL_1500, PROFILE) is None


def test_v_zero_gives_p_pass_1_at_the_threshold_within_epsilon():
    assert pass_probability(0.85 - 1e-10, 0.0, PROFILE) == 1.0
    assert pass_probability(0.85 - 1e-6, 0.0, PROFILE) == 0.0
    # Every answer alike: each group's var_srs is 0, so V = 0.
    same = evaluate_rate(every_group({g: ["AAAAAAADD"] * 3 for g in GROUPS}), PROFILE)   # 7/9 < 0.85
    low = official_forecast(same, OFFICIAL_1500, PROFILE)
    assert (low.sd, low.p_pass) == (0.0, 0.0)
    high = official_forecast(evaluate_rate(every_group({g: ["AAAAAAAAD"] * 3 for g in GROUPS}), PROFILE),
                             OFFICIAL_1500, PROFILE)
    assert (high.sd, high.p_pass) == (0.0, 1.0)


def test_pooled_weights_are_the_official_sample_shares():
    pooled = load_profile_with(weights="pooled")
    verdict = evaluate_example("example-fail")
    rate = verdict.recognition.rate
    sample = verdict.recognition.official_forecast.sample
    forecast = official_forecast(rate, sample, pooled)
    total = sum(sample.values())
    assert forecast.weights == {g: sample[g] / total for g in GROUPS}
    assert forecast.expected_rate == pytest.approx(sum(sample[g] / total * rate.groups[g].rate for g in GROUPS))
    v = sum((sample[g] / total) ** 2 * rate.groups[g].variance_srs * (1 + rate.groups[g].rated / sample[g])
            for g in GROUPS)
    assert forecast.sd == pytest.approx(math.sqrt(v))


def test_probability_in_words_rounds_down_and_names_the_ends():
    assert probability_words(0.789) == "78%"
    assert probability_words(0.9499) == "94%"
    assert probability_words(0.995) == "超过 99%"
    assert probability_words(0.004) == "不到 1%"


def test_forecast_sentence_reads_as_the_issue_says():
    forecast = evaluate_example("example-fail").recognition.official_forecast
    sentence = forecast_sentence(forecast)
    assert sentence.startswith("若正式调查访问到的人群与本次相近，达到 85% 的把握超过 99%")
    assert "期望认可度 93.3%" in sentence


def test_cli_text_shows_the_forecast_in_words_and_the_caveat():
    text = render_text(evaluate_example("example-pass"))
    assert "正式调查预测：若正式调查访问到的人群与本次相近，达到 85% 的把握超过 99%" in text
    assert "只计入抽样的偶然误差" in text
    missing = render_text(evaluate_example("example-pass", lambda r: r[r["group"] != "npc_deputy"]))
    assert "人大代表" in missing and "无法预测正式调查的结果" in missing


def test_an_expected_rate_just_below_85_percent_never_reads_as_85():
    from scoring.recognition import OfficialForecast
    just_below = OfficialForecast(OFFICIAL_1500, PROFILE.design_weights(), 0.8496, 0.01, 0.48)
    assert "期望认可度 84.9%" in forecast_sentence(just_below)


def test_an_official_sample_without_some_group_gives_no_forecast():
    # T = 6: parents 3, the other three over six groups -- three groups get none.
    rate = evaluate_example("example-pass").recognition.rate
    assert official_forecast(rate, group_targets(6, PROFILE), PROFILE) is None
    assert "样本太小" in no_forecast_sentence(rate)


def test_cli_text_lists_the_what_if_when_the_forecast_is_below_95_percent(tmp_path):
    import csv
    import subprocess
    import sys

    from tests.test_examples import EXAMPLES
    with open(EXAMPLES / "example-pass" / "responses.csv", encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    # Every 14th answer all “不满意”: the chance in the official survey falls below 95 %.
    for i, rec in enumerate(records):
        if i % 14 == 0:
            rec.update(dict.fromkeys(ITEMS, "D"))
    lowered = tmp_path / "responses.csv"
    with open(lowered, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    text = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(EXAMPLES / "example-pass"),
                           "--responses", str(lowered), "--format", "text"],
                          capture_output=True, text=True, check=True).stdout
    assert "正式调查预测：若正式调查访问到的人群与本次相近，达到 85% 的把握约为" in text
    assert "补充答卷：" in text and "不会改变人们的看法" in text
