"""Monitoring across the years on file: per workbook data year (统计年度, the latest version of each
year), per stage and indicator the county's mean and CV, and per school the trend of its weakest
indicators. CVs and section values are ``scoring.resources``'; the mean is the student-weighted
mean of the same section values (the mean behind the CV), for display only."""

from html import escape

from sqlmodel import Session

from scoring import names as N
from scoring.resources import evaluate_resources, standards
from service.workbooks.versions import parse_version, versions_of

SPARK_W, SPARK_H = 160, 40


def years_on_file(session: Session, county: str) -> dict[int, object]:
    """The latest workbook version of each data year, oldest year first."""
    latest: dict[int, object] = {}
    for v in versions_of(session, county):          # newest first
        if v.data_year is not None and v.data_year not in latest:
            latest[v.data_year] = v
    return dict(sorted(latest.items()))


def _ratio(value: float, standard: float) -> float | None:
    return value / standard if standard else None


def sparkline(points: list[tuple[int, float | None]], label: str) -> str:
    """A small SVG line of value/standard by year, the standard (1.0) dashed."""
    known = [r for _, r in points if r is not None]
    top = max(known + [1.0]) * 1.1
    n = max(len(points) - 1, 1)

    def xy(i: int, r: float) -> tuple[float, float]:
        return 6 + (SPARK_W - 12) * i / n, SPARK_H - 4 - (SPARK_H - 8) * r / top

    one = xy(0, 1.0)[1]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, r) for i, (_, r) in enumerate(points) if r is not None))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{"#2e7d32" if r >= 1 else "#c62828"}"/>'
                   for (x, y), r in ((xy(i, r), r) for i, (_, r) in enumerate(points) if r is not None))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{SPARK_W}" height="{SPARK_H}" '
            f'viewBox="0 0 {SPARK_W} {SPARK_H}" role="img" aria-label="{escape(label)}">'
            f'<line x1="0" y1="{one:.1f}" x2="{SPARK_W}" y2="{one:.1f}" stroke="#999" stroke-dasharray="3,2"/>'
            f'<polyline points="{path}" fill="none" stroke="#1565c0" stroke-width="1.5"/>{dots}</svg>')


def monitoring(session: Session, county: str, profile, weakest: int = 2) -> dict:
    years = years_on_file(session, county)
    results = {}
    names: dict[str, str] = {}
    for year, version in years.items():
        workbook = parse_version(version, profile)
        names |= dict(zip(workbook.schools["school_code"].astype(str), workbook.schools["school_name"].astype(str)))
        results[year] = evaluate_resources(workbook.schools, profile)
    stages = []
    for stage, stage_name in N.STAGES.items():
        rows = []
        for ind, ind_name in N.INDICATORS.items():
            cells = []
            for year, res in results.items():
                secs = [s for s in res.sections if s.stage == stage]
                total = sum(s.students for s in secs)
                mean = sum(s.values[ind] * s.students for s in secs) / total if total else None
                cv = res.cv.get(stage, {}).get(ind)
                cells.append({"year": year, "mean": mean, "cv": cv,
                              "cv_passed": res.cv_passed.get(stage, {}).get(ind)})
            if any(c["mean"] is not None for c in cells):
                rows.append({"ind": ind, "name": ind_name, "cells": cells})
        if rows:
            stages.append({"name": stage_name, "rows": rows})
    schools = []
    if results:
        last_year = max(results)
        for s in results[last_year].sections:
            std = standards(profile, s.stage)
            ratios = sorted(N.INDICATORS, key=lambda ind: _ratio(s.values[ind], std[ind]) or 0.0)[:weakest]
            trends = []
            for ind in ratios:
                points = []
                for year, res in results.items():
                    sec = next((x for x in res.sections if x.school_code == s.school_code and x.stage == s.stage),
                               None)
                    points.append((year, _ratio(sec.values[ind], std[ind]) if sec else None))
                trends.append({"ind": ind, "name": N.INDICATORS[ind], "points": points,
                               "svg": sparkline(points, f"{ind} {N.INDICATORS[ind]}历年达标程度")})
            schools.append({"code": s.school_code, "name": names.get(s.school_code, ""),
                            "stage": N.STAGES[s.stage], "trends": trends})
    return {"years": list(results), "stages": stages, "schools": schools}
