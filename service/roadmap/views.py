"""What each roadmap page shows, gathered in one call per page (the routes parse and render)."""

from sqlmodel import Session, select

from scoring.ledger import cost_by_department
from service.db.models import Account
from service.roadmap import acceptance as A
from service.roadmap.monitoring import monitoring
from service.roadmap.plans import (
    department_tasks,
    plan_of,
    plan_rows,
    plans_of,
    roadmap_of,
    school_names_of,
    start_rows,
    timeline,
)
from service.roadmap.trends import province_trends, survey_trends
from service.verdicts.pipeline import county_verdict

YEARS_AHEAD = 6


def year_options(this_year: int) -> list[int]:
    return list(range(this_year, this_year + YEARS_AHEAD))


def plan_view(session: Session, county: str, profile, plan_number: int | None) -> dict:
    """A plan version of the county projected on its verdict: its timeline, rows and task lists."""
    cv = county_verdict(session, county, None, profile)
    ctx = {"county": county, "cv": cv, "plan": None, "roadmap": None, "plan_problems": [], "timeline": None,
           "rows": [], "departments": {}, "department_totals": {}}
    version = plan_of(session, county, plan_number) if cv is not None else None
    if version is None:
        return ctx
    roadmap, problems = roadmap_of(cv, version, profile)
    ctx.update(plan=version, roadmap=roadmap, plan_problems=problems)
    if roadmap is not None:
        names = school_names_of(cv, roadmap)
        tasks = department_tasks(roadmap, names)
        ctx.update(timeline=timeline(roadmap), rows=plan_rows(roadmap, names), departments=tasks,
                   department_totals={d: _total(rows) for d, rows in tasks.items()})
    return ctx


def roadmap_view(session: Session, county: str, profile, plan_number: int | None, this_year: int) -> dict:
    """The roadmap page: the plan versions, the chosen one's projection, the start form."""
    ctx = plan_view(session, county, profile, plan_number)
    ctx.update(plans=plans_of(session, county), start=[], years=year_options(this_year), default_year=this_year + 1,
               uploaders={a.id: a.username for a in session.exec(select(Account))})
    cv = ctx["cv"]
    if cv is not None:
        ctx["ledger_cost"], ctx["ledger_by_department"] = cost_by_department(cv.ledger)
        ctx["start"] = start_rows(cv, profile, this_year + 1)
    return ctx


def _total(rows: list[dict]) -> float:
    return sum(r["cost"] or 0.0 for r in rows)


def department_view(session: Session, county: str, profile, plan_number: int | None, department: str) -> dict | None:
    """One department's task list of the chosen plan version; None when there is no such list."""
    view = plan_view(session, county, profile, plan_number)
    if view["roadmap"] is None or department not in view["departments"]:
        return None
    rows = view["departments"][department]
    return {"county": county, "plan": view["plan"], "department": department, "rows": rows,
            "total": _total(rows), "years": sorted({r["year"] for r in rows})}


def monitoring_view(session: Session, county: str, profile) -> dict:
    return {"county": county, **monitoring(session, county, profile), "trends": survey_trends(session, county, profile)}


def province_trends_view(session: Session, counties: list[str], profile) -> dict:
    return {"trends": province_trends(session, counties, profile)}


def acceptance_view(session: Session, counties: list[str], profile) -> dict:
    rows = A.acceptance_rows(session, counties, profile)
    return {"rows": rows, "flagged": sum(bool(set(r["flags"]) - {"未定申请年度"}) for r in rows)}
