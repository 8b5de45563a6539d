"""Helpers for the inspector workspace tests: accounts with roles, logins, two example counties."""

import csv
import io
import json
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from litestar.testing import TestClient
from sqlmodel import Session
from svc_helpers import csrf_token

from service.accounts import roles as R
from service.campaigns.lifecycle import create_campaign
from service.db.models import ITEM_FIELDS, Answer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COUNTY_A, COUNTY_B = "示例县", "示范县"                     # example-pass, example-fail
EXAMPLE_OF = {COUNTY_A: "example-pass", COUNTY_B: "example-fail"}
PW = "inspector-test-pw"
USERS = {
    "bureau_a": (R.BUREAU_ADMIN, [COUNTY_A]),
    "bureau_b": (R.BUREAU_ADMIN, [COUNTY_B]),
    "inspector_a": (R.INSPECTOR, [COUNTY_A]),
    "province": (R.PROVINCE_ADMIN, []),
}


def make_users(app) -> None:
    with Session(app.state.engine) as s:
        for name, (role, counties) in USERS.items():
            R.ensure_account(s, name, PW, role, counties)


def log_in(client: TestClient, username: str, password: str = PW):
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": password,
                                    "_csrf_token": csrf_token(page.text)})
    assert r.status_code == 200, r.text[:500]
    return r


@contextmanager
def browser(app, username: str | None = None):
    with TestClient(app, base_url="http://testserver.local") as c:
        if username:
            log_in(c, username)
        yield c


def example_zip(name: str, overrides: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for member in ("schools.csv", "county.csv", "veto.csv"):
            # a fixed timestamp: the same content is the same bytes (and so the same version)
            z.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)),
                       (overrides or {}).get(member) or (EXAMPLES / name / member).read_bytes())
    return buf.getvalue()


def county_url(county: str, rest: str = "") -> str:
    return f"/inspector/counties/{quote(county)}{rest}"


def upload(client: TestClient, county: str, files: list[tuple[str, bytes]]):
    page = client.get(county_url(county))
    token = csrf_token(page.text if page.status_code == 200 else client.get("/inspector").text)
    return client.post(county_url(county, "/workbooks"), data={"_csrf_token": token},
                       files=[("workbook", (n, d, "application/octet-stream")) for n, d in files])


def campaign_with_responses(app, county: str, example: str) -> int:
    """A campaign of ``county`` holding the example's responses.csv as collected answers."""
    templates = app.state.templates
    prefix = f"{example}-"                     # submission ids are unique across campaigns
    now = datetime.now(UTC)
    with Session(app.state.engine, expire_on_commit=False) as s:
        campaign = create_campaign(s, name=f"{county}满意度调查", county_name=county, resident_population=380000,
                                   shares={"urban": 0.45, "town": 0.30, "rural": 0.25},
                                   opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                                   templates=templates)
        with open(EXAMPLES / example / "responses.csv", encoding="utf-8-sig", newline="") as f:
            for rec in csv.DictReader(f):
                items = {i: (rec[i].strip().upper() or None) for i in ITEM_FIELDS}
                s.add(Answer(
                    submission_id=f"{prefix}{rec['response_id']}", campaign_id=campaign.id, questionnaire=rec["questionnaire"],
                    template_version=int(templates[rec["questionnaire"]]["version"]), group=rec["group"],
                    school_code=rec["school_code"] or None, location=rec["location"],
                    grade=int(rec["grade"]) if rec["grade"] else None, duration_s=float(rec["duration_s"] or 0),
                    duplicate_of=f"{prefix}{rec['duplicate_of']}" if rec["duplicate_of"] else None, **items))
        s.commit()
        return campaign.id


def expected(county: str) -> dict:
    return json.loads((EXAMPLES / EXAMPLE_OF[county] / "expected.json").read_text(encoding="utf-8"))
