"""数据采集 pages: the bureau's rounds under ``/inspector/counties/{county}/collection`` (the
county's bureau or the province) and a school clerk's form under ``/school`` (its one school)."""

from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Stream, Template
from sqlmodel import Session

from scoring.collection import COUNTY_ITEMS, EVIDENCE_GROUPS, FORM_COLUMNS
from scoring.names import PARTS
from scoring.profile import Profile
from scoring.workbook import LOCATION_NAMES, SCHOOL_TYPES
from service.accounts import audit
from service.accounts import roles as R
from service.accounts.pages import staff_context
from service.campaigns.counted import counted_campaign
from service.campaigns.schools import answered_school_names
from service.collection import evidence as E
from service.collection import package as PK
from service.collection import rounds as K
from service.db.models import CollectionRound
from service.verdicts import exports as X
from service.verdicts import pipeline as P
from service.verdicts import report as V
from service.web.downloads import attachment
from service.web.uploads import UPLOAD_BODY_LIMIT
from service.workbooks import versions as W

BUREAU_GUARDS = [R.logged_in, R.county_runner]
FORM = RequestEncodingType.URL_ENCODED


def _ctx(p: R.Principal, **ctx: Any) -> dict:
    return staff_context(p, q=quote, states=K.STATES, names=K.FIELD_NAMES, units=K.UNITS,
                         columns=FORM_COLUMNS, groups=EVIDENCE_GROUPS, max_mb=E.MAX_EVIDENCE_BYTES // 2**20, types=SCHOOL_TYPES, locations=LOCATION_NAMES, **ctx)


def _round(db: Session, county: str, year: int) -> CollectionRound:
    rnd = K.round_of(db, county, year)
    if rnd is None:
        raise NotFoundException("no such round")
    return rnd


def _base(county: str, year: int) -> str:
    return f"/inspector/counties/{quote(county)}/collection/{year}"


# ---- the bureau: rounds ------------------------------------------------------------------------

def _rounds_page(p: R.Principal, db: Session, county: str, problems=None, status: int = 200) -> Template:
    rounds = K.rounds_of(db, county)
    return Template(template_name="collection/rounds.html", status_code=status, context=_ctx(
        p, county=county, rounds=[(r, K.counts(K.schools_of(db, r.id))) for r in rounds], problems=problems))


@get("/counties/{county:str}/collection", sync_to_thread=True, guards=BUREAU_GUARDS)
def rounds_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                county: FromPath[str]) -> Template:
    return _rounds_page(principal, db, county)


@post("/counties/{county:str}/collection", sync_to_thread=True, guards=BUREAU_GUARDS, media_type=MediaType.HTML,
      request_max_body_size=UPLOAD_BODY_LIMIT)
def round_open(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
               profile: NamedDependency[Profile], county: FromPath[str],
               data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    upload = data.get("school_list")
    file = (upload.filename, upload.file.read()) if isinstance(upload, UploadFile) and upload.filename else None
    rnd, problems = K.open_round(db, county, str(data.get("data_year") or ""), principal.account_id,
                                 profile, file)
    if problems:
        db.rollback()
        return _rounds_page(principal, db, county, problems, 422)
    audit.record(db, principal, "collection_open", f"county/{county}/collection/{rnd.data_year}",
                 {"year": rnd.data_year, "source": rnd.source, "schools": len(K.schools_of(db, rnd.id))},
                 rnd.source_sha256)
    return Redirect(path=_base(county, rnd.data_year), status_code=303)


def _round_page(p: R.Principal, db: Session, rnd: CollectionRound, problems=None, preview=None,
                status: int = 200, current=None, file_problems=None) -> Template:
    schools = K.schools_of(db, rnd.id)
    return Template(template_name="collection/round.html", status_code=status, context=_ctx(
        p, county=rnd.county_name, rnd=rnd, schools=schools, counts=K.counts(schools),
        accounts=K.clerk_accounts(db, rnd.id), base=_base(rnd.county_name, rnd.data_year), problems=problems,
        preview=preview, current=current, latest=W.version_of(db, rnd.county_name, None), parts=PARTS,
        items=COUNTY_ITEMS, county_files=E.files_of(db, rnd.id, None), file_problems=file_problems or [],
        missing_evidence=PK.missing_by_school(db, rnd.id)))


@get("/counties/{county:str}/collection/{year:int}", sync_to_thread=True, guards=BUREAU_GUARDS)
def round_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
               year: FromPath[int]) -> Template:
    return _round_page(principal, db, _round(db, county, year))


@post("/counties/{county:str}/collection/{year:int}/accounts", sync_to_thread=True, guards=BUREAU_GUARDS,
      media_type=MediaType.HTML)
def round_accounts(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
                   year: FromPath[int]) -> Template:
    """The printable sheet of the new accounts' initial passwords: shown this once, never stored."""
    rnd = _round(db, county, year)
    made = K.create_accounts(db, rnd)
    audit.record(db, principal, "collection_accounts", f"county/{county}/collection/{year}",
                 {"accounts": [a.username for a in made]})
    return Template(template_name="collection/accounts_sheet.html", context=_ctx(
        principal, county=county, rnd=rnd, made=made, base=_base(county, year)))


def _review_page(p: R.Principal, db: Session, profile: Profile, rnd: CollectionRound, code: str, problems=None,
                 status: int = 200) -> Template:
    school = K.school_of(db, rnd.id, code)
    if school is None:
        raise NotFoundException("no such school")
    submission = K.latest_submission(db, rnd.id, code)
    before = K.last_approved(db, rnd, profile).get(code)
    values = submission.submitted_values if submission else school.draft
    found = K.review(db, rnd, values, before, profile)
    return Template(template_name="collection/review.html", status_code=status, context=_ctx(
        p, county=rnd.county_name, rnd=rnd, school=school, submission=submission, values=K.shown(values),
        before=K.shown(before), flags=found.flags, medians=found.medians, base=_base(rnd.county_name, rnd.data_year),
        problems=problems, files=E.files_of(db, rnd.id, code)))


@get("/counties/{county:str}/collection/{year:int}/schools/{code:str}", sync_to_thread=True, guards=BUREAU_GUARDS)
def review_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile], county: FromPath[str],
                year: FromPath[int], code: FromPath[str]) -> Template:
    return _review_page(principal, db, profile, _round(db, county, year), code)


@post("/counties/{county:str}/collection/{year:int}/schools/{code:str}", sync_to_thread=True,
      guards=BUREAU_GUARDS, media_type=MediaType.HTML)
def review_decide(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  profile: NamedDependency[Profile], county: FromPath[str],
                  year: FromPath[int], code: FromPath[str], data: Annotated[dict[str, str], Body(media_type=FORM)]) -> Any:
    rnd = _round(db, county, year)
    school = K.school_of(db, rnd.id, code)
    if school is None:
        raise NotFoundException("no such school")
    approve = data.get("decision") == "approve"
    reasons = {c[len("reason_"):]: v for c, v in data.items() if c.startswith("reason_")}
    submission, problems = K.decide(db, school, approve, reasons, principal.account_id)
    if problems:
        db.rollback()
        return _review_page(principal, db, profile, rnd, code, problems, 422)
    audit.record(db, principal, "collection_approve" if approve else "collection_return",
                 f"county/{county}/collection/{year}/{code}",
                 {"school": school.school_name, "submission": submission.number,
                  "reasons": {K.FIELD_NAMES[c]: r for c, r in submission.reasons.items()}})
    return Redirect(path=_base(county, year), status_code=303)


@post("/counties/{county:str}/collection/{year:int}/preview", sync_to_thread=True, guards=BUREAU_GUARDS,
      media_type=MediaType.HTML)
def round_preview(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  profile: NamedDependency[Profile], county: FromPath[str],
                  year: FromPath[int]) -> Template:
    """The verdict the assembled version would give, before anything is stored."""
    rnd = _round(db, county, year)
    assembly, problems = K.assemble(db, rnd)
    verdict = current = None
    if assembly is not None:
        verdict, problems = K.preview(db, rnd, assembly, profile)
        counted = P.county_verdict(db, county, None, profile)
        current = counted.verdict if counted else None
    return _round_page(principal, db, rnd, problems, verdict, 422 if problems else 200, current)


@post("/counties/{county:str}/collection/{year:int}/assemble", sync_to_thread=True, guards=BUREAU_GUARDS,
      media_type=MediaType.HTML)
def round_assemble(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                   profile: NamedDependency[Profile], county: FromPath[str],
                   year: FromPath[int]) -> Any:
    rnd = _round(db, county, year)
    assembly, problems = K.assemble(db, rnd)
    version = None
    if assembly is not None:
        keep = answered_school_names(db, counted_campaign(db, county).campaign)
        version, problems = K.store_assembly(db, rnd, assembly, principal.account_id, profile, keep)
    if problems:
        db.rollback()
        return _round_page(principal, db, rnd, problems, None, 422)
    audit.record(db, principal, "collection_assemble", f"county/{county}/collection/{year}",
                 {"version": version.version, "file": version.filename, "submissions": assembly.submissions},
                 version.sha256)
    return Redirect(path=f"/inspector/counties/{quote(county)}?uploaded={version.version}", status_code=303)


# ---- the bureau: evidence of the county items; the county's readers: evidence files -------------

@post("/counties/{county:str}/collection/{year:int}/county-evidence", sync_to_thread=True, guards=BUREAU_GUARDS,
      media_type=MediaType.HTML, request_max_body_size=E.MAX_EVIDENCE_BYTES + 2**20)
def county_evidence_upload(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
                           year: FromPath[int], data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    """The bureau's evidence of a county item (G1–G15, Q1–Q9, V1–V7) for the round's county and year."""
    rnd = _round(db, county, year)
    upload = data.get("file")
    name, content = (upload.filename, upload.file.read()) if isinstance(upload, UploadFile) else ("", b"")
    entry, problems = E.attach(db, rnd.id, None, str(data.get("item") or ""), name, content, principal.account_id)
    if problems:
        db.rollback()
        return _round_page(principal, db, rnd, status=422, file_problems=problems)
    audit.record(db, principal, "collection_evidence", f"county/{county}/collection/{year}",
                 {"item": entry.field_group, "file": entry.filename}, entry.sha256)
    return Redirect(path=_base(county, year) + "#county-evidence", status_code=303)


@get("/counties/{county:str}/evidence/{eid:int}", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def county_evidence_download(db: NamedDependency[Session], county: FromPath[str],
                             eid: FromPath[int]) -> Response:
    """An evidence file of the county, for whoever reads its verdict (the links of the verdict page)."""
    return _download(E.file_in_county(db, county, eid))


EVIDENCE_ROUTES = [county_evidence_upload, county_evidence_download]


# ---- the school clerk: its one row -------------------------------------------------------------

def _clerk_school(p: R.Principal, db: Session):
    school = K.school_of(db, p.round_id, p.school_code)
    rnd = db.get(CollectionRound, p.round_id)
    if school is None or rnd is None:
        raise NotFoundException("no school")
    return p, rnd, school


def _school_page(p: R.Principal, db: Session, profile: Profile, values: dict | None = None, problems=None,
                 saved: str = "", status: int = 200, file_problems=None) -> Template:
    p, rnd, school = _clerk_school(p, db)
    submission = K.latest_submission(db, rnd.id, school.school_code)
    by_field = {}
    for problem in problems or []:
        by_field.setdefault(problem.column, []).append(problem)
    return Template(template_name="collection/school_form.html", status_code=status, context=_ctx(
        p, rnd=rnd, school=school, values=school.draft if values is None else values,
        before=K.shown(K.last_approved(db, rnd, profile).get(school.school_code)),
        reasons=submission.reasons if submission and submission.decision == "returned" else {},
        problems=problems or [], by_field=by_field, saved=saved, files=E.files_of(db, rnd.id, school.school_code),
        editable=school.state not in (K.SUBMITTED, K.APPROVED), file_problems=file_problems or []))


@get("/", sync_to_thread=True, guards=[R.logged_in, R.school_clerk_only])
def school_form(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile]) -> Template:
    return _school_page(principal, db, profile)


@post("/", sync_to_thread=True, guards=[R.logged_in, R.school_clerk_only], media_type=MediaType.HTML)
def school_save(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                profile: NamedDependency[Profile],
                data: Annotated[dict[str, str], Body(media_type=FORM)]) -> Any:
    p, rnd, school = _clerk_school(principal, db)
    values = K.clean(data)
    target = f"county/{rnd.county_name}/collection/{rnd.data_year}/{school.school_code}"
    if data.get("action") == "submit":
        submission, problems = K.submit(db, school, values, p.account_id, profile)
        if problems:
            db.rollback()
            return _school_page(p, db, profile, values, problems, status=422)
        audit.record(db, p, "collection_submit", target, {"submission": submission.number})
        return Redirect(path="/school", status_code=303)
    if school.state in (K.SUBMITTED, K.APPROVED):
        return _school_page(p, db, profile, status=409)
    K.save_draft(db, school, values)
    audit.record(db, p, "collection_draft", target, {})
    return _school_page(p, db, profile, values, K.check(school, values, profile), saved="draft")


def _download(found) -> Response:
    """An evidence file as a download only (never shown inline, never sniffed), under a safe name."""
    if found is None:
        raise NotFoundException("no such file")
    entry, blob = found
    return Response(content=bytes(blob.data), media_type=E.CONTENT_TYPES[blob.kind],
                    headers={**attachment(entry.filename), "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "sandbox"})


@post("/evidence", sync_to_thread=True, guards=[R.logged_in, R.school_clerk_only], media_type=MediaType.HTML,
      request_max_body_size=E.MAX_EVIDENCE_BYTES + 2**20)
def school_evidence_upload(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                           profile: NamedDependency[Profile],
                           data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Any:
    p, rnd, school = _clerk_school(principal, db)
    upload = data.get("file")
    name, content = (upload.filename, upload.file.read()) if isinstance(upload, UploadFile) else ("", b"")
    entry, problems = E.attach(db, rnd.id, school.school_code, str(data.get("group") or ""), name, content,
                               p.account_id)
    if problems:
        db.rollback()
        return _school_page(p, db, profile, status=422, file_problems=problems)
    audit.record(db, p, "collection_evidence", f"county/{rnd.county_name}/collection/{rnd.data_year}/{school.school_code}",
                 {"group": entry.field_group, "file": entry.filename}, entry.sha256)
    return Redirect(path="/school", status_code=303)


@get("/evidence/{eid:int}", sync_to_thread=True, guards=[R.logged_in, R.school_clerk_only])
def school_evidence_download(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                             eid: FromPath[int]) -> Response:
    return _download(E.file_of(db, principal.round_id, eid, principal.school_code))


@get("/counties/{county:str}/collection/{year:int}/evidence/{eid:int}", sync_to_thread=True, guards=BUREAU_GUARDS)
def bureau_evidence_download(db: NamedDependency[Session], county: FromPath[str],
                             year: FromPath[int], eid: FromPath[int]) -> Response:
    return _download(E.file_of(db, _round(db, county, year).id, eid))


# ---- the desk-review package (汇审材料包): whoever may read the county's verdict ------------------

@get("/counties/{county:str}/desk-review.zip", sync_to_thread=True, guards=[R.logged_in, R.county_reader],
     opt={"skip_compression": True})
def desk_review_package(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                        profile: NamedDependency[Profile], now: NamedDependency[datetime], county: FromPath[str],
                        version: FromQuery[int | None] = None) -> Stream:
    """The workbook, report, ledger, evidence, its index and the checksums of a version, streamed."""
    ctx = V.verdict_context(principal, db, profile, county, version, None)
    cv = ctx["cv"]
    n = cv.version.version
    schools = cv.workbook.schools
    contents = PK.contents(db, cv.version, list(zip(schools["school_code"].astype(str), schools["school_name"].astype(str))))
    members = [(f"指标表（第{n}版）{PurePosixPath(cv.version.filename).suffix.lower()}", bytes(cv.version.data)),
               (f"评估报告（第{n}版）.pdf", V.report_pdf(request, ctx)),
               (f"短板台账（第{n}版）.xlsx", X.ledger_xlsx(cv.ledger_dicts, X.school_names(cv)))]
    name = PK.package_name(contents)
    audit.record(db, principal, "export", f"county/{county}/{name}",
                 {"file": name, "version": n, "evidence_files": len(contents.entries)})
    engine = request.app.template_engine
    return Stream(PK.stream(request.app.state.engine, contents, members,
                            lambda c, rows: PK.index_pdf(engine, c, rows, now), now),
                  media_type="application/zip", headers={**attachment(name), "X-Content-Type-Options": "nosniff"})


BUREAU_ROUTES = [rounds_page, round_open, round_page, round_accounts, review_page, review_decide, round_preview,
                 round_assemble, bureau_evidence_download, desk_review_package]
SCHOOL_ROUTES = [school_form, school_save, school_evidence_upload, school_evidence_download]
