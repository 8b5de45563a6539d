"""Issue 21, finding 15: a backup taken while a real server process stores answers restores
to the same counts and verdict as the source at the backup point, and holds every answer
acknowledged before it began (a plain copy of the SQLite file missed those still in the WAL).
The backup under load calls what ``python -m service backup`` runs (so that the moment it
is taken is known to the millisecond); ``backup`` and ``check-backup`` are then run as an
operator runs them."""

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from service.backup import backup
from sys_helpers import (ROOT, SECRET, THANKS, Conn, answers, device_cookie, parse_form, query, sa_url,
                         student_link)

CONCURRENCY = 8


def run_service(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"RENKE_SECRET": SECRET, "PATH": "/usr/bin:/bin"}, timeout=300)


def load(port: int, path: str, acked: list[tuple[str, float]], stop: threading.Event) -> None:
    """Phones loading the form and answering it, until ``stop``; (submission id, when thanked)."""
    async def phone() -> None:
        conn = Conn(port)
        while not stop.is_set():
            status, headers, body = await conn.request("GET", path)
            assert status == 200
            token, sid = parse_form(body)
            status, _, body = await conn.request("POST", path, answers(token, sid),
                                                 {"Cookie": device_cookie(headers) or ""})
            if status == 200 and THANKS in body:
                acked.append((sid, time.monotonic()))
        conn.close()

    async def all_phones() -> None:
        await asyncio.gather(*(phone() for _ in range(CONCURRENCY)))
    asyncio.run(all_phones())


def backup_under_load(url: str, dest: Path, servers) -> tuple[list[tuple[str, float]], float, float]:
    """A backup of ``url`` taken (by what `python -m service backup` runs, timed to the call)
    while 8 phones answer through a real server; (acknowledged answers, began, ended)."""
    server = servers(url, demo=True)
    path = f"/s/{student_link(url)}"
    acked: list[tuple[str, float]] = []
    stop = threading.Event()
    phones = threading.Thread(target=load, args=(server.port, path, acked, stop))
    phones.start()
    try:
        while len(acked) < 100:
            assert phones.is_alive(), "the load stopped"
            time.sleep(0.05)
        began = time.monotonic()
        backup(url, dest)
        ended = time.monotonic()
        time.sleep(1)
    finally:
        stop.set()
        phones.join(60)
    server.stop()
    assert any(t > ended for _, t in acked), "answers were still being stored after the backup"
    return acked, began, ended


def check(file: Path, *extra: str) -> dict:
    checked = run_service("check-backup", str(file), "--json", *extra)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return json.loads(checked.stdout)


def assert_restores_to_the_source_at_the_backup_point(acked, began, in_backup: dict, in_source: dict,
                                                      restored: dict, expected: dict) -> None:
    lost = [sid for sid, t in acked if t < began and sid not in in_backup]
    assert not lost, f"{len(lost)} answers acknowledged before the backup began are not in it"
    point = max(in_backup.values())
    assert {s for s, i in in_source.items() if i <= point} == set(in_backup), "the backup is the source up to a point"
    assert len(in_source) > len(in_backup)
    assert restored["integrity"] == "ok" and restored["usable"]
    assert restored["counts"]["answers"] == len(in_backup)
    assert restored["counts"] == expected["counts"]
    assert restored["answers_per_campaign"] == expected["answers_per_campaign"]
    assert restored["verdicts"] == expected["verdicts"] and restored["verdicts"]


def test_finding_15_a_backup_under_load_restores_to_the_source_at_the_backup_point(tmp_path, servers):
    source = tmp_path / "renke.db"
    url = f"sqlite:///{source}"
    acked, began, _ = backup_under_load(url, tmp_path / "backup.db", servers)
    in_backup = dict(query(f"sqlite:///{tmp_path / 'backup.db'}", "SELECT submission_id, id FROM response"))
    in_source = dict(query(url, "SELECT submission_id, id FROM response"))

    # The source at the backup point: a consistent copy of it now, without the answers stored since.
    cut = tmp_path / "source-at-backup-point.db"
    src, dst = sqlite3.connect(source), sqlite3.connect(cut)
    src.backup(dst)
    dst.execute("DELETE FROM response WHERE id > ?", (max(in_backup.values()),))
    dst.commit()
    src.close()
    dst.close()
    assert_restores_to_the_source_at_the_backup_point(acked, began, in_backup, in_source,
                                                      check(tmp_path / "backup.db"), check(cut))

    # As an operator runs them: the command's own backup (of the source, now quiet) and its report.
    made = run_service("backup", str(tmp_path / "again.db"), "--database-url", url)
    assert made.returncode == 0 and "备份完成" in made.stdout, made.stderr
    text = run_service("check-backup", str(tmp_path / "again.db"))
    assert text.returncode == 0, text.stderr
    assert f"答卷：{len(in_source)}" in text.stdout and "结论：备份可用于恢复" in text.stdout


def test_finding_15_a_pg_dump_under_load_restores_to_the_source_at_the_backup_point(tmp_path, servers, pg_url):
    scratch = scratch_database(pg_url)
    acked, began, _ = backup_under_load(pg_url, tmp_path / "backup.dump", servers)
    restored = check(tmp_path / "backup.dump", "--scratch-database-url", scratch)
    in_backup = dict(query(scratch, "SELECT submission_id, id FROM response"))
    in_source = dict(query(pg_url, "SELECT submission_id, id FROM response"))

    # The source at the backup point: the source without the answers stored since, dumped in turn.
    engine = create_engine(sa_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM response WHERE id > :p"), {"p": max(in_backup.values())})
    engine.dispose()
    made = run_service("backup", str(tmp_path / "cut.dump"), "--database-url", pg_url)
    assert made.returncode == 0, made.stderr
    expected = check(tmp_path / "cut.dump", "--scratch-database-url", scratch)
    assert_restores_to_the_source_at_the_backup_point(acked, began, in_backup, in_source, restored, expected)


def scratch_database(url: str) -> str:
    """An empty database next to the test database, to restore dumps into."""
    base = make_url(sa_url(url))
    name = f"{base.database}_scratch"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)
