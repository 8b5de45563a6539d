"""The state of a campaign's answers, and the per-process caches kept by state.

Answers are only ever added, so a campaign's answers up to a *watermark*
(``answers.queries.watermark``: their count, their largest id and that answer's submission id)
are one state. What is computed from them (a verdict)
is computed once per state together with the profile's digest and a digest of ``scoring``'s
code (a deploy that changes a rule is a new state), and kept in a small LRU per process."""

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sqlmodel import Session

import scoring
from service.answers.queries import watermark

SCORING_DIGEST = hashlib.sha256(b"".join(
    p.read_bytes() for p in sorted(Path(scoring.__file__).parent.glob("**/*")) if p.is_file()
    and p.suffix in (".py", ".toml"))).hexdigest()
_LOCK = threading.Lock()
_ALL: list["OrderedDict[Any, Any]"] = []


def new_cache() -> "OrderedDict[Any, Any]":
    """A cache of results by state, known to ``clear_caches``."""
    cache: "OrderedDict[Any, Any]" = OrderedDict()
    _ALL.append(cache)
    return cache


def clear_caches() -> None:
    """Forget every kept result. A state names what a result depends on, which holds while a
    process serves one database whose answers are only added; a process that gets another
    database under it (the tests' app per test; a restore is done with every instance stopped,
    docs/deployment.md) calls this first."""
    with _LOCK:
        for cache in _ALL:
            cache.clear()


def campaign_key(session: Session, campaign_id: int, profile, *more: Any) -> str:
    """The key of what is computed from one campaign's answers alone: its watermark, the profile,
    ``scoring``'s code and ``more`` (what else the computation reads)."""
    state = (campaign_id, *watermark(session, campaign_id), profile.digest, SCORING_DIGEST, *more)
    return hashlib.sha256(repr(state).encode()).hexdigest()


def cached(cache: "OrderedDict[Any, Any]", key: Any, make, size: int) -> Any:
    """LRU look-up; with ``make``, the value made (outside the lock) and kept on a miss."""
    with _LOCK:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    return None if make is None else keep(cache, key, make(), size)


def keep(cache: "OrderedDict[Any, Any]", key: Any, value: Any, size: int) -> Any:
    """Keep ``value`` under ``key``, dropping the least recently used beyond ``size``."""
    with _LOCK:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)
    return value
