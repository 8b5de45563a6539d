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


def classify_validity(responses: pd.DataFrame, profile: Profile) -> pd.Series:
    """'valid' or the first invalidity rule that applies: incomplete, duplicate, speeder."""
    incomplete = responses[list(ITEMS)].isna().any(axis=1)
    duplicate = responses["duplicate_of"].notna() & (responses["duplicate_of"].astype(str) != "")
    # Durations are compared exactly (standard.md "Comparisons").
    speeder = responses["duration_s"].fillna(0) < float(profile.recognition["min_duration_s"])
    status = np.select([incomplete, duplicate, speeder], list(INVALID_REASONS), default="valid")
    return pd.Series(status, index=responses.index)


def scores(responses: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """y_i (recognised weight) and m_i (weight of answers that count) per response."""
    rec = profile.recognition
    recognised = list(rec["recognised"])
    counted = recognised + list(rec["not_recognised"])
    weights = rec["item_weights"]
    y = np.zeros(len(responses))
    m = np.zeros(len(responses))
    for item in ITEMS:
        answers = responses[item]
        y += float(weights[item]) * answers.isin(recognised).to_numpy()
        m += float(weights[item]) * answers.isin(counted).to_numpy()
    return pd.DataFrame({"y": y, "m": m}, index=responses.index)


def ratio_variance(y: pd.Series, m: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Ratio estimator p_g = Σy/Σm and its linearised variance, per group."""
    sums = pd.DataFrame({"y": y, "m": m}).groupby(groups, observed=True).agg(
        y=("y", "sum"), m=("m", "sum"), r=("y", "size"))
    p = sums["y"] / sums["m"]
    residual = (y - groups.map(p).astype(float) * m) ** 2
    ss = residual.groupby(groups, observed=True).sum()
    r = sums["r"]
    var = (r / (r - 1)).where(r >= 2, 0.0) * ss / sums["m"] ** 2
    return pd.DataFrame({"rate": p, "variance": var.where(r >= 2, 0.0), "rated": r})


def evaluate_rate(responses: pd.DataFrame | None, profile: Profile,
                  validity: pd.Series | None = None) -> RateResult:
    rec = profile.recognition
    empty_groups = {g: GroupRate(0, 0, None, 0.0) for g in GROUPS}
    if responses is None or responses.empty:
        return RateResult("no_data", None, None, None, None, None, empty_groups, {}, 0, 0,
                          {k: 0 for k in INVALID_REASONS}, ())
    if validity is None:
        validity = classify_validity(responses, profile)
    counts = validity.value_counts()
    invalid = {k: int(counts.get(k, 0)) for k in INVALID_REASONS}
    valid_mask = validity == "valid"
    valid = responses[valid_mask]
    ym = scores(valid, profile)
    group = valid["group"].astype(str)
    n_by_group = group.value_counts()
    rated = ym["m"] > 0
    per_group = ratio_variance(ym.loc[rated, "y"], ym.loc[rated, "m"], group[rated])

    groups = {}
    for g in GROUPS:
        if g in per_group.index:
            row = per_group.loc[g]
            groups[g] = GroupRate(int(n_by_group.get(g, 0)), int(row["rated"]), float(row["rate"]),
                                  float(row["variance"]))
        else:
            groups[g] = GroupRate(int(n_by_group.get(g, 0)), 0, None, 0.0)

    common = dict(groups=groups, collected=int(len(responses)), valid=int(valid_mask.sum()), invalid=invalid)
    if not rated.any():
        return RateResult("no_data", None, None, None, None, None, weights={}, warnings=(), **common)

    pooled = ratio_variance(ym.loc[rated, "y"], ym.loc[rated, "m"], pd.Series("all", index=ym.index[rated]))
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
