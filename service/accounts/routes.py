"""Login and logout (``/login``, ``/logout``), one's own password (``/inspector/password``) and the
province's accounts page (``/inspector/accounts``)."""

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType, RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from service.accounts import audit
from service.accounts import roles as R
from service.accounts.login import MIN_PASSWORD, THROTTLED, change_password, sign_in
from service.accounts.pages import staff_context
from service.db.models import Account
from service.web import public_address as PA
from service.web.auth import PASSWORD_STAMP, SESSION_KEY, login_required, to_login
from service.web.security import hash_password, password_stamp
from service.web.sessions import begin, renew_id
from service.web.settings import Settings

# ---- login --------------------------------------------------------------------------------

@get("/login", sync_to_thread=False)
def login_page(next: FromQuery[str] = "/") -> Template:
    return Template(template_name="accounts/login.html", context={"next": next, "error": None})


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith(("/bureau", "/inspector", "/trust")) else "/"


@post("/login", sync_to_thread=True, media_type=MediaType.HTML)
def login(request: Request, db: NamedDependency[Session], settings: NamedDependency[Settings],
          data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    nxt = _safe_next(data.get("next"))
    account, throttled = sign_in(db, request.app.stores.get("rate_limit"), settings.secret,
                                 data.get("username", "").strip(), data.get("password", ""))
    if account is None:
        return Template(template_name="accounts/login.html", status_code=429 if throttled else 401,
                        context={"next": nxt, "error": THROTTLED if throttled else "用户名或密码错误"})
    return begin(request, {SESSION_KEY: account.id, "username": account.username,
                           PASSWORD_STAMP: password_stamp(account.password_hash)},
                 Redirect(path=nxt, status_code=303))


@post("/logout", sync_to_thread=False, guards=[login_required], exception_handlers={NotAuthorizedException: to_login})
def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect(path="/login", status_code=303)


# ---- one's own password -----------------------------------------------------------------

def _password_page(p: R.Principal, error: str | None = None, status: int = 200, changed: bool = False) -> Template:
    return Template(template_name="inspector/password.html", status_code=status,
                    context=staff_context(p, error=error, changed=changed, min_length=MIN_PASSWORD))


@get("/password", sync_to_thread=True, guards=[R.logged_in])
def password_page(principal: NamedDependency[R.Principal], changed: FromQuery[bool] = False) -> Template:
    return _password_page(principal, changed=changed)


@post("/password", sync_to_thread=True, guards=[R.logged_in], media_type=MediaType.HTML)
def password_save(request: Request, db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  settings: NamedDependency[Settings],
                  data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    error, account = change_password(db, request.app.stores.get("rate_limit"), settings.secret,
                                     principal.account_id, data.get("current", ""),
                                     data.get("new", ""), data.get("again", ""))
    if error:
        return _password_page(principal, error, 422)
    # This session goes on under the new password (and a new ID); the account's others are over.
    request.session[PASSWORD_STAMP] = password_stamp(account.password_hash)
    renew_id(request)
    return Redirect(path="/inspector/password?changed=1", status_code=303)


# ---- accounts (province) ------------------------------------------------------------------

def _accounts_page(p: R.Principal, db: Session, error: str | None, status: int = 200) -> Template:
    return Template(template_name="inspector/accounts.html", status_code=status,
                    context=staff_context(p, accounts=R.accounts_with_roles(db), error=error,
                                          counties=R.all_counties(db)))


@get("/accounts", sync_to_thread=True, guards=[R.logged_in, R.province_only])
def accounts(db: NamedDependency[Session], principal: NamedDependency[R.Principal]) -> Template:
    return _accounts_page(principal, db, None)


@post("/accounts", sync_to_thread=True, guards=[R.logged_in, R.province_only], media_type=MediaType.HTML)
def accounts_save(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    username = data.get("username", "").strip()
    password = data.get("password", "")
    role = data.get("role", "")
    counties = [c for c in data.get("counties", "").replace("，", ",").replace("、", ",").split(",")]
    error = None
    existing = db.exec(select(Account).where(Account.username == username)).first()
    if not username or role not in R.ROLES:
        error = "请填写用户名并选择角色"
    elif existing is None and len(password) < 8:
        error = "新账号的密码至少 8 位"
    if error is None:
        try:
            if existing is not None:
                R.set_role(db, existing.id, role, counties)
                if password:
                    existing.password_hash = hash_password(password)
                    db.add(existing)
                db.commit()
            else:
                R.ensure_account(db, username, password, role, counties)
        except ValueError:
            db.rollback()
            error = "县教育局管理员须指定且只能指定一个县"
    if error:
        return _accounts_page(principal, db, error, 422)
    audit.record(db, principal, "account_save", f"account/{username}",
                 {"role": role, "counties": counties, "new": existing is None, "password_set": bool(password)})
    return Redirect(path="/inspector/accounts", status_code=303)


# ---- settings (province) ------------------------------------------------------------------

def _settings_page(p: R.Principal, db: Session, settings: Settings, error: str | None = None,
                   value: str | None = None, saved: bool = False, status: int = 200) -> Template:
    current = PA.stored(db)
    return Template(template_name="inspector/settings.html", status_code=status, context=staff_context(
        p, error=error, saved=saved, value=current if value is None else value, stored=current,
        default=settings.public_url))


@get("/settings", sync_to_thread=True, guards=[R.logged_in, R.province_only])
def settings_page(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  settings: NamedDependency[Settings], saved: FromQuery[bool] = False) -> Template:
    return _settings_page(principal, db, settings, saved=saved)


@post("/settings", sync_to_thread=True, guards=[R.logged_in, R.province_only], media_type=MediaType.HTML)
def settings_save(db: NamedDependency[Session], principal: NamedDependency[R.Principal],
                  settings: NamedDependency[Settings],
                  data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    raw = data.get("public_url", "")
    value, error = PA.normalise(raw)
    if error:
        return _settings_page(principal, db, settings, error=error, value=raw, status=422)
    before = PA.stored(db)
    PA.set_public_url(db, value)
    audit.record(db, principal, "public_url_set", "settings/public_url",
                 {"from": before or "", "to": value})
    return Redirect(path="/inspector/settings?saved=1", status_code=303)


LOGIN_ROUTES = [login_page, login, logout]
INSPECTOR_ROUTES = [password_page, password_save, accounts, accounts_save, settings_page, settings_save]
