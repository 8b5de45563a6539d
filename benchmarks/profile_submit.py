"""CPU per submission by stage: the answer path under wrk, both workers sampled by py-spy.

    .venv/bin/python benchmarks/profile_submit.py [--phones 20000] [--seconds 10] [--rate 200] [--top 0]

Prepares the phones as ``wrk_submit.py`` does (fresh SQLite, ``python -m service --demo
--workers 2``), then runs wrk's submit phase while ``py-spy record --nonblocking -f raw``
samples every worker (their on-CPU stacks, all threads). It reads each worker's CPU time
(``/proc/<pid>/stat``, user + system) before and after, and prints the CPU milliseconds per
acknowledged submission split by stage: each sample is charged to the innermost frame of
the project's code, of a Litestar layer or middleware, of uvicorn or of the event loop (the
helpers it calls count for it), see ``STAGES``. ``--top N`` also prints the N leaf functions
with the most samples. Traffic only to 127.0.0.1; bounded like ``wrk_submit.py``.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_submit as L  # noqa: E402
import wrk_submit as W  # noqa: E402

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
# A sample is charged to the innermost frame of an "owner" (the project's code, a Litestar
# middleware or layer, uvicorn, the event loop); helpers below it (Litestar's datastructures,
# SQLAlchemy, the standard library, itsdangerous ...) count for the owner that called them.
# (stage, markers of the owner frame), first match wins.
STAGES = [
    ("batch writer: SQLAlchemy + sqlite3", ["<writer-sql>"]),
    ("batch writer: own Python", ["batch_writer.py"]),
    ("form token check (itsdangerous)", ["web/security.py"]),
    ("validation (the page context only on errors)", ["answers/form.py"]),
    ("answer row (scores, mask, device hash)", ["answers/record.py", "scoring/"]),
    ("device rate limit", ["answers/rate_limit.py"]),
    ("body parse (form_fields)", ["form_fields ("]),
    ("thank-you page + cookies", ["_thanked (", "thanks (", "_done_cookie (", "_device_cookie ("]),
    ("rest of the handler", ["answers/routes.py", "answers/page_cache.py", "web/clock.py"]),
    ("session middleware", ["web/sessions.py", "middleware/session/"]),
    ("rate-limit middleware", ["middleware/rate_limit.py", "hashed_client (", "throttle_login ("]),
    ("CSRF middleware", ["middleware/csrf.py", "csrf_bound ("]),
    ("compression middleware", ["middleware/compression/"]),
    ("security headers (before_send)", ["web/headers.py"]),
    ("last-resort wrapper", ["web/errors.py"]),
    ("Litestar: exception + other middleware", ["litestar/middleware/"]),
    ("Litestar: response building", ["litestar/response/"]),
    ("Litestar: request object (headers, cookies, body)", ["litestar/connection/"]),
    ("Litestar: routing, kwargs, handler call", ["litestar/"]),
    ("uvicorn: HTTP protocol + response writing", ["uvicorn/"]),
    ("event loop (uvloop: sockets, httptools parsing)", [""]),
]
_OWNERS = ("service/", "scoring/", "litestar/middleware/", "litestar/routes/", "litestar/_asgi/",
           "litestar/handlers/", "litestar/_kwargs/", "litestar/_signature/", "litestar/response/",
           "litestar/connection/", "litestar/app.py", "uvicorn/", "asyncio/runners.py")


def classify(stack: str) -> str:
    frames = stack.split(";")
    owner = next((f for f in reversed(frames) if any(o in f for o in _OWNERS)), "")
    if "batch_writer.py" in owner and any("sqlalchemy/" in f or "sqlite3" in f
                                          for f in frames[frames.index(owner):]):
        owner = "<writer-sql>"
    return next(name for name, markers in STAGES if any(m in owner for m in markers))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    # uvicorn's supervisor also forks a resource tracker; workers are the ones running the app
    return [int(p) for p in out if "multiprocessing.resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def measured(args, pids: list[int], url: str, script: str | None = None) -> tuple[dict, str]:
    """wrk's result and, over its run, the cores used by the workers, by wrk and by the whole machine."""
    w0, m0, c0 = sum(cpu_seconds(p) for p in pids), machine_busy(), os.times()
    t0 = time.perf_counter()
    result = W.run_wrk(args, url, script)
    elapsed = time.perf_counter() - t0
    w1, m1, c1 = sum(cpu_seconds(p) for p in pids), machine_busy(), os.times()
    wrk = (c1.children_user + c1.children_system - c0.children_user - c0.children_system) / elapsed
    machine = (m1[0] - m0[0]) / (m1[1] - m0[1]) * os.cpu_count()
    result["worker_ms"] = (w1 - w0) / max(result["requests"], 1) * 1000
    return result, (f"workers' CPU {result['worker_ms']:.3f} ms per request; cores busy: workers "
                    f"{(w1 - w0) / elapsed:.2f}, wrk {wrk:.2f}, whole machine {machine:.2f} of {os.cpu_count()}")


def main(argv: list[str] | None = None) -> int:
    p = W.wrk_options(__doc__, phones=20000)
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--top", type=int, default=0)
    p.add_argument("--gil", action="store_true", help="only samples holding the GIL (py-spy --gil)")
    p.add_argument("--no-spy", action="store_true", help="no sampling: only the CPU accounting")
    args = p.parse_args(argv)
    assert args.phones <= 50000 and args.seconds <= 30, "bounded runs only"

    tmp, db_url, port, server, log = W.start_server(args.workers)
    engine = None
    try:
        time.sleep(1.0)
        from service.db.engine import make_engine
        engine = make_engine(db_url)
        path = f"/s/{L.student_link(engine)}"
        phones, _ = asyncio.run(L.form_phase([port], args.connections, path, args.phones))
        answers = os.path.join(tmp, "answers.tsv")
        with open(answers, "w") as f:
            for ph in phones:
                body = "&".join([f"_t={ph['_t']}", f"_sid={ph['_sid']}", "grade=5", *(f"{i}=B" for i in L.ITEMS)])
                f.write(f"{ph['cookie']}\t{body}\n")
        script = os.path.join(tmp, "submit.lua")
        Path(script).write_text(W.LUA % {"path": path, "file": answers, "threads": args.threads})
        pids = workers_of(server.pid)
        spies = [subprocess.Popen([PY_SPY, "record", "--nonblocking", *(["--gil"] if args.gil else []), "-r", str(args.rate), "-f", "raw",
                                   "-d", str(args.seconds + 1), "-p", str(pid), "-o", os.path.join(tmp, f"{pid}.raw")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for pid in ([] if args.no_spy else pids)]
        time.sleep(0.5)
        bare, bare_use = measured(args, pids, f"http://127.0.0.1:{port}/healthz")
        cpu0 = sum(cpu_seconds(pid) for pid in pids)
        result, use = measured(args, pids, f"http://127.0.0.1:{port}{path}", script)
        cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0
        for spy in spies:
            spy.wait(60)
    finally:
        L.stop([server], engine, log)

    print(f"bare /healthz: {bare['rps']:.0f} req/s; {bare_use}")
    print(f"submit: {result['rps']:.0f} req/s ({result['rps'] / bare['rps']:.1%} of bare); {use}")
    print(f"workers' CPU per request, bare / submit: {bare['worker_ms'] / result['worker_ms']:.1%} "
          "(the ratio wrk would show if the workers had the machine's cores to themselves)")
    if args.no_spy:
        return 0
    stages: Counter = Counter()
    leaves: Counter = Counter()
    for pid in pids:
        for line in Path(os.path.join(tmp, f"{pid}.raw")).read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            stages[classify(stack)] += int(count)
            leaves[stack.rsplit(";", 1)[-1]] += int(count)
    total = sum(stages.values())
    ok = result["requests"] - result["errors"]
    per = cpu / ok * 1000
    print(f"submit: {result['rps']:.0f} req/s, {ok} answered 200 (p99 {result['p99']:.1f} ms); workers' CPU "
          f"{cpu:.1f} s = {per:.3f} ms per submission; {total} samples")
    for name, _ in STAGES:
        if stages[name]:
            print(f"  {name:<46} {stages[name] / total:6.1%}  {per * stages[name] / total:.3f} ms")
    for leaf, n in leaves.most_common(args.top):
        print(f"  {n / total:6.1%}  {leaf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
