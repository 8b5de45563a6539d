"""The roadmap driven like a user in a desktop Chromium: the failing example's bureau clears its
veto in a new workbook version, starts a plan from the ledger picking a year per row, reads the
timeline and prints a department's task list. Screenshots of each step in test-artifacts/."""

import re

import pytest
from browser_helpers import log_in, shot_name
from inspector_helpers import COUNTY_B, EXAMPLES, PW, make_users

expect = pytest.importorskip("playwright.sync_api").expect

NO_VETO = (EXAMPLES / "example-fail" / "veto.csv").read_bytes().replace(b"V3,yes", b"V3,no")


def test_bureau_plans_its_roadmap_reads_the_timeline_and_prints_a_task_list(request, app, live, desk, shot):
    make_users(app)
    log_in(desk, live, "bureau_b", PW)
    desk.goto(f"{live}/inspector")
    desk.get_by_label(re.compile("上传指标表")).set_input_files(
        [{"name": name, "mimeType": "text/csv", "buffer": (EXAMPLES / "example-fail" / name).read_bytes()}
         for name in ("schools.csv", "county.csv")] + [{"name": "veto.csv", "mimeType": "text/csv", "buffer": NO_VETO}])
    desk.get_by_role("button", name="上传为新版本").click()
    expect(desk.locator("main")).to_contain_text("第 1 版")

    desk.get_by_role("link", name="时间表和路线图").click()
    expect(desk.locator("h2").first).to_have_text(f"{COUNTY_B} · 时间表和路线图")
    rows = desk.locator("#start tr", has=desk.locator("select"))
    expect(rows).to_have_count(4)
    shot(desk, "roadmap")
    years = rows.first.locator("select option").all_inner_texts()
    first, second = years[1], years[2]
    for i in range(rows.count()):                     # the sports ground in the second year, the rest in the first
        row = rows.nth(i)
        row.locator("select").select_option(label=second if "体育运动场馆面积" in row.inner_text() else first)
    desk.get_by_role("button", name="保存为新的规划版本").click()

    timeline = desk.locator("#timeline")
    expect(timeline.locator(".banner")).to_have_text(f"预计 {second.removesuffix(' 年')} 年达到优质均衡标准")
    expect(timeline.locator("tr", has_text=first).locator("td").first).to_have_text("未达标")
    expect(timeline.locator("tr", has_text=second).locator("td").first).to_have_text("达标")
    timeline.screenshot(path=shot_name(request.node.name, "timeline"))     # the timeline section alone

    desk.locator("#departments tr", has_text="财政局").get_by_role("link", name="打印页").click()
    expect(desk.locator("h1")).to_contain_text("财政局任务清单")
    expect(desk.locator("main table tr")).to_have_count(4)     # header, S03's two rows, the total
    shot(desk, "department")
