"""The four-part verdict: parts, veto and precondition assembled (standard.md, verdict.md)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import display
from .guarantee import evaluate_guarantee
from .items import PartResult
from .profile import GROUPS, Profile
from .quality import evaluate_quality
from .recognition import (OfficialForecast, RateResult, RecognitionAggregate, answer_codes, classify_validity,
                          evaluate_rate, evaluate_rate_from_aggregate, official_forecast)
from .resources import ResourcesResult, evaluate_resources
from .sampling import CheckResult, evaluate_checks, group_targets, required_sample

if TYPE_CHECKING:
    from .workbook import Workbook

VETO_NAMES = {
    "V1": "以考试方式招生", "V2": "违规择校", "V3": "设置重点学校或重点班",
    "V4": "“有编不补”或长期聘用编外教师", "V5": "教育系统重大安全责任事故",
    "V6": "严重违纪违规事件", "V7": "弄虚作假",
}
STATUS_NAMES = {"robust_pass": "稳健达标", "marginal_pass": "勉强达标", "fail": "未达标", "no_data": "无数据"}


@dataclass(frozen=True)
class RecognitionResult:
    passed: bool
    rate: RateResult
    checks: Mapping[str, CheckResult]
    reason: str | None
    # survey.md "Forecast of the official survey"; None without data or with a group missing.
    official_forecast: OfficialForecast | None = None


@dataclass(frozen=True)
class Precondition:
    status: str   # passed | failed | unchecked
    reason: str | None
    years: int | None


@dataclass(frozen=True)
class Verdict:
    county: str
    profile: str
    passed: bool
    precondition: Precondition
    veto: tuple[str, ...]
    resources: ResourcesResult
    guarantee: PartResult
    quality: PartResult
    recognition: RecognitionResult
    warnings: tuple[str, ...]

    @property
    def failed_parts(self) -> tuple[str, ...]:
        parts = {"resources": self.resources, "guarantee": self.guarantee, "quality": self.quality,
                 "recognition": self.recognition}
        return tuple(name for name, p in parts.items() if not p.passed)

    def to_dict(self) -> dict[str, Any]:
        return verdict_dict(self)


def evaluate_precondition(county: Mapping[str, Any], profile: Profile) -> Precondition:
    basic, year = county.get("basic_balance_year"), county.get("evaluation_year")
    if basic is None or year is None:
        return Precondition("unchecked", None, None)
    needed = int(profile.precondition["precondition_years"])
    years = int(year) - int(basic)
    if years >= needed:
        return Precondition("passed", None, years)
    return Precondition("failed", f"通过基本均衡认定 {years} 年（{basic}–{year}），不满 {needed} 年", years)


def evaluate_recognition(workbook: "Workbook", responses: pd.DataFrame | None, profile: Profile,
                         aggregate: RecognitionAggregate | None = None) -> RecognitionResult:
    """Part S from one row per response, or from their sufficient statistics (``aggregate``,
    see recognition.py: the rate, both variances and S1–S7 need only its sums and counts)."""
    if aggregate is not None:
        rate = evaluate_rate_from_aggregate(aggregate, profile)
        valid, collected = aggregate.valid_cells(), int(aggregate.cells["n"].sum())
    elif responses is None:
        rate = evaluate_rate(None, profile)
        return RecognitionResult(False, rate, {}, "未提供问卷数据，社会认可度无法评估")
    else:
        answers = answer_codes(responses)
        validity = classify_validity(responses, profile, answers)
        rate = evaluate_rate(responses, profile, validity, answers)
        # Only the columns the checks read: copying 1M rows of every column costs more than the checks.
        valid = responses.loc[(validity == "valid").to_numpy(), ["group", "location", "school_code", "grade"]]
        collected = len(responses)
    county = workbook.county
    shares = {loc: county[f"population_share_{loc}"] for loc in ("urban", "town", "rural")}
    population = float(county["resident_population"])
    checks = evaluate_checks(valid, collected, workbook.schools, population, shares, profile)
    forecast = official_forecast(rate, group_targets(required_sample(population, profile), profile), profile)
    threshold = float(profile.recognition["recognition_threshold"])
    rate_ok = rate.rate is not None and profile.at_least(rate.rate, threshold)
    failed_checks = [c for c in checks.values() if not c.passed]
    reasons = []
    if rate.rate is None:
        reasons.append("没有有效评分问卷")
    elif not rate_ok:
        reasons.append(f"加权认可度 {display.percent(rate.rate, passed=False)}，低于 {threshold:.0%}")
    reasons += [f"{c.code} {c.reason}" for c in failed_checks]
    return RecognitionResult(rate_ok and not failed_checks, rate, checks, "；".join(reasons) or None, forecast)


@dataclass(frozen=True)
class WorkbookParts:
    """What the workbook alone decides: answers arriving leave it as it is."""
    resources: ResourcesResult
    guarantee: PartResult
    quality: PartResult
    precondition: Precondition
    veto: tuple[str, ...]


def evaluate_workbook(workbook: "Workbook", profile: Profile) -> WorkbookParts:
    schools, county = workbook.schools, workbook.county
    return WorkbookParts(evaluate_resources(schools, profile), evaluate_guarantee(schools, county, profile),
                         evaluate_quality(schools, county, profile), evaluate_precondition(county, profile),
                         tuple(k for k in sorted(VETO_NAMES) if workbook.veto.get(k, False)))


def evaluate(workbook: "Workbook", responses: pd.DataFrame | None, profile: Profile, *,
             aggregate: RecognitionAggregate | None = None, parts: WorkbookParts | None = None) -> Verdict:
    """Evaluate a county: the verdict of the national method under ``profile``. Part S reads
    ``aggregate`` when given (instead of ``responses``); ``parts`` are ``evaluate_workbook``'s,
    when the caller kept them for this workbook and profile."""
    p = parts or evaluate_workbook(workbook, profile)
    recognition = evaluate_recognition(workbook, responses, profile, aggregate)
    passed = (p.resources.passed and p.guarantee.passed and p.quality.passed and recognition.passed
              and not p.veto and p.precondition.status != "failed")
    warnings = tuple(str(w) for w in workbook.warnings) + recognition.rate.warnings
    return Verdict(str(workbook.county["county_name"]), profile.name, passed, p.precondition, p.veto, p.resources,
                   p.guarantee, p.quality, recognition, warnings)


# ---- JSON (verdict.md) ----------------------------------------------------------------------

def _items_dict(part: PartResult) -> dict[str, Any]:
    items = {}
    for code, item in part.items.items():
        entry: dict[str, Any] = {"passed": item.passed}
        if item.reason:
            entry["reason"] = item.reason
        if item.schools:
            entry["schools"] = list(item.schools)
        items[code] = entry
    return {"passed": part.passed, "items": items}


def _resources_dict(r: ResourcesResult) -> dict[str, Any]:
    sections = []
    for s in r.sections:
        entry = {"school_code": s.school_code, "stage": s.stage, "students": s.students,
                 "values": dict(s.values), "met": list(s.met), "passed": s.passed}
        if s.reason:
            entry["reason"] = s.reason
        sections.append(entry)
    out = {"passed": r.passed, "sections": sections,
           "cv": {k: dict(v) for k, v in r.cv.items()},
           "cv_passed": {k: dict(v) for k, v in r.cv_passed.items()}}
    reasons = {k: dict(v) for k, v in r.cv_reasons.items() if v}
    if reasons:
        out["cv_reasons"] = reasons
    return out


def _recognition_dict(rec: RecognitionResult) -> dict[str, Any]:
    rate = rec.rate
    checks = {}
    for code, c in rec.checks.items():
        entry = {"passed": c.passed, **c.figures}
        if c.reason:
            entry["reason"] = c.reason
        checks[code] = entry
    out = {
        "passed": rec.passed, "status": rate.status, "rate": rate.rate, "pooled_rate": rate.pooled_rate,
        "ci95": list(rate.ci95) if rate.ci95 else None, "lower_bound_95": rate.lower_bound_95,
        "variance": rate.variance,
        "ci95_srs": list(rate.ci95_srs) if rate.ci95_srs else None, "lower_bound_95_srs": rate.lower_bound_95_srs,
        "variance_srs": rate.variance_srs, "thin_groups": list(rate.thin_groups),
        "groups": {g: {"n": rate.groups[g].n, "rated": rate.groups[g].rated, "rate": rate.groups[g].rate,
                       "clusters": rate.groups[g].clusters} for g in GROUPS},
        "weights": dict(rate.weights),
        "collected": rate.collected, "valid": rate.valid, "invalid": dict(rate.invalid),
        "checks": checks, "approximate_interval": True, "warnings": list(rate.warnings),
        "official_forecast": rec.official_forecast.to_dict() if rec.official_forecast else None,
    }
    if rec.reason:
        out["reason"] = rec.reason
    return out


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars become Python numbers and bools."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def verdict_dict(v: Verdict) -> dict[str, Any]:
    precondition: dict[str, Any] = {"status": v.precondition.status}
    if v.precondition.years is not None:
        precondition["years"] = v.precondition.years
    if v.precondition.reason:
        precondition["reason"] = v.precondition.reason
    veto: dict[str, Any] = {"triggered": list(v.veto)}
    if v.veto:
        veto["reason"] = "；".join(f"{k} {VETO_NAMES[k]}" for k in v.veto)
    return _plain({
        "county": v.county,
        "profile": v.profile,
        "passed": v.passed,
        "failed_parts": list(v.failed_parts),
        "precondition": precondition,
        "veto": veto,
        "parts": {
            "resources": _resources_dict(v.resources),
            "guarantee": _items_dict(v.guarantee),
            "quality": _items_dict(v.quality),
            "recognition": _recognition_dict(v.recognition),
        },
        "warnings": list(v.warnings),
    })
