"""Helpers for the collection tests: a county with a version, a round opened from it, the
schools' accounts, and the example's own rows to fill in."""

import csv
import io
import re
import zipfile
from contextlib import contextmanager

from inspector_helpers import COUNTY_A, EXAMPLES, browser, county_url, example_zip, log_in, make_users, upload
from svc_helpers import csrf_token

from scoring.collection import FORM_COLUMNS

YEAR = 2025
ROUND = county_url(COUNTY_A, f"/collection/{YEAR}")
NEW_PASSWORD = "school-own-password"


def example_rows() -> dict[str, dict[str, str]]:
    text = (EXAMPLES / "example-pass" / "schools.csv").read_text(encoding="utf-8")
    return {r["school_code"]: {c: r[c] for c in FORM_COLUMNS} for r in csv.DictReader(io.StringIO(text))}


def open_round(bureau, year: int = YEAR, school_list: tuple[str, bytes] | None = None):
    token = csrf_token(bureau.get(county_url(COUNTY_A, "/collection")).text)
    files = {"school_list": school_list} if school_list else None
    return bureau.post(county_url(COUNTY_A, "/collection"), data={"_csrf_token": token, "data_year": str(year)},
                       files=files or {"school_list": ("", b"", "application/octet-stream")})


@contextmanager
def county_with_round(app):
    """Users, version 1 (example-pass) and the 2025 round opened from it: the bureau's browser."""
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        assert upload(bureau, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200
        r = open_round(bureau)
        assert r.status_code == 200 and r.url.path.endswith(f"/collection/{YEAR}"), r.text[:800]
        yield bureau


def print_accounts(bureau) -> tuple[str, dict[str, tuple[str, str]]]:
    """The printed sheet and school code -> (user name, initial password) read from it."""
    token = csrf_token(bureau.get(ROUND).text)
    r = bureau.post(ROUND + "/accounts", data={"_csrf_token": token})
    assert r.status_code == 200, r.text[:500]
    found = re.findall(r"学校代码 (\S+?)）学校填报员.*?用户名：<b>(\S+?)</b>　初始密码：<b>(\S+?)</b>", r.text, re.S)
    return r.text, {code: (user, pw) for code, user, pw in found}


@contextmanager
def school_login(app, username: str, password: str, change: bool = True):
    """A school clerk's browser, signed in and (``change``) past the first-login password change."""
    with browser(app) as c:
        log_in(c, username, password)
        if change:
            page = c.get("/inspector/password")
            r = c.post("/inspector/password", data={"_csrf_token": csrf_token(page.text), "current": password,
                                                     "new": NEW_PASSWORD, "again": NEW_PASSWORD})
            assert r.status_code == 200 and "密码已修改" in r.text, r.text[:500]
        yield c


def send(c, values: dict[str, str], action: str = "submit"):
    token = csrf_token(c.get("/school").text)
    return c.post("/school", data={"_csrf_token": token, "action": action, **values})


def decide(bureau, code: str, decision: str, reasons: dict[str, str] | None = None):
    page = bureau.get(f"{ROUND}/schools/{code}")
    data = {"_csrf_token": csrf_token(page.text), "decision": decision}
    data.update({f"reason_{c}": r for c, r in (reasons or {}).items()})
    return bureau.post(f"{ROUND}/schools/{code}", data=data)


def docx() -> bytes:
    """A minimal .docx, the same bytes on every call (members dated, not stamped with the time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<document/>")):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def attach(c, group: str, name: str, data: bytes):
    """A school's clerk attaches a file to one of its field groups (the response, whatever it is)."""
    token = csrf_token(c.get("/school").text)
    return c.post("/school/evidence", data={"_csrf_token": token, "group": group},
                  files={"file": (name, data, "application/octet-stream")})
