"""The staff pages driven like a user in a desktop Chromium: a bureau creates a campaign through
its form, imports its schools and prints the QR sheets; a county's workbook is uploaded in the
inspector workspace and an inspector reads the four-part verdict."""

import csv
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from inspector_helpers import COUNTY_A, COUNTY_B, EXAMPLE_OF, EXAMPLES, PW, campaign_with_responses, expected, \
    make_users
from service.accounts import roles as R
from service.db.models import Link
from svc_helpers import ADMIN, PASSWORD, example_zip

from browser_helpers import log_in  # noqa: E402
expect = pytest.importorskip("playwright.sync_api").expect

CHINA = timezone(timedelta(hours=8))
PARTS = {"resources": "资源配置", "guarantee": "政府保障程度", "quality": "教育质量", "recognition": "社会认可度"}


def log_out(page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def school_names(example: str) -> list[str]:
    with open(EXAMPLES / example / "schools.csv", encoding="utf-8-sig", newline="") as f:
        return [row["school_name"] for row in csv.DictReader(f)]


def test_wrong_password_and_form_errors_are_shown_as_pages(app, live, desk):
    desk.goto(f"{live}/login")                        # (these pages once came as JSON: raw HTML on screen)
    desk.get_by_label("用户名").fill(ADMIN)
    desk.get_by_label("密码").fill("wrong")
    desk.get_by_role("button", name="登录").click()
    expect(desk.locator("p.err")).to_have_text("用户名或密码错误")
    log_in(desk, live, ADMIN, PASSWORD)
    desk.get_by_role("link", name="调查列表").click()          # the province lands on its overview
    desk.get_by_role("link", name="新建调查").click()
    desk.get_by_label("常住人口（人）").fill("")
    desk.get_by_role("button", name="创建").click()
    expect(desk.get_by_role("heading", name="新建调查")).to_be_visible()
    expect(desk.locator("#e-resident_population")).to_have_text("请填写常住人口（人）")


def test_bureau_creates_a_campaign_and_prints_its_qr_sheets(app, live, desk, phone, shot):
    log_in(desk, live, ADMIN, PASSWORD)
    desk.get_by_role("link", name="调查列表").click()          # the province lands on its overview
    desk.get_by_role("link", name="新建调查").click()
    now = datetime.now(CHINA).replace(second=0, microsecond=0)
    desk.get_by_label("调查名称").fill("示例县 2025 年满意度调查")
    desk.get_by_label("县（市、区）").fill("示例县")
    desk.get_by_label("常住人口（人）").fill("380000")
    desk.get_by_label("城区", exact=True).fill("45")
    desk.get_by_label("镇区", exact=True).fill("30")
    desk.get_by_label("乡村", exact=True).fill("25")
    desk.get_by_label("开始时间（北京时间）").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("结束时间（北京时间）").fill((now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_role("button", name="创建").click()
    expect(desk).to_have_url(re.compile(r"/bureau/campaigns/\d+$"))
    expect(desk.locator("h2")).to_have_text("示例县 2025 年满意度调查")
    expect(desk.locator("main")).to_contain_text("进行中")
    cid = int(desk.url.rsplit("/", 1)[1])

    desk.locator("input[name=workbook]").set_input_files(
        {"name": "示例县.zip", "mimeType": "application/zip", "buffer": example_zip()})
    desk.get_by_role("button", name="上传并导入").click()
    names = school_names("example-pass")
    expect(desk.locator("main")).to_contain_text(f"{len(names)} 所学校")
    shot(desk, "campaign")

    # the QR PNG of a link loads as an image
    png = desk.get_by_role("link", name="PNG").first.get_attribute("href")
    width = desk.evaluate("""src => new Promise((ok, fail) => { const i = new Image();
        i.onload = () => ok(i.naturalWidth); i.onerror = fail; i.src = src; })""", png)
    assert width > 100

    desk.get_by_role("link", name="打印全部二维码（A4）").click()
    with Session(app.state.engine) as s:
        links = list(s.exec(select(Link).where(Link.campaign_id == cid)))
    sheets = desk.locator(".sheet")
    expect(sheets).to_have_count(len(links))
    titles = sheets.locator("h1").all_inner_texts()
    assert set(names) <= set(titles) and "示例县" in titles
    sizes = desk.eval_on_selector_all(".sheet .qr svg", "els => els.map(e => { const r = e.getBoundingClientRect();"
                                      " return [r.width, r.height, e.querySelectorAll('path,rect').length]; })")
    assert len(sizes) == len(links) and all(w > 300 and h > 300 and n > 0 for w, h, n in sizes), sizes[:3]
    urls = sheets.locator(".url").all_inner_texts()
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == sorted(link.token for link in links)

    # one school's sheets, as printed (A4, one sheet per page)
    desk.goto(f"{live}/bureau/campaigns/{cid}")
    desk.get_by_role("row", name=re.compile(names[0])).get_by_role("link", name="打印本校二维码").click()
    expect(desk.locator(".sheet h1").first).to_have_text(names[0])
    count = desk.locator(".sheet").count()
    assert count == 5            # the school's link and its four groups'
    desk.emulate_media(media="print")
    pdf = desk.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == count

    # the printed address opens the form on a phone
    student = desk.locator(".sheet").filter(has=desk.locator("h2", has_text=re.compile(r"· 学生$")))
    phone.goto(student.locator(".url").inner_text())
    expect(phone.locator("form#f")).to_be_visible()
    expect(phone.locator("main")).to_contain_text(names[0])


@pytest.mark.parametrize("county", [COUNTY_A, COUNTY_B], ids=["passing-county", "failing-county"])
def test_workbook_uploaded_in_the_workspace_and_the_inspector_reads_the_verdict(app, live, desk, county, shot):
    example = EXAMPLE_OF[county]
    make_users(app)
    with Session(app.state.engine) as s:
        R.ensure_account(s, "inspector_b", PW, R.INSPECTOR, [COUNTY_B])
    campaign_with_responses(app, county, example)     # the county's collected answers
    bureau, inspector = ("bureau_a", "inspector_a") if county == COUNTY_A else ("bureau_b", "inspector_b")

    log_in(desk, live, bureau, PW)                    # the county's bureau uploads the workbook
    desk.goto(f"{live}/inspector")                    # (a bureau goes straight to its county)
    expect(desk.locator("h2").first).to_have_text(f"{county} · 指标表")
    desk.get_by_label(re.compile("上传指标表")).set_input_files(
        [EXAMPLES / example / name for name in ("schools.csv", "county.csv", "veto.csv")])
    desk.get_by_role("button", name="上传为新版本").click()
    expect(desk.locator("main")).to_contain_text("第 1 版")
    expect(desk.locator("main")).not_to_contain_text("处问题")
    shot(desk, "uploaded")
    log_out(desk)

    log_in(desk, live, inspector, PW)                 # the inspector reads it (and may not upload)
    desk.goto(f"{live}/inspector")
    desk.get_by_role("link", name=county, exact=True).click()
    expect(desk.locator("h2").first).to_have_text(f"{county} · 指标表")
    expect(desk.locator("input[type=file]")).to_have_count(0)
    desk.get_by_role("link", name="查看评估结果（第 1 版）").click()
    e = expected(county)
    banner = desk.locator("#banner")
    expect(banner).to_contain_text("通过优质均衡评估")
    if e["passed"]:
        expect(banner).not_to_contain_text("未通过")
        expect(banner).to_have_class(re.compile(r"\bpass\b"))
    else:
        expect(banner).to_contain_text("未通过优质均衡评估")
    for key, name in PARTS.items():
        card = desk.locator(f"#card-{key}")
        expect(card.locator("h3")).to_contain_text(name)
        expect(card.locator(".tag")).to_have_text("达标" if e["parts"][key]["passed"] else "未达标")
        if not e["parts"][key]["passed"]:
            assert card.locator("li").count() > 0, f"{key}: a failed part gives its reasons"
        expect(desk.locator(f"section#{key}")).to_be_visible()
    expect(desk.locator("#card-veto .tag")).to_have_text("未达标" if e["veto"]["triggered"] else "达标")


def test_closing_a_campaign_asks_first_under_a_csp_without_inline_handlers(app, live, desk):
    """The confirm dialog is the staff frame's script (data-confirm): dismissed, nothing happens;
    accepted, the campaign is closed."""
    log_in(desk, live, ADMIN, PASSWORD)
    desk.get_by_role("link", name="调查列表").click()          # the province lands on its overview
    desk.get_by_role("link", name="新建调查").click()
    now = datetime.now(CHINA).replace(second=0, microsecond=0)
    desk.get_by_label("调查名称").fill("关闭测试")
    desk.get_by_label("县（市、区）").fill("示例县")
    desk.get_by_label("常住人口（人）").fill("380000")
    desk.get_by_label("城区").fill("45%")
    desk.get_by_label("镇区").fill("30%")
    desk.get_by_label("乡村").fill("25%")
    desk.get_by_label("开始时间（北京时间）").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("结束时间（北京时间）").fill((now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_role("button", name="创建").click()
    asked = []
    desk.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    desk.get_by_role("button", name="立即结束调查").click()
    expect(desk.get_by_role("button", name="立即结束调查")).to_be_visible()
    assert asked and "确定立即结束本次调查" in asked[0]
    desk.once("dialog", lambda d: d.accept())
    desk.get_by_role("button", name="立即结束调查").click()
    expect(desk.get_by_role("button", name="立即结束调查")).to_have_count(0)
