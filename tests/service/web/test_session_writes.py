"""Issue 21, finding 13: staff pages need no database write on every request. The session
row is touched at most once a minute (and when its data changed); a read-only page renders
while the database cannot be written; a session that cannot be stored ends in the Chinese
error page, never the server's bare English one."""

import sqlite3
import time
from contextlib import contextmanager


from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from litestar.testing import TestClient

from svc_helpers import csrf_token, login

from service.web.stores import SQLStore


def session_writes(app) -> list[str]:
    """Every INSERT/UPDATE/DELETE the app sends to the session rows (counted from now on)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, params, _context, _many):
        if "kv_store" in statement and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            if "sessions" in str(params):
                seen.append(statement)
    event.listen(app.state.engine, "before_cursor_execute", count)
    return seen


def test_finding_13_staff_page_views_within_a_minute_write_the_session_once(app, client, clock):
    login(client)
    writes = session_writes(app)
    for _ in range(20):                           # 20 views within the minute after login: no write
        clock.advance(2.9)
        assert client.get("/bureau").status_code == 200
    assert writes == []
    clock.advance(4)                              # the minute is over: the next view renews the session
    for _ in range(20):                           # and 20 more views within a minute write nothing more
        assert client.get("/bureau").status_code == 200
        clock.advance(2.9)
    assert len(writes) == 1
    clock.advance(2)                              # another minute: renewed once more, still signed in
    assert client.get("/bureau").url.path == "/bureau"
    assert len(writes) == 2


@contextmanager
def write_locked(app):
    """Another connection holds the database's write lock (SQLite) or an EXCLUSIVE lock on
    every table (PostgreSQL: reads go on, writes wait)."""
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        locker = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        return
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars().all()
        conn.execute(text("LOCK TABLE " + ", ".join(f'"{t}"' for t in tables) + " IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()


def test_finding_13_a_read_only_staff_page_renders_while_the_database_is_locked_for_writing(app, client, clock):
    login(client)
    clock.advance(61)                             # a renewal is due on this very view
    with write_locked(app):
        started = time.monotonic()
        r = client.get("/bureau")
        elapsed = time.monotonic() - started
    assert r.status_code == 200 and r.url.path == "/bureau", r.text[:500]
    assert "调查" in r.text
    assert elapsed < 5, f"the page waited {elapsed:.1f} s for the lock"
    assert client.get("/bureau").url.path == "/bureau"     # still signed in afterwards


def test_finding_13_a_session_that_cannot_be_stored_ends_in_the_chinese_error_page(app, monkeypatch):
    """A logout changes the session; when the store fails (disk full) while the response is
    being sent, the browser gets the Chinese error page, as uvicorn would pass it on."""
    def disk_full(self, *args, **kwargs):
        raise OperationalError("DELETE FROM kv_store", {}, sqlite3.OperationalError("database or disk is full"))
    with TestClient(app, base_url="http://testserver.local", raise_server_exceptions=False) as client:
        login(client)
        token = csrf_token(client.get("/bureau").text)
        monkeypatch.setattr(SQLStore, "_delete", disk_full)
        r = client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 500
    assert "服务器暂时出错" in r.text and "Internal Server Error" not in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_finding_13_a_read_only_staff_page_renders_when_the_disk_is_full(app, client, clock, monkeypatch):
    login(client)
    clock.advance(61)                             # a renewal is due, and cannot be written

    def disk_full(self, *args, **kwargs):
        raise OperationalError("UPDATE kv_store", {}, sqlite3.OperationalError("database or disk is full"))
    monkeypatch.setattr(SQLStore, "_set", disk_full)
    monkeypatch.setattr(SQLStore, "replace", disk_full, raising=False)
    r = client.get("/bureau")
    assert r.status_code == 200 and r.url.path == "/bureau"
    monkeypatch.undo()
    assert client.get("/bureau").url.path == "/bureau"     # renewed now, still signed in
