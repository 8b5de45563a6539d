"""The one verdict pipeline: a county's verdict from (workbook version, the campaign that
counts, profile). Every consumer calls ``county_verdict``: the verdict page, the JSON, xlsx
and print exports, the ledger, the province overview and the comparison of versions.

The workbook is read by ``scoring.workbook``, the answers are the campaign's export read by
``scoring.responses`` (``campaigns.exports.answers_frame``), the verdict is
``scoring.verdict.evaluate`` and the ledger ``scoring.ledger.ledger``: nothing here
re-implements a rule.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from scoring.errors import Problem
from service.campaigns.exports import answers_frame
from service.campaigns.rules import Counted, counted_campaign
from service.db.models import Campaign, Response, WorkbookVersion
from service.workbooks.versions import parse_version, version_of

CACHE_SIZE = 64


@dataclass
class CountyVerdict:
    county: str
    version: WorkbookVersion
    counted: Counted                     # the campaign whose answers count, and why
    workbook: Any
    responses: Any                       # DataFrame or None
    verdict: Any                         # scoring.verdict.Verdict
    ledger: list                         # scoring.ledger.LedgerRow
    response_problems: list[Problem]

    @property
    def campaign(self) -> Campaign | None:
        return self.counted.campaign

    @property
    def ledger_dicts(self) -> list[dict]:
        return [row.to_dict() for row in self.ledger]


def evaluate_county(session: Session, version: WorkbookVersion, campaign: Campaign | None, profile):
    """(workbook, responses, verdict, ledger rows, response problems) of one state."""
    from scoring.ledger import ledger
    from scoring.verdict import evaluate

    workbook = parse_version(version, profile)
    responses, problems = answers_frame(session, campaign.id if campaign else None,
                                        set(workbook.schools["school_code"].astype(str)))
    verdict = evaluate(workbook, responses, profile)
    return workbook, responses, verdict, ledger(verdict, workbook, profile, responses), problems


def county_verdict(session: Session, county: str, number: int | None, profile) -> CountyVerdict | None:
    """The verdict of version ``number`` (the latest when None) with the answers of the campaign
    that counts; None when the county has no workbook."""
    version = version_of(session, county, number)
    if version is None:
        return None
    counted = counted_campaign(session, county)
    campaign = counted.campaign
    # The same version, the same answers (they are only ever added) and profile: the same verdict.
    answers = session.exec(select(func.count(), func.max(Response.id))
                           .where(Response.campaign_id == (campaign.id if campaign else -1))).one()
    key = (version.sha256, campaign.id if campaign else None, *answers, profile.digest)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is None:
        hit = evaluate_county(session, version, campaign, profile)
        with _CACHE_LOCK:
            _CACHE[key] = hit
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    workbook, responses, verdict, rows, problems = hit
    return CountyVerdict(county, version, counted, workbook, responses, verdict, rows, problems)


_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
