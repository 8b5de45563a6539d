"""The batch writer takes the answers of one event-loop iteration as one batch (one transaction),
and acknowledges each only once that batch committed."""

import asyncio
import time
import uuid
from datetime import datetime, timezone

from sqlmodel import Session, func, select

from service.answers import batch_writer
from service.db.models import Answer

from svc_helpers import ALL_A

ANSWERS = 24


def _row(campaign: int) -> dict:
    row = Answer(submission_id=str(uuid.uuid4()), campaign_id=campaign, questionnaire="public", template_version=1,
                 group="public", location="urban", duration_s=60, **ALL_A)
    return {c.name: getattr(row, c.name) for c in Answer.__table__.columns if c.name != "id"}


def test_the_answers_of_one_loop_iteration_are_stored_in_one_batch(app, campaign):
    engine = app.state.engine
    writer = batch_writer.writer_for(engine)
    batches, rows = writer.batches, writer.rows
    at = datetime.now(timezone.utc)

    async def request() -> tuple[str, bool]:
        time.sleep(0.002)     # lets go of the GIL, as a request's socket write does: the writer thread runs
        return await batch_writer.submit_async(engine, _row(campaign), None, at, None)

    async def together() -> list:
        return await asyncio.gather(*(request() for _ in range(ANSWERS)))
    results = asyncio.run(together())
    assert all(created for _, created in results)
    assert (writer.batches - batches, writer.rows - rows) == (1, ANSWERS)
    with Session(engine) as s:
        stored = s.exec(select(func.count()).select_from(Answer).where(
            Answer.submission_id.in_([sid for sid, _ in results]))).one()
    assert stored == ANSWERS
