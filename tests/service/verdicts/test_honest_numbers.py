"""What the pages claim about the rate (issue 12): the design-based interval, thin groups named in
Chinese, the simple interval kept as a footnote."""

from inspector_helpers import COUNTY_A, browser, county_url, example_zip, make_users, upload
from svc_helpers import ALL_A, answer, create_campaign, link_token, upload_workbook

from scoring import display


def test_the_page_shows_the_design_interval_and_the_simple_one_as_a_footnote(app):
    from inspector_helpers import log_in
    from litestar.testing import TestClient

    from service.demo import seed
    seed(app.state.engine, app.state.templates, app.state.profile)
    with TestClient(app, base_url="http://testserver.local") as c:
        log_in(c, "inspector", "inspector-renke")
        rec = c.get(county_url(COUNTY_A, "/verdict.json")).json()["parts"]["recognition"]
        page = c.get(county_url(COUNTY_A, "/verdict")).text
    design = f"{display.percent(rec['ci95'][0])} – {display.percent(rec['ci95'][1])}"
    simple = f"{display.percent(rec['ci95_srs'][0])} – {display.percent(rec['ci95_srs'][1])}"
    assert rec["ci95"] != rec["ci95_srs"]
    assert f'id="ci">{design}<' in page and "按学校整群" in page
    assert 'id="srs-note"' in page and simple in page
    assert "1.96·√" not in page and "var<sub>" not in page and "可能的波动范围" in page   # explained in words


def test_a_county_with_a_handful_of_answers_is_not_called_robust(app, anon, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        assert upload(bureau, COUNTY_A, [("county.zip", example_zip("example-pass"))]).status_code == 200
        assert upload_workbook(bureau, cid, example_zip("example-pass")).status_code == 200
        for fields in ({"location": "urban", **ALL_A}, {"location": "rural", **ALL_A}):
            anon.cookies.clear()
            r, _, _ = answer(anon, clock, "/s/" + link_token(app, cid, None, "public"), fields)
            assert r.status_code == 200
        rec = bureau.get(county_url(COUNTY_A, "/verdict.json")).json()["parts"]["recognition"]
        page = bureau.get(county_url(COUNTY_A, "/verdict")).text
    assert rec["status"] != "robust_pass" and rec["thin_groups"] == ["public"]
    assert 'id="thin-groups"' in page and "其他群众" in page and "稳健达标" in page.split('id="thin-groups"')[1]
