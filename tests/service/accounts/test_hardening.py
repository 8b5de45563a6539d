"""Issue 14, hardening the staff side: one test per finding, named after it."""

import base64
import gc
import hashlib
import html
import re
from argparse import Namespace

import pytest
from litestar import get
from litestar.testing import TestClient
from sqlmodel import Session, select

from svc_helpers import ADMIN, ALL_A, PASSWORD, answer, csrf_token, link_token, login

from service.accounts import roles as R
from service.accounts.roles import create_account
from service.db.models import Account, AccountRole, AuditEntry, KeyValue

BASE = "http://testserver.local"
NEW_PASSWORD = "a brand new passphrase"


def post_login(client: TestClient, username: str, password: str):
    token = csrf_token(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "_csrf_token": token},
                       follow_redirects=False)


def session_rows(app) -> list[KeyValue]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(KeyValue).where(KeyValue.namespace == "sessions")))


def audit_entries(app, action: str) -> list[AuditEntry]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action)))


def change_password(client: TestClient, current: str, new: str, again: str | None = None):
    token = csrf_token(client.get("/inspector/password").text)
    return client.post("/inspector/password", data={"_csrf_token": token, "current": current, "new": new,
                                                    "again": new if again is None else again})


def app_with(tmp_path, clock=None, **settings):
    from service.app import create_app
    from service.web.settings import Settings
    extra = {"clock": clock} if clock is not None else {}
    application = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", secret="test-secret",
                                      **extra, **settings))
    create_account(application.state.engine, ADMIN, PASSWORD)
    return application


# ---- login ------------------------------------------------------------------------------------

def test_login_does_the_same_work_for_unknown_and_known_names(client, monkeypatch):
    """One scrypt per attempt whether the name exists or not (timing tells no account apart)."""
    import hashlib as hashlib_module
    calls = []
    real = hashlib_module.scrypt
    monkeypatch.setattr(hashlib_module, "scrypt", lambda *a, **k: calls.append(k.get("n")) or real(*a, **k))
    for name in ("nobody-here", ADMIN):
        calls.clear()
        assert post_login(client, name, "wrong password").status_code == 401
        assert calls == [2**14], (name, calls)


def test_login_is_throttled_per_account_from_every_address(app, client, anon):
    from service.accounts.login import LOGIN_FAILURES
    for _ in range(LOGIN_FAILURES):
        assert post_login(client, ADMIN, "guess").status_code == 401
    refused = post_login(anon, ADMIN, PASSWORD)            # another browser, the right password
    assert refused.status_code == 429 and "尝试次数过多" in refused.text
    assert anon.get("/bureau", follow_redirects=False).status_code == 303   # not signed in
    assert post_login(anon, "someone-else", "guess").status_code == 401     # other names go on
    with Session(app.state.engine) as s:                   # the counter keys on no readable name
        keys = s.exec(select(KeyValue.key).where(KeyValue.namespace == "rate_limit")).all()
    assert keys and not any(ADMIN in k for k in keys)


@pytest.fixture
def no_server(monkeypatch) -> list[dict]:
    """``uvicorn.run`` recorded instead of run (and no gc.freeze of the test process)."""
    import uvicorn
    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: runs.append(k))
    monkeypatch.setattr(gc, "freeze", lambda: None)
    return runs


def test_forwarded_headers_are_believed_only_from_configured_proxies(tmp_path, monkeypatch, no_server):

    from service.__main__ import main
    runs = no_server
    monkeypatch.setenv("RENKE_SECRET", "s")
    monkeypatch.delenv("RENKE_TRUSTED_PROXIES", raising=False)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert main(["--database-url", url]) == 0
    monkeypatch.setenv("RENKE_TRUSTED_PROXIES", "10.0.0.5")
    assert main(["--database-url", url]) == 0
    default, configured = runs
    assert default["proxy_headers"] is False
    assert configured["proxy_headers"] is True and configured["forwarded_allow_ips"] == "10.0.0.5"


def test_host_port_and_workers_come_from_the_environment_and_the_options_over_it(tmp_path, monkeypatch, no_server):
    from service.__main__ import main
    runs = no_server
    for name, value in {"RENKE_SECRET": "s", "HOST": "0.0.0.0", "PORT": "8123", "WEB_CONCURRENCY": "3",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"}.items():
        monkeypatch.setenv(name, value)
    assert main([]) == 0
    assert main(["--host", "127.0.0.2", "--port", "9000", "--workers", "1"]) == 0
    from_environment, from_options = runs
    assert (from_environment["host"], from_environment["port"], from_environment["workers"]) == ("0.0.0.0", 8123, 3)
    assert (from_options["host"], from_options["port"], from_options.get("workers")) == ("127.0.0.2", 9000, None)


def test_failed_logins_are_audited_with_the_name_tried_and_no_password_or_address(app, client):
    post_login(client, ADMIN, "secret-guess-1")
    post_login(client, "no-such-user", "secret-guess-2")
    entries = audit_entries(app, "login_failed")
    assert [e.username for e in entries] == [ADMIN, "no-such-user"]
    text = " ".join(f"{e.target} {e.detail}" for e in entries)
    assert "secret-guess" not in text and "testclient" not in text and "127.0.0.1" not in text


# ---- sessions ---------------------------------------------------------------------------------

def test_an_anonymous_request_stores_no_session(app, anon):
    for path in ("/login", "/bureau", "/inspector", "/no-such-page", "/"):
        r = anon.get(path, follow_redirects=False)
        assert "session=" not in r.headers.get("set-cookie", ""), path
    assert post_login(anon, ADMIN, "wrong").status_code == 401
    assert session_rows(app) == []
    login(anon)
    assert len(session_rows(app)) == 1


def test_a_password_change_ends_the_accounts_other_sessions(app, client, anon):
    login(client)
    login(anon)
    assert change_password(client, PASSWORD, NEW_PASSWORD).url.path == "/inspector/password"
    assert anon.get("/bureau").url.path == "/login"          # the other browser is signed out
    assert client.get("/bureau").url.path == "/bureau"       # this one goes on
    assert len(session_rows(app)) == 1


def test_a_session_ends_its_absolute_lifetime_after_login_even_in_use(tmp_path, clock):
    application = app_with(tmp_path, clock, session_idle_s=3600, session_max_s=3 * 3600)
    with TestClient(application, base_url=BASE) as c:
        login(c)
        for _ in range(4):                                    # used every 40 minutes: never idle
            clock.advance(40 * 60)
            assert c.get("/bureau").url.path == "/bureau"
        clock.advance(40 * 60)                                # 3 h 20 min after login
        assert c.get("/bureau").url.path == "/login"
        assert session_rows(application) == []


def test_a_session_ends_after_its_idle_time_unused_on_the_apps_clock(tmp_path, clock):
    application = app_with(tmp_path, clock, session_idle_s=3600, session_max_s=3 * 3600)
    with TestClient(application, base_url=BASE) as c:
        login(c)
        clock.advance(59 * 60)
        assert c.get("/bureau").url.path == "/bureau"         # used: an hour more from now
        clock.advance(61 * 60)
        assert c.get("/bureau").url.path == "/login"
        assert session_rows(application) == []


def test_a_database_copy_holds_no_session_id_that_signs_in(app, client, anon):
    login(client)
    [row] = session_rows(app)
    cookie = client.cookies.get("session")
    assert row.key != cookie
    anon.cookies.set("session", row.key, domain="testserver.local")
    assert anon.get("/bureau").url.path == "/login"


def test_csrf_is_rotated_at_login_and_bound_to_the_session(app, client, anon, campaign):
    stale_form = csrf_token(anon.get("/login").text)
    before = anon.cookies.get("csrftoken")
    login(anon)
    assert anon.cookies.get("csrftoken") not in (None, before)
    close = f"/bureau/campaigns/{campaign}/close"
    assert anon.post(close, data={"_csrf_token": stale_form}).status_code == 403      # the pre-login token
    # A valid token pair of another browser (double submit holds) is not this session's.
    other = TestClient(app, base_url=BASE)
    with other:
        foreign = csrf_token(other.get("/login").text)
        foreign_cookie = other.cookies.get("csrftoken")
    anon.cookies.set("csrftoken", foreign_cookie, domain="testserver.local")
    assert anon.post(close, data={"_csrf_token": foreign}).status_code == 403
    with Session(app.state.engine) as s:
        assert not [e for e in s.exec(select(AuditEntry).where(AuditEntry.action == "campaign_close"))]


def test_the_password_change_page_checks_and_audits_the_change(app, client, anon):
    login(client)
    page = client.get("/inspector/password")
    assert page.status_code == 200 and "修改密码" in page.text and "当前密码" in page.text
    assert "当前密码不正确" in change_password(client, "not mine", NEW_PASSWORD).text
    assert "至少 8 位" in change_password(client, PASSWORD, "short").text
    assert "两次输入的新密码不一致" in change_password(client, PASSWORD, NEW_PASSWORD, "something else").text
    assert audit_entries(app, "password_change") == []
    done = change_password(client, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 200 and "密码已修改" in done.text
    assert [e.username for e in audit_entries(app, "password_change")] == [ADMIN]
    assert post_login(anon, ADMIN, PASSWORD).status_code == 401
    assert post_login(anon, ADMIN, NEW_PASSWORD).status_code == 303


def test_wrong_current_passwords_count_as_failed_logins_of_the_account(app, client, anon):
    """A stolen session guesses the password no faster on the change page than on the login page."""
    from service.accounts.login import LOGIN_FAILURES
    login(client)
    for _ in range(LOGIN_FAILURES):
        assert change_password(client, "guess", NEW_PASSWORD).status_code == 422
    assert "尝试次数过多" in change_password(client, PASSWORD, NEW_PASSWORD).text
    assert post_login(anon, ADMIN, PASSWORD).status_code == 429


@pytest.mark.parametrize("base", ["bureau", "inspector"])
def test_the_staff_headers_link_the_password_page(app, client, base):
    login(client)
    page = client.get("/bureau" if base == "bureau" else "/inspector/password")
    header = re.search(r"<header>(.*?)</header>", page.text, re.S).group(1)
    assert 'href="/inspector/password"' in header


# ---- headers ----------------------------------------------------------------------------------

SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


def test_security_headers_are_on_error_pages_and_redirects(app, anon, campaign):
    @get("/boom", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("boom")

    app.register(boom)
    responses = {
        "redirect": anon.get("/bureau", follow_redirects=False),
        "404": anon.get("/no-such-page"),
        "403": anon.post("/login", data={"username": "x", "password": "y", "_csrf_token": "forged"}),
        "500": anon.get("/boom"),
    }
    assert [r.status_code for r in responses.values()] == [303, 404, 403, 500]
    for kind, r in responses.items():
        assert all(h in r.headers for h in SECURITY), (kind, dict(r.headers))


def _inline(page: str) -> list[str]:
    """The inline scripts and event handlers of a served page, as the browser hashes them."""
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    return scripts + [html.unescape(v) for v in re.findall(r'\son[a-z]+="([^"]*)"', page)]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_a_template_with_an_inline_event_handler_stops_the_start(tmp_path):
    from service.web.headers import inline_script_hashes
    (tmp_path / "page.html").write_text('<form onsubmit="return confirm(1)"></form>', encoding="utf-8")
    with pytest.raises(ValueError, match="inline event handler"):
        inline_script_hashes([tmp_path])


def test_the_csp_allows_no_inline_script_but_the_pages_own(app, client, anon, clock, campaign):
    """script-src has no 'unsafe-inline'; every inline script and handler of the pages as served
    (phone form, its thanks page, a campaign page) is listed by its hash; another is not."""
    path = "/s/" + link_token(app, campaign, "S01", "student")
    form = anon.get(path)
    thanks, _, _ = answer(anon, clock, path, {**ALL_A, "grade": "4"})
    staff = client.get(f"/bureau/campaigns/{campaign}")
    for page in (form, thanks, staff):
        script_src = re.search(r"script-src ([^;]*)", page.headers["content-security-policy"]).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-hashes'" not in script_src
        assert not re.search(r'\son[a-z]+="', page.text), page.url       # no inline event handler
        scripts = _inline(page.text)
        assert scripts, page.url
        for body in scripts:
            assert _sha256(body) in script_src, (page.url, body[:80])
        assert _sha256("alert(1)") not in script_src
    assert "提交成功" in thanks.text


def test_staff_pages_and_exports_are_not_kept_by_caches(app, client, anon, campaign):
    exports = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    assert exports.status_code == 200
    for r in (client.get("/bureau"), client.get(f"/bureau/campaigns/{campaign}"), exports,
              anon.get("/login"), anon.get("/no-such-page")):
        assert r.headers.get("cache-control") == "no-store", r.url
    token = link_token(app, campaign)
    qr = client.get(f"/bureau/campaigns/{campaign}/qr/{token}/png")
    assert qr.headers["cache-control"] == "private, max-age=86400"          # its own
    assert anon.get(f"/s/{token}").headers.get("cache-control") == "no-store"   # its id is single-use
    assert "no-store" not in anon.get("/healthz").headers.get("cache-control", "")


@pytest.mark.parametrize("https", [False, True])
def test_hsts_is_sent_only_when_behind_https(tmp_path, https):
    application = app_with(tmp_path, secure_cookies=https)
    with TestClient(application, base_url=BASE) as c:
        for r in (c.get("/login"), c.get("/healthz"), c.get("/nothing")):
            assert ("strict-transport-security" in r.headers) == https


# ---- defaults ---------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_secret_unless_told_to_keep_it_in_the_database(
        tmp_path, monkeypatch, capsys, no_server):
    from service.__main__ import main
    runs = no_server
    for name in ("RENKE_SECRET", "RENKE_SECRET_IN_DB"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["--database-url", url]) == 2 and runs == []
    message = capsys.readouterr().err
    assert "RENKE_SECRET" in message and "RENKE_SECRET_IN_DB=1" in message and "不启动" in message
    assert main(["--database-url", url, "--workers", "2"]) == 2 and runs == []
    monkeypatch.setenv("RENKE_SECRET_IN_DB", "1")
    assert main(["--database-url", url]) == 0 and len(runs) == 1
    monkeypatch.delenv("RENKE_SECRET_IN_DB")
    assert main(["--database-url", url, "--demo"]) == 0 and len(runs) == 2   # the demo may keep it there


def test_demo_is_a_bureau_admin_when_seeded_for_several_workers(tmp_path, monkeypatch, no_server):
    from service.__main__ import _run_workers
    from service.web.settings import Settings
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")      # _run_workers sets it for the workers
    url = f"sqlite:///{tmp_path / 'w.db'}"
    settings = Settings(database_url=url, secret="s")
    args = Namespace(demo=True, host="127.0.0.1", port=8000, workers=2, access_log=False)
    assert _run_workers(args, settings) == 0
    from service.db.engine import make_engine
    engine = make_engine(url)
    with Session(engine) as s:
        demo = s.exec(select(Account).where(Account.username == "demo")).one()
        principal = R.load_principal(s, demo.id)
        assert s.get(AccountRole, demo.id) is not None
    engine.dispose()
    assert principal.role == R.BUREAU_ADMIN and not principal.is_province and principal.counties
