"""Issue 22, the core loop in Chromium: the bureau opens a 数据采集 round from a school list and
prints the schools' accounts; a school changes its printed password, fills its row (a wrong
value refused in Chinese, naming the field) and submits; the bureau returns it with a reason,
the school fixes it; the bureau approves, previews the verdict and assembles the version."""

import re
import zipfile
from urllib.parse import quote

from browser_helpers import log_in
from inspector_helpers import COUNTY_A, EXAMPLES, PW, USERS, browser, example_zip, make_users, upload
from pypdf import PdfReader
from sqlmodel import Session
from chinese_text import leaks

from scoring.collection import FORM_COLUMNS
from service.collection import rounds as K

NEW = "school-own-password"


def _clean(page) -> None:
    text = page.inner_text("body")
    for user in USERS:                                      # user names are data, not labels
        text = text.replace(user, " ")
    assert leaks(text) == [], (page.url, leaks(text))


def _example(code: str) -> dict[str, str]:
    lines = (EXAMPLES / "example-pass" / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = next(line.split(",") for line in lines[1:] if line.startswith(code + ","))
    return dict(zip(header, row))


def _school_list(tmp_path) -> str:
    columns = ("school_code", "school_name", "school_type", "location", "students_primary", "students_junior")
    rows = [",".join(columns)] + [",".join(_example(code)[c] for c in columns) for code in ("S01", "S02")]
    path = tmp_path / "学校名录.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def _fill(page, values: dict[str, str]) -> None:
    for column in FORM_COLUMNS:
        page.fill(f"#f-{column}", values.get(column, ""))


def test_a_round_from_opening_to_the_assembled_version(app, live, desk, shot, tmp_path):
    make_users(app)
    with browser(app, "bureau_a") as setup:                 # the county's version 1: its county sheet
        assert upload(setup, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200

    log_in(desk, live, "bureau_a", PW)
    desk.get_by_role("link", name="数据采集（学校填报）").click()
    desk.get_by_label("统计年度").fill("2025")
    desk.set_input_files("input[name=school_list]", _school_list(tmp_path))
    desk.get_by_role("button", name="开启数据采集").click()
    assert desk.url.endswith(f"/collection/2025") and "未填 2" in desk.locator(".counts").inner_text()
    _clean(desk)
    desk.get_by_role("button", name="为尚无账号的学校生成填报账号并打印初始密码").click()
    sheet = desk.inner_text("body")
    accounts = dict(re.findall(r"用户名：(\S+)\s+初始密码：(\S+)", sheet))
    assert len(accounts) == 2 and "只显示这一次" in sheet
    shot(desk, "accounts")
    desk.get_by_role("button", name="退出").click()
    s01, s02 = sorted(accounts)

    # S02 fills its row through the domain (the browser walks S01).
    with Session(app.state.engine) as s:
        rnd = K.round_of(s, COUNTY_A, 2025)
        assert K.submit(s, K.school_of(s, rnd.id, "S02"), K.clean(_example("S02")), None, app.state.profile)[1] == []

    log_in(desk, live, s01, accounts[s01])
    assert desk.url.endswith("/inspector/password") and "首次登录" in desk.inner_text("body")
    desk.get_by_label("当前密码").fill(accounts[s01])
    desk.get_by_label("新密码（").fill(NEW)
    desk.get_by_label("再次输入新密码").fill(NEW)
    desk.get_by_role("button", name="修改密码").click()
    desk.get_by_role("link", name="本校填报").click()
    _fill(desk, {**_example("S01"), "equipment_value_yuan": "一百万"})
    desk.get_by_role("button", name="提交审核").click()
    assert "教学仪器设备值：“一百万”应为数字" in desk.inner_text("body")
    _clean(desk)
    shot(desk, "school-form-refused")
    evidence = tmp_path / "教师学历证书清单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    desk.get_by_label("佐证的指标").select_option("R1")
    desk.set_input_files("input[name=file]", str(evidence))
    desk.get_by_role("button", name="上传佐证材料").click()
    assert "教师学历证书清单.pdf" in desk.locator("#evidence").inner_text()
    _fill(desk, {**_example("S01"), "equipment_value_yuan": "一百万"})      # what the refusal kept on the page
    desk.fill("#f-equipment_value_yuan", _example("S01")["equipment_value_yuan"])
    desk.fill("#f-classes", "30")                             # 16 last approved: flagged for review
    desk.get_by_role("button", name="提交审核").click()
    assert "已提交" in desk.inner_text("body")
    desk.get_by_role("button", name="退出").click()

    log_in(desk, live, "bureau_a", PW)
    desk.goto(f"{live}/inspector/counties/{quote(COUNTY_A)}/collection/2025/schools/S01")
    assert "需复核：与上次核定值相比变化超过三分之一" in desk.inner_text("body")
    assert "教师学历证书清单.pdf" in desk.inner_text("body")
    desk.get_by_label("班级数的退回原因").fill("班级数与学籍系统不符，请核对")
    _clean(desk)
    shot(desk, "review")
    desk.get_by_role("button", name="退回（学校将看到各字段的退回原因）").click()
    assert "退回 1" in desk.locator(".counts").inner_text()
    desk.get_by_role("button", name="退出").click()

    log_in(desk, live, s01, NEW)
    assert "班级数：班级数与学籍系统不符，请核对" in desk.inner_text("body")
    desk.fill("#f-classes", _example("S01")["classes"])
    desk.get_by_role("button", name="提交审核").click()
    assert "已提交" in desk.inner_text("body")
    desk.get_by_role("button", name="退出").click()

    log_in(desk, live, "bureau_a", PW)
    for code in ("S01", "S02"):
        desk.goto(f"{live}/inspector/counties/{quote(COUNTY_A)}/collection/2025/schools/{code}")
        desk.get_by_role("button", name="通过").click()
    assert "已通过 2" in desk.locator(".counts").inner_text()
    plan = tmp_path / "学校布局规划.pdf"                      # the bureau's evidence of a county item
    plan.write_bytes(b"%PDF-1.4\n% G1\n%%EOF\n")
    desk.locator("select[name=item]").select_option("G1")
    desk.set_input_files("#county-evidence input[name=file]", str(plan))
    desk.get_by_role("button", name="上传佐证材料").click()
    assert "学校布局规划.pdf" in desk.locator("#county-evidence").inner_text()
    desk.get_by_role("button", name="预览汇总后的评估结果").click()
    assert "汇总后的评估结果预览" in desk.inner_text("body")
    _clean(desk)
    shot(desk, "preview")
    desk.get_by_role("button", name="确认汇总，保存为新版本").click()
    assert "已保存为本县指标表第 2 版" in desk.inner_text("body") and "2 所学校" in desk.inner_text("body")

    # The verdict page of the assembled version links the evidence: S01's R1 value and item G1.
    desk.goto(f"{live}/inspector/counties/{quote(COUNTY_A)}/verdict")
    row = desk.locator("#resources tr", has_text="S01学校")
    assert row.locator("a.evidence-file").count() == 1 and "无佐证材料" in row.inner_text()
    with desk.expect_download() as got:
        row.locator("a.evidence-file").click()
    assert got.value.suggested_filename == "教师学历证书清单.pdf"
    assert desk.locator("#item-G1 a.evidence-file").inner_text() == "学校布局规划.pdf"
    _clean(desk)
    shot(desk, "verdict-evidence")

    # The desk-review package from the round page: its index lists every file; page 1 in Chromium's viewer.
    desk.goto(f"{live}/inspector/counties/{quote(COUNTY_A)}/collection/2025")
    with desk.expect_download() as got:
        desk.get_by_role("link", name="下载汇审材料包（指标表第 2 版）").click()
    package = tmp_path / "package.zip"
    got.value.save_as(package)
    with zipfile.ZipFile(package) as z:
        index = next(n for n in z.namelist() if n.endswith("/佐证材料目录.pdf"))
        (tmp_path / "index.pdf").write_bytes(z.read(index))
        files = [n for n in z.namelist() if "/佐证材料/" in n and not n.endswith("/")]
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "index.pdf").pages)
    assert files and all(n.rsplit("/", 1)[1] in text for n in files)     # every file in the index
    desk.goto((tmp_path / "index.pdf").as_uri())
    desk.wait_for_timeout(1500)            # the viewer paints its first page after loading
    shot(desk, "index-pdf")
