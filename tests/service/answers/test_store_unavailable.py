"""Issue 21, finding 12 (the server's side): an answer the database cannot take (down, disk
full) is answered 503 with Retry-After and a Chinese page, so that the phone form's script
keeps the answer and resends it (tests/browser/test_browser_server_errors.py); the resend
with the same submission id is stored once."""

import sqlite3

from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from svc_helpers import ALL_A, hidden, link_token

from service.answers import batch_writer
from service.db.models import Answer


def test_finding_12_an_answer_the_database_cannot_take_is_a_503_with_retry_after_and_stored_on_resend(
        app, campaign, anon, clock, monkeypatch):
    path = f"/s/{link_token(app, campaign, 'S01', 'student')}"
    page = anon.get(path)
    form = {"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"), "grade": "5", **ALL_A}
    clock.advance(60)
    stored = batch_writer.submit_async

    async def disk_full(*args, **kwargs):
        raise OperationalError("INSERT INTO response", {}, sqlite3.OperationalError("database or disk is full"))
    monkeypatch.setattr(batch_writer, "submit_async", disk_full)
    r = anon.post(path, data=form)
    assert r.status_code == 503 and r.headers["retry-after"] == "10"
    assert "服务器暂时繁忙" in r.text and "请稍后再试" in r.text

    monkeypatch.setattr(batch_writer, "submit_async", stored)     # the disk has room again
    for _ in range(2):
        assert "提交成功" in anon.post(path, data=form).text
    with Session(app.state.engine) as s:
        assert s.exec(select(func.count()).select_from(Answer)
                      .where(Answer.submission_id == form["_sid"])).one() == 1
