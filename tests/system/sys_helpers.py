"""Helpers of the system tests (not in conftest.py, so that importing them is unambiguous): real ``python -m service`` processes on free ports of 127.0.0.1, on a
SQLite file and, when TEST_DATABASE_URL is set (``.ci/run``), on PostgreSQL."""

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
SECRET = "system-test-secret"
ITEMS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")

_spec = importlib.util.spec_from_file_location("load_submit", ROOT / "benchmarks" / "load_submit.py")
load_submit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load_submit)
Conn = load_submit.Conn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sa_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgres") else url


class Server:
    """``python -m service`` in its own process group (SIGKILL reaches every worker)."""

    def __init__(self, database_url: str | None, log_path: Path, *, demo: bool = False, workers: int = 1,
                 python: str = sys.executable, cwd: Path = ROOT, env: dict | None = None):
        """database_url None: the one of ``env`` (DATABASE_URL); ``env`` replaces the test's environment."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ([python, "-m", "service", "--port", str(self.port), "--workers", str(workers)]
                + (["--database-url", database_url] if database_url else []) + (["--demo"] if demo else []))
        self.log = open(log_path, "a")
        env = {**(os.environ if env is None else env), "RENKE_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 90
        while True:
            assert self.proc.poll() is None, f"server exited: {log_path.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "server did not start"
            time.sleep(0.2)
        time.sleep(0.5 if workers > 1 else 0)

    def kill(self) -> None:
        """SIGKILL, no clean-up of any kind (a crash)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


def _empty_pg(url: str) -> None:
    from service.db.engine import make_engine, migrate
    engine = make_engine(sa_url(url))
    migrate(engine)
    with engine.begin() as conn:
        tables = [t for t in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
                  .scalars() if t != "alembic_version"]      # every table, whatever migrations added
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def query(database_url: str, sql: str, **params):
    engine = create_engine(sa_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def student_link(database_url: str) -> str:
    return query(database_url, "SELECT token FROM link WHERE \"group\" = 'student' AND school_code IS NOT NULL "
                               "ORDER BY id LIMIT 1")[0][0]


def parse_form(body: bytes) -> tuple[str, str]:
    html = body.decode()
    return (re.search(r'name="_t" value="([^"]*)"', html).group(1),
            re.search(r'name="_sid" value="([^"]*)"', html).group(1))


def device_cookie(headers: dict) -> str | None:
    return next((c.split(";")[0] for c in headers.get("set-cookie", []) if c.startswith("rk_dev=")), None)


def answers(token: str, sid: str, **extra) -> bytes:
    import urllib.parse
    return urllib.parse.urlencode({"_t": token, "_sid": sid, "grade": "5", **{i: "B" for i in ITEMS},
                                   **extra}).encode()


THANKS = "提交成功".encode()
