"""The one write path of answers. Acknowledge only after commit.

``submit`` stores a response once per submission id (UNIQUE constraint: a
retry, a back-and-resubmit or a double tap returns the stored row), decides
``duplicate_of`` from the device hash, and burns the one-time code in the same
transaction. A batched group-commit writer can replace this module later: the
contract is "returns only once the row is durable".
"""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .models import OneTimeCode, Response


class CodeAlreadyUsed(Exception):
    pass


def find(session: Session, submission_id: str) -> Response | None:
    return session.exec(select(Response).where(Response.submission_id == submission_id)).first()


def submit(session: Session, row: Response, code_id: int | None, at: datetime) -> tuple[Response, bool]:
    """Store ``row`` durably; returns (stored row, created?). Raises CodeAlreadyUsed."""
    existing = find(session, row.submission_id)
    if existing is not None:
        return existing, False
    if row.device_hash:
        first = session.exec(select(Response.submission_id)
                             .where(Response.campaign_id == row.campaign_id,
                                    Response.device_hash == row.device_hash)
                             .order_by(Response.id).limit(1)).first()
        row.duplicate_of = first
    try:
        if code_id is not None:
            burnt = session.exec(update(OneTimeCode)
                                 .where(OneTimeCode.id == code_id, OneTimeCode.used_by.is_(None))
                                 .values(used_by=row.submission_id, used_at=at))
            if burnt.rowcount != 1:
                session.rollback()
                existing = find(session, row.submission_id)
                if existing is not None:
                    return existing, False
                raise CodeAlreadyUsed()
        session.add(row)
        session.commit()
    except IntegrityError:
        # The same submission id committed concurrently (double tap): that one stands.
        session.rollback()
        existing = find(session, row.submission_id)
        if existing is None:
            raise
        return existing, False
    return row, True
