"""A county's plan versions and what the roadmap pages show of them.

A plan version is the plan .xlsx (``scoring.roadmap.write_plan``, or the bureau's own .xlsx),
kept like a workbook version: never overwritten, the same bytes again the same version. It is
read by ``scoring.roadmap.read_plan_bytes`` against the workbook of the county's verdict and
projected by ``scoring.roadmap.project`` with that verdict's answers: every figure here comes
from the projection, nothing re-implements a rule.
"""

import hashlib
import io
import re
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scoring import names as N
from scoring import workbook as wbk
from scoring.county_keys import key_label
from scoring.errors import InputError, Problem
from scoring.roadmap import (
    Plan,
    PlanRow,
    Roadmap,
    YearProjection,
    column_rule,
    plan_from_ledger,
    project,
    read_plan_bytes,
    write_plan,
)
from service.db.models import PlanVersion, utcnow
from service.verdicts.pipeline import CountyVerdict

PLAN_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".zip")
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


# ---- Chinese problems -------------------------------------------------------------------------

def column_name(column: str | None) -> str:
    """A schools column or county key as a person reads it (the workbook's Chinese header, else the
    rule's label beside its code)."""
    if not column:
        return ""
    if column in wbk.SCHOOL_COLUMNS:
        return wbk.SCHOOL_COLUMNS[column]
    if column in wbk.COUNTY_CHINESE:
        return key_label(column)
    rule = column_rule(column)
    return f"{column} {N.label(rule)}" if rule != "default" else column


def problem_zh(p: Problem) -> dict:
    """A located problem as the problem tables show it: sheet, row and column as the user wrote
    them, value, what was expected (the readers' messages are Chinese already)."""
    return {"sheet": p.place, "row": p.row, "column": p.heading or "", "value": p.value, "expected": p.expected}


# ---- storage ----------------------------------------------------------------------------------

def _stable_xlsx(data: bytes) -> bytes:
    """The .xlsx without its save times, so that the same plan written twice is the same bytes
    (and so the same version)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIMES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<3>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def plan_bytes(plan: Plan) -> bytes:
    return _stable_xlsx(write_plan(plan))


def plans_of(session: Session, county: str) -> list[PlanVersion]:
    return list(session.exec(select(PlanVersion).where(PlanVersion.county_name == county)
                             .order_by(PlanVersion.version.desc())))


def plan_of(session: Session, county: str, number: int | None) -> PlanVersion | None:
    """Plan version ``number`` of the county, or the latest when None."""
    stmt = select(PlanVersion).where(PlanVersion.county_name == county)
    stmt = stmt.where(PlanVersion.version == number) if number else stmt.order_by(PlanVersion.version.desc())
    return session.exec(stmt).first()


def store_plan(session: Session, county: str, account_id: int | None, filename: str,
               data: bytes) -> PlanVersion:
    """The county's next plan version (the same bytes: the existing one). Commits."""
    digest = hashlib.sha256(data).hexdigest()
    same = session.exec(select(PlanVersion).where(PlanVersion.county_name == county,
                                                  PlanVersion.sha256 == digest)
                        .order_by(PlanVersion.version)).first()
    if same is not None:
        return same
    for _ in range(5):   # two saves at once: the unique (county, version) decides, the loser takes the next
        number = (session.exec(select(func.max(PlanVersion.version))
                               .where(PlanVersion.county_name == county)).one() or 0) + 1
        version = PlanVersion(county_name=county, version=number, filename=filename[:255], sha256=digest,
                              data=data, uploaded_by=account_id, uploaded_at=utcnow())
        session.add(version)
        try:
            session.commit()
            return version
        except IntegrityError:
            session.rollback()
    raise RuntimeError("plan version kept colliding")


# ---- reading and projecting -------------------------------------------------------------------

def read_plan(cv: CountyVerdict, filename: str, data: bytes, profile) -> tuple[Roadmap | None, list[dict]]:
    """The projection of a plan file on the county's verdict, or its problems in Chinese."""
    try:
        plan = read_plan_bytes(filename, data, cv.workbook, profile=profile)
        return project(cv.workbook, plan, profile, cv.responses), []
    except InputError as exc:
        return None, [problem_zh(p) for p in exc.problems]


def upload_plan(session: Session, cv: CountyVerdict, account_id: int | None, filename: str, data: bytes,
                profile) -> tuple[PlanVersion | None, list[dict]]:
    """An uploaded plan (.xlsx, .csv, .zip of CSVs) stored as a version, or every problem and
    nothing stored. A CSV plan is stored as the plan .xlsx it reads as."""
    if not data:
        return None, [problem_zh(Problem(filename or "规划", None, None, None, "无法读取：文件为空，请重新保存后上传"))]
    if not filename.lower().endswith(PLAN_SUFFIXES):
        return None, [problem_zh(Problem(filename, None, None, None, "不是规划表：应为 .xlsx、.csv 或 .zip 文件"))]
    roadmap, problems = read_plan(cv, filename, data, profile)
    if problems:
        return None, problems
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        data, filename = plan_bytes(roadmap.plan), filename.rsplit(".", 1)[0] + ".xlsx"
    version = store_plan(session, cv.county, account_id, filename, data)
    _keep(cv, version, (roadmap, []))     # the pages that follow show this projection
    return version, []


def ledger_plan(cv: CountyVerdict, profile, year: int, years: dict[int, int] | None = None) -> Plan:
    """The plan started from the county's ledger: every row in ``year`` unless ``years`` (row index →
    year) picks another."""
    plan = plan_from_ledger(cv.ledger, year, profile=profile)
    if years:
        plan = Plan(tuple(replace(r, year=years.get(i, r.year)) for i, r in enumerate(plan.rows)))
    return plan


# Projections of plan versions (a county's latest on every acceptance and mock acceptance view):
# each is one evaluation per year of the plan, so one is kept per plan version and verdict state.
PROJECTIONS_KEPT = 128
_PROJECTIONS: "OrderedDict[tuple, tuple[Roadmap | None, list[dict]]]" = OrderedDict()
_PROJECTIONS_LOCK = threading.Lock()


def roadmap_of(cv: CountyVerdict, version: PlanVersion, profile) -> tuple[Roadmap | None, list[dict]]:
    """The plan version projected on the county's verdict, kept per process: keyed by the plan
    version (id and bytes' sha256) and the verdict's state (workbook, counted answers, profile),
    so a new version, workbook or answer projects afresh."""
    key = (version.id, version.sha256, cv.key)
    with _PROJECTIONS_LOCK:
        hit = _PROJECTIONS.get(key)
        if hit is not None:
            _PROJECTIONS.move_to_end(key)
            return hit
    return _keep(cv, version, read_plan(cv, version.filename, bytes(version.data), profile))


def _keep(cv: CountyVerdict, version: PlanVersion, projection: tuple) -> tuple:
    if cv.key:                    # a verdict of no known state is not kept
        with _PROJECTIONS_LOCK:
            _PROJECTIONS[(version.id, version.sha256, cv.key)] = projection
            while len(_PROJECTIONS) > PROJECTIONS_KEPT:
                _PROJECTIONS.popitem(last=False)
    return projection


# ---- what the pages show ----------------------------------------------------------------------

def _part_state(projection: YearProjection, part: str, with_recognition: bool) -> str:
    if part == "recognition" and not with_recognition:
        return "无问卷数据，未计入"
    return N.PASSED[bool(getattr(projection.verdict, part).passed)]


def year_row(projection: YearProjection, with_recognition: bool) -> dict:
    v = projection.verdict
    return {"year": projection.year, "passed": projection.passed,
            "parts": [{"name": N.PARTS[p], "state": _part_state(projection, p, with_recognition),
                       "passed": bool(getattr(v, p).passed)} for p in N.FOUR_PARTS],
            "veto": [f"{k} {N.VETO_ITEMS[k]}" for k in v.veto],
            "ledger_cost": projection.ledger_cost_yuan, "ledger_rows": len(projection.ledger),
            "cost_by_department": dict(projection.cost_by_department),
            "plan_cost": projection.plan_cost_yuan, "plan_cost_by_department": dict(projection.plan_cost_by_department)}


def why_no_compliance(roadmap: Roadmap) -> str | None:
    """Why no year of the plan passes, in Chinese (None when one does)."""
    if roadmap.compliance_year is not None:
        return None
    if not roadmap.years:
        return "规划中还没有任何年度的变化。"
    last = roadmap.years[-1]
    v = last.verdict
    reasons = []
    if v.veto:
        reasons.append("一票否决仍然触发（" + "、".join(f"{k} {N.VETO_ITEMS[k]}" for k in v.veto)
                       + "），指标表数据的变化无法消除它")
    failed = [N.PARTS[p] for p in v.failed_parts if p != "recognition" or roadmap.with_recognition]
    if failed:
        reasons.append("、".join(failed) + "仍未达标")
    return f"到 {last.year} 年仍不达标：" + "；".join(reasons) + "。" if reasons else None


def timeline(roadmap: Roadmap) -> dict:
    base = year_row(roadmap.base, roadmap.with_recognition)
    years = [year_row(y, roadmap.with_recognition) for y in roadmap.years]
    departments = sorted({d for y in years for d in (*y["plan_cost_by_department"], *y["cost_by_department"])})
    return {"base": base, "years": years, "departments": departments, "compliance_year": roadmap.compliance_year,
            "why_none": why_no_compliance(roadmap), "with_recognition": roadmap.with_recognition}


def plan_rows(roadmap: Roadmap, school_names: dict[str, str]) -> list[dict]:
    """The plan's rows as applied in its last year: what changes, by how much, at what cost."""
    if not roadmap.years:
        return []
    out = []
    for c in roadmap.years[-1].changes:
        out.append({"year": c.year, "school_code": c.school_code or "",
                    "school_name": school_names.get(c.school_code or "", "全县" if c.school_code is None else ""),
                    "column": column_name(c.column), "change": c.row.change_words() if c.row else "新建学校",
                    "before": _value_text(c.before), "after": _value_text(c.after),
                    "increase": c.delta, "cost": c.cost_yuan, "lead": c.lead_department,
                    "departments": "、".join(c.departments), "note": (c.row.note if c.row else "") or ""})
    return out


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def department_tasks(roadmap: Roadmap, school_names: dict[str, str]) -> dict[str, list[dict]]:
    """Per lead department, the plan rows it leads, by school and year."""
    tasks: dict[str, list[dict]] = {}
    for row in plan_rows(roadmap, school_names):
        tasks.setdefault(row["lead"], []).append(row)
    for rows in tasks.values():
        rows.sort(key=lambda r: (r["school_code"] or "\uffff", r["year"]))
    return dict(sorted(tasks.items()))


def school_names_of(cv: CountyVerdict, roadmap: Roadmap | None = None) -> dict[str, str]:
    schools = cv.workbook.schools
    names = dict(zip(schools["school_code"].astype(str), schools["school_name"].astype(str)))
    if roadmap is not None and not roadmap.plan.new_schools.empty:
        new = roadmap.plan.new_schools
        names |= {str(c): f"{n}（新建）" for c, n in zip(new["school_code"], new["school_name"])}
    return names


@dataclass
class StartRow:
    index: int
    row: PlanRow
    school: str
    column: str


def start_rows(cv: CountyVerdict, profile, year: int) -> list[StartRow]:
    """The rows of the start form: every ledger row that changes the workbook, prefilled."""
    names = school_names_of(cv)
    plan = ledger_plan(cv, profile, year)
    return [StartRow(i, r, f"{r.school_code} {names.get(r.school_code, '')}" if r.school_code else "全县",
                     column_name(r.column)) for i, r in enumerate(plan.rows)]
