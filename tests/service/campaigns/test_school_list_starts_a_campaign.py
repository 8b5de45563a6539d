"""A school list alone starts a survey (workbook.md, issue 20): the campaign's schools come from
a school list (or a full workbook's 学校 sheet), its county figures from the campaign form; no
indicator version is made, and until one exists the indicator parts are 待提供, not a failure."""

import io

import openpyxl
from inspector_helpers import COUNTY_A, browser, county_url, make_users
from sqlmodel import Session, select
from svc_helpers import ALL_A, answer, create_campaign, link_token, upload_workbook

from service.db.models import School, WorkbookVersion

LIST_CSV = ("学校代码,学校名称,学校类型,城乡类型,小学在校生数,初中在校生数\n"
            "A01,城关小学,小学,城区,900,\nA02,河口中学,初中,乡村,,600\nA03,山背教学点,教学点,乡村,12,\n").encode()


def test_a_campaign_starts_from_a_csv_school_list_and_plans_from_its_own_figures(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)                                # 380,000 people: 600 answers
        r = upload_workbook(bureau, cid, LIST_CSV, "学校名录.csv")
        assert r.status_code == 200 and "已导入学校名录：学校名录.csv，3 所学校" in r.text
        assert "按群体（共需 600）" in r.text and "城关小学" in r.text
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "A01", "parent"), {"grade": "4", **ALL_A})
        assert r.status_code == 200 and "提交成功" in r.text
    with Session(app.state.engine) as s:
        assert [sc.school_code for sc in s.exec(select(School).order_by(School.position))] == ["A01", "A02", "A03"]
        assert s.exec(select(WorkbookVersion)).all() == []           # never an indicator version


def test_an_xlsx_school_list_with_errors_names_each_place_and_imports_nothing(app):
    book = openpyxl.Workbook()
    book.active.title = "学校"
    for row in (["学校代码", "学校名称", "学校类型", "城乡类型", "小学在校生数", "初中在校生数"],
                ["A01", "城关小学", "小学", "城里", 900, None]):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        r = upload_workbook(bureau, cid, data.getvalue(), "名录.xlsx")
        assert r.status_code == 422 and "学校名录有 1 处问题" in r.text
        assert "学校 第 2 行 城乡类型：“城里”应为城乡类型之一：城区、镇区、乡村" in r.text
    with Session(app.state.engine) as s:
        assert s.exec(select(School)).all() == []


def test_until_a_workbook_version_exists_the_indicator_parts_are_pending_not_failed(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        assert upload_workbook(bureau, cid, LIST_CSV, "学校名录.csv").status_code == 200
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "A02", "teacher"), ALL_A)
        assert r.status_code == 200
        page = bureau.get(county_url(COUNTY_A, "/verdict"))
        assert page.status_code == 200
        assert page.text.count("待提供") >= 3 and "未通过" not in page.text and "不达标" not in page.text
        assert "计入抽样目标的有效答卷 1 / 600" in page.text
        county = bureau.get(county_url(COUNTY_A)).text
        assert "待提供" in county and "尚未上传指标表" in county


def test_a_verdict_names_every_answered_school_missing_from_the_version(app, anon, clock):
    """A school list with a school the county's workbook lacks: its answers are not counted
    silently; the verdict names the school."""
    from inspector_helpers import example_zip, upload
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        assert upload(bureau, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200
        cid = create_campaign(bureau)
        assert upload_workbook(bureau, cid, LIST_CSV, "学校名录.csv").status_code == 200
        r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, "A01", "parent"), {"grade": "4", **ALL_A})
        assert r.status_code == 200
        page = bureau.get(county_url(COUNTY_A, "/verdict"))
        recognition = bureau.get(county_url(COUNTY_A, "/verdict.json")).json()["parts"]["recognition"]
    assert page.status_code == 200
    assert ("以下 1 所学校已有调查答卷，但不在指标表第 1 版中，答卷不能计入：城关小学（学校代码 A01）"
            in page.text)
    assert recognition["collected"] == 0                                      # nothing counted silently
