"""Inspector workspace (issue 4) on the real app: roles on every route, workbook versions,
the verdict page and its exports for the two example counties."""

import io
import json
import re
from urllib.parse import quote

import pytest
from inspector_helpers import (
    COUNTY_A,
    COUNTY_B,
    EXAMPLE_OF,
    EXAMPLES,
    browser,
    campaign_with_responses,
    county_url,
    example_zip,
    expected,
    make_users,
    upload,
)
from openpyxl import load_workbook
from sqlmodel import Session, select
from svc_helpers import csrf_token

from scoring import display
from scoring import names as N
from scoring.ledger import ledger_rows
from scoring.profile import load_profile
from tests.test_examples import mismatches
from scoring.responses import read_responses
from scoring.verdict import evaluate
from scoring.workbook import read_workbook
from service.accounts.routes import INSPECTOR_ROUTES as ACCOUNT_ROUTES
from service.collection.routes import BUREAU_ROUTES as COLLECTION_ROUTES
from service.collection.routes import EVIDENCE_ROUTES
from service.roadmap.routes import INSPECTOR_ROUTES as ROADMAP_ROUTES
from service.verdicts.county_routes import COUNTY_ROUTES
from service.verdicts.routes import INSPECTOR_ROUTES as VERDICT_ROUTES
from service.workbooks.routes import INSPECTOR_ROUTES as WORKBOOK_ROUTES
from service.db.models import Campaign, WorkbookVersion


def versions(app, county: str) -> list[WorkbookVersion]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(WorkbookVersion).where(WorkbookVersion.county_name == county)
                           .order_by(WorkbookVersion.version)))


@pytest.fixture
def world(app):
    """Two counties, each with one workbook version (uploaded by its bureau) and a campaign holding
    the example's responses; accounts of every role."""
    make_users(app)
    cids = {}
    for county, bureau in ((COUNTY_A, "bureau_a"), (COUNTY_B, "bureau_b")):
        with browser(app, bureau) as c:
            r = upload(c, county, [(f"{EXAMPLE_OF[county]}.zip", example_zip(EXAMPLE_OF[county]))])
            assert r.status_code == 200 and "处问题" not in r.text, r.text[:3000]
        cids[county] = campaign_with_responses(app, county, EXAMPLE_OF[county])
    return cids


# ---- roles: every route of the workspace, allowed and refused, across two counties ---------------

def _expectation(path: str, method: str, user: str | None, county: str) -> set[int]:
    """Allowed statuses for ``user`` on a route of ``county`` (COUNTY_A in this test)."""
    if user is None:
        return {303}                                             # to the login page
    own = {"bureau_a": True, "bureau_b": False, "inspector_a": True, "province": True}[user]
    if path == "/inspector":
        return {200, 303}
    if path == "/inspector/template.xlsx":
        return {200}
    if path == "/inspector/password":                           # one's own: every role (422: empty form)
        return {200} if method == "GET" else {422}
    if path.startswith(("/inspector/accounts", "/inspector/settings")):
        return {200, 303, 422} if user == "province" else {403}
    if path in ("/inspector/overview", "/inspector/overview.xlsx", "/inspector/trends"):
        return {200} if user in ("province", "inspector_a") else {403}
    if path.endswith("/workbooks") and method == "POST":
        return {200, 303, 422} if user == "bureau_a" else {403}
    if path.endswith("/withdraw"):                               # 422 here: no reason given
        return {303, 422} if user == "bureau_a" else {403}
    if path == "/inspector/acceptance":
        if method == "POST":
            return {303, 422} if user == "province" else {403}
        return {200} if user in ("province", "inspector_a") else {403}
    if path.endswith("/evidence/{eid:int}") and "/collection" not in path:   # the county's readers: no file yet
        return {404} if own else {403}
    if "/collection" in path:                                    # the county's bureau (and the province)
        if user not in ("bureau_a", "province"):
            return {403}
        return {200} if path.endswith("/collection") and method == "GET" else {404, 422}   # no round yet
    if "/roadmap" in path and method == "POST":
        return {303, 409, 422} if user == "bureau_a" else {403}
    if "/roadmap/" in path:        # a plan's downloads and task lists: none yet, or no department named
        return {400, 404} if own else {403}
    return {200} if own else {403}


def _concrete(path: str) -> str:
    ids = {"county": quote(COUNTY_A), "version": "1", "year": "2025", "code": "S01", "eid": "1"}
    return re.sub(r"\{(\w+):\w+\}", lambda m: ids[m.group(1)], path)


def _workspace_routes(app):
    for route in app.routes:
        if route.path.startswith("/inspector"):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield route.path, method


def test_every_workspace_route_is_allowed_or_refused_by_role(app, world):
    routes = list(_workspace_routes(app))
    assert len(routes) == len(ACCOUNT_ROUTES + VERDICT_ROUTES + WORKBOOK_ROUTES + ROADMAP_ROUTES + COUNTY_ROUTES
                                   + COLLECTION_ROUTES + EVIDENCE_ROUTES) >= 15             # none escapes: every handler is exercised
    for user in (None, "bureau_a", "bureau_b", "inspector_a", "province"):
        with browser(app, user) as c:
            token = csrf_token(c.get("/login").text)
            for path, method in routes:
                url = _concrete(path) + ("?a=1&b=1" if path.endswith("/compare") else "")
                if method == "GET":
                    r = c.get(url, follow_redirects=False)
                else:
                    r = c.request(method, url, data={"_csrf_token": token}, follow_redirects=False)
                allowed = _expectation(path, method, user, COUNTY_A)
                assert r.status_code in allowed, (user, method, path, r.status_code)
                if user is None:
                    assert r.headers["location"].startswith("/login")
                if r.status_code == 403:
                    assert COUNTY_A not in r.text or path == "/inspector/overview"   # nothing of county A leaks


def test_county_b_bureau_never_sees_county_a(app, world):
    with browser(app, "bureau_b") as c:
        assert COUNTY_A not in c.get("/inspector").text
        for suffix in ("", "/verdict", "/verdict.json", "/verdict.xlsx", "/report", "/ledger.csv", "/ledger.xlsx",
                       "/workbooks/1", "/compare?a=1&b=1"):
            assert c.get(county_url(COUNTY_A, suffix)).status_code == 403, suffix
            assert c.get(county_url(COUNTY_B, suffix)).status_code == 200, suffix
        # the bureau pages of county A's campaign too (read and write), and the province-wide list
        cid = world[COUNTY_A]
        assert c.get(f"/bureau/campaigns/{cid}").status_code == 403
        assert c.get(f"/bureau/campaigns/{cid}/export.csv").status_code == 403
        token = csrf_token(c.get("/inspector").text)
        assert c.post(f"/bureau/campaigns/{cid}/close", data={"_csrf_token": token}).status_code == 403
        assert c.get(f"/bureau/campaigns/{world[COUNTY_B]}").status_code == 200
        r = c.get("/bureau", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/inspector"
        before = c.get(f"/bureau/campaigns/{world[COUNTY_B]}").status_code
        r = c.post("/bureau/campaigns", data={"_csrf_token": token, "name": "x", "county_name": COUNTY_A},
                   follow_redirects=False)
        assert r.status_code == 422 and f"不能为“{COUNTY_A}”创建" in r.text and before == 200
    with Session(app.state.engine) as s:
        assert not s.exec(select(Campaign).where(Campaign.name == "x")).first()


def test_inspector_reads_assigned_county_only_and_changes_nothing(app, world):
    with browser(app, "inspector_a") as c:
        cid = world[COUNTY_A]
        assert c.get(f"/bureau/campaigns/{cid}").status_code == 200
        assert c.get(f"/bureau/campaigns/{world[COUNTY_B]}").status_code == 403
        token = csrf_token(c.get("/inspector").text)
        assert c.post(f"/bureau/campaigns/{cid}/close", data={"_csrf_token": token}).status_code == 403
        assert c.get("/bureau/campaigns/new").status_code == 403
        r = upload(c, COUNTY_A, [("x.zip", example_zip("example-pass"))])
        assert r.status_code == 403 and len(versions(app, COUNTY_A)) == 1
        overview = c.get("/inspector/overview")
        assert COUNTY_A in overview.text and COUNTY_B not in overview.text


def test_province_overview_lists_every_county_sortable(app, world):
    with browser(app, "province") as c:
        page = c.get("/inspector/overview?sort=-rate")
        assert page.status_code == 200
        for county in (COUNTY_A, COUNTY_B):
            e = expected(county)["parts"]["recognition"]
            assert county in page.text
            assert display.percent(e["rate"]) in page.text
        # sorted by rate descending: example-fail's 93.26 % is above example-pass's 93.23 %
        assert page.text.index(COUNTY_B) < page.text.index(COUNTY_A)
        page = c.get("/inspector/overview?sort=rate")
        assert page.text.index(COUNTY_A) < page.text.index(COUNTY_B)


def test_province_admin_manages_accounts(app, world):
    with browser(app, "province") as c:
        token = csrf_token(c.get("/inspector/accounts").text)
        r = c.post("/inspector/accounts", data={"_csrf_token": token, "username": "new_inspector",
                                               "password": "long enough pw", "role": "inspector",
                                               "counties": f"{COUNTY_A}，{COUNTY_B}"})
        assert r.status_code == 200 and "new_inspector" in r.text
        r = c.post("/inspector/accounts", data={"_csrf_token": token, "username": "bad_bureau",
                                               "password": "long enough pw", "role": "bureau_admin",
                                               "counties": f"{COUNTY_A},{COUNTY_B}"})
        assert r.status_code == 422
    from inspector_helpers import log_in
    with browser(app) as c:
        log_in(c, "new_inspector", "long enough pw")
        page = c.get("/inspector/overview")
        assert COUNTY_A in page.text and COUNTY_B in page.text


# ---- uploads ---------------------------------------------------------------------------------------

def _csv(name: str, example: str = "example-pass") -> str:
    return (EXAMPLES / example / name).read_text(encoding="utf-8")


def _bad_workbooks():
    schools = _csv("schools.csv")
    lines = schools.splitlines()
    header = lines[0].split(",")
    col = header.index("students_junior")

    def cell(line_no: int, column: int, value: str) -> str:
        out = list(lines)
        cells = out[line_no - 1].split(",")
        cells[column] = value
        out[line_no - 1] = ",".join(cells)
        return "\n".join(out) + "\n"

    county = _csv("county.csv")
    q6 = re.sub(r"^Q6,.*$", "Q6,很好", county, flags=re.MULTILINE)
    return {
        "not a number": ({"schools.csv": cell(3, col, "abc").encode()}, ("schools", "3", "初中在校生数（students_junior）", "abc")),
        "blank required": ({"schools.csv": cell(4, header.index("school_name"), "").encode()},
                           ("schools", "4", "学校名称（school_name）", "")),
        "duplicate code": ({"schools.csv": cell(5, 0, lines[1].split(",")[0]).encode()},
                           ("schools", "5", "学校代码（school_code）", lines[1].split(",")[0])),
        "bad county value": ({"county.csv": q6.encode()}, ("county", None, "学校德育工作、校园文化建设水平（Q6）", "很好")),
        "missing column": ({"schools.csv": "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != col)
                                                     for line in lines).encode() + b"\n"},
                           ("schools", "1", "初中在校生数", None)),
    }


@pytest.mark.parametrize("kind", list(_bad_workbooks()))
def test_a_bad_workbook_lists_every_problem_located_and_stores_nothing(app, kind):
    make_users(app)
    overrides, (sheet, row, column, value) = _bad_workbooks()[kind]
    with browser(app, "bureau_a") as c:
        r = upload(c, COUNTY_A, [("bad.zip", example_zip("example-pass", overrides))])
        assert r.status_code == 422, r.text[:2000]
        assert "未保存任何内容" in r.text
        problems = re.findall(r'<tr class="fail"><td>(.*?)</td><td class="n">(.*?)</td><td>(.*?)</td>'
                              r'<td>(.*?)</td><td>(.*?)</td></tr>', r.text)
        assert problems, r.text[:3000]
        hits = [p for p in problems if p[0] == sheet and p[2] == column and (row is None or p[1] == row)
                and (value is None or p[3] == value)]
        assert hits, (kind, problems)
        assert all(p[4] for p in problems)                     # every problem says what was expected
    assert versions(app, COUNTY_A) == []


def test_garbage_wrong_county_and_empty_uploads_are_refused(app):
    make_users(app)
    with browser(app, "bureau_a") as c:
        r = upload(c, COUNTY_A, [("junk.xlsx", b"not a workbook at all")])
        assert r.status_code == 422 and "junk.xlsx" in r.text
        r = upload(c, COUNTY_A, [("other.zip", example_zip("example-fail"))])   # county B's workbook
        assert r.status_code == 422 and "县名" in r.text and COUNTY_B in r.text
        r = upload(c, COUNTY_A, [("empty.zip", b"")])
        assert r.status_code == 422
    assert versions(app, COUNTY_A) == []


def test_good_uploads_make_versions_listed_and_comparable(app):
    make_users(app)
    with browser(app, "bureau_a") as c:
        v1 = example_zip("example-pass")
        r = upload(c, COUNTY_A, [("v1.zip", v1)])
        assert r.status_code == 200
        # version 2 from the three CSVs: one school's sports area cut
        schools = _csv("schools.csv").splitlines()
        header = schools[0].split(",")
        cells = schools[1].split(",")
        cells[header.index("sports_area_m2")] = "100"
        schools[1] = ",".join(cells)
        files = [("schools.csv", ("\n".join(schools) + "\n").encode()),
                 ("county.csv", (EXAMPLES / "example-pass" / "county.csv").read_bytes()),
                 ("veto.csv", (EXAMPLES / "example-pass" / "veto.csv").read_bytes())]
        r = upload(c, COUNTY_A, files)
        assert r.status_code == 200, r.text[:2000]
        stored = versions(app, COUNTY_A)
        assert [v.version for v in stored] == [1, 2]
        import hashlib
        assert stored[0].sha256 == hashlib.sha256(v1).hexdigest()
        assert stored[0].filename == "v1.zip" and stored[1].filename == "schools.csv+county.csv+veto.csv"
        assert stored[0].uploaded_by is not None and stored[0].uploaded_at is not None
        assert "第 1 版" in r.text and "第 2 版" in r.text and stored[0].sha256 in r.text
        assert c.get(county_url(COUNTY_A, "/workbooks/1")).content == v1
        diff = c.get(county_url(COUNTY_A, "/compare?a=1&b=2"))
        assert diff.status_code == 200
        code = cells[0]
        first = diff.text[diff.text.index('<table id="field-changes">'):].split("</tr>")[1]
        assert code in first and "体育运动场馆面积" in first and ">100<" in first and "R5 生均体育运动场馆面积" in first
        assert "parts." not in diff.text and "sections[" not in diff.text
        # the latest version is the verdict's, and the first is still there
        assert "第 2 版" in c.get(county_url(COUNTY_A, "/verdict")).text
        assert "第 1 版" in c.get(county_url(COUNTY_A, "/verdict?version=1")).text


def test_blank_template_has_chinese_headers_notes_and_drop_downs(app):
    make_users(app)
    with browser(app, "inspector_a") as c:
        r = c.get("/inspector/template.xlsx")
        assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert {"学校", "县域", "一票否决", "说明"} <= set(wb.sheetnames)
    assert wb["学校"]["A1"].value == "学校代码"
    formulas = " ".join(dv.formula1 for dv in wb["学校"].data_validations.dataValidation)
    assert "九年一贯制" in formulas and "乡村" in formulas
    county_dv = " ".join(dv.formula1 for dv in wb["县域"].data_validations.dataValidation)
    assert "是" in county_dv and "优秀" in county_dv
    notes = [row[1] for row in wb["说明"].iter_rows(values_only=True)]
    keys = [row[2] for row in wb["说明"].iter_rows(values_only=True)]
    assert "学校代码" in notes and "教师平均工资收入" in notes and "Q6" in keys


# ---- the verdict of the two example counties ---------------------------------------------------------

def _scoring_verdict(county: str):
    folder = EXAMPLES / EXAMPLE_OF[county]
    profile = load_profile()
    workbook = read_workbook(folder, profile=profile)
    responses = read_responses(folder / "responses.csv", set(workbook.schools["school_code"]))
    return workbook, responses, evaluate(workbook, responses, profile), profile


@pytest.mark.parametrize("county", [COUNTY_A, COUNTY_B])
def test_json_export_is_expected_json_and_the_ledger(app, world, county):
    with browser(app, "inspector_a" if county == COUNTY_A else "province") as c:
        r = c.get(county_url(county, "/verdict.json"))
    assert r.status_code == 200
    data = r.json()
    assert mismatches(data, expected(county)) == []
    workbook, responses, verdict, profile = _scoring_verdict(county)
    assert data["ledger"] == json.loads(json.dumps(ledger_rows(verdict, workbook, profile, responses)))
    assert (len(data["ledger"]) > 0) == (county == COUNTY_B)


@pytest.mark.parametrize("county", [COUNTY_A, COUNTY_B])
def test_verdict_page_shows_the_display_rounded_figures(app, world, county):
    e = expected(county)
    with browser(app, "province") as c:
        page = c.get(county_url(county, "/verdict")).text
        report = c.get(county_url(county, "/report")).text
    assert ("未通过优质均衡评估" in page) == (not e["passed"])
    rec = e["parts"]["recognition"]
    threshold = 0.85
    assert f'id="rate">{display.percent(rec["rate"], passed=rec["rate"] >= threshold)}<' in page
    assert f'id="pooled">{display.percent(rec["pooled_rate"], passed=rec["rate"] >= threshold)}<' in page
    assert f'id="ci">{display.percent(rec["ci95"][0])} – {display.percent(rec["ci95"][1])}<' in page
    assert f'id="lower">{display.percent(rec["lower_bound_95"], passed=rec["lower_bound_95"] >= threshold)}<' in page
    assert f'{rec["collected"]} / {rec["valid"]}' in page
    reasons = _scoring_verdict(county)[2].to_dict()       # expected.json carries no reasons
    for code, check in rec["checks"].items():
        assert f"<td>{code} " in page
        if not check["passed"]:
            assert reasons["parts"]["recognition"]["checks"][code]["reason"] in page
    res = e["parts"]["resources"]
    for s in res["sections"]:
        for ind, value in s["values"].items():
            assert display.number(value, passed=ind in s["met"]) in page
    for s in reasons["parts"]["resources"]["sections"]:
        if not s["passed"]:
            assert s["reason"] in page
    for stage, cvs in res["cv"].items():
        for ind, value in cvs.items():
            assert f'<td class="n">{display.cv(value, passed=res["cv_passed"][stage][ind])}</td>' in page
    for part in ("guarantee", "quality"):
        for code, item in reasons["parts"][part]["items"].items():
            if not item["passed"]:
                assert item["reason"] in page
    if e["veto"]["triggered"]:
        assert all(v in page for v in e["veto"]["triggered"])
    assert page.count("<svg") >= 3 and "<script" not in page
    assert "@page{size:A4" in report and "短板台账" in report


def test_ledger_rows_shown_are_scoring_ledger_rows_sortable_and_exported(app, world):
    workbook, responses, verdict, profile = _scoring_verdict(COUNTY_B)
    rows = ledger_rows(verdict, workbook, profile, responses)
    with browser(app, "bureau_b") as c:
        page = c.get(county_url(COUNTY_B, "/verdict")).text
        assert f"短板台账（{len(rows)} 项）" in page
        shown = page[page.index('<table class="ledger">'):]
        for row in rows:
            if row.get("reason"):
                assert row["reason"] in shown
        assert shown.count("<tr>") == len(rows) + 1
        by_increase = c.get(county_url(COUNTY_B, "/verdict?sort=-increase")).text
        reasons = [r["reason"] for r in sorted((r for r in rows if r.get("increase") is not None),
                                               key=lambda r: -r["increase"])]
        table = by_increase[by_increase.index('<table class="ledger">'):]
        positions = [table.index(reason) for reason in reasons]
        assert len(positions) > 1 and positions == sorted(positions)
        csv_text = c.get(county_url(COUNTY_B, "/ledger.csv")).content.decode("utf-8-sig")
        assert len(csv_text.strip().splitlines()) == len(rows) + 1
        x = load_workbook(io.BytesIO(c.get(county_url(COUNTY_B, "/ledger.xlsx?sort=rule")).content))
        assert x["短板台账"].max_row == len(rows) + 1


@pytest.mark.parametrize("county", [COUNTY_A, COUNTY_B])
def test_xlsx_export_has_a_sheet_per_part_the_ledger_and_the_responses(app, world, county):
    e = expected(county)
    with browser(app, "province") as c:
        r = c.get(county_url(county, "/verdict.xlsx"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert {"总览", "资源配置", "政府保障程度", "教育质量", "社会认可度", "答卷汇总", "短板台账"} <= set(wb.sheetnames)
    assert {"各题认可情况"} <= set(wb.sheetnames)
    rec = e["parts"]["recognition"]
    values = {row[0]: row[1] for row in wb["社会认可度"].iter_rows(values_only=True) if row and row[0]}

    def shown(text: str) -> float:             # the cell holds the figure the page shows
        return float(text.rstrip("%")) / (100 if text.endswith("%") else 1)

    ok = rec["rate"] >= 0.85
    assert values["加权认可度"] == pytest.approx(shown(display.percent(rec["rate"], passed=ok)), abs=1e-9)
    assert values["合并认可度"] == pytest.approx(shown(display.percent(rec["pooled_rate"], passed=ok)), abs=1e-9)
    assert values["95% 区间下限"] == pytest.approx(shown(display.percent(rec["ci95"][0])), abs=1e-9)
    lower_ok = rec["lower_bound_95"] >= 0.85
    assert values["单侧 95% 下限"] == pytest.approx(shown(display.percent(rec["lower_bound_95"], passed=lower_ok)),
                                                abs=1e-9)
    assert values["有效"] == rec["valid"]
    sections = {(row[0], row[2]): row for row in wb["资源配置"].iter_rows(min_row=2, values_only=True)
                if row[0] and isinstance(row[3], (int, float))}
    assert len(sections) == len(e["parts"]["resources"]["sections"])
    for s in e["parts"]["resources"]["sections"]:
        row = sections[s["school_code"], N.STAGES[s["stage"]]]
        for i, ind in enumerate(("R1", "R2", "R3", "R4", "R5", "R6", "R7")):
            assert row[4 + i] == pytest.approx(shown(display.number(s["values"][ind], passed=ind in s["met"])))
    groups = {row[0]: row for row in wb["答卷汇总"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    for g, v in rec["groups"].items():
        assert groups[N.GROUPS[g]][1] == v["n"]
    workbook, responses, verdict, profile = _scoring_verdict(county)
    assert wb["短板台账"].max_row == len(ledger_rows(verdict, workbook, profile, responses)) + 1


def test_demo_seeds_roles_and_a_workbook_version_idempotently(app):
    from service.demo import seed
    for _ in range(2):
        logins = seed(app.state.engine, app.state.templates, app.state.profile)["logins"]
    assert len(versions(app, COUNTY_A)) == 1
    from inspector_helpers import log_in
    with browser(app) as c:
        r = log_in(c, "inspector", logins["inspector"])
        assert r.url.path == "/inspector" and COUNTY_A in r.text
        page = c.get(county_url(COUNTY_A, "/verdict"))
        assert page.status_code == 200 and "通过优质均衡评估" in page.text
    with browser(app) as c:
        r = log_in(c, "demo", logins["demo"])                 # the bureau lands on its county
        assert r.url.path == county_url(COUNTY_A) or r.url.path == f"/inspector/counties/{COUNTY_A}"


def test_every_campaign_route_of_the_bureau_is_scoped_to_the_county(app, world):
    """Every ``/bureau/campaigns/{cid}…`` route (taken from the app, so none escapes): county A's
    campaign is refused to county B's bureau (read and write) and to the inspector for writing."""
    from svc_helpers import link_token
    cid = world[COUNTY_A]
    ids = {"cid": str(cid), "token": link_token(app, cid), "batch": "1", "fmt": "png"}
    routes = [(route.path, m) for route in app.routes if "{cid:int}" in route.path
              for m in sorted(route.methods - {"HEAD", "OPTIONS"})]
    assert len(routes) >= 10
    for user in ("bureau_b", "inspector_a", "bureau_a", "province"):
        with browser(app, user) as c:
            token = csrf_token(c.get("/inspector").text)
            for path, method in routes:
                url = re.sub(r"\{(\w+):\w+\}", lambda m: ids[m.group(1)], path)
                if method == "GET":
                    status = c.get(url, follow_redirects=False).status_code
                    if user == "inspector_a" and "/export." in path:
                        continue        # raw answers may be kept from inspectors (service/trust)
                    assert (status == 403) == (user == "bureau_b"), (user, path, status)
                elif user in ("bureau_b", "inspector_a"):
                    status = c.request(method, url, data={"_csrf_token": token}, follow_redirects=False).status_code
                    assert status == 403, (user, method, path, status)


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
