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
TABLES = ("stored_verdict", "audit_entry", "plan_version", "acceptance_plan", "workbook_version", "account_county", "account_role", "response", "one_time_code", "link", "school", "county_survey", "campaign", "account", "kv_store", "app_meta")


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
            z.writestr(name, (overrides or {}).get(name) or (EXAMPLE / name).read_bytes())
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


def make_app(database_url: str, clock=None, profile_file=None):
    """The app on ``database_url`` with the tests' admin account."""
    from service.app import create_app
    from service.accounts.roles import create_account
    from service.settings import Settings
    extra = {"clock": clock} if clock is not None else {}
    if profile_file is not None:
        extra["profile"] = str(profile_file)
    application = create_app(Settings(database_url=database_url, secret="test-secret", **extra))
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

    from service.db.models import Response
    templates = app.state.templates
    q = {"student": "student", "teacher": "staff", "principal": "staff"}.get(group, "public")
    with Session(app.state.engine) as s:
        for i in range(n):
            s.add(Response(submission_id=f"{cid}-{school}-{group}-{i}-{secrets.token_hex(6)}", campaign_id=cid,
                           questionnaire=q, template_version=int(templates[q]["version"]), group=group,
                           school_code=school, location=location, grade=5 if group == "student" else None,
                           duration_s=90.0, y=9, m=9, comment=comment, **ALL_A))
        s.commit()
