"""Demo data: the bundled example county (tests/examples/example-pass) with its 787 answers as
an open campaign (the county's workbook its version 1, the campaign's schools from it), and the demo accounts. Idempotent."""

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.accounts.roles import BUREAU_ADMIN, INSPECTOR, PROVINCE_ADMIN, ensure_account
from service.campaigns.lifecycle import create_campaign
from service.campaigns.schools import import_schools
from service.db.models import ITEM_FIELDS, Account, Campaign, Link, Answer
from service.workbooks.versions import upload

HERE = Path(__file__).parent
DEMO_COUNTY = "示例县"
DEMO_NAME = "示例县 2026 年义务教育满意度调查（演示）"
DEMO_USER, DEMO_PASSWORD = "demo", "demo-renke"
# demo: the bureau admin of 示例县; a province admin; an inspector of 示例县.
DEMO_ACCOUNTS = {DEMO_USER: (BUREAU_ADMIN, DEMO_PASSWORD), "province": (PROVINCE_ADMIN, "province-renke"),
                 "inspector": (INSPECTOR, "inspector-renke")}


def demo_workbook_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("schools.csv", "county.csv", "veto.csv"):
            z.write(HERE / name, name)
    return buf.getvalue()


def seed(engine: Engine, templates: dict, profile) -> dict:
    """The demo accounts with their roles (in every worker mode), the campaign and its answers."""
    with Session(engine, expire_on_commit=False) as s:
        for username, (role, password) in DEMO_ACCOUNTS.items():
            ensure_account(s, username, password, role, [] if role == PROVINCE_ADMIN else [DEMO_COUNTY])
        demo = s.exec(select(Account).where(Account.username == DEMO_USER)).one()
        campaign = s.exec(select(Campaign).where(Campaign.name == DEMO_NAME)).first()
        if campaign is None:
            now = datetime.now(timezone.utc)
            campaign = create_campaign(
                s, name=DEMO_NAME, county_name=DEMO_COUNTY, resident_population=380000,
                shares={"urban": 0.45, "town": 0.30, "rural": 0.25}, opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=60), templates=templates, account_id=demo.id)
            # The county's workbook (version 1) and the campaign's schools from its 学校 sheet.
            _, problems = upload(s, DEMO_COUNTY, demo.id, [("example-pass.zip", demo_workbook_zip())], profile)
            if not problems:
                _, problems = import_schools(s, campaign, "example-pass.zip", demo_workbook_zip(), profile)
            if problems:
                raise RuntimeError("demo workbook rejected: " + "; ".join(map(str, problems)))
            seed_responses(s, campaign, templates)
        link = s.exec(select(Link).where(Link.campaign_id == campaign.id, Link.school_code.is_(None),
                                         Link.group.is_(None))).first()
        return {"campaign_id": campaign.id, "username": DEMO_USER, "password": DEMO_PASSWORD,
                "link_token": link.token, "county": DEMO_COUNTY,
                "logins": {u: p for u, (_, p) in DEMO_ACCOUNTS.items()}}


def seed_responses(session: Session, campaign: Campaign, templates: dict) -> int:
    """The example's answers as if collected (response ids and duplicate links kept)."""
    when = campaign.opens_at
    count = 0
    with open(HERE / "responses.csv", encoding="utf-8-sig", newline="") as f:
        for rec in csv.DictReader(f):
            items = {i: (rec[i].strip().upper() or None) for i in ITEM_FIELDS}
            session.add(Answer(
                submission_id=rec["response_id"], campaign_id=campaign.id, questionnaire=rec["questionnaire"],
                template_version=int(templates[rec["questionnaire"]]["version"]), group=rec["group"],
                school_code=rec["school_code"] or None, location=rec["location"],
                grade=int(rec["grade"]) if rec["grade"] else None, duration_s=float(rec["duration_s"] or 0),
                duplicate_of=rec["duplicate_of"] or None, created_at=when, **items))
            count += 1
    session.commit()
    return count
