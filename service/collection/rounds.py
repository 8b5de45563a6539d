"""数据采集 (issue 22): a county's collection round for a data year, its schools' accounts, their
rows (draft, submit), the bureau's review and the assembly of a workbook version.

Every rule about a value is ``scoring.collection``'s (the workbook reader's own rules); this
module keeps the states and hands the assembled workbook to the one upload path
(``workbooks.versions.upload``)."""

import hashlib
import io
import csv
import secrets
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, select

from scoring.collection import (FORM_COLUMNS, IDENTITY_COLUMNS, beside_median, check_row, county_spreads,
                                schools_csv, unusual_changes, unusual_per_student)
from scoring.errors import InputError, Problem
from scoring.workbook import SCHOOL_COLUMNS, SHEETS, read_school_list, sheet_cells
from service.db.models import (Account, AccountRole, CollectionRound, CollectionSchool, CollectionSubmission,
                               SchoolClerk, utcnow)
from service.web.security import hash_password
from service.workbooks import versions as W

EMPTY, DRAFT, SUBMITTED, RETURNED, APPROVED = "empty", "draft", "submitted", "returned", "approved"
STATES = {EMPTY: "未填", DRAFT: "填报中", SUBMITTED: "已提交", RETURNED: "退回", APPROVED: "已通过"}
# Units as the form shows them beside each field's Chinese name.
UNITS = {c: ("平方米" if c.endswith("_m2") else "元" if c.endswith("_yuan") else
             "间" if c.endswith("rooms") else "个" if c == "classes" else "人") for c in FORM_COLUMNS}
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"   # nothing read two ways on paper
PASSWORD_LENGTH = 10


def round_of(db: Session, county: str, year: int) -> CollectionRound | None:
    return db.exec(select(CollectionRound).where(CollectionRound.county_name == county,
                                                 CollectionRound.data_year == year)).first()


def rounds_of(db: Session, county: str) -> list[CollectionRound]:
    return list(db.exec(select(CollectionRound).where(CollectionRound.county_name == county)
                        .order_by(CollectionRound.data_year.desc())))


def schools_of(db: Session, round_id: int) -> list[CollectionSchool]:
    return list(db.exec(select(CollectionSchool).where(CollectionSchool.round_id == round_id)
                        .order_by(CollectionSchool.position)))


def school_of(db: Session, round_id: int, code: str) -> CollectionSchool | None:
    return db.exec(select(CollectionSchool).where(CollectionSchool.round_id == round_id,
                                                  CollectionSchool.school_code == code)).first()


def counts(schools: list[CollectionSchool]) -> dict[str, int]:
    found = Counter(s.state for s in schools)
    return {state: found.get(state, 0) for state in STATES}


# ---- opening a round -------------------------------------------------------------------------

def open_round(db: Session, county: str, year_text: str, account_id: int | None, profile,
               file: tuple[str, bytes] | None) -> tuple[CollectionRound | None, list[Problem]]:
    """A round of ``county`` for data year ``year_text``: its schools from the school list
    ``file``, else from the county's latest version. Every problem and nothing stored, or the
    round (committed)."""
    year_text = year_text.strip()
    if not (year_text.isdigit() and 1990 <= int(year_text) <= 2100):
        return None, [Problem("统计年度", None, None, year_text or None, "应为年份（如 2025）")]
    year = int(year_text)
    if round_of(db, county, year) is not None:
        return None, [Problem("统计年度", None, None, year_text, f"本县 {year} 年度的数据采集已经开启")]
    latest = W.version_of(db, county, None)
    if file is not None:
        try:
            rows = read_school_list(file[0], file[1], profile=profile).schools.to_dict("records")
        except InputError as exc:
            return None, list(exc.problems)
        source, digest = file[0], hashlib.sha256(file[1]).hexdigest()
    elif latest is not None:
        rows = W.parse_version(latest, profile).schools.to_dict("records")
        source, digest = f"本县指标表第 {latest.version} 版", latest.sha256
    else:
        return None, [Problem("学校名录", None, None, None, "请上传学校名录（本县尚无指标表，无从取得学校）")]
    rnd = CollectionRound(county_name=county, data_year=year, source=source[:255], source_sha256=digest,
                          base_version=latest.version if latest else None, opened_by=account_id)
    db.add(rnd)
    db.flush()
    for position, row in enumerate(rows):
        db.add(CollectionSchool(round_id=rnd.id, position=position,
                                **{c: str(row[c]) for c in IDENTITY_COLUMNS}))
    db.commit()
    return rnd, []


def last_approved(db: Session, rnd: CollectionRound, profile) -> dict[str, dict[str, Any]]:
    """School code -> its row in the version counted when the round opened (the values last
    approved by the bureau), or nothing when there was none."""
    if rnd.base_version is None:
        return {}
    version = W.version_of(db, rnd.county_name, rnd.base_version, withdrawn=True)
    schools = W.parse_version(version, profile).schools
    return {str(r["school_code"]): r for r in schools.to_dict("records")}


def shown(row: dict[str, Any] | None) -> dict[str, str]:
    """A row's values (last approved numbers, or a submission's stored texts) as the form shows
    them: 608, 3220.4 (never 608.0 or nan); a text that is no number stays as written."""
    out = {}
    for c in FORM_COLUMNS:
        value = (row or {}).get(c)
        if isinstance(value, str):
            try:
                value = float(value) if value.strip() else None
            except ValueError:
                out[c] = value
                continue
        if isinstance(value, (int, float)) and value == value:
            value = float(value)
            out[c] = f"{value:.0f}" if value.is_integer() else f"{value:g}" if abs(value) < 1e6 else f"{value:.2f}"
    return out


# ---- school accounts -------------------------------------------------------------------------

@dataclass(frozen=True)
class NewAccount:
    school: CollectionSchool
    username: str
    password: str                     # shown once, on the printed sheet; only its hash is kept


def create_accounts(db: Session, rnd: CollectionRound) -> list[NewAccount]:
    """An account (学校填报员) for each school of the round that has none yet. Commits."""
    have = set(db.exec(select(SchoolClerk.school_code).where(SchoolClerk.round_id == rnd.id)).all())
    made = []
    for school in schools_of(db, rnd.id):
        if school.school_code in have:
            continue
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
        username = f"r{rnd.id}-{school.school_code}"[:64]
        hashed = hash_password(password)
        account = Account(username=username, password_hash=hashed)
        db.add(account)
        db.flush()
        db.add(AccountRole(account_id=account.id, role="school_clerk"))
        db.add(SchoolClerk(account_id=account.id, round_id=rnd.id, school_code=school.school_code,
                           initial_password_hash=hashed))
        made.append(NewAccount(school, username, password))
    db.commit()
    return made


def clerk_accounts(db: Session, round_id: int) -> dict[str, str]:
    """School code -> its clerk's user name."""
    rows = db.exec(select(SchoolClerk.school_code, Account.username)
                   .where(SchoolClerk.round_id == round_id, SchoolClerk.account_id == Account.id)).all()
    return dict(rows)


# ---- the school's row ------------------------------------------------------------------------

def identity(school: CollectionSchool) -> dict[str, str]:
    return {c: getattr(school, c) for c in IDENTITY_COLUMNS}


def clean(form: dict[str, Any]) -> dict[str, str]:
    """The form's values of the school's columns, as entered (trimmed)."""
    return {c: str(form.get(c) or "").strip()[:64] for c in FORM_COLUMNS}


def check(school: CollectionSchool, values: dict[str, str], profile) -> list[Problem]:
    return check_row(identity(school), values, profile)


def save_draft(db: Session, school: CollectionSchool, values: dict[str, str]) -> None:
    """Keep what the school entered so far (problems and all): it may come back. Commits."""
    if school.state in (SUBMITTED, APPROVED):
        raise ValueError("a submitted row is the bureau's to decide")
    school.draft, school.draft_saved_at = values, utcnow()
    school.state = RETURNED if school.state == RETURNED else DRAFT
    db.add(school)
    db.commit()


def submit(db: Session, school: CollectionSchool, values: dict[str, str], account_id: int,
           profile) -> tuple[CollectionSubmission | None, list[Problem]]:
    """The row as a new submission, when the reader finds no problem in it; else every problem
    and nothing stored (not even the draft). Commits."""
    if school.state in (SUBMITTED, APPROVED):
        return None, [Problem("填报", None, None, None, "本校数据已提交，等待或已经通过县教育局审核，不能再修改")]
    problems = check(school, values, profile)
    if problems:
        return None, problems
    number = (db.exec(select(func.max(CollectionSubmission.number)).where(
        CollectionSubmission.round_id == school.round_id,
        CollectionSubmission.school_code == school.school_code)).one() or 0) + 1
    submission = CollectionSubmission(round_id=school.round_id, school_code=school.school_code, number=number,
                                      submitted_values=values, submitted_by=account_id)
    school.draft, school.draft_saved_at, school.state = values, utcnow(), SUBMITTED
    db.add(submission)
    db.add(school)
    db.commit()
    return submission, []


def latest_submission(db: Session, round_id: int, code: str) -> CollectionSubmission | None:
    return db.exec(select(CollectionSubmission).where(CollectionSubmission.round_id == round_id,
                                                      CollectionSubmission.school_code == code)
                   .order_by(CollectionSubmission.number.desc())).first()


# ---- review ----------------------------------------------------------------------------------

def submitted_rows(db: Session, round_id: int) -> list[dict[str, str]]:
    """The latest submitted values of each school of the round that is submitted or approved."""
    rows = db.exec(select(CollectionSubmission)
                   .join(CollectionSchool, and_(CollectionSchool.round_id == CollectionSubmission.round_id,
                                                CollectionSchool.school_code == CollectionSubmission.school_code))
                   .where(CollectionSubmission.round_id == round_id, CollectionSchool.state.in_((SUBMITTED, APPROVED)))
                   .order_by(CollectionSubmission.number))
    return list({s.school_code: s.submitted_values for s in rows}.values())


@dataclass(frozen=True)
class Review:
    flags: dict[str, list]            # column -> its flags (scoring.collection.Flag), in rule order
    medians: dict[str, str]           # column -> the school's per-student value beside the county's median


def review(db: Session, rnd: CollectionRound, values: dict[str, str], before: dict[str, Any] | None,
           profile) -> Review:
    """The review's flags of a row: a change of more than a third from last year, and a
    per-student value far outside the spread of the round's submitted and approved schools."""
    spreads = county_spreads(submitted_rows(db, rnd.id), profile)
    found: dict[str, list] = {}
    for flags in (unusual_changes(values, before), unusual_per_student(values, spreads, profile)):
        for column, flag in flags.items():
            found.setdefault(column, []).append(flag)
    return Review(found, beside_median(values, spreads))


def decide(db: Session, school: CollectionSchool, approve: bool, reasons: dict[str, str],
           account_id: int) -> tuple[CollectionSubmission | None, list[Problem]]:
    """Approve the school's submission, or return it with a reason per field. Commits."""
    submission = latest_submission(db, school.round_id, school.school_code)
    if school.state != SUBMITTED or submission is None:
        return None, [Problem(school.school_name, None, None, None, "没有待审核的提交")]
    reasons = {c: r.strip()[:500] for c, r in reasons.items() if c in FORM_COLUMNS and r.strip()}
    if not approve and not reasons:
        return None, [Problem(school.school_name, None, None, None, "退回时请至少为一个字段写明退回原因")]
    submission.decision = "approved" if approve else "returned"
    submission.reasons = {} if approve else reasons
    submission.decided_by, submission.decided_at = account_id, utcnow()
    school.state = APPROVED if approve else RETURNED
    db.add(submission)
    db.add(school)
    db.commit()
    return submission, []


# ---- assembly --------------------------------------------------------------------------------

@dataclass
class Assembly:
    filename: str
    data: bytes
    submissions: dict[str, int]       # school code -> the number of its approved submission


def assemble(db: Session, rnd: CollectionRound) -> tuple[Assembly | None, list[Problem]]:
    """The county's workbook from the approved rows and the county (and veto) sheet of the
    county's latest version, as a .zip of CSVs; or every reason it cannot be built yet."""
    schools = schools_of(db, rnd.id)
    problems = [Problem(s.school_name, None, None, s.school_code, f"尚未通过审核（{STATES[s.state]}）")
                for s in schools if s.state != APPROVED]
    latest = W.version_of(db, rnd.county_name, None)
    if latest is None:
        problems.append(Problem("县域", None, None, None, "本县尚无指标表版本，无从取得县域表：请先上传一版指标表"))
    if problems:
        return None, problems
    rows, used = [], {}
    for school in schools:
        submission = latest_submission(db, rnd.id, school.school_code)
        rows.append({**submission.submitted_values, **identity(school)})
        used[school.school_code] = submission.number
    try:
        sheets = sheet_cells(W._parse_name(latest.filename), bytes(latest.data))
    except InputError as exc:
        return None, list(exc.problems)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{SHEETS['schools']}.csv", schools_csv(rows))
        for key in ("county", "veto"):
            if key in sheets:
                z.writestr(f"{SHEETS[key]}.csv", _grid_csv(sheets[key]))
    return Assembly(f"{rnd.county_name}{rnd.data_year}年度数据采集.zip", buf.getvalue(), used), []


def _grid_csv(cells) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(cells.itertuples(index=False, name=None))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def store_assembly(db: Session, rnd: CollectionRound, assembly: Assembly, account_id: int, profile,
                   keep: dict[str, str]):
    """Store the assembled workbook through the one upload path; the round remembers the version."""
    version, problems = W.upload(db, rnd.county_name, account_id, [(assembly.filename, assembly.data)], profile,
                                 rnd.data_year, keep=keep)
    if problems:
        return None, problems
    rnd.assembled_version, rnd.assembled_at = version.version, utcnow()
    db.add(rnd)
    db.commit()
    return version, []


FIELD_NAMES = {c: SCHOOL_COLUMNS[c] for c in FORM_COLUMNS}


def preview(db: Session, rnd: CollectionRound, assembly: Assembly, profile) -> tuple[Any, list[Problem]]:
    """The verdict (``scoring.verdict.evaluate``) the assembled workbook would give with the
    answers of the county's counted campaign, as the verdict page would compute it."""
    from scoring.verdict import evaluate
    from service.verdicts import pipeline as P

    workbook, problems = W.read_upload(rnd.county_name, [(assembly.filename, assembly.data)], profile)
    if problems:
        return None, problems
    state = P.county_state(db, rnd.county_name, None, profile)
    campaign = state.counted.campaign if state else None
    aggregate = responses = None
    if campaign is not None and state.answers:
        codes = set(workbook.schools["school_code"].astype(str))
        aggregate = P.answer_aggregate(db, campaign.id, state.answers, state.max_id, state.last, profile, codes)
        if aggregate is None:
            responses, _ = P.answers_frame(db, campaign.id, codes)
    return evaluate(workbook, responses, profile, aggregate=aggregate), []
