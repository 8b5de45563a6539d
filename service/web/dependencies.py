"""What a request is handed, by name (the app's ``dependencies``): its database session, the
campaign its path names (loaded once per request and shared by the guard that checks it and the
handler that uses it), the settings, the scoring profile and the time on the app's one clock
(``settings.clock``: a test moves it by handing the app a clock of its own). The signed-in
principal is provided next to the guards (``accounts/roles.py``, ``provide_principal``)."""

from collections.abc import AsyncIterator
from datetime import datetime, timezone

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from sqlmodel import Session

from scoring.profile import Profile
from service.db.models import Campaign
from service.web.settings import Settings

_CAMPAIGN = "renke_campaign"


async def provide_db(state: State) -> AsyncIterator[Session]:
    """One ORM session per request. An *async* generator on purpose: Litestar runs the
    clean-up of a sync generator in a worker thread, and when every worker waits for a
    pooled connection the clean-ups that would return them can never run (deadlock)."""
    session = Session(state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def path_campaign(connection: ASGIConnection) -> Campaign | None:
    """The campaign named by the route's ``cid`` (None when there is none), read once per request."""
    state = connection.scope.setdefault("state", {})
    if _CAMPAIGN not in state:
        cid = connection.path_params.get("cid")
        campaign = None
        if cid is not None:
            with Session(connection.app.state.engine, expire_on_commit=False) as s:
                campaign = s.get(Campaign, int(cid))
        state[_CAMPAIGN] = campaign
    return state[_CAMPAIGN]


def provide_campaign(request: ASGIConnection, db: NamedDependency[Session]) -> Campaign:
    """The path's campaign, attached to this request's session (404 when missing)."""
    campaign = path_campaign(request)
    if campaign is None:
        raise NotFoundException("no such campaign")
    return db.merge(campaign, load=False)


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_profile(state: State) -> Profile:
    """The scoring profile loaded once with the settings."""
    return state.settings.profile


def provide_now(state: State) -> datetime:
    """This request's time (UTC) on the app's clock: the one "now" of every handler."""
    return datetime.fromtimestamp(state.settings.clock(), timezone.utc)
