"""Helpers for the service tests (kept out of conftest.py so that importing them is unambiguous)."""

import io
import os
import re
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from litestar.testing import TestClient
from sqlmodel import Session, select

from service.db.models import Link

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example-pass"
ADMIN, PASSWORD = "admin", "correct horse battery"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


class FakeClock:
    """The app's clock (form load and submit times); tests move it forward."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def csrf_token(html: str) -> str:
    m = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client: TestClient) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"username": ADMIN, "password": PASSWORD, "_csrf_token": csrf_token(page.text)})
    assert r.status_code == 200 and r.url.path == "/inspector/overview", r.text   # the province's home


def example_zip(overrides: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("schools.csv", "county.csv", "veto.csv"):
            # a fixed timestamp: the same content is the same bytes in every call (a zip's member
            # times are the clock's by default, and two calls could straddle its 2-second step)
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)),
                       (overrides or {}).get(name) or (EXAMPLE / name).read_bytes())
    return buf.getvalue()


def create_campaign(client: TestClient, *, opens_in_h: float = -1, closes_in_h: float = 24 * 30,
                    name: str = "示例县满意度调查") -> int:
    page = client.get("/bureau/campaigns/new")
    china = timezone(timedelta(hours=8))
    now = datetime.now(china).replace(second=0, microsecond=0)
    r = client.post("/bureau/campaigns", data={
        "_csrf_token": csrf_token(page.text), "name": name, "county_name": "示例县",
        "resident_population": "380000", "share_urban": "0.45", "share_town": "0.30", "share_rural": "0.25",
        "opens_at": (now + timedelta(hours=opens_in_h)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(hours=closes_in_h)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 200, r.text
    m = re.search(r"/bureau/campaigns/(\d+)$", r.url.path)
    assert m, r.url
    return int(m.group(1))


def upload_workbook(client: TestClient, cid: int, data: bytes, filename: str = "county.zip"):
    """Import the campaign's schools from ``data`` (a school list or a full workbook)."""
    page = client.get(f"/bureau/campaigns/{cid}")
    return client.post(f"/bureau/campaigns/{cid}/workbook", data={"_csrf_token": csrf_token(page.text)},
                       files={"workbook": (filename, data, "application/zip")})


def link_token(app, cid: int, school_code: str | None = None, group: str | None = None) -> str:
    with Session(app.state.engine) as s:
        stmt = select(Link).where(Link.campaign_id == cid)
        stmt = stmt.where(Link.school_code == school_code if school_code else Link.school_code.is_(None))
        stmt = stmt.where(Link.group == group if group else Link.group.is_(None))
        return s.exec(stmt).one().token


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


ALL_A = {item: "A" for item in ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment",
                                "quality", "burden", "overall")}


def answer(browser: TestClient, clock: FakeClock, path: str, fields: dict, wait: float = 60):
    """Load the form at ``path``, wait ``wait`` seconds (fake clock), submit ``fields``."""
    page = browser.get(path)
    assert page.status_code == 200, page.text
    token, sid = hidden(page.text, "_t"), hidden(page.text, "_sid")
    clock.advance(wait)
    url = path.split("?")[0]
    r = browser.post(url, data={"_t": token, "_sid": sid, **fields})
    return r, token, sid


def migrated_sqlite(path: Path) -> Path:
    """A SQLite file migrated to head, with the tests' admin account: the session's template,
    copied for each test instead of migrating each test's database."""
    from service.accounts.roles import create_account
    from service.db.engine import make_engine, migrate
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    create_account(engine, ADMIN, PASSWORD)
    engine.dispose()        # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


class PostgresTemplate:
    """The PostgreSQL test database, migrated once per session; ``reset`` brings it back to the
    migrated schema and the admin account before each test. Measured on a busy 2-core machine:
    deleting the rows with triggers off 13-25 ms, TRUNCATE (new files for every table) 90-275 ms,
    CREATE DATABASE ... TEMPLATE 440-650 ms. TRUNCATE stays for a role that may not turn
    triggers off."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import text

        from service.accounts.roles import create_account
        from service.db.engine import make_engine, migrate
        self.engine = make_engine(url)
        migrate(self.engine)
        with self.engine.begin() as conn:
            self.tables = [t for t in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
                if t != "alembic_version"]
            self.superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
        self._empty()
        create_account(self.engine, ADMIN, PASSWORD)
        with self.engine.begin() as conn:       # the template's rows, re-inserted with fresh ids
            self.rows = {t: [{k: v for k, v in r.items() if k != "id"} for r in
                             conn.execute(text(f'SELECT * FROM "{t}"')).mappings()] for t in self.tables}

    def _empty(self) -> None:
        from sqlalchemy import text
        with self.engine.begin() as conn:
            if not self.superuser:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables) + " RESTART IDENTITY CASCADE"))
                return
            # replica role: no foreign-key checks and no append-only trigger (audit_entry) while emptying
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for t in self.tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                              "FROM pg_sequences WHERE schemaname = current_schema()"))

    def reset(self) -> None:
        from sqlalchemy import text
        self._empty()
        with self.engine.begin() as conn:
            for t, rows in self.rows.items():
                for row in rows:
                    columns = ", ".join(f'"{k}"' for k in row)
                    values = ", ".join(f":{k}" for k in row)
                    conn.execute(text(f'INSERT INTO "{t}" ({columns}) VALUES ({values})'), row)


def make_app(database_url: str, clock=None, profile_file=None, admin: bool = True):
    """The app on ``database_url`` with the tests' admin account (``admin=False``: the database
    already has it, a copy of the session's template)."""
    from service.app import create_app
    from service.accounts.roles import create_account
    from service.web.settings import Settings
    from service.campaigns.states import clear_caches
    clear_caches()        # a new database under this process: nothing kept from the last test's
    extra = {"clock": clock} if clock is not None else {}
    if profile_file is not None:
        extra["profile"] = str(profile_file)
    application = create_app(Settings(database_url=database_url, secret="test-secret", **extra))
    if admin:
        create_account(application.state.engine, ADMIN, PASSWORD)
    return application


def store_county_version(app, data: bytes, filename: str = "county.zip", county: str = "示例县"):
    """``data`` stored as the county's next workbook version by the one upload path (the county
    page's upload is its bureau's; the tests' admin is a province admin)."""
    from service.workbooks.versions import upload
    with Session(app.state.engine) as s:
        version, problems = upload(s, county, None, [(filename, data)], app.state.profile)
        assert not problems, problems
        return version.version


def open_campaign(client: TestClient) -> int:
    """Log ``client`` in and create an open campaign of the example county: the county's workbook
    its version 1, the campaign's schools imported from it."""
    login(client)
    cid = create_campaign(client)
    store_county_version(client.app, example_zip())
    r = upload_workbook(client, cid, example_zip())
    assert r.status_code == 200 and "处问题" not in r.text, r.text[:2000]
    return cid


def add_answers(app, cid: int, school: str | None, group: str, n: int, comment: str | None = None,
                location: str = "town") -> None:
    """``n`` complete, valid all-satisfied answers stored as the phone form stores them."""
    import secrets

    from service.db.models import Answer
    templates = app.state.templates
    q = {"student": "student", "teacher": "staff", "principal": "staff"}.get(group, "public")
    with Session(app.state.engine) as s:
        for i in range(n):
            s.add(Answer(submission_id=f"{cid}-{school}-{group}-{i}-{secrets.token_hex(6)}", campaign_id=cid,
                           questionnaire=q, template_version=int(templates[q]["version"]), group=group,
                           school_code=school, location=location, grade=5 if group == "student" else None,
                           duration_s=90.0, comment=comment, **ALL_A))
        s.commit()
