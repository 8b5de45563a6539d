"""The slips' bound pairs (school, group) in the phone path's cache: when the entry expires one
request reads them again while the others go on with the expired entry (no query each)."""

import asyncio
import time

from service.answers import page_cache


def test_an_expired_entry_is_refreshed_by_one_request_and_used_by_the_others_meanwhile(app, campaign):
    engine = app.state.engine
    cache, key = page_cache.cache_of(engine), ("bound", campaign)
    marker = frozenset({("S99", "parent")})          # not in the database: tells a cached answer apart
    cache.data[key] = (time.monotonic() - 1, marker)  # expired
    assert cache.claim(key)                           # another request is refreshing it
    assert asyncio.run(page_cache.bound_pairs(engine, campaign)) == marker
    cache.release(key)                                # that refresh failed: the next request reads
    assert asyncio.run(page_cache.bound_pairs(engine, campaign)) == frozenset()
    assert cache.peek(key) == frozenset() and key not in cache.refreshing
