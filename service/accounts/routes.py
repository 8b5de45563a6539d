"""Login and logout (``/login``, ``/logout``) and the province's accounts page (``/inspector/accounts``)."""

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
from service.db.models import Account
from service.web.auth import SESSION_KEY, login_required, to_login
from service.web.clock import local
from service.web.security import hash_password, verify_password
from service.web.sessions import renew_id


def staff_context(request: Request, **ctx: Any) -> dict:
    """What every staff page's frame shows: who is signed in, their role, the time format."""
    p = R.principal_of(request)
    return {"me": p, "user": p.username, "roles": R.ROLES, "local": local, **ctx}


# ---- login --------------------------------------------------------------------------------

@get("/login", sync_to_thread=False)
def login_page(next: FromQuery[str] = "/bureau") -> Template:
    return Template(template_name="accounts/login.html", context={"next": next, "error": None})


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith(("/bureau", "/inspector", "/trust")) else "/bureau"


@post("/login", sync_to_thread=True, media_type=MediaType.HTML)
def login(request: Request, db: NamedDependency[Session],
          data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Any:
    account = db.exec(select(Account).where(Account.username == data.get("username", "").strip())).first()
    nxt = _safe_next(data.get("next"))
    if account is None or not verify_password(data.get("password", ""), account.password_hash):
        return Template(template_name="accounts/login.html", status_code=401,
                        context={"next": nxt, "error": "用户名或密码错误"})
    request.clear_session()
    renew_id(request)          # a session ID known before login is never the logged-in one
    request.set_session({SESSION_KEY: account.id, "username": account.username})
    audit.record(db, account, "login")
    return Redirect(path=nxt, status_code=303)


@post("/logout", sync_to_thread=False, guards=[login_required], exception_handlers={NotAuthorizedException: to_login})
def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect(path="/login", status_code=303)


# ---- accounts (province) ------------------------------------------------------------------

def _accounts_page(request: Request, db: Session, error: str | None, status: int = 200) -> Template:
    return Template(template_name="inspector/accounts.html", status_code=status,
                    context=staff_context(request, accounts=R.accounts_with_roles(db), error=error,
                                          counties=R.all_counties(db)))


@get("/accounts", sync_to_thread=True, guards=[R.logged_in, R.province_only])
def accounts(request: Request, db: NamedDependency[Session]) -> Template:
    return _accounts_page(request, db, None)


@post("/accounts", sync_to_thread=True, guards=[R.logged_in, R.province_only], media_type=MediaType.HTML)
def accounts_save(request: Request, db: NamedDependency[Session],
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
        return _accounts_page(request, db, error, 422)
    audit.record(db, R.principal_of(request), "account_save", f"account/{username}",
                 {"role": role, "counties": counties, "new": existing is None, "password_set": bool(password)})
    return Redirect(path="/inspector/accounts", status_code=303)


LOGIN_ROUTES = [login_page, login, logout]
INSPECTOR_ROUTES = [accounts, accounts_save]
