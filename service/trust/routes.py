"""Trust pages: the audit log (province admins: read, filter, export) and, per campaign, the
integrity signals and the checksum of the frozen responses export."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Response, Template
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlmodel import Session, select

from scoring.profile import Profile

from service.accounts import audit
from service.accounts import roles as R
from service.answers.exports import export_csv
from service.db.models import Campaign
from service.campaigns.raw_exports import csv_count, is_closed
from service.trust.comments import COMMENT_ROUTES
from service.trust.integrity import flag_rows, signals_for
from service.web.clock import CHINA, local
from service.web.downloads import attachment
PAGE_LIMIT = 500


def _day(value: str | None) -> datetime | None:
    try:
        d = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return datetime(d.year, d.month, d.day, tzinfo=CHINA)


def _filtered(db: Session, action: str | None, user: str | None, since: str | None, until: str | None,
              limit: int | None) -> list:
    end = _day(until)
    return audit.query(db, action=action or None, user=(user or "").strip() or None, since=_day(since),
                       until=end + timedelta(days=1) if end else None, limit=limit)


@get("/audit", sync_to_thread=True, guards=[R.province_only])
def audit_page(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
               action: FromQuery[str | None] = None, user: FromQuery[str | None] = None,
               since: FromQuery[str | None] = None, until: FromQuery[str | None] = None) -> Template:
    filters = {"action": action or "", "user": user or "", "since": since or "", "until": until or ""}
    audit.record(db, principal, "audit_view", "audit", {k: v for k, v in filters.items() if v})
    entries = _filtered(db, action, user, since, until, PAGE_LIMIT)
    users = audit.usernames(db)
    names = {c.id: c.name for c in db.exec(select(Campaign))}
    return Template(template_name="trust/audit.html", context={
        "entries": entries, "filters": filters, "actions": audit.ACTIONS, "users": users, "limit": PAGE_LIMIT,
        "local": audit.local_time, "detail_text": lambda detail: audit.detail_text(detail, names), "target_text": audit.target_text, "query": urlencode({k: v for k, v in filters.items() if v}),
        "broken": audit.verify_chain(db), "user": request.session.get("username")})


@get("/audit.csv", sync_to_thread=True, guards=[R.province_only])
def audit_csv(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
              action: FromQuery[str | None] = None, user: FromQuery[str | None] = None,
              since: FromQuery[str | None] = None, until: FromQuery[str | None] = None) -> Response:
    data = audit.to_csv(_filtered(db, action, user, since, until, None))
    audit.record(db, principal, "audit_export", "audit.csv",
                 {k: v for k, v in {"action": action, "user": user, "since": since, "until": until}.items() if v},
                 audit.sha256(data))
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={**attachment("审计日志.csv"), "X-Renke-SHA256": audit.sha256(data)})


@get("/campaigns/{cid:int}/integrity", sync_to_thread=True, guards=[R.campaign_reader])
def integrity_page(request: Request, db: NamedDependency[Session], campaign: NamedDependency[Campaign],
                   principal: NamedDependency[R.Principal], profile: NamedDependency[Profile]) -> Template:
    cid = campaign.id
    signals = signals_for(db, campaign, profile)
    audit.record(db, principal, "integrity_view", f"campaign/{cid}", {"flags": len(signals.flags)})
    return Template(template_name="trust/integrity.html", context={
        "campaign": campaign, "signals": signals, "rows": flag_rows(db, campaign, signals),
        "information": flag_rows(db, campaign, signals, signals.information),
        "user": request.session.get("username")})


@get("/campaigns/{cid:int}/checksum", sync_to_thread=True, guards=[R.campaign_reader])
def checksum(db: NamedDependency[Session], campaign: NamedDependency[Campaign],
             now: NamedDependency[datetime]) -> Response:
    """``sha256sum`` line of the responses CSV as it stands now (fixed once the campaign is closed)."""
    data = export_csv(db, campaign.id)
    # The first line keeps sha256sum's format, so ``sha256sum -c`` checks the downloaded file.
    state = "已结束，文件不再变化" if is_closed(campaign, now) else "进行中，新答卷会改变校验值"
    name = f"responses-{campaign.id}.csv"
    text = (f"{audit.sha256(data)}  {name}\n"
            f"# 以上是答卷数据文件 {name}（供程序读取）的 SHA-256 校验值\n"
            f"# 答卷 {csv_count(data)} 份；调查{state}；结束时间 {local(campaign.closes_at)}\n")
    return Response(text, media_type="text/plain; charset=utf-8")


TRUST_ROUTES = [audit_page, audit_csv, integrity_page, checksum, *COMMENT_ROUTES]
