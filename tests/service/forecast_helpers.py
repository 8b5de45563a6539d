"""Counties for the forecast's tests (issue 24): the example answers changed, stored as a campaign."""

import csv
from datetime import UTC, datetime, timedelta

from inspector_helpers import EXAMPLES
from sqlmodel import Session

from scoring.profile import ITEMS
from service.campaigns.lifecycle import create_campaign
from service.db.models import Answer


def lowered(records: list[dict]) -> list[dict]:
    """Every 14th answer all “不满意”, and each group but the parents cut to its first 12 answers:
    a county whose chance in the official survey is well below 95 %."""
    kept, seen = [], {}
    for i, rec in enumerate(records):
        seen[rec["group"]] = seen.get(rec["group"], 0) + 1
        if rec["group"] != "parent" and seen[rec["group"]] > 12:
            continue
        kept.append({**rec, **({item: "D" for item in ITEMS} if i % 14 == 0 else {})})
    return kept


def without_cppcc(records: list[dict]) -> list[dict]:
    return [r for r in records if r["group"] != "cppcc_member"]


def example_records(example: str) -> list[dict]:
    with open(EXAMPLES / example / "responses.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def campaign_of(app, county: str, records: list[dict]) -> None:
    """A campaign of ``county`` holding ``records`` (rows of the responses file) as collected answers."""
    templates = app.state.templates
    now = datetime.now(UTC)
    with Session(app.state.engine, expire_on_commit=False) as s:
        campaign = create_campaign(s, name=f"{county}满意度调查", county_name=county, resident_population=380000,
                                   shares={"urban": 0.45, "town": 0.30, "rural": 0.25},
                                   opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                                   templates=templates)
        for rec in records:
            items = {i: (rec[i].strip().upper() or None) for i in ITEMS}
            s.add(Answer(
                submission_id=f"{county}-{rec['response_id']}", campaign_id=campaign.id,
                questionnaire=rec["questionnaire"], template_version=int(templates[rec["questionnaire"]]["version"]),
                group=rec["group"], school_code=rec["school_code"] or None, location=rec["location"],
                grade=int(rec["grade"]) if rec["grade"] else None, duration_s=float(rec["duration_s"] or 0),
                duplicate_of=f"{county}-{rec['duplicate_of']}" if rec["duplicate_of"] else None, **items))
        s.commit()
