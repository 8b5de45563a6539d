"""One county, one truth (issue 10, issue 20): workbook versions are the only copy of a workbook and
come only from the county's upload; a campaign's schools come from a school list; the verdict uses
the latest counted version and the survey that counts, test campaigns never count, and the profile
is a value loaded once (a profile file works everywhere a bundled name does)."""

import json
import subprocess
import sys
from pathlib import Path

from inspector_helpers import COUNTY_A, browser, county_url, example_zip, make_users, upload
from sqlmodel import Session, select
from svc_helpers import ALL_A, answer, create_campaign, csrf_token, link_token, make_app, upload_workbook

from service.accounts import audit
from service.db.models import Campaign, Answer, School, WorkbookVersion

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "tests" / "examples" / "example-pass"


def _schools_csv(edit) -> bytes:
    lines = (EXAMPLE / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    edit(rows)
    return ("\n".join([",".join(header)] + [",".join(r[h] for h in header) for r in rows]) + "\n").encode()


def _collect(app, anon, clock, cid: int) -> None:
    """Three answers: a parent of S01 (so S01 has answers) and two members of the public."""
    r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "S01", "parent"), {"grade": "4", **ALL_A})
    assert r.status_code == 200 and "提交成功" in r.text
    for _ in range(2):
        anon.cookies.clear()
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, None, "public"), {"location": "urban", **ALL_A})
        assert r.status_code == 200


def _create_test_campaign(bureau):
    """A test campaign (试填) created through the new-campaign form: (its id, the page shown)."""
    from datetime import datetime, timedelta
    page = bureau.get("/bureau/campaigns/new")
    now = datetime.now().replace(second=0, microsecond=0)
    r = bureau.post("/bureau/campaigns", data={
        "_csrf_token": csrf_token(page.text), "name": "演练", "county_name": COUNTY_A, "is_test": "1",
        "resident_population": "380000", "share_urban": "0.45", "share_town": "0.30", "share_rural": "0.25",
        "opens_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")})
    return int(r.url.path.rsplit("/", 1)[1]), r


def _post(c, path: str, data: dict | None = None):
    token = csrf_token(c.get("/inspector").text)
    return c.post(path, data={"_csrf_token": token, **(data or {})})


def _start(bureau, cid: int, data: bytes) -> None:
    """The county's workbook uploaded as a version, and the campaign's schools imported from it."""
    r = upload(bureau, COUNTY_A, [("county.zip", data)])
    assert r.status_code == 200 and "处问题" not in r.text, r.text[:2000]
    r = upload_workbook(bureau, cid, data)
    assert r.status_code == 200 and "处问题" not in r.text, r.text[:2000]


def _verdict(c) -> dict:
    r = c.get(county_url(COUNTY_A, "/verdict.json"))
    assert r.status_code == 200
    return r.json()


def test_the_latest_version_is_every_page_and_exports_verdict(app, anon, clock, tmp_path):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        _start(bureau, cid, example_zip("example-pass"))                      # version 1
        _collect(app, anon, clock, cid)
        # Version 2 changes one figure: S02's sports ground shrinks below the standard's floor.
        v2 = example_zip("example-pass", {"schools.csv": _schools_csv(
            lambda rows: rows[1].__setitem__("sports_area_m2", "100.0"))})
        r = upload(bureau, COUNTY_A, [("v2.zip", v2)])
        assert r.status_code == 200 and "处问题" not in r.text
        with Session(app.state.engine) as s:
            assert len(s.exec(select(WorkbookVersion)).all()) == 2
        export = bureau.get(f"/bureau/campaigns/{cid}/export.csv").content
        bureau_json = _verdict(bureau)
    (tmp_path / "v2.zip").write_bytes(v2)
    (tmp_path / "responses.csv").write_bytes(export)
    out = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(tmp_path / "v2.zip"),
                          "--responses", str(tmp_path / "responses.csv")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert {k: v for k, v in bureau_json.items() if k not in ("workbook_version", "campaign_id")} == cli
    assert bureau_json["workbook_version"]["version"] == 2 and bureau_json["campaign_id"] == cid
    assert bureau_json["parts"]["recognition"]["collected"] == 3
    s02 = next(s for s in cli["parts"]["resources"]["sections"] if s["school_code"] == "S02")
    assert s02["values"]["R5"] < 1                             # the changed figure is in the verdict
    with browser(app, "inspector_a") as inspector:             # the other role sees the same verdict
        assert _verdict(inspector) == bureau_json
        for page in ("/verdict", "/report"):
            text = inspector.get(county_url(COUNTY_A, page)).text
            assert "第 2 版" in text
        ledger = inspector.get(county_url(COUNTY_A, "/ledger.csv")).content.decode("utf-8-sig")
        assert "S02" in ledger


def test_a_version_that_renames_an_answered_school_is_refused_and_nothing_changes(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        _start(bureau, cid, example_zip("example-pass"))
        _collect(app, anon, clock, cid)
        renamed = example_zip("example-pass", {"schools.csv": _schools_csv(
            lambda rows: rows[0].__setitem__("school_code", "S01X"))})
        for r in (upload(bureau, COUNTY_A, [("renamed.zip", renamed)]),
                  upload_workbook(bureau, cid, renamed, "renamed.zip")):
            assert r.status_code == 422
            assert "S01学校" in r.text and "已有答卷" in r.text
    with Session(app.state.engine) as s:
        assert [v.version for v in s.exec(select(WorkbookVersion))] == [1]
        assert {sc.school_code for sc in s.exec(select(School).where(School.campaign_id == cid))} >= {"S01"}


def test_the_same_file_is_the_same_version_and_a_campaign_import_makes_none(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        first, second = create_campaign(bureau), create_campaign(bureau, name="第二轮")
        for cid in (first, second):
            assert upload_workbook(bureau, cid, example_zip("example-pass")).status_code == 200
        with Session(app.state.engine) as s:
            assert s.exec(select(WorkbookVersion)).all() == []
        for name in ("county.zip", "again.zip"):
            assert upload(bureau, COUNTY_A, [(name, example_zip("example-pass"))]).status_code == 200
    with Session(app.state.engine) as s:
        assert len(s.exec(select(WorkbookVersion)).all()) == 1
        assert len({c.school_list_sha256 for c in s.exec(select(Campaign))}) == 1


def test_another_campaign_never_changes_the_verdict_and_designating_moves_it(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        first = create_campaign(bureau)
        _start(bureau, first, example_zip("example-pass"))
        _collect(app, anon, clock, first)
        before = _verdict(bureau)
        assert before["campaign_id"] == first and before["parts"]["recognition"]["collected"] == 3
        second = create_campaign(bureau, name="第二轮调查")                      # a real one, 0 answers
        assert upload_workbook(bureau, second, example_zip("example-pass")).status_code == 200
        assert _verdict(bureau) == before
        assert "计入评估的调查" in bureau.get(county_url(COUNTY_A)).text
        r = _post(bureau, f"/bureau/campaigns/{second}/designate")
        assert r.status_code == 200
        after = _verdict(bureau)
        assert after["campaign_id"] == second and after["parts"]["recognition"]["collected"] == 0
    with Session(app.state.engine) as s:
        moves = audit.query(s, action="survey_designate")
        assert [e.detail["campaign"] for e in moves][0] == second and moves[0].username == "bureau_a"


def test_a_test_campaign_never_counts_and_is_deleted_with_its_answers(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        real = create_campaign(bureau)
        _start(bureau, real, example_zip("example-pass"))
        before = _verdict(bureau)
        test, r = _create_test_campaign(bureau)
        assert "试填" in r.text
        assert upload_workbook(bureau, test, example_zip("example-pass")).status_code == 200
        _collect(app, anon, clock, test)
        assert "试填" in anon.get("/s/" + link_token(app, test, None, "public")).text
        assert _verdict(bureau) == before                                # its answers never count
        assert _post(bureau, f"/bureau/campaigns/{test}/designate").status_code == 422
        assert _post(bureau, f"/bureau/campaigns/{real}/delete").status_code == 422   # real ones stay
        assert _post(bureau, f"/bureau/campaigns/{test}/delete").status_code == 200
    with Session(app.state.engine) as s:
        assert s.get(Campaign, test) is None and s.get(Campaign, real) is not None
        assert s.exec(select(Answer).where(Answer.campaign_id == test)).all() == []
        assert audit.query(s, action="campaign_delete")[0].detail["answers"] == 3


def test_a_campaign_is_extended_and_reopened_while_not_designated(app, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        assert _post(bureau, f"/bureau/campaigns/{cid}/close").status_code == 200
        assert "已结束" in bureau.get(f"/bureau/campaigns/{cid}").text
        r = _post(bureau, f"/bureau/campaigns/{cid}/dates", {"closes_at": "2099-01-01T08:00"})
        assert r.status_code == 200 and "进行中" in r.text
        assert _post(bureau, f"/bureau/campaigns/{cid}/designate").status_code == 200
        r = _post(bureau, f"/bureau/campaigns/{cid}/dates", {"closes_at": "2099-06-01T08:00"})
        assert r.status_code == 422 and "不能再延长" in r.text
    with Session(app.state.engine) as s:
        assert [e.action for e in audit.query(s, action="campaign_reopen")] == ["campaign_reopen"]


def test_the_service_and_the_cli_run_with_a_profile_file(tmp_path):
    profile = tmp_path / "province.yaml"
    profile.write_text("name: 某省方案\nrecognition_threshold: 0.95\n", encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'r.db'}", profile_file=profile)
    from service.demo import seed
    seed(app.state.engine, app.state.templates, app.state.profile)        # the demo accepts its own workbook
    from inspector_helpers import log_in
    from litestar.testing import TestClient
    with TestClient(app, base_url="http://testserver.local") as c:
        log_in(c, "inspector", "inspector-renke")
        page = c.get(county_url(COUNTY_A, "/verdict"))
        assert page.status_code == 200
        got = c.get(county_url(COUNTY_A, "/verdict.json")).json()
    assert got["profile"] == "某省方案"
    out = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(EXAMPLE), "--responses",
                          str(EXAMPLE / "responses.csv"), "--profile", str(profile)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    assert cli["profile"] == "某省方案"
    assert got["parts"]["recognition"]["passed"] == cli["parts"]["recognition"]["passed"]
    assert got["parts"]["recognition"]["rate"] == cli["parts"]["recognition"]["rate"]


def test_a_test_campaigns_import_never_moves_the_verdict(app, anon, clock):
    """A campaign's school import (here a test campaign's, without S02) makes no version: the
    verdict keeps the county's."""
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        real = create_campaign(bureau)
        _start(bureau, real, example_zip("example-pass"))
        _collect(app, anon, clock, real)
        before = _verdict(bureau)
        test, _ = _create_test_campaign(bureau)
        fewer = example_zip("example-pass", {"schools.csv": _schools_csv(lambda rows: rows.pop(1))})
        assert upload_workbook(bureau, test, fewer).status_code == 200
        after = _verdict(bureau)
    assert after == before and after["workbook_version"]["version"] == 1
    with Session(app.state.engine) as s:
        assert [v.version for v in s.exec(select(WorkbookVersion).order_by(WorkbookVersion.version))] == [1]


def test_a_school_with_printed_but_unused_slips_can_leave_the_list(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        assert upload_workbook(bureau, cid, example_zip("example-pass")).status_code == 200
        page = bureau.get(f"/bureau/campaigns/{cid}").text
        r = bureau.post(f"/bureau/campaigns/{cid}/codes", data={"_csrf_token": csrf_token(page),
                                                               "link": link_token(app, cid, "S02", "parent"),
                                                               "count": "3"})
        assert r.status_code == 200
        fewer = example_zip("example-pass", {"schools.csv": _schools_csv(lambda rows: rows.pop(1))})
        r = upload_workbook(bureau, cid, fewer)
        assert r.status_code == 200 and "处问题" not in r.text
    with Session(app.state.engine) as s:
        assert "S02" not in {sc.school_code for sc in s.exec(select(School).where(School.campaign_id == cid))}
        assert s.exec(select(WorkbookVersion)).all() == []
