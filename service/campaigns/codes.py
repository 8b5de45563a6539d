"""One-time codes: printed slips, each one person's single answer on a link."""

from sqlalchemy import func
from sqlmodel import Session, select

from service.campaigns.errors import CampaignInputError
from service.db.models import Campaign, Link, OneTimeCode
from service.web.security import CODE_ALPHABET, random_token

MAX_CODES_PER_BATCH = 1000


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
