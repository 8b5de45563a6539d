"""Pages of a county's records under ``/inspector``: my counties, a county's workbook versions
(upload by its bureau, download), and the blank template."""

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from sqlmodel import Session, select

from scoring.errors import Problem
from service.accounts import audit
from service.accounts import roles as R
from service.accounts.pages import staff_context
from service.campaigns.rules import campaigns_of, counted_campaign
from service.db.models import Account
from service.web.downloads import XLSX, attachment
from service.workbooks import versions as W
from service.workbooks.records import upload_version
from service.workbooks.template import blank_template


@get("/", sync_to_thread=True, guards=[R.logged_in], media_type=MediaType.HTML)
def home(request: Request, db: NamedDependency[Session]) -> Any:
    p = R.principal_of(request)
    counties = R.visible_counties(db, p)
    if p.role == R.BUREAU_ADMIN and len(counties) == 1:
        return Redirect(path=f"/inspector/counties/{quote(counties[0])}", status_code=303)
    rows = []
    for county in counties:
        versions = W.versions_of(db, county)
        rows.append({"county": county, "latest": versions[0] if versions else None,
                     "counted": counted_campaign(db, county)})
    return Template(template_name="inspector/home.html", context=staff_context(request, rows=rows, q=quote))


@get("/template.xlsx", sync_to_thread=True, guards=[R.logged_in])
def template_xlsx() -> Response:
    return Response(blank_template(), media_type=XLSX, headers=attachment("指标表模板.xlsx"))


def _county_context(request: Request, db: Session, county: str, problems: list | None = None,
                    filename: str | None = None) -> dict:
    p = R.principal_of(request)
    uploaders = {a.id: a.username for a in db.exec(select(Account))}
    return staff_context(request, county=county, versions=W.versions_of(db, county), uploaders=uploaders,
                         problems=problems, filename=filename, counted=counted_campaign(db, county),
                         campaigns=campaigns_of(db, county), can_upload=p.can_upload(county),
                         can_run=p.can_run_campaigns(county), q=quote)


@get("/counties/{county:str}", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def county_page(request: Request, db: NamedDependency[Session], county: FromPath[str]) -> Template:
    return Template(template_name="inspector/county.html", context=_county_context(request, db, county))


@post("/counties/{county:str}/workbooks", sync_to_thread=True, guards=[R.logged_in, R.county_uploader],
      media_type=MediaType.HTML)
def county_upload(request: Request, db: NamedDependency[Session], county: FromPath[str],
                  data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    uploads = data.get("workbook")
    uploads = uploads if isinstance(uploads, list) else [uploads]
    files = [(u.filename, u.file.read()) for u in uploads if isinstance(u, UploadFile) and u.filename]
    year_text = str(data.get("data_year") or "").strip()
    if year_text and not (year_text.isdigit() and 1990 <= int(year_text) <= 2100):
        problems = [Problem("统计年度", None, None, year_text, "应为年份（如 2025）")]
        filename = None
    elif not files:
        problems = [Problem("指标表", None, None, None, "请选择要上传的指标表文件（.xlsx、.zip 或 CSV）")]
        filename = None
    else:
        filename, payload = W.bundle(files)
        version, problems = upload_version(db, county, R.principal_of(request).account_id, filename, payload,
                                           request.app.state.profile, int(year_text) if year_text else None)
    if problems:
        db.rollback()
        return Template(template_name="inspector/county.html", status_code=422,
                        context=_county_context(request, db, county, problems, filename))
    audit.record(db, R.principal_of(request), "workbook_upload", f"county/{county}",
                 {"file": filename, "version": version.version}, audit.sha256(payload))
    return Redirect(path=f"/inspector/counties/{quote(county)}", status_code=303)


@get("/counties/{county:str}/workbooks/{version:int}", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def version_download(request: Request, db: NamedDependency[Session], county: FromPath[str],
                     version: FromPath[int]) -> Response:
    v = W.version_of(db, county, version)
    if v is None:
        raise NotFoundException("no such version")
    audit.record(db, R.principal_of(request), "workbook_download", f"county/{county}/v{version}",
                 {"file": v.filename}, v.sha256)
    name = v.filename if v.filename.lower().endswith((".xlsx", ".zip")) else f"v{v.version}.zip"
    return Response(bytes(v.data), media_type="application/octet-stream", headers=attachment(name))


INSPECTOR_ROUTES = [home, template_xlsx, county_page, county_upload, version_download]
