"""The verdict pages of a county under ``/inspector``: the verdict, the A4 report (page and PDF),
the JSON and xlsx exports, the ledger, the comparison of two versions, and the province overview
(page and xlsx). Every one
reads ``pipeline.county_verdict``; a role changes what one may do, not what one sees."""

from urllib.parse import quote

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template
from sqlmodel import Session

from scoring.profile import Profile

from scoring import names as N
from scoring.compare import compare_versions
from service.accounts import audit
from service.accounts import roles as R
from service.accounts.pages import staff_context
from service.campaigns.counted import counted_campaign
from service.campaigns.progress import overall, plan_for
from service.campaigns.progress import progress as progress_of
from service.verdicts import exports as X
from service.verdicts.evidence import evidence_index
from service.verdicts.pipeline import county_verdict
from service.verdicts.presenters import overview_rows, sort_overview, verdict_view
from service.verdicts.report import report_pdf as report_pdf_bytes
from service.verdicts.report import verdict_context as _verdict_context
from service.verdicts.report import verdict_of as _verdict
from service.web.clock import local
from service.web.downloads import XLSX
from service.workbooks.versions import versions_of


def _page(p: R.Principal, **ctx) -> dict:
    return staff_context(p, q=quote, **ctx)


def _export(p: R.Principal, db: Session, county: str, data: bytes, media_type: str, name: str) -> Response:
    """A download, recorded in the audit log with its sha256."""
    return audit.download(db, p, f"county/{county}/{name}", data, media_type, name)


@get("/counties/{county:str}/verdict", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def verdict_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                 profile: NamedDependency[Profile],
                 county: FromPath[str], version: FromQuery[int | None] = None,
                 sort: FromQuery[str | None] = None) -> Template:
    audit.record(db, principal, "verdict_view", f"county/{county}", {"version": version, "page": "verdict"})
    if version is None and not versions_of(db, county):
        return Template(template_name="inspector/verdict_pending.html", context=_pending_context(principal, db, profile, county))
    ctx = _verdict_context(principal, db, profile, county, version, sort)
    # The page (not the printed report) links each value to its evidence: one metadata query.
    ctx["evidence"] = evidence_index(db, ctx["cv"].version)
    return Template(template_name="inspector/verdict.html", context=ctx)


def _pending_context(p: R.Principal, db: Session, profile: Profile, county: str) -> dict:
    """Before any workbook version: the indicator parts are 待提供 (not a failure), the survey's
    progress is what the campaign that counts has collected against its plan."""
    counted = counted_campaign(db, county)
    campaign, progress = counted.campaign, None
    if campaign is not None:
        plan = plan_for(db, campaign, profile)
        progress = overall(plan, progress_of(db, campaign, profile)) if plan else None
    return _page(p, county=county, counted=counted, campaign=campaign, progress=progress)


@get("/counties/{county:str}/report", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def report_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile], county: FromPath[str],
                version: FromQuery[int | None] = None) -> Template:
    audit.record(db, principal, "verdict_view", f"county/{county}", {"version": version, "page": "report"})
    return Template(template_name="inspector/report.html",
                    context=_verdict_context(principal, db, profile, county, version, None))


@get("/counties/{county:str}/report.pdf", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def report_pdf(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
               profile: NamedDependency[Profile], county: FromPath[str],
               version: FromQuery[int | None] = None) -> Response:
    """The A4 report as a PDF (``report.report_pdf``)."""
    ctx = _verdict_context(principal, db, profile, county, version, None)
    return _export(principal, db, county, report_pdf_bytes(request, ctx), "application/pdf",
                   f"{county}-评估报告-第{ctx['cv'].version.version}版.pdf")


@get("/counties/{county:str}/verdict.json", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def verdict_json(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                 profile: NamedDependency[Profile],
                 county: FromPath[str], version: FromQuery[int | None] = None) -> Response:
    cv = _verdict(db, profile, county, version)
    return _export(principal, db, county, X.verdict_json_bytes(cv), "application/json; charset=utf-8",
                   f"{county}-评估结果-第{cv.version.version}版.json")


@get("/counties/{county:str}/verdict.xlsx", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def verdict_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                 profile: NamedDependency[Profile],
                 county: FromPath[str], version: FromQuery[int | None] = None) -> Response:
    cv = _verdict(db, profile, county, version)
    return _export(principal, db, county, X.verdict_xlsx(cv, profile, verdict_view(cv, profile)), XLSX,
                   f"{county}-评估结果-第{cv.version.version}版.xlsx")


@get("/counties/{county:str}/ledger.csv", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def ledger_csv(db: NamedDependency[Session], principal: NamedDependency[R.Principal], profile: NamedDependency[Profile],
               county: FromPath[str], version: FromQuery[int | None] = None,
               sort: FromQuery[str | None] = None) -> Response:
    cv = _verdict(db, profile, county, version)
    return _export(principal, db, county, X.ledger_csv(X.sort_ledger(cv.ledger_dicts, sort), X.school_names(cv)),
                   "text/csv; charset=utf-8", f"{county}-短板台账-第{cv.version.version}版.csv")


@get("/counties/{county:str}/ledger.xlsx", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def ledger_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile],
                county: FromPath[str], version: FromQuery[int | None] = None,
                sort: FromQuery[str | None] = None) -> Response:
    cv = _verdict(db, profile, county, version)
    return _export(principal, db, county, X.ledger_xlsx(X.sort_ledger(cv.ledger_dicts, sort), X.school_names(cv)), XLSX,
                   f"{county}-短板台账-第{cv.version.version}版.xlsx")


# ---- province overview --------------------------------------------------------------------------

@get("/overview", sync_to_thread=True, guards=[R.logged_in, R.overview_reader])
def overview(db: NamedDependency[Session], principal: NamedDependency[R.Principal], profile: NamedDependency[Profile],
             sort: FromQuery[str | None] = None) -> Template:
    rows = sort_overview(overview_rows(db, R.visible_counties(db, principal), profile), sort)
    return Template(template_name="inspector/overview.html",
                    context=_page(principal, rows=rows, sort=sort, four_parts=N.FOUR_PARTS, part_names=N.PARTS,
                                  passed_names=N.PASSED))


@get("/overview.xlsx", sync_to_thread=True, guards=[R.logged_in, R.overview_reader])
def overview_xlsx(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  profile: NamedDependency[Profile],
                  sort: FromQuery[str | None] = None) -> Response:
    rows = sort_overview(overview_rows(db, R.visible_counties(db, principal), profile), sort)
    data = X.overview_xlsx(rows, local)
    name = "全省概览.xlsx"
    return audit.download(db, principal, f"overview/{name}", data, XLSX, name, {"counties": len(rows)})


@get("/counties/{county:str}/compare", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def compare(db: NamedDependency[Session], principal: NamedDependency[R.Principal], profile: NamedDependency[Profile],
            county: FromPath[str],
            a: FromQuery[int], b: FromQuery[int]) -> Template:
    va, vb = county_verdict(db, county, a, profile), county_verdict(db, county, b, profile)
    if va is None or vb is None or a <= 0 or b <= 0:
        raise NotFoundException("no such version")
    comparison = compare_versions(va.workbook, vb.workbook, va.verdict.to_dict(), vb.verdict.to_dict())
    return Template(template_name="inspector/compare.html",
                    context=_page(principal, county=county, a=va.version.version, b=vb.version.version, c=comparison,
                                  passed=(va.verdict.passed, vb.verdict.passed)))


INSPECTOR_ROUTES = [verdict_page, report_page, report_pdf, verdict_json, verdict_xlsx, ledger_csv, ledger_xlsx, compare,
                    overview, overview_xlsx]
