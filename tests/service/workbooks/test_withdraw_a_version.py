"""A county version uploaded by mistake can be withdrawn (撤销, issue 20): audited, kept in the
history, never counted again; the verdict then uses the version before it; a withdrawal that
would leave answered schools out of every counted version is refused, naming them."""

from inspector_helpers import COUNTY_A, browser, county_url, example_zip, make_users, upload
from sqlmodel import Session, select
from svc_helpers import ALL_A, answer, create_campaign, csrf_token, link_token, upload_workbook

from service.accounts import audit
from service.db.models import WorkbookVersion


def _without_s02() -> bytes:
    from inspector_helpers import EXAMPLES
    lines = (EXAMPLES / "example-pass" / "schools.csv").read_text(encoding="utf-8").splitlines()
    return ("\n".join(line for line in lines if not line.startswith("S02,")) + "\n").encode()


def _withdraw(c, version: int, reason: str = "误传了其他年度的文件"):
    token = csrf_token(c.get(county_url(COUNTY_A)).text)
    return c.post(county_url(COUNTY_A, f"/workbooks/{version}/withdraw"), data={"_csrf_token": token, "reason": reason})


def _verdict_version(c) -> int:
    return c.get(county_url(COUNTY_A, "/verdict.json")).json()["workbook_version"]["version"]


def test_a_withdrawn_version_is_kept_audited_and_the_verdict_uses_the_one_before(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        assert upload(bureau, COUNTY_A, [("v1.zip", example_zip("example-pass"))]).status_code == 200
        mistake = example_zip("example-pass", {"schools.csv": _without_s02()})
        assert upload(bureau, COUNTY_A, [("wrong-year.zip", mistake)]).status_code == 200
        assert _verdict_version(bureau) == 2
        r = _withdraw(bureau, 2)
        assert r.status_code == 200 and "已撤销" in r.text and "误传了其他年度的文件" in r.text
        assert _verdict_version(bureau) == 1                                   # the version before it
        assert "查看评估结果（第 1 版）" in r.text
        assert bureau.get(county_url(COUNTY_A, "/verdict?version=2")).status_code == 404   # never counted again
        assert bureau.get(county_url(COUNTY_A, "/workbooks/2")).status_code == 200        # kept in the history
        assert "第 2 版" not in bureau.get(county_url(COUNTY_A, "/monitoring")).text
        # The same bytes again are a new version, not the withdrawn one come back.
        assert upload(bureau, COUNTY_A, [("again.zip", mistake)]).status_code == 200
        assert _verdict_version(bureau) == 3
    with Session(app.state.engine) as s:
        versions = {v.version: v for v in s.exec(select(WorkbookVersion))}
        assert versions[2].withdrawn_at is not None and versions[2].withdrawn_reason == "误传了其他年度的文件"
        (entry,) = audit.query(s, action="workbook_withdraw")
        assert entry.username == "bureau_a" and entry.detail["version"] == 2 and entry.file_sha256 == versions[2].sha256


def test_a_withdrawal_leaving_answered_schools_out_of_every_version_is_refused_naming_them(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        assert upload_workbook(bureau, cid, example_zip("example-pass")).status_code == 200   # the school list
        assert upload(bureau, COUNTY_A, [("v1.zip", example_zip("example-pass", {"schools.csv": _without_s02()}))]
                      ).status_code == 200
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "S01", "parent"), {"grade": "4", **ALL_A})
        assert r.status_code == 200
        assert upload(bureau, COUNTY_A, [("v2.zip", example_zip("example-pass"))]).status_code == 200
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "S02", "teacher"), ALL_A)
        assert r.status_code == 200
        r = _withdraw(bureau, 2)                                               # v1 has no S02
        assert r.status_code == 422 and "S02学校" in r.text and "不能撤销" in r.text and "S01学校" not in r.text
        assert _verdict_version(bureau) == 2
        assert _withdraw(bureau, 2, reason=" ").status_code == 422            # a reason is needed
    with Session(app.state.engine) as s:
        assert all(v.withdrawn_at is None for v in s.exec(select(WorkbookVersion)))
        assert audit.query(s, action="workbook_withdraw") == []


def test_only_the_countys_bureau_withdraws(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        assert upload(bureau, COUNTY_A, [("v1.zip", example_zip("example-pass"))]).status_code == 200
    for user in ("inspector_a", "bureau_b"):
        with browser(app, user) as c:
            token = csrf_token(c.get("/inspector").text)
            r = c.post(county_url(COUNTY_A, "/workbooks/1/withdraw"), data={"_csrf_token": token, "reason": "x"})
            assert r.status_code == 403
