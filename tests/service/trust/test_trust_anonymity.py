"""Issue 6, anonymity by construction: after a run of submissions whose free text carries a
mobile number, an ID number and an e-mail, no table holds any of them, nor the raw device
key, nor the client's IP address."""

from litestar.testing import TestClient
from sqlalchemy import LargeBinary, inspect, select, table, column
from sqlmodel import Session

from scoring.privacy import EMAIL_MASK, ID_MASK, PHONE_MASK
from service.db.models import Answer
from service.answers.routes import DEVICE_COOKIE
from svc_helpers import ALL_A, answer, link_token

PERSONAL = ["13812345678", "+86 138-1234-5678", "138-1234-5678", "11010519491231002X", "zhang.san@example.com",
            "ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ"]
COMMENTS = [
    "请联系我 13812345678，孩子作业太多",
    "家长电话 +86 138-1234-5678 谢谢",
    "身份证 11010519491231002X",
    "邮箱 zhang.san@example.com 欢迎回复",
    "全部：13812345678 / 11010519491231002X / zhang.san@example.com",
]
CLIENT_HOSTS = ["testclient", "127.0.0.1"]


def all_values(engine) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text or binary value of every table."""
    out = []
    insp = inspect(engine)
    with engine.connect() as conn:
        for name in insp.get_table_names():
            columns = insp.get_columns(name)
            t = table(name, *[column(c["name"]) for c in columns])
            for row in conn.execute(select(t)):
                for c, value in zip(columns, row):
                    if value is None:
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)) or isinstance(c["type"], LargeBinary):
                        text = bytes(value).decode("utf-8", errors="ignore")
                    else:
                        text = str(value)
                    out.append((name, c["name"], text))
    return out


def test_database_holds_no_personal_data_no_device_key_no_ip(app, campaign, clock):
    token = link_token(app, campaign, group="public")
    cookies = []
    for i, comment in enumerate(COMMENTS):
        with TestClient(app, base_url="http://testserver.local") as phone:      # one phone per answer
            r, _, _ = answer(phone, clock, f"/s/{token}?q=public",
                             {**ALL_A, "group": "public", "location": "urban", "comment": comment})
            assert r.status_code == 200 and "提交成功" in r.text
            if i == 0:      # the same phone answers twice: a duplicate, told apart by its hash only
                r, _, _ = answer(phone, clock, f"/s/{token}?q=public",
                                 {**ALL_A, "group": "public", "location": "urban", "comment": comment})
                assert r.status_code == 200
            cookies.append(phone.cookies.get(DEVICE_COOKIE))
    assert all(cookies) and len(set(cookies)) == len(COMMENTS)

    with Session(app.state.engine) as s:
        rows = list(s.exec(select(Answer).where(Answer.campaign_id == campaign)).scalars())
    assert len(rows) == len(COMMENTS) + 1
    stored = " ".join(r.comment for r in rows)
    assert PHONE_MASK in stored and ID_MASK in stored and EMAIL_MASK in stored
    assert sum(r.duplicate_of is not None for r in rows) == 1
    assert all(r.device_hash and len(r.device_hash) == 64 for r in rows)

    values = all_values(app.state.engine)
    assert any(t == "response" and c == "comment" for t, c, _ in values)
    for needle in PERSONAL + cookies + CLIENT_HOSTS:
        hits = [(t, c) for t, c, text in values if needle in text]
        assert not hits, f"{needle!r} stored in {hits}"


def test_device_hash_differs_between_campaigns(app, campaign, client, clock):
    """Same phone, two campaigns: unrelated hashes (salted per campaign)."""
    from svc_helpers import create_campaign
    other = create_campaign(client, name="第二次调查")
    with TestClient(app, base_url="http://testserver.local") as phone:
        for cid in (campaign, other):
            r, _, _ = answer(phone, clock, f"/s/{link_token(app, cid, group='public')}?q=public",
                             {**ALL_A, "group": "public", "location": "rural"})
            assert r.status_code == 200
    with Session(app.state.engine) as s:
        hashes = {r.campaign_id: r.device_hash for r in s.exec(select(Answer)).scalars()}
    assert hashes[campaign] != hashes[other]
