"""Submission throughput of the collection service on SQLite, against a bare endpoint.

    .venv/bin/python benchmarks/load_submit.py [--workers 2] [--concurrency 64]
        [--bare-seconds 8] [--submissions 6000] [--instances 1]
        [--database-url postgresql+psycopg://.../empty_db]

Starts ``python -m service --demo --workers N`` (the production command) on a fresh
SQLite file in a temporary folder (or on ``--database-url``, an empty database it may
fill) and on a free port of 127.0.0.1 (``--instances`` such servers on one database,
each on its own port, the clients spread over them as a load balancer would), then, with an
asyncio client (a minimal keep-alive HTTP/1.1 client over asyncio streams, so the
client's own CPU cost stays small next to the server's on a 2-core machine):

1. bare: ``--concurrency`` clients GET ``/healthz`` for ``--bare-seconds``;
2. forms: ``--submissions`` virtual phones each GET a student form (each phone its
   own cookie jar: the device cookie ``rk_dev`` the server sets), parse the signed
   token and the submission id;
3. submit: the same ``--concurrency`` clients POST the phones' answers; a
   submission is *acknowledged* when the answer is 200 with the thank-you page.

Then it reads the database: how many acknowledged submission ids are stored (each
at most once: the column is UNIQUE), and prints the throughputs, their ratio, the
p50/p99 latency of the submissions and stored vs acknowledged. All traffic goes to
127.0.0.1 only; the run is bounded by ``--submissions`` and ``--bare-seconds``.
"""

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ITEMS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")
THANKS = "提交成功".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Conn:
    """One keep-alive HTTP/1.1 connection (enough for this server: Content-Length bodies)."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Connection: keep-alive"]
            for k, v in (headers or {}).items():
                head.append(f"{k}: {v}")
            if method == "POST":
                head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
            try:
                self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                status_line = await self.reader.readuntil(b"\r\n")
                raw = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2 or method == "POST":
                    raise
                continue
            status = int(status_line.split()[1])
            hdrs: dict[str, list[str]] = {}
            for line in raw.decode("latin-1").split("\r\n"):
                if ":" in line:
                    k, v = line.split(":", 1)
                    hdrs.setdefault(k.strip().lower(), []).append(v.strip())
            length = int(hdrs.get("content-length", ["0"])[0])
            data = await self.reader.readexactly(length) if length else b""
            if "close" in hdrs.get("connection", [""])[0].lower():
                self.close()
            return status, hdrs, data
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def bare_phase(ports: list[int], concurrency: int, seconds: float) -> tuple[int, float, int]:
    stop = time.perf_counter() + seconds
    ok = errors = 0

    async def client(n: int) -> None:
        nonlocal ok, errors
        conn = Conn(ports[n % len(ports)])
        while time.perf_counter() < stop:
            try:
                status, _, _ = await conn.request("GET", "/healthz")
                ok += status == 200
                errors += status != 200
            except Exception:  # noqa: BLE001
                errors += 1
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return ok, time.perf_counter() - t0, errors


async def form_phase(ports: list[int], concurrency: int, path: str, n: int) -> tuple[list[dict], float]:
    phones: list[dict] = []
    queue = list(range(n))

    async def client(k: int) -> None:
        conn = Conn(ports[k % len(ports)])
        while queue:
            queue.pop()
            status, hdrs, body = await conn.request("GET", path)
            if status != 200:
                raise RuntimeError(f"form GET answered {status}: {body[:300]!r}")
            html = body.decode()
            token = re.search(r'name="_t" value="([^"]*)"', html).group(1)
            sid = re.search(r'name="_sid" value="([^"]*)"', html).group(1)
            cookie = next(c.split(";")[0] for c in hdrs.get("set-cookie", []) if c.startswith("rk_dev="))
            phones.append({"_t": token, "_sid": sid, "cookie": cookie})
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return phones, time.perf_counter() - t0


async def submit_phase(ports: list[int], concurrency: int, path: str, phones: list[dict]):
    queue = list(phones)
    latencies: list[float] = []
    acked: list[str] = []
    failures: dict[str, int] = {}

    async def client(k: int) -> None:
        conn = Conn(ports[k % len(ports)])
        while queue:
            phone = queue.pop()
            fields = {"_t": phone["_t"], "_sid": phone["_sid"], "grade": "5", **{i: "B" for i in ITEMS}}
            body = urllib.parse.urlencode(fields).encode()
            t = time.perf_counter()
            try:
                status, _, data = await conn.request("POST", path, body, {"Cookie": phone["cookie"]})
            except Exception as exc:  # noqa: BLE001 - counted, never acknowledged
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                conn.close()
                continue
            latencies.append(time.perf_counter() - t)
            if status == 200 and THANKS in data:
                acked.append(phone["_sid"])
            else:
                failures[str(status)] = failures.get(str(status), 0) + 1
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    return acked, latencies, failures, time.perf_counter() - t0


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


def student_link(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT token FROM link WHERE \"group\" = 'student' AND school_code IS NOT NULL "
                                 "ORDER BY id LIMIT 1")).scalar_one()


def stored_ids(engine) -> dict[str, int]:
    """How many rows each stored submission id has (the column is UNIQUE: 1 each)."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT submission_id, count(*) FROM response GROUP BY submission_id")).all())


def start(args, url: str, port: int, env: dict, log) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "service", "--demo", "--workers", str(args.workers),
                             "--port", str(port), "--database-url", url],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_healthy(port, proc)
    return proc


def stop(procs, engine, log) -> None:
    """Stop the servers (killed after 20 s), dispose of the benchmark's engine, close the log."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    if engine is not None:
        engine.dispose()
    log.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--instances", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--bare-seconds", type=float, default=8.0)
    p.add_argument("--submissions", type=int, default=6000)
    p.add_argument("--database-url", help="an empty database to use instead of a fresh SQLite file")
    args = p.parse_args(argv)
    assert args.submissions <= 50000 and args.bare_seconds <= 60 and args.concurrency <= 512, "bounded runs only"
    assert 1 <= args.instances <= 4, "bounded runs only"

    tmp = tempfile.mkdtemp(prefix="renke-load-")
    url = args.database_url or f"sqlite:///{os.path.join(tmp, 'renke.db')}"
    ports = [free_port() for _ in range(args.instances)]
    env = {**os.environ, "RENKE_SECRET": "load-test-secret", "PYTHONUNBUFFERED": "1"}
    log = open(os.path.join(tmp, "server.log"), "w")
    procs: list[subprocess.Popen] = []
    engine = None
    try:
        for port in ports:       # one after the other: the first migrates and seeds the demo
            procs.append(start(args, url, port, env, log))
        time.sleep(1.0)  # every worker up
        from service.db.engine import make_engine
        engine = make_engine(url)
        path = f"/s/{student_link(engine)}"
        before = stored_ids(engine)

        ok, bare_s, bare_err = asyncio.run(bare_phase(ports, args.concurrency, args.bare_seconds))
        bare_rate = ok / bare_s
        phones, form_s = asyncio.run(form_phase(ports, args.concurrency, path, args.submissions))
        acked, lat, failures, submit_s = asyncio.run(submit_phase(ports, args.concurrency, path, phones))
        submit_rate = len(acked) / submit_s

        after = stored_ids(engine)
        stored_acked = sum(1 for sid in acked if after.get(sid) == 1)
        total = sum(after.values()) - sum(before.values())
        dups = sum(1 for n in after.values() if n > 1)
    finally:
        stop(procs, engine, log)

    backend = "SQLite (WAL)" if url.startswith("sqlite") else engine.dialect.name
    print(f"server: {args.instances} x python -m service --workers {args.workers} on {backend}; client concurrency "
          f"{args.concurrency}; {os.cpu_count()} CPUs shared by servers, database and client")
    print(f"bare GET /healthz        {bare_rate:8.0f} req/s  ({ok} in {bare_s:.1f} s, {bare_err} errors)")
    print(f"form GET /s/{{link}}       {len(phones) / form_s:8.0f} req/s  ({len(phones)} in {form_s:.1f} s)")
    print(f"submit POST /s/{{link}}    {submit_rate:8.0f} req/s  ({len(acked)} acknowledged in {submit_s:.1f} s)")
    print(f"ratio submit / bare      {submit_rate / bare_rate:8.1%}")
    print(f"submit latency           p50 {statistics.median(lat) * 1000:.1f} ms   p99 {pct(lat, 99) * 1000:.1f} ms"
          f"   max {max(lat) * 1000:.1f} ms")
    print(f"acknowledged {len(acked)}  stored of those {stored_acked}  lost {len(acked) - stored_acked}  "
          f"rows written {total}  submission ids stored twice {dups}  not acknowledged {failures or 0}")
    goal = submit_rate >= 0.3 * bare_rate and pct(lat, 99) < 0.2 and stored_acked == len(acked)
    print("goal (>= 30 % of bare, p99 < 200 ms, none lost):", "met" if goal else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
