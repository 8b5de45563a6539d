"""The survey that counts: which campaign's answers a county's verdict uses, and the bureau's
designation of it."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from service.campaigns.errors import CampaignInputError
from service.db.models import Campaign, CountySurvey, utcnow


@dataclass(frozen=True)
class Counted:
    """Which campaign a county's verdict uses, and why: ``designated`` by the bureau, the
    ``only`` real campaign, ``choose`` (several real ones, none designated) or ``none``."""
    campaign: Campaign | None
    how: str


def counted_of(designated_id: int | None, campaigns: Iterable[Campaign]) -> Counted:
    """The one rule: the campaign the bureau designated (``designated_id``, None when the county
    has designated none), else the county's only real (not test) campaign, else none (``choose``
    when there are several). ``campaigns`` are the county's (with the designated one)."""
    if designated_id is not None:
        return Counted(next((c for c in campaigns if c.id == designated_id), None), "designated")
    real = [c for c in campaigns if not c.is_test]
    if len(real) == 1:
        return Counted(real[0], "only")
    return Counted(None, "choose" if real else "none")


def campaigns_of(session: Session, county: str) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.county_name == county).order_by(Campaign.id.desc())))


def counted_campaign(session: Session, county: str) -> Counted:
    row = session.get(CountySurvey, county)
    if row is not None:
        campaign = session.get(Campaign, row.campaign_id)
        return counted_of(row.campaign_id, [campaign] if campaign else [])
    return counted_of(None, campaigns_of(session, county))


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
