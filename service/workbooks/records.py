"""A county's upload of a workbook: stored as a version and pinned to the campaign that counts
in its verdict, so the bureau never uploads the same file twice and every page shows one truth."""

from sqlmodel import Session

from scoring.errors import Problem
from service.campaigns.rules import counted_campaign, pin_problems, pin_version
from service.db.models import WorkbookVersion
from service.workbooks.versions import read_upload, store_version


def upload_version(session: Session, county: str, account_id: int | None, filename: str, data: bytes,
                   profile, data_year: int | None = None) -> tuple[WorkbookVersion | None, list[Problem]]:
    """Every problem and nothing stored, or the version (pinned to the counted campaign, whose
    answered schools must all still be in it)."""
    workbook, problems = read_upload(county, filename, data, profile)
    if problems:
        return None, problems
    campaign = counted_campaign(session, county).campaign
    if campaign is not None:
        problems = pin_problems(session, campaign, workbook, filename)
        if problems:
            return None, problems
    version, problems = store_version(session, county, account_id, filename, data, workbook, data_year)
    if version is not None and campaign is not None:
        pin_version(session, campaign, version, workbook)
    return version, problems
