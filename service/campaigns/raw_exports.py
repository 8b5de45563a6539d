"""Exports of a campaign's raw answers: who may take them, and the count + checksum they carry.

The raw responses file (CSV, and the xlsx with comments and times) is the input of
``python -m scoring evaluate``: it keeps one row per answer, so the minimum cell size rule
cannot apply to it. It is therefore restricted to those who run the county's campaigns —
the county's bureau admin and province admins (operators) — and refused to inspectors,
who read the verdict and the integrity signals instead. Every download is audited with the
file's sha256; the response carries ``X-Renke-Count`` (answers in the file),
``X-Renke-SHA256`` and ``X-Renke-Frozen`` (``closed`` once the campaign has ended: its
answers can no longer change, so the CSV and its checksum are the same at every download;
``/trust/campaigns/{cid}/checksum`` states them in ``sha256sum`` form).
"""

import csv
import io
from datetime import datetime

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from sqlmodel import Session

from service.accounts import audit
from service.accounts import roles as R
from service.db.models import Campaign
from service.web.dependencies import path_campaign


def raw_export(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the raw responses exports: the county's bureau admin or a province admin."""
    p = R.principal_of(connection)
    campaign = path_campaign(connection)
    if campaign is not None and not p.can_run_campaigns(campaign.county_name):
        raise PermissionDeniedException("the raw answers are for the county's bureau")


def csv_count(data: bytes) -> int:
    return max(len(list(csv.reader(io.StringIO(data.decode("utf-8"))))) - 1, 0)


def is_closed(campaign: Campaign, now: datetime) -> bool:
    return campaign.state_at(now) == "closed"


def export_headers(p: R.Principal, db: Session, campaign: Campaign, now: datetime, data: bytes | None,
                   filename: str, count: int, digest: str | None = None) -> dict[str, str]:
    """Audit the export and return its integrity headers (``digest``: the SHA-256 of a file streamed
    from disk, given instead of ``data``; ``now``: closed campaigns' files no longer change)."""
    digest = digest or audit.sha256(data)
    closed = is_closed(campaign, now)
    audit.record(db, p, "export", f"campaign/{campaign.id}/{filename}",
                 {"file": filename, "count": count, "frozen": closed, "county": campaign.county_name}, digest)
    return {"X-Renke-Count": str(count), "X-Renke-SHA256": digest, "X-Renke-Frozen": "closed" if closed else "open"}
