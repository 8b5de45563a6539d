"""The roadmap pages under ``/inspector``: a county's roadmap (start a plan from the ledger or
upload one, the timeline of its projection, the plan and timeline .xlsx), the departments' task
lists (page, A4 PDF, .xlsx), the years on file (monitoring), the mock acceptance report (page and
PDF), and the province's acceptance plan."""

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from sqlmodel import Session

from scoring.profile import Profile

from service.accounts import audit
from service.accounts import roles as R
from service.accounts.pages import staff_context
from service.roadmap import acceptance as A
from service.roadmap import exports as X
from service.roadmap import views as V
from service.roadmap.mock import mock_report
from service.roadmap.plans import (
    ledger_plan,
    plan_bytes,
    plan_of,
    store_plan,
    upload_plan,
)
from service.verdicts.pipeline import county_verdict
from service.web.clock import CHINA
from service.web.downloads import XLSX
from service.web.pdf import html_to_pdf

PDF = "application/pdf"
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _page(p: R.Principal, **ctx) -> dict:
    return staff_context(p, q=quote, can_plan=p.can_upload(ctx.get("county", "")), **ctx)


def _this_year(now: datetime) -> int:
    return now.astimezone(CHINA).year


def _roadmap_url(county: str, plan: int | None = None) -> str:
    return f"/inspector/counties/{quote(county)}/roadmap" + (f"?plan={plan}" if plan else "")


def _download(p: R.Principal, db: Session, county: str, data: bytes, media_type: str, name: str) -> Response:
    """A download, recorded in the audit log with its sha256."""
    return audit.download(db, p, f"county/{county}/{name}", data, media_type, name)


def _render(request: Request, template: str, ctx: dict) -> str:
    return request.app.template_engine.get_template(template).render(**ctx)


def _roadmap_page(p: R.Principal, db: Session, profile: Profile, now: datetime, county: str, plan: int | None,
                  status: int = 200, **extra) -> Template:
    ctx = V.roadmap_view(db, county, profile, plan, _this_year(now))
    return Template(template_name="roadmap/roadmap.html", status_code=status, context=_page(p, **ctx, **extra))


@get("/counties/{county:str}/roadmap", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def roadmap_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                 profile: NamedDependency[Profile], now: NamedDependency[datetime], county: FromPath[str],
                 plan: FromQuery[int | None] = None) -> Template:
    return _roadmap_page(principal, db, profile, now, county, plan)


@post("/counties/{county:str}/roadmap/start", sync_to_thread=True, guards=[R.logged_in, R.county_uploader],
      media_type=MediaType.HTML)
def start_plan(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
               profile: NamedDependency[Profile], now: NamedDependency[datetime], county: FromPath[str],
               data: Annotated[dict[str, str], FORM]) -> Any:
    cv = county_verdict(db, county, None, profile)
    if cv is None:
        raise NotFoundException("no workbook")
    if str(data.get("workbook_version")) != str(cv.version.version):
        return _roadmap_page(principal, db, profile, now, county, None, 409,
                             start_error="指标表已更新，请按新的台账重新选择年度。")
    allowed = V.year_options(_this_year(now))
    chosen = {}
    for key, value in data.items():
        if key.startswith("year_") and key[5:].isdigit() and str(value).isdigit() and int(value) in allowed:
            chosen[int(key[5:])] = int(value)
    everything = str(data.get("all_year") or "")
    default = int(everything) if everything.isdigit() and int(everything) in allowed else allowed[1]
    plan = ledger_plan(cv, profile, default, None if everything else chosen)
    if not plan.rows:
        return _roadmap_page(principal, db, profile, now, county, None, 422, start_error="台账中没有需要修改指标表的短板，无需规划。")
    payload = plan_bytes(plan)
    version = store_plan(db, county, principal.account_id, f"{county}-规划.xlsx", payload)
    audit.record(db, principal, "plan_create", f"county/{county}/roadmap",
                 {"version": version.version, "rows": len(plan.rows)}, version.sha256)
    return Redirect(path=_roadmap_url(county, version.version), status_code=303)


@post("/counties/{county:str}/roadmap/plans", sync_to_thread=True, guards=[R.logged_in, R.county_uploader],
      media_type=MediaType.HTML)
def plan_upload(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile], now: NamedDependency[datetime], county: FromPath[str],
                data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    cv = county_verdict(db, county, None, profile)
    if cv is None:
        raise NotFoundException("no workbook")
    upload = data.get("plan")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _roadmap_page(principal, db, profile, now, county, None, 422, upload_error="请选择规划文件（.xlsx 或 CSV）。")
    filename, payload = upload.filename, upload.file.read()
    version, problems = upload_plan(db, cv, principal.account_id, filename, payload, profile)
    if problems:
        db.rollback()
        return _roadmap_page(principal, db, profile, now, county, None, 422, upload_problems=problems, upload_name=filename)
    audit.record(db, principal, "plan_upload", f"county/{county}/roadmap",
                 {"file": filename, "version": version.version}, audit.sha256(payload))
    return Redirect(path=_roadmap_url(county, version.version), status_code=303)


@get("/counties/{county:str}/roadmap/plan.xlsx", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def plan_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
              plan: FromQuery[int | None] = None) -> Response:
    version = plan_of(db, county, plan)
    if version is None:
        raise NotFoundException("no plan")
    return _download(principal, db, county, bytes(version.data), XLSX, f"{county}-规划-第{version.version}版.xlsx")


@get("/counties/{county:str}/roadmap/timeline.xlsx", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def timeline_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  profile: NamedDependency[Profile], county: FromPath[str],
                  plan: FromQuery[int | None] = None) -> Response:
    view = V.plan_view(db, county, profile, plan)
    if view["timeline"] is None:
        raise NotFoundException("no plan")
    return _download(principal, db, county, X.timeline_xlsx(county, view["timeline"]), XLSX,
                     f"{county}-时间表-第{view['plan'].version}版.xlsx")


def _department(db: Session, profile: Profile, county: str, plan: int | None, name: str) -> dict:
    view = V.department_view(db, county, profile, plan, name)
    if view is None:
        raise NotFoundException("no such department")
    return view


@get("/counties/{county:str}/roadmap/department", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def department_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile], county: FromPath[str], name: FromQuery[str],
                    plan: FromQuery[int | None] = None) -> Template:
    return Template(template_name="roadmap/department.html",
                    context=_page(principal, **_department(db, profile, county, plan, name)))


@get("/counties/{county:str}/roadmap/department.pdf", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def department_pdf(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                   profile: NamedDependency[Profile], county: FromPath[str], name: FromQuery[str],
                   plan: FromQuery[int | None] = None) -> Response:
    view = _department(db, profile, county, plan, name)
    pdf = html_to_pdf(_render(request, "roadmap/department.html", _page(principal, **view, printed=True)))
    return _download(principal, db, county, pdf, PDF, f"{county}-{name}-任务清单-第{view['plan'].version}版.pdf")


@get("/counties/{county:str}/roadmap/department.xlsx", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def department_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile], county: FromPath[str], name: FromQuery[str],
                    plan: FromQuery[int | None] = None) -> Response:
    view = _department(db, profile, county, plan, name)
    return _download(principal, db, county, X.tasks_xlsx(county, name, view["rows"]), XLSX,
                     f"{county}-{name}-任务清单-第{view['plan'].version}版.xlsx")


@get("/counties/{county:str}/monitoring", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def monitoring_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile], county: FromPath[str]) -> Template:
    return Template(template_name="roadmap/monitoring.html",
                    context=_page(principal, **V.monitoring_view(db, county, profile)))


def _mock(db: Session, profile: Profile, county: str) -> dict:
    cv = county_verdict(db, county, None, profile)
    if cv is None:
        raise NotFoundException("no workbook")
    return {"county": county, "cv": cv, **mock_report(db, cv, profile)}


@get("/counties/{county:str}/mock-acceptance", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def mock_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
              profile: NamedDependency[Profile], county: FromPath[str]) -> Template:
    return Template(template_name="roadmap/mock.html", context=_page(principal, **_mock(db, profile, county)))


@get("/counties/{county:str}/mock-acceptance.pdf", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def mock_pdf(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
             profile: NamedDependency[Profile], county: FromPath[str]) -> Response:
    pdf = html_to_pdf(_render(request, "roadmap/mock.html", _page(principal, **_mock(db, profile, county), printed=True)))
    return _download(principal, db, county, pdf, PDF, f"{county}-模拟验收自评报告.pdf")


@get("/trends", sync_to_thread=True, guards=[R.logged_in, R.overview_reader])
def province_trends_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                         profile: NamedDependency[Profile]) -> Template:
    counties = R.visible_counties(db, principal)
    return Template(template_name="roadmap/province_trends.html",
                    context=_page(principal, **V.province_trends_view(db, counties, profile)))


# ---- the province's acceptance plan ---------------------------------------------------------

def _acceptance_page(p: R.Principal, db: Session, profile: Profile, status: int = 200,
                     error: str | None = None) -> Template:
    counties = R.visible_counties(db, p)
    return Template(template_name="roadmap/acceptance.html", status_code=status,
                    context=_page(p, error=error, **V.acceptance_view(db, counties, profile)))


@get("/acceptance", sync_to_thread=True, guards=[R.logged_in, R.overview_reader])
def acceptance_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile]) -> Template:
    return _acceptance_page(principal, db, profile)


@post("/acceptance", sync_to_thread=True, guards=[R.logged_in, R.province_only], media_type=MediaType.HTML)
def acceptance_set(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                   profile: NamedDependency[Profile], data: Annotated[dict[str, str], FORM]) -> Any:
    county = str(data.get("county") or "").strip()
    year = A.parse_year(data.get("planned_year"))
    if county not in R.all_counties(db):
        return _acceptance_page(principal, db, profile, 422, "请选择县。")
    if year is None:
        return _acceptance_page(principal, db, profile, 422, f"{county}：申请验收年度应为年份（如 2027）。")
    A.set_planned_year(db, county, year, principal.account_id)
    audit.record(db, principal, "acceptance_plan_set", f"county/{county}", {"planned_year": year})
    return Redirect(path="/inspector/acceptance", status_code=303)


INSPECTOR_ROUTES = [roadmap_page, start_plan, plan_upload, plan_xlsx, timeline_xlsx, department_page, department_pdf,
                    department_xlsx, monitoring_page, mock_page, mock_pdf, acceptance_page, acceptance_set,
                    province_trends_page]
