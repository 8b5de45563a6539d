"""Bureau pages: campaigns, workbook import, plan and progress, QR codes, sheets,
exports, the verdict round trip, and login + CSRF on every bureau route."""

import csv
import io
import json
import math
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from sqlmodel import Session, select

from service.answers.exports import RESPONSE_COLUMNS
from service.db.models import Campaign, School, WorkbookVersion

from svc_helpers import (ALL_A, EXAMPLE, answer, create_campaign, csrf_token, example_zip, link_token, login,
                      upload_workbook)

ROOT = Path(__file__).resolve().parents[3]


def test_campaign_creation_pins_templates(app, client):
    login(client)
    cid = create_campaign(client)
    with Session(app.state.engine) as s:
        c = s.get(Campaign, cid)
    assert c.county_name == "示例县" and c.resident_population == 380000
    assert (c.share_urban, c.share_town, c.share_rural) == (0.45, 0.30, 0.25)
    assert c.closes_at > c.opens_at and len(c.salt) == 32
    assert c.templates == app.state.templates and c.templates["student"]["version"] == 1
    page = client.get(f"/bureau/campaigns/{cid}")
    assert page.status_code == 200 and "示例县满意度调查" in page.text


def test_campaign_creation_errors_are_shown(client):
    login(client)
    page = client.get("/bureau/campaigns/new")
    r = client.post("/bureau/campaigns", data={
        "_csrf_token": csrf_token(page.text), "name": "", "county_name": "示例县", "resident_population": "abc",
        "share_urban": "0.5", "share_town": "0.3", "share_rural": "0.3",
        "opens_at": "2026-05-01T08:00", "closes_at": "2026-04-01T08:00"})
    assert r.status_code == 422
    assert "“abc”不是数字：请填写整数（人）" in r.text and "请填写调查名称" in r.text
    assert 'value="0.3"' in r.text     # input kept


def test_workbook_with_errors_stores_nothing_and_shows_every_problem(app, client):
    login(client)
    cid = create_campaign(client)
    lines = (EXAMPLE / "schools.csv").read_text(encoding="utf-8").splitlines()
    row = lines[2].split(",")
    row[3] = "moon"                # location of the 2nd school (line 3)
    row[4] = "many"                # students_primary
    lines[2] = ",".join(row)
    broken = example_zip({"schools.csv": ("\n".join(lines) + "\n").encode()})
    r = upload_workbook(client, cid, broken)
    assert r.status_code == 422
    problems = re.findall(r"<li>(.*?)</li>", r.text)
    assert len(problems) >= 2, problems
    assert any("第 3 行" in p and "location" in p and "moon" in p for p in problems), problems
    assert any("第 3 行" in p and "students_primary" in p for p in problems), problems
    with Session(app.state.engine) as s:
        assert s.exec(select(School).where(School.campaign_id == cid)).all() == []
        assert s.get(Campaign, cid).school_list_file is None
        assert s.exec(select(WorkbookVersion)).all() == []           # nothing stored as a version either
    r = upload_workbook(client, cid, b"not a zip at all", "county.zip")
    assert r.status_code == 422 and "学校名录有" in r.text


def test_workbook_import_creates_schools_links_and_plan(app, client, campaign, anon, clock):
    with Session(app.state.engine) as s:
        schools = s.exec(select(School).where(School.campaign_id == campaign)).all()
    assert len(schools) == 25
    page = client.get(f"/bureau/campaigns/{campaign}")
    assert "按群体（共需 600）" in page.text and "S01学校" in page.text
    assert page.text.count('class="n behind"') > 0
    answer(anon, clock, "/s/" + link_token(app, campaign, "S01", "student"), {**ALL_A, "grade": "3"})
    page = client.get(f"/bureau/campaigns/{campaign}")
    assert "已收集 1 份，有效 1 份" in page.text
    assert re.search(r'<td class="n behind">1 / \d+（差 \d+）</td>', page.text)


# ---- QR codes -----------------------------------------------------------------------------

def png_modules(data: bytes, module_count: int) -> list[list[bool]]:
    """Decode our greyscale PNG (IHDR/IDAT, filter 0) and sample each module's centre."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunks.setdefault(kind, b"")
        chunks[kind] += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert width == height and depth == 8 and colour == 0
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width + 1
    scale = width // module_count
    assert scale * module_count == width
    rows = []
    for my in range(module_count):
        y = my * scale + scale // 2
        assert raw[y * stride] == 0       # filter type None
        line = raw[y * stride + 1:(y + 1) * stride]
        rows.append([line[mx * scale + scale // 2] < 128 for mx in range(module_count)])
    return rows


def svg_modules(svg: str) -> list[list[bool]]:
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    grid = [[False] * n for _ in range(n)]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        for dx in range(int(w)):
            grid[int(y)][int(x) + dx] = True
    return grid


def reference_matrix(url: str) -> list[list[bool]]:
    """An independent encoding of ``url`` by the qrcode library (not through service.qr)."""
    import qrcode
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return [list(map(bool, row)) for row in code.get_matrix()]


def test_qr_png_and_svg_encode_the_link_url(app, client, campaign):
    # Honest scope: no QR decoder (zbar) is installed, so the images are read back
    # module by module and compared with qrcode's own matrix for the expected URL.
    for school, group in ((None, None), ("S07", None), ("S07", "parent")):
        token = link_token(app, campaign, school, group)
        url = f"http://testserver.local/s/{token}"
        expected = reference_matrix(url)
        png = client.get(f"/bureau/campaigns/{campaign}/qr/{token}/png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png_modules(png.content, len(expected)) == expected
        svg = client.get(f"/bureau/campaigns/{campaign}/qr/{token}/svg")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        assert svg_modules(svg.text) == expected
        assert reference_matrix(url + "x") != expected         # the check is sensitive to the URL
    assert client.get(f"/bureau/campaigns/{campaign}/qr/nosuch/png").status_code == 404


def test_printable_sheets_and_links_work(app, client, campaign, anon):
    r = client.get(f"/bureau/campaigns/{campaign}/sheets?school=S07")
    assert r.status_code == 200
    assert r.text.count('class="sheet"') == 5          # the school link and one per school group
    assert "S07学校" in r.text and "家长" in r.text and "@page{size:A4" in r.text
    urls = re.findall(r'<div class="url">(.*?)</div>', r.text)
    assert len(urls) == 5
    for url in urls:
        assert anon.get(url.replace("http://testserver.local", "")).status_code == 200
    everything = client.get(f"/bureau/campaigns/{campaign}/sheets")
    assert everything.text.count('class="sheet"') == 4 + 25 * 5


# ---- exports and the verdict --------------------------------------------------------------

def fill(app, campaign, anon, clock) -> None:
    """A small mix of answers: students, parents, staff, the public; a duplicate and a speeder."""
    plan = [("S01", "student", {"grade": "3"}), ("S02", "student", {"grade": "5"}),
            ("S04", "parent", {"grade": "2"}), ("S13", "parent", {"grade": "6"}),
            ("S03", "teacher", {}), ("S03", "principal", {}),
            (None, "npc_deputy", {"location": "urban"}), (None, "cppcc_member", {"location": "town"}),
            (None, "public", {"location": "rural"})]
    def phone():   # a fresh browser: its own device cookie
        return anon.__class__(app, base_url="http://testserver.local")

    for i, (school, group, extra) in enumerate(plan):
        answers = {**ALL_A, "overall": "BCDE"[i % 4], "burden": "E"}
        answer(phone(), clock, "/s/" + link_token(app, campaign, school, group), {**answers, **extra})
    path = "/s/" + link_token(app, campaign, "S05", "parent")
    answer(anon, clock, path, {**ALL_A, "grade": "4"})
    answer(anon, clock, path, {**ALL_A, "grade": "4"})                        # duplicate device
    answer(phone(), clock, "/s/" + link_token(app, campaign, None, "public"), {**ALL_A, "location": "town"},
           wait=5)                                                             # speeder


def test_export_csv_is_the_survey_responses_file(app, client, campaign, anon, clock):
    fill(app, campaign, anon, clock)
    r = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert tuple(rows[0]) == RESPONSE_COLUMNS
    body = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert len(body) == 12
    dup = [b for b in body if b["duplicate_of"]]
    assert len(dup) == 1 and dup[0]["duplicate_of"] in {b["response_id"] for b in body}
    assert [b["duration_s"] for b in body][-1] == "5"
    assert {b["location"] for b in body} <= {"urban", "town", "rural"}


def _same_within_rounding(a, b) -> bool:
    """Equal verdict JSONs; floats within 1e-12 relative: the service reads part S from sums
    (Σy², Σy·m, …) where the CLI sums per respondent, so the last bits of a variance may differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_within_rounding(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_within_rounding(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def test_export_to_scoring_cli_gives_the_services_verdict(app, client, campaign, anon, clock, tmp_path):
    fill(app, campaign, anon, clock)
    page = client.get("/inspector/counties/示例县/verdict")
    assert page.status_code == 200 and "社会认可度" in page.text
    service_verdict = client.get("/inspector/counties/示例县/verdict.json").json()
    assert service_verdict["campaign_id"] == campaign
    with Session(app.state.engine) as s:
        pinned = s.exec(select(WorkbookVersion)).one()                 # the county's one version
        assert service_verdict["workbook_version"]["sha256"] == pinned.sha256
        (tmp_path / "workbook.zip").write_bytes(pinned.data)
    (tmp_path / "responses.csv").write_bytes(client.get(f"/bureau/campaigns/{campaign}/export.csv").content)
    out = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(tmp_path / "workbook.zip"),
                          "--responses", str(tmp_path / "responses.csv"), "--format", "json"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    for extra in ("workbook_version", "campaign_id", "counted"):
        service_verdict.pop(extra, None)
    assert _same_within_rounding(service_verdict, cli)
    rec = cli["parts"]["recognition"]
    assert rec["collected"] == 12 and rec["valid"] == 10
    assert rec["invalid"] == {"incomplete": 0, "duplicate": 1, "speeder": 1}
    assert f'{rec["collected"]} / {rec["valid"]}' in page.text


# ---- login and CSRF on every bureau route -------------------------------------------------

PUBLIC = {"/", "/healthz", "/login", "/s/{token:str}", "/s/_/icon.png", "/s/_/code"}   # the code box: a respondent's


def _concrete(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids[m.group(1)]), path)


def _routes(app):
    for route in app.routes:
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            yield route.path, method


def test_every_route_is_public_by_design_or_behind_login(app, client, campaign, anon):
    ids = {"cid": campaign, "token": link_token(app, campaign), "batch": 1, "county": "示例县", "version": 1, "fmt": "png",
           "year": 2026, "code": "S01", "eid": 1}
    login_page = anon.get("/login")
    token = csrf_token(login_page.text)
    checked = 0
    for path, method in _routes(app):
        if path in PUBLIC:
            continue
        url = _concrete(path, ids)
        if method == "GET":
            r = anon.get(url, follow_redirects=False)
        else:
            r = anon.request(method, url, data={"_csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
        checked += 1
    assert checked >= 14


def test_every_unsafe_route_requires_the_csrf_token(app, client, campaign):
    ids = {"cid": campaign, "token": link_token(app, campaign), "batch": 1, "county": "示例县", "version": 1, "fmt": "png",
           "year": 2026, "code": "S01", "eid": 1}
    unsafe = [(p, m) for p, m in _routes(app) if m not in ("GET",) and not p.startswith("/s/")]
    assert {("/login", "POST"), ("/logout", "POST"), ("/bureau/campaigns", "POST")} <= set(unsafe)
    for path, method in unsafe:
        r = client.request(method, _concrete(path, ids), data={"x": "1"}, follow_redirects=False)
        assert r.status_code == 403, (method, path, r.status_code)
        r = client.request(method, _concrete(path, ids), data={"_csrf_token": "forged"}, follow_redirects=False)
        assert r.status_code == 403, (method, path, r.status_code)
    assert client.get(f"/bureau/campaigns/{campaign}").status_code == 200     # still logged in


def test_wrong_password_and_logout(client):
    page = client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": "nope", "_csrf_token": csrf_token(page.text)})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    login(client)
    page = client.get("/bureau")
    r = client.post("/logout", data={"_csrf_token": csrf_token(page.text)})
    assert r.url.path == "/login"
    assert client.get("/bureau", follow_redirects=False).status_code == 303


def test_closing_a_campaign_stops_answers(app, client, campaign, anon):
    path = "/s/" + link_token(app, campaign, "S01", "teacher")
    assert anon.get(path).status_code == 200
    page = client.get(f"/bureau/campaigns/{campaign}")
    assert "立即结束调查" in page.text
    r = client.post(f"/bureau/campaigns/{campaign}/close", data={"_csrf_token": csrf_token(page.text)})
    assert r.status_code == 200 and "已结束" in r.text and "立即结束调查" not in r.text
    assert anon.get(path).status_code == 410


def test_errors_are_friendly_chinese_pages(app, client, campaign, monkeypatch):
    r = client.get("/bureau/campaigns/9999")
    assert r.status_code == 404 and "页面不存在" in r.text
    assert client.get("/no/such/page").status_code == 404
    import service.campaigns.routes as routes

    def boom(*_a, **_k):
        raise RuntimeError("database on fire")
    monkeypatch.setattr(routes, "progress", boom)
    r = client.get(f"/bureau/campaigns/{campaign}")
    assert r.status_code == 500 and "服务器暂时出错" in r.text
    assert "database on fire" not in r.text and "Traceback" not in r.text
