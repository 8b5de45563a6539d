"""What one oversized phone-form post does to everyone else (issue 21, finding 2).

    .venv/bin/python benchmarks/form_flood.py [--code-root PATH] [--posts 3]

Starts ``python -m service --demo`` (one worker, the code of ``--code-root``, default this
checkout, so an older checkout can be measured the same way) on a fresh SQLite file and a free
port of 127.0.0.1, then, while another client GETs ``/healthz`` every 20 ms on its own
connection, sends ``--posts`` times a 9.8 MB url-encoded body of 1.2 million fields to a
student form ``POST /s/<link>``. Prints the flood post's status and time and the other
client's latency (median, max) with and without the flood. All traffic stays on 127.0.0.1.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
FIELDS = 1_200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flood_body() -> bytes:
    body = b"&".join(b"%x=" % i for i in range(FIELDS))   # 9.8 MB, under Litestar's default 10 MB
    return body[:9_800_000].rsplit(b"&", 1)[0]


def probe(port: int, stop: threading.Event, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        t = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        out.append(time.perf_counter() - t)
        time.sleep(0.02)
    conn.close()


def measure(port: int, seconds: float, action=None) -> tuple[list[float], list[tuple[int, float]]]:
    stop, latencies, posts = threading.Event(), [], []
    t = threading.Thread(target=probe, args=(port, stop, latencies))
    t.start()
    if action is None:
        time.sleep(seconds)
    else:
        posts = action()
    stop.set()
    t.join()
    return latencies, posts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--code-root", default=str(ROOT))
    ap.add_argument("--posts", type=int, default=3)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="renke-flood-")
    url = f"sqlite:///{folder}/renke.db"
    port = free_port()
    env = {**os.environ, "RENKE_SECRET": "bench", "PYTHONPATH": args.code_root}
    proc = subprocess.Popen([sys.executable, "-m", "service", "--demo", "--port", str(port), "--database-url", url,
                             "--workers", "1"], cwd=args.code_root, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(f"{folder}/server.log", "w"), start_new_session=True)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        engine = create_engine(url)
        with engine.connect() as c:
            token = c.execute(text("SELECT token FROM link WHERE \"group\" = 'student' AND school_code IS NOT NULL "
                                   "ORDER BY id LIMIT 1")).scalar_one()
        engine.dispose()
        body = flood_body()

        def flood() -> list[tuple[int, float]]:
            results = []
            for _ in range(args.posts):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                t = time.perf_counter()
                conn.request("POST", f"/s/{token}", body=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                status = conn.getresponse().status
                results.append((status, time.perf_counter() - t))
                conn.close()
                time.sleep(0.3)
            return results

        quiet, _ = measure(port, 3)
        loud, posts = measure(port, 0, flood)
        print(f"code: {args.code_root}; body {len(body) / 1e6:.1f} MB, {body.count(b'&') + 1:,} fields")
        for status, seconds in posts:
            print(f"  flood post: HTTP {status} in {seconds:.2f} s")
        for name, lat in (("without flood", quiet), ("during flood", loud)):
            print(f"  other client /healthz {name}: n={len(lat)} median {statistics.median(lat) * 1000:.1f} ms, "
                  f"max {max(lat) * 1000:.1f} ms")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)


if __name__ == "__main__":
    main()
