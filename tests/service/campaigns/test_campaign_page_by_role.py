"""A campaign's page by role: an inspector reads it, but is shown none of the bureau's actions
and none of the raw-answer exports that would refuse them (issue 20's journeys)."""

import pytest
from inspector_helpers import browser, make_users
from svc_helpers import create_campaign

ACTIONS = ("/close", "/designate", "/dates", "/workbook", "/codes\"", "/export.xlsx", "/export.csv",
           "/export.sav", "/export.dta", "/export.codebook.xlsx", "/export.excel.csv")


def test_the_inspector_reads_a_campaign_without_the_bureaus_actions_or_raw_exports(app, clock):
    make_users(app)
    with browser(app, "bureau_a") as bureau:
        cid = create_campaign(bureau)
        page = bureau.get(f"/bureau/campaigns/{cid}").text
        assert all(f"/bureau/campaigns/{cid}{a}" in page for a in ACTIONS)
    with browser(app, "inspector_a") as inspector:
        r = inspector.get(f"/bureau/campaigns/{cid}")
        assert r.status_code == 200 and "抽样计划与进度" in r.text
        assert [a for a in ACTIONS if f"/bureau/campaigns/{cid}{a}" in r.text] == []
        assert inspector.get(f"/bureau/campaigns/{cid}/export.xlsx").status_code == 403


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
