"""Issue 21, finding 1: the audit chain under concurrent writers (every login, failed login and
verdict view appends an entry; ordinary use writes them at the same time)."""

import threading

from sqlmodel import Session, func, select

from service.accounts import audit
from service.db.models import AuditEntry

WRITERS, EACH = 16, 5


def test_sixteen_concurrent_writers_keep_the_audit_chain_intact(app):
    """16 threads, each with its own connection, append 5 entries each at the same moment: every
    entry follows from the one before it (no false tamper alarm on /trust/audit)."""
    engine = app.state.engine
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with Session(engine) as s:
                    audit.record(s, f"user-{n}", "login_failed", detail={"try": i})
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEntry)).one() == WRITERS * EACH
        assert audit.verify_chain(s) == []
