"""The province's acceptance plan (验收计划): the year each county plans to apply, beside the
compliance year its latest plan version projects and today's verdict; a county is flagged when
its projection is later than its planned year, when no year of its plan passes, or when it has
no plan."""

from sqlmodel import Session, select

from service.db.models import AcceptancePlan, utcnow
from service.roadmap.plans import plan_of, roadmap_of
from service.verdicts.pipeline import county_verdict

FIRST_YEAR, LAST_YEAR = 2000, 2100


def planned_years(session: Session) -> dict[str, AcceptancePlan]:
    return {a.county_name: a for a in session.exec(select(AcceptancePlan))}


def parse_year(text: str | None) -> int | None:
    """A planned year from the form, or None when it is not a year."""
    text = (text or "").strip()
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        return None
    return int(text)


def set_planned_year(session: Session, county: str, year: int, account_id: int | None) -> AcceptancePlan:
    """Set (not commit: the audit entry commits it with itself) the county's planned year."""
    row = session.get(AcceptancePlan, county) or AcceptancePlan(county_name=county, planned_year=year)
    row.planned_year, row.set_by, row.set_at = year, account_id, utcnow()
    session.add(row)
    return row


def acceptance_rows(session: Session, counties: list[str], profile) -> list[dict]:
    planned = planned_years(session)
    rows = []
    for county in counties:
        plan = planned.get(county)
        row = {"county": county, "planned": plan.planned_year if plan else None, "plan_version": None,
               "projected": None, "passed": None, "flags": []}
        cv = county_verdict(session, county, None, profile)
        version = plan_of(session, county, None)
        if cv is not None:
            row["passed"] = cv.verdict.passed
        if version is None or cv is None:
            row["flags"].append("无规划")
        else:
            roadmap, problems = roadmap_of(cv, version, profile)
            row["plan_version"] = version.version
            if problems:
                row["flags"].append("规划与最新指标表不符")
            else:
                row["projected"] = roadmap.compliance_year
                if roadmap.compliance_year is None:
                    row["flags"].append("规划期内不达标")
                elif row["planned"] is not None and roadmap.compliance_year > row["planned"]:
                    row["flags"].append("预计达标晚于计划")
        if row["planned"] is None:
            row["flags"].append("未定申请年度")
        rows.append(row)
    return rows
