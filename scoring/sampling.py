"""Sampling checks S1-S7 and the quota plan (survey.md)."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import display
from .profile import GROUPS, LOCATIONS, Profile
from .recognition import GROUP_NAMES
from .scope import compulsory_students, has_section, in_scope

OTHER_GROUPS = tuple(g for g in GROUPS if g != "parent")
COVERAGE_GROUPS = ("student", "parent", "teacher")
LOCATION_NAMES = {"urban": "城区", "town": "镇区", "rural": "乡村"}
BANDS = {"3-4": (3, 4), "5-6": (5, 6), "7-9": (7, 9)}


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    reason: str | None = None
    figures: Mapping[str, Any] = field(default_factory=dict)


def required_sample(resident_population: float, profile: Profile) -> int:
    s = profile.sampling
    # The epsilon keeps float noise (e.g. 780.0000000001) from adding a respondent.
    required = math.ceil(resident_population * float(s["sample_per_mille"]) / 1000 - profile.epsilon)
    if resident_population < s["min_sample_below_population"]:
        required = max(required, int(s["min_sample"]))
    return required


def normalised_shares(shares: Mapping[str, float]) -> dict[str, float]:
    total = sum(float(shares[loc]) for loc in LOCATIONS)
    return {loc: float(shares[loc]) / total for loc in LOCATIONS}


def expected_bands(schools: pd.DataFrame, profile: Profile) -> tuple[str, ...]:
    scope = in_scope(schools, profile)
    bands = []
    if (scope & (schools["students_primary"].fillna(0) > 0)).any():
        bands += ["3-4", "5-6"]
    if (scope & (schools["students_junior"].fillna(0) > 0)).any():
        bands.append("7-9")
    return tuple(bands)


def _balanced(counts: Mapping[str, int], tolerance: float, profile: Profile) -> tuple[bool, float]:
    mean = sum(counts.values()) / len(counts) if counts else 0.0
    low, high = (1 - tolerance) * mean, (1 + tolerance) * mean
    ok = mean > 0 and all(c > 0 and profile.at_least(c, low) and profile.at_most(c, high) for c in counts.values())
    return ok, mean


@dataclass(frozen=True)
class SampleCounts:
    """What S1–S7 read of the valid responses: counts only, so sufficient statistics give them too."""
    valid: int
    by_group: Mapping[str, int]      # every GROUPS code
    by_location: Mapping[str, int]   # every LOCATIONS code
    by_school: Mapping[str, int]     # valid student, parent and teacher responses per school (S6)
    by_grade: Mapping[int, int]      # valid student responses per grade given (S7)


def sample_counts(valid: "pd.DataFrame | SampleCounts") -> SampleCounts:
    """Counts of valid responses: one row per response, or cells with a count column ``n``
    (``RecognitionAggregate.valid_cells()``)."""
    if isinstance(valid, SampleCounts):
        return valid

    def count(column: pd.Series, mask=None) -> dict:
        if mask is not None:
            column = column[mask]
        if "n" in valid.columns:
            weights = valid["n"] if mask is None else valid.loc[mask, "n"]
            counts = weights.groupby(column, observed=True).sum()
        else:
            counts = column.value_counts()
        return {str(k) if isinstance(k, str) else k: int(v) for k, v in counts.items() if v}

    groups = count(valid["group"])
    locations = count(valid["location"])
    schools = count(valid["school_code"], valid["group"].isin(COVERAGE_GROUPS).to_numpy())
    students = (valid["group"] == "student").to_numpy() & valid["grade"].notna().to_numpy()
    grades = count(valid["grade"], students)
    total = int(valid["n"].sum()) if "n" in valid.columns else len(valid)
    return SampleCounts(total, {g: groups.get(g, 0) for g in GROUPS}, {loc: locations.get(loc, 0) for loc in LOCATIONS},
                        {str(k): v for k, v in schools.items()}, {int(k): v for k, v in grades.items()})


def s1_sample_size(valid: "pd.DataFrame | SampleCounts", population: float, profile: Profile) -> CheckResult:
    required = required_sample(population, profile)
    actual = sample_counts(valid).valid
    ok = actual >= required
    reason = None if ok else f"有效样本 {actual} 份，少于应调查的 {required} 份"
    return CheckResult("S1", ok, reason, {"required": required, "actual": actual})


def s2_parent_share(valid: "pd.DataFrame | SampleCounts", profile: Profile) -> CheckResult:
    counts = sample_counts(valid)
    minimum = float(profile.sampling["parent_share_min"])
    parents = counts.by_group["parent"]
    share = parents / counts.valid if counts.valid else 0.0
    ok = counts.valid > 0 and profile.at_least(share, minimum)
    reason = None if ok else f"家长问卷占 {display.percent(share, passed=False)}（{parents} 份），应不低于 {minimum:.0%}"
    return CheckResult("S2", ok, reason, {"parents": parents, "share": share})


def s3_group_balance(valid: "pd.DataFrame | SampleCounts", profile: Profile) -> CheckResult:
    tolerance = float(profile.sampling["balance_tolerance"])
    counts = sample_counts(valid).by_group
    per_group = {g: counts[g] for g in OTHER_GROUPS}
    ok, mean = _balanced(per_group, tolerance, profile)
    off = [f"{GROUP_NAMES[g]} {c} 份" for g, c in per_group.items()
           if c == 0 or not (profile.at_least(c, (1 - tolerance) * mean) and profile.at_most(c, (1 + tolerance) * mean))]
    reason = None if ok else (f"非家长各类群体应大致相当（平均 {mean:.1f} 份，允许 {1 - tolerance:g}–{1 + tolerance:g} 倍）："
                              + "、".join(off))
    return CheckResult("S3", ok, reason, {"counts": per_group, "mean": mean})


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x) in closed form for the 1 or 2 degrees of freedom of three locations
    (what ``scipy.stats.chi2.sf`` gives; scipy.stats costs a second to import)."""
    if df == 1:
        return math.erfc(math.sqrt(x / 2))
    if df == 2:
        return math.exp(-x / 2)
    raise ValueError(f"chi2_sf: df must be 1 or 2, not {df}")


def s4_location_mix(valid: "pd.DataFrame | SampleCounts", shares: Mapping[str, float], profile: Profile) -> CheckResult:
    tolerance = float(profile.sampling["location_tolerance"])
    population = normalised_shares(shares)
    counts = sample_counts(valid).by_location
    observed = np.array([counts[loc] for loc in LOCATIONS], dtype=float)
    total = observed.sum()
    sample = observed / total if total else np.zeros(len(LOCATIONS))
    deviations = {loc: abs(sample[i] - population[loc]) for i, loc in enumerate(LOCATIONS)}
    max_dev = max(deviations.values())
    ok = total > 0 and profile.at_most(max_dev, tolerance)
    nonzero = [i for i, loc in enumerate(LOCATIONS) if population[loc] > 0]
    chi2_p = None
    if total > 0 and len(nonzero) > 1:
        # Pearson's goodness of fit (scipy.stats.chisquare), descriptive only.
        obs = observed[nonzero]
        pop = np.array([population[LOCATIONS[i]] for i in nonzero])
        expected = pop / pop.sum() * obs.sum()
        chi2_p = chi2_sf(float(((obs - expected) ** 2 / expected).sum()), len(nonzero) - 1)
    reason = None if ok else "城乡样本结构偏离人口结构超过 {:.0%}：{}".format(tolerance, "、".join(
        f"{LOCATION_NAMES[loc]} 样本 {display.percent(sample[i])} / 人口 {display.percent(population[loc])}"
        for i, loc in enumerate(LOCATIONS) if not profile.at_most(deviations[loc], tolerance)) or "无有效样本")
    return CheckResult("S4", ok, reason, {
        "max_deviation": max_dev, "chi2_p": chi2_p,
        "sample_shares": dict(zip(LOCATIONS, map(float, sample))), "population_shares": population})


def s5_valid_rate(collected: int, valid: int, profile: Profile) -> CheckResult:
    minimum = float(profile.sampling["valid_rate_min"])
    rate = valid / collected if collected else 0.0
    ok = collected > 0 and profile.at_least(rate, minimum)
    reason = None if ok else f"有效率 {display.percent(rate, passed=False)}（{valid}/{collected}），应不低于 {minimum:.0%}"
    return CheckResult("S5", ok, reason, {"rate": rate, "collected": collected, "valid": valid})


def s6_school_coverage(valid: "pd.DataFrame | SampleCounts", schools: pd.DataFrame, profile: Profile) -> CheckResult:
    minimum = int(profile.sampling["min_per_school"])
    covered = sample_counts(valid).by_school
    codes = schools.loc[in_scope(schools, profile), "school_code"].astype(str)
    missing = [c for c in codes if covered.get(c, 0) < minimum]
    ok = not missing
    reason = None if ok else f"{len(missing)} 所学校学生、家长、教师有效问卷少于 {minimum} 份：" + "、".join(missing)
    return CheckResult("S6", ok, reason, {"missing": missing})


def s7_grade_bands(valid: "pd.DataFrame | SampleCounts", schools: pd.DataFrame, profile: Profile) -> CheckResult:
    tolerance = float(profile.sampling["balance_tolerance"])
    bands = expected_bands(schools, profile)
    grades = sample_counts(valid).by_grade
    graded = sum(grades.values())
    counts = {b: sum(c for g, c in grades.items() if BANDS[b][0] <= g <= BANDS[b][1]) for b in bands}
    ok, mean = _balanced(counts, tolerance, profile)
    ok = ok and graded > 0
    reason = None if ok else (f"学生问卷各学段应大致相当（平均 {mean:.1f} 份）：" +
                              "、".join(f"{b} 年级 {c} 份" for b, c in counts.items()) if graded
                              else "没有填写年级的学生有效问卷")
    return CheckResult("S7", ok, reason, {"bands": counts})


def evaluate_checks(valid: "pd.DataFrame | SampleCounts", collected: int, schools: pd.DataFrame, population: float,
                    shares: Mapping[str, float], profile: Profile) -> dict[str, CheckResult]:
    """S1–S7 from the valid responses (one row each), valid cells of an aggregate, or their counts."""
    counts = sample_counts(valid)
    checks = [
        s1_sample_size(counts, population, profile),
        s2_parent_share(counts, profile),
        s3_group_balance(counts, profile),
        s4_location_mix(counts, shares, profile),
        s5_valid_rate(collected, counts.valid, profile),
        s6_school_coverage(counts, schools, profile),
        s7_grade_bands(counts, schools, profile),
    ]
    return {c.code: c for c in checks}


# ---- the quota plan -------------------------------------------------------------------------

def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``; leftovers to the largest fractions, ties in order."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or len(w) == 0 or w.sum() <= 0:
        return [0] * len(w)
    exact = total * w / w.sum()
    base = np.floor(exact + 1e-9)
    # Rounded fractions so that equal shares tie exactly and keep table order.
    fraction = np.round(exact - base, 9)
    leftover = int(total - base.sum())
    order = sorted(range(len(w)), key=lambda i: (-fraction[i], i))
    for i in order[:leftover]:
        base[i] += 1
    return [int(b) for b in base]


def capped_largest_remainder(total: int, weights: Sequence[float],
                             caps: Sequence[float]) -> tuple[list[int], int]:
    """``largest_remainder`` where no part exceeds its cap: a part that would is set to its cap
    and what it cannot take is split again over the parts still below theirs, by the same rule.
    Returns the parts and the units no part could take."""
    parts = [0] * len(weights)
    caps = [max(0, math.floor(c + 1e-9)) for c in caps]
    left = total
    open_ = [i for i in range(len(weights)) if caps[i] > 0 and weights[i] > 0]
    while left > 0 and open_:
        split = largest_remainder(left, [weights[i] for i in open_])
        full = [i for i, n in zip(open_, split) if parts[i] + n >= caps[i]]
        if not full:
            for i, n in zip(open_, split):
                parts[i] += n
            left = 0
            break
        for i in full:
            left -= caps[i] - parts[i]
            parts[i] = caps[i]
        open_ = [i for i in open_ if i not in full]
    return parts, left


@dataclass(frozen=True)
class SamplingPlan:
    total: int
    by_group: Mapping[str, int]
    by_school: Mapping[str, Mapping[str, int]]
    by_location: Mapping[str, Mapping[str, int]]
    # What the county can supply per group, where the figures tell (``plan_supply``).
    supply: Mapping[str, int] = field(default_factory=dict)
    # Per school group, the units no school could take (each school at its cap).
    unplaced: Mapping[str, int] = field(default_factory=dict)
    # Schools with no target, and why (Chinese): special schools, small teaching points.
    out_of_scope: Mapping[str, str] = field(default_factory=dict)

    @property
    def shortfalls(self) -> dict[str, tuple[int, int]]:
        """(target, what the schools can take) of each group whose target no school can take in
        full: the county-level shortfall, shown once."""
        return {g: (self.by_group[g], self.by_group[g] - n) for g, n in self.unplaced.items() if n}

    def s3_fails_by_shortfall(self, group: str, profile: Profile) -> bool:
        """Whether S3 fails even when every other group meets its target and ``group`` gets all
        the county can supply (survey.md S3: 0.5x-1.5x the mean of the six non-parent groups)."""
        counts = {g: self.by_group[g] for g in OTHER_GROUPS}
        counts[group] = self.shortfalls[group][1]
        mean = sum(counts.values()) / len(counts)
        return not profile.at_least(counts[group], (1 - float(profile.sampling["balance_tolerance"])) * mean)

    def warnings(self, profile: Profile | None = None) -> dict[str, str]:
        """Per short group, in Chinese, once for the county: the target cannot be met, how the
        schools' targets were capped, and what it means for S3."""
        from .profile import load_profile
        profile = profile or load_profile()
        cap = int(profile.sampling.get("principals_per_school", 3))
        texts = {}
        for g, (target, n) in self.shortfalls.items():
            how = (f"每校最多安排 {cap} 名校长（校长和副校长）" if g == "principal"
                   else "每校最多安排其三年级及以上在校生数")
            s3 = ("即使其他群体全部达标，社会认可度的 S3（非家长各类群体大致相当）也将因此不通过"
                  if self.s3_fails_by_shortfall(g, profile) else "其他群体达标时，S3 仍可通过")
            texts[g] = (f"{GROUP_NAMES[g]}需 {target} 份，但全县最多约 {n} 人可答，这一目标无法完成："
                        f"{how}，还差 {target - n} 份无法分配到学校；{s3}。请在抽样方案中说明并与督导部门商定")
        return texts

    def progress(self, by_school: Mapping[str, Mapping[str, int]],
                 by_location: Mapping[str, Mapping[str, int]]) -> tuple[int, int, int]:
        """(valid answers counted towards the targets, the targets' total, percent done, floored).
        Each school's school-group targets and each location's other-group targets count on
        their own (answers beyond one target make up for no other), and units no school can
        take stay in the total: 100 % only when every target is met."""
        counted = sum(min(int((by_school.get(code) or {}).get(g, 0)), n)
                      for code, targets in self.by_school.items() for g, n in targets.items())
        located = [g for g in GROUPS if g not in SCHOOL_PLAN_GROUPS]
        counted += sum(min(int((by_location.get(loc) or {}).get(g, 0)), self.by_location[loc][g])
                       for loc in self.by_location for g in located)
        target = self.total
        return counted, target, (100 * counted // target) if target else 100

    def to_dict(self, profile: Profile | None = None) -> dict:
        return {"total": self.total, "by_group": dict(self.by_group),
                "by_school": {k: dict(v) for k, v in self.by_school.items()},
                "by_location": {k: dict(v) for k, v in self.by_location.items()},
                "supply": dict(self.supply), "unplaced": dict(self.unplaced),
                "out_of_scope": dict(self.out_of_scope), "warnings": self.warnings(profile)}


# Of the six primary grades, students from grade 3 answer (survey.md).
PRIMARY_GRADES_ANSWERING = 4 / 6


def student_supply(scoped: pd.DataFrame, profile: Profile) -> pd.Series:
    """Per school, its students of grade 3 and above (those who answer, survey.md)."""
    primary = pd.to_numeric(scoped["students_primary"], errors="coerce").fillna(0)
    junior = pd.to_numeric(scoped["students_junior"], errors="coerce").fillna(0)
    return primary * PRIMARY_GRADES_ANSWERING + junior


def plan_supply(scoped: pd.DataFrame, profile: Profile) -> dict[str, int]:
    """How many people of each group the in-scope schools can supply, for the groups the
    workbook gives a population of: principals (profile ``principals_per_school`` each,
    default 3) and students of grade 3 and above (enrolment)."""
    principals = int(profile.sampling.get("principals_per_school", 3)) * len(scoped)
    return {"student": math.floor(student_supply(scoped, profile).sum() + profile.epsilon),
            "principal": principals}


def group_targets(total: int, profile: Profile) -> dict[str, int]:
    """The plan's target per group (GROUPS order): parents ceil(parent_share_min·T), the rest
    split over the six other groups by largest remainder. The official survey's sample by group
    (survey.md, "Forecast of the official survey") is the same split."""
    parents = math.ceil(float(profile.sampling["parent_share_min"]) * total - profile.epsilon)
    others = dict(zip(OTHER_GROUPS, largest_remainder(total - parents, [1.0] * len(OTHER_GROUPS))))
    return {g: parents if g == "parent" else others[g] for g in GROUPS}


# The groups a school's links collect, planned per school; the others per location.
SCHOOL_PLAN_GROUPS = ("student", "parent", "teacher", "principal")


def out_of_scope_reasons(schools: pd.DataFrame, profile: Profile) -> dict[str, str]:
    """Why a school has no target (standard.md §1 scope), in Chinese."""
    floor = profile.resources["teaching_point_min_students"]
    reasons = {}
    for row in schools[~in_scope(schools, profile)].itertuples(index=False):
        reasons[str(row.school_code)] = ("特殊教育学校不在评估范围内，不设抽样目标" if row.school_type == "special" else
                                         f"在校生不足 {floor:g} 人的教学点不在评估范围内，不设抽样目标")
    return reasons


def sampling_plan(schools: pd.DataFrame, resident_population: float, location_shares: Mapping[str, float],
                  profile: Profile) -> SamplingPlan:
    total = required_sample(resident_population, profile)
    by_group = group_targets(total, profile)

    scoped = schools[in_scope(schools, profile)]
    codes = list(scoped["school_code"].astype(str))
    enrolment = compulsory_students(scoped).to_numpy(float)
    sections = (has_section(scoped, "primary").astype(int) + has_section(scoped, "junior").astype(int)).to_numpy(float)
    # No school is asked for more than it has: principals and students are capped per school.
    caps = {"student": student_supply(scoped, profile).to_numpy(float) + profile.epsilon,
            "principal": [float(profile.sampling.get("principals_per_school", 3))] * len(codes)}
    by_school: dict[str, dict[str, int]] = {c: {} for c in codes}
    unplaced = {}
    for group, weights in (("student", enrolment), ("parent", enrolment),
                           ("teacher", sections), ("principal", sections)):
        if group in caps:
            parts, unplaced[group] = capped_largest_remainder(by_group[group], weights, caps[group])
        else:
            parts = largest_remainder(by_group[group], weights)
        for code, n in zip(codes, parts):
            by_school[code][group] = n

    shares = normalised_shares(location_shares)
    by_location = {loc: {g: 0 for g in GROUPS} for loc in LOCATIONS}
    for code, loc in zip(codes, scoped["location"]):
        for g, n in by_school[code].items():
            by_location[loc][g] += n
    for g in ("npc_deputy", "cppcc_member", "public"):
        for loc, n in zip(LOCATIONS, largest_remainder(by_group[g], [shares[loc] for loc in LOCATIONS])):
            by_location[loc][g] = n
    return SamplingPlan(total, by_group, by_school, by_location, plan_supply(scoped, profile),
                        {g: n for g, n in unplaced.items() if n}, out_of_scope_reasons(schools, profile))
