"""A campaign's life: created (with its campaign-wide links), open between its dates, extended
or reopened, and — a test campaign only — deleted with its answers.

The service never re-implements a scoring rule: the school list is read by ``scoring.workbook``
and the plan comes from ``scoring.sampling``. A campaign never creates a county workbook version.
"""

import secrets
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session

from service.answers.queries import delete_answers
from service.campaigns.counted import counted_campaign, designate, is_designated
from service.campaigns.errors import CampaignInputError
from service.campaigns.links import LOCATED_GROUPS, new_link
from service.db.models import Campaign, Link, OneTimeCode, School


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
    new_link(session, campaign.id, None, None)
    for group in LOCATED_GROUPS:
        new_link(session, campaign.id, None, group)
    session.commit()
    return campaign


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
    answers = delete_answers(session, campaign.id)
    for table in (OneTimeCode, Link, School):
        session.exec(delete(table).where(table.campaign_id == campaign.id))
    session.exec(delete(Campaign).where(Campaign.id == campaign.id))
    session.commit()
    return answers
