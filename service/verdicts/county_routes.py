"""A county's page under ``/inspector``: my counties, a county's workbook versions with their
upload (the one upload path, ``workbooks.versions.upload``), withdrawal (撤销) and its campaigns.
Here because it reads both folders below it: the versions (``workbooks``) and the campaign
whose answered schools every counted version must keep (``campaigns``)."""

from typing import Annotated, Any
from urllib.parse import quote

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from scoring.errors import Problem
from scoring.profile import Profile
from service.accounts import audit
from service.accounts import roles as R
from service.accounts.pages import staff_context
from service.campaigns.counted import campaigns_of, counted_campaign
from service.campaigns.schools import answered_school_names
from service.db.models import Account
from service.web.uploads import UPLOAD_BODY_LIMIT
from service.workbooks import versions as W


@get("/", sync_to_thread=True, guards=[R.logged_in], media_type=MediaType.HTML)
def home(db: NamedDependency[Session], principal: NamedDependency[R.Principal]) -> Any:
    counties = R.visible_counties(db, principal)
    if principal.role == R.BUREAU_ADMIN and len(counties) == 1:
        return Redirect(path=f"/inspector/counties/{quote(counties[0])}", status_code=303)
    rows = []
    for county in counties:
        versions = W.versions_of(db, county)
        rows.append({"county": county, "latest": versions[0] if versions else None,
                     "counted": counted_campaign(db, county)})
    return Template(template_name="inspector/home.html", context=staff_context(principal, rows=rows, q=quote))


def _county_context(p: R.Principal, db: Session, county: str, problems: list | None = None,
                    filename: str | None = None, uploaded: int | None = None) -> dict:
    uploaders = {a.id: a.username for a in db.exec(select(Account))}
    history = W.versions_of(db, county, withdrawn=True)
    counted = [v for v in history if v.withdrawn_at is None]
    return staff_context(p, county=county, versions=counted, history=history, uploaders=uploaders,
                         latest=counted[0] if counted else None, problems=problems, filename=filename,
                         uploaded=next((v for v in history if v.version == uploaded), None) if uploaded else None,
                         counted=counted_campaign(db, county), campaigns=campaigns_of(db, county),
                         can_upload=p.can_upload(county), can_run=p.can_run_campaigns(county), q=quote)


@get("/counties/{county:str}", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def county_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
                uploaded: FromQuery[int | None] = None) -> Template:
    return Template(template_name="inspector/county.html",
                    context=_county_context(principal, db, county, uploaded=uploaded))


def _answered(db: Session, county: str) -> dict[str, str]:
    """The schools with answers in the county's counted campaign: every counted version keeps them."""
    return answered_school_names(db, counted_campaign(db, county).campaign)


@post("/counties/{county:str}/workbooks", sync_to_thread=True, guards=[R.logged_in, R.county_uploader],
      media_type=MediaType.HTML, request_max_body_size=UPLOAD_BODY_LIMIT)
def county_upload(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  profile: NamedDependency[Profile],
                  county: FromPath[str],
                  data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    uploads = data.get("workbook")
    uploads = uploads if isinstance(uploads, list) else [uploads]
    files = [(u.filename, u.file.read()) for u in uploads if isinstance(u, UploadFile) and u.filename]
    year_text = str(data.get("data_year") or "").strip()
    filename = "、".join(name for name, _ in files) or None
    if year_text and not (year_text.isdigit() and 1990 <= int(year_text) <= 2100):
        version, problems = None, [Problem("统计年度", None, None, year_text, "应为年份（如 2025）")]
    else:
        version, problems = W.upload(db, county, principal.account_id, files,
                                     profile, int(year_text) if year_text else None,
                                     keep=_answered(db, county))
    if problems:
        db.rollback()
        return Template(template_name="inspector/county.html", status_code=422,
                        context=_county_context(principal, db, county, problems, filename))
    audit.record(db, principal, "workbook_upload", f"county/{county}",
                 {"file": version.filename, "version": version.version}, version.sha256)
    return Redirect(path=f"/inspector/counties/{quote(county)}?uploaded={version.version}", status_code=303)


@post("/counties/{county:str}/workbooks/{version:int}/withdraw", sync_to_thread=True,
      guards=[R.logged_in, R.county_uploader], media_type=MediaType.HTML)
def county_withdraw(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile],
                    county: FromPath[str], version: FromPath[int],
                    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    """撤销 a version uploaded by mistake: audited, kept in the history, never counted again."""
    reason = data.get("reason", "")
    withdrawn, problems = W.withdraw(db, county, version, principal.account_id, reason,
                                     profile, keep=_answered(db, county))
    if problems:
        db.rollback()
        return Template(template_name="inspector/county.html", status_code=422,
                        context=_county_context(principal, db, county, problems, f"撤销第 {version} 版"))
    audit.record(db, principal, "workbook_withdraw", f"county/{county}/v{version}",
                 {"version": version, "reason": withdrawn.withdrawn_reason}, withdrawn.sha256)
    return Redirect(path=f"/inspector/counties/{quote(county)}", status_code=303)


COUNTY_ROUTES = [home, county_page, county_upload, county_withdraw]
