"""Part S, the social recognition rate (survey.md): validity, group rates, weighted rate, interval."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from . import display
from .profile import GROUPS, ITEMS, OPTIONS, SCHOOL_GROUPS, Profile

INVALID_REASONS = ("incomplete", "duplicate", "speeder")


@dataclass(frozen=True)
class GroupRate:
    n: int              # valid responses, all-E ones included
    rated: int          # r_g: valid responses with m_i > 0
    rate: float | None  # p_g
    variance: float     # design variance of p_g (schools as clusters); the interval's
    clusters: int = 0   # C_g: schools (school-linked groups) or respondents (the others)
    variance_srs: float = 0.0  # simple-random-sample variance, kept for comparison


@dataclass(frozen=True)
class RateResult:
    status: str                      # robust_pass | marginal_pass | fail | no_data
    rate: float | None
    pooled_rate: float | None
    variance: float | None           # design variance of the rate
    ci95: tuple[float, float] | None
    lower_bound_95: float | None
    groups: Mapping[str, GroupRate]
    weights: Mapping[str, float]     # renormalised over present groups
    collected: int
    valid: int
    invalid: Mapping[str, int]
    warnings: tuple[str, ...]
    variance_srs: float | None = None
    ci95_srs: tuple[float, float] | None = None
    lower_bound_95_srs: float | None = None
    thin_groups: tuple[str, ...] = ()  # present groups whose variance says little, in GROUPS order




def category_codes(column: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    """Integer codes of ``column`` over ``categories`` (-1 for empty/other); cheap when already categorical."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        known = list(column.cat.categories)
        table = np.array([categories.index(c) if c in categories else -1 for c in known] + [-1], dtype=np.int8)
        return table[column.cat.codes.to_numpy()]
    return pd.Categorical(column, categories=list(categories)).codes.astype(np.int8)


def answer_codes(responses: pd.DataFrame) -> np.ndarray:
    """The nine answers as an n×9 matrix of option indexes (A=0 … E=4, -1 unanswered).

    Stored column by column (Fortran order): scoring reads an item across a million rows,
    which in a row-major matrix strides through all of it."""
    answers = np.empty((len(responses), len(ITEMS)), dtype=np.int8, order="F")
    for k, item in enumerate(ITEMS):
        answers[:, k] = category_codes(responses[item], OPTIONS)
    return answers


def classify_validity(responses: pd.DataFrame, profile: Profile, answers: np.ndarray | None = None) -> pd.Series:
    """'valid' or the first invalidity rule that applies: incomplete, duplicate, speeder."""
    if answers is None:
        answers = answer_codes(responses)
    incomplete = (answers < 0).any(axis=1)
    dup = responses["duplicate_of"]
    duplicate = (dup.notna() & (dup.astype(str) != "")).to_numpy()
    # Durations are compared exactly (standard.md "Comparisons").
    speeder = (responses["duration_s"].fillna(0) < float(profile.recognition["min_duration_s"])).to_numpy()
    # Small integer codes, categorical: a million Python strings cost more than the rules.
    status = np.select([incomplete, duplicate, speeder], [1, 2, 3], default=0).astype(np.int8)
    return pd.Series(pd.Categorical.from_codes(status, categories=["valid", *INVALID_REASONS]),
                     index=responses.index)


def scores(responses: pd.DataFrame, profile: Profile, answers: np.ndarray | None = None) -> pd.DataFrame:
    """y_i (recognised weight) and m_i (weight of answers that count) per response."""
    rec = profile.recognition
    if answers is None:
        answers = answer_codes(responses)
    y, m = np.zeros(len(answers)), np.zeros(len(answers))
    # Item by item, in the order of survey.md's sum, each a lookup by option index (the
    # trailing entry is what code -1, unanswered, picks): a million rows by nine items as
    # floats would be 72 MB. With integer weights (the default) every order gives the same sums.
    for k, item in enumerate(ITEMS):
        weight = float(rec["item_weights"][item])
        y += np.array([weight if o in rec["recognised"] else 0.0 for o in OPTIONS] + [0.0])[answers[:, k]]
        m += np.array([weight if o in rec["recognised"] or o in rec["not_recognised"] else 0.0
                       for o in OPTIONS] + [0.0])[answers[:, k]]
    return pd.DataFrame({"y": y, "m": m}, index=responses.index, copy=False)


ALONE = -1  # cluster id of a response that is a cluster of its own


def ratio_variance(y: np.ndarray, m: np.ndarray, strata: np.ndarray, n_strata: int,
                   clusters: np.ndarray | None = None) -> pd.DataFrame:
    """Ratio estimator p_g = Σy/Σm per stratum 0..n_strata-1 and its two linearised variances.

    With z_i = (y_i − p_g·m_i)/Σm and, per cluster c, Z_c = Σ_{i∈c} z_i (survey.md):
    design  var = C/(C−1)·Σ_c Z_c²   (ultimate-cluster Taylor variance, 0 when C < 2),
    simple  var_srs = r/(r−1)·Σ_i z_i²  (0 when r < 2).
    ``clusters`` holds a cluster id ≥ 0 per response (a school, numbered within the
    whole frame) or ALONE; without it every response is a cluster alone (design = simple).
    """
    strata = np.asarray(strata, dtype=np.intp)
    sum_y = np.bincount(strata, weights=y, minlength=n_strata)
    sum_m = np.bincount(strata, weights=m, minlength=n_strata)
    r = np.bincount(strata, minlength=n_strata).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = sum_y / sum_m
        # z = (y − p·m) / Σm, in place: a million rows make each temporary 8 MB.
        z = p[strata]
        z *= m
        np.subtract(y, z, out=z)
        z /= sum_m[strata]
        ss_srs = np.bincount(strata, weights=z * z, minlength=n_strata)
        if clusters is None:
            clusters = np.full(len(y), ALONE)
        alone = clusters == ALONE
        # A cluster alone adds its own z_i² and counts one; schools add Z_c² over their members.
        ss_design = np.bincount(strata[alone], weights=z[alone] ** 2, minlength=n_strata).astype(float)
        n_clusters = np.bincount(strata[alone], minlength=n_strata).astype(float)
        if not alone.all():
            width = int(clusters.max()) + 1
            key = strata[~alone] * width + clusters[~alone]
            big_z = np.bincount(key, weights=z[~alone], minlength=n_strata * width).reshape(n_strata, width)
            seen = np.bincount(key, minlength=n_strata * width).reshape(n_strata, width) > 0
            ss_design += (big_z ** 2).sum(axis=1)
            n_clusters += seen.sum(axis=1)
        var_srs = np.where(r >= 2, r / (r - 1) * ss_srs, 0.0)
        var = np.where(n_clusters >= 2, n_clusters / (n_clusters - 1) * ss_design, 0.0)
    return pd.DataFrame({"rate": p, "variance": var, "variance_srs": var_srs, "rated": r.astype(int),
                         "clusters": n_clusters.astype(int)})


def school_clusters(responses: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Cluster id per response: its school for the school-linked groups, ALONE for the others.

    Ids number the schools of the frame (or of its ``rows``, a mask) in order of first
    appearance, so in the pooled stratum a school's students, parents, teachers and
    principals share one cluster; a school-linked response without a school is alone.
    """
    linked = responses["group"].isin(SCHOOL_GROUPS).to_numpy()
    codes, _ = pd.factorize(responses["school_code"])  # -1 (ALONE) for no school
    if rows is not None:
        # Numbered again within the rows, as if only they were there: integers hash faster
        # than the text, and taking a million rows of text would copy it.
        linked, codes = linked[rows], codes[rows]
        known = codes >= 0
        codes[known] = pd.factorize(codes[known])[0]
    codes[~linked] = ALONE
    return codes


def evaluate_rate(responses: pd.DataFrame | None, profile: Profile, validity: pd.Series | None = None,
                  answers: np.ndarray | None = None) -> RateResult:
    """The weighted recognition rate of survey.md from one row per response."""
    if responses is None or responses.empty:
        return _no_responses()
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
    y, m = ym["y"].to_numpy()[rated], ym["m"].to_numpy()[rated]
    del ym  # 16 MB a million rows: what follows reads only the rated rows
    clusters = school_clusters(responses, rated)
    per_group = ratio_variance(y, m, group[rated], len(GROUPS), clusters)
    pooled = ratio_variance(y, m, np.zeros(len(y), np.intp), 1, clusters)
    return _rate_result(per_group, pooled, n_by_group, int(len(responses)), int(valid_mask.sum()), invalid,
                        profile)


def _no_responses() -> RateResult:
    empty_groups = {g: GroupRate(0, 0, None, 0.0) for g in GROUPS}
    return RateResult("no_data", None, None, None, None, None, empty_groups, {}, 0, 0,
                      {k: 0 for k in INVALID_REASONS}, ())


def _rate_result(per_group: pd.DataFrame, pooled: pd.DataFrame, n_by_group: np.ndarray, collected: int,
                 valid: int, invalid: Mapping[str, int], profile: Profile) -> RateResult:
    """Weights, intervals, thin groups and status from the per-group and pooled estimates."""
    rec = profile.recognition
    groups = {}
    for k, g in enumerate(GROUPS):
        row = per_group.iloc[k]
        r = int(row["rated"])
        groups[g] = GroupRate(int(n_by_group[k]), r, float(row["rate"]) if r else None,
                              float(row["variance"]) if r else 0.0, int(row["clusters"]) if r else 0,
                              float(row["variance_srs"]) if r else 0.0)
    common = dict(groups=groups, collected=collected, valid=valid, invalid=invalid)
    present = [g for g in GROUPS if groups[g].rated > 0]
    if not present:
        return RateResult("no_data", None, None, None, None, None, weights={}, warnings=(), **common)

    pooled_rate = float(pooled["rate"].iloc[0])
    if rec["weights"] == "pooled":
        rate = pooled_rate
        variance, variance_srs = float(pooled["variance"].iloc[0]), float(pooled["variance_srs"].iloc[0])
        weights = {}
    else:
        design = profile.design_weights()
        total = sum(design[g] for g in present)
        weights = {g: design[g] / total for g in present}
        rate = sum(weights[g] * groups[g].rate for g in present)
        variance = sum(weights[g] ** 2 * groups[g].variance for g in present)
        variance_srs = sum(weights[g] ** 2 * groups[g].variance_srs for g in present)

    z2, z1 = float(rec["z_two_sided_95"]), float(rec["z_one_sided_95"])

    def interval(var: float) -> tuple[tuple[float, float], float]:
        sd = float(np.sqrt(var))
        return (max(0.0, rate - z2 * sd), min(1.0, rate + z2 * sd)), rate - z1 * sd

    ci95, lower = interval(variance)
    ci95_srs, lower_srs = interval(variance_srs)
    thin = thin_groups(groups, profile)
    threshold = float(rec["recognition_threshold"])
    # A thin group has a variance that says little, so it cannot make the rate robust.
    if profile.at_least(lower, threshold) and not thin:
        status = "robust_pass"
    elif profile.at_least(rate, threshold):
        status = "marginal_pass"
    else:
        status = "fail"
    warnings = tuple(thin_group_warning(g, groups[g], profile) for g in thin)
    return RateResult(status, rate, pooled_rate, variance, ci95, lower, weights=weights, warnings=warnings,
                      variance_srs=variance_srs, ci95_srs=ci95_srs, lower_bound_95_srs=lower_srs,
                      thin_groups=thin, **common)


def thin_groups(groups: Mapping[str, GroupRate], profile: Profile) -> tuple[str, ...]:
    """Present groups with r_g < min_group_n_warning, or school-linked ones from fewer than 2 schools."""
    minimum = int(profile.recognition["min_group_n_warning"])
    return tuple(g for g in GROUPS if groups[g].rated > 0 and (
        groups[g].rated < minimum or (g in SCHOOL_GROUPS and groups[g].clusters < 2)))


GROUP_NAMES = {"student": "学生", "parent": "家长", "teacher": "教师", "principal": "校长",
               "npc_deputy": "人大代表", "cppcc_member": "政协委员", "public": "其他群众"}


def thin_group_warning(group: str, rate: GroupRate, profile: Profile) -> str:
    """A plain Chinese sentence for a bureau: why this group's figure is shaky and what fixes it."""
    minimum = int(profile.recognition["min_group_n_warning"])
    source = f"，来自 {rate.clusters} 所学校" if group in SCHOOL_GROUPS else ""
    need = f"至少 {minimum} 份" + ("、来自 2 所以上学校" if group in SCHOOL_GROUPS else "")
    return (f"{GROUP_NAMES[group]}只有 {rate.rated} 份有效评分问卷{source}，这一组的认可度偶然性很大，"
            f"区间不可信；补足到{need}之前，结论不能算稳健达标")


# ---- sufficient statistics -------------------------------------------------------------------
#
# The rate and both variances need only sums per (group, cluster). Within group g, with
# Y = Σy, M = Σm, p = Y/M and z_i = (y_i − p·m_i)/M:
#   simple:  Σ_i z_i² = (Σy² − 2p·Σym + p²·Σm²) / M²          — sums of squares per group;
#   design:  Σ_c Z_c² = Σ_c (Y_c − p·M_c)² / M²               — Y_c, M_c per school;
#   C_g = schools with a rated response (school-linked) or r_g (the others).
# Deputies, CPPCC members and the public are clusters of one, so their Σ_c Z_c² is their
# Σ_i z_i²: the aggregate keeps no school for them, and the sums of squares of their rows
# are enough, however many respondents a row sums. A cell may be finer than a cluster (a
# school's students by grade): sums add, so cells are first summed per school. S1–S7 need
# only counts of valid responses by group, location, school and student grade (sampling.py
# ``sample_counts``). Invalid responses keep their count and carry y = m = 0; a valid all-E
# response has y = m = 0 too, so it counts in n but not in ``rated`` or any sum.

AGGREGATE_KEYS = ("group", "school_code", "location", "grade", "status")
AGGREGATE_SUMS = ("n", "rated", "sum_y", "sum_m", "sum_yy", "sum_mm", "sum_ym")


@dataclass(frozen=True)
class RecognitionAggregate:
    """Part S's sufficient statistics: one row per (group, school, location, grade, status).

    Columns of ``cells`` (the service can fill them from one SQL GROUP BY):

    - ``group``: a GROUPS code; ``school_code``: the school for student/parent/teacher/
      principal rows, None for the others (they are clusters of one) and for a school-linked
      response without a school; ``location``: urban/town/rural; ``grade``: the student's
      grade as float, NaN when empty and for every other group;
    - ``status``: valid, incomplete, duplicate or speeder (``classify_validity``);
    - ``n``: responses; ``rated``: valid responses with m_i > 0;
    - ``sum_y``, ``sum_m``, ``sum_yy``, ``sum_mm``, ``sum_ym``: Σy, Σm, Σy², Σm², Σy·m over
      the row's valid responses (0 for invalid rows), y and m as ``scores`` under the profile.
    """
    cells: pd.DataFrame

    def valid_cells(self) -> pd.DataFrame:
        return self.cells[self.cells["status"] == "valid"]


def aggregate_responses(responses: pd.DataFrame, profile: Profile, validity: pd.Series | None = None,
                        answers: np.ndarray | None = None) -> RecognitionAggregate:
    """The sufficient statistics of ``responses`` (one row per response) under ``profile``."""
    if answers is None:
        answers = answer_codes(responses)
    if validity is None:
        validity = classify_validity(responses, profile, answers)
    valid = (validity == "valid").to_numpy()
    ym = scores(responses, profile, answers)
    y = np.where(valid, ym["y"].to_numpy(), 0.0)
    m = np.where(valid, ym["m"].to_numpy(), 0.0)
    group = responses["group"].astype(str)
    linked = group.isin(SCHOOL_GROUPS)
    rows = pd.DataFrame({
        "group": group.to_numpy(),
        "school_code": responses["school_code"].where(linked).astype(object).to_numpy(),
        "location": responses["location"].astype(str).to_numpy(),
        "grade": pd.to_numeric(responses["grade"], errors="coerce").where(group == "student").to_numpy(float),
        "status": validity.to_numpy(),
        "n": 1, "rated": (valid & (m > 0)).astype(int),
        "sum_y": y, "sum_m": m, "sum_yy": y * y, "sum_mm": m * m, "sum_ym": y * m,
    })
    cells = rows.groupby(list(AGGREGATE_KEYS), dropna=False, sort=True)[list(AGGREGATE_SUMS)].sum().reset_index()
    cells["school_code"] = cells["school_code"].astype(object).where(cells["school_code"].notna(), None)
    return RecognitionAggregate(cells)


def ratio_variance_from_sums(cells: pd.DataFrame, strata: np.ndarray, n_strata: int) -> pd.DataFrame:
    """``ratio_variance`` from cells of sums (see the algebra above); ``strata`` per cell.

    Cells with a ``school_code`` are summed per (stratum, school) into clusters; cells
    without one are clusters of one respondent each.
    """
    def per_stratum(values, where=None) -> np.ndarray:
        s = strata if where is None else strata[where]
        v = values if where is None else values[where]
        return np.bincount(s, weights=v, minlength=n_strata).astype(float)

    r, big_y, big_m = (per_stratum(cells[c].to_numpy(float)) for c in ("rated", "sum_y", "sum_m"))
    yy, mm, ym = (cells[c].to_numpy(float) for c in ("sum_yy", "sum_mm", "sum_ym"))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = big_y / big_m
        ps = p[strata]
        # Σ(y − p·m)² of each cell, expanded: what is left below the rounding of its terms
        # is 0 (every y_i = p·m_i), not noise whose square root would move the interval.
        squares = yy - 2 * ps * ym + ps * ps * mm
        squares = np.where(squares > 1e-12 * (yy + ps * ps * mm), squares, 0.0)
        ss_srs = per_stratum(squares) / big_m ** 2
        school = cells["school_code"].notna().to_numpy()
        ss_design = per_stratum(squares, ~school)
        n_clusters = per_stratum(cells["rated"].to_numpy(float), ~school)
        if school.any():
            sc = pd.DataFrame({"stratum": strata[school], "school": cells["school_code"].to_numpy()[school],
                               "y": cells["sum_y"].to_numpy(float)[school], "m": cells["sum_m"].to_numpy(float)[school],
                               "r": cells["rated"].to_numpy(float)[school]})
            sc = sc.groupby(["stratum", "school"], sort=False).sum().reset_index()
            sc = sc[sc["r"] > 0]
            st = sc["stratum"].to_numpy(np.intp)
            ss_design += np.bincount(st, weights=(sc["y"].to_numpy() - p[st] * sc["m"].to_numpy()) ** 2,
                                     minlength=n_strata)
            n_clusters += np.bincount(st, minlength=n_strata)
        ss_design = ss_design / big_m ** 2
        var_srs = np.where(r >= 2, r / (r - 1) * ss_srs, 0.0)
        var = np.where(n_clusters >= 2, n_clusters / (n_clusters - 1) * ss_design, 0.0)
    return pd.DataFrame({"rate": p, "variance": var, "variance_srs": var_srs, "rated": r.astype(int),
                         "clusters": n_clusters.astype(int)})


def evaluate_rate_from_aggregate(aggregate: RecognitionAggregate, profile: Profile) -> RateResult:
    """``evaluate_rate`` from sufficient statistics: equal to it on the responses aggregated."""
    cells = aggregate.cells
    if cells.empty or int(cells["n"].sum()) == 0:
        return _no_responses()
    by_status = cells.groupby("status")["n"].sum()
    invalid = {k: int(by_status.get(k, 0)) for k in INVALID_REASONS}
    valid = aggregate.valid_cells()
    group = np.array([GROUPS.index(g) for g in valid["group"]], dtype=np.intp)
    n_by_group = np.bincount(group, weights=valid["n"].to_numpy(float), minlength=len(GROUPS)).astype(int)
    rated = valid[valid["rated"] > 0]
    rated_group = group[(valid["rated"] > 0).to_numpy()]
    per_group = ratio_variance_from_sums(rated, rated_group, len(GROUPS))
    pooled = ratio_variance_from_sums(rated, np.zeros(len(rated), np.intp), 1)
    return _rate_result(per_group, pooled, n_by_group, int(cells["n"].sum()), int(valid["n"].sum()), invalid,
                        profile)


def respondent_scores(answers: Mapping[str, str | None], profile: Profile) -> tuple[float, float]:
    """y_i and m_i of one respondent (survey.md): the item weights of its recognised answers,
    and of the answers that count (recognised or not recognised; "don't know" counts in neither)."""
    rec = profile.recognition
    weights = rec["item_weights"]
    y = sum(float(weights[i]) for i in ITEMS if answers.get(i) in rec["recognised"])
    m = y + sum(float(weights[i]) for i in ITEMS if answers.get(i) in rec["not_recognised"])
    return y, m


# ---- the forecast of the official survey -----------------------------------------------------

@dataclass(frozen=True)
class OfficialForecast:
    """How likely the official survey is to reach the threshold (survey.md, "Forecast of the
    official survey"), if it reaches the same kind of people as the county's own survey.

    With the official sample n_g^off (the sampling plan's group targets), the design weights
    W_g not renormalised (``weights: pooled``: W_g = n_g^off / T), the group rates p_g, their
    simple variances var_srs(p_g) and r_g rated responses per group::

        μ      = Σ W_g·p_g
        V      = Σ W_g²·var_srs(p_g)·(1 + r_g / n_g^off)
        p_pass = Φ((μ − threshold) / √V)        (V = 0: 1 when μ ≥ threshold, else 0)

    The first term of V is what the rehearsal leaves unknown about p_g, the second the
    official sample's own noise (r_g·var_srs(p_g) per rated response over n_g^off responses).
    E.g. one group, W = 1, p = 0.90, var_srs = 0.0004, r = 100, n^off = 100: V = 0.0008,
    √V ≈ 0.0283, p_pass = Φ(1.768) ≈ 0.961.
    """
    sample: Mapping[str, int]      # n_g^off, every GROUPS code
    weights: Mapping[str, float]   # W_g
    expected_rate: float           # μ
    sd: float                      # √V
    p_pass: float
    threshold: float = 0.85        # the recognition threshold it was computed for

    def to_dict(self) -> dict:
        return {"sample": dict(self.sample), "expected_rate": self.expected_rate, "sd": self.sd,
                "p_pass": self.p_pass}


def forecast_weights(sample: Mapping[str, int], profile: Profile) -> dict[str, float]:
    """W_g of the forecast: the design weights as they are, or n_g^off / T under ``weights: pooled``."""
    if profile.recognition["weights"] == "pooled":
        total = sum(sample.values())
        return {g: sample[g] / total for g in GROUPS}
    return profile.design_weights()


def missing_groups(rate: RateResult) -> tuple[str, ...]:
    """Groups without a rated response, in GROUPS order: with any of them no forecast can be made."""
    return tuple(g for g in GROUPS if rate.groups[g].rated == 0)


def pass_probability(mu: float, variance: float, profile: Profile) -> float:
    """Φ((μ − threshold)/√V); with V = 0, 1 when μ reaches the threshold (within epsilon), else 0."""
    threshold = float(profile.recognition["recognition_threshold"])
    if variance <= 0:
        return 1.0 if profile.at_least(mu, threshold) else 0.0
    return NormalDist().cdf((mu - threshold) / math.sqrt(variance))


def official_forecast(rate: RateResult, sample: Mapping[str, int], profile: Profile) -> OfficialForecast | None:
    """The forecast from the group rates of ``rate`` and the official ``sample`` by group
    (``sampling.group_targets``); None without data or when a group has no rated response (and
    when the official sample has none of some group, which only a sample below 7 can)."""
    if rate.status == "no_data" or missing_groups(rate) or min(sample[g] for g in GROUPS) <= 0:
        return None
    weights = forecast_weights(sample, profile)
    mu = sum(weights[g] * rate.groups[g].rate for g in GROUPS)
    variance = sum(weights[g] ** 2 * rate.groups[g].variance_srs * (1 + rate.groups[g].rated / sample[g])
                   for g in GROUPS)
    return OfficialForecast(dict(sample), weights, mu, math.sqrt(variance), pass_probability(mu, variance, profile),
                            float(profile.recognition["recognition_threshold"]))


# ---- the forecast in words (pages, the report, the CLI) --------------------------------------

FORECAST_CAVEAT = ("这一预测假定正式调查访问到的人群与本次调查相近：它只计入抽样的偶然误差，"
                   "不反映谁愿意扫码作答带来的偏差，仅供参考。")


def probability_words(p: float) -> str:
    """A chance as a bureau reads it: whole percents rounded down (a chance just below the
    target never reads as reaching it), “超过 99%” and “不到 1%” at the ends."""
    if p > 0.99:
        return "超过 99%"
    if p < 0.01:
        return "不到 1%"
    return f"{math.floor(p * 100 + 1e-9)}%"


def forecast_sentence(forecast: OfficialForecast) -> str:
    """E.g. “若正式调查访问到的人群与本次相近，达到 85% 的把握约为 78%（期望认可度 87.1%，上下波动约 2.3 个百分点）”."""
    threshold = forecast.threshold
    chance = probability_words(forecast.p_pass)
    chance = chance if chance[0] in "超不" else f"约为 {chance}"
    return (f"若正式调查访问到的人群与本次相近，达到 {threshold:.0%} 的把握{chance}"
            f"（期望认可度 {display.percent(forecast.expected_rate, passed=forecast.expected_rate >= threshold - 1e-9)}，"
            f"上下波动约 {forecast.sd * 100:.1f} 个百分点）")


def no_forecast_sentence(rate: RateResult) -> str:
    """Why there is no forecast: no data, or the groups without a rated answer."""
    missing = missing_groups(rate)
    if rate.status == "no_data":
        return "还没有有效评分答卷，无法预测正式调查的结果。"
    if not missing:
        return "正式调查样本太小，有的群体分不到一份，无法预测正式调查的结果。"
    return ("以下群体没有有效评分答卷：" + "、".join(GROUP_NAMES[g] for g in missing)
            + "。正式调查七类群体都要访问，缺少任何一类都无法预测正式调查的结果。")
