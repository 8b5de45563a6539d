"""Campaign business rules: creation, workbook import, links, codes, progress, export, verdict.

The service never re-implements a scoring rule: the workbook is read by
``scoring.workbook``, the plan comes from ``scoring.sampling`` and the verdict
from ``scoring.verdict`` run on exactly the CSV the export produces.
"""

import csv
import io
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, delete, func
from sqlmodel import Session, select

from survey_templates import GROUPS, ITEMS, LOCATION_LABELS, SCHOOL_GROUPS

from .models import Campaign, Link, OneTimeCode, Response, School
from .security import CODE_ALPHABET, random_token

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
GROUP_LABELS = {"student": "学生", "parent": "家长", "teacher": "教师", "principal": "校长",
                "npc_deputy": "人大代表", "cppcc_member": "政协委员", "public": "其他群众"}
LOCATED_GROUPS = tuple(g for g in GROUPS if g not in SCHOOL_GROUPS)
MAX_CODES_PER_BATCH = 1000


class CampaignInputError(Exception):
    """Bad form input for a campaign; ``errors`` maps field -> Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def state_of(campaign: Campaign, at: datetime) -> str:
    """``open``, ``not_open`` or ``closed`` at time ``at``."""
    if at < campaign.opens_at:
        return "not_open"
    if at >= campaign.closes_at:
        return "closed"
    return "open"


def _new_link(session: Session, campaign_id: int, school_code: str | None, group: str | None) -> Link:
    while True:
        token = random_token(10)
        if session.exec(select(Link).where(Link.token == token)).first() is None:
            link = Link(token=token, campaign_id=campaign_id, school_code=school_code, group=group)
            session.add(link)
            return link


def create_campaign(session: Session, *, name: str, county_name: str, resident_population: int,
                    shares: dict[str, float], opens_at: datetime, closes_at: datetime,
                    templates: dict[str, dict], account_id: int | None = None) -> Campaign:
    """Validate and store a campaign with its campaign-wide links; the templates are pinned."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "请填写调查名称"
    if not county_name.strip():
        errors["county_name"] = "请填写县（市、区）名称"
    if resident_population <= 0:
        errors["resident_population"] = "常住人口须为正整数"
    if any(v < 0 or v > 1 for v in shares.values()) or abs(sum(shares.values()) - 1) > 0.01:
        errors["shares"] = "城区、镇区、乡村人口占比须在 0–1 之间且合计为 1"
    if closes_at <= opens_at:
        errors["closes_at"] = "结束时间须晚于开始时间"
    if errors:
        raise CampaignInputError(errors)
    campaign = Campaign(name=name.strip(), county_name=county_name.strip(),
                        resident_population=resident_population,
                        share_urban=shares["urban"], share_town=shares["town"], share_rural=shares["rural"],
                        opens_at=opens_at, closes_at=closes_at, templates=templates,
                        salt=secrets.token_hex(16), created_by=account_id)
    session.add(campaign)
    session.flush()
    _new_link(session, campaign.id, None, None)
    for group in LOCATED_GROUPS:
        _new_link(session, campaign.id, None, group)
    session.commit()
    return campaign


# ---- the workbook --------------------------------------------------------------------------

@lru_cache(maxsize=32)
def _parsed_workbook(campaign_id: int, imported_at: Any, filename: str, data: bytes, profile_name: str):
    from scoring.profile import load_profile
    from scoring.workbook import read_workbook_bytes
    return read_workbook_bytes(filename, data, profile=load_profile(profile_name))


def campaign_workbook(campaign: Campaign, profile) -> Any | None:
    """The campaign's stored workbook, parsed (cached per import)."""
    if not campaign.workbook_data:
        return None
    return _parsed_workbook(campaign.id, campaign.workbook_imported_at, campaign.workbook_filename,
                            bytes(campaign.workbook_data), profile.name)


def import_workbook(session: Session, campaign: Campaign, filename: str, data: bytes, profile) -> list:
    """Read the workbook with ``scoring``; on any problem store nothing and return them all.

    Returns the located problems (``scoring.errors.Problem``), empty on success. A
    campaign that already has answers keeps its schools (re-import refused).
    """
    from scoring.errors import InputError, Problem
    from scoring.workbook import read_workbook_bytes

    try:
        workbook = read_workbook_bytes(filename, data, profile=profile)
    except InputError as exc:
        return list(exc.problems)
    answered = session.exec(select(func.count()).select_from(Response)
                            .where(Response.campaign_id == campaign.id)).one()
    if answered:
        return [Problem(filename, None, None, None, "本调查已有答卷，不能再更换学校名单")]
    session.exec(delete(Link).where(Link.campaign_id == campaign.id, Link.school_code.is_not(None)))
    session.exec(delete(School).where(School.campaign_id == campaign.id))
    for pos, row in enumerate(workbook.schools.to_dict("records")):
        code = str(row["school_code"])
        session.add(School(campaign_id=campaign.id, school_code=code, school_name=str(row["school_name"]),
                           school_type=str(row["school_type"]), location=str(row["location"]),
                           students_primary=float(row.get("students_primary") or 0),
                           students_junior=float(row.get("students_junior") or 0), position=pos))
        _new_link(session, campaign.id, code, None)
        for group in SCHOOL_GROUPS:
            _new_link(session, campaign.id, code, group)
    campaign.workbook_filename = filename
    campaign.workbook_data = data
    campaign.workbook_imported_at = now_utc()
    session.add(campaign)
    session.commit()
    return []


def schools_of(session: Session, campaign_id: int) -> list[School]:
    return list(session.exec(select(School).where(School.campaign_id == campaign_id).order_by(School.position)))


def links_of(session: Session, campaign_id: int) -> list[Link]:
    return list(session.exec(select(Link).where(Link.campaign_id == campaign_id).order_by(Link.id)))


def link_label(link: Link, schools: dict[str, School]) -> str:
    where = schools[link.school_code].school_name if link.school_code in schools else "全县"
    return f"{where} · {link_audience(link)}"


def link_audience(link: Link) -> str:
    """Who a link is for, in Chinese."""
    if link.group:
        return GROUP_LABELS[link.group]
    if link.school_code:
        return "学生、家长、教师、校长"
    return "所有调查对象"


# ---- one-time codes ------------------------------------------------------------------------

def create_codes(session: Session, campaign: Campaign, link: Link, count: int) -> int:
    """A batch of ``count`` single-use codes on ``link``; returns the batch number."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise CampaignInputError({"count": f"每批 1–{MAX_CODES_PER_BATCH} 个"})
    batch = (session.exec(select(func.max(OneTimeCode.batch)).where(
        OneTimeCode.campaign_id == campaign.id)).one() or 0) + 1
    made: set[str] = set()
    while len(made) < count:
        code = random_token(8, CODE_ALPHABET)
        if code in made or session.exec(select(OneTimeCode.id).where(OneTimeCode.code == code)).first():
            continue
        made.add(code)
        session.add(OneTimeCode(code=code, campaign_id=campaign.id, link_id=link.id, batch=batch))
    session.commit()
    return batch


# ---- progress against the plan -------------------------------------------------------------

@dataclass
class Progress:
    collected: int = 0
    valid: int = 0
    incomplete: int = 0
    duplicates: int = 0
    speeders: int = 0
    by_group: Counter = field(default_factory=Counter)
    by_school: dict[str, Counter] = field(default_factory=dict)
    by_location: dict[str, Counter] = field(default_factory=dict)


def progress(session: Session, campaign: Campaign, profile) -> Progress:
    """Counts of valid responses: complete, not a duplicate, not a speeder (survey.md's order)."""
    min_s = float(profile.recognition["min_duration_s"])
    p = Progress()
    complete = and_(*[getattr(Response, i).is_not(None) for i in ITEMS])
    first = Response.duplicate_of.is_(None)
    slow = Response.duration_s >= min_s
    rows = session.exec(
        select(Response.group, Response.school_code, Response.location, complete, first, slow, func.count())
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.group, Response.school_code, Response.location, complete, first, slow))
    for group, school, loc, whole, first, slow, n in rows:
        p.collected += n
        if not whole:
            p.incomplete += n
            continue
        if not first:
            p.duplicates += n
            continue
        if not slow:
            p.speeders += n
            continue
        p.valid += n
        p.by_group[group] += n
        if school:
            p.by_school.setdefault(school, Counter())[group] += n
        p.by_location.setdefault(loc, Counter())[group] += n
    return p


def plan_for(campaign: Campaign, profile):
    """``scoring.sampling.sampling_plan`` for the campaign's schools and settings, or None."""
    workbook = campaign_workbook(campaign, profile)
    if workbook is None:
        return None
    from scoring.sampling import sampling_plan
    shares = {"urban": campaign.share_urban, "town": campaign.share_town, "rural": campaign.share_rural}
    return sampling_plan(workbook.schools, float(campaign.resident_population), shares, profile)


# ---- export and verdict --------------------------------------------------------------------

XLSX_EXTRA_COLUMNS = ("comment", "submitted_at")


def export_rows(session: Session, campaign_id: int) -> list[dict[str, str]]:
    """One dict per answer: the survey.md columns, plus the extra ``comment``/``submitted_at``."""
    rows = []
    for r in session.exec(select(Response).where(Response.campaign_id == campaign_id).order_by(Response.id)):
        rows.append({
            "response_id": r.submission_id, "questionnaire": r.questionnaire, "group": r.group,
            "school_code": r.school_code or "", "location": r.location,
            "grade": "" if r.grade is None else str(r.grade),
            "duration_s": _seconds(r.duration_s), "duplicate_of": r.duplicate_of or "",
            **{i: getattr(r, i) or "" for i in ITEMS},
            "comment": r.comment or "",
            "submitted_at": r.created_at.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"),
        })
    return rows


def _seconds(value: float) -> str:
    """Plain decimal seconds, one decimal at most (never exponent notation)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def export_csv(session: Session, campaign_id: int) -> bytes:
    """The responses file of survey.md, exactly its columns, UTF-8 (no BOM)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESPONSE_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(export_rows(session, campaign_id))
    return buf.getvalue().encode("utf-8")


def export_xlsx(session: Session, campaign_id: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "responses"
    columns = (*RESPONSE_COLUMNS, *XLSX_EXTRA_COLUMNS)     # survey.md allows extra columns
    ws.append(list(columns))
    for row in export_rows(session, campaign_id):
        ws.append([row[c] for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def verdict_for(session: Session, campaign: Campaign, profile):
    """The verdict of ``scoring`` on the stored workbook and the export CSV (same path as the CLI)."""
    from scoring.responses import read_responses
    from scoring.verdict import evaluate

    workbook = campaign_workbook(campaign, profile)
    if workbook is None:
        return None
    codes = set(workbook.schools["school_code"].astype(str))
    data = export_csv(session, campaign.id)
    responses = read_responses(data, codes) if data.count(b"\n") > 1 else None
    return evaluate(workbook, responses, profile)


def location_label(code: str) -> str:
    return LOCATION_LABELS.get(code, code)

