"""The database's clock as this instance reads it (``DatabaseClock``) and Beijing wall time for
display. The app's own clock is ``settings.clock``, handed to handlers as the ``now``
dependency (``web/dependencies.py``); tests move it by giving the app a clock of theirs."""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine

CHINA = timezone(timedelta(hours=8))
log = logging.getLogger("service.clock")
_DB_NOW = {"sqlite": "SELECT (julianday('now') - 2440587.5) * 86400.0",
           "postgresql": "SELECT extract(epoch FROM clock_timestamp())"}


def local(dt: datetime | None) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if dt else ""


class DatabaseClock:
    """The database's time, read without a query: this instance's clock plus its offset from
    the database's, measured at start and again every ``refresh_s`` seconds in a thread
    (never in a request). Every instance stamps a form's load and its receipt on it, so an
    answer's duration and a form's age are differences of one clock, however far apart the
    instances' own clocks are. Measured to a few milliseconds (half a round trip); if the
    database cannot be reached the last offset is kept."""

    def __init__(self, engine: Engine, local_clock: Callable[[], float] = time.time, refresh_s: float = 60):
        self.engine, self.local_clock, self.refresh_s = engine, local_clock, refresh_s
        self._query = text(_DB_NOW[engine.dialect.name])
        self._refreshing = threading.Lock()
        self.offset = self._measure()
        self._measured = time.monotonic()

    def _measure(self) -> float:
        with self.engine.connect() as conn:
            before = self.local_clock()
            db = float(conn.execute(self._query).scalar_one())
            after = self.local_clock()
        return db - (before + after) / 2

    def _refresh(self) -> None:
        try:
            self.offset = self._measure()
        except Exception as exc:  # noqa: BLE001 - keep the last offset until the database answers
            log.warning("database clock not read: %s", exc)
        finally:
            self._measured = time.monotonic()
            self._refreshing.release()

    def __call__(self) -> float:
        if time.monotonic() - self._measured >= self.refresh_s and self._refreshing.acquire(blocking=False):
            threading.Thread(target=self._refresh, name="database-clock", daemon=True).start()
        return self.local_clock() + self.offset
