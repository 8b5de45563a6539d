"""A province at scale: every staff page timed cold, warm and with answers arriving.

    .venv/bin/python benchmarks/province_scale.py [--counties 100] [--schools 30] [--answers 2000]
        [--big 20000,100000] [--repeat 3] [--workers 2] [--skip-xlsx-above 0]

Seeds a fresh SQLite file (temporary folder) through the service's own models and rules: a
province admin, inspectors assigned to the first 10, 25 and 50 counties, ``--counties``
counties of ``--schools`` schools (the demo county's schools, repeated under new codes) with
one open campaign each holding ``--answers`` answers (bulk inserts of the rows the phone form
stores: groups in the design proportions, y and m by ``scoring``, a few duplicates and
speeders), plus one county per ``--big`` size. Then it starts the production command
``python -m service --workers N`` on a free port of 127.0.0.1, signs in and times:

- per size (a small county, then each big one): the county verdict page, verdict.json,
  verdict.xlsx, ledger.csv, the bureau's campaign page, export.csv, export.xlsx and the
  integrity page — cold (the first request after start), warm (``--repeat`` more) and with
  answers arriving (a background thread inserts an answer every 50 ms into each timed
  campaign and into a few small counties);
- the province overview as the inspectors of 10, 25, 50 counties and the province admin
  (all counties): first view, later views, and later views with answers arriving.

It prints the tables (min–max seconds) and the peak RSS (VmHWM) of each worker process.
Traffic goes to 127.0.0.1 only; the run is bounded by the sizes given.
"""

import argparse
import csv
import io
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import insert, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.profile import load_profile
from service.accounts.roles import INSPECTOR, PROVINCE_ADMIN, ensure_account
from service.campaigns.lifecycle import create_campaign
from service.campaigns.schools import import_schools
from service.workbooks.versions import upload
from service.db.engine import make_engine, migrate
from service.db.models import Campaign, Answer
from service.demo import HERE as DEMO
from survey_templates import ITEMS, QUESTIONNAIRE_OF_GROUP, SCHOOL_GROUPS, load_templates

PASSWORD = "bench-renke-2026"
GROUP_SHARES = {"student": 0.25, "parent": 0.30, "teacher": 0.15, "principal": 0.05, "npc_deputy": 0.08,
                "cppcc_member": 0.07, "public": 0.10}
OPTIONS = ("A", "B", "C", "D", "E")
OPTION_WEIGHTS = (0.55, 0.25, 0.1, 0.05, 0.05)
OVERVIEW_SIZES = (10, 25, 50)


# ---- seeding -------------------------------------------------------------------------------

def workbook_zip(county: str, schools: int) -> tuple[bytes, list[tuple[str, str]]]:
    """The demo county's workbook renamed ``county`` with ``schools`` schools: (zip, [(code, location)])."""
    with open(DEMO / "schools.csv", encoding="utf-8-sig", newline="") as f:
        base = list(csv.DictReader(f))
    rows = []
    for k in range(schools):
        row = dict(base[k % len(base)])
        row["school_code"], row["school_name"] = f"S{k + 1:03d}", f"第{k + 1}学校"
        rows.append(row)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(base[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    county_csv = (DEMO / "county.csv").read_text(encoding="utf-8-sig").replace("示例县", county)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schools.csv", out.getvalue())
        z.writestr("county.csv", county_csv)
        z.write(DEMO / "veto.csv", "veto.csv")
    return buf.getvalue(), [(r["school_code"], r["location"]) for r in rows]


def answer_rows(rng: random.Random, campaign: Campaign, schools: list[tuple[str, str]], n: int, profile,
                at: datetime) -> list[dict]:
    groups = rng.choices(list(GROUP_SHARES), weights=list(GROUP_SHARES.values()), k=n)
    rows = []
    for group in groups:
        code, location = rng.choice(schools) if group in SCHOOL_GROUPS else (None, rng.choice(
            ("urban", "town", "rural")))
        items = {i: rng.choices(OPTIONS, weights=OPTION_WEIGHTS)[0] for i in ITEMS}
        if rng.random() < 0.01:
            items[rng.choice(ITEMS)] = None
        q = QUESTIONNAIRE_OF_GROUP[group]
        rows.append({
            "submission_id": str(uuid.uuid4()), "campaign_id": campaign.id, "questionnaire": q,
            "template_version": int(campaign.templates[q]["version"]), "group": group, "school_code": code,
            "location": location, "grade": rng.randint(3, 9) if group == "student" else None,
            "duration_s": round(rng.uniform(20, 900) if rng.random() > 0.02 else rng.uniform(1, 20), 1),
            "duplicate_of": str(uuid.uuid4()) if rng.random() < 0.01 else None,
            "created_at": at, **items})
    return rows


def seed(engine, counties: list[tuple[str, int]], schools: int, profile, templates) -> dict[str, int]:
    """The province: accounts, counties with their workbooks, campaigns and answers. {county: campaign id}."""
    rng = random.Random(15)
    now = datetime.now(UTC)
    ids = {}
    with Session(engine, expire_on_commit=False) as s:
        admin = ensure_account(s, "province", PASSWORD, PROVINCE_ADMIN, [])
        names = [c for c, _ in counties]
        for size in OVERVIEW_SIZES:
            ensure_account(s, f"inspector{size}", PASSWORD, INSPECTOR, names[:size])
        for county, answers in counties:
            data, codes = workbook_zip(county, schools)
            campaign = create_campaign(
                s, name=f"{county} 满意度调查", county_name=county, resident_population=380000,
                shares={"urban": 0.45, "town": 0.30, "rural": 0.25}, opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=60), templates=templates, account_id=admin.id)
            _, problems = upload(s, county, admin.id, [(f"{county}.zip", data)], profile)
            assert not problems, problems
            _, problems = import_schools(s, campaign, f"{county}.zip", data, profile)
            assert not problems, problems
            for start in range(0, answers, 5000):
                s.execute(insert(Answer), answer_rows(rng, campaign, codes, min(5000, answers - start), profile,
                                                        now))
            s.commit()
            ids[county] = campaign.id
    return ids


# ---- the server and the client -------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int, log) -> subprocess.Popen:
    env = {**os.environ, "RENKE_SECRET": "province-scale-secret", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "service", "--workers", str(workers), "--port", str(port),
                             "--database-url", url], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("server did not become healthy")


def login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=300, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"_csrf_token": token, "username": username, "password": PASSWORD,
                                    "next": "/inspector"})
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return client


def timed(client: httpx.Client, path: str) -> float:
    t = time.perf_counter()
    r = client.get(path)
    elapsed = time.perf_counter() - t
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return elapsed


def worker_rss(server: subprocess.Popen, workers: int) -> list[int]:
    """Peak RSS (VmHWM, MB) of the server's worker processes."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))
        if ppid == server.pid:
            out.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024)
    return sorted(out)[-workers:]  # the workers, not multiprocessing's resource tracker


class Arrivals(threading.Thread):
    """Answers arriving: an answer every ``every`` seconds into each campaign, inserted as the form stores it."""

    def __init__(self, engine, campaigns: list[Campaign], schools: dict[int, list], profile, every: float = 0.05):
        super().__init__(daemon=True)
        self.engine, self.campaigns, self.schools, self.profile, self.every = engine, campaigns, schools, profile, every
        self.stop = threading.Event()
        self.inserted = 0

    def run(self) -> None:
        rng = random.Random(1500)
        while not self.stop.is_set():
            rows = []
            for c in self.campaigns:
                rows += answer_rows(rng, c, self.schools[c.id], 1, self.profile, datetime.now(UTC))
            with self.engine.begin() as conn:
                conn.execute(insert(Answer), rows)
            self.inserted += len(rows)
            self.stop.wait(self.every)


def span(values: list[float]) -> str:
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return f"{lo:.2f} s" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counties", type=int, default=100)
    p.add_argument("--schools", type=int, default=30)
    p.add_argument("--answers", type=int, default=2000)
    p.add_argument("--big", default="20000,100000", help="answers of the big counties, comma-separated")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skip-xlsx-above", type=int, default=0,
                   help="skip export.xlsx for counties with more answers than this (0: never skip)")
    args = p.parse_args(argv)
    big = [int(x) for x in args.big.split(",") if x.strip()]
    assert args.counties <= 200 and args.answers <= 20000 and all(b <= 200000 for b in big), "bounded runs only"

    tmp = tempfile.mkdtemp(prefix="renke-province-")
    url = f"sqlite:///{os.path.join(tmp, 'renke.db')}"
    engine = make_engine(url)
    migrate(engine)
    profile, templates = load_profile(None), load_templates()
    counties = [(f"县{k + 1:03d}", args.answers) for k in range(args.counties)]
    counties += [(f"大县{n}", n) for n in big]
    t0 = time.perf_counter()
    ids = seed(engine, counties, args.schools, profile, templates)
    print(f"seeded {len(counties)} counties, {sum(n for _, n in counties):,} answers in "
          f"{time.perf_counter() - t0:.0f} s ({url})", flush=True)
    with Session(engine, expire_on_commit=False) as s:
        campaigns = {county: s.get(Campaign, cid) for county, cid in ids.items()}
        schools = {c.id: [(r[0], r[1]) for r in s.execute(text(
            "SELECT school_code, location FROM school WHERE campaign_id = :c").bindparams(c=c.id))]
            for c in campaigns.values()}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(tmp, "server.log"), "w")
    server = start_server(url, port, args.workers, log)
    arrivals = None
    try:
        time.sleep(1.0)
        admin = login(base, "province")
        sized = [(args.answers, counties[0][0])] + [(n, f"大县{n}") for n in big]
        pages = [("county verdict", "/inspector/counties/{q}/verdict"),
                 ("verdict.json", "/inspector/counties/{q}/verdict.json"),
                 ("verdict.xlsx", "/inspector/counties/{q}/verdict.xlsx"),
                 ("ledger.csv", "/inspector/counties/{q}/ledger.csv"),
                 ("the bureau's campaign page", "/bureau/campaigns/{cid}"),
                 ("answers export.csv", "/bureau/campaigns/{cid}/export.csv"),
                 ("answers export.xlsx", "/bureau/campaigns/{cid}/export.xlsx"),
                 ("integrity page", "/trust/campaigns/{cid}/integrity")]
        results: dict[tuple[str, int, str], list[float]] = {}

        def run_pages(phase: str, repeat: int) -> None:
            for n, county in sized:
                cid = campaigns[county].id
                for name, pattern in pages:
                    if name == "answers export.xlsx" and args.skip_xlsx_above and n > args.skip_xlsx_above:
                        continue
                    path = pattern.format(q=quote(county), cid=cid)
                    results[(name, n, phase)] = [timed(admin, path) for _ in range(repeat)]
                print(f"  {phase}: {county} done", flush=True)

        def run_overview(phase: str, repeat: int) -> None:
            for size in OVERVIEW_SIZES:
                if size < args.counties:
                    client = login(base, f"inspector{size}")
                    results[("overview", size, phase)] = [timed(client, "/inspector/overview") for _ in range(repeat)]
            results[("overview", len(counties), phase)] = [timed(admin, "/inspector/overview")
                                                           for _ in range(repeat)]
            print(f"  {phase}: overview done", flush=True)

        run_pages("cold", 1)
        run_overview("cold", 1)
        run_pages("warm", args.repeat)
        run_overview("warm", args.repeat)
        live = [campaigns[c] for _, c in sized] + [campaigns[c] for c, _ in counties[1:6]]
        arrivals = Arrivals(engine, live, schools, profile)
        arrivals.start()
        time.sleep(0.5)
        run_pages("live", args.repeat)
        run_overview("live", args.repeat)
        arrivals.stop.set()
        arrivals.join()
        rss = worker_rss(server, args.workers)
    finally:
        if arrivals is not None:
            arrivals.stop.set()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        engine.dispose()

    sizes = [n for n, _ in sized]
    print(f"\nserver: python -m service --workers {args.workers} on SQLite; {os.cpu_count()} CPUs; "
          f"{args.counties} counties × {args.schools} schools × {args.answers} answers + {big}; "
          f"{arrivals.inserted} answers arrived during the live phase")
    print("\n| page | phase | " + " | ".join(f"{n:,} answers" for n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name, _ in pages:
        for phase in ("cold", "warm", "live"):
            print(f"| {name} | {phase} | " + " | ".join(span(results.get((name, n, phase), [])) for n in sizes) + " |")
    shown = [s for s in OVERVIEW_SIZES if s < args.counties] + [len(counties)]
    print("\n| province overview | " + " | ".join(f"{s} counties" for s in shown) + " |")
    print("|---|" + "---|" * len(shown))
    for phase, label in (("cold", "first view"), ("warm", "every later view"), ("live", "later, answers arriving")):
        print(f"| {label} | " + " | ".join(span(results[("overview", s, phase)]) for s in shown) + " |")
    print(f"\npeak RSS of the workers: {', '.join(f'{r} MB' for r in rss)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
