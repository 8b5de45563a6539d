"""Feasible targets on the campaign's pages (survey.md sampling plan, amended; issue 20): no school
is asked for more than 3 principals, the shortfall is said once at county level with what it
means for S3, every in-scope school is in the progress tables and an out-of-scope one says why."""

import pytest
import re

from inspector_helpers import browser, make_users
from svc_helpers import add_answers, create_campaign, upload_workbook

FIVE_AND_A_POINT = ("学校代码,学校名称,学校类型,城乡类型,小学在校生数,初中在校生数\n"
                    + "".join(f"P0{i},第{i}小学,小学,镇区,400,\n" for i in range(1, 6))
                    + "D01,山背教学点,教学点,乡村,12,\n").encode()


def test_the_per_school_table_asks_no_school_for_more_than_3_principals_and_says_the_shortfall_once(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)                                    # 50 principals wanted
        page = upload_workbook(bureau, cid, FIVE_AND_A_POINT, "名录.csv").text
        rows = re.findall(r"<tr><td>第\d小学</td>\n(.*?)<td><a", page, re.S)
        assert len(rows) == 5
        principals = [int(re.findall(r"0 / (\d+)", row)[3]) for row in rows]
        assert principals == [3] * 5
        assert page.count("校长需 50 份，但全县最多约 15 人可答") == 1
        assert "还差 35 份无法分配到学校" in page and "S3（非家长各类群体大致相当）也将因此不通过" in page
        reminders = bureau.get(f"/bureau/campaigns/{cid}/reminders").text
        assert not re.search(r"校长[^<]{0,40}差 ([4-9]|\d\d)", reminders)   # no notice asks for more than 3


def test_an_out_of_scope_school_with_a_qr_code_says_why_it_has_no_target(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        page = upload_workbook(bureau, cid, FIVE_AND_A_POINT, "名录.csv").text
        row = re.search(r'<tr class="out-of-scope"><td>山背教学点</td>(.*?)</tr>', page, re.S)
        assert row and "教学点不在评估范围内，不设抽样目标" in row.group(1) and "sheets?school=D01" in row.group(1)


def test_total_progress_is_not_100_while_a_school_or_location_target_is_short(app):
    """Every group's county total answered, but all at one school: the per-group sum would say
    100 %; the schools' own targets are short, so the page does not."""
    from sqlmodel import Session

    from service.campaigns.progress import plan_for
    from service.db.models import Campaign
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        upload_workbook(bureau, cid, FIVE_AND_A_POINT, "名录.csv")
        with Session(app.state.engine) as s:
            plan = plan_for(s, s.get(Campaign, cid), app.state.profile)
        for group, n in plan.by_group.items():
            school = "P01" if group in ("student", "parent", "teacher", "principal") else None
            add_answers(app, cid, school, group, n, location="town")
        page = bureau.get(f"/bureau/campaigns/{cid}").text
        done, target, percent = map(int, re.search(r"<b>总进度：(\d+)%</b>（计入目标的有效答卷 (\d+) / (\d+)", page)
                                    .group(2, 3, 1))
        assert target == 600 and done < target and percent < 100


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
