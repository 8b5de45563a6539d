"""Campaign rules: creation, the school list a campaign's schools come from, links, one-time codes,
progress against the plan, the survey that counts in the county's verdict, test campaigns,
extending and reopening.

The service never re-implements a scoring rule: the school list is read by ``scoring.workbook``
and the plan comes from ``scoring.sampling``. A campaign never creates a county workbook version.
"""

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func
from sqlmodel import Session, select

from scoring.errors import InputError, Problem
from scoring.names import GROUPS as GROUP_LABELS
from service.db.models import Campaign, CountySurvey, Link, OneTimeCode, Answer, School, utcnow
from service.web.security import CODE_ALPHABET, random_token
from survey_templates import GROUPS, ITEMS, SCHOOL_GROUPS

LOCATED_GROUPS = tuple(g for g in GROUPS if g not in SCHOOL_GROUPS)
MAX_CODES_PER_BATCH = 1000


class CampaignInputError(Exception):
    """Bad form input for a campaign; ``errors`` maps field -> Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


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
                    templates: dict[str, dict], account_id: int | None = None, is_test: bool = False) -> Campaign:
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
    counted = counted_campaign(session, county_name.strip())
    if counted.how == "only" and not is_test:
        # Creating another campaign never changes a verdict: the one that counted so far is
        # designated, so the second real campaign counts only when the bureau says so.
        designate(session, counted.campaign, account_id)
    campaign = Campaign(name=name.strip(), county_name=county_name.strip(),
                        resident_population=resident_population,
                        share_urban=shares["urban"], share_town=shares["town"], share_rural=shares["rural"],
                        opens_at=opens_at, closes_at=closes_at, templates=templates,
                        salt=secrets.token_hex(16), created_by=account_id, is_test=is_test)
    session.add(campaign)
    session.flush()
    _new_link(session, campaign.id, None, None)
    for group in LOCATED_GROUPS:
        _new_link(session, campaign.id, None, group)
    session.commit()
    return campaign


# ---- the school list the campaign's schools come from ----------------------------------------

def answered_schools(session: Session, campaign_id: int) -> set[str]:
    return set(session.exec(select(Answer.school_code).where(Answer.campaign_id == campaign_id,
                                                               Answer.school_code.is_not(None)).distinct()))


def answered_school_names(session: Session, campaign: Campaign | None) -> dict[str, str]:
    """The campaign's schools with answers, code -> name: what a county version must keep."""
    if campaign is None:
        return {}
    names = {s.school_code: s.school_name for s in schools_of(session, campaign.id)}
    return {code: names.get(code, code) for code in sorted(answered_schools(session, campaign.id))}


def import_schools(session: Session, campaign: Campaign, filename: str, data: bytes,
                   profile) -> tuple[Any | None, list[Problem]]:
    """The campaign's schools from a school list (or a full workbook's schools sheet): never a
    county version (workbook.md "A school list alone"). Every problem and nothing changed, or
    the ``scoring.workbook.SchoolList``; a school's links (printed QR codes) are kept while its
    code is in the list, and a school with answers must stay. Commits."""
    from scoring.workbook import read_school_list

    try:
        school_list = read_school_list(filename, data, profile=profile)
    except InputError as exc:
        return None, list(exc.problems)
    rows = school_list.schools.to_dict("records")
    codes = [str(r["school_code"]) for r in rows]
    old = {s.school_code: s for s in schools_of(session, campaign.id)}
    missing = sorted(answered_schools(session, campaign.id) - set(codes))
    if missing:
        return None, [Problem(filename, None, "school_code", code,
                              f"学校“{old[code].school_name if code in old else code}”（代码 {code}）"
                              "在本调查中已有答卷，新的学校名录中须保留该学校代码", column_label="学校代码")
                      for code in missing]
    gone = [code for code in old if code not in set(codes)]
    if gone:
        # Their slips' codes go with them (a used code means an answer: refused above).
        gone_links = select(Link.id).where(Link.campaign_id == campaign.id, Link.school_code.in_(gone))
        session.exec(delete(OneTimeCode).where(OneTimeCode.link_id.in_(gone_links)))
        session.exec(delete(Link).where(Link.campaign_id == campaign.id, Link.school_code.in_(gone)))
        session.exec(delete(School).where(School.campaign_id == campaign.id, School.school_code.in_(gone)))
    for pos, row in enumerate(rows):
        code = str(row["school_code"])
        school = old.get(code) or School(campaign_id=campaign.id, school_code=code)
        school.school_name, school.school_type = str(row["school_name"]), str(row["school_type"])
        school.location, school.position = str(row["location"]), pos
        school.students_primary = float(row["students_primary"])
        school.students_junior = float(row["students_junior"])
        session.add(school)
        if code not in old:
            _new_link(session, campaign.id, code, None)
            for group in SCHOOL_GROUPS:
                _new_link(session, campaign.id, code, group)
    campaign.school_list_file = filename[:255]
    campaign.school_list_sha256 = hashlib.sha256(data).hexdigest()
    campaign.workbook_imported_at = utcnow()
    session.add(campaign)
    session.commit()
    return school_list, []


def schools_frame(schools: list[School]) -> pd.DataFrame:
    """The campaign's schools as ``scoring`` reads a school list."""
    return pd.DataFrame([{"school_code": s.school_code, "school_name": s.school_name, "school_type": s.school_type,
                          "location": s.location, "students_primary": s.students_primary,
                          "students_junior": s.students_junior, "students_senior": 0.0} for s in schools],
                        columns=["school_code", "school_name", "school_type", "location", "students_primary",
                                 "students_junior", "students_senior"])


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
    """A batch of ``count`` single-use codes on ``link``; returns the batch number. From now
    on the link takes only answers with one of its codes (``Link.requires_code``): a printed
    slip is one person, and the link's open QR code would bypass it."""
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
    link.requires_code = True
    session.add(link)
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
    complete = and_(*[getattr(Answer, i).is_not(None) for i in ITEMS])
    first = Answer.duplicate_of.is_(None)
    slow = Answer.duration_s >= min_s
    rows = session.exec(
        select(Answer.group, Answer.school_code, Answer.location, complete, first, slow, func.count())
        .where(Answer.campaign_id == campaign.id)
        .group_by(Answer.group, Answer.school_code, Answer.location, complete, first, slow))
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


@dataclass(frozen=True)
class Lag:
    """A school behind its plan: per group (valid, target, missing), and the total missing."""
    school: School
    groups: dict[str, tuple[int, int, int]]
    missing: int


def lagging_schools(schools: list[School], plan, prog: Progress) -> list[Lag]:
    """Schools missing valid answers against the plan, the most missing first (then in
    workbook order): who to chase. Counts are exact; the minimum cell size guards rates and
    breakdowns of answers, not how many answers came in."""
    lags = []
    for school in schools:
        targets = plan.by_school.get(school.school_code, {})
        got = prog.by_school.get(school.school_code) or Counter()
        groups = {g: (got[g], targets.get(g, 0), max(0, targets.get(g, 0) - got[g])) for g in SCHOOL_GROUPS}
        missing = sum(m for _, _, m in groups.values())
        if missing:
            lags.append(Lag(school, groups, missing))
    return sorted(lags, key=lambda lag: -lag.missing)


def overall(plan, prog: Progress) -> tuple[int, int, int]:
    """(valid answers counted towards the plan, its total, percent done): every school's and
    location's target on its own (``SamplingPlan.progress``), so 100 % only when all are met."""
    return plan.progress(prog.by_school, prog.by_location)


def plan_for(session: Session, campaign: Campaign, profile):
    """``scoring.sampling.sampling_plan`` for the campaign's schools (its school list) and its own
    population figures, or None before schools are imported."""
    schools = schools_of(session, campaign.id)
    if not schools:
        return None
    from scoring.sampling import sampling_plan
    shares = {"urban": campaign.share_urban, "town": campaign.share_town, "rural": campaign.share_rural}
    return sampling_plan(schools_frame(schools), float(campaign.resident_population), shares, profile)


# ---- the survey that counts, dates, test campaigns ------------------------------------------

@dataclass(frozen=True)
class Counted:
    """Which campaign a county's verdict uses, and why: ``designated`` by the bureau, the
    ``only`` real campaign, ``choose`` (several real ones, none designated) or ``none``."""
    campaign: Campaign | None
    how: str


def campaigns_of(session: Session, county: str) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.county_name == county).order_by(Campaign.id.desc())))


def counted_campaign(session: Session, county: str) -> Counted:
    row = session.get(CountySurvey, county)
    if row is not None:
        return Counted(session.get(Campaign, row.campaign_id), "designated")
    real = [c for c in campaigns_of(session, county) if not c.is_test]
    if len(real) == 1:
        return Counted(real[0], "only")
    return Counted(None, "choose" if real else "none")


def is_designated(session: Session, campaign: Campaign) -> bool:
    row = session.get(CountySurvey, campaign.county_name)
    return row is not None and row.campaign_id == campaign.id


def designate(session: Session, campaign: Campaign, account_id: int | None) -> None:
    """Make ``campaign`` the county's survey that counts (a test campaign never is). Commits."""
    if campaign.is_test:
        raise CampaignInputError({"designate": "试填调查的答卷不计入评估，不能指定为计入评估的调查"})
    row = session.get(CountySurvey, campaign.county_name) or CountySurvey(county_name=campaign.county_name,
                                                                          campaign_id=campaign.id)
    row.campaign_id, row.designated_by, row.designated_at = campaign.id, account_id, utcnow()
    session.add(row)
    session.commit()


def set_closes_at(session: Session, campaign: Campaign, closes_at: datetime, at: datetime) -> None:
    """Extend a campaign's end, or reopen a closed one, while it is not the county's designated
    survey (designating is what fixes the answers a verdict relies on; the only campaign of a
    county that has designated none is still collecting and may be extended). Commits."""
    if is_designated(session, campaign):
        raise CampaignInputError({"closes_at": "本调查已指定为计入评估的调查，不能再延长或重新开启"})
    if closes_at <= max(at, campaign.opens_at):
        raise CampaignInputError({"closes_at": "新的结束时间须晚于现在和开始时间"})
    campaign.closes_at = closes_at
    session.add(campaign)
    session.commit()


def delete_test_campaign(session: Session, campaign: Campaign) -> int:
    """Delete a test campaign with its answers, codes, links and schools; returns the answers
    deleted. Real campaigns are never deleted (their answers are evidence). Commits."""
    if not campaign.is_test:
        raise CampaignInputError({"delete": "只有试填调查可以删除"})
    answers = session.exec(select(func.count()).select_from(Answer)
                           .where(Answer.campaign_id == campaign.id)).one()
    for table in (Answer, OneTimeCode, Link, School):
        session.exec(delete(table).where(table.campaign_id == campaign.id))
    session.exec(delete(Campaign).where(Campaign.id == campaign.id))
    session.commit()
    return answers
