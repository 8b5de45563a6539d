"""Bureau pages under ``/bureau`` (Chinese, login required, CSRF on every form via Litestar's
CSRFConfig): campaigns, their school import (a workbook version pinned), dates, test campaigns,
the survey that counts, QR codes, sheets, slips and the answers' exports."""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Stream, Template
from sqlmodel import Session, select

from scoring.errors import Problem
from scoring.names import GROUPS as GROUP_LABELS
from scoring.profile import Profile
from scoring.privacy import min_cell_size  # breakdowns show cells of >= k valid answers only
from service.accounts import audit
from service.accounts import roles as R
from service.answers import page_cache
from service.answers.exports import export_csv as responses_csv
from service.answers.queries import answer_count
from service.campaigns import exports as E
from service.campaigns import qr
from service.campaigns.codes import MAX_CODES_PER_BATCH, create_codes
from service.campaigns.counted import counted_campaign, designate, is_designated
from service.campaigns.errors import CampaignInputError
from service.campaigns.lifecycle import create_campaign, delete_test_campaign, set_closes_at
from service.campaigns.links import link_audience, link_label, links_of
from service.campaigns.progress import lagging_schools, overall, plan_for, progress
from service.campaigns.raw_exports import csv_count, export_headers, raw_export
from service.campaigns.schools import import_schools, schools_of
from service.campaigns import statfiles as SF
from service.db.models import Campaign, Link, OneTimeCode
from service.web.auth import SESSION_KEY
from service.web.clock import CHINA, local
from service.web.public_address import link_base_warning, public_base
from service.web.uploads import UPLOAD_BODY_LIMIT
from survey_templates import GROUPS, LOCATION_LABELS


REFRESH_SECONDS = 60


def link_url(request: Request, link: Link, code: str | None = None) -> str:
    url = f"{public_base(request)}/s/{link.token}"
    return f"{url}?c={code}" if code else url


# ---- campaigns ----------------------------------------------------------------------------

@get("/", sync_to_thread=True)
def campaign_list(request: Request, db: NamedDependency[Session], now: NamedDependency[datetime]) -> Template:
    rows = list(db.exec(select(Campaign).order_by(Campaign.id.desc())))
    return Template(template_name="bureau/campaigns.html", context={
        "campaigns": [(c, c.state_at(now)) for c in rows], "local": local, "user": request.session.get("username")})


def _own_counties(p: R.Principal) -> list[str]:
    """The counties a bureau admin runs campaigns for (none listed: a province admin, any county)."""
    return [] if p.is_province else sorted(p.counties)


def _new_form_context(request: Request, p: R.Principal, values: dict, errors: dict) -> dict:
    return {"values": values, "errors": errors, "counties": _own_counties(p),
            "user": request.session.get("username")}


@get("/campaigns/new", sync_to_thread=False)
def campaign_new(request: Request, principal: NamedDependency[R.Principal], now: NamedDependency[datetime]) -> Template:
    today = now.astimezone(CHINA).replace(hour=8, minute=0, second=0, microsecond=0)
    counties = _own_counties(principal)
    values = {"opens_at": today.strftime("%Y-%m-%dT%H:%M"),
              "closes_at": (today + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
              "county_name": counties[0] if len(counties) == 1 else "",
              "share_urban": "", "share_town": "", "share_rural": ""}
    return Template(template_name="bureau/campaign_new.html", context=_new_form_context(request, principal, values, {}))


def parse_shares(texts: dict[str, str]) -> tuple[dict[str, float], str | None]:
    """Location shares written as percents ("45%", or "45" when any plain figure exceeds 1) or
    decimals ("0.45"); (shares as fractions, None) or (_, the Chinese reason they are not)."""
    values, percent = {}, {}
    for key, text in texts.items():
        text = text.strip().replace("％", "%")
        if not text:
            return {}, "请填写城区、镇区、乡村三项人口占比（如 45%、30%、25%）"
        percent[key] = text.endswith("%")
        try:
            values[key] = float(text.removesuffix("%").strip())
        except ValueError:
            return {}, f"“{text}”不是数字：请填写小数（如 0.45）或百分数（如 45%）"
    plain_percent = any(v > 1 for k, v in values.items() if not percent[k])
    return {k: v / 100 if percent[k] or plain_percent else v for k, v in values.items()}, None


def _parse_local(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=CHINA)
    except ValueError:
        return None


@post("/campaigns", sync_to_thread=True, media_type=MediaType.HTML)
def campaign_create(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    errors: dict[str, str] = {}

    def number(key: str, kind=float):
        text = data.get(key, "").strip()
        try:
            return kind(text)
        except ValueError:
            errors[key] = f"“{text}”不是数字：请填写整数（人）" if text else "请填写常住人口（人）"
            return kind(0)

    if not data.get("name", "").strip():
        errors["name"] = "请填写调查名称（如“某县 2026 年义务教育满意度调查”）"
    if not data.get("county_name", "").strip():
        errors["county_name"] = "请填写县（市、区）名称"

    population = number("resident_population", int)
    shares, why = parse_shares({loc: data.get(f"share_{loc}", "") for loc in ("urban", "town", "rural")})
    if why:
        errors["shares"] = why
    county = data.get("county_name", "").strip()
    if county and not principal.can_run_campaigns(county):
        own = "、".join(_own_counties(principal)) or "（未分配县）"
        errors["county_name"] = (f"您的账号只能为{own}创建调查，不能为“{county}”创建；"
                                 "其他县的调查请由该县教育局或省级管理员创建")
    opens_at, closes_at = _parse_local(data.get("opens_at", "")), _parse_local(data.get("closes_at", ""))
    if opens_at is None:
        errors["opens_at"] = "请填写开始时间"
    if closes_at is None:
        errors["closes_at"] = "请填写结束时间"
    if not errors:
        try:
            before = counted_campaign(db, data.get("county_name", "").strip())
            campaign = create_campaign(
                db, name=data.get("name", ""), county_name=county,
                resident_population=population, shares=shares, opens_at=opens_at, closes_at=closes_at,
                templates=request.app.state.templates, account_id=request.session.get(SESSION_KEY),
                is_test=data.get("is_test") == "1")
            audit.record(db, request, "campaign_create", f"campaign/{campaign.id}",
                         {"name": campaign.name, "county": campaign.county_name, "test": campaign.is_test})
            if before.how == "only" and is_designated(db, before.campaign):   # kept by create_campaign
                audit.record(db, request, "survey_designate", f"county/{campaign.county_name}",
                             {"campaign": before.campaign.id, "automatic": True})
            return Redirect(path=f"/bureau/campaigns/{campaign.id}", status_code=303)
        except CampaignInputError as exc:
            db.rollback()
            errors.update(exc.errors)
    return Template(template_name="bureau/campaign_new.html", status_code=422,
                    context=_new_form_context(request, principal, data, errors))


def _overview_context(request: Request, db: Session, campaign: Campaign, profile: Profile, now: datetime,
                      can_run: bool = True,
                      problems: list | None = None, errors: dict | None = None) -> dict:
    schools = schools_of(db, campaign.id)
    by_code = {s.school_code: s for s in schools}
    links = links_of(db, campaign.id)
    prog = progress(db, campaign, profile)
    plan = plan_for(db, campaign, profile)
    state = campaign.state_at(now)
    return {
        "campaign": campaign, "state": state, "local": local,
        "schools": schools, "by_code": by_code, "links": links, "progress": prog, "plan": plan,
        "overall": overall(plan, prog) if plan else None,
        "plan_warnings": plan.warnings(profile) if plan else {},
        "lagging": lagging_schools(schools, plan, prog) if plan else [],
        # An open campaign's page follows the answers coming in; a page showing a form's
        # errors is not reloaded (the reload would drop them).
        "refresh": REFRESH_SECONDS if state == "open" and not problems and not errors else None,
        "imported": request.query_params.get("imported") == "1" and not problems,
        "counted": counted_campaign(db, campaign.county_name),
        "designated": is_designated(db, campaign), "county_url": f"/inspector/counties/{quote(campaign.county_name)}",
        "k": min_cell_size(profile), "groups": GROUPS, "group_labels": GROUP_LABELS,
        "locations": LOCATION_LABELS, "problems": problems, "errors": errors or {},
        "user": request.session.get("username"),
        # Inspectors read a campaign's page; its actions and raw exports are the bureau's.
        "can_run": can_run,
        "link_label": lambda link: link_label(link, by_code), "link_url": lambda link: link_url(request, link),
        "batches": list(db.exec(select(OneTimeCode.batch, OneTimeCode.link_id).where(
            OneTimeCode.campaign_id == campaign.id).distinct().order_by(OneTimeCode.batch))),
    }


@get("/campaigns/{cid:int}", sync_to_thread=True)
def campaign_view(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                  profile: NamedDependency[Profile], now: NamedDependency[datetime],
                  principal: NamedDependency[R.Principal]) -> Template:
    return Template(template_name="bureau/campaign.html", context=_overview_context(
        request, db, campaign, profile, now, principal.can_run_campaigns(campaign.county_name)))


@get("/campaigns/{cid:int}/reminders", sync_to_thread=True)
def reminders(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
              profile: NamedDependency[Profile],
              now: NamedDependency[datetime], school: FromQuery[str | None] = None) -> Template:
    """催办通知: one A4 notice per lagging school (or the one asked for), what it still misses."""
    schools = schools_of(db, campaign.id)
    plan = plan_for(db, campaign, profile)
    lags = lagging_schools(schools, plan, progress(db, campaign, profile)) if plan else []
    if school is not None:
        lags = [lag for lag in lags if lag.school.school_code == school]
        if not lags and school not in {s.school_code for s in schools}:
            raise NotFoundException("no such school")
    links = {link.school_code: link for link in links_of(db, campaign.id) if link.school_code and not link.group}
    notices = [{"lag": lag, "url": link_url(request, links[lag.school.school_code]),
                "svg": qr.svg(link_url(request, links[lag.school.school_code]))}
               if lag.school.school_code in links else {"lag": lag} for lag in lags]
    return Template(template_name="bureau/reminder.html", context={
        "campaign": campaign, "notices": notices, "planned": plan is not None, "group_labels": GROUP_LABELS,
        "local": local,
        "now": now, "warning": link_base_warning(request)})


@post("/campaigns/{cid:int}/workbook", sync_to_thread=True, media_type=MediaType.HTML,
      request_max_body_size=UPLOAD_BODY_LIMIT)
def workbook_upload(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                    profile: NamedDependency[Profile], now: NamedDependency[datetime],
                    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    """Import the campaign's schools from a school list (or a full workbook's 学校 sheet): the
    county's workbook versions are not touched."""
    upload = data.get("workbook")
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems = [Problem("学校名录", None, None, None, "请选择学校名录文件（.xlsx 或 .csv），或完整的指标表")]
    else:
        payload = upload.file.read()
        school_list, problems = import_schools(db, campaign, upload.filename, payload, profile)
    if problems:
        db.rollback()
        return Template(template_name="bureau/campaign.html", status_code=422,
                        context=_overview_context(request, db, campaign, profile, now, problems=problems))
    page_cache.clear(request.app.state.engine)
    audit.record(db, request, "school_import", f"campaign/{campaign.id}",
                 {"file": upload.filename, "schools": len(school_list.schools)}, audit.sha256(payload))
    return Redirect(path=f"/bureau/campaigns/{campaign.id}?imported=1", status_code=303)


@post("/campaigns/{cid:int}/close", sync_to_thread=True)
def campaign_close(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                   now: NamedDependency[datetime]) -> Redirect:
    """End the campaign now (answers stop being accepted)."""
    cid = campaign.id
    if campaign.closes_at > now:
        campaign.closes_at = max(now, campaign.opens_at)
        db.add(campaign)
        db.commit()
        page_cache.clear(request.app.state.engine)
    audit.record(db, request, "campaign_close", f"campaign/{cid}", {"closes_at": campaign.closes_at})
    return Redirect(path=f"/bureau/campaigns/{cid}", status_code=303)


# ---- QR codes, sheets, slips --------------------------------------------------------------

def _link(db: Session, campaign: Campaign, token: str) -> Link:
    link = db.exec(select(Link).where(Link.token == token, Link.campaign_id == campaign.id)).first()
    if link is None:
        raise NotFoundException("no such link")
    return link


QR_FORMATS = {"png": (qr.png, "image/png"), "svg": (qr.svg, "image/svg+xml")}


@get("/campaigns/{cid:int}/qr/{token:str}/{fmt:str}", sync_to_thread=True)
def qr_image(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
             token: FromPath[str], fmt: FromPath[str]) -> Response:
    if fmt not in QR_FORMATS:
        raise NotFoundException("no such QR format")
    cid = campaign.id
    link = _link(db, campaign, token)
    audit.record(db, request, "qr_generate", f"campaign/{cid}/link/{token}", {"format": fmt})
    render, media_type = QR_FORMATS[fmt]
    return Response(render(link_url(request, link)), media_type=media_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@get("/campaigns/{cid:int}/sheets", sync_to_thread=True)
def sheets(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
           school: FromQuery[str | None] = None) -> Template:
    cid = campaign.id
    by_code = {s.school_code: s for s in schools_of(db, campaign.id)}
    links = [link for link in links_of(db, campaign.id) if school is None or link.school_code == school]
    pages = [{"school": by_code[link.school_code].school_name if link.school_code in by_code else campaign.county_name,
              "group": link_audience(link),
              "url": link_url(request, link), "svg": qr.svg(link_url(request, link))} for link in links]
    audit.record(db, request, "sheet_generate", f"campaign/{cid}", {"school": school, "links": len(links)})
    return Template(template_name="bureau/sheets.html", context={"campaign": campaign, "pages": pages,
                                                                 "warning": link_base_warning(request)})


@post("/campaigns/{cid:int}/codes", sync_to_thread=True, media_type=MediaType.HTML)
def codes_create(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                 profile: NamedDependency[Profile], now: NamedDependency[datetime],
                 data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    cid = campaign.id
    link = _link(db, campaign, data.get("link", ""))
    try:
        count = int(data.get("count", "0"))
        batch = create_codes(db, campaign, link, count)
        page_cache.clear(request.app.state.engine)      # the link requires a code now
    except (ValueError, CampaignInputError):
        db.rollback()
        ctx = _overview_context(request, db, campaign, profile, now)
        ctx["codes_error"] = f"份数须为 1–{MAX_CODES_PER_BATCH} 的整数"
        return Template(template_name="bureau/campaign.html", status_code=422, context=ctx)
    audit.record(db, request, "slips_generate", f"campaign/{cid}/link/{link.token}", {"batch": batch, "count": count})
    return Redirect(path=f"/bureau/campaigns/{cid}/codes/{batch}", status_code=303)


@get("/campaigns/{cid:int}/codes/{batch:int}", sync_to_thread=True)
def codes_slips(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                batch: FromPath[int]) -> Template:
    cid = campaign.id
    codes = list(db.exec(select(OneTimeCode).where(OneTimeCode.campaign_id == cid, OneTimeCode.batch == batch)
                         .order_by(OneTimeCode.id)))
    if not codes:
        raise NotFoundException("no such batch")
    link = db.get(Link, codes[0].link_id)
    by_code = {s.school_code: s for s in schools_of(db, campaign.id)}
    slips = [{"code": c.code, "used": c.used_by is not None, "url": link_url(request, link, c.code),
              "svg": qr.svg(link_url(request, link, c.code))} for c in codes]
    audit.record(db, request, "slips_print", f"campaign/{cid}/codes/{batch}", {"count": len(codes)})
    return Template(template_name="bureau/slips.html", context={
        "campaign": campaign, "slips": slips, "label": link_label(link, by_code), "batch": batch,
        "warning": link_base_warning(request)})


# ---- exports ----------------------------------------------------------------------

@get("/campaigns/{cid:int}/export.csv", sync_to_thread=True, guards=[raw_export])
def export_csv(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
               principal: NamedDependency[R.Principal],
               now: NamedDependency[datetime]) -> Response:
    data = responses_csv(db, campaign.id)
    name = f"responses-{campaign.id}.csv"
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        **export_headers(principal, db, campaign, now, data, name, csv_count(data))})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/campaigns/{cid:int}/export.xlsx", sync_to_thread=True, guards=[raw_export])
def export_xlsx(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Response:
    """The answers for people: Chinese headers and labels, school names, validity (an Excel sheet)."""
    handle, path = tempfile.mkstemp(prefix="renke-answers-", suffix=".xlsx")
    os.close(handle)
    try:
        E.people_xlsx(db, campaign.id, profile, path)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        name = f"答卷-{campaign.id}.xlsx"
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                   **export_headers(principal, db, campaign, now, None, name, answer_count(db, campaign.id),
                                      digest=digest.hexdigest())}
    except BaseException:
        os.unlink(path)
        raise
    return Stream(_chunks_then_delete(path), media_type=XLSX, headers=headers)


CHUNK = 1 << 16


def _chunks_then_delete(path: str) -> Iterator[bytes]:
    """The file in chunks (never whole in memory), deleted once sent or when the client leaves."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


@get("/campaigns/{cid:int}/export.excel.csv", sync_to_thread=True, guards=[raw_export])
def export_excel_csv(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                     principal: NamedDependency[R.Principal],
                     profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Response:
    """The same answers as a CSV that Excel opens in Chinese (UTF-8 with a BOM)."""
    data = E.people_csv(db, campaign.id, profile)
    return _people_export(principal, db, campaign, now, data, f"答卷-{campaign.id}.csv", "text/csv; charset=utf-8")


@get("/campaigns/{cid:int}/export.sav", sync_to_thread=True, guards=[raw_export])
def export_sav(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
               principal: NamedDependency[R.Principal],
               profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Response:
    """The answers for SPSS: Chinese variable and value labels."""
    data = SF.spss_sav(db, campaign, profile)
    return _people_export(principal, db, campaign, now, data, f"答卷-{campaign.id}.sav", SF.SAV_MEDIA_TYPE)


@get("/campaigns/{cid:int}/export.dta", sync_to_thread=True, guards=[raw_export])
def export_dta(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
               principal: NamedDependency[R.Principal],
               profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Response:
    """The answers for Stata: Chinese variable and value labels."""
    data = SF.stata_dta(db, campaign, profile)
    return _people_export(principal, db, campaign, now, data, f"答卷-{campaign.id}.dta", SF.DTA_MEDIA_TYPE)


@get("/campaigns/{cid:int}/export.codebook.xlsx", sync_to_thread=True, guards=[raw_export])
def export_codebook(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                    principal: NamedDependency[R.Principal],
                    profile: NamedDependency[Profile]) -> Response:
    """The codebook of the SPSS and Stata files (it holds no answers: audited, no count)."""
    data = SF.codebook_xlsx(campaign, profile)
    name = f"答卷-{campaign.id}-变量说明.xlsx"
    return audit.download(db, principal, f"campaign/{campaign.id}/{name}", data, XLSX, name)


def _people_export(p: R.Principal, db: Session, campaign: Campaign, now: datetime, data: bytes, name: str,
                   media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        **export_headers(p, db, campaign, now, data, name, answer_count(db, campaign.id))})


# ---- dates, the survey that counts, test campaigns -------------------------------------------

def _form_error(request: Request, db: Session, campaign: Campaign, profile: Profile, now: datetime,
                exc: CampaignInputError) -> Template:
    db.rollback()
    return Template(template_name="bureau/campaign.html", status_code=422,
                    context=_overview_context(request, db, campaign, profile, now, errors=exc.errors))


@post("/campaigns/{cid:int}/dates", sync_to_thread=True, media_type=MediaType.HTML)
def campaign_dates(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                   profile: NamedDependency[Profile], now: NamedDependency[datetime],
                   data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    """Extend the end of a campaign, or reopen a closed one (not the designated survey)."""
    closes_at = _parse_local(data.get("closes_at", ""))
    before = campaign.closes_at
    try:
        if closes_at is None:
            raise CampaignInputError({"closes_at": "请填写新的结束时间"})
        reopened = campaign.state_at(now) == "closed"
        set_closes_at(db, campaign, closes_at, now)
    except CampaignInputError as exc:
        return _form_error(request, db, campaign, profile, now, exc)
    page_cache.clear(request.app.state.engine)
    audit.record(db, request, "campaign_reopen" if reopened else "campaign_extend", f"campaign/{campaign.id}",
                 {"closes_at_before": before, "closes_at": campaign.closes_at})
    return Redirect(path=f"/bureau/campaigns/{campaign.id}", status_code=303)


@post("/campaigns/{cid:int}/designate", sync_to_thread=True, media_type=MediaType.HTML)
def campaign_designate(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                       profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Any:
    """计入评估的调查: this campaign's answers are the county's verdict's."""
    before = counted_campaign(db, campaign.county_name).campaign
    try:
        designate(db, campaign, request.session.get(SESSION_KEY))
    except CampaignInputError as exc:
        return _form_error(request, db, campaign, profile, now, exc)
    audit.record(db, request, "survey_designate", f"county/{campaign.county_name}",
                 {"campaign": campaign.id, "before": before.id if before else None})
    return Redirect(path=f"/bureau/campaigns/{campaign.id}", status_code=303)


@post("/campaigns/{cid:int}/delete", sync_to_thread=True, media_type=MediaType.HTML)
def campaign_delete(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                    profile: NamedDependency[Profile], now: NamedDependency[datetime]) -> Any:
    """Delete a test campaign (试填) with its answers."""
    name, cid = campaign.name, campaign.id
    try:
        answers = delete_test_campaign(db, campaign)
    except CampaignInputError as exc:
        return _form_error(request, db, campaign, profile, now, exc)
    page_cache.clear(request.app.state.engine)
    audit.record(db, request, "campaign_delete", f"campaign/{cid}", {"name": name, "answers": answers})
    return Redirect(path=f"/inspector/counties/{quote(campaign.county_name)}", status_code=303)


BUREAU_ROUTES = [campaign_list, campaign_new, campaign_create, campaign_view, campaign_close, campaign_dates,
                 campaign_designate, campaign_delete, workbook_upload, qr_image, sheets, codes_create, codes_slips,
                 reminders, export_csv, export_xlsx, export_excel_csv, export_sav, export_dta, export_codebook]
