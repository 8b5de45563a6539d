"""Part R, resource allocation (standard.md §1): sections, apportionment, 6-of-7, CVs."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import display
from .profile import INDICATORS, STAGES, Profile
from .scope import has_section, in_scope

INDICATOR_NAMES = {
    "R1": "每百名学生拥有高于规定学历教师数",
    "R2": "每百名学生拥有县级以上骨干教师数",
    "R3": "每百名学生拥有体育、艺术专任教师数",
    "R4": "生均教学及辅助用房面积",
    "R5": "生均体育运动场馆面积",
    "R6": "生均教学仪器设备值",
    "R7": "每百名学生拥有网络多媒体教室数",
}
STAGE_NAMES = {"primary": "小学", "junior": "初中"}

# Workbook column behind each indicator; teacher columns are per stage.
TEACHER_COLUMNS = {"R1": "qualified_teachers", "R2": "backbone_teachers", "R3": "pe_art_teachers"}
FACILITY_COLUMNS = {"R4": "teaching_area_m2", "R5": "sports_area_m2", "R6": "equipment_value_yuan",
                    "R7": "multimedia_rooms"}
PER_HUNDRED = {"R1", "R2", "R3", "R7"}


def indicator_column(indicator: str, stage: str) -> str:
    """The workbook column an indicator is computed from."""
    if indicator in TEACHER_COLUMNS:
        return f"{TEACHER_COLUMNS[indicator]}_{stage}"
    return FACILITY_COLUMNS[indicator]


@dataclass(frozen=True)
class Section:
    school_code: str
    stage: str
    students: float
    facility_share: float
    values: Mapping[str, float]
    met: tuple[str, ...]
    passed: bool
    reason: str | None


@dataclass(frozen=True)
class ResourcesResult:
    passed: bool
    sections: tuple[Section, ...]
    cv: Mapping[str, Mapping[str, float | None]]
    cv_passed: Mapping[str, Mapping[str, bool]]
    cv_reasons: Mapping[str, Mapping[str, str]]


def facility_shares(schools: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Each stage's share of the whole school's facilities, by (weighted) enrolment."""
    weighted = profile.resources["facility_split"] == "weighted"
    weights = profile.resources["stage_weights"]
    parts = pd.DataFrame({
        stage: schools[f"students_{stage}"].fillna(0) * (float(weights[stage]) if weighted else 1.0)
        for stage in ("primary", "junior", "senior")
    })
    total = parts.sum(axis=1)
    return parts.div(total.where(total > 0), axis=0).fillna(0.0)


def section_frame(schools: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """One row per section of an in-scope school: students, facility share, R1-R7."""
    shares = facility_shares(schools, profile)
    scope = in_scope(schools, profile)
    frames = []
    for stage in STAGES:
        mask = scope & has_section(schools, stage)
        rows = schools[mask]
        students = rows[f"students_{stage}"].astype(float)
        share = shares.loc[mask, stage]
        frame = pd.DataFrame({
            "school_code": rows["school_code"],
            "stage": stage,
            "students": students,
            "facility_share": share,
            "order": rows.index,
        })
        for ind in INDICATORS:
            raw = rows[indicator_column(ind, stage)].astype(float)
            per_student = raw / students if ind in TEACHER_COLUMNS else raw * share / students
            frame[ind] = per_student * (100.0 if ind in PER_HUNDRED else 1.0)
        frames.append(frame)
    # Sections listed school by school (primary before junior), as the workbook orders them.
    sections = pd.concat(frames, ignore_index=True)
    stage_order = sections["stage"].map({s: i for i, s in enumerate(STAGES)})
    return (sections.assign(_stage=stage_order).sort_values(["order", "_stage"], kind="stable")
            .drop(columns=["_stage", "order"]).reset_index(drop=True))


def standards(profile: Profile, stage: str) -> dict[str, float]:
    return {ind: float(profile.resources["standards"][stage][ind]) for ind in INDICATORS}


def _section_reason(stage: str, values: Mapping[str, float], met: tuple[str, ...],
                    std: Mapping[str, float], floor: float, passed: bool) -> str | None:
    if passed:
        return None
    unmet = [ind for ind in INDICATORS if ind not in met]
    lines = [f"{STAGE_NAMES[stage]}部 {len(met)}/7 项达标"]
    for ind in unmet:
        below_floor = values[ind] < floor * std[ind]
        line = (f"{ind} {INDICATOR_NAMES[ind]} {display.number(values[ind], passed=False)}，"
                f"未达标准 {std[ind]:g}")
        if below_floor:
            line += f"，且低于标准的 {floor:.0%}（{floor * std[ind]:.2f}）"
        lines.append(line)
    if len(unmet) > 1:
        lines.append("达标项少于 6 项")
    return "；".join(lines)


def weighted_cv(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Student-weighted population CV; None when the weighted mean is 0."""
    total = weights.sum()
    mean = float((weights * values).sum() / total)
    if mean == 0:
        return None
    spread = float(np.sqrt((weights * (values - mean) ** 2).sum() / total))
    return spread / mean


def evaluate_resources(schools: pd.DataFrame, profile: Profile) -> ResourcesResult:
    frame = section_frame(schools, profile)
    floor = float(profile.resources["shortfall_floor"])
    sections = []
    for stage in STAGES:
        std = standards(profile, stage)
        rows = frame[frame["stage"] == stage]
        met_mask = pd.DataFrame({ind: profile.at_least(rows[ind], std[ind]) for ind in INDICATORS})
        floor_mask = pd.DataFrame({ind: profile.at_least(rows[ind], floor * std[ind]) for ind in INDICATORS})
        passes = (met_mask.sum(axis=1) >= len(INDICATORS) - 1) & floor_mask.all(axis=1)
        frame.loc[rows.index, "passed"] = passes
        frame.loc[rows.index, "met"] = pd.Series(
            [tuple(ind for ind in INDICATORS if ok[ind]) for ok in met_mask.to_dict("records")],
            index=rows.index, dtype=object)
    for row in frame.to_dict("records"):
        values = {ind: float(row[ind]) for ind in INDICATORS}
        passed = bool(row["passed"])
        std = standards(profile, row["stage"])
        sections.append(Section(
            school_code=str(row["school_code"]), stage=row["stage"], students=float(row["students"]),
            facility_share=float(row["facility_share"]), values=values, met=row["met"], passed=passed,
            reason=_section_reason(row["stage"], values, row["met"], std, floor, passed),
        ))

    cv: dict[str, dict[str, float | None]] = {}
    cv_passed: dict[str, dict[str, bool]] = {}
    cv_reasons: dict[str, dict[str, str]] = {}
    for stage in STAGES:
        rows = frame[frame["stage"] == stage]
        if rows.empty:
            continue
        cap = float(profile.resources["cv_cap"][stage])
        cv[stage], cv_passed[stage], cv_reasons[stage] = {}, {}, {}
        weights = rows["students"].to_numpy(float)
        for ind in INDICATORS:
            value = weighted_cv(rows[ind].to_numpy(float), weights)
            ok = value is not None and profile.at_most(value, cap)
            cv[stage][ind], cv_passed[stage][ind] = value, ok
            if value is None:
                cv_reasons[stage][ind] = f"{STAGE_NAMES[stage]} {ind} 各校均值为 0，差异系数无法计算"
            elif not ok:
                cv_reasons[stage][ind] = (f"{STAGE_NAMES[stage]} {ind} {INDICATOR_NAMES[ind]} 校际差异系数 "
                                          f"{display.cv(value, passed=False)}，超过上限 {cap:.2f}")
    passed = all(s.passed for s in sections) and all(
        ok for stage in cv_passed.values() for ok in stage.values())
    return ResourcesResult(passed=passed, sections=tuple(sections), cv=cv, cv_passed=cv_passed,
                           cv_reasons=cv_reasons)
