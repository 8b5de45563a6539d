"""A short per-process cache of what every phone-form request reads and nobody changes
often: a link with its campaign, and a campaign's schools.

At 8 pm a county's parents all open the same few links: without this, each form load and
each submission re-reads the link, the campaign (with its pinned templates) and the school
list through the ORM, which costs more CPU than storing the answer. Entries live
``RENKE_CACHE_SECONDS`` (default 2 s; 0 turns the cache off): a form load may show a
campaign closed or re-imported that long ago, but a submission is stored only if its batch
finds the campaign as the request saw it (``batch_writer``), so a close or a re-import is
obeyed at once by every instance where it counts. Cached rows are detached ORM objects,
only read; the respondent pages also keep rendered pages here.
"""

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.db.models import Campaign, Link, School

MAX_ENTRIES = 4096
_MISSING = object()


class TTLCache:
    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self.data: dict[Any, tuple[float, Any]] = {}
        self.lock = threading.Lock()
        self.refreshing: set[Any] = set()

    def peek(self, key: Any, expired_ok: bool = False) -> Any:
        hit = self.data.get(key)
        fresh = hit is not None and self.ttl > 0 and (expired_ok or hit[0] > time.monotonic())
        return hit[1] if fresh else _MISSING

    def put(self, key: Any, value: Any) -> Any:
        if self.ttl > 0:
            with self.lock:
                if len(self.data) >= MAX_ENTRIES:   # random tokens cannot grow it without bound
                    now = time.monotonic()
                    for stale in [k for k, (until, _) in self.data.items() if until <= now]:
                        del self.data[stale]
                    if len(self.data) >= MAX_ENTRIES:
                        self.data.clear()
                self.data[key] = (time.monotonic() + self.ttl, value)
        return value

    def claim(self, key: Any) -> bool:
        """True for the one caller that is to refresh ``key`` (until it calls ``release``)."""
        with self.lock:
            if key in self.refreshing:
                return False
            self.refreshing.add(key)
            return True

    def release(self, key: Any) -> None:
        with self.lock:
            self.refreshing.discard(key)

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        value = self.peek(key)
        return self.put(key, load()) if value is _MISSING else value


_caches: "weakref.WeakKeyDictionary[Engine, TTLCache]" = weakref.WeakKeyDictionary()


def cache_of(engine: Engine, ttl: float | None = None) -> TTLCache:
    """The engine's cache; the app creates it with its settings' period (``ttl``)."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches.setdefault(engine, TTLCache(2.0 if ttl is None else ttl))
    elif ttl is not None:
        cache.ttl = ttl
    return cache


def load_link(session: Session, token: str) -> tuple[Link | None, Campaign | None]:
    link = session.exec(select(Link).where(Link.token == token)).first()
    return (None, None) if link is None else (link, session.get(Campaign, link.campaign_id))


def _schools_key(campaign: Campaign) -> tuple:
    # By import time too: a link entry reloaded after a re-import never pairs with the
    # school list from before it (which the writer's campaign check could not see).
    return "schools", campaign.id, campaign.workbook_imported_at


def schools_of(session: Session, campaign: Campaign) -> list:
    return cache_of(session.get_bind()).get(_schools_key(campaign), lambda: list(session.exec(
        select(School).where(School.campaign_id == campaign.id).order_by(School.position))))


def link_of(session: Session, token: str) -> tuple[Link | None, Campaign | None]:
    return cache_of(session.get_bind()).get(("link", token), lambda: load_link(session, token))


def invalidate(engine: Engine, *keys: Any) -> None:
    cache = cache_of(engine)
    for key in keys:
        cache.data.pop(key, None)


def clear(engine: Engine) -> None:
    """After a campaign changed in this process: its own next page loads see it at once."""
    cache_of(engine).data.clear()


async def form_inputs(engine: Engine, token: str, expired_ok: bool = True
                      ) -> tuple[Link | None, Campaign | None, list]:
    """Link, campaign and schools for a form load or a submission without leaving the event
    loop when they are cached (the common case under load); a miss is read in a worker thread.

    A submission uses expired entries too: the batch writer stores the answer only if the
    campaign row still matches what the request checked (else the caller invalidates and
    asks again), links never change, and so a burst of submissions never stampedes the
    database together each time an entry expires. A form load (``expired_ok=False``) sees
    a closed campaign or new schools within the cache period."""
    cache = cache_of(engine)
    pair = cache.peek(("link", token), expired_ok=expired_ok)
    if pair is not _MISSING and pair[0] is None:     # "no such link" is only believed while fresh
        pair = cache.peek(("link", token))
    schools = (cache.peek(_schools_key(pair[1]), expired_ok=expired_ok)
               if pair is not _MISSING and pair[1] is not None else _MISSING)
    if pair is _MISSING or schools is _MISSING:
        def load() -> tuple[Any, Any]:
            with Session(engine, expire_on_commit=False) as session:
                found = link_of(session, token)
                return found, (schools_of(session, found[1]) if found[1] is not None else [])
        pair, schools = await anyio.to_thread.run_sync(load)
    return pair[0], pair[1], schools


async def bound_pairs(engine: Engine, campaign_id: int) -> frozenset:
    """The (school, group) pairs of the campaign whose slips were printed: every link reaching
    one (its own, the school's combined link, the county-wide link) takes it only with a code.
    Read once per cache period (printing slips clears this process's cache at once); when it
    expires, one request reads it again and the others go on with the expired entry meanwhile
    (else every submission of the moment took a thread and a query of its own)."""
    cache, key = cache_of(engine), ("bound", campaign_id)
    found = cache.peek(key)
    if found is not _MISSING:
        return found
    stale = cache.peek(key, expired_ok=True)
    if stale is not _MISSING and not cache.claim(key):
        return stale

    def load() -> frozenset:
        with Session(engine) as session:
            return frozenset(tuple(row) for row in session.exec(
                select(Link.school_code, Link.group).where(Link.campaign_id == campaign_id,
                                                           Link.requires_code)).all())
    try:
        return cache.put(key, await anyio.to_thread.run_sync(load))
    finally:
        if stale is not _MISSING:
            cache.release(key)
