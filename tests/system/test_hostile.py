"""Hostile input against the app in-process (Litestar's TestClient, SQLite file): the phone
form under random fields and values (hypothesis), free text with <script>, oversized
uploads and a zip bomb, a respondent (no session) on every bureau/inspector route, and the
rate limit that keys on device + campaign, not on the IP."""

import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from litestar.testing import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "service"))

import svc_helpers as H  # noqa: E402

from service.app import create_app  # noqa: E402
from service.accounts.roles import create_account  # noqa: E402
from service.db.models import Campaign, Answer  # noqa: E402
from service.web.settings import Settings  # noqa: E402

ITEMS = tuple(H.ALL_A)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app, a logged-in bureau client and an open campaign with its schools."""
    clock = H.FakeClock()
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'renke.db'}",
                              secret="test-secret", clock=clock))
    create_account(app.state.engine, H.ADMIN, H.PASSWORD)
    with TestClient(app, base_url="http://testserver.local") as bureau:
        H.login(bureau)
        cid = H.create_campaign(bureau)
        r = H.upload_workbook(bureau, cid, H.example_zip())
        assert r.status_code == 200
        yield {"app": app, "clock": clock, "bureau": bureau, "cid": cid,
               "student": f"/s/{H.link_token(app, cid, 'S01', 'student')}"}
    app.state.engine.dispose()


def _count(app) -> int:
    with Session(app.state.engine) as s:
        return s.exec(select(func.count()).select_from(Answer)).one()


def _rows(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer)))


# -- the form handler under random input ---------------------------------------------------

FIELD_NAMES = st.one_of(st.sampled_from(["_t", "_sid", "group", "school_code", "grade", "location", "comment",
                                         *ITEMS]), st.text(max_size=20))
FIELD_VALUES = st.one_of(st.sampled_from(["A", "B", "C", "D", "E", "", "5", "0", "99", "-1", "S01", "urban",
                                          "student", "<script>alert(1)</script>", "' OR 1=1 --", "\x00"]),
                         st.text(max_size=200), st.text(min_size=1500, max_size=3000))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(fields=st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=14), keep_token=st.booleans(),
       keep_sid=st.booleans())
def test_form_handler_fuzz_never_5xx_nothing_half_written(world, fields, keep_token, keep_sid):
    app, path = world["app"], world["student"]
    with TestClient(app, base_url="http://testserver.local") as phone:
        page = phone.get(path)
        assert page.status_code == 200
        if keep_token:
            fields["_t"] = H.hidden(page.text, "_t")
        if keep_sid:
            fields["_sid"] = H.hidden(page.text, "_sid")
        before = _count(app)
        r = phone.post(path, data=fields)
    assert r.status_code < 500, r.text[:500]
    assert r.status_code in (200, 400, 403, 404, 409, 410, 413, 422, 429)   # 413: over the form body bound
    after = _count(app)
    assert after - before in (0, 1)
    if after == before + 1:
        assert r.status_code == 200
        row = max(_rows(app), key=lambda x: x.id)
        assert all(getattr(row, i) in ("A", "B", "C", "D", "E") for i in ITEMS), "a stored answer is complete"


def test_garbage_bodies_are_4xx(world):
    app, path = world["app"], world["student"]
    with TestClient(app, base_url="http://testserver.local") as phone:
        for body, ctype in [(b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                            (b"{\"_t\": 1}", "application/json"), (b"a=" + b"x" * 200_000, "application/x-www-form-urlencoded"),
                            (b"--x\r\n\r\n", "multipart/form-data; boundary=x")]:
            r = phone.post(path, content=body, headers={"Content-Type": ctype})
            assert 400 <= r.status_code < 500 or r.status_code == 200 and "提交成功" not in r.text, (ctype, r.status_code)


# -- free text is shown escaped --------------------------------------------------------------

def test_script_in_free_text_is_escaped_everywhere(world):
    app, path, bureau, cid = world["app"], world["student"], world["bureau"], world["cid"]
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    with TestClient(app, base_url="http://testserver.local") as phone:
        # re-shown on the form when an answer is missing
        r, token, sid = H.answer(phone, world["clock"], path, {"grade": "5", "comment": evil})
        assert r.status_code == 422
        assert "<script>alert('x')" not in r.text and "onerror=alert" not in r.text.replace("onerror=alert(1)&gt;", "")
        assert "&lt;script&gt;" in r.text
        r = phone.post(path, data={"_t": token, "_sid": sid, "grade": "5", "comment": evil, **H.ALL_A})
        assert r.status_code == 200 and "提交成功" in r.text
    pages = [f"/bureau/campaigns/{cid}", f"/bureau/campaigns/{cid}/verdict", "/bureau", "/inspector"]
    for url in pages:
        page = bureau.get(url)
        assert "<script>alert('x')" not in page.text, url
    csv = bureau.get(f"/bureau/campaigns/{cid}/export.csv")
    if csv.status_code == 200:
        assert csv.headers["content-type"].startswith("text/csv")


# -- uploads ------------------------------------------------------------------------------

def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("schools.csv", b"0" * (80 * 2**20))    # 80 MB of zeros, ~80 KB compressed
        for name in ("county.csv", "veto.csv"):
            z.writestr(name, (H.EXAMPLE / name).read_bytes())
    return buf.getvalue()


def _imported(app, cid) -> str | None:
    with Session(app.state.engine) as s:
        return s.get(Campaign, cid).school_list_file


def test_oversized_upload_and_zip_bomb_are_refused(world):
    app, bureau = world["app"], world["bureau"]
    cid = H.create_campaign(bureau, name="上传测试")
    bomb = _zip_bomb()
    assert len(bomb) < 2**20
    r = H.upload_workbook(bureau, cid, bomb, "bomb.zip")
    assert r.status_code in (200, 400, 413, 422) and r.status_code < 500
    assert _imported(app, cid) is None, "a zip bomb is not stored as the campaign's workbook"
    big = b"PK\x03\x04" + b"\x00" * (60 * 2**20)
    r = H.upload_workbook(bureau, cid, big, "big.zip")
    assert r.status_code in (200, 400, 413) and r.status_code < 500
    assert _imported(app, cid) is None


# -- a respondent can never read results -----------------------------------------------------

def _concrete(path: str, cid: int) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(cid) if m.group(2) == "int" else "x", path)


def test_respondent_cannot_read_any_bureau_or_inspector_route(world):
    app, cid = world["app"], world["cid"]
    paths = sorted({route.path for route in app.routes
                    if route.path.startswith(("/bureau", "/inspector"))})
    assert len(paths) > 5
    with TestClient(app, base_url="http://testserver.local") as phone:
        phone.get(world["student"])                 # a respondent: device cookie, no session
        for path in paths:
            url = _concrete(path, cid)
            for method in ("GET", "POST"):
                r = phone.request(method, url, follow_redirects=False)
                assert r.status_code in (302, 303, 401, 403, 404, 405), (method, url, r.status_code)
                if r.status_code in (302, 303):
                    assert "/login" in r.headers["location"], (method, url, r.headers["location"])
                assert "response_id" not in r.text and "提交成功" not in r.text


# -- rate limit: device + campaign, not the IP -------------------------------------------------

def test_500_phones_behind_one_nat_all_get_through(world):
    app, path = world["app"], world["student"]
    before = _count(app)
    with TestClient(app, base_url="http://testserver.local") as nat:   # every request from one address
        for _ in range(500):
            nat.cookies.clear()                       # the next phone: its own device key
            page = nat.get(path)
            assert page.status_code == 200
            r = nat.post(path, data={"_t": H.hidden(page.text, "_t"), "_sid": H.hidden(page.text, "_sid"),
                                     "grade": "5", **H.ALL_A})
            assert r.status_code == 200 and "提交成功" in r.text
    assert _count(app) - before == 500


def test_one_device_hammering_gets_429(world):
    app, path = world["app"], world["student"]
    with TestClient(app, base_url="http://testserver.local") as phone:
        assert phone.get(path).status_code == 200     # the first load gives the phone its device key
        limit = app.state.settings.device_limit                    # RENKE_DEVICE_LIMIT, 30 by default
        codes = [phone.get(path).status_code for _ in range(limit + 5)]
        assert codes[:limit] == [200] * limit
        assert set(codes[limit:]) == {429}
        r = phone.post(path, data={"_t": "x", "_sid": "y"})
        assert r.status_code == 429
    with TestClient(app, base_url="http://testserver.local") as other:   # same address, other phone
        assert other.get(path).status_code == 200
