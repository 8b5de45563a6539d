"""Issue 6, the audit trail: each audited action writes its entry (who, what, checksum of the
file), no route changes or deletes an entry (and the database refuses to), province admins
read, filter and export the log; nobody else does."""

import csv
import hashlib
import inspect as pyinspect
import io
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from chinese_text import leaks, visible_text
from inspector_helpers import COUNTY_A, browser, county_url, example_zip as county_zip, make_users, upload
from service.accounts import audit
from service.db.models import AuditEntry
from svc_helpers import ADMIN, ALL_A, answer, csrf_token, link_token


def entries(app, action: str | None = None) -> list[AuditEntry]:
    with Session(app.state.engine) as s:
        return audit.query(s, action=action)


def test_bureau_actions_are_audited(app, client, campaign, anon, clock):
    """login, campaign create, school import (file sha256), QR, sheets, slips, exports, verdict, close."""
    logins = entries(app, "login")
    assert logins and logins[0].username == ADMIN
    created = entries(app, "campaign_create")
    assert len(created) == 1 and created[0].target == f"campaign/{campaign}" and created[0].username == ADMIN
    imported = entries(app, "school_import")
    assert len(imported) == 1 and imported[0].file_sha256 and imported[0].detail["schools"] == 25
    from service.db.models import Campaign, WorkbookVersion
    with Session(app.state.engine) as s:
        listed = s.get(Campaign, campaign)          # the school list's file, as the campaign keeps it
        assert imported[0].file_sha256 == listed.school_list_sha256
        assert imported[0].file_sha256 == s.exec(select(WorkbookVersion)).one().sha256   # the same bytes

    token = link_token(app, campaign, group="public")
    assert client.get(f"/bureau/campaigns/{campaign}/qr/{token}/png").status_code == 200
    assert client.get(f"/bureau/campaigns/{campaign}/qr/{token}/svg").status_code == 200
    assert [e.detail["format"] for e in entries(app, "qr_generate")] == ["svg", "png"]
    assert client.get(f"/bureau/campaigns/{campaign}/sheets?school=S01").status_code == 200
    assert entries(app, "sheet_generate")[0].detail["school"] == "S01"
    page = client.get(f"/bureau/campaigns/{campaign}")
    r = client.post(f"/bureau/campaigns/{campaign}/codes", data={"_csrf_token": csrf_token(page.text),
                                                                "link": token, "count": "3"})
    assert r.status_code == 200
    assert entries(app, "slips_generate")[0].detail == {"batch": 1, "count": 3}
    assert entries(app, "slips_print")[0].target == f"campaign/{campaign}/codes/1"

    code = re.findall(r'<span class="code">([A-Z0-9]+)</span>', r.text)[0]     # the link now requires one
    answer(anon, clock, f"/s/{token}?q=public&c={code}", {**ALL_A, "group": "public", "location": "urban"})
    csv_r = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    xlsx_r = client.get(f"/bureau/campaigns/{campaign}/export.xlsx")
    exports = entries(app, "export")
    assert [e.detail["file"] for e in exports] == [f"答卷-{campaign}.xlsx", f"responses-{campaign}.csv"]
    assert exports[1].file_sha256 == hashlib.sha256(csv_r.content).hexdigest()
    assert exports[0].file_sha256 == hashlib.sha256(xlsx_r.content).hexdigest()
    assert all(e.detail["count"] == 1 for e in exports)

    assert client.get("/inspector/counties/示例县/verdict").status_code == 200
    assert entries(app, "verdict_view")[0].target == "county/示例县"
    page = client.get(f"/bureau/campaigns/{campaign}")
    client.post(f"/bureau/campaigns/{campaign}/close", data={"_csrf_token": csrf_token(page.text)})
    assert len(entries(app, "campaign_close")) == 1
    with Session(app.state.engine) as s:
        assert audit.verify_chain(s) == []
    client.get("/inspector/counties/示例县/verdict.json")
    log = visible_text(client.get("/trust/audit").text)      # the log in words: 格式：PNG, 第 1 版
    assert "格式：PNG" in log and "示例县-评估结果-第1版.json" in log and leaks(log) == []


def test_inspector_workspace_actions_are_audited(app):
    make_users(app)
    data = county_zip("example-pass")
    with browser(app, "bureau_a") as c:
        assert upload(c, COUNTY_A, [("county.zip", data)]).status_code == 200
        up = entries(app, "workbook_upload")
        assert len(up) == 1 and up[0].username == "bureau_a" and up[0].target == f"county/{COUNTY_A}"
        assert up[0].file_sha256
        r = c.get(county_url(COUNTY_A, "/workbooks/1"))
        assert entries(app, "workbook_download")[0].file_sha256 == hashlib.sha256(r.content).hexdigest()
    with browser(app, "inspector_a") as c:
        assert c.get(county_url(COUNTY_A, "/verdict")).status_code == 200
        assert c.get(county_url(COUNTY_A, "/report")).status_code == 200
        views = entries(app, "verdict_view")
        assert {v.detail["page"] for v in views} == {"verdict", "report"}
        assert {v.username for v in views} == {"inspector_a"}
        for suffix in ("/verdict.json", "/verdict.xlsx", "/ledger.csv", "/ledger.xlsx"):
            r = c.get(county_url(COUNTY_A, suffix))
            assert r.status_code == 200
            last = entries(app, "export")[0]
            assert last.file_sha256 == hashlib.sha256(r.content).hexdigest() == r.headers["x-renke-sha256"]
        assert len(entries(app, "export")) == 4
        assert [e.username for e in entries(app, "login")][:2] == ["inspector_a", "bureau_a"]


def test_no_route_edits_or_deletes_audit_entries(app):
    """No PUT/PATCH/DELETE route at all; no POST under an audit path; no handler's code (nor
    any module of the service but audit.py's insert) updates or deletes AuditEntry rows."""
    import service
    from pathlib import Path
    for route in app.routes:
        methods = set(getattr(route, "methods", set()))
        assert not methods & {"PUT", "PATCH", "DELETE"}, (route.path, methods)
        if "audit" in route.path:
            assert methods <= {"GET", "HEAD", "OPTIONS"}, (route.path, methods)
        for handler in getattr(route, "route_handlers", []):
            fn = getattr(handler.fn, "func", handler.fn)
            source = pyinspect.getsource(getattr(fn, "__func__", fn))
            assert "AuditEntry" not in source, handler
    for path in Path(service.__file__).parent.rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        for bad in ("update(AuditEntry", "delete(AuditEntry", "audit_entry SET", "FROM audit_entry"):
            assert bad not in src, (path, bad)
    audit_src = pyinspect.getsource(audit)
    assert ".delete(" not in audit_src and "update(" not in audit_src


def test_database_refuses_update_and_delete_of_entries(app, client):
    with Session(app.state.engine) as s:
        audit.record(s, "someone", "login")
    for statement in ("UPDATE audit_entry SET username = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError):
            with app.state.engine.begin() as conn:
                conn.execute(text(statement))
    assert [e.username for e in entries(app)] == ["someone"]


def test_province_admin_reads_filters_and_exports_the_log(app, campaign, client):
    make_users(app)
    with browser(app, "province") as c:
        page = c.get("/trust/audit")
        assert page.status_code == 200 and "校验链完整" in page.text
        assert 'data-action="campaign_create"' in page.text and 'data-action="school_import"' in page.text
        only = c.get("/trust/audit?action=school_import")
        assert 'data-action="school_import"' in only.text and 'data-action="campaign_create"' not in only.text
        mine = c.get("/trust/audit?user=province")
        assert 'data-action="login"' in mine.text and 'data-action="campaign_create"' not in mine.text
        assert 'data-action="campaign_create"' not in c.get("/trust/audit?since=2000-01-01&until=2000-01-02").text
        today = entries(app)[0].at.astimezone(audit.CHINA).date().isoformat()
        assert 'data-action="campaign_create"' in c.get(f"/trust/audit?since={today}&until={today}").text
        r = c.get("/trust/audit.csv?action=campaign_create")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
        assert [row["action"] for row in rows] == ["campaign_create"] and rows[0]["username"] == ADMIN
        assert rows[0]["checksum"] and rows[0]["action_name"] == "创建调查"
        exported = entries(app, "audit_export")
        assert exported[0].file_sha256 == hashlib.sha256(r.content).hexdigest()
        assert entries(app, "audit_view")
    for user in ("bureau_a", "inspector_a"):
        with browser(app, user) as c:
            assert c.get("/trust/audit").status_code == 403
            assert c.get("/trust/audit.csv").status_code == 403
    with browser(app) as c:
        r = c.get("/trust/audit", follow_redirects=False)
        assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_every_recorded_action_has_a_chinese_name_and_every_name_an_action():
    """ACTIONS names exactly the actions some call of ``audit.record`` writes: none shown raw on
    the log page, no name left for a route that does not exist."""
    import ast
    from pathlib import Path

    import service
    recorded = set()
    for path in Path(service.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and len(node.args) >= 3
                    and getattr(node.func, "attr", getattr(node.func, "id", None)) == "record"):
                recorded |= {c.value for c in ast.walk(node.args[2]) if isinstance(c, ast.Constant)
                             and isinstance(c.value, str)}
    assert recorded == set(audit.ACTIONS)
