"""The integrity page and the answers export.xlsx of a large county: time and the worker's memory growth.

    .venv/bin/python benchmarks/pages_scale.py [--sizes 20000,100000] [--repeat 2]
        [--keep /tmp/renke_pages] [--code-root /tmp/renke-main]

Seeds (once, or reuses ``--keep``) a SQLite file with one county per size through
``province_scale.seed`` (the service's own models and rules), then gives the answers what the
phone form stores for the integrity signals: a QR link per school and one for the groups
without a school, Beijing wall-clock times spread over two weeks with parents' meetings
(bursts of answers on some links), keyed device hashes (a few devices answering twice),
the form's record on 97 % of the answers and a comment on 5 %. Then starts the production
command ``python -m service --workers 1`` (one process) from ``--code-root`` (default: this checkout; give a
checkout at main to measure "before" with the same data) and times, per size: the integrity
page cold (first request), warm and live (a new answer before each request), and the answers
export.xlsx. Before each request the worker's peak RSS is reset (``/proc/PID/clear_refs``), so
the growth printed is that request's peak over the worker's RSS before it. Traffic goes to
127.0.0.1 only. ``--cold`` chooses what the integrity page's first request finds: what earlier
workers stored (``as-stored``), nothing stored (``nothing-stored``: the first request after the
upgrade), or one answer arrived since (``answer-first``); ``--pages integrity`` times that page only.
``--stages`` prints instead, in this process with this checkout's code, the integrity page's
stages: reading the frame from SQL and from the stored pieces, the stored signals, validity, and
each signal's time (cProfile).
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import province_scale as P  # noqa: E402
from scoring.profile import load_profile  # noqa: E402
from service.db.engine import make_engine, migrate  # noqa: E402
from service.db.models import Campaign, Link, Answer  # noqa: E402
from survey_templates import load_templates  # noqa: E402

COMMENTS = ("希望增加体育活动时间", "食堂饭菜可以更好", "老师很负责", "作业有点多", "=1+1", "校车接送不方便")


def give_signals(engine, cid: int, rng: random.Random) -> None:
    """Links, times, devices, the form's record and comments on the campaign's answers."""
    with Session(engine) as s:
        schools = [r[0] for r in s.execute(text("SELECT school_code FROM school WHERE campaign_id = :c"),
                                           {"c": cid})]
        links = {}
        for code in [*schools, None]:
            link = Link(token=uuid.uuid4().hex, campaign_id=cid, school_code=code)
            s.add(link)
            s.flush()
            links[code] = link.id
        ids = [(r[0], r[1]) for r in s.execute(text("SELECT id, school_code FROM response WHERE campaign_id = :c"),
                                                {"c": cid})]
        start = datetime(2026, 11, 1, tzinfo=UTC)
        meetings = {code: start + timedelta(days=rng.randint(1, 12), hours=11) for code in schools[::3]}
        devices = [uuid.uuid4().hex for _ in range(len(ids))]
        rows = []
        for k, (rid, code) in enumerate(ids):
            if code in meetings and rng.random() < 0.3:
                at = meetings[code] + timedelta(seconds=rng.uniform(0, 2400))
            else:
                at = start + timedelta(seconds=rng.uniform(0, 14 * 86400))
            device = devices[k if rng.random() > 0.02 else rng.randrange(len(ids))]
            # the time in UTC without its zone, as SQLAlchemy stores it on SQLite
            rows.append({"i": rid, "link": links.get(code, links[None]), "at": at.replace(tzinfo=None), "dev": device,
                         "trace": None if rng.random() < 0.03 else f"f{rng.randint(2, 40)};s3,60,5;c{rng.randint(0, 3)}",
                         "comment": rng.choice(COMMENTS) if rng.random() < 0.05 else None})
        s.execute(text("UPDATE response SET link_id = :link, created_at = :at, device_hash = :dev, "
                       "form_trace = :trace, comment = :comment WHERE id = :i"), rows)
        s.commit()


def one_answer(engine, campaign: Campaign, schools, profile, rng: random.Random) -> None:
    row = P.answer_rows(rng, campaign, schools, 1, profile, datetime.now(UTC))[0]
    row.update(device_hash=uuid.uuid4().hex, form_trace="f5;s3,60,5;c0")
    with engine.begin() as conn:
        conn.execute(insert(Answer), [row])


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def worker_pid(server) -> int:
    """The process serving requests: with one worker, the server's own process."""
    children = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{server.pid}\n" in status:
                children.append(int(pid))
    return max(children, key=lambda p: _status(p, "VmRSS")) if children else server.pid


def measured(client, path: str, pid: int) -> tuple[float, int]:
    """(seconds at the client, MB of the worker's peak over its RSS before the request)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")   # reset VmHWM to the current RSS
    before = _status(pid, "VmRSS")
    seconds = P.timed(client, path)
    return seconds, _status(pid, "VmHWM") - before


def span(values: list[float], fmt: str) -> str:
    lo, hi = min(values), max(values)
    return format(lo, fmt) if format(lo, fmt) == format(hi, fmt) else f"{format(lo, fmt)}–{format(hi, fmt)}"


def stages(engine, campaign: Campaign, profile) -> None:
    """In-process: the integrity page's stages (reading the frame, validity, each signal) from cProfile."""
    import cProfile
    import pstats

    from scoring import integrity as I
    from scoring.recognition import classify_validity
    from service.trust import integrity as T

    def timed(f):
        t = time.perf_counter()
        out = f()
        return out, time.perf_counter() - t

    with Session(engine) as s:
        c = s.get(Campaign, campaign.id)
        codes = {x.school_code for x in T.C.schools_of(s, c.id)}
        (_, frame), read = timed(lambda: T._read(s, c.id, codes, 0))
        packed, pack = timed(lambda: T._packed(frame))
        _, unpack = timed(lambda: T._unpacked(packed))
        _, pieces = timed(lambda: T.campaign_frame(s, c))     # the stored pieces (stored now if none were)
        _, pieces = timed(lambda: T.campaign_frame(s, c))
        T.signals_for(s, c, profile)
        _, stored = timed(lambda: T.signals_for(s, c, profile))
    validity, valid = timed(lambda: classify_validity(frame, profile))
    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.runcall(I.integrity_report, frame, validity, I.integrity_settings(profile), profile)
    report = time.perf_counter() - t
    stats = pstats.Stats(profiler).stats
    parts = {name: stats[key][3] for key in stats for name in (key[2],)
             if key[0].endswith("scoring/integrity.py") and (name.endswith("_candidates") or name == "sensitivity")}
    print(f"  {len(frame):,} answers: read from SQL {read:.2f} s (packed {pack:.2f} s, {len(packed) / 1e6:.1f} MB, "
          f"unpacked {unpack:.2f} s), from the stored pieces {pieces:.2f} s, the stored signals {stored:.3f} s; "
          f"validity {valid:.2f} s, report {report:.2f} s (under cProfile: "
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])) + ")", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="20000,100000")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--keep", help="folder of the seeded database: made once, then reused")
    p.add_argument("--code-root", default=str(ROOT), help="the checkout whose server is measured")
    p.add_argument("--stages", action="store_true", help="print the integrity page's stages in-process, then stop")
    p.add_argument("--cold", choices=("as-stored", "nothing-stored", "answer-first"), default="as-stored",
                   help="before the integrity page's first request: leave what earlier workers stored (default), "
                        "delete it (the first request after the upgrade), or store one new answer first")
    p.add_argument("--pages", default="integrity,xlsx", help="which pages to time")
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    assert all(n <= 200000 for n in sizes) and args.repeat <= 10, "bounded runs only"

    folder = Path(args.keep or tempfile.mkdtemp(prefix="renke-pages-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "renke.db"
    url = f"sqlite:///{db}"
    fresh = not db.exists()
    engine = make_engine(url)
    profile = load_profile(None)
    if fresh:
        migrate(engine)
        t0 = time.perf_counter()
        ids = P.seed(engine, [(f"大县{n}", n) for n in sizes], 30, profile, load_templates())
        rng = random.Random(25)
        for cid in ids.values():
            give_signals(engine, cid, rng)
        print(f"seeded {sum(sizes):,} answers in {time.perf_counter() - t0:.0f} s ({url})", flush=True)
    with Session(engine, expire_on_commit=False) as s:
        campaigns = {n: s.execute(text("SELECT id FROM campaign WHERE county_name = :c"), {"c": f"大县{n}"}).one()[0]
                     for n in sizes}
        campaigns = {n: s.get(Campaign, cid) for n, cid in campaigns.items()}
        schools = {c.id: [tuple(r) for r in s.execute(text(
            "SELECT school_code, location FROM school WHERE campaign_id = :c"), {"c": c.id})]
            for c in campaigns.values()}

    if args.cold == "nothing-stored":
        with engine.begin() as conn:
            for table in ("integrity_state", "integrity_frame"):
                if table in conn.dialect.get_table_names(conn):     # not before the upgrade
                    conn.execute(text(f"DELETE FROM {table}"))
    if args.cold == "answer-first":
        rng = random.Random(250)
        for n in sizes:
            one_answer(engine, campaigns[n], schools[campaigns[n].id], profile, rng)
    if args.stages:
        migrate(engine)     # this checkout's tables (the server migrates itself)
        for n in sizes:
            stages(engine, campaigns[n], profile)
        return 0
    port = P.free_port()
    log = open(folder / "server.log", "w")
    env_root = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = args.code_root
    P.ROOT = Path(args.code_root)        # start_server runs the command from this checkout
    server = P.start_server(url, port, 1, log)
    if env_root is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = env_root
    rng = random.Random(2500)
    results = {}
    try:
        time.sleep(1.0)
        client = P.login(f"http://127.0.0.1:{port}", "province")
        pid = worker_pid(server)
        for n in sizes:
            c = campaigns[n]
            pages = {"integrity": ("integrity page", f"/trust/campaigns/{c.id}/integrity"),
                     "xlsx": ("answers export.xlsx", f"/bureau/campaigns/{c.id}/export.xlsx")}
            for name, path in (pages[k] for k in args.pages.split(",")):
                results[(name, n, "cold")] = [measured(client, path, pid)]
                results[(name, n, "warm")] = [measured(client, path, pid) for _ in range(args.repeat)]
                live = []
                for _ in range(args.repeat):
                    one_answer(engine, c, schools[c.id], profile, rng)
                    live.append(measured(client, path, pid))
                results[(name, n, "live")] = live
            print(f"  {n:,} answers done", flush=True)
        rss = _status(pid, "VmRSS")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except Exception:
            server.kill()
        log.close()
        engine.dispose()

    print(f"\nserver: python -m service --workers 1 on SQLite, code from {args.code_root}; {os.cpu_count()} CPUs; "
          f"cold: {args.cold}; load average {os.getloadavg()[0]:.1f}; worker RSS at the end {rss} MB")
    print("\n| page | phase | " + " | ".join(f"{n:,} answers: seconds | MB growth" for n in sizes) + " |")
    print("|---|---|" + "---|---|" * len(sizes))
    for name in sorted({name for name, _, _ in results}, reverse=True):
        for phase in ("cold", "warm", "live"):
            cells = []
            for n in sizes:
                values = results[(name, n, phase)]
                cells += [span([v[0] for v in values], ".2f"), span([v[1] for v in values], "d")]
            print(f"| {name} | {phase} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
