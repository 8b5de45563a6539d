"""CPU per submission by stage, in one process and without a network: what the answer
path costs the app itself, next to ``/healthz`` through the same app.

    .venv/bin/python benchmarks/submit_stages.py [--submissions 6000] [--concurrency 32]

Builds the app on a fresh SQLite file with the demo county, loads ``--submissions`` student
forms through the app (ASGI calls, no sockets), then:

1. each stage of a submission on its own, timed with ``time.process_time`` over all the
   prepared forms (body parse, form-token check, validation, answer row, the writer's batch
   per answer in batches of ``--concurrency``);
2. the whole app (Litestar's middleware, routing, handler, the batch writer's batch, the
   response) for ``GET /healthz`` and for the submissions, ``--concurrency`` requests in
   flight on one event loop; process CPU (all threads) per request.

No uvicorn and no sockets: what ``wrk_submit.py`` adds on top is the HTTP server's and the
kernel's share, the same per request for both paths. Prints milliseconds of CPU per request.
With ``STAGES_CPROFILE=FILE`` set, cProfile statistics of the whole-app submissions (the event
loop's thread) go to FILE and those of the writer's batches to FILE.writer.
"""

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ITEMS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")


async def call(app, method: str, path: str, body: bytes = b"", cookie: str | None = None) -> tuple[int, dict, bytes]:
    headers = [(b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if method == "POST":
        headers += [(b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = False
    out: dict = {"status": 0, "headers": [], "body": b""}

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], message["headers"]
        else:
            out["body"] += message.get("body", b"")
    await app(scope, receive, send)
    return out["status"], out["headers"], out["body"]


def thread_cpu(tid: int) -> float:
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_all(app, jobs, concurrency: int) -> tuple[float, list[int]]:
    """CPU seconds of the process (all threads) for the jobs, ``concurrency`` at a time."""
    queue = list(reversed(jobs))
    statuses: list[int] = []

    async def worker():
        while queue:
            status, _, _ = await call(app, *queue.pop())
            statuses.append(status)
    t0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - t0, statuses


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--submissions", type=int, default=6000)
    p.add_argument("--concurrency", type=int, default=32)
    args = p.parse_args(argv)
    assert args.submissions <= 50000, "bounded runs only"
    tmp = tempfile.mkdtemp(prefix="renke-stages-")
    os.environ.setdefault("RENKE_SECRET", "stage-test-secret")

    from sqlalchemy import text
    from service.answers import batch_writer, routes
    from service.answers.form import validate
    from service.answers.page_cache import form_inputs
    from service.answers.record import answer_row
    from service.app import create_app
    from service.demo import seed
    from service.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{os.path.join(tmp, 'renke.db')}"))
    seed(app.state.engine, app.state.templates, app.state.profile)
    engine = app.state.engine
    with engine.connect() as conn:
        token = conn.execute(text("SELECT token FROM link WHERE \"group\" = 'student' AND school_code IS NOT NULL "
                                  "ORDER BY id LIMIT 1")).scalar_one()
    path = f"/s/{token}"

    async def forms(n: int) -> list[tuple[str, bytes, str]]:
        out = []
        for _ in range(n):
            status, headers, body = await call(app, "GET", path)
            html = body.decode()
            t = re.search(r'name="_t" value="([^"]*)"', html).group(1)
            sid = re.search(r'name="_sid" value="([^"]*)"', html).group(1)
            cookie = next(v.decode().split(";")[0] for k, v in headers if k == b"set-cookie"
                          and v.startswith(b"rk_dev="))
            out.append(("POST", path, urlencode({"_t": t, "_sid": sid, "grade": "5",
                                                 **{i: "B" for i in ITEMS}}).encode(), cookie))
        return out

    async def stages(jobs) -> dict[str, float]:
        """Each stage alone over every prepared form (nothing stored: the batch is rolled back)."""
        link, campaign, schools = await form_inputs(engine, token)
        settings, signer = app.state.settings, app.state.signer
        now = app.state.db_clock()
        timed: dict[str, float] = {}

        def clock(name, fn, items):
            t0 = time.process_time()
            out = [fn(x) for x in items]
            timed[name] = (time.process_time() - t0) / len(items)
            return out
        datas = clock("body parse (form_fields)", routes.form_fields, [b for _, _, b, _ in jobs])
        signed = clock("form-token check", lambda d: signer.check(d["_t"], d["_sid"], now,
                                                                   settings.form_token_max_age_s)[0], datas)

        answers = clock("validation", lambda d: validate(d, campaign.templates["student"], schools, link)[0], datas)
        at = datetime.now(timezone.utc)
        rows = clock("answer row", lambda x: answer_row(
            x[0], campaign=campaign, link=link, questionnaire="student", sid=x[1]["s"], code_id=None,
            loaded_at=float(x[1]["t"]), at=at, device=x[2], settings=settings),
            list(zip(answers, signed, [c.split("=", 1)[1] for *_, c in jobs])))
        loop = asyncio.get_running_loop()
        items = [batch_writer._Item(r, None, at, batch_writer.snapshot(campaign), app.state.device_limits,
                                    loop.create_future()) for r in rows]
        if os.environ.get("STAGES_CPROFILE"):
            import cProfile
            wprof = cProfile.Profile()
            wprof.enable()
        with engine.connect() as conn:
            t0 = time.process_time()
            for k in range(0, len(items), args.concurrency):
                with conn.begin() as tx:
                    batch_writer._write_batch(conn, items[k:k + args.concurrency], sqlite=True)
                    tx.rollback()
            timed["writer batch (per answer)"] = (time.process_time() - t0) / len(items)
        if os.environ.get("STAGES_CPROFILE"):
            wprof.disable()
            wprof.dump_stats(os.environ["STAGES_CPROFILE"] + ".writer")
        return timed

    async def run() -> None:
        jobs = await forms(args.submissions)
        for name, ms in (await stages(jobs)).items():
            print(f"  {name:<34} {ms * 1000:.3f} ms")
        bare_cpu, _ = await run_all(app, [("GET", "/healthz")] * args.submissions, args.concurrency)
        writer = batch_writer.writer_for(engine)
        batches, rows, wcpu = writer.batches, writer.rows, thread_cpu(writer.thread.native_id)
        if os.environ.get("STAGES_CPROFILE"):
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        cpu, statuses = await run_all(app, jobs, args.concurrency)
        if os.environ.get("STAGES_CPROFILE"):
            prof.disable()
            prof.dump_stats(os.environ["STAGES_CPROFILE"])
        batches, rows = writer.batches - batches, writer.rows - rows
        wcpu = thread_cpu(writer.thread.native_id) - wcpu
        ok = statuses.count(200)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
        bare_ms, submit_ms = bare_cpu / args.submissions * 1000, cpu / len(jobs) * 1000
        print(f"app only (no server, no sockets): /healthz {bare_ms:.3f} ms, submission {submit_ms:.3f} ms "
              f"per request ({ok} of {len(jobs)} answered 200; {stored} answers in the database)")
        print(f"  of which the writer thread {wcpu / len(jobs) * 1000:.3f} ms ({batches} batches, "
              f"{rows / max(batches, 1):.1f} answers each)")
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
