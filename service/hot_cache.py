"""A short per-process cache of what every phone-form request reads and nobody changes
often: a link with its campaign, and a campaign's schools.

At 8 pm a county's parents all open the same few links: without this, each form load and
each submission re-reads the link, the campaign (with its pinned templates) and the school
list through the ORM, which costs more CPU than storing the answer. Entries live
``RENKE_CACHE_SECONDS`` (default 2 s; 0 turns the cache off). A cached campaign is used
only after one small query confirms its dates and workbook import time are unchanged, so
closing a campaign or re-importing its schools takes effect at once on every instance.
Cached rows are detached ORM objects, only read.
"""

import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from . import campaigns

TTL = float(os.environ.get("RENKE_CACHE_SECONDS", "2"))
MAX_ENTRIES = 4096


class TTLCache:
    def __init__(self) -> None:
        self.data: dict[Any, tuple[float, Any]] = {}
        self.lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any], refresh: bool = False) -> Any:
        if TTL <= 0:
            return load()
        now = time.monotonic()
        hit = self.data.get(key)
        if hit is not None and hit[0] > now and not refresh:
            return hit[1]
        value = load()
        with self.lock:
            if len(self.data) >= MAX_ENTRIES:   # random tokens cannot grow it without bound
                self.data.clear()
            self.data[key] = (now + TTL, value)
        return value


_caches: "weakref.WeakKeyDictionary[Engine, TTLCache]" = weakref.WeakKeyDictionary()


def cache_of(session: Session) -> TTLCache:
    engine = session.get_bind()
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches.setdefault(engine, TTLCache())
    return cache


def schools_of(session: Session, campaign_id: int) -> list:
    return cache_of(session).get(("schools", campaign_id), lambda: campaigns.schools_of(session, campaign_id))


def cached(session: Session, key: Any, load: Callable[[], Any], refresh: bool = False) -> Any:
    return cache_of(session).get(key, load, refresh)


def invalidate(session: Session, key: Any) -> None:
    cache_of(session).data.pop(key, None)
