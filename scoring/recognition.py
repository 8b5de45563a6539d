"""Part S, the social recognition rate (survey.md): validity, group rates, weighted rate, interval."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .profile import GROUPS, ITEMS, Profile

INVALID_REASONS = ("incomplete", "duplicate", "speeder")


@dataclass(frozen=True)
class GroupRate:
    n: int              # valid responses, all-E ones included
    rated: int          # r_g: valid responses with m_i > 0
    rate: float | None  # p_g
    variance: float


@dataclass(frozen=True)
class RateResult:
    status: str                      # robust_pass | marginal_pass | fail | no_data
    rate: float | None
    pooled_rate: float | None
    variance: float | None
    ci95: tuple[float, float] | None
    lower_bound_95: float | None
    groups: Mapping[str, GroupRate]
    weights: Mapping[str, float]     # renormalised over present groups
    collected: int
    valid: int
    invalid: Mapping[str, int]
    warnings: tuple[str, ...]


OPTIONS = ("A", "B", "C", "D", "E")


def category_codes(column: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    """Integer codes of ``column`` over ``categories`` (-1 for empty/other); cheap when already categorical."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        known = list(column.cat.categories)
        table = np.array([categories.index(c) if c in categories else -1 for c in known] + [-1], dtype=np.int8)
        return table[column.cat.codes.to_numpy()]
    return pd.Categorical(column, categories=list(categories)).codes.astype(np.int8)


def answer_codes(responses: pd.DataFrame) -> np.ndarray:
    """The nine answers as an n×9 matrix of option indexes (A=0 … E=4, -1 unanswered)."""
    return np.column_stack([category_codes(responses[item], OPTIONS) for item in ITEMS]) if len(responses) \
        else np.empty((0, len(ITEMS)), dtype=np.int8)


def classify_validity(responses: pd.DataFrame, profile: Profile, answers: np.ndarray | None = None) -> pd.Series:
    """'valid' or the first invalidity rule that applies: incomplete, duplicate, speeder."""
    if answers is None:
        answers = answer_codes(responses)
    incomplete = (answers < 0).any(axis=1)
    dup = responses["duplicate_of"]
    duplicate = (dup.notna() & (dup.astype(str) != "")).to_numpy()
    # Durations are compared exactly (standard.md "Comparisons").
    speeder = (responses["duration_s"].fillna(0) < float(profile.recognition["min_duration_s"])).to_numpy()
    status = np.select([incomplete, duplicate, speeder], list(INVALID_REASONS), default="valid")
    return pd.Series(status, index=responses.index)


def scores(responses: pd.DataFrame, profile: Profile, answers: np.ndarray | None = None) -> pd.DataFrame:
    """y_i (recognised weight) and m_i (weight of answers that count) per response."""
    rec = profile.recognition
    if answers is None:
        answers = answer_codes(responses)
    weights = np.array([float(rec["item_weights"][item]) for item in ITEMS])
    recognised = np.isin(answers, [OPTIONS.index(o) for o in rec["recognised"]])
    counted = recognised | np.isin(answers, [OPTIONS.index(o) for o in rec["not_recognised"]])
    return pd.DataFrame({"y": recognised @ weights, "m": counted @ weights}, index=responses.index)


def ratio_variance(y: np.ndarray, m: np.ndarray, groups: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Ratio estimator p_g = Σy/Σm and its linearised variance, per group code 0..n_groups-1."""
    sum_y = np.bincount(groups, weights=y, minlength=n_groups)
    sum_m = np.bincount(groups, weights=m, minlength=n_groups)
    r = np.bincount(groups, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = sum_y / sum_m
        ss = np.bincount(groups, weights=(y - p[groups] * m) ** 2, minlength=n_groups)
        var = np.where(r >= 2, r / (r - 1) * ss / sum_m ** 2, 0.0)
    return pd.DataFrame({"rate": p, "variance": var, "rated": r.astype(int)})


def evaluate_rate(responses: pd.DataFrame | None, profile: Profile, validity: pd.Series | None = None,
                  answers: np.ndarray | None = None) -> RateResult:
    rec = profile.recognition
    empty_groups = {g: GroupRate(0, 0, None, 0.0) for g in GROUPS}
    if responses is None or responses.empty:
        return RateResult("no_data", None, None, None, None, None, empty_groups, {}, 0, 0,
                          {k: 0 for k in INVALID_REASONS}, ())
    if answers is None:
        answers = answer_codes(responses)
    if validity is None:
        validity = classify_validity(responses, profile, answers)
    counts = validity.value_counts()
    invalid = {k: int(counts.get(k, 0)) for k in INVALID_REASONS}
    valid_mask = (validity == "valid").to_numpy()
    ym = scores(responses, profile, answers)
    group = category_codes(responses["group"], GROUPS)
    n_by_group = np.bincount(group[valid_mask], minlength=len(GROUPS))
    rated = valid_mask & (ym["m"].to_numpy() > 0)
    per_group = ratio_variance(ym["y"].to_numpy()[rated], ym["m"].to_numpy()[rated], group[rated], len(GROUPS))

    groups = {}
    for k, g in enumerate(GROUPS):
        row = per_group.iloc[k]
        rated_g = int(row["rated"])
        groups[g] = GroupRate(int(n_by_group[k]), rated_g, float(row["rate"]) if rated_g else None,
                              float(row["variance"]) if rated_g else 0.0)

    common = dict(groups=groups, collected=int(len(responses)), valid=int(valid_mask.sum()), invalid=invalid)
    if not rated.any():
        return RateResult("no_data", None, None, None, None, None, weights={}, warnings=(), **common)

    pooled = ratio_variance(ym["y"].to_numpy()[rated], ym["m"].to_numpy()[rated], np.zeros(rated.sum(), int), 1)
    pooled_rate, pooled_var = float(pooled["rate"].iloc[0]), float(pooled["variance"].iloc[0])
    present = [g for g in GROUPS if groups[g].rated > 0]
    if rec["weights"] == "pooled":
        rate, variance = pooled_rate, pooled_var
        weights = {}
    else:
        design = profile.design_weights()
        total = sum(design[g] for g in present)
        weights = {g: design[g] / total for g in present}
        rate = sum(weights[g] * groups[g].rate for g in present)
        variance = sum(weights[g] ** 2 * groups[g].variance for g in present)

    sd = float(np.sqrt(variance))
    z2, z1 = float(rec["z_two_sided_95"]), float(rec["z_one_sided_95"])
    ci95 = (max(0.0, rate - z2 * sd), min(1.0, rate + z2 * sd))
    lower = rate - z1 * sd
    threshold = float(rec["recognition_threshold"])
    if profile.at_least(lower, threshold):
        status = "robust_pass"
    elif profile.at_least(rate, threshold):
        status = "marginal_pass"
    else:
        status = "fail"
    warnings = tuple(
        f"{g}：有效评分问卷 {groups[g].rated} 份" + ("，方差为 0" if groups[g].variance == 0 else "")
        + "，该组区间不可信"
        for g in present
        if groups[g].rated < int(rec["min_group_n_warning"]) or groups[g].variance == 0
    )
    return RateResult(status, rate, pooled_rate, variance, ci95, lower, weights=weights, warnings=warnings,
                      **common)


def respondent_scores(answers: Mapping[str, str | None], profile: Profile) -> tuple[float, float]:
    """y_i and m_i of one respondent (survey.md): the item weights of its recognised answers,
    and of the answers that count (recognised or not recognised; "don't know" counts in neither)."""
    rec = profile.recognition
    weights = rec["item_weights"]
    y = sum(float(weights[i]) for i in ITEMS if answers.get(i) in rec["recognised"])
    m = y + sum(float(weights[i]) for i in ITEMS if answers.get(i) in rec["not_recognised"])
    return y, m
