"""A Litestar ``Store`` kept in the database, so sessions and rate-limit
counters are shared by every instance (no per-process state that matters)."""

import time
from collections.abc import Callable
from datetime import timedelta

import anyio.to_thread
from litestar.stores.base import NamespacedStore
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.db.models import KeyValue


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SQLStore(NamespacedStore):
    """``clock``: when entries expire (the sessions' store is on the app's clock, so a session's
    idle end follows it like its absolute end)."""

    def __init__(self, engine: Engine, namespace: str = "default", clock: Callable[[], float] = time.time):
        self.engine = engine
        self.namespace = namespace
        self.clock = clock

    def with_namespace(self, namespace: str) -> "SQLStore":
        return SQLStore(self.engine, f"{self.namespace}_{namespace}", self.clock)

    # -- sync core, run in a worker thread --
    def _set(self, key: str, value: bytes, expires_in: float | None) -> None:
        expires_at = self.clock() + expires_in if expires_in is not None else None
        with Session(self.engine) as s:
            row = s.get(KeyValue, (self.namespace, key))
            if row is None:
                s.add(KeyValue(namespace=self.namespace, key=key, value=value, expires_at=expires_at))
            else:
                row.value, row.expires_at = value, expires_at
            try:
                s.commit()
            except IntegrityError:  # concurrent insert: last write wins
                s.rollback()
                row = s.get(KeyValue, (self.namespace, key))
                row.value, row.expires_at = value, expires_at
                s.commit()

    def replace(self, key: str, old: bytes, new: bytes, expires_in: float | None) -> bool:
        """Compare-and-set: store ``new`` (and a new expiry) only if the value is still ``old``
        (sync; a session's renewal must not undo a logout or a change made meanwhile)."""
        expires_at = self.clock() + expires_in if expires_in is not None else None
        with Session(self.engine) as s:
            done = s.exec(update(KeyValue).where(KeyValue.namespace == self.namespace, KeyValue.key == key,
                                                 KeyValue.value == old).values(value=new, expires_at=expires_at))
            s.commit()
            return done.rowcount == 1

    def _get(self, key: str, renew_for: float | None) -> bytes | None:
        with Session(self.engine) as s:
            row = s.get(KeyValue, (self.namespace, key))
            if row is None:
                return None
            now = self.clock()
            if row.expires_at is not None and row.expires_at <= now:
                s.delete(row)
                s.commit()
                return None
            value = row.value
            if renew_for is not None and row.expires_at is not None:
                row.expires_at = now + renew_for
                s.commit()
            return value

    def _delete(self, key: str | None) -> None:
        with Session(self.engine) as s:
            stmt = delete(KeyValue).where(KeyValue.namespace == self.namespace)
            if key is not None:
                stmt = stmt.where(KeyValue.key == key)
            s.exec(stmt)
            s.commit()

    def _expires_in(self, key: str) -> int | None:
        with Session(self.engine) as s:
            row = s.get(KeyValue, (self.namespace, key))
            if row is None or row.expires_at is None:
                return None
            return max(int(row.expires_at - self.clock()), 0)

    def incr(self, key: str, window: float) -> int:
        """Count one more event under ``key`` in a fixed window of ``window`` seconds from its
        first event; the count so far (sync: the login handler runs in a thread)."""
        now = self.clock()
        with Session(self.engine) as s:
            row = s.get(KeyValue, (self.namespace, key), with_for_update=True)
            if row is None or (row.expires_at is not None and row.expires_at <= now):
                count, expires_at = 1, now + window
            else:
                count, expires_at = int(row.value) + 1, row.expires_at
            try:
                if row is None:
                    s.add(KeyValue(namespace=self.namespace, key=key, value=str(count).encode(),
                                   expires_at=expires_at))
                else:
                    row.value, row.expires_at = str(count).encode(), expires_at
                s.commit()
            except IntegrityError:  # a concurrent first event: count this one with it
                s.rollback()
                return self.incr(key, window)
            return count

    def count(self, key: str) -> int:
        value = self._get(key, None)
        return int(value) if value is not None else 0

    def reset(self, key: str) -> None:
        self._delete(key)

    def purge_expired(self) -> None:
        with Session(self.engine) as s:
            s.exec(delete(KeyValue).where(KeyValue.expires_at.is_not(None), KeyValue.expires_at <= self.clock()))
            s.commit()

    # -- the Store interface --
    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await anyio.to_thread.run_sync(self._set, key, data, _seconds(expires_in))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await anyio.to_thread.run_sync(self._get, key, _seconds(renew_for))

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    async def delete_all(self) -> None:
        await anyio.to_thread.run_sync(self._delete, None)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        return await anyio.to_thread.run_sync(self._expires_in, key)
