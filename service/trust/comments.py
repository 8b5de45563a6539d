"""意见建议: a campaign's free-text comments (masked when stored), filtered by school and group,
and exported as xlsx or CSV.

A comment names its school and group only when that school × group cell holds at least the
profile's minimum cell size of answers: below it, the comment is listed without them and no
filter finds it (filtering by a small cell would tell who wrote it).
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Response, Template
from sqlmodel import Session

from scoring.names import GROUPS as GROUP_LABELS
from scoring.privacy import min_cell_size
from scoring.profile import Profile
from service.accounts import audit
from service.accounts import roles as R
from service.answers.queries import cell_counts
from service.answers.queries import comments as answer_comments
from service.campaigns.schools import schools_of
from service.db.models import Campaign
from service.web.cells import neutralise

HIDDEN = "（人数较少，不显示）"
HEADERS = ("序号", "学校", "调查对象", "意见建议")


@dataclass(frozen=True)
class Comment:
    number: int
    school_code: str | None   # None: county-wide, or hidden
    school: str               # the school's name, 全县, or HIDDEN
    group: str                # the group's label, or HIDDEN
    shown: bool               # school and group shown (the cell is large enough)
    text: str


def comments_of(session: Session, campaign: Campaign, k: int) -> list[Comment]:
    """Every non-empty comment in submission order; school and group only for cells of >= k answers."""
    cells = Counter(cell_counts(session, campaign.id))
    names = {s.school_code: s.school_name for s in schools_of(session, campaign.id)}
    comments = []
    for school, group, text in answer_comments(session, campaign.id):
        if not text.strip():
            continue
        shown = cells[(school, group)] >= k
        comments.append(Comment(
            number=len(comments) + 1, school_code=school if shown else None,
            school=(names.get(school, school) if school else "全县") if shown else HIDDEN,
            group=GROUP_LABELS.get(group, group) if shown else HIDDEN, shown=shown, text=text))
    return comments


def filtered(comments: list[Comment], school: str | None, group: str | None) -> list[Comment]:
    """Comments of a school and/or group: only those whose cell is shown."""
    if not school and not group:
        return comments
    label = GROUP_LABELS.get(group or "")
    return [c for c in comments if c.shown and (not school or c.school_code == school)
            and (not group or c.group == label)]


def _table(comments: list[Comment]) -> list[list[str | int]]:
    return [[c.number, neutralise(c.school), neutralise(c.group), neutralise(c.text)] for c in comments]


def comments_csv(comments: list[Comment]) -> bytes:
    """UTF-8 with a BOM: Excel opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(_table(comments))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def comments_xlsx(comments: list[Comment], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "意见建议"
    sheet.append([neutralise(title)])
    sheet.append(list(HEADERS))
    for row in _table(comments):
        sheet.append(row)
    sheet["A1"].font = Font(bold=True, size=13)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=3, min_col=4, max_col=4):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCD", (6, 24, 12, 80)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _context(db: Session, profile: Profile, campaign: Campaign, school: str | None, group: str | None):
    k = min_cell_size(profile)
    every = comments_of(db, campaign, k)
    return every, filtered(every, school, group), k


@get("/campaigns/{cid:int}/comments", sync_to_thread=True, guards=[R.campaign_reader])
def comments_page(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                  profile: NamedDependency[Profile], school: FromQuery[str | None] = None,
                  group: FromQuery[str | None] = None) -> Template:
    every, shown, k = _context(db, profile, campaign, school, group)
    schools = sorted({(c.school_code, c.school) for c in every if c.shown and c.school_code})
    groups = [(g, GROUP_LABELS[g]) for g in GROUP_LABELS if any(c.shown and c.group == GROUP_LABELS[g] for c in every)]
    query = urlencode({name: value for name, value in (("school", school), ("group", group)) if value})
    return Template(template_name="trust/comments.html", context={
        "campaign": campaign, "comments": shown, "total": len(every), "k": k, "schools": schools,
        "groups": groups, "school": school or "", "group": group or "", "query": query,
        "user": request.session.get("username")})


def _export(p: R.Principal, db: Session, profile: Profile, campaign: Campaign, fmt: str, school: str | None,
            group: str | None) -> Response:
    _, shown, _ = _context(db, profile, campaign, school, group)
    name = f"意见建议-{campaign.id}.{fmt}"
    if fmt == "csv":
        data, media = comments_csv(shown), "text/csv; charset=utf-8"
    else:
        data = comments_xlsx(shown, f"{campaign.name} · 意见建议")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return audit.download(db, p, f"campaign/{campaign.id}/comments", data, media, name,
                          {"comments": len(shown)})


@get("/campaigns/{cid:int}/comments.csv", sync_to_thread=True, guards=[R.campaign_reader])
def comments_export_csv(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                        principal: NamedDependency[R.Principal], profile: NamedDependency[Profile],
                        school: FromQuery[str | None] = None, group: FromQuery[str | None] = None) -> Response:
    return _export(principal, db, profile, campaign, "csv", school, group)


@get("/campaigns/{cid:int}/comments.xlsx", sync_to_thread=True, guards=[R.campaign_reader])
def comments_export_xlsx(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                         principal: NamedDependency[R.Principal], profile: NamedDependency[Profile],
                         school: FromQuery[str | None] = None, group: FromQuery[str | None] = None) -> Response:
    return _export(principal, db, profile, campaign, "xlsx", school, group)


COMMENT_ROUTES = [comments_page, comments_export_csv, comments_export_xlsx]
