"""Two service processes on one database (PostgreSQL in CI, and two processes on one SQLite
file): the same submission id sent to both at once is stored once; a burst of answers
from one device key across both gives exactly one first answer and flags every other one
``duplicate_of`` = that first (spec/survey.md, validity: duplicates)."""

import asyncio

from sys_helpers import THANKS, Conn, answers, device_cookie, parse_form, query, student_link


async def _form(port: int, path: str, cookie: str | None = None) -> tuple[str, str, str]:
    conn = Conn(port)
    status, headers, body = await conn.request("GET", path, headers={"Cookie": cookie} if cookie else None)
    conn.close()
    assert status == 200
    token, sid = parse_form(body)
    return token, sid, cookie or device_cookie(headers)


async def _post(port: int, path: str, token: str, sid: str, cookie: str) -> bool:
    conn = Conn(port)
    status, _, body = await conn.request("POST", path, answers(token, sid), {"Cookie": cookie})
    conn.close()
    return status == 200 and THANKS in body


def test_same_submission_to_both_instances_is_stored_once(database_url, servers):
    a = servers(database_url, demo=True)
    b = servers(database_url)
    path = f"/s/{student_link(database_url)}"

    async def go() -> list[str]:
        sids = []
        for _ in range(15):
            token, sid, cookie = await _form(a.port, path)
            results = await asyncio.gather(*(_post(port, path, token, sid, cookie)
                                             for port in (a.port, b.port, a.port, b.port)))
            assert all(results), "every copy is answered 'stored'"
            sids.append(sid)
        return sids

    sids = asyncio.run(go())
    counts = dict(query(database_url, "SELECT submission_id, count(*) FROM response GROUP BY submission_id"))
    assert all(counts.get(s) == 1 for s in sids), {s: counts.get(s) for s in sids}


def test_burst_from_one_device_across_instances(database_url, servers):
    a = servers(database_url, demo=True)
    b = servers(database_url)
    path = f"/s/{student_link(database_url)}"
    n = 16

    async def go() -> list[str]:
        _, _, cookie = await _form(a.port, path)
        forms = [await _form((a.port, b.port)[i % 2], path, cookie) for i in range(n)]
        results = await asyncio.gather(*(_post((a.port, b.port)[i % 2], path, t, s, c)
                                         for i, (t, s, c) in enumerate(forms)))
        assert all(results)
        return [s for _, s, _ in forms]

    sids = asyncio.run(go())
    wanted = set(sids)
    rows = [r for r in query(database_url, "SELECT id, submission_id, duplicate_of, device_hash FROM response "
                                           "ORDER BY id") if r[1] in wanted]
    assert len(rows) == n
    assert len({r[3] for r in rows}) == 1, "one device key"
    firsts = [r for r in rows if r[2] is None]
    assert len(firsts) == 1, f"{len(firsts)} answers claim to be the device's first"
    first = firsts[0]
    assert first == rows[0], "the first stored answer is the one that stays"
    assert all(r[2] == first[1] for r in rows[1:])
