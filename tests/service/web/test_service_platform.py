"""Schema, start-up, demo data, CLI, concurrency and pinning."""

import asyncio
import fcntl
import threading
import uuid
from datetime import datetime, timezone

import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from service.answers import batch_writer
from service.__main__ import main as service_main
from service.demo import DEMO_PASSWORD, DEMO_USER, seed
from service.db.models import Account, Campaign, Answer

from svc_helpers import ALL_A, answer, create_campaign, csrf_token, link_token, login


def test_migrations_match_the_models(app):
    with app.state.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(app, database_url):
    if not database_url.startswith("sqlite"):
        return
    with app.state.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1          # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_demo_seed_is_idempotent_and_usable(app, anon, clock):
    first = seed(app.state.engine, app.state.templates, app.state.profile)
    second = seed(app.state.engine, app.state.templates, app.state.profile)
    assert first == second
    with Session(app.state.engine) as s:
        assert len(s.exec(select(Campaign)).all()) == 1
        assert len(s.exec(select(Account).where(Account.username == DEMO_USER)).all()) == 1
    assert DEMO_PASSWORD
    r, _, _ = answer(anon, clock, f"/s/{first['link_token']}?q=public", {**ALL_A, "group": "public",
                                                                         "location": "urban"})
    assert r.status_code == 200


def test_create_admin_cli(app, client, database_url):
    assert service_main(["create-admin", "bureau1", "--password", "s3cret-pass", "--database-url", database_url]) == 0
    page = client.get("/login")
    r = client.post("/login", data={"username": "bureau1", "password": "s3cret-pass",
                                    "_csrf_token": csrf_token(page.text)})
    assert r.url.path == "/inspector/overview"     # an account with no role row is the province's
    with Session(app.state.engine) as s:
        stored = s.exec(select(Account).where(Account.username == "bureau1")).one().password_hash
    assert stored.startswith("scrypt$") and "s3cret-pass" not in stored


def test_concurrent_double_submit_is_stored_once(app, campaign):
    """Eight threads commit the same submission id at once: one row, all acknowledged."""
    sid = str(uuid.uuid4())
    results, errors = [], []
    barrier = threading.Barrier(8)

    def tap():
        try:
            row = Answer(submission_id=sid, campaign_id=campaign, questionnaire="public", template_version=1,
                           group="public", location="urban", duration_s=60, **ALL_A)
            data = {c.name: getattr(row, c.name) for c in Answer.__table__.columns if c.name != "id"}
            barrier.wait()
            results.append(asyncio.run(batch_writer.submit_async(app.state.engine, data, None,
                                                                 datetime.now(timezone.utc), None)))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 8 and sum(created for _, created in results) == 1
    with Session(app.state.engine) as s:
        assert len(s.exec(select(Answer).where(Answer.submission_id == sid)).all()) == 1


def test_a_request_that_gives_up_waiting_leaves_the_writer_working(app, campaign, anon, clock):
    """A request that times out (database stalled by another process's writer) is answered
    5xx and never acknowledged; its answer may still be stored, once; the writer goes on."""
    if app.state.engine.dialect.name != "sqlite":
        pytest.skip("stalls the writer through the SQLite writer lock file")
    path = "/s/" + link_token(app, campaign, "S02", "teacher")
    assert answer(anon, clock, path, ALL_A)[0].status_code == 200
    engine = app.state.engine
    writer = batch_writer.writer_for(engine)
    with Session(engine) as s:
        row = s.exec(select(Answer)).one()
    data = {c.name: getattr(row, c.name) for c in Answer.__table__.columns if c.name != "id"}
    data["submission_id"] = str(uuid.uuid4())
    with open(writer.lock_path, "a+b") as stall:
        fcntl.flock(stall, fcntl.LOCK_EX)
        with pytest.raises(asyncio.TimeoutError):
            asyncio.run(batch_writer.submit_async(engine, data, None, row.created_at, None, timeout=0.3))
        fcntl.flock(stall, fcntl.LOCK_UN)
    later = answer(anon, clock, "/s/" + link_token(app, campaign, "S03", "teacher"), ALL_A)[0]
    assert later.status_code == 200 and writer.thread.is_alive()
    with Session(engine) as s:
        assert len(s.exec(select(Answer).where(Answer.submission_id == data["submission_id"])).all()) == 1


def test_open_campaign_keeps_its_pinned_questionnaire(app, client, campaign, anon):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    original = app.state.templates["student"]["items"][0]["text"]
    assert original in anon.get(path).text
    changed = {k: dict(v) for k, v in app.state.templates.items()}
    changed["student"]["items"] = [dict(i) for i in changed["student"]["items"]]
    changed["student"]["items"][0]["text"] = "改过的题目"
    changed["student"]["version"] = 2
    app.state.templates = changed
    assert original in anon.get(path).text and "改过的题目" not in anon.get(path).text
    newer = create_campaign(client, name="新调查")
    with Session(app.state.engine) as s:
        assert s.get(Campaign, newer).templates["student"]["version"] == 2
        assert s.get(Campaign, campaign).templates["student"]["version"] == 1


def test_login_is_rate_limited(client):
    page = client.get("/login")
    token = csrf_token(page.text)
    # A new name each time: the per-account throttle (test_hardening.py) never gets to count.
    codes = [client.post("/login", data={"username": f"x{i}", "password": "y", "_csrf_token": token}).status_code
             for i in range(22)]
    assert codes[:20] == [401] * 20 and codes[-1] == 429
    login_ok = client.get("/login")
    assert login_ok.status_code == 200         # pages are not throttled


def test_login_gets_a_new_session_id_and_the_old_one_is_dropped(client, anon):
    """No session fixation: an ID planted before login never becomes the logged-in one."""
    client.cookies.set("session", "planted-by-someone-else", domain="testserver.local")
    login(client)
    first = client.cookies.get("session")
    assert first and first != "planted-by-someone-else"
    login(client)                                   # logging in again: again a new ID
    second = client.cookies.get("session")
    assert second != first
    anon.cookies.set("session", first, domain="testserver.local")
    assert anon.get("/bureau").url.path == "/login"  # the replaced ID logs nobody in
    assert client.get("/bureau").url.path == "/bureau"


def test_demo_campaign_verdict_matches_the_bundled_example(app):
    """The demo carries example-pass's answers: its verdict is the example's expected one."""
    import json
    from pathlib import Path

    from service.answers.exports import export_csv
    from service.verdicts.pipeline import county_verdict
    info = seed(app.state.engine, app.state.templates, app.state.profile)
    example = Path(__file__).resolve().parents[2] / "examples" / "example-pass"
    expected = json.loads((example / "expected.json").read_text(encoding="utf-8"))
    with Session(app.state.engine) as s:
        c = s.get(Campaign, info["campaign_id"])
        got = county_verdict(s, c.county_name, None, app.state.profile).verdict.to_dict()
        exported = export_csv(s, c.id).decode().splitlines()
    original = (example / "responses.csv").read_text(encoding="utf-8").splitlines()
    assert exported == original
    assert got["passed"] == expected["passed"]
    assert got["parts"]["recognition"]["rate"] == pytest.approx(expected["parts"]["recognition"]["rate"])


def test_progress_counts_agree_with_the_verdict(app):
    from service.campaigns.progress import progress
    from service.verdicts.pipeline import county_verdict
    info = seed(app.state.engine, app.state.templates, app.state.profile)
    with Session(app.state.engine) as s:
        c = s.get(Campaign, info["campaign_id"])
        p = progress(s, c, app.state.profile)
        rec = county_verdict(s, c.county_name, None, app.state.profile).verdict.to_dict()["parts"]["recognition"]
    assert (p.collected, p.valid) == (rec["collected"], rec["valid"])
    assert (p.incomplete, p.duplicates, p.speeders) == tuple(rec["invalid"][k] for k in
                                                             ("incomplete", "duplicate", "speeder"))
    assert {g: p.by_group[g] for g in rec["groups"]} == {g: v["n"] for g, v in rec["groups"].items()}


def test_many_concurrent_requests_do_not_exhaust_the_pool(app, campaign):
    """50 phones at once against a real server: every form loads and every answer is stored once.
    (Regression: request sessions released by a sync generator's clean-up, which Litestar runs
    in a worker thread, deadlocked the pool once every worker waited for a connection.)"""
    import inspect

    from service.web.dependencies import provide_db
    assert inspect.isasyncgenfunction(provide_db)
    pool = app.state.engine.pool
    assert pool.size() + pool._max_overflow >= 40      # >= anyio's worker threads: no thread waits
    import concurrent.futures
    import re
    import socket
    import time

    import httpx
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/s/{link_token(app, campaign, None, 'public')}"

    def phone(_):
        with httpx.Client(timeout=120) as c:
            page = c.get(url)
            token = re.search(r'name="_t" value="([^"]+)"', page.text).group(1)
            sid = re.search(r'name="_sid" value="([^"]+)"', page.text).group(1)
            data = {"_t": token, "_sid": sid, "location": "rural", **ALL_A}
            return c.post(url, data=data).status_code, c.post(url, data=data).status_code

    try:
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            codes = list(pool.map(phone, range(100)))
    finally:
        server.should_exit = server.force_exit = True
        thread.join(10)
    assert codes == [(200, 200)] * 100
    with Session(app.state.engine) as s:
        assert len(s.exec(select(Answer)).all()) == 100
