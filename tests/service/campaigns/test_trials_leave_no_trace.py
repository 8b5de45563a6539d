"""Trials leave no trace (issue 20): nothing a 试填 campaign does changes the county's versions,
monitoring, overview or verdict; deleting it removes everything it brought."""

from datetime import datetime, timedelta

from inspector_helpers import COUNTY_A, browser, county_url, example_zip, make_users, upload
from sqlalchemy import func
from sqlmodel import Session, select
from svc_helpers import ALL_A, answer, create_campaign, csrf_token, link_token, upload_workbook

from service.db.models import Campaign, Link, OneTimeCode, Answer, School, WorkbookVersion

SEVEN = ("学校代码,学校名称,学校类型,城乡类型,小学在校生数,初中在校生数\n"
         + "".join(f"T0{i},试点学校{i},小学,城区,300,\n" for i in range(1, 8))).encode()


def _new_trial(bureau) -> int:
    page = bureau.get("/bureau/campaigns/new")
    now = datetime.now().replace(second=0, microsecond=0)
    r = bureau.post("/bureau/campaigns", data={
        "_csrf_token": csrf_token(page.text), "name": "演练", "county_name": COUNTY_A, "is_test": "1",
        "resident_population": "380000", "share_urban": "0.45", "share_town": "0.30", "share_rural": "0.25",
        "opens_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")})
    return int(r.url.path.rsplit("/", 1)[1])


def _county_state(app, c) -> dict:
    with Session(app.state.engine) as s:
        versions = [(v.version, v.sha256, v.withdrawn_at) for v in s.exec(select(WorkbookVersion))]
    return {"versions": versions,
            "verdict": c.get(county_url(COUNTY_A, "/verdict.json")).json(),
            "monitoring": c.get(county_url(COUNTY_A, "/monitoring")).text,
            "overview": c.get("/inspector/overview").text}


def test_a_trial_changes_no_version_monitoring_overview_or_verdict_and_its_deletion_removes_all(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        real = create_campaign(bureau)
        assert upload(bureau, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200
        assert upload_workbook(bureau, real, example_zip("example-pass")).status_code == 200
    with browser(app, "province") as province:
        before = _county_state(app, province)
        with browser(app, "bureau_a") as bureau:
            trial = _new_trial(bureau)
            # A full workbook's 学校 sheet and then a school list of 7 test schools: neither is a version.
            assert upload_workbook(bureau, trial, example_zip("example-pass")).status_code == 200
            assert upload_workbook(bureau, trial, SEVEN, "试点.csv").status_code == 200
            page = bureau.get(f"/bureau/campaigns/{trial}")
            bureau.post(f"/bureau/campaigns/{trial}/codes", data={
                "_csrf_token": csrf_token(page.text), "link": link_token(app, trial, "T01", "parent"), "count": "3"})
            r, _, _ = answer(anon, clock, "/s/" + link_token(app, trial, "T02", "teacher"), ALL_A)
            assert r.status_code == 200
            assert _county_state(app, province) == before
            assert _county_state(app, province)["verdict"]["campaign_id"] == real
            r = bureau.post(f"/bureau/campaigns/{trial}/delete",
                            data={"_csrf_token": csrf_token(bureau.get(f"/bureau/campaigns/{trial}").text)})
            assert r.status_code == 200
        assert _county_state(app, province) == before
    with Session(app.state.engine) as s:
        assert s.get(Campaign, trial) is None
        for table in (Answer, OneTimeCode, Link, School):
            assert s.exec(select(func.count()).select_from(table).where(table.campaign_id == trial)).one() == 0
