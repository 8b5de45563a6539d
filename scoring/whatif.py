"""What-if of the forecast (issue 24): where more answers would bring the official survey's
chance of reaching the threshold (``recognition.official_forecast``) to ``forecast_target``
(profile, 0.95), and which groups' rates pull the expected rate down.

More answers narrow the uncertainty; they do not change what people think. So each row
assumes the added answers are like those already collected -- like the group's (its rate
stays) or, for a school-linked group, like that school's answers of the group (the group's
rate then moves towards that school's; so a school is listed only while it holds less of the
group's answers than the sampling plan gives it, and only up to that share: more would make
the county's survey less like the official one, whose sample follows the plan). Adding k answers like a source of r_s answers adds
k/r_s of each of its sums (Σy, Σm, Σy², Σm², Σym), so the group's p_g and var_srs(p_g) follow
from the sums as in ``recognition.ratio_variance_from_sums``::

    p_g(k)   = (Y + k·Y_s/r_s) / (M + k·M_s/r_s)
    var(k)   = (r+k)/(r+k−1) · Σ(y − p_g(k)·m)² / M(k)²
    μ(k)     = μ + W_g·(p_g(k) − p_g)
    V(k)     = V − W_g²·var_srs(p_g)·(1 + r/n^off) + W_g²·var(k)·(1 + (r+k)/n^off)

A group whose answers are all alike gains nothing. However many answers are added, the
official sample's own noise stays: as k → ∞ the group's term tends to
W_g²·r_s·Σ_s(y − p_s·m)²/M_s² / n^off, not to 0 -- and when μ stays below the threshold no
number of answers gets there; the row then says so instead of giving a number.

Everything is read from the sufficient statistics (``RecognitionAggregate``), as the verdict.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import names
from .profile import GROUPS, LOCATIONS, Profile
from .recognition import (SCHOOL_GROUPS, OfficialForecast, RateResult, RecognitionAggregate, missing_groups,
                          pass_probability, probability_words)
from .sampling import SamplingPlan, sampling_plan

if TYPE_CHECKING:
    from .verdict import Verdict
    from .workbook import Workbook

SCAN = 1024            # every number of answers up to this is tried; above it a doubling grid, then bisection
LARGEST = 1 << 24      # beyond this many answers a target counts as out of reach


@dataclass(frozen=True)
class MoreAnswers:
    """Rated answers to add to ``group`` (at ``school_code``, or over the group when None)."""
    group: str
    school_code: str | None
    answers: int | None        # None: no number of answers brings p_pass to the target
    p_pass: float              # with those answers; out of reach: with a very large number, or the school's room
    rate: float                # the rate of the answers they are like (the group's or the school's)
    room: int | None = None    # school rows: answers the school can add within its share of the plan


@dataclass(frozen=True)
class Drag:
    """A group's rate below the others': it lowers the expected rate μ by ``points``."""
    group: str
    rate: float                # p_g
    others: float              # μ of the other groups, their weights renormalised
    points: float              # μ_{−g} − μ = W_g·(μ_{−g} − p_g)


@dataclass(frozen=True)
class WhatIf:
    target: float                       # forecast_target
    applies: bool                       # p_pass below the target, or the rate not robust
    p_pass: float | None                # the forecast's now (None when there is none)
    missing: tuple[str, ...]            # groups without a rated answer: no forecast, no what-if
    rows: tuple[MoreAnswers, ...]       # cheapest first, out-of-reach rows last
    drags: tuple[Drag, ...]             # the largest first

    @property
    def reached(self) -> bool:
        return self.p_pass is not None and self.p_pass >= self.target

    @property
    def group_rows(self) -> tuple[MoreAnswers, ...]:
        return tuple(r for r in self.rows if r.school_code is None)

    @property
    def school_rows(self) -> tuple[MoreAnswers, ...]:
        return tuple(r for r in self.rows if r.school_code is not None)


SUMS = ("rated", "sum_y", "sum_m", "sum_yy", "sum_mm", "sum_ym")


def _sums(aggregate: RecognitionAggregate) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sums of the rated valid answers per group, and per (group, school) of the school-linked groups."""
    cells = aggregate.valid_cells()
    cells = cells[cells["rated"] > 0]
    by_group = cells.groupby("group")[list(SUMS)].sum()
    linked = cells[cells["group"].isin(SCHOOL_GROUPS) & cells["school_code"].notna()]
    by_school = linked.groupby(["group", "school_code"])[list(SUMS)].sum().reset_index()
    return by_group, by_school


def _rate_and_variance(r, y, m, yy, mm, ym):
    """p = Σy/Σm and var_srs = r/(r−1)·Σ(y − p·m)²/(Σm)² from sums (0 when r < 2 or the
    squares vanish below their rounding, as ``ratio_variance_from_sums``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = y / m
        squares = yy - 2 * p * ym + p * p * mm
        squares = np.where(squares > 1e-12 * (yy + p * p * mm), squares, 0.0)
        var = np.where(r >= 2, r / (r - 1) * squares / (m * m), 0.0)
    return p, var


def what_if(aggregate: RecognitionAggregate | None, rate: RateResult, forecast: OfficialForecast | None,
            profile: Profile, plan: SamplingPlan | None = None) -> WhatIf:
    """The what-if of a county's forecast (see the module's docstring). School rows need the
    sampling ``plan``: a school is listed for a group only while its share of the group's rated
    answers is below its share of the plan's target, and only up to that share -- answers
    beyond it would make the county's survey less like the official one, not more."""
    rec = profile.recognition
    target = float(rec["forecast_target"])
    missing = missing_groups(rate) if rate.status != "no_data" else tuple(GROUPS)
    applies = forecast is None or forecast.p_pass < target or rate.status != "robust_pass"
    if forecast is None or aggregate is None:
        return WhatIf(target, applies, None, missing, (), ())
    drags = _drags(rate, forecast)
    if forecast.p_pass >= target:
        return WhatIf(target, applies, forecast.p_pass, missing, (), drags)

    threshold = float(rec["recognition_threshold"])
    z_target = NormalDist().inv_cdf(target)
    by_group, by_school = _sums(aggregate)
    mu, variance = forecast.expected_rate, forecast.sd ** 2
    sources = [(g, None, by_group.loc[g], LARGEST) for g in GROUPS]
    if plan is not None:
        for _, row in by_school.iterrows():
            group, school = row["group"], row["school_code"]
            limit = _room(plan, group, str(school), float(row["rated"]), float(by_group.loc[group, "rated"]))
            if limit:
                sources.append((group, school, row, limit))
    rows = []
    for group, school, source, limit in sources:
        base, w, n_off = by_group.loc[group], forecast.weights[group], forecast.sample[group]
        gr = rate.groups[group]
        rest = variance - w * w * gr.variance_srs * (1 + gr.rated / n_off)

        def at(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(μ, V) with k answers like ``source`` added to the group."""
            share = np.asarray(k, dtype=float) / float(source["rated"])
            r, y, m, yy, mm, ym = (float(base[c]) + share * float(source[c]) for c in SUMS)
            p, var = _rate_and_variance(r, y, m, yy, mm, ym)
            return mu + w * (p - gr.rate), rest + w * w * var * (1 + r / n_off)

        def reaches(k: np.ndarray) -> np.ndarray:
            # p_pass ≥ target ⟺ (μ − threshold)/√V ≥ z_target (V > 0); V = 0: μ reaches the threshold.
            m_, v = at(k)
            enough = (m_ - threshold) >= z_target * np.sqrt(np.maximum(v, 0.0))
            return np.where(v > 0, enough, m_ >= threshold - profile.epsilon)

        n = _first(reaches, limit)
        m_, v = at(np.array([n if n is not None else limit]))
        rows.append(MoreAnswers(group, school, n, pass_probability(float(m_[0]), float(v[0]), profile),
                                float(source["sum_y"]) / float(source["sum_m"]),
                                None if school is None else limit))
    order = {g: i for i, g in enumerate(GROUPS)}
    rows.sort(key=lambda r: (r.answers is None, r.answers or 0, order[r.group], r.school_code or ""))
    return WhatIf(target, applies, forecast.p_pass, missing, tuple(rows), drags)


def _room(plan: SamplingPlan, group: str, school: str, rated_school: float, rated_group: float) -> int:
    """How many answers ``school`` can add before its share of the group's rated answers
    reaches its share of the plan's target: (r_s + k)/(r + k) ≤ q ⟺ k ≤ (q·r − r_s)/(1 − q)."""
    total = plan.by_group.get(group, 0)
    q = plan.by_school.get(school, {}).get(group, 0) / total if total else 0.0
    if q >= 1:
        return LARGEST
    return max(0, math.floor((q * rated_group - rated_school) / (1 - q) + 1e-9))


def _first(reaches, limit: int = LARGEST) -> int | None:
    """A number 1 ≤ n ≤ limit of answers with reaches(n) and not reaches(n − 1): the smallest up
    to SCAN, above it the first crossing of a doubling grid found by bisection; else None."""
    scan = reaches(np.arange(1, min(SCAN, limit) + 1))
    if scan.any():
        return int(np.argmax(scan)) + 1
    low = min(SCAN, limit)
    while low < limit:
        high = min(low * 2, limit)
        if reaches(np.array([high]))[0]:
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (low, mid) if reaches(np.array([mid]))[0] else (mid, high)
            return high
        low = high
    return None


def county_what_if(verdict: "Verdict", workbook: "Workbook", aggregate: RecognitionAggregate | None,
                   profile: Profile) -> WhatIf:
    """``what_if`` of a county's verdict, with the sampling plan of its workbook."""
    county = workbook.county
    plan = sampling_plan(workbook.schools, float(county["resident_population"]),
                         {loc: county[f"population_share_{loc}"] for loc in LOCATIONS}, profile)
    rec = verdict.recognition
    return what_if(aggregate, rec.rate, rec.official_forecast, profile, plan)


def _drags(rate: RateResult, forecast: OfficialForecast) -> tuple[Drag, ...]:
    mu, weights = forecast.expected_rate, forecast.weights
    out = []
    for g in GROUPS:
        w, p = weights[g], rate.groups[g].rate
        if w >= 1 or p is None:
            continue
        others = (mu - w * p) / (1 - w)
        if others > p:
            out.append(Drag(g, p, others, others - mu))
    return tuple(sorted(out, key=lambda d: -d.points))


# ---- sentences for people -------------------------------------------------------------------

def percent_points(value: float) -> str:
    return f"{value * 100:.1f} 个百分点"


def headline(w: WhatIf) -> str:
    """What the table is about, in one sentence."""
    goal = f"{w.target:.0%}"
    if w.missing:
        return ("以下群体还没有有效评分答卷：" + "、".join(names.GROUPS[g] for g in w.missing)
                + "，无法预测正式调查，也无法推算补充多少答卷；请先收集这些群体的答卷。")
    if w.reached:
        return f"正式调查达到达标线的把握已不低于 {goal}，无需为此补充答卷。"
    if not any(r.answers is not None for r in w.rows):
        return (f"按目前的认可度，在任何一处补充答卷都不能把正式调查达到达标线的把握提高到 {goal}："
                "正式调查自身的抽样误差始终存在，只有认可度本身提高才能做到。")
    return f"要让正式调查达到达标线的把握提高到 {goal}，可在以下位置补充答卷（按所需份数从少到多）："


PLAIN = ("补充答卷只能让估计更精确（把握更确定），不会改变人们的看法；表中份数假定新答卷与已收集的答卷相近。"
         "按学校补充时，新答卷按该校已有答卷推算，该群体认可度会向该校靠拢；"
         "正式调查按规则在各校抽样，只在个别学校多收答卷并不能改变正式调查的结果。")


def row_text(row: MoreAnswers) -> str:
    """The row's number in words, or why there is none."""
    if row.answers is None and row.school_code is not None:
        return (f"补到该校在抽样方案中应占的比例（再收 {row.room} 份）仍达不到，把握约 "
                f"{probability_words(row.p_pass)}")
    if row.answers is None:
        return (f"补充多少份都达不到（正式调查自身的抽样误差始终存在；再多答卷，把握最多约 "
                f"{probability_words(row.p_pass)}）")
    return f"再收 {row.answers} 份有效评分答卷，把握约 {probability_words(row.p_pass)}"


def drag_text(d: Drag) -> str:
    return (f"{names.GROUPS[d.group]}认可度 {d.rate * 100:.1f}%，低于其他群体的 {d.others * 100:.1f}%，"
            f"使期望认可度降低约 {percent_points(d.points)}")

