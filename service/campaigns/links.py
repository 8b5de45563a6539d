"""A campaign's links (each one printed QR code): made, listed and named."""

from sqlmodel import Session, select

from scoring.names import GROUPS as GROUP_LABELS
from service.db.models import Link, School
from service.web.security import random_token
from survey_templates import GROUPS, SCHOOL_GROUPS

LOCATED_GROUPS = tuple(g for g in GROUPS if g not in SCHOOL_GROUPS)


def new_link(session: Session, campaign_id: int, school_code: str | None, group: str | None) -> Link:
    """A link with a fresh random token (added, not committed)."""
    while True:
        token = random_token(10)
        if session.exec(select(Link).where(Link.token == token)).first() is None:
            link = Link(token=token, campaign_id=campaign_id, school_code=school_code, group=group)
            session.add(link)
            return link


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
