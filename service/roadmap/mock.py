"""Mock acceptance (模拟验收): the county's self-evaluation report in the order of the four parts,
the veto and the precondition (the verdict page's cards, ``verdicts.presenters``), the survey's
figures when a campaign counts, the open shortfalls, the roadmap's compliance year and the
responsible departments."""

from sqlmodel import Session

from scoring.ledger import cost_by_department
from service.roadmap.plans import (
    department_tasks,
    plan_of,
    roadmap_of,
    school_names_of,
    why_no_compliance,
)
from service.verdicts.pipeline import CountyVerdict
from service.verdicts.presenters import verdict_view


def mock_report(session: Session, cv: CountyVerdict, profile) -> dict:
    view = verdict_view(cv, profile)
    ledger_cost, by_department = cost_by_department(cv.ledger)
    departments: dict[str, dict] = {}
    for row in cv.ledger:
        for i, dept in enumerate(row.departments):
            d = departments.setdefault(dept, {"name": dept, "lead": 0, "joint": 0, "tasks": 0,
                                              "cost": by_department.get(dept, 0.0)})
            d["lead" if i == 0 else "joint"] += 1
    version = plan_of(session, cv.county, None)
    roadmap, problems = roadmap_of(cv, version, profile) if version else (None, [])
    if roadmap is not None:
        for dept, rows in department_tasks(roadmap, school_names_of(cv, roadmap)).items():
            departments.setdefault(dept, {"name": dept, "lead": 0, "joint": 0, "tasks": 0,
                                          "cost": by_department.get(dept, 0.0)})
            departments[dept]["tasks"] = len(rows)
    shortfalls = [{"reason": r.reason or "", "departments": "、".join(r.departments), "cost": r.cost_yuan}
                  for r in cv.ledger]
    return {"cards": view["cards"], "recognition": view["recognition"], "forecast": view["forecast"],
            "survey": cv.campaign is not None,
            "campaign": cv.campaign, "shortfalls": shortfalls, "plan_version": version, "roadmap": roadmap,
            "plan_problems": problems, "why_none": why_no_compliance(roadmap) if roadmap else None, "departments": sorted(departments.values(), key=lambda d: -d["cost"]),
            "ledger_cost": ledger_cost, "v": cv.verdict,
            "failed_parts": view["failed_parts"]}
