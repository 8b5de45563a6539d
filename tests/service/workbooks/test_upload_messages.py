"""What an upload says (issue 20): a size refusal says the limit and the file's size (never a
bare 出错了), a file of the wrong kind is named as what it is, a success says what was stored."""

import pytest
from inspector_helpers import COUNTY_A, browser, county_url, example_zip, make_users, upload
from svc_helpers import create_campaign, csrf_token, upload_workbook

OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le") + b"\x00" * 512


def test_a_60_mb_upload_is_refused_with_the_limit_and_its_size(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        big = b"PK\x03\x04" + b"\x00" * (60 * 2**20)
        for r in (upload(bureau, COUNTY_A, [("big.xlsx", big)]), upload_workbook(bureau, cid, big, "big.xlsx")):
            assert r.status_code == 413
            assert "文件过大" in r.text and "约 60.0 MB" in r.text and "上限 50.0 MB" in r.text
            assert "出错了" not in r.text


def test_a_12_mb_upload_reaches_the_reader_and_is_answered_with_its_problem(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        r = upload(bureau, COUNTY_A, [("big.xlsx", b"PK\x03\x04" + b"\x00" * (12 * 2**20))])
        assert r.status_code == 422 and "big.xlsx" in r.text and "无法读取" in r.text and "出错了" not in r.text


def test_an_xls_is_named_as_what_it_is_on_the_county_page_and_the_campaign_page(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        for r in (upload(bureau, COUNTY_A, [("指标表.xls", OLD_XLS)]), upload_workbook(bureau, cid, OLD_XLS, "名录.xls")):
            assert r.status_code == 422 and ".xls 旧格式：请在 Excel 中另存为 .xlsx" in r.text
            assert "upload.zip" not in r.text and "压缩包中没有" not in r.text


def test_a_successful_upload_says_the_version_schools_and_data_year(app):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        token_page = bureau.get(county_url(COUNTY_A))
        r = bureau.post(county_url(COUNTY_A, "/workbooks"),
                        data={"_csrf_token": csrf_token(token_page.text), "data_year": "2025"},
                        files=[("workbook", ("示例县2025.zip", example_zip("example-pass"), "application/zip"))])
        assert r.status_code == 200       # the county sheet's evaluation_year (2024) wins over the form's
        assert "已保存为本县指标表第 1 版：示例县2025.zip，25 所学校，统计年度 2024。" in r.text
        cid = create_campaign(bureau)
        r = upload_workbook(bureau, cid, example_zip("example-pass"), "学校名录.zip")
        assert "已导入学校名录：学校名录.zip，25 所学校。本县指标表未改变。" in r.text


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
