"""Group commit: one writer thread per process stores answers in batches and acknowledges
each request only after the transaction holding its answer has committed.

``submit_async(engine, row, code_id, at, expect)`` returns only once the row is durable
(``(stored submission id, created?)``, and ``row["duplicate_of"]`` set to what the stored row
says) and raises ``CodeAlreadyUsed`` or ``CampaignChanged``;
the request waits on the event loop for its batch. Per batch, in ONE transaction:

- the write lock is taken first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-level
  advisory lock per campaign + device hash + group, taken in sorted order), so that deciding
  ``duplicate_of`` ("the first earlier answer of this device in this campaign and this group";
  an answer with a one-time code is never a duplicate, ``spec/survey.md``) cannot race with
  another batch, thread, process or instance;
- submission ids already stored are answered "stored" (retry, double tap);
- an answer checked against a cached campaign (``expect``: its dates and school import
  time as the request saw them) is refused with ``CampaignChanged`` when the campaign row
  differs now, so the request re-checks it against fresh data: a campaign closed or
  re-imported a moment ago is obeyed without a campaign query per request;
- one-time codes are burnt (``used_by IS NULL`` guarded update);
- an answer from a device new to the campaign counts towards its link's new-device rate
  (``DeviceLimits.new_device_burst``) and is flagged ``new_device_burst`` beyond the limit;
- the rows are inserted with ``ON CONFLICT (submission_id) DO NOTHING ... RETURNING``: the
  same id sent to two instances at once is stored once, the loser answers "stored".

When a batch fails as a whole (e.g. a PostgreSQL deadlock between two instances' batches),
it is rolled back and its answers are written one per transaction, so one bad answer
never fails the others. SQLite ``synchronous=NORMAL`` in WAL survives a process crash: a
commit that returned is on disk for every later reader, which is what "acknowledged" means
here (a power cut may lose the last commits; use PostgreSQL or ``synchronous=FULL`` if that
matters).
"""

import asyncio
import fcntl
import hashlib
import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from service.answers.rate_limit import DeviceLimits
from service.db.models import Campaign, OneTimeCode, Answer

log = logging.getLogger("service.batch_writer")
MAX_BATCH = 128
IDLE_CLOSE_S = 2.0
_TABLE = Answer.__table__
# What a request's checks depend on: the dates (open or closed) and the school list.
_SNAPSHOT_COLUMNS = (Campaign.__table__.c.opens_at, Campaign.__table__.c.closes_at,
                     Campaign.__table__.c.workbook_imported_at)


def snapshot(campaign: Campaign) -> tuple:
    return campaign.opens_at, campaign.closes_at, campaign.workbook_imported_at


class CodeAlreadyUsed(Exception):
    """The slip's one-time code was burnt by another submission."""


class CampaignChanged(Exception):
    """The campaign's dates or schools changed since the request read it: check again."""


class _Item:
    __slots__ = ("row", "code_id", "at", "expect", "limits", "future")

    def __init__(self, row: dict[str, Any], code_id: int | None, at: datetime, expect: tuple | None,
                 limits: DeviceLimits | None, future: asyncio.Future):
        self.row, self.code_id, self.at, self.expect, self.limits = row, code_id, at, expect, limits
        self.future = future


def _lock_key(campaign_id: int, device: str, group: str) -> int:
    # The duplicate decision's key: answers of one device in other groups never wait on it.
    digest = hashlib.blake2b(f"{campaign_id}:{device}:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class BatchWriter:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        # SQLite: the writers of several worker processes queue on an flock (woken by the
        # kernel the moment it is free) instead of SQLite's busy handler, which sleeps up to
        # 100 ms between tries and starves one process's batches while another keeps writing.
        self.lock_file = None
        self.lock_path = None
        self._conn: Connection | None = None
        database = engine.url.database if self.sqlite else None
        if database and database != ":memory:" and not database.startswith("file:"):
            self.lock_path = f"{database}.writer-lock"
        self.queue: queue.SimpleQueue[list[_Item]] = queue.SimpleQueue()
        self._pending: dict[asyncio.AbstractEventLoop, list[_Item]] = {}   # touched by its loop only
        self.thread = threading.Thread(target=self._run, name="group-writer", daemon=True)
        self.thread.start()
        self.batches = 0
        self.rows = 0

    # -- called on a request's event loop --
    def enqueue(self, row: dict[str, Any], code_id: int | None, at: datetime, expect: tuple | None = None,
                limits: DeviceLimits | None = None) -> asyncio.Future:
        """The answer's future on the running loop. The loop's answers are handed to the writer
        together once per loop iteration (not one wake-up of the writer thread per answer:
        each wake-up took the GIL from the event loop in the middle of a request)."""
        loop = asyncio.get_running_loop()
        item = _Item(row, code_id, at, expect, limits, loop.create_future())
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._hand_over, loop)
        pending.append(item)
        return item.future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue.put(self._pending.pop(loop))

    # -- the writer thread --
    def _run(self) -> None:
        while True:
            try:
                batch = self.queue.get(timeout=IDLE_CLOSE_S)
            except queue.Empty:     # quiet: give the connection back (tests make many apps)
                self._drop_connection()
                continue
            while len(batch) < MAX_BATCH:     # a loop's hand-over is never split: may go beyond
                try:
                    batch += self.queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self._store(batch)
            except BaseException:  # noqa: BLE001 - the thread must outlive any one batch
                log.exception("batch writer: batch of %d not resolved", len(batch))
                _resolve(batch, [RuntimeError("answer not stored")] * len(batch))

    def _store(self, batch: list[_Item]) -> None:
        try:
            results = self._write(batch)
        except Exception:  # noqa: BLE001 - retried one by one below
            log.warning("batch of %d failed; writing its answers one by one", len(batch), exc_info=True)
            results = None
        if results is not None:
            self.batches += 1
            self.rows += len(batch)
            _resolve(batch, results)
            return
        for item in batch:
            try:
                result = self._write([item])[0]
            except Exception as exc:  # noqa: BLE001 - the request answers 5xx, nothing acknowledged
                result = exc
            _resolve([item], [result])

    def _connection(self) -> Connection:
        """The writer thread's own connection, kept between batches (no pool round trip,
        no isolation-level switching per batch); dropped after any failure."""
        if self._conn is None:
            if self.lock_path is not None and self.lock_file is None:
                self.lock_file = open(self.lock_path, "a+b")
            conn = self.engine.connect()
            self._conn = conn.execution_options(isolation_level="AUTOCOMMIT") if self.sqlite else conn
        return self._conn

    def _drop_connection(self) -> None:
        if self.lock_file is not None:
            self.lock_file.close()
            self.lock_file = None
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - a broken connection is dropped anyway
                pass
            self._conn = None

    def _write(self, batch: list[_Item]) -> list[Any]:
        try:
            conn = self._connection()
            if self.sqlite:
                if self.lock_file is not None:
                    fcntl.flock(self.lock_file, fcntl.LOCK_EX)
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    try:
                        results = _write_batch(conn, batch, sqlite=True)
                    except BaseException:
                        conn.exec_driver_sql("ROLLBACK")
                        raise
                    conn.exec_driver_sql("COMMIT")
                finally:
                    if self.lock_file is not None:
                        fcntl.flock(self.lock_file, fcntl.LOCK_UN)
                return results
            with conn.begin():
                return _write_batch(conn, batch, sqlite=False)
        except BaseException:
            self._drop_connection()
            raise


def _resolve(batch: list[_Item], results: list[Any]) -> None:
    """Hand the results to their requests' loops: one call per loop and batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Item, Any]]] = {}
    for item, result in zip(batch, results):
        by_loop.setdefault(item.future.get_loop(), []).append((item, result))
    for loop, done in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, done)
        except RuntimeError:    # the loop is closed: its requests are gone, none acknowledged
            pass


def _settle(done: list[tuple[_Item, Any]]) -> None:
    for item, result in done:
        if item.future.done():      # its request gave up waiting: stored or not, never acknowledged
            continue
        if isinstance(result, BaseException):
            item.future.set_exception(result)
        else:
            item.future.set_result(result)


# Built once (statement construction costs more CPU than SQLite's work on a small batch).
_STORED = select(_TABLE.c.submission_id, _TABLE.c.duplicate_of).where(_TABLE.c.submission_id.in_(bindparam("sids", expanding=True)))
# By device hash alone: the hash already depends on the campaign, and a campaign_id condition
# lets SQLite pick the campaign index and scan every answer of the campaign per batch. All
# groups are read: the device is known to the campaign (not new) whatever its group.
_FIRSTS = (select(_TABLE.c.campaign_id, _TABLE.c.device_hash, _TABLE.c.group, _TABLE.c.submission_id)
           .where(_TABLE.c.device_hash.in_(bindparam("hashes", expanding=True)))
           .order_by(_TABLE.c.id))
_INSERT_SQLITE = (sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["submission_id"])
                  .returning(_TABLE.c.submission_id))
_CAMPAIGNS = (select(Campaign.__table__.c.id, *_SNAPSHOT_COLUMNS)
              .where(Campaign.__table__.c.id.in_(bindparam("ids", expanding=True))))
_ADVISORY_LOCKS = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")
_INSERT_PG = pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["submission_id"]).returning(_TABLE.c.submission_id)


def _write_batch(conn: Connection, batch: list[_Item], sqlite: bool) -> list[Any]:
    """Everything inside the caller's transaction; returns per item (sid, created) or an exception."""
    if not sqlite:
        keys = sorted({_lock_key(i.row["campaign_id"], i.row["device_hash"], i.row["group"])
                       for i in batch if i.row["device_hash"]})
        if keys:     # one round trip; a plain function scan takes them in the array's (sorted) order
            conn.execute(_ADVISORY_LOCKS, {"keys": keys})
    sids = [i.row["submission_id"] for i in batch]
    stored = dict(conn.execute(_STORED, {"sids": sids}).all())
    expected = {i.row["campaign_id"] for i in batch if i.expect is not None}
    current = ({cid: tuple(rest) for cid, *rest in conn.execute(_CAMPAIGNS, {"ids": list(expected)})}
               if expected else {})
    firsts: dict[tuple[int, str, str], str] = {}     # (campaign, device, group) -> first answer
    known: set[tuple[int, str]] = set()               # devices the campaign has answers from
    hashes = sorted({i.row["device_hash"] for i in batch if i.row["device_hash"]})
    if hashes:
        for campaign_id, device, group, sid in conn.execute(_FIRSTS, {"hashes": hashes}):
            firsts.setdefault((campaign_id, device, group), sid)
            known.add((campaign_id, device))

    results: list[Any] = [None] * len(batch)
    to_insert: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, str | None] = {}
    for n, item in enumerate(batch):
        row = dict(item.row)
        sid = row["submission_id"]
        if sid in stored or sid in seen:
            item.row["duplicate_of"] = stored[sid] if sid in stored else seen[sid]
            results[n] = (sid, False)
            continue
        if item.expect is not None and current.get(row["campaign_id"]) != item.expect:
            results[n] = CampaignChanged()
            continue
        if item.code_id is not None:
            burnt = conn.execute(update(OneTimeCode.__table__)
                                 .where(OneTimeCode.__table__.c.id == item.code_id,
                                        OneTimeCode.__table__.c.used_by.is_(None))
                                 .values(used_by=sid, used_at=item.at))
            if burnt.rowcount != 1:
                used_by = conn.execute(select(OneTimeCode.__table__.c.used_by)
                                       .where(OneTimeCode.__table__.c.id == item.code_id)).scalar()
                # the same submission stored by another instance meanwhile: "stored", not refused
                results[n] = (sid, False) if used_by == sid else CodeAlreadyUsed()
                continue
        device = (row["campaign_id"], row["device_hash"])
        if row["device_hash"]:
            key = (*device, row["group"])
            # a code is one person: never a duplicate, though it is the device's first for later ones
            row["duplicate_of"] = None if item.code_id is not None else firsts.get(key)
            firsts.setdefault(key, sid)
        if not row["device_hash"] or device not in known:
            row["new_device_burst"] = item.limits is not None and item.limits.new_device_burst(row["link_id"])
            if row["device_hash"]:
                known.add(device)
        item.row["duplicate_of"] = seen[sid] = row["duplicate_of"]
        to_insert.append((n, row))
    if to_insert:
        stmt = _INSERT_SQLITE if sqlite else _INSERT_PG
        created = set(conn.execute(stmt, [r for _, r in to_insert]).scalars())
        for n, row in to_insert:
            results[n] = (row["submission_id"], row["submission_id"] in created)
    return results


_writers: dict[int, BatchWriter] = {}
_lock = threading.Lock()


def writer_for(engine: Engine) -> BatchWriter:
    w = _writers.get(id(engine))
    if w is None or w.engine is not engine or not w.thread.is_alive():
        with _lock:
            w = _writers.get(id(engine))
            if w is None or w.engine is not engine or not w.thread.is_alive():
                w = _writers[id(engine)] = BatchWriter(engine)
    return w


async def submit_async(engine: Engine, row: dict[str, Any], code_id: int | None, at: datetime,
                       expect: tuple | None, limits: DeviceLimits | None = None,
                       timeout: float = 60) -> tuple[str, bool]:
    """Store ``row`` (the columns of ``response`` as a dict) durably in the next batch, the
    request waiting on the event loop; returns (submission id, created?). ``expect``: the
    campaign ``snapshot`` the request was checked against; ``limits``: the app's counters of new
    devices per link. Raises CodeAlreadyUsed or
    CampaignChanged."""
    future = writer_for(engine).enqueue(row, code_id, at, expect, limits)
    # A request that times out or is cancelled cancels its future: the writer then leaves it be.
    async with asyncio.timeout(timeout):
        return await future
