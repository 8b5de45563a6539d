"""The shortfall ledger (短板台账, spec/ledger.md).

For every failure of a verdict the ledger states the smallest change to the
workbook's inputs (or to the survey sample) that removes it, in the input's
own unit, everything else held fixed. Rows are plain values (``LedgerRow``);
``ledger_rows`` returns them as the dicts of the verdict JSON's ``ledger``
list, and ``apply_rows`` applies workbook rows to a workbook (the ledger's own
test, and the "what-if" page).

Row conventions (ledger.md "Machine-readable rows"):
- workbook changes carry ``school_code``, ``column`` and ``increase`` in the
  column's unit (negative for G4/G5);
- county changes carry ``key`` and ``target`` (``"yes"`` for yes/no keys);
- survey rows carry ``responses`` (more valid responses) and what they must
  be: ``group``, ``location``, ``school_code`` or ``band``;
- rows that change nothing (veto, precondition, a low rate) carry only the
  failure and a ``reason``; rate rows add ``group``/``item``, ``rate``, ``n``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import display
from .guarantee import NAMES as G_NAMES
from .profile import GROUPS, INDICATORS, ITEMS, LOCATIONS, STAGES, Profile
from .quality import NAMES as Q_NAMES
from .recognition import RecognitionAggregate, classify_validity
from .resources import (INDICATOR_NAMES, PER_HUNDRED, STAGE_NAMES, TEACHER_COLUMNS,
                        indicator_column, section_frame, standards, weighted_cv)
from .sampling import (GROUP_NAMES, LOCATION_NAMES, OTHER_GROUPS, expected_bands, normalised_shares,
                       required_sample, sample_counts)
from .county_keys import key_name
from .verdict import VETO_NAMES, Verdict

if TYPE_CHECKING:
    from .workbook import Workbook

TEACHER_NOUNS = {"R1": "高于规定学历教师", "R2": "县级以上骨干教师", "R3": "体育、艺术专任教师"}
FACILITY_NOUNS = {"R4": ("教学及辅助用房面积", "m²"), "R5": ("体育运动场馆面积", "m²"),
                  "R6": ("教学仪器设备值", "元"), "R7": ("网络多媒体教室", "间")}
RATINGS = ("优秀", "良好", "合格", "不合格")  # best first (Q6)
ITEM_NAMES = {"moral": "立德树人、德育", "equity": "教育公平政策", "sharing": "优质资源共享",
              "conduct": "规范办学行为", "quality_ed": "素质教育", "assessment": "考试评价制度改革",
              "quality": "教育质量", "burden": "减轻课业负担", "overall": "总体评价"}
LOWEST_LISTED = 3  # groups and items listed for a low rate


@dataclass(frozen=True)
class LedgerRow:
    """One change of the ledger; ``to_dict`` drops the fields that are None."""

    rule: str
    school_code: str | None = None
    stage: str | None = None
    indicator: str | None = None
    column: str | None = None
    increase: float | None = None
    key: str | None = None
    target: Any = None
    group: str | None = None
    location: str | None = None
    band: str | None = None
    item: str | None = None
    responses: int | None = None
    rate: float | None = None
    n: int | None = None
    reason: str | None = None
    departments: tuple[str, ...] = ()   # responsible departments, the lead first (roadmap.md)
    cost_yuan: float | None = None      # increase × the profile's unit cost; None: no cost

    @property
    def lead_department(self) -> str | None:
        return self.departments[0] if self.departments else None

    def to_dict(self) -> dict[str, Any]:
        """The row's fields without those that are None; a costed row (one from ``ledger``) always
        carries ``departments`` and ``cost_yuan``, null when the column has no unit cost."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if getattr(self, f.name) is not None and f.name not in ("departments", "cost_yuan")}
        if self.departments:
            out["departments"] = list(self.departments)
            out["cost_yuan"] = self.cost_yuan
        return out


# ---- formatting -----------------------------------------------------------------------------

def _amount(value: float, unit: str) -> str:
    """An amount still needed, rounded up so that it is never understated."""
    if unit == "元":
        return f"{math.ceil(value - 1e-9):,} 元"
    if unit in ("间", "名", "人", "份"):
        return f"{int(round(value)):,} {unit}"
    return f"{math.ceil(value * 10 - 1e-6) / 10:,.1f} {unit}"


def _ceil(value: float, eps: float) -> int:
    return int(math.ceil(value - eps))


# ---- part R: sections (6-of-7 plan) ---------------------------------------------------------

def _required(frame: pd.DataFrame, schools: pd.DataFrame, eps: float) -> pd.DataFrame:
    """For rows (school_code, stage, indicator, students, facility_share, target): the column,
    its current value, the value it must reach and the increase (teachers and rooms whole)."""
    if frame.empty:
        return frame.assign(column=[], current=[], needed=[], increase=[])
    ind, stage = frame["indicator"], frame["stage"]
    column = pd.Series([indicator_column(i, s) for i, s in zip(ind, stage)], index=frame.index)
    cells = schools.set_index(schools["school_code"].astype(str))
    rows = cells.index.get_indexer(frame["school_code"].astype(str))
    cols = cells.columns.get_indexer(column)
    current = pd.Series(cells.to_numpy(dtype=object)[rows, cols], index=frame.index).astype(float).fillna(0.0)
    teacher = ind.isin(list(TEACHER_COLUMNS))
    per_hundred = ind.isin(list(PER_HUNDRED))
    raw = frame["target"] * frame["students"] / np.where(per_hundred, 100.0, 1.0)
    raw = raw / np.where(teacher, 1.0, frame["facility_share"])  # facilities: the whole school's total
    whole = teacher | (ind == "R7")
    needed = np.where(whole, np.ceil(raw - eps), raw)
    out = frame.assign(column=column, current=current, needed=needed)
    return out.assign(increase=out["needed"] - out["current"])


def _section_plan(sections: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The 6-of-7 plan of failing sections: one row per indicator to raise, with its target."""
    floor = float(profile.resources["shortfall_floor"])
    plans = []
    for stage in STAGES:
        rows = sections[sections["stage"] == stage]
        if rows.empty:
            continue
        std = pd.Series(standards(profile, stage))
        values = rows[list(INDICATORS)]
        ratio = values / std
        unmet = ~profile.at_least(values, std)
        below_floor = ~profile.at_least(values, floor * std)
        # u*: the unmet indicator with the highest value/standard ratio (first in order on ties).
        u_star = ratio.where(unmet).idxmax(axis=1)
        is_star = pd.DataFrame({ind: u_star == ind for ind in INDICATORS})
        std_row = std.to_numpy()[None, :]
        target = np.where(unmet & ~is_star, std_row, np.where(is_star & below_floor, floor * std_row, np.nan))
        columns = pd.Index(INDICATORS, name="indicator")
        long = pd.DataFrame({
            "target": pd.DataFrame(target, index=rows.index, columns=columns).stack(),
            "value": values.set_axis(columns, axis=1).stack(),
            "is_floor": is_star.set_axis(columns, axis=1).stack(),
        }).dropna(subset=["target"]).reset_index(level="indicator")
        long = long.join(rows[["school_code", "stage", "students", "facility_share"]])
        long["standard"] = long["indicator"].map(std)
        plans.append(long)
    if not plans:
        return pd.DataFrame(columns=["indicator", "target", "school_code", "stage", "students",
                                     "facility_share", "value", "standard", "is_floor"])
    return pd.concat(plans).reset_index(drop=True)


def _section_reason(row: Mapping[str, Any], floor: float) -> str:
    ind = row["indicator"]
    head = (f"{row['school_code']} {STAGE_NAMES[row['stage']]}部 {ind} {INDICATOR_NAMES[ind]} "
            f"{display.number(row['value'], passed=False)}，需达到 {row['target']:.2f}"
            + (f"（标准的 {floor:.0%}）" if row["is_floor"] else "（标准）"))
    return f"{head}：{_change_text(ind, row['increase'])}"


def _change_text(ind: str, increase: float) -> str:
    if ind in TEACHER_NOUNS:
        return f"还需 {int(round(increase))} 名{TEACHER_NOUNS[ind]}"
    noun, unit = FACILITY_NOUNS[ind]
    if ind == "R7":
        return f"还需 {int(round(increase))} 间{noun}"
    return f"{noun}还需 {_amount(increase, unit)}"


def resource_rows(verdict: Verdict, schools: pd.DataFrame, profile: Profile) -> list[LedgerRow]:
    failing = {(s.school_code, s.stage) for s in verdict.resources.sections if not s.passed}
    if not failing:
        return []
    frame = section_frame(schools, profile)
    keys = list(zip(frame["school_code"].astype(str), frame["stage"]))
    sections = frame[[k in failing for k in keys]].assign(school_code=lambda f: f["school_code"].astype(str))
    plan = _required(_section_plan(sections, profile), schools, profile.epsilon)
    if plan.empty:
        return []
    # A school with two failing sections takes the larger facility requirement (whole-school columns).
    facility = ~plan["indicator"].isin(list(TEACHER_COLUMNS))
    largest = plan[facility].groupby(["school_code", "column"])["needed"].transform("max")
    plan.loc[facility, "needed"] = largest
    plan["increase"] = plan["needed"] - plan["current"]
    plan = plan[plan["increase"] > 0]
    floor = float(profile.resources["shortfall_floor"])
    order = {code: i for i, code in enumerate(schools["school_code"].astype(str))}
    plan = plan.assign(_o=plan["school_code"].map(order), _s=plan["stage"].map(STAGES.index),
                       _i=plan["indicator"].map(INDICATORS.index)).sort_values(["_o", "_s", "_i"])
    return [LedgerRow("R", school_code=r["school_code"], stage=r["stage"], indicator=r["indicator"],
                      column=r["column"], increase=_number(r["increase"], r["indicator"]),
                      target=float(r["target"]), reason=_section_reason(r, floor))
            for r in plan.to_dict("records")]


def _number(increase: float, indicator: str) -> float | int:
    if indicator in TEACHER_COLUMNS or indicator == "R7":
        return int(round(increase))
    return float(increase)


# ---- part R: CV caps (water-filling) --------------------------------------------------------

def cv_level(values: Sequence[float], weights: Sequence[float], cap: float, *,
             iterations: int = 200) -> float:
    """The smallest level f such that raising every value below f to f brings the weighted CV
    within ``cap``, found by bisection; returns the bracket's feasible end (CV ≤ cap)."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)

    def cv_at(f: float) -> float:
        value = weighted_cv(np.maximum(x, f), w)
        return math.inf if value is None else value

    lo, hi = float(x.min()), float(x.max())
    if cv_at(lo) <= cap:
        return lo
    if hi <= 0:
        raise ValueError("all values are 0: no level brings the CV within the cap")
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if cv_at(mid) <= cap:
            hi = mid
        else:
            lo = mid
    return hi


def _raised_values(plan: pd.DataFrame, stage_rows: pd.DataFrame, ind: str) -> np.ndarray:
    """The stage's indicator values after the plan's (rounded) changes."""
    values = stage_rows[ind].to_numpy(float).copy()
    if plan.empty:
        return values
    pos = {code: i for i, code in enumerate(stage_rows["school_code"].astype(str))}
    idx = plan["school_code"].map(pos).to_numpy(int)
    students = plan["students"].to_numpy(float)
    per = 100.0 if ind in PER_HUNDRED else 1.0
    if ind in TEACHER_COLUMNS:
        new = plan["needed"].to_numpy(float) / students * per
    else:
        new = plan["needed"].to_numpy(float) * plan["facility_share"].to_numpy(float) / students * per
    values[idx] = np.maximum(values[idx], new)
    return values


def cv_rows(verdict: Verdict, schools: pd.DataFrame, profile: Profile) -> list[LedgerRow]:
    failing = [(stage, ind) for stage, oks in verdict.resources.cv_passed.items()
               for ind, ok in oks.items() if not ok]
    if not failing:
        return []
    frame = section_frame(schools, profile).assign(school_code=lambda f: f["school_code"].astype(str))
    rows: list[LedgerRow] = []
    for stage, ind in failing:
        stage_rows = frame[frame["stage"] == stage]
        cap = float(profile.resources["cv_cap"][stage])
        x, w = stage_rows[ind].to_numpy(float), stage_rows["students"].to_numpy(float)
        before = weighted_cv(x, w)
        if before is None:   # a weighted mean of 0: raise every section to the standard
            candidates = [standards(profile, stage)[ind]]
        else:
            f = cv_level(x, w, cap)
            # Rounding teachers and rooms up overshoots f; in the rare case that breaks the cap,
            # move f up towards the largest value (where the CV is 0 before rounding).
            candidates = [f, *np.linspace(f, x.max(), 33)[1:]]
        for f in candidates:
            raised = stage_rows[stage_rows[ind] < f]
            plan = _required(raised.assign(indicator=ind, target=f)[
                ["school_code", "stage", "students", "facility_share", "indicator", "target", ind]], schools,
                profile.epsilon)
            after = weighted_cv(_raised_values(plan, stage_rows, ind), w)
            if after is not None and profile.at_most(after, cap):
                break
        plan = plan[plan["increase"] > 0]
        head = (f"{STAGE_NAMES[stage]} {ind} 差异系数需从 "
                f"{display.cv(before, passed=False) if before is not None else '—'} 降至 {cap:.2f}，"
                f"将低于 {display.number(f, rule='max', passed=False)} 的 {len(plan)} 个学段提升到该水平")
        for r in plan.to_dict("records"):
            rows.append(LedgerRow("CV", school_code=r["school_code"], stage=stage, indicator=ind,
                                  column=r["column"], increase=_number(r["increase"], ind), target=float(f),
                                  reason=f"{head}：{r['school_code']} {_change_text(ind, r['increase'])}"))
    return rows


# ---- parts G and Q: school items ------------------------------------------------------------

def _failing_schools(schools: pd.DataFrame, item) -> pd.DataFrame:
    codes = set(item.schools)
    return schools[schools["school_code"].astype(str).isin(codes)]


def g3_rows(schools: pd.DataFrame, profile: Profile, item) -> list[LedgerRow]:
    g, eps = profile.guarantee, profile.epsilon
    rows = _failing_schools(schools, item)
    needed = np.maximum(1, np.ceil(rows["classes"].fillna(0) / g["classes_per_room"] - eps))
    out = []
    for kind, name, area_min in (("music", "音乐", float(g["music_room_min_area_m2"])),
                                 ("art", "美术", float(g["art_room_min_area_m2"]))):
        rooms = rows[f"{kind}_rooms"].fillna(0)
        area = rows[f"{kind}_room_min_area_m2"].fillna(0)
        short = needed - rooms
        small = area_min - area
        for code, n_add, a_add, need in zip(rows["school_code"].astype(str), short, small, needed):
            if not profile.at_least(-n_add, 0):
                out.append(LedgerRow("G3", school_code=code, column=f"{kind}_rooms", increase=int(math.ceil(n_add - eps)),
                                     reason=f"{code} {name}专用教室应不少于 {int(need)} 间：还需 {int(math.ceil(n_add - eps))} 间"))
            if not profile.at_least(-a_add, 0):
                out.append(LedgerRow("G3", school_code=code, column=f"{kind}_room_min_area_m2", increase=float(a_add),
                                     reason=f"{code} 最小{name}教室应不小于 {area_min:g} m²："
                                            f"{name}教室最小面积还需 {_amount(a_add, 'm²')}"))
    order = _order(schools)
    return sorted(out, key=lambda r: order[r.school_code])


def _order(schools: pd.DataFrame) -> dict[str, int]:
    return {code: i for i, code in enumerate(schools["school_code"].astype(str))}


def g4_rows(schools: pd.DataFrame, profile: Profile, item) -> list[LedgerRow]:
    g = profile.guarantee
    rows = _failing_schools(schools, item)
    out = []
    for r in rows.to_dict("records"):
        cap = float(g["school_size_cap_through"] if r["school_type"] in ("nine_year", "twelve_year")
                    else g["school_size_cap"])
        stages = {s: float(r[f"students_{s}"]) if pd.notna(r[f"students_{s}"]) else 0.0 for s in STAGES}
        excess = sum(stages.values()) - cap
        # Take the excess off the larger stage first (the other only if the larger cannot hold it).
        for stage in sorted(STAGES, key=lambda s: -stages[s]):
            take = min(excess, stages[stage])
            if take <= 0:
                continue
            excess -= take
            out.append(LedgerRow("G4", school_code=str(r["school_code"]), column=f"students_{stage}",
                                 increase=-float(math.ceil(take - profile.epsilon)),
                                 reason=f"{r['school_code']} 在校生 {int(sum(stages.values()))} 人，超过 {cap:g} 人："
                                        f"{STAGE_NAMES[stage]}需分流 {math.ceil(take - profile.epsilon)} 人"))
    return out


def g5_rows(schools: pd.DataFrame, profile: Profile, item) -> list[LedgerRow]:
    g = profile.guarantee
    rows = _failing_schools(schools, item)
    out = []
    for stage in STAGES:
        cap = float(g[f"class_size_cap_{stage}"])
        size = rows[f"max_class_size_{stage}"].fillna(0)
        over = (rows[f"students_{stage}"].fillna(0) > 0) & ~profile.at_most(size, cap)
        for code, s in zip(rows.loc[over, "school_code"].astype(str), size[over]):
            out.append(LedgerRow("G5", school_code=code, stage=stage, column=f"max_class_size_{stage}",
                                 increase=float(cap - s),
                                 reason=f"{code} {STAGE_NAMES[stage]}最大班额 {s:g} 人，超过 {cap:g} 人："
                                        f"需减少 {s - cap:g} 人"))
    order = _order(schools)
    return sorted(out, key=lambda r: order[r.school_code])


def g6_rows(schools: pd.DataFrame, profile: Profile, item) -> list[LedgerRow]:
    floor = float(profile.guarantee["small_school_funded_floor"])
    rows = _failing_schools(schools, item)
    funded = rows["funded_students"].fillna(0)
    return [LedgerRow("G6", school_code=code, column="funded_students", increase=float(floor - f),
                      reason=f"{code} 核定公用经费学生数 {f:g}，应按 {floor:g} 名核定：还需 {floor - f:g} 名")
            for code, f in zip(rows["school_code"].astype(str), funded)]


def q4_rows(schools: pd.DataFrame, profile: Profile, item) -> list[LedgerRow]:
    share = float(profile.quality["Q4_training_share_min"])
    rows = _failing_schools(schools, item)
    required = share * rows["public_funds_yuan"].fillna(0)
    gap = required - rows["training_funds_yuan"].fillna(0)
    return [LedgerRow("Q4", school_code=code, column="training_funds_yuan", increase=float(d),
                      reason=f"{code} 教师培训经费应不少于公用经费的 {share:.0%}（{req:,.2f} 元）："
                             f"还需 {_amount(d, '元')}")
            for code, req, d in zip(rows["school_code"].astype(str), required, gap)]


# ---- parts G and Q: county items ------------------------------------------------------------

def _yes(rule: str, key: str, name: str) -> LedgerRow:
    return LedgerRow(rule, key=key, target="yes", reason=f"{rule} {name}：{key_name(key)}为否，须改为是")


def _at_least(rule: str, key: str, name: str, found: float, target: float, *, rate: bool) -> LedgerRow:
    if rate:
        text = (f"{rule} {name}：{key_name(key)}为 {display.percent(found, passed=False)}，要求不低于 "
                f"{display.percent(target)}，差 {(target - found) * 100:.1f} 个百分点")
    else:
        text = f"{rule} {name}：{key_name(key)}为 {found:,g}，要求不低于 {target:,g}，差 {target - found:,g}"
    return LedgerRow(rule, key=key, target=float(target), reason=text)


def county_rows(code: str, c: Mapping[str, Any], profile: Profile) -> list[LedgerRow]:
    """The key(s) a failing county item must change, and the value each must reach."""
    g, q = profile.guarantee, profile.quality
    ok = profile.at_least
    name = G_NAMES.get(code) or Q_NAMES.get(code, code)
    rows: list[LedgerRow] = []

    def min_rate(key: str, threshold: float) -> None:
        if not ok(c[key], threshold):
            rows.append(_at_least(code, key, name, float(c[key]), float(threshold), rate=True))

    def must_be_yes(key: str) -> None:
        if not c[key]:
            rows.append(_yes(code, key, name))

    if code in ("G1", "G10", "Q3", "Q5", "Q7", "Q8"):
        must_be_yes(code)
    elif code == "G2":
        for key in ("G2a", "G2b", "G2c", "G2d"):
            must_be_yes(key)
    elif code == "G7":
        if not ok(c["G7"], g["G7_min_yuan"]):
            rows.append(_at_least(code, "G7", name, float(c["G7"]), float(g["G7_min_yuan"]), rate=False))
    elif code == "G8":
        if not ok(c["G8_teacher_salary"], c["G8_civil_servant_salary"]):
            rows.append(_at_least(code, "G8_teacher_salary", name, float(c["G8_teacher_salary"]),
                                  float(c["G8_civil_servant_salary"]), rate=False))
        must_be_yes("G8_merit_pay_full")
    elif code in ("G9", "G12"):
        min_rate(code, g[f"{code}_min"])
    elif code == "G11":
        rows += _g11_rows(c, profile, name)
    elif code == "G13":
        min_rate("G13_primary", g["G13_primary_min"])
        min_rate("G13_junior", g["G13_junior_min"])
    elif code == "G14":
        min_rate("G14", g["G14_min"])
        must_be_yes("G14_rural_tilt")
    elif code == "G15":
        must_be_yes("G15_care_system")
        min_rate("G15_migrant_rate", g["G15_migrant_min"])
    elif code in ("Q1", "Q2"):
        min_rate(code, q[f"{code}_min"])
    elif code == "Q6":
        passing = [r for r in RATINGS if r in q["Q6_passing"]] or list(q["Q6_passing"])
        target = passing[-1]  # the lowest passing rating
        rows.append(LedgerRow("Q6", key="Q6", target=target,
                              reason=f"Q6 {name}：最低评价为{c['Q6']}，须达到{target}以上"))
    elif code == "Q9":
        level_min = int(q["Q9_level_min"])
        if not ok(c["Q9_min_level"], level_min):
            rows.append(LedgerRow("Q9", key="Q9_min_level", target=level_min,
                                  reason=f"Q9 {name}：最低学业水平 {c['Q9_min_level']} 级，须达到 {level_min} 级以上"))
        bound = float(q["Q9_diff_rate_below"])
        if not profile.below(c["Q9_school_diff_rate"], bound):
            # "低于" is strict: the target is the largest 3-decimal value below the bound.
            target = round(math.ceil(bound * 1000 - 1e-6) / 1000 - 0.001, 6)
            rows.append(LedgerRow("Q9", key="Q9_school_diff_rate", target=target,
                                  reason=f"Q9 {name}：校际差异率 "
                                         f"{display.number(c['Q9_school_diff_rate'], passed=False, rule='max', decimals=3)}"
                                         f"，须低于 {bound:g}（如 {target:.3f}）"))
    return rows


def _g11_rows(c: Mapping[str, Any], profile: Profile, name: str) -> list[LedgerRow]:
    g, eps = profile.guarantee, profile.epsilon
    eligible, rotated, backbone = (float(c["G11_eligible"]), float(c["G11_rotated"]),
                                   float(c["G11_rotated_backbone"]))
    rows = []
    new_eligible = eligible if eligible > 0 else max(rotated, 1.0)
    if new_eligible != eligible:
        rows.append(LedgerRow("G11", key="G11_eligible", target=new_eligible,
                              reason=f"G11 {name}：应交流教师数为 0，须填报实际人数（至少 {new_eligible:g} 人）"))
    new_rotated = max(rotated, float(_ceil(g["G11_rotated_min"] * new_eligible, eps)), 1.0)
    if not profile.at_least(new_rotated / new_eligible, g["G11_rotated_min"]):
        new_rotated += 1.0
    if new_rotated != rotated:
        rows.append(LedgerRow("G11", key="G11_rotated", target=new_rotated,
                              reason=f"G11 {name}：交流轮岗 {rotated:g} 人，须达到应交流 {new_eligible:g} 人的 "
                                     f"{g['G11_rotated_min']:.0%}，即 {new_rotated:g} 人（还需 {new_rotated - rotated:g} 人）"))
    new_backbone = max(backbone, float(_ceil(g["G11_backbone_min"] * new_rotated, eps)))
    if not profile.at_least(new_backbone / new_rotated, g["G11_backbone_min"]):
        new_backbone += 1.0
    if new_backbone != backbone:
        rows.append(LedgerRow("G11", key="G11_rotated_backbone", target=new_backbone,
                              reason=f"G11 {name}：交流轮岗骨干教师 {backbone:g} 人，须达到交流人数 {new_rotated:g} 的 "
                                     f"{g['G11_backbone_min']:.0%}，即 {new_backbone:g} 人（还需 {new_backbone - backbone:g} 人）"))
    return rows


SCHOOL_ITEMS = {"G3": g3_rows, "G4": g4_rows, "G5": g5_rows, "G6": g6_rows, "Q4": q4_rows}


def item_rows(verdict: Verdict, workbook: "Workbook", profile: Profile) -> list[LedgerRow]:
    rows: list[LedgerRow] = []
    for part in (verdict.guarantee, verdict.quality):
        for code, item in part.items.items():
            if item.passed:
                continue
            if code in SCHOOL_ITEMS:
                rows += SCHOOL_ITEMS[code](workbook.schools, profile, item)
            else:
                rows += county_rows(code, workbook.county, profile)
    return rows


# ---- part S ---------------------------------------------------------------------------------

def min_additions(counts: Sequence[float], low: Sequence[float], high: Sequence[float], *,
                  positive: bool = False, eps: float = 1e-9, chunk: int = 4096,
                  limit: int | None = None) -> np.ndarray | None:
    """The fewest whole additions x ≥ 0 such that, with T = Σ(counts + x), every part lies within
    [low·T, high·T] (tolerance eps) and, when ``positive``, is above 0. None when no total up to
    ``limit`` works. Totals are scanned in vectorised chunks from the current one upwards."""
    c = np.asarray(counts, dtype=float)
    lo_f, hi_f = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    start = int(c.sum())
    limit = limit if limit is not None else 10 * (start + len(c)) + 10_000
    for first in range(start, start + limit, chunk):
        totals = np.arange(first, first + chunk, dtype=float)[:, None]
        floor = np.maximum(c, np.ceil(lo_f * totals - eps))
        if positive:
            floor = np.maximum(floor, 1.0)
        cap = np.floor(hi_f * totals + eps)
        feasible = (floor.sum(axis=1) <= totals[:, 0]) & (c <= hi_f * totals + eps).all(axis=1) & \
                   (floor <= cap).all(axis=1) & (cap.sum(axis=1) >= totals[:, 0])
        for i in np.flatnonzero(feasible):
            final = _fill(floor[i], int(totals[i, 0] - floor[i].sum()), cap[i])
            if final is not None:
                return (final - c).astype(int)
    return None


def _fill(values: np.ndarray, extra: int, cap: np.ndarray) -> np.ndarray | None:
    """Add ``extra`` units, raising the smallest parts first and never above ``cap``."""
    v = values.copy()
    while extra > 0:
        open_ = v < cap
        if not open_.any():
            return None
        level = v[open_].min()
        at_level = open_ & (v == level)
        above = v[open_ & (v > level)]
        step = min((above.min() if above.size else math.inf) - level, (cap[at_level] - level).min())
        m = int(at_level.sum())
        if step * m <= extra:
            v[at_level] += step
            extra -= int(step * m)
        else:
            idx = np.flatnonzero(at_level)
            v[idx] += extra // m
            v[idx[: extra % m]] += 1
            extra = 0
    return v


Answers = pd.DataFrame | RecognitionAggregate | None


def _valid(responses: Answers, profile: Profile) -> pd.DataFrame | None:
    """The valid responses (one row each), or the valid cells of an aggregate (a count ``n`` each)."""
    if responses is None:
        return None
    if isinstance(responses, RecognitionAggregate):
        return responses.valid_cells()
    # Only the columns the survey rows read: taking ids of a million rows costs more than the rows.
    columns = ["group", "location", "school_code", "grade", *ITEMS]
    return responses.loc[(classify_validity(responses, profile) == "valid").to_numpy(), columns]


def item_columns(item: str) -> tuple[str, str]:
    """The aggregate's columns for the weakest items of a low rate: valid responses that
    recognise ``item``, and those whose answer to it counts (recognised or not)."""
    return f"recognised_{item}", f"counted_{item}"


def _item_counts(valid: pd.DataFrame, profile: Profile) -> tuple[pd.Series, pd.Series] | None:
    """Per item: valid responses recognising it, and those whose answer counts; None when
    aggregate cells carry no item columns."""
    rec = profile.recognition
    if "n" in valid.columns:
        if item_columns(ITEMS[0])[0] not in valid.columns:
            return None
        return tuple(pd.Series({i: valid[item_columns(i)[k]].sum() for i in ITEMS}) for k in (0, 1))
    answers = valid[list(ITEMS)]
    return (answers.isin(list(rec["recognised"])).sum(),
            answers.isin(list(rec["recognised"]) + list(rec["not_recognised"])).sum())


def survey_rows(verdict: Verdict, workbook: "Workbook", profile: Profile,
                responses: Answers = None) -> list[LedgerRow]:
    rec, s, eps = verdict.recognition, profile.sampling, profile.epsilon
    county = workbook.county
    rows: list[LedgerRow] = []
    if not rec.checks:   # no responses at all: the whole sample is still needed
        required = required_sample(float(county["resident_population"]), profile)
        return [LedgerRow("S1", responses=required, reason=f"S1 未提供问卷数据：需收集有效问卷 {required} 份")]
    checks = rec.checks
    valid = _valid(responses, profile)
    n_valid = rec.rate.valid

    if not checks["S1"].passed:
        need = int(checks["S1"].figures["required"]) - int(checks["S1"].figures["actual"])
        rows.append(LedgerRow("S1", responses=need, reason=f"S1 有效样本还需 {need} 份"
                                                           f"（应调查 {checks['S1'].figures['required']} 份）"))
    if not checks["S2"].passed:
        share = float(s["parent_share_min"])
        parents = int(checks["S2"].figures["parents"])
        need = max(1, _ceil((share * n_valid - parents) / (1 - share), eps))
        rows.append(LedgerRow("S2", group="parent", responses=need,
                              reason=f"S2 家长问卷 {parents} 份 / 有效 {n_valid} 份：其他问卷不变，还需家长有效问卷 {need} 份"))
    tolerance = float(s["balance_tolerance"])
    if not checks["S3"].passed:
        counts = checks["S3"].figures["counts"]
        k = len(OTHER_GROUPS)
        add = min_additions([counts[g] for g in OTHER_GROUPS], [(1 - tolerance) / k] * k,
                            [(1 + tolerance) / k] * k, positive=True, eps=eps)
        rows += _balance_rows("S3", "group", OTHER_GROUPS, counts, add,
                              lambda g: GROUP_NAMES[g], "非家长各类群体应大致相当")
    if not checks["S4"].passed:
        population = normalised_shares({loc: county[f"population_share_{loc}"] for loc in LOCATIONS})
        if valid is not None:
            counts = dict(sample_counts(valid).by_location)
        else:
            shares = checks["S4"].figures["sample_shares"]
            counts = {loc: int(round(shares[loc] * n_valid)) for loc in LOCATIONS}
        tol = float(s["location_tolerance"])
        add = min_additions([counts[loc] for loc in LOCATIONS], [population[loc] - tol for loc in LOCATIONS],
                            [population[loc] + tol for loc in LOCATIONS], eps=eps)
        rows += _balance_rows("S4", "location", LOCATIONS, counts, add, lambda loc: LOCATION_NAMES[loc],
                              f"城乡样本结构与人口结构的偏差应不超过 {tol:.0%}")
    if "S5" in checks and not checks["S5"].passed:
        minimum = float(s["valid_rate_min"])
        collected, got = int(checks["S5"].figures["collected"]), int(checks["S5"].figures["valid"])
        need = max(1, _ceil((minimum * collected - got) / (1 - minimum), eps))
        rows.append(LedgerRow("S5", responses=need, reason=f"S5 有效率 {got}/{collected}：还需有效问卷 {need} 份"))
    if not checks["S6"].passed:
        minimum = int(s["min_per_school"])
        have = sample_counts(valid).by_school if valid is not None else {}
        for code in checks["S6"].figures["missing"]:
            need = minimum - int(have.get(code, 0))
            rows.append(LedgerRow("S6", school_code=str(code), responses=need,
                                  reason=f"S6 {code} 尚无足够的学生、家长或教师有效问卷：还需 {need} 份"))
    if not checks["S7"].passed:
        bands = expected_bands(workbook.schools, profile)
        counts = {b: int(checks["S7"].figures["bands"].get(b, 0)) for b in bands}
        k = len(bands)
        add = min_additions([counts[b] for b in bands], [(1 - tolerance) / k] * k, [(1 + tolerance) / k] * k,
                            positive=True, eps=eps) if k else None
        rows += _balance_rows("S7", "band", bands, counts, add, lambda b: f"{b} 年级", "学生问卷各学段应大致相当")
    return rows


def _balance_rows(rule: str, field: str, names: Sequence[str], counts: Mapping[str, int],
                  add: np.ndarray | None, label, what: str) -> list[LedgerRow]:
    if add is None:
        return [LedgerRow(rule, reason=f"{rule} {what}：仅补充问卷无法达到")]
    return [LedgerRow(rule, responses=int(a), reason=f"{rule} {what}：{label(name)} 现有 {counts[name]} 份，"
                                                      f"还需 {int(a)} 份", **{field: name})
            for name, a in zip(names, add) if a > 0]


def rate_rows(verdict: Verdict, profile: Profile, responses: Answers = None) -> list[LedgerRow]:
    """A rate below the threshold: nothing in the data fixes it; list the weakest groups and items."""
    rate = verdict.recognition.rate
    threshold = float(profile.recognition["recognition_threshold"])
    if rate.rate is not None and profile.at_least(rate.rate, threshold):
        return []
    if rate.rate is None and not verdict.recognition.checks:
        return []   # no responses at all: S1's row says it
    head = (f"加权认可度 {display.percent(rate.rate, passed=False)} 低于 {threshold:.0%}，无法通过修改数据消除"
            if rate.rate is not None else "没有有效评分问卷")
    rows = [LedgerRow("rate", rate=rate.rate, reason=head)]
    present = sorted((g for g in GROUPS if rate.groups[g].rate is not None), key=lambda g: rate.groups[g].rate)
    for g in present[:LOWEST_LISTED]:
        gr = rate.groups[g]
        rows.append(LedgerRow("rate", group=g, rate=gr.rate, n=gr.n,
                              reason=f"{GROUP_NAMES[g]}认可度 {display.percent(gr.rate)}（{gr.n} 份）"))
    valid = _valid(responses, profile)
    items = _item_counts(valid, profile) if valid is not None and not valid.empty else None
    if items is not None:
        recognised, counted = items
        item_rate = (recognised / counted.where(counted > 0)).dropna().sort_values(kind="stable")
        for item, value in item_rate.head(LOWEST_LISTED).items():
            rows.append(LedgerRow("rate", item=item, rate=float(value), n=int(counted[item]),
                                  reason=f"{ITEM_NAMES[item]}认可度 {display.percent(value)}（{int(counted[item])} 份作答）"))
    return rows


# ---- veto and precondition ------------------------------------------------------------------

def fixed_rows(verdict: Verdict) -> list[LedgerRow]:
    rows = []
    if verdict.precondition.status == "failed":
        rows.append(LedgerRow("precondition", reason=f"前置条件未满足：{verdict.precondition.reason}；数据修改无法消除"))
    rows += [LedgerRow(code, reason=f"一票否决 {code} {VETO_NAMES[code]}：数据修改无法消除") for code in verdict.veto]
    return rows


# ---- the ledger -----------------------------------------------------------------------------

def failure_of(row: LedgerRow | Mapping[str, Any]) -> tuple:
    """The failure a row fixes, identified as in ledger.md: rule plus school_code/stage (R),
    stage/indicator (CV), school_code (G3-G6, Q4) or nothing (county items, S checks, veto)."""
    r = row.to_dict() if isinstance(row, LedgerRow) else row
    rule = r["rule"]
    if rule == "R":
        return (rule, r["school_code"], r["stage"])
    if rule == "CV":
        return (rule, r["stage"], r["indicator"])
    if rule in SCHOOL_ITEMS:
        return (rule, r["school_code"])
    return (rule,)


def failures(verdict: Verdict, profile: Profile) -> list[tuple]:
    """Every failure of a verdict, identified as ``failure_of`` identifies a row's: precondition,
    veto items, sections, CVs, G/Q items (per school where the item is), the rate and S1-S7."""
    out: list[tuple] = []
    if verdict.precondition.status == "failed":
        out.append(("precondition",))
    out += [(code,) for code in verdict.veto]
    out += [("R", s.school_code, s.stage) for s in verdict.resources.sections if not s.passed]
    out += [("CV", stage, ind) for stage, oks in verdict.resources.cv_passed.items()
            for ind, ok in oks.items() if not ok]
    for part in (verdict.guarantee, verdict.quality):
        for code, item in part.items.items():
            if not item.passed:
                out += [(code, school) for school in item.schools] if code in SCHOOL_ITEMS else [(code,)]
    rec = verdict.recognition
    if not rec.checks:   # no survey at all: the sample is what is missing (S1's row)
        return out + [("S1",)]
    threshold = float(profile.recognition["recognition_threshold"])
    if rec.rate.rate is None or not profile.at_least(rec.rate.rate, threshold):
        out.append(("rate",))
    out += [(code,) for code, check in rec.checks.items() if not check.passed]
    return out


def department_rule(row: LedgerRow) -> str:
    """The rule of the profile's department table a row belongs to: the indicator of an R row
    (R1–R7), ``CV``, ``S`` for S1–S7 and the rate, else the row's rule."""
    if row.rule == "R" and row.indicator:
        return row.indicator
    if row.rule == "rate" or (row.rule.startswith("S") and row.rule[1:].isdigit()):
        return "S"
    return row.rule


def costed(row: LedgerRow, profile: Profile) -> LedgerRow:
    """The row with its ``departments`` (profile table, lead first) and ``cost_yuan`` (its increase
    × the unit cost of its column; None where the profile has no cost for that column)."""
    unit = profile.unit_cost(row.column) if row.increase is not None else None
    cost = None if unit is None else float(row.increase) * unit
    return dataclasses.replace(row, departments=profile.departments_of(department_rule(row)), cost_yuan=cost)


def cost_by_department(rows: Iterable[LedgerRow | Mapping[str, Any]]) -> tuple[float, dict[str, float]]:
    """The cost of a set of ledger rows: (total, by lead department). A cost is counted once: a
    cell (school, column) named by several rows costs what its most demanding row costs (as
    ``apply_rows`` applies it), under that row's lead department; rows without a cost add nothing."""
    cells: dict[tuple, tuple[float, float, str]] = {}
    for i, row in enumerate(rows):
        r = row.to_dict() if isinstance(row, LedgerRow) else row
        if r.get("cost_yuan") is None:
            continue
        lead = (r.get("departments") or ["教育局"])[0]
        cell = (r.get("school_code"), r.get("column")) if r.get("school_code") is not None else (i,)
        inc = float(r.get("increase") or 0.0)
        prev = cells.get(cell)
        if prev is None or abs(inc) > abs(prev[0]):
            cells[cell] = (inc, float(r["cost_yuan"]), lead)
    by_department: dict[str, float] = {}
    for _, cost, lead in cells.values():
        by_department[lead] = by_department.get(lead, 0.0) + cost
    return sum(by_department.values(), 0.0), by_department


def ledger(verdict: Verdict, workbook: "Workbook", profile: Profile,
           responses: Answers = None) -> list[LedgerRow]:
    """Every failure of ``verdict`` with the rows that remove it (ledger.md), each carrying its
    departments and cost (roadmap.md)."""
    schools = workbook.schools
    rows = (fixed_rows(verdict) + resource_rows(verdict, schools, profile) + cv_rows(verdict, schools, profile)
            + item_rows(verdict, workbook, profile) + rate_rows(verdict, profile, responses)
            + survey_rows(verdict, workbook, profile, responses))
    return [costed(row, profile) for row in rows]


def ledger_rows(verdict: Verdict, workbook: "Workbook", profile: Profile,
                responses: Answers = None) -> list[dict[str, Any]]:
    """The ``ledger`` list of the verdict JSON. ``responses`` (optional) refines S4/S6 counts and
    lists the weakest items of a low rate."""
    return [row.to_dict() for row in ledger(verdict, workbook, profile, responses)]


def _target_value(target: Any) -> Any:
    if isinstance(target, str) and target.lower() in ("yes", "no"):
        return target.lower() == "yes"
    return target


def demanded_changes(rows: Iterable[LedgerRow | Mapping[str, Any]]
                     ) -> tuple[dict[tuple[str, str], tuple[dict, float]], dict[str, dict]]:
    """The changes rows ask of a workbook: per (school, column) the row with the most demanding
    increase (the largest, or for negative rows the most negative; several rows on one cell are
    requirements on the original, not a sum) and that increase; per county key its last row."""
    cells: dict[tuple[str, str], tuple[dict, float]] = {}
    keys: dict[str, dict] = {}
    for row in rows:
        r = row.to_dict() if isinstance(row, LedgerRow) else dict(row)
        if r.get("column") is not None and r.get("increase") is not None and r.get("school_code") is not None:
            cell, inc = (str(r["school_code"]), r["column"]), float(r["increase"])
            prev = cells.get(cell)
            if prev is None or (inc > 0 and inc > prev[1]) or (inc < 0 and inc < prev[1]):
                cells[cell] = (r, inc)
        elif r.get("key") is not None and "target" in r:
            keys[r["key"]] = r
    return cells, keys


def apply_rows(workbook: "Workbook", rows: Iterable[LedgerRow | Mapping[str, Any]]) -> "Workbook":
    """The workbook with the rows' changes applied (survey and no-change rows are ignored).

    Each row is a requirement on the original workbook: a cell named by several rows takes the
    most demanding increase (the largest, or for negative rows the most negative), not their sum;
    a county key takes its target."""
    cells, keys = demanded_changes(rows)
    increases = {cell: inc for cell, (_, inc) in cells.items()}
    targets = {key: _target_value(r["target"]) for key, r in keys.items()}
    schools = workbook.schools.copy()
    if increases:
        pos = pd.Series(schools.index, index=schools["school_code"].astype(str))
        for (code, column), inc in increases.items():
            i = pos[code]
            current = schools.at[i, column]
            schools.at[i, column] = (0.0 if pd.isna(current) else float(current)) + inc
    county = {**workbook.county, **targets}
    if dataclasses.is_dataclass(workbook):
        return dataclasses.replace(workbook, schools=schools, county=county)
    clone = type(workbook)(**vars(workbook))
    clone.schools, clone.county = schools, county
    return clone
