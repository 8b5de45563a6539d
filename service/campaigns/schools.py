"""A campaign's schools: imported from a school list (never a county workbook version), listed,
and those with answers (what a county version must keep)."""

import hashlib
from typing import Any

import pandas as pd
from sqlalchemy import delete
from sqlmodel import Session, select

from scoring.errors import InputError, Problem
from service.answers.queries import answered_schools
from service.campaigns.links import new_link
from service.db.models import Campaign, Link, OneTimeCode, School, utcnow
from survey_templates import SCHOOL_GROUPS


def schools_of(session: Session, campaign_id: int) -> list[School]:
    return list(session.exec(select(School).where(School.campaign_id == campaign_id).order_by(School.position)))


def schools_frame(schools: list[School]) -> pd.DataFrame:
    """The campaign's schools as ``scoring`` reads a school list."""
    return pd.DataFrame([{"school_code": s.school_code, "school_name": s.school_name, "school_type": s.school_type,
                          "location": s.location, "students_primary": s.students_primary,
                          "students_junior": s.students_junior, "students_senior": 0.0} for s in schools],
                        columns=["school_code", "school_name", "school_type", "location", "students_primary",
                                 "students_junior", "students_senior"])


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
            new_link(session, campaign.id, code, None)
            for group in SCHOOL_GROUPS:
                new_link(session, campaign.id, code, group)
    campaign.school_list_file = filename[:255]
    campaign.school_list_sha256 = hashlib.sha256(data).hexdigest()
    campaign.workbook_imported_at = utcnow()
    session.add(campaign)
    session.commit()
    return school_list, []
