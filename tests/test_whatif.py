"""What-if of the forecast (scoring/whatif.py): the numbers are checked by evaluating again with
the answers added -- n answers reach the target, n − 1 do not."""

import pandas as pd
import pytest

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import (RecognitionAggregate, aggregate_responses, evaluate_rate,
                                 evaluate_rate_from_aggregate, official_forecast)
from scoring.sampling import SamplingPlan, group_targets
from scoring.whatif import LARGEST, PLAIN, headline, row_text, what_if
from tests.factories import responses

PROFILE = load_profile()
SAMPLE = group_targets(1500, PROFILE)     # parents 750, the others 125 each
ALL_A, ALL_D = "A" * 9, "D" * 9


def county(parents: dict[str, list[str]], others: list[str] | None = None) -> pd.DataFrame:
    """Parents per school (answer strings), every other group ``others`` (9 × all-A, 1 × all-D
    by default; school-linked ones at S01)."""
    others = others if others is not None else [ALL_A] * 9 + [ALL_D]
    rows = [{"group": "parent", "school_code": school, **dict(zip(ITEMS, a))}
            for school, answers in parents.items() for a in answers]
    rows += [{"group": g, "school_code": "S01" if g in ("student", "teacher", "principal") else None,
              **dict(zip(ITEMS, a))} for g in GROUPS if g != "parent" for a in others]
    return responses(*rows)


def plan(parent_shares: dict[str, float]) -> SamplingPlan:
    by_school = {s: {"parent": round(q * SAMPLE["parent"])} for s, q in parent_shares.items()}
    return SamplingPlan(sum(SAMPLE.values()), SAMPLE, by_school, {})


def p_pass(frame: pd.DataFrame) -> float:
    return official_forecast(evaluate_rate(frame, PROFILE), SAMPLE, PROFILE).p_pass


def p_pass_of(aggregate: RecognitionAggregate) -> float:
    return official_forecast(evaluate_rate_from_aggregate(aggregate, PROFILE), SAMPLE, PROFILE).p_pass


def with_answers_like(aggregate: RecognitionAggregate, group: str, k: int) -> RecognitionAggregate:
    """k more answers of ``group`` like those collected: a cell holding k/r of each of the group's sums."""
    cells = aggregate.cells
    rows = cells[(cells["group"] == group) & (cells["status"] == "valid") & (cells["rated"] > 0)]
    share = k / rows["rated"].sum()
    added = rows.iloc[[0]].copy()
    for column in ("sum_y", "sum_m", "sum_yy", "sum_mm", "sum_ym"):
        added[column] = rows[column].sum() * share
    added["n"] = added["rated"] = k
    return RecognitionAggregate(pd.concat([cells, added], ignore_index=True))


def evaluate_what_if(frame: pd.DataFrame, shares: dict[str, float] | None = None):
    rate = evaluate_rate(frame, PROFILE)
    return what_if(aggregate_responses(frame, PROFILE), rate, official_forecast(rate, SAMPLE, PROFILE), PROFILE,
                   plan(shares) if shares else None)


def test_group_row_n_answers_like_those_collected_reach_95_percent_and_n_minus_1_do_not():
    frame = county({"S01": [ALL_A] * 9 + [ALL_D], "S02": [ALL_A] * 9 + [ALL_D]})
    result = evaluate_what_if(frame)
    assert result.applies and result.p_pass < 0.95
    parents = next(r for r in result.group_rows if r.group == "parent")
    assert parents.answers is not None
    aggregate = aggregate_responses(frame, PROFILE)
    assert p_pass_of(with_answers_like(aggregate, "parent", parents.answers)) >= 0.95
    assert p_pass_of(with_answers_like(aggregate, "parent", parents.answers - 1)) < 0.95
    assert parents.p_pass == pytest.approx(p_pass_of(with_answers_like(aggregate, "parent", parents.answers)))


def test_school_row_checked_with_real_answers_added_at_that_school():
    # S02's parents all answered alike, so k more of the same are exactly "like those collected".
    frame = county({"S01": [ALL_A] * 7 + [ALL_D] * 3, "S02": [ALL_A] * 2})
    result = evaluate_what_if(frame, {"S01": 0.1, "S02": 0.9})
    row = next(r for r in result.school_rows if r.school_code == "S02")
    assert row.answers is not None and row.answers <= row.room

    def plus(k: int) -> pd.DataFrame:
        extra = responses(*[{"group": "parent", "school_code": "S02"}] * k)
        extra["response_id"] = [f"new{i}" for i in range(k)]
        return pd.concat([frame, extra], ignore_index=True)
    assert p_pass(plus(row.answers)) >= 0.95 > p_pass(plus(row.answers - 1))


def test_school_listed_only_below_its_plan_share_and_only_up_to_it():
    frame = county({"S01": [ALL_A] * 7 + [ALL_D] * 3, "S02": [ALL_A] * 2})
    result = evaluate_what_if(frame, {"S01": 0.1, "S02": 0.9})
    # S01 holds 10 of 12 parent answers, above its 10 % of the plan: not listed.
    assert [r.school_code for r in result.school_rows] == ["S02"]
    # (r_s + k)/(r + k) ≤ 0.9 with r_s = 2, r = 12: k ≤ (10.8 − 2)/0.1 = 88.
    assert result.school_rows[0].room == 88


def test_no_number_when_the_expected_rate_stays_below_85_percent():
    low = [ALL_A] * 8 + [ALL_D] * 2       # 80 % in every group
    result = evaluate_what_if(county({"S01": low, "S02": low}, others=low))
    assert result.group_rows and all(r.answers is None for r in result.group_rows)
    assert all("达不到" in row_text(r) for r in result.group_rows)


def test_no_number_when_the_official_samples_own_noise_stays_above_the_target():
    # μ above 85 %, but 125 official answers per group keep the chance below 95 % however many
    # parents the county adds: checked with a very large number of them.
    answers = [ALL_A] * 86 + [ALL_D] * 14     # 86 % in every group, 100 answers each
    frame = county({"S01": answers}, others=answers)
    result = evaluate_what_if(frame)
    assert result.p_pass > 0.5
    parents = next(r for r in result.group_rows if r.group == "parent")
    assert parents.answers is None
    assert p_pass_of(with_answers_like(aggregate_responses(frame, PROFILE), "parent", LARGEST)) < 0.95
    assert "正式调查自身的抽样误差始终存在" in row_text(parents)


def test_rows_are_cheapest_first_and_out_of_reach_rows_last():
    frame = county({"S01": [ALL_A] * 7 + [ALL_D] * 3, "S02": [ALL_A] * 2})
    rows = evaluate_what_if(frame, {"S01": 0.1, "S02": 0.9}).rows
    numbers = [r.answers for r in rows if r.answers is not None]
    assert numbers == sorted(numbers)
    assert all(r.answers is None for r in rows[len(numbers):])


def test_drag_is_how_much_a_group_lowers_the_expected_rate_below_the_others():
    frame = county({"S01": [ALL_A] * 6 + [ALL_D] * 4})     # parents 60 %, the others 90 %
    result = evaluate_what_if(frame)
    first = result.drags[0]
    assert first.group == "parent" and first.rate == pytest.approx(0.6) and first.others == pytest.approx(0.9)
    # μ = 0.5·0.6 + 0.5·0.9 = 0.75: parents at the others' 90 % would make it 0.90.
    assert first.points == pytest.approx(0.15)


def test_a_missing_group_gives_no_what_if_and_names_the_group():
    frame = county({"S01": [ALL_A] * 9 + [ALL_D]})
    frame = frame[frame["group"] != "public"]
    result = evaluate_what_if(frame)
    assert result.missing == ("public",) and result.rows == ()
    assert "其他群众" in headline(result) and "无法预测" in headline(result)


def test_nothing_to_add_when_the_forecast_already_reaches_95_percent():
    many = [ALL_A] * 95 + [ALL_D] * 5
    result = evaluate_what_if(county({"S01": many * 4}, others=many))
    assert result.reached and result.rows == () and "无需" in headline(result)


def test_the_plain_statement_says_answers_narrow_uncertainty_not_opinions():
    assert "不会改变人们的看法" in PLAIN


def test_headline_says_plainly_when_no_answers_anywhere_get_there():
    low = [ALL_A] * 8 + [ALL_D] * 2
    result = evaluate_what_if(county({"S01": low, "S02": low}, others=low))
    assert "任何一处补充答卷都不能" in headline(result)
    frame = county({"S01": [ALL_A] * 9 + [ALL_D], "S02": [ALL_A] * 9 + [ALL_D]})
    assert headline(evaluate_what_if(frame)).startswith("要让正式调查达到达标线的把握提高到 95%")
