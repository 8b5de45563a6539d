"""Backup and its restore check (``python -m service backup DEST``, ``python -m service
check-backup FILE``; the procedure is in docs/deployment.md).

- **SQLite:** SQLite's online backup API, in one step (one read transaction): a consistent
  snapshot of the database *with* what is still in its WAL, taken while the service keeps
  writing (a plain ``cp`` of the file misses the committed answers not yet checkpointed).
  The copy is written next to DEST, switched to a single self-contained file (rollback
  journal, no ``-wal``), synced, then renamed onto DEST: a DEST that exists is always whole.
- **PostgreSQL:** ``pg_dump --format=custom`` (one repeatable-read snapshot); the password is
  passed in ``PGPASSWORD``, never on the command line.
- **Check:** restores the backup somewhere harmless (a temporary copy of a SQLite file; for a
  dump, ``pg_restore`` into a scratch database given with ``--scratch-database-url``) and
  reports what an operator compares with the live service: the integrity check, the schema
  revision, the counts (answers per campaign included), the audit chain and each county's
  verdict (``verdicts.pipeline``, as the verdict page computes it).
"""

import json
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, select

from scoring.names import PASSED
from service.db.models import (Account, AuditEntry, Campaign, Link, OneTimeCode, Answer,
                               WorkbookVersion)

SQLITE_MAGIC, PG_DUMP_MAGIC = b"SQLite format 3\x00", b"PGDMP"


class BackupError(Exception):
    """What went wrong, for the operator (Chinese)."""


def backup(database_url: str, dest: Path) -> None:
    url = make_url(database_url)
    dest = Path(dest)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(Path(url.database or ""), dest)
    elif url.get_backend_name() == "postgresql":
        _pg_dump(url, dest)
    else:
        raise BackupError(f"不支持的数据库：{url.get_backend_name()}")


def _sqlite_backup(source: Path, dest: Path) -> None:
    if not source.is_file():
        raise BackupError(f"数据库文件不存在：{source}")
    if dest.resolve() == source.resolve():
        raise BackupError("备份文件不能是数据库文件本身")
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(part)
    try:
        src.backup(dst)                          # pages=-1: the whole database in one step
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()
    finally:
        dst.close()
        src.close()
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)


def _pg_env(url: URL) -> tuple[str, dict[str, str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _pg_dump(url: URL, dest: Path) -> None:
    conninfo, env = _pg_env(url)
    part = dest.with_name(dest.name + ".part")
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(part), "--dbname", conninfo],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        part.unlink(missing_ok=True)
        raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
    os.replace(part, dest)


def check_backup(file: Path, profile, scratch_database_url: str | None = None) -> dict[str, Any]:
    """The report of a backup restored somewhere harmless (see the module's docstring)."""
    file = Path(file)
    head = file.read_bytes()[:16] if file.is_file() else b""
    if head.startswith(SQLITE_MAGIC):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "restored.db"
            _sqlite_backup(file, copy)           # a file copy would miss a WAL beside it
            conn = sqlite3.connect(copy)
            try:
                integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                conn.close()
            return _report(f"sqlite:///{copy}", profile, integrity)
    if head.startswith(PG_DUMP_MAGIC):
        if not scratch_database_url:
            raise BackupError("检查 PostgreSQL 备份需要一个空的临时数据库：--scratch-database-url")
        conninfo, env = _pg_env(make_url(scratch_database_url))
        done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
                               "--dbname", conninfo, str(file)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败：{done.stderr.strip()}")
        return _report(scratch_database_url, profile, "ok")
    raise BackupError(f"不是本系统的备份文件（既不是 SQLite 数据库，也不是 pg_dump 文件）：{file}")


def _report(database_url: str, profile, integrity: str) -> dict[str, Any]:
    from service.accounts.audit import verify_chain
    from service.answers.queries import answer_counts
    from service.db.engine import make_engine
    from service.verdicts.pipeline import _plain, county_verdict, summary_of, verdict_data

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            revision = s.exec(text("SELECT version_num FROM alembic_version")).scalar()
            count = lambda model, *where: s.exec(select(func.count()).select_from(model).where(*where)).one()  # noqa: E731
            counts = {"campaigns": count(Campaign), "links": count(Link), "answers": count(Answer),
                      "codes_used": count(OneTimeCode, OneTimeCode.used_by.is_not(None)),
                      "workbook_versions": count(WorkbookVersion), "accounts": count(Account),
                      "audit_entries": count(AuditEntry)}
            per_campaign = {f"{cid}": n for cid, n in answer_counts(s).items()}
            broken = verify_chain(s)
            counties = sorted(s.exec(select(WorkbookVersion.county_name).distinct()))
            verdicts = {}
            for county in counties:
                cv = county_verdict(s, county, None, profile)
                verdicts[county] = json.loads(json.dumps(summary_of(verdict_data(cv.verdict, cv.ledger)),
                                                         default=_plain))
    finally:
        engine.dispose()
    usable = integrity == "ok" and not broken
    return {"integrity": integrity, "revision": revision, "counts": counts, "answers_per_campaign": per_campaign,
            "audit_chain_broken": len(broken), "verdicts": verdicts, "usable": usable}


COUNT_LABELS = {"campaigns": "调查活动", "links": "问卷链接", "answers": "答卷", "codes_used": "已使用的填写码",
                "workbook_versions": "工作簿版本", "accounts": "账号", "audit_entries": "审计记录"}


def report_text(file: Path, report: dict[str, Any]) -> str:
    """The report as the operator reads it (Chinese)."""
    lines = [f"备份文件：{file}",
             f"完整性检查：{'通过' if report['integrity'] == 'ok' else '未通过（' + report['integrity'] + '）'}",
             f"数据库版本：{report['revision']}"]
    lines += [f"{COUNT_LABELS[k]}：{v}" for k, v in report["counts"].items()]
    lines += [f"  调查活动 {cid} 的答卷：{n}" for cid, n in report["answers_per_campaign"].items()]
    lines.append("审计记录校验值：" + ("连续" if not report["audit_chain_broken"]
                                      else f"{report['audit_chain_broken']} 条不连续"))
    for county, v in report["verdicts"].items():
        rate = "—" if v["rate"] is None else f"{v['rate']:.4f}"
        lines.append(f"{county}：评估结论 {PASSED[bool(v['passed'])]}；认可度 {rate}（有效答卷 {v['valid']}）")
    lines.append("结论：" + ("备份可用于恢复" if report["usable"] else "备份有问题，不能用于恢复"))
    return "\n".join(lines)
