"""The answer path by wrk, as the issue measured it: submit throughput against bare ``/healthz``.

    .venv/bin/python benchmarks/wrk_submit.py [--workers 2] [--connections 64] [--threads 2]
        [--seconds 10] [--phones 45000] [--rounds 1]

Starts the production command (``python -m service --demo --workers N``) on a fresh SQLite
file, loads ``--phones`` student forms with load_submit's asyncio client (each phone its own
device cookie, signed token and submission id), then per round runs wrk (Debian's ``wrk``)
for ``--seconds`` on ``GET /healthz`` and on ``POST /s/{link}`` with a Lua script that sends
each prepared answer once (its own cookie and body). Prints req/s, the ratio, wrk's p50/p99
and, from the database, the answers stored against the 200s wrk saw. Each round uses fresh
phones; a run with more requests than phones says so (a replayed submission is cheap and
would flatter the figure). Traffic only to 127.0.0.1.
"""

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_submit as L  # noqa: E402  (the benchmark's own client and server start)

LUA = r"""
local lines = {}
local n, i, path = 0, 0, "%(path)s"
local counter = 0
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
init = function(args)
  local k = 0
  for line in io.lines("%(file)s") do
    if k %% %(threads)d == tid then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      n = n + 1
      lines[n] = {cookie, body}
    end
    k = k + 1
  end
end
request = function()
  i = i + 1
  local item = lines[((i - 1) %% n) + 1]
  return wrk.format("POST", path, {["Cookie"] = item[1],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, item[2])
end
"""


def run_wrk(args, url: str, script: str | None = None) -> dict:
    cmd = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{int(args.seconds)}s", "--latency"]
    cmd += (["-s", script] if script else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}

    def latency(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)]
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "requests": requests,
            "errors": int(non2xx.group(1)) if non2xx else 0, "p50": latency("50"), "p99": latency("99")}


def wrk_options(doc: str, phones: int) -> argparse.ArgumentParser:
    """The options of a wrk run: server workers, wrk's connections, threads and seconds, phones."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--phones", type=int, default=phones)
    return p


def start_server(workers: int):
    """The production command on a fresh SQLite file and a free port: (folder, database URL,
    port, server process, its log file)."""
    tmp = tempfile.mkdtemp(prefix="renke-wrk-")
    db_url = f"sqlite:///{os.path.join(tmp, 'renke.db')}"
    port = L.free_port()
    env = {**os.environ, "RENKE_SECRET": "load-test-secret", "PYTHONUNBUFFERED": "1"}
    log = open(os.path.join(tmp, "server.log"), "w")
    return tmp, db_url, port, L.start(argparse.Namespace(workers=workers), db_url, port, env, log), log


def main(argv: list[str] | None = None) -> int:
    p = wrk_options(__doc__, phones=45000)
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args(argv)
    assert shutil.which("wrk"), "wrk is not installed (apt-get install wrk)"
    assert args.phones <= 50000 and args.seconds <= 30 and args.rounds <= 3, "bounded runs only"

    tmp, db_url, port, server, log = start_server(args.workers)
    engine = None
    try:
        time.sleep(1.0)
        from service.db.engine import make_engine
        engine = make_engine(db_url)
        path = f"/s/{L.student_link(engine)}"
        base = f"http://127.0.0.1:{port}"
        print(f"server: python -m service --workers {args.workers} on SQLite (WAL); wrk -t{args.threads} "
              f"-c{args.connections} -d{args.seconds}s; {os.cpu_count()} CPUs shared by server, database and wrk")
        for round_ in range(1, args.rounds + 1):
            phones, _ = asyncio.run(L.form_phase([port], args.connections, path, args.phones))
            answers = os.path.join(tmp, f"answers-{round_}.tsv")
            with open(answers, "w") as f:
                for ph in phones:
                    body = "&".join([f"_t={ph['_t']}", f"_sid={ph['_sid']}", "grade=5",
                                     *(f"{i}=B" for i in L.ITEMS)])
                    f.write(f"{ph['cookie']}\t{body}\n")
            script = os.path.join(tmp, f"submit-{round_}.lua")
            Path(script).write_text(LUA % {"path": path, "file": answers, "threads": args.threads})
            before = sum(L.stored_ids(engine).values())
            bare = run_wrk(args, f"{base}/healthz")
            submit = run_wrk(args, base + path, script)
            stored = sum(L.stored_ids(engine).values()) - before
            ok = submit["requests"] - submit["errors"]
            print(f"round {round_}: bare {bare['rps']:.0f} req/s (p99 {bare['p99']:.1f} ms) · submit "
                  f"{submit['rps']:.0f} req/s (p50 {submit['p50']:.1f} ms, p99 {submit['p99']:.1f} ms) · "
                  f"ratio {submit['rps'] / bare['rps']:.1%} · 200s {ok}, stored {stored}, errors {submit['errors']}"
                  + ("  (more requests than phones: replays counted)" if submit["requests"] > len(phones) else ""))
    finally:
        L.stop([server], engine, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
