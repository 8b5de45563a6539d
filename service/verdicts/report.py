"""A county's verdict as the verdict pages show it (their template context) and the A4 report
as a PDF: one place, so the report page, its PDF download and the desk-review package
(``collection/package.py``) print the same report."""

from urllib.parse import quote

from litestar import Request
from litestar.exceptions import NotFoundException
from sqlmodel import Session

from scoring.profile import Profile

from service.accounts.pages import staff_context
from service.accounts.roles import Principal
from service.campaigns.schools import answered_school_names
from service.verdicts.pipeline import CountyVerdict, county_verdict
from service.verdicts.presenters import verdict_view
from service.web.pdf import html_to_pdf
from service.workbooks.versions import versions_of


def verdict_of(db: Session, profile: Profile, county: str, version: int | None) -> CountyVerdict:
    cv = county_verdict(db, county, version, profile)
    if cv is None:
        raise NotFoundException("no workbook")
    return cv


def verdict_context(p: Principal, db: Session, profile: Profile, county: str, version: int | None,
                    sort: str | None) -> dict:
    cv = verdict_of(db, profile, county, version)
    suffix = f"?version={cv.version.version}"
    # Schools with answers that this version lacks (a school list ahead of the workbook): named.
    listed = set(cv.workbook.schools["school_code"].astype(str))
    unlisted = {code: name for code, name in answered_school_names(db, cv.campaign).items() if code not in listed}
    return staff_context(p, q=quote, county=county, cv=cv, versions=versions_of(db, county), suffix=suffix,
                         unlisted=unlisted, **verdict_view(cv, profile, sort))


def report_pdf(request: Request, ctx: dict) -> bytes:
    """The A4 report as a PDF: the report page's own template and print CSS, rendered by WeasyPrint."""
    html = request.app.template_engine.get_template("inspector/report.html").render(**ctx, csrf_input="", pdf=True)
    return html_to_pdf(html)
