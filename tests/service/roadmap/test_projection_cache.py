"""Issue 21, finding 3: a county's plan is projected once per plan version and verdict state, not on
every view of the province's acceptance plan or the county's mock acceptance."""

import pytest
from inspector_helpers import COUNTY_A, COUNTY_B, EXAMPLE_OF, EXAMPLES, browser, county_url, example_zip, make_users, upload
from svc_helpers import csrf_token

from service.roadmap import plans

NO_VETO = (EXAMPLES / "example-fail" / "veto.csv").read_text(encoding="utf-8").replace("V3,yes", "V3,no").encode()


@pytest.fixture
def projections(monkeypatch) -> list[str]:
    """The counties projected (scoring.roadmap.project as the plans module calls it), from an empty cache."""
    calls: list[str] = []
    real = plans.project
    monkeypatch.setattr(plans, "project", lambda wb, *a, **k: calls.append(str(wb.county["county_name"]))
                        or real(wb, *a, **k))
    monkeypatch.setattr(plans, "_PROJECTIONS", type(plans._PROJECTIONS)())
    return calls


def upload_plan(c, county: str, text: str) -> None:
    token = csrf_token(c.get(county_url(county, "/roadmap")).text)
    r = c.post(county_url(county, "/roadmap/plans"), data={"_csrf_token": token},
               files={"plan": ("规划.csv", text.encode(), "text/csv")})
    assert r.status_code == 200, r.text[:2000]


def test_each_plan_version_is_projected_once_for_every_acceptance_view(app, projections):
    make_users(app)
    with browser(app, "bureau_b") as c:
        assert upload(c, COUNTY_B, [("b.zip", example_zip(EXAMPLE_OF[COUNTY_B]))]).status_code == 200
        upload_plan(c, COUNTY_B, "年度,学校代码,字段,变化\n2026,S03,体育运动场馆面积,+100\n")
        assert projections == [COUNTY_B]                      # read once at upload
        for _ in range(3):
            assert c.get(county_url(COUNTY_B, "/mock-acceptance")).status_code == 200
    with browser(app, "province") as c:
        for _ in range(3):
            assert c.get("/inspector/acceptance").status_code == 200
    assert projections == [COUNTY_B]                         # the upload's projection is kept
    with browser(app, "bureau_b") as c:                       # a new version is projected afresh
        upload_plan(c, COUNTY_B, "年度,学校代码,字段,变化\n2027,S03,体育运动场馆面积,+200\n")
        c.get(county_url(COUNTY_B, "/mock-acceptance"))
        c.get(county_url(COUNTY_B, "/mock-acceptance"))
    assert projections == [COUNTY_B] * 2
    with browser(app, "bureau_b") as c:                       # so is a new workbook under the same plan
        upload(c, COUNTY_B, [("b2.zip", example_zip(EXAMPLE_OF[COUNTY_B], {"veto.csv": NO_VETO}))])
        c.get(county_url(COUNTY_B, "/mock-acceptance"))
    assert projections == [COUNTY_B] * 3
    assert COUNTY_A not in projections
