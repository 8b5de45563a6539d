"""数据采集 (issue 22): a round opened by the bureau, school accounts that must change their
printed password, a school's row checked by the workbook reader's own rules, the bureau's
review (flags, return with reasons, approve, every step audited) and the assembly of a
version through the one upload path."""

import re
from collection_helpers import (NEW_PASSWORD, ROUND, YEAR, county_with_round, decide, example_rows, open_round,
                                print_accounts, school_login, send)
from inspector_helpers import COUNTY_A, campaign_with_responses, county_url
from sqlmodel import Session, select
from svc_helpers import csrf_token

from service.accounts import audit
from service.collection import rounds as K
from service.db.models import Account, AuditEntry, CollectionSchool, CollectionSubmission, WorkbookVersion


def test_a_round_opens_from_the_latest_version_with_every_school_unfilled(app):
    with county_with_round(app) as bureau:
        page = bureau.get(ROUND).text
        assert "本县指标表第 1 版" in page and "未填 <b>25</b>" in page and "S01学校" in page
        again = open_round(bureau)
        assert again.status_code == 422 and f"本县 {YEAR} 年度的数据采集已经开启" in again.text
        bad = open_round(bureau, year=99)
        assert bad.status_code == 422 and "应为年份" in bad.text


def test_a_round_opens_from_a_school_list_file(app):
    with county_with_round(app) as bureau:
        school_list = "学校代码,学校名称,学校类型,城乡类型,小学在校生数,初中在校生数\nA1,甲小学,小学,乡村,120,0\n"
        r = open_round(bureau, year=2026, school_list=("名录.csv", school_list.encode(), "text/csv"))
        assert r.status_code == 200 and "名录.csv" in r.text and "甲小学" in r.text and "未填 <b>1</b>" in r.text


def test_school_accounts_are_printed_once_stored_hashed_and_must_change_their_password(app):
    with county_with_round(app) as bureau:
        sheet, accounts = print_accounts(bureau)
        assert len(accounts) == 25 and "只显示这一次" in sheet
        user, password = accounts["S01"]
        with Session(app.state.engine) as s:
            stored = s.exec(select(Account).where(Account.username == user)).one().password_hash
        assert password not in stored
        _, again = print_accounts(bureau)
        assert again == {}                                  # no second display of a password
    with school_login(app, user, password, change=False) as c:
        r = c.get("/school")
        assert r.url.path == "/inspector/password" and "首次登录" in r.text
        page = c.get("/inspector/password")
        c.post("/inspector/password", data={"_csrf_token": csrf_token(page.text), "current": password,
                                             "new": NEW_PASSWORD, "again": NEW_PASSWORD})
        r = c.get("/school")
        assert r.status_code == 200 and "S01学校" in r.text and "小学在校生数" in r.text and "平方米" in r.text


def test_a_wrong_value_is_refused_in_chinese_naming_the_field_and_nothing_is_saved(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
    with school_login(app, *accounts["S01"]) as c:
        values = {**example_rows()["S01"], "equipment_value_yuan": "一百万"}
        r = send(c, values)
        assert r.status_code == 422
        assert "教学仪器设备值：“一百万”应为数字" in r.text and "未提交" in r.text
        with Session(app.state.engine) as s:
            assert s.exec(select(CollectionSubmission)).all() == []
            row = s.exec(select(CollectionSchool).where(CollectionSchool.school_code == "S01")).one()
            assert (row.state, row.draft) == ("empty", {})
        blank = send(c, {**example_rows()["S01"], "training_funds_yuan": ""})
        assert "教师培训经费：未填写：每所学校必填" in blank.text


def test_a_draft_is_kept_and_the_school_comes_back_to_it(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
        with school_login(app, *accounts["S02"]) as c:
            r = send(c, {"students_primary": "1430"}, action="save")
            assert r.status_code == 200 and "草稿已保存" in r.text
            assert 'value="1430"' in c.get("/school").text
        assert "填报中 <b>1</b>" in bureau.get(ROUND).text


def test_review_flags_a_change_of_more_than_a_third_returns_with_a_reason_and_approves_audited(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
        with school_login(app, *accounts["S01"]) as c:
            values = {**example_rows()["S01"], "classes": "30"}           # 16 last approved
            assert send(c, values).status_code == 200
            review = bureau.get(f"{ROUND}/schools/S01").text
            assert "需复核：与上次核定值相比变化超过三分之一（上次 16，本次 30，变化 +88%）" in review
            assert review.count("需复核") == 1
            numbers = re.findall(r'<td class="n">([^<]*)</td>', review)
            assert numbers and not [n for n in numbers if n.endswith(".0")]     # 1716400, never 1716400.0
            refused = decide(bureau, "S01", "return")
            assert refused.status_code == 422 and "至少为一个字段写明退回原因" in refused.text
            assert decide(bureau, "S01", "return", {"classes": "班级数应为 16，请核对"}).status_code == 200
            form = c.get("/school").text
            assert "退回" in form and "班级数：班级数应为 16，请核对" in form
            assert send(c, {**values, "classes": "16"}).status_code == 200
            assert decide(bureau, "S01", "approve").status_code == 200
            assert "已通过" in c.get("/school").text
    with Session(app.state.engine) as s:
        actions = [e.action for e in s.exec(select(AuditEntry).order_by(AuditEntry.id))]
    for step in ("collection_open", "collection_accounts", "collection_submit", "collection_return",
                 "collection_approve"):
        assert step in actions and step in audit.ACTIONS


def test_a_school_account_cannot_read_or_write_another_schools_row_or_the_bureaus_pages(app):
    with county_with_round(app) as bureau:
        _, accounts = print_accounts(bureau)
    with school_login(app, *accounts["S01"]) as c:
        for path in (county_url(COUNTY_A), county_url(COUNTY_A, "/collection"), ROUND, f"{ROUND}/schools/S02",
                     county_url(COUNTY_A, "/verdict"), "/inspector", "/trust/audit"):
            assert c.get(path, follow_redirects=False).status_code == 403, path
        token = csrf_token(c.get("/school").text)
        assert c.post(f"{ROUND}/schools/S02", data={"_csrf_token": token, "decision": "approve"}).status_code == 403
        assert c.post(f"{ROUND}/assemble", data={"_csrf_token": token}).status_code == 403
        # The form's school is the account's: naming another in the form changes nothing of it.
        send(c, {"school_code": "S02", "students_primary": "1"}, action="save")
        with Session(app.state.engine) as s:
            rows = {r.school_code: r for r in s.exec(select(CollectionSchool))}
        assert rows["S02"].draft == {} and rows["S01"].draft["students_primary"] == "1"
        assert "S02学校" not in c.get("/school").text


def test_assembly_is_refused_naming_the_schools_not_yet_approved(app):
    with county_with_round(app) as bureau:
        token = csrf_token(bureau.get(ROUND).text)
        r = bureau.post(ROUND + "/preview", data={"_csrf_token": token})
        assert r.status_code == 422 and "S01学校" in r.text and "尚未通过审核（未填）" in r.text


def test_the_assembled_version_equals_the_same_rows_uploaded_as_a_workbook(app):
    with county_with_round(app) as bureau:
        campaign_with_responses(app, COUNTY_A, "example-pass")     # the answers count in both verdicts
        uploaded = bureau.get(county_url(COUNTY_A, "/verdict.json?version=1")).json()
        assert uploaded["passed"] is True
        rows = example_rows()
        with Session(app.state.engine) as s:                  # 25 schools: their rows, as the form sends them
            rnd = K.round_of(s, COUNTY_A, YEAR)
            for school in K.schools_of(s, rnd.id):
                assert K.submit(s, school, K.clean(rows[school.school_code]), None, app.state.profile)[1] == []
                assert K.decide(s, school, True, {}, None)[1] == []
        token = csrf_token(bureau.get(ROUND).text)
        preview = bureau.post(ROUND + "/preview", data={"_csrf_token": token})
        assert preview.status_code == 200 and "汇总后的评估结果预览：达到优质均衡" in preview.text
        assert "当前（第 1 版）" in preview.text and "将改变" not in preview.text      # the same rows: nothing moves
        r = bureau.post(ROUND + "/assemble", data={"_csrf_token": csrf_token(preview.text)})
        assert r.status_code == 200 and "第 2 版" in r.text, r.text[:800]
        assembled = bureau.get(county_url(COUNTY_A, "/verdict.json?version=2")).json()
        assert assembled["workbook_version"]["version"] == 2
        for key in ("workbook_version",):
            uploaded.pop(key), assembled.pop(key)
        assert assembled == uploaded
        with Session(app.state.engine) as s:
            assert s.exec(select(WorkbookVersion).where(WorkbookVersion.version == 2)).one().filename \
                == f"{COUNTY_A}{YEAR}年度数据采集.zip"
            entry = s.exec(select(AuditEntry).where(AuditEntry.action == "collection_assemble")).one()
            assert entry.detail["submissions"] == dict.fromkeys(rows, 1)
