"""Inspector workspace (issue 4): counties, workbook versions, the verdict page, the shortfall
ledger, the province overview, exports and accounts. Every handler has a role guard
(``service.roles``); the pages render what ``scoring`` returns and never re-implement a rule."""

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlmodel import Session, select

from scoring import display
from scoring.errors import Problem
from scoring.guarantee import NAMES as G_NAMES
from scoring.quality import NAMES as Q_NAMES
from scoring.resources import INDICATOR_NAMES, STAGE_NAMES, standards
from scoring.sampling import GROUP_NAMES, LOCATION_NAMES
from scoring.verdict import STATUS_NAMES, VETO_NAMES

from .. import audit
from .. import campaigns as C
from .. import charts
from .. import roles as R
from .. import verdict_export as X
from .. import workbooks as W
from ..bureau.routes import local, to_login
from ..models import Account

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PART_NAMES = X.PART_NAMES


def logged_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    R.principal_of(connection)


def _principal(request: Request) -> R.Principal:
    return R.principal_of(request)


def _base(request: Request, **ctx: Any) -> dict:
    p = _principal(request)
    return {"me": p, "user": p.username, "roles": R.ROLES, "local": local, "q": quote, **ctx}


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def _export(request: Request, db: Session, county: str, data: bytes, media_type: str, name: str) -> Response:
    """A download, recorded in the audit log with its sha256 (issue 6)."""
    audit.record(db, _principal(request), "export", f"county/{county}/{name}", {"file": name}, audit.sha256(data))
    return Response(data, media_type=media_type, headers={**_attachment(name), "X-Renke-SHA256": audit.sha256(data)})


# ---- home, accounts -----------------------------------------------------------------------------

@get("/", sync_to_thread=True, guards=[logged_in], media_type=MediaType.HTML)
def home(request: Request, db: NamedDependency[Session]) -> Any:
    p = _principal(request)
    counties = R.visible_counties(db, p)
    if p.role == R.BUREAU_ADMIN and len(counties) == 1:
        return Redirect(path=f"/inspector/counties/{quote(counties[0])}", status_code=303)
    rows = []
    for county in counties:
        versions = W.versions_of(db, county)
        rows.append({"county": county, "latest": versions[0] if versions else None,
                     "campaign": W.campaign_of(db, county)})
    return Template(template_name="inspector/home.html", context=_base(request, rows=rows))


@get("/accounts", sync_to_thread=True, guards=[logged_in, R.province_only])
def accounts(request: Request, db: NamedDependency[Session]) -> Template:
    return Template(template_name="inspector/accounts.html",
                    context=_base(request, accounts=R.accounts_with_roles(db), error=None,
                                  counties=R.all_counties(db)))


@post("/accounts", sync_to_thread=True, guards=[logged_in, R.province_only], media_type=MediaType.HTML)
def accounts_save(request: Request, db: NamedDependency[Session],
                  data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    username = data.get("username", "").strip()
    password = data.get("password", "")
    role = data.get("role", "")
    counties = [c for c in data.get("counties", "").replace("，", ",").replace("、", ",").split(",")]
    error = None
    existing = db.exec(select(Account).where(Account.username == username)).first()
    if not username or role not in R.ROLES:
        error = "请填写用户名并选择角色"
    elif existing is None and len(password) < 8:
        error = "新账号的密码至少 8 位"
    if error is None:
        try:
            if existing is not None:
                R.set_role(db, existing.id, role, counties)
                if password:
                    from ..security import hash_password
                    existing.password_hash = hash_password(password)
                    db.add(existing)
                db.commit()
            else:
                R.ensure_account(db, username, password, role, counties)
        except ValueError:
            db.rollback()
            error = "县教育局管理员须指定且只能指定一个县"
    if error:
        return Template(template_name="inspector/accounts.html", status_code=422,
                        context=_base(request, accounts=R.accounts_with_roles(db), error=error,
                                      counties=R.all_counties(db)))
    audit.record(db, _principal(request), "account_save", f"account/{username}",
                 {"role": role, "counties": counties, "new": existing is None, "password_set": bool(password)})
    return Redirect(path="/inspector/accounts", status_code=303)


@get("/template.xlsx", sync_to_thread=True, guards=[logged_in])
def template_xlsx() -> Response:
    return Response(W.blank_template(), media_type=XLSX, headers=_attachment("指标表模板.xlsx"))


# ---- a county: versions, upload, compare ----------------------------------------------------------

def _county_context(request: Request, db: Session, county: str, problems: list | None = None,
                    filename: str | None = None) -> dict:
    versions = W.versions_of(db, county)
    uploaders = {a.id: a.username for a in db.exec(select(Account))}
    return _base(request, county=county, versions=versions, uploaders=uploaders, problems=problems,
                 filename=filename, campaign=W.campaign_of(db, county),
                 campaigns=W.campaigns_of(db, county), can_upload=_principal(request).can_upload(county),
                 can_run=_principal(request).can_run_campaigns(county))


@get("/counties/{county:str}", sync_to_thread=True, guards=[logged_in, R.county_reader])
def county_page(request: Request, db: NamedDependency[Session], county: FromPath[str]) -> Template:
    return Template(template_name="inspector/county.html", context=_county_context(request, db, county))


@post("/counties/{county:str}/workbooks", sync_to_thread=True, guards=[logged_in, R.county_uploader],
      media_type=MediaType.HTML)
def county_upload(request: Request, db: NamedDependency[Session], county: FromPath[str],
                  data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    uploads = data.get("workbook")
    uploads = uploads if isinstance(uploads, list) else [uploads]
    files = [(u.filename, u.file.read()) for u in uploads if isinstance(u, UploadFile) and u.filename]
    if not files:
        problems = [Problem("workbook", None, None, None, "请选择要上传的指标表文件（.xlsx、.zip 或 CSV）")]
        filename = None
    else:
        filename, payload = W.bundle(files)
        _, problems = W.store_version(db, county, _principal(request).account_id, filename, payload,
                                      request.app.state.profile)
    if problems:
        db.rollback()
        return Template(template_name="inspector/county.html", status_code=422,
                        context=_county_context(request, db, county, problems, filename))
    audit.record(db, _principal(request), "workbook_upload", f"county/{county}", {"file": filename},
                 audit.sha256(payload))
    return Redirect(path=f"/inspector/counties/{quote(county)}", status_code=303)


@get("/counties/{county:str}/workbooks/{version:int}", sync_to_thread=True, guards=[logged_in, R.county_reader])
def version_download(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromPath[int]) -> Response:
    v = W.version_of(db, county, version)
    if v is None:
        raise NotFoundException("no such version")
    audit.record(db, _principal(request), "workbook_download", f"county/{county}/v{version}",
                 {"file": v.filename}, v.sha256)
    name = v.filename if v.filename.lower().endswith((".xlsx", ".zip")) else f"v{v.version}.zip"
    return Response(bytes(v.data), media_type="application/octet-stream", headers=_attachment(name))


@get("/counties/{county:str}/compare", sync_to_thread=True, guards=[logged_in, R.county_reader])
def compare(request: Request, db: NamedDependency[Session], county: FromPath[str], a: FromQuery[int], b: FromQuery[int]) -> Template:
    profile = request.app.state.profile
    va, vb = W.county_verdict(db, county, a, profile), W.county_verdict(db, county, b, profile)
    if va is None or vb is None or a <= 0 or b <= 0:
        raise NotFoundException("no such version")
    rows = W.compare(X.verdict_json(va) | {"workbook_version": None},
                     X.verdict_json(vb) | {"workbook_version": None})
    return Template(template_name="inspector/compare.html",
                    context=_base(request, county=county, a=va.version, b=vb.version, rows=rows,
                                  passed=(va.verdict.passed, vb.verdict.passed)))


# ---- the verdict --------------------------------------------------------------------------------

def _verdict(request: Request, db: Session, county: str, version: int | None) -> W.CountyVerdict:
    cv = W.county_verdict(db, county, version, request.app.state.profile)
    if cv is None:
        raise NotFoundException("no workbook")
    return cv


def verdict_view(cv: W.CountyVerdict, profile, sort: str | None = None) -> dict:
    """Everything the verdict page and the printed report show, display-rounded (scoring.display)."""
    v = cv.verdict
    d = v.to_dict()
    schools = cv.workbook.schools
    names = dict(zip(schools["school_code"].astype(str), schools["school_name"].astype(str)))
    floor = float(profile.resources["shortfall_floor"])
    threshold = float(profile.recognition["recognition_threshold"])

    cards = []
    res_reasons = [f"{s.school_code} {names.get(s.school_code, '')}：{s.reason}" for s in v.resources.sections
                   if not s.passed and s.reason]
    res_reasons += [r for stage in v.resources.cv_reasons.values() for r in stage.values()]
    cards.append({"key": "resources", "name": PART_NAMES["resources"], "passed": v.resources.passed,
                  "reasons": res_reasons})
    for key, part, item_names in (("guarantee", v.guarantee, G_NAMES), ("quality", v.quality, Q_NAMES)):
        cards.append({"key": key, "name": PART_NAMES[key], "passed": part.passed,
                      "reasons": [f"{code} {item_names.get(code, '')}：{item.reason or '未达标'}"
                                  for code, item in part.items.items() if not item.passed]})
    cards.append({"key": "recognition", "name": PART_NAMES["recognition"], "passed": v.recognition.passed,
                  "reasons": [v.recognition.reason] if v.recognition.reason else []})
    cards.append({"key": "veto", "name": "一票否决", "passed": not v.veto,
                  "reasons": [f"{k} {VETO_NAMES[k]}" for k in v.veto]})
    pre = v.precondition
    cards.append({"key": "precondition", "name": "前置条件（基本均衡认定满年限）", "passed": pre.status != "failed",
                  "status": {"passed": "满足", "failed": "不满足", "unchecked": "未填写年份，未检查"}[pre.status],
                  "reasons": [pre.reason] if pre.reason else []})

    stages = []
    for stage in ("primary", "junior"):
        secs = [s for s in v.resources.sections if s.stage == stage]
        if not secs:
            continue
        std = standards(profile, stage)
        rows = []
        for s in secs:
            cells = []
            for ind in INDICATOR_NAMES:
                met = ind in s.met
                value = s.values.get(ind)
                below = value is not None and not profile.at_least(value, floor * std[ind])
                cells.append({"text": display.number(value, passed=met), "met": met, "below_floor": below})
            rows.append({"code": s.school_code, "name": names.get(s.school_code, ""), "students": s.students,
                         "cells": cells, "passed": s.passed, "met": len(s.met)})
        cap = float(profile.resources["cv_cap"][stage])
        cvs = [{"ind": ind, "value": v.resources.cv[stage].get(ind),
                "text": display.cv(v.resources.cv[stage].get(ind), passed=v.resources.cv_passed[stage][ind]),
                "passed": v.resources.cv_passed[stage][ind]} for ind in INDICATOR_NAMES]
        stages.append({"key": stage, "name": STAGE_NAMES[stage], "standards": std, "floor": floor,
                       "floor_values": {i: floor * x for i, x in std.items()}, "rows": rows, "cap": cap,
                       "cvs": cvs, "failing": sum(not r["passed"] for r in rows),
                       "chart": charts.cv_bars([(c["ind"], c["value"], cap) for c in cvs])})

    rec = v.recognition
    rate = rec.rate
    rate_ok = rate.rate is not None and profile.at_least(rate.rate, threshold)
    lb_ok = rate.lower_bound_95 is not None and profile.at_least(rate.lower_bound_95, threshold)
    groups = [{"key": g, "name": GROUP_NAMES.get(g, g), "n": gr.n, "rated": gr.rated, "rate": gr.rate,
               "text": display.percent(gr.rate), "weight": rate.weights.get(g)} for g, gr in rate.groups.items()]
    recognition = {
        "passed": rec.passed, "status": STATUS_NAMES.get(rate.status, rate.status),
        "rate": display.percent(rate.rate, passed=rate_ok), "pooled": display.percent(rate.pooled_rate, passed=rate_ok),
        "ci": [display.percent(x) for x in rate.ci95] if rate.ci95 else None,
        "lower": display.percent(rate.lower_bound_95, passed=lb_ok), "collected": rate.collected,
        "valid": rate.valid, "invalid": dict(rate.invalid), "groups": groups, "threshold": threshold,
        "checks": [{"code": code, "passed": c.passed, "reason": c.reason,
                    "figures": {k: val for k, val in c.figures.items()}} for code, c in rec.checks.items()],
        "chart": charts.group_rates([(GROUP_NAMES.get(g, g), gr.rate, gr.variance, gr.n)
                                     for g, gr in rate.groups.items()], threshold),
    }
    ledger = [dict.fromkeys(X.LEDGER_COLUMNS) | row for row in X.sort_ledger(cv.ledger_dicts, sort)]
    return {"v": v, "d": d, "cards": cards, "stages": stages, "recognition": recognition, "ledger": ledger,
            "sort": sort, "indicators": INDICATOR_NAMES, "names": names, "failed_parts":
            [PART_NAMES[p] for p in v.failed_parts] + (["一票否决"] if v.veto else [])
            + (["前置条件"] if pre.status == "failed" else []),
            "group_names": GROUP_NAMES, "location_names": LOCATION_NAMES, "stage_names": STAGE_NAMES,
            "rule_names": X.RULE_NAMES, "ledger_columns": X.LEDGER_COLUMNS, "G_names": G_NAMES, "Q_names": Q_NAMES}


def _verdict_context(request: Request, db: Session, county: str, version: int | None, sort: str | None) -> dict:
    cv = _verdict(request, db, county, version)
    suffix = f"?version={cv.version.version}"
    return _base(request, county=county, cv=cv, versions=W.versions_of(db, county), suffix=suffix,
                 **verdict_view(cv, request.app.state.profile, sort))


@get("/counties/{county:str}/verdict", sync_to_thread=True, guards=[logged_in, R.county_reader])
def verdict_page(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None,
                 sort: FromQuery[str | None] = None) -> Template:
    audit.record(db, _principal(request), "verdict_view", f"county/{county}", {"version": version, "page": "verdict"})
    return Template(template_name="inspector/verdict.html",
                    context=_verdict_context(request, db, county, version, sort))


@get("/counties/{county:str}/report", sync_to_thread=True, guards=[logged_in, R.county_reader])
def report_page(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None) -> Template:
    audit.record(db, _principal(request), "verdict_view", f"county/{county}", {"version": version, "page": "report"})
    return Template(template_name="inspector/report.html",
                    context=_verdict_context(request, db, county, version, None))


@get("/counties/{county:str}/verdict.json", sync_to_thread=True, guards=[logged_in, R.county_reader])
def verdict_json(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None) -> Response:
    cv = _verdict(request, db, county, version)
    return _export(request, db, county, X.verdict_json_bytes(cv), "application/json; charset=utf-8",
                   f"{county}-评估结果-v{cv.version.version}.json")


@get("/counties/{county:str}/verdict.xlsx", sync_to_thread=True, guards=[logged_in, R.county_reader])
def verdict_xlsx(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None) -> Response:
    cv = _verdict(request, db, county, version)
    return _export(request, db, county, X.verdict_xlsx(cv), XLSX, f"{county}-评估结果-v{cv.version.version}.xlsx")


@get("/counties/{county:str}/ledger.csv", sync_to_thread=True, guards=[logged_in, R.county_reader])
def ledger_csv(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None,
               sort: FromQuery[str | None] = None) -> Response:
    cv = _verdict(request, db, county, version)
    return _export(request, db, county, X.ledger_csv(X.sort_ledger(cv.ledger_dicts, sort)),
                   "text/csv; charset=utf-8", f"{county}-短板台账-v{cv.version.version}.csv")


@get("/counties/{county:str}/ledger.xlsx", sync_to_thread=True, guards=[logged_in, R.county_reader])
def ledger_xlsx(request: Request, db: NamedDependency[Session], county: FromPath[str], version: FromQuery[int | None] = None,
                sort: FromQuery[str | None] = None) -> Response:
    cv = _verdict(request, db, county, version)
    return _export(request, db, county, X.ledger_xlsx(X.sort_ledger(cv.ledger_dicts, sort)), XLSX,
                   f"{county}-短板台账-v{cv.version.version}.xlsx")


# ---- province overview --------------------------------------------------------------------------

OVERVIEW_SORTS = ("county", "passed", "rate", "lower", "progress", "uploaded")


def overview_rows(db: Session, counties: list[str], profile) -> list[dict]:
    rows = []
    for county in counties:
        row: dict[str, Any] = {"county": county, "parts": {}, "passed": None, "rate": None, "ci": None,
                               "lower": None, "progress": None, "required": None, "valid": None, "veto": [],
                               "uploaded": None, "version": None, "error": None}
        campaign = W.campaign_of(db, county)
        row["campaign"] = campaign
        try:
            cv = W.county_verdict(db, county, None, profile)
        except Exception:  # noqa: BLE001 - one broken county must not hide the others
            cv, row["error"] = None, "无法评估"
        if cv is not None:
            v = cv.verdict
            rate = v.recognition.rate
            s1 = v.recognition.checks.get("S1")
            row.update(passed=v.passed, version=cv.version.version, uploaded=cv.version.uploaded_at,
                       parts={k: getattr(v, k).passed for k in PART_NAMES}, rate=rate.rate, ci=rate.ci95,
                       lower=rate.lower_bound_95, veto=list(v.veto), valid=rate.valid)
            threshold = float(profile.recognition["recognition_threshold"])
            row["rate_text"] = display.percent(rate.rate, passed=rate.rate is not None
                                               and profile.at_least(rate.rate, threshold))
            row["lower_text"] = display.percent(rate.lower_bound_95, passed=rate.lower_bound_95 is not None
                                                and profile.at_least(rate.lower_bound_95, threshold))
            row["ci_text"] = "–".join(display.percent(x) for x in rate.ci95) if rate.ci95 else "—"
            if s1 is not None:
                row["required"] = s1.figures.get("required")
                if row["required"]:
                    row["progress"] = rate.valid / row["required"]
        elif campaign is not None:
            row["valid"] = C.progress(db, campaign, profile).valid
        rows.append(row)
    return rows


def sort_overview(rows: list[dict], sort: str | None) -> list[dict]:
    key = (sort or "county").lstrip("-")
    if key not in OVERVIEW_SORTS:
        key = "county"
    present = [r for r in rows if r.get(key) is not None]
    absent = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=(sort or "").startswith("-"))
    return present + absent


@get("/overview", sync_to_thread=True, guards=[logged_in, R.overview_reader])
def overview(request: Request, db: NamedDependency[Session], sort: FromQuery[str | None] = None) -> Template:
    p = _principal(request)
    rows = sort_overview(overview_rows(db, R.visible_counties(db, p), request.app.state.profile), sort)
    return Template(template_name="inspector/overview.html", context=_base(request, rows=rows, sort=sort))


ROUTES = [home, accounts, accounts_save, template_xlsx, county_page, county_upload, version_download, compare,
          verdict_page, report_page, verdict_json, verdict_xlsx, ledger_csv, ledger_xlsx, overview]

inspector_router = Router(
    path="/inspector",
    exception_handlers={NotAuthorizedException: to_login},
    route_handlers=ROUTES,
    include_in_schema=False,
)
