"""Helpers of the trends tests (service and browser): a county's surveys of several years, each
holding its example's responses, changed to move the rate."""

import csv
from datetime import datetime

from inspector_helpers import COUNTY_A, EXAMPLE_OF, EXAMPLES, example_zip
from sqlmodel import Session

from service.campaigns.lifecycle import create_campaign
from service.campaigns.schools import import_schools
from service.workbooks.versions import upload, versions_of
from service.db.models import ITEM_FIELDS, Answer
from service.web.clock import CHINA

SHARES = {"urban": 0.45, "town": 0.30, "rural": 0.25}
WORSE = ("moral", "equity", "sharing", "burden")


def worse(rec: dict, k: int) -> dict:
    """Every third answer says 不满意 (D) to four items: a clearly lower rate."""
    return {**rec, **(dict.fromkeys(WORSE, "D") if k % 3 == 0 else {})}


def slightly_better(rec: dict, k: int) -> dict:
    """``worse``, with a few of those answers back to 满意: a change well inside the noise."""
    return rec if k % 3 == 0 and k % 60 == 0 else worse(rec, k)


def all_d(rec: dict, k: int) -> dict:
    return {**rec, **dict.fromkeys(ITEM_FIELDS, "D")}


def survey(app, year: int, name: str, change=lambda rec, k: rec, is_test: bool = False,
           county: str = COUNTY_A) -> int:
    """A campaign of ``county`` opened in May ``year`` with its example's schools imported and
    the example's responses (changed by ``change``) as collected answers."""
    profile, templates = app.state.profile, app.state.templates
    with Session(app.state.engine, expire_on_commit=False) as s:
        campaign = create_campaign(s, name=name, county_name=county, resident_population=380000, shares=SHARES,
                                   opens_at=datetime(year, 5, 1, 8, tzinfo=CHINA),
                                   closes_at=datetime(year, 5, 20, 18, tzinfo=CHINA), templates=templates,
                                   is_test=is_test)
        data = example_zip(EXAMPLE_OF[county])
        _, problems = import_schools(s, campaign, "county.zip", data, profile)
        assert not problems
        if not versions_of(s, county):                     # the county's indicators, once
            _, problems = upload(s, county, None, [("county.zip", data)], profile)
            assert not problems
        with open(EXAMPLES / EXAMPLE_OF[county] / "responses.csv", encoding="utf-8-sig", newline="") as f:
            for k, rec in enumerate(csv.DictReader(f)):
                rec = change({**rec, **{i: rec[i].strip().upper() or None for i in ITEM_FIELDS}}, k)
                prefix = f"{campaign.id}-"
                s.add(Answer(
                    submission_id=prefix + rec["response_id"], campaign_id=campaign.id,
                    questionnaire=rec["questionnaire"], template_version=1, group=rec["group"],
                    school_code=rec["school_code"] or None, location=rec["location"],
                    grade=int(rec["grade"]) if rec["grade"] else None, duration_s=float(rec["duration_s"] or 0),
                    duplicate_of=prefix + rec["duplicate_of"] if rec["duplicate_of"] else None,
                    **{i: rec[i] for i in ITEM_FIELDS}))
        s.commit()
        return campaign.id
