"""A bureau's whole journey in a real browser (issue 20): from a blank school list (the template's
学校 sheet, filled as in Excel) to a campaign with printed QR sheets, slips that a parent's phone
needs a typed code for, and the survey designated as the one that counts, with the indicator parts
待提供 until the county's workbook comes. Each key page is screenshot and read as the person sees
it: no English word and no bare code."""

import io
import re
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from browser_helpers import log_in
from inspector_helpers import COUNTY_A, PW, make_users

expect = pytest.importorskip("playwright.sync_api").expect

CHINA = timezone(timedelta(hours=8))
SCHOOLS = [("X01", "城关第一小学", "小学", "城区", 1200, None), ("X02", "城关中学", "初中", "城区", None, 900),
           ("X03", "河口镇中心小学", "小学", "镇区", 600, None), ("X04", "河口镇九年制学校", "九年一贯制", "镇区", 300, 240),
           ("X05", "山背村小学", "小学", "乡村", 150, None), ("X06", "岭头教学点", "教学点", "乡村", 14, None)]
# What a page may show in Latin letters: the formats people know by these names.
KNOWN = {"PNG", "SVG", "A4", "Excel", "CSV", "MB", "SPSS", "Stata", "sav", "dta"}   # formats people know by these names


def latin_words(text: str) -> set[str]:
    """Latin words left once addresses and file names are taken out: an English word or a code."""
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"\S+\.(xlsx|csv|zip|xls)\b", " ", text)
    text = re.sub(r"\.(xlsx|csv|zip|xls)\b", " ", text)
    return set(re.findall(r"[A-Za-z]{2,}", text)) - KNOWN


def seen(page, shot, name: str, shown: tuple[str, ...] = ()) -> str:
    """The page's text as read, after a screenshot; asserted free of English words and codes
    (besides the account's own login name and what the page exists to show, e.g. slip codes)."""
    shot(page, name)
    text = page.locator("body").inner_text()
    bare = text.replace("bureau_a", "")
    for value in shown:
        bare = bare.replace(value, "")
    words = latin_words(bare)
    assert words == set(), (name, words)
    return text


def filled_template(data: bytes) -> bytes:
    """The blank template's 学校 sheet filled with the identity columns only, as a bureau does in Excel."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["学校"]
    for row, school in enumerate(SCHOOLS, start=2):
        for column, value in enumerate(school, start=1):
            sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_bureau_goes_from_a_blank_school_list_to_sheets_slips_and_a_designated_survey(app, live, desk, phone, shot):
    make_users(app)
    # The address parents' phones reach is set (how it is set, and the sheets' warning while it is
    # not, are the public-address setting's own tests).
    app.state.settings.public_url = live
    log_in(desk, live, "bureau_a", PW)
    desk.goto(f"{live}/inspector")                              # a bureau lands on its county
    expect(desk.locator("h2").first).to_have_text(f"{COUNTY_A} · 指标表")
    county = seen(desk, shot, "1-county-before")
    assert "待提供" in county
    with desk.expect_download() as download:
        desk.get_by_role("link", name="下载空白模板").click()
    school_list = filled_template(download.value.path().read_bytes())

    desk.get_by_role("link", name="新建调查").click()
    now = datetime.now(CHINA).replace(second=0, microsecond=0)
    desk.get_by_label("调查名称").fill("示例县 2026 年满意度调查")
    desk.get_by_label("常住人口（人）").fill("380000")
    desk.get_by_label("城区", exact=True).fill("45")
    desk.get_by_label("镇区", exact=True).fill("30")
    desk.get_by_label("乡村", exact=True).fill("25")
    desk.get_by_label("开始时间（北京时间）").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("结束时间（北京时间）").fill((now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_role("button", name="创建").click()
    expect(desk).to_have_url(re.compile(r"/bureau/campaigns/\d+$"))
    cid = int(desk.url.rsplit("/", 1)[1])

    desk.locator("input[name=workbook]").set_input_files(
        {"name": "学校名录.xlsx", "mimeType": "application/octet-stream", "buffer": school_list})
    desk.get_by_role("button", name="上传并导入").click()
    expect(desk.locator("main")).to_contain_text("已导入学校名录：学校名录.xlsx，6 所学校。本县指标表未改变。")
    campaign = seen(desk, shot, "2-campaign-planned")
    assert "按群体（共需 600）" in campaign
    assert campaign.count("校长需 50 份，但全县最多约 15 人可答") == 1       # five in scope x 3, said once
    assert "在校生不足 50 人的教学点不在评估范围内" in campaign           # the teaching point says why

    # Printed QR sheets of one school.
    desk.get_by_role("row", name=re.compile("城关第一小学")).get_by_role("link", name="打印本校二维码").click()
    expect(desk.locator(".sheet h1").first).to_have_text("城关第一小学")
    assert desk.locator(".sheet").count() == 5
    seen(desk, shot, "3-qr-sheets")

    # Slips for the school's parents.
    desk.goto(f"{live}/bureau/campaigns/{cid}")
    desk.locator("select[name=link]").select_option(label="城关第一小学 · 家长")
    desk.locator("input[name=count]").fill("3")
    desk.get_by_role("button", name="生成并打印").click()
    codes = desk.locator(".code").all_inner_texts()
    assert len(codes) == 3
    seen(desk, shot, "4-slips", shown=tuple(codes))

    # On a parent's phone: the school's combined link asks for the slip's code, typed by hand.
    from svc_helpers import link_token
    phone.goto(f"{live}/s/{link_token(app, cid, 'X01')}?q=public")
    expect(phone.locator("h1")).to_have_text("需要填写码")
    shot(phone, "5-phone-code-required")
    phone.get_by_label("告知书上的填写码").fill(f" {codes[0][:4].lower()} {codes[0][4:]} ")
    phone.get_by_role("button", name="使用此填写码").click()
    expect(phone.locator("form#f")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("城关第一小学")
    shot(phone, "6-phone-form-with-code")

    # The survey that counts.
    desk.goto(f"{live}/bureau/campaigns/{cid}")
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.get_by_role("button", name="指定为计入评估的调查").click()
    expect(desk.locator("main")).to_contain_text("本调查是计入评估的调查")
    seen(desk, shot, "7-campaign-designated")

    desk.goto(f"{live}/inspector/counties/{COUNTY_A}/verdict")
    verdict = seen(desk, shot, "8-verdict-pending")
    assert verdict.count("待提供") >= 3 and "未通过" not in verdict
