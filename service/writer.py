"""The one write path of answers. Acknowledge only after commit.

``submit`` stores a response once per submission id (UNIQUE constraint: a
retry, a back-and-resubmit or a double tap returns the stored row), decides
``duplicate_of`` from the device hash, and burns the one-time code in the same
transaction. The work is done by the batched group-commit writer (group_writer.py); the
contract is "returns only once the row is durable".
"""

from datetime import datetime

from sqlmodel import Session, select

from .models import Response


class CodeAlreadyUsed(Exception):
    pass


def find(session: Session, submission_id: str) -> Response | None:
    return session.exec(select(Response).where(Response.submission_id == submission_id)).first()


def submit(session: Session, row: Response, code_id: int | None, at: datetime) -> tuple[Response, bool]:
    """Store ``row`` durably; returns (stored row, created?). Raises CodeAlreadyUsed.

    Delegates to the group-commit writer (``group_writer.py``): one transaction per batch,
    ``duplicate_of`` decided under the write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an
    advisory lock per campaign + device), so it cannot race across threads or instances."""
    from . import group_writer   # it imports CodeAlreadyUsed from here
    sid, created = group_writer.submit(session.get_bind(), row, code_id, at)
    return find(session, sid), created
