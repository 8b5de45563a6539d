"""SIGKILL the server (every worker) in the middle of a load, restart it: every submission
that got a success answer is stored, exactly once; the phones' retries of everything
(acknowledged or not) store each answer once; no raw IP address is stored anywhere."""

import asyncio

from sys_helpers import THANKS, Conn, answers, device_cookie, parse_form, query, student_link

PHONES = 240
CONCURRENCY = 16


async def _load_forms(port: int, path: str) -> list[dict]:
    phones: list[dict] = []

    async def client(n: int) -> None:
        conn = Conn(port)
        for _ in range(n):
            status, headers, body = await conn.request("GET", path)
            assert status == 200
            token, sid = parse_form(body)
            phones.append({"token": token, "sid": sid, "cookie": device_cookie(headers)})
        conn.close()

    await asyncio.gather(*(client(PHONES // CONCURRENCY) for _ in range(CONCURRENCY)))
    return phones


async def _submit(port: int, path: str, phones: list[dict], acked: list[str], kill_after: int | None, kill) -> None:
    todo = list(phones)

    async def client() -> None:
        conn = Conn(port)
        while todo:
            phone = todo.pop()
            try:
                status, _, body = await conn.request("POST", path, answers(phone["token"], phone["sid"]),
                                                     {"Cookie": phone["cookie"]})
            except Exception:  # noqa: BLE001 - the server died under us: not acknowledged
                conn.close()
                continue
            if status == 200 and THANKS in body:
                acked.append(phone["sid"])
                if kill_after is not None and len(acked) == kill_after:
                    kill()
        conn.close()

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))


def test_sigkill_mid_load_loses_no_acknowledged_answer(database_url, servers):
    first = servers(database_url, demo=True, workers=2)
    path = f"/s/{student_link(database_url)}"
    before = query(database_url, "SELECT count(*) FROM response")[0][0]
    phones = asyncio.run(_load_forms(first.port, path))
    acked: list[str] = []
    asyncio.run(_submit(first.port, path, phones, acked, kill_after=PHONES // 3, kill=first.kill))
    assert first.proc.poll() is not None, "the server was not killed"
    assert PHONES // 3 <= len(acked) < PHONES

    stored = {sid for (sid,) in query(database_url, "SELECT submission_id FROM response")}
    missing = [s for s in acked if s not in stored]
    assert not missing, f"{len(missing)} acknowledged answers lost by the crash"

    # Restart; every phone retries its answer (the page's script does so with the same id).
    second = servers(database_url, workers=2)
    again: list[str] = []
    asyncio.run(_submit(second.port, path, phones, again, kill_after=None, kill=None))
    assert sorted(again) == sorted(p["sid"] for p in phones), "every retry is answered 'stored'"
    rows = query(database_url, "SELECT submission_id, count(*) FROM response GROUP BY submission_id "
                               "HAVING count(*) > 1")
    assert rows == []
    assert query(database_url, "SELECT count(*) FROM response")[0][0] - before == PHONES


def test_no_raw_ip_is_stored(database_url, servers):
    server = servers(database_url, demo=True)
    path = f"/s/{student_link(database_url)}"

    async def go() -> None:
        conn = Conn(server.port)
        for _ in range(5):
            status, headers, body = await conn.request("GET", path, headers={"X-Forwarded-For": "203.0.113.77"})
            token, sid = parse_form(body)
            status, _, body = await conn.request("POST", path, answers(token, sid, comment="很好"),
                                                 {"Cookie": device_cookie(headers), "X-Forwarded-For": "203.0.113.77"})
            assert status == 200 and THANKS in body
        conn.close()

    asyncio.run(go())
    from sqlalchemy import create_engine, inspect, text
    from sys_helpers import sa_url
    engine = create_engine(sa_url(database_url))
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    blob = " ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
                    assert "127.0.0.1" not in blob and "203.0.113.77" not in blob, (table, blob[:300])
    finally:
        engine.dispose()
