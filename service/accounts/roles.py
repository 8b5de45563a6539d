"""Roles and the counties an account may see (issue 4), enforced by Litestar guards.

- ``province_admin``: every county, manages accounts (an account with no role row is one:
  the operators' accounts made by ``python -m service create-admin``);
- ``bureau_admin``: one county: runs its campaigns, uploads its workbooks;
- ``inspector`` (督学): read-only, the counties assigned to them;
- ``school_clerk`` (学校填报员): one school of one collection round (``school_clerk`` row), no
  county at all: reaches only ``/school`` and its own password page (``logged_in``).

Every page and export of the inspector workspace and every ``/bureau/campaigns/{cid}`` page
passes through these guards; a bureau of county A never sees county B.
"""

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from sqlalchemy import delete
from sqlmodel import Session, select

from service.db.models import Account, AccountCounty, AccountRole, Campaign, SchoolClerk, WorkbookVersion
from service.web.auth import PASSWORD_STAMP, SESSION_KEY
from service.web.dependencies import path_campaign
from service.web.errors import GoTo
from service.web.security import hash_password, password_stamp

PROVINCE_ADMIN, BUREAU_ADMIN, INSPECTOR = "province_admin", "bureau_admin", "inspector"
SCHOOL_CLERK = "school_clerk"
ROLES = {PROVINCE_ADMIN: "省级管理员", BUREAU_ADMIN: "县教育局管理员", INSPECTOR: "督学"}
# Not offered on the accounts page: school clerks are made in bulk by a round (service/collection).
ALL_ROLES = {**ROLES, SCHOOL_CLERK: "学校填报员"}
PASSWORD_PATH = "/inspector/password"


@dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    role: str
    counties: frozenset[str]
    round_id: int | None = None             # a school clerk's round and school
    school_code: str | None = None
    must_change_password: bool = False      # a school clerk still on the printed password

    @property
    def is_province(self) -> bool:
        return self.role == PROVINCE_ADMIN

    def can_read(self, county: str) -> bool:
        return self.is_province or county in self.counties

    def can_upload(self, county: str) -> bool:
        return self.role == BUREAU_ADMIN and county in self.counties

    def can_run_campaigns(self, county: str) -> bool:
        return self.is_province or (self.role == BUREAU_ADMIN and county in self.counties)

    @property
    def role_label(self) -> str:
        return ALL_ROLES.get(self.role, self.role)

    def is_clerk_of(self, round_id: int, school_code: str) -> bool:
        return self.role == SCHOOL_CLERK and self.round_id == round_id and self.school_code == school_code


def load_principal(session: Session, account_id: int) -> Principal | None:
    account = session.get(Account, account_id)
    if account is None:
        return None
    row = session.get(AccountRole, account_id)
    if row is not None and row.role == SCHOOL_CLERK:
        clerk = session.get(SchoolClerk, account_id)
        if clerk is None:
            return None
        return Principal(account_id, account.username, SCHOOL_CLERK, frozenset(), clerk.round_id,
                         clerk.school_code, account.password_hash == clerk.initial_password_hash)
    counties = session.exec(select(AccountCounty.county_name).where(AccountCounty.account_id == account_id)).all()
    return Principal(account_id, account.username, row.role if row else PROVINCE_ADMIN, frozenset(counties))


def principal_of(connection: ASGIConnection) -> Principal:
    """The logged-in account's principal (once per request), or 401 (to the login page). A
    session made under a password changed since is over: cleared here, deleted by the response."""
    cached = connection.scope.setdefault("state", {}).get("renke_principal")
    if cached is not None:
        return cached
    account_id = connection.session.get(SESSION_KEY) if "session" in connection.scope else None
    if not account_id:
        raise NotAuthorizedException("login required")
    with Session(connection.app.state.engine) as s:
        p = load_principal(s, int(account_id))
        account = s.get(Account, int(account_id))      # loaded above: no second query
    if p is None or connection.session.get(PASSWORD_STAMP) != password_stamp(account.password_hash):
        connection.clear_session()
        raise NotAuthorizedException("login required")
    connection.scope["state"]["renke_principal"] = p
    return p


def provide_principal(request: ASGIConnection) -> Principal:
    """The ``principal`` dependency: the signed-in account (401, i.e. the login page, for a
    visitor); the guards have usually loaded it already and ``principal_of`` keeps it."""
    return principal_of(request)


def all_counties(session: Session) -> list[str]:
    names = set(session.exec(select(Campaign.county_name)).all())
    names |= set(session.exec(select(WorkbookVersion.county_name)).all())
    names |= set(session.exec(select(AccountCounty.county_name)).all())
    return sorted(names)


def visible_counties(session: Session, p: Principal) -> list[str]:
    return all_counties(session) if p.is_province else sorted(p.counties)


# ---- guards ---------------------------------------------------------------------------------

def county_reader(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Any page or export of ``{county}``: province admin, or the county's bureau / inspector."""
    if not principal_of(connection).can_read(connection.path_params["county"]):
        raise PermissionDeniedException("not your county")


def county_runner(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The county's collection rounds (数据采集): the province, or the county's bureau admin."""
    if not principal_of(connection).can_run_campaigns(connection.path_params["county"]):
        raise PermissionDeniedException("collection rounds are the county bureau's")


def county_uploader(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Workbook uploads: the county's bureau admin only."""
    if not principal_of(connection).can_upload(connection.path_params["county"]):
        raise PermissionDeniedException("uploads are for the county's bureau")


def campaign_reader(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A page of the path's campaign: whoever may read its county (province, its bureau, its inspectors)."""
    campaign = path_campaign(connection)
    if campaign is not None and not principal_of(connection).can_read(campaign.county_name):
        raise PermissionDeniedException("not your county")


def overview_reader(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The province overview: province admins and inspectors (theirs counties only)."""
    if principal_of(connection).role not in (PROVINCE_ADMIN, INSPECTOR):
        raise PermissionDeniedException("overview is for the province and inspectors")


def province_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not principal_of(connection).is_province:
        raise PermissionDeniedException("province admins only")


async def bureau_scope(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the bureau router (``/bureau``): the campaign list is the province's
    (others are sent to their workspace); a campaign's pages are readable by whoever may read
    its county and changeable by whoever runs that county's campaigns; inspectors create none
    (that a bureau's new campaign is for its own county, the form checks and says so in Chinese).
    Other paths are left alone."""
    path = connection.url.path
    if not path.startswith("/bureau") or not connection.scope.get("session"):
        return
    p = principal_of(connection)
    method = connection.scope.get("method", "GET")
    if path.rstrip("/") == "/bureau":
        if not p.is_province:
            raise GoTo("/inspector")
        return
    if connection.path_params.get("cid") is not None:
        campaign = path_campaign(connection)
        if campaign is None:
            return                                  # the handler's 404
        allowed = p.can_read(campaign.county_name) if method in ("GET", "HEAD") else \
            p.can_run_campaigns(campaign.county_name)
        if not allowed:
            raise PermissionDeniedException("not your county")
        return
    if path.startswith("/bureau/campaigns") and p.role == INSPECTOR:   # new campaign form and its POST
        raise PermissionDeniedException("inspectors are read-only")


# ---- account management ---------------------------------------------------------------------

def set_role(session: Session, account_id: int, role: str, counties: list[str]) -> None:
    if role not in ROLES:
        raise ValueError(role)
    counties = sorted({c.strip() for c in counties if c.strip()})
    if role == BUREAU_ADMIN and len(counties) != 1:
        raise ValueError("a bureau admin has exactly one county")
    if role == PROVINCE_ADMIN:
        counties = []
    row = session.get(AccountRole, account_id) or AccountRole(account_id=account_id, role=role)
    row.role = role
    session.add(row)
    session.exec(delete(AccountCounty).where(AccountCounty.account_id == account_id))
    for c in counties:
        session.add(AccountCounty(account_id=account_id, county_name=c))


def ensure_account(session: Session, username: str, password: str, role: str, counties: list[str]) -> Account:
    """Create the account if missing (the password of an existing one is kept) and set its role."""
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is None:
        account = Account(username=username, password_hash=hash_password(password))
        session.add(account)
        session.flush()
    set_role(session, account.id, role, counties)
    session.commit()
    return account


def accounts_with_roles(session: Session) -> list[Principal]:
    ids = session.exec(select(Account.id).order_by(Account.username)).all()
    return [load_principal(session, i) for i in ids]


def logged_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Any signed-in account whose principal loads (else to the login page). A school clerk
    reaches only ``/school`` and its password page, and only the latter until the printed
    password is changed."""
    p = principal_of(connection)
    if p.role != SCHOOL_CLERK:
        return
    path = connection.url.path.rstrip("/")
    if path == PASSWORD_PATH:
        return
    if p.must_change_password:
        raise GoTo(PASSWORD_PATH)
    if not (path == "/school" or path.startswith("/school/")):
        raise PermissionDeniedException("school clerks reach only their school's form")


def school_clerk_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if principal_of(connection).role != SCHOOL_CLERK:
        raise PermissionDeniedException("the school form is for school clerks")


def create_account(engine, username: str, password: str) -> bool:
    """An operator's account (``python -m service create-admin``): created, or its password set."""
    with Session(engine) as s:
        account = s.exec(select(Account).where(Account.username == username)).first()
        created = account is None
        if created:
            account = Account(username=username, password_hash=hash_password(password))
        else:
            account.password_hash = hash_password(password)
        s.add(account)
        s.commit()
        return created
