"""Issue 20, done when: the inspector and the province walk their journeys end to end in Chromium,
from the login page, by clicking what a person clicks; every page they open shows no English word,
no bare code and no raw structure (the page walker's rule, tests/service/chinese_text.py)."""

from urllib.parse import quote

from browser_helpers import log_in
from inspector_helpers import COUNTY_A, EXAMPLES, PW, USERS, example_zip, make_users
from chinese_text import leaks


def _clean(page) -> None:
    text = page.inner_text("body")
    for user in USERS:                                      # user names are data, not labels
        text = text.replace(user, " ")
    found = leaks(text)
    assert found == [], (page.url, found)


def _changed_version(tmp_path) -> str:
    """Version 2 of 示例县: the first school's sports ground cut to 100 m² (R5 fails)."""
    schools = (EXAMPLES / "example-pass" / "schools.csv").read_text(encoding="utf-8").splitlines()
    header, cells = schools[0].split(","), schools[1].split(",")
    cells[header.index("sports_area_m2")] = "100"
    schools[1] = ",".join(cells)
    path = tmp_path / "第二版.zip"
    path.write_bytes(example_zip("example-pass", {"schools.csv": ("\n".join(schools) + "\n").encode()}))
    return str(path)


def test_inspector_from_a_new_upload_to_the_comparison_and_the_report_pdf(app, live, desk, shot, tmp_path):
    make_users(app)
    first = tmp_path / "第一版.zip"
    first.write_bytes(example_zip("example-pass"))
    log_in(desk, live, "bureau_a", PW)                      # the bureau uploads two versions
    assert desk.url.endswith("/inspector/counties/" + quote(COUNTY_A))
    for path in (str(first), _changed_version(tmp_path)):
        desk.set_input_files("input[type=file]", path)
        desk.get_by_role("button", name="上传为新版本").click()
        desk.wait_for_load_state()
    desk.get_by_role("button", name="退出").click()

    log_in(desk, live, "inspector_a", PW)
    assert desk.url.endswith("/inspector")                  # an inspector's home: their counties
    _clean(desk)
    desk.get_by_role("link", name=COUNTY_A).first.click()
    _clean(desk)
    desk.get_by_role("button", name="比较").click()         # the form compares the two latest versions
    desk.wait_for_load_state()
    assert "/compare" in desk.url
    first_change = desk.locator("#field-changes tr").nth(1).inner_text()
    assert "体育运动场馆面积" in first_change and "100" in first_change and "R5 生均体育运动场馆面积" in first_change
    _clean(desk)
    shot(desk, "compare")
    desk.goto(f"{live}/inspector/counties/{quote(COUNTY_A)}/verdict")
    _clean(desk)
    assert "R5" in desk.locator("#ledger").inner_text() and "m²/生" in desk.locator("#ledger").inner_text()
    shot(desk, "verdict")
    with desk.expect_download() as download:
        desk.get_by_role("link", name="PDF 报告").click()
    pdf = download.value.path()
    from pypdf import PdfReader
    text = PdfReader(pdf).pages[0].extract_text()
    assert COUNTY_A in text


def test_province_from_the_login_to_the_acceptance_plan_and_its_settings(app, live, desk, shot):
    make_users(app)
    log_in(desk, live, "province", PW)
    assert desk.url.endswith("/inspector/overview")         # the province's home
    _clean(desk)
    shot(desk, "overview")
    desk.get_by_role("link", name="验收计划").click()
    assert desk.url.endswith("/inspector/acceptance")
    _clean(desk)
    shot(desk, "acceptance")
    for name, path in (("审计日志", "/trust/audit"), ("账号管理", "/inspector/accounts")):
        desk.get_by_role("link", name=name).click()
        assert desk.url.endswith(path)
        _clean(desk)
    desk.get_by_role("link", name="系统设置").click()
    desk.get_by_label("对外网址").fill("https://renke.example.gov.cn")
    desk.get_by_role("button", name="保存").click()
    assert "已保存" in desk.inner_text("main")
    _clean(desk)
    shot(desk, "settings")
    desk.get_by_role("link", name="审计日志").click()
    assert "设置对外网址" in desk.inner_text("main")
