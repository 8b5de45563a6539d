"""Issue 21, finding 14: an answer's duration and a form's age are measured on one clock.
Two app instances on one database with clocks 30 s apart (the app's injectable clock): the
form is loaded from one and posted to the other, both ways round."""

import pytest
from litestar.testing import TestClient
from sqlmodel import Session, select

from svc_helpers import ALL_A, FakeClock, hidden, link_token, make_app, open_campaign

from service.db.models import Answer

SKEW_S = 30
MIN_DURATION_S = 20          # national-2017.toml, recognition.min_duration_s (speeders)
BASE = "http://testserver.local"


class SkewedClock:
    """Another instance's clock: ``offset`` seconds from ``clock``, moving with it."""

    def __init__(self, clock: FakeClock, offset: float):
        self.clock, self.offset = clock, offset

    def __call__(self) -> float:
        return self.clock() + self.offset


@pytest.fixture
def pair(tmp_path, clock):
    """(client of instance A on ``clock``, client of instance B 30 s behind A, the link's path)."""
    url = f"sqlite:///{tmp_path / 'two.db'}"
    a = make_app(url, clock)
    b = make_app(url, SkewedClock(clock, -SKEW_S))
    # The fake clock stands still while B is built: offsets measured that far apart would differ
    # by the real time it took. Measured again back to back, as two running instances stand.
    for instance in (a, b):
        instance.state.db_clock.offset = instance.state.db_clock._measure()
    with TestClient(a, base_url=BASE) as ca, TestClient(b, base_url=BASE) as cb:
        cid = open_campaign(ca)
        yield ca, cb, f"/s/{link_token(a, cid, 'S01', 'student')}", a
    a.state.engine.dispose()
    b.state.engine.dispose()


def load(client: TestClient, path: str) -> dict:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    return {"_t": hidden(page.text, "_t"), "_sid": hidden(page.text, "_sid"), "grade": "5", **ALL_A}


def stored_duration(app, sid: str) -> float:
    with Session(app.state.engine) as s:
        return s.exec(select(Answer.duration_s).where(Answer.submission_id == sid)).one()


def test_finding_14_an_answer_of_25_s_loaded_ahead_and_posted_behind_is_stored_as_25_s(pair, clock):
    ahead, behind, path, app = pair
    form = load(ahead, path)
    clock.advance(25)
    r = behind.post(path, data=form)
    assert "提交成功" in r.text, r.text[:500]
    assert stored_duration(app, form["_sid"]) == pytest.approx(25, abs=1)   # not 0 s, not a speeder
    assert stored_duration(app, form["_sid"]) >= MIN_DURATION_S


def test_finding_14_an_answer_of_5_s_loaded_behind_and_posted_ahead_is_stored_as_5_s(pair, clock):
    ahead, behind, path, app = pair
    form = load(behind, path)
    clock.advance(5)
    r = ahead.post(path, data=form)
    assert "提交成功" in r.text, r.text[:500]
    assert stored_duration(app, form["_sid"]) == pytest.approx(5, abs=1)    # not 35 s: still a speeder
    assert stored_duration(app, form["_sid"]) < MIN_DURATION_S


def test_finding_14_form_expiry_does_not_depend_on_which_instance_loaded_or_received(pair, clock):
    ahead, behind, path, app = pair
    max_age = app.state.settings.form_token_max_age_s
    young = load(ahead, path)                    # posted behind 10 s before it expires: accepted
    clock.advance(max_age - 10)
    assert "提交成功" in behind.post(path, data=young).text
    old = load(behind, path)                     # posted ahead 10 s before it expires: accepted too
    clock.advance(max_age - 10)
    assert "提交成功" in ahead.post(path, data=old).text
    late = load(ahead, path)                     # and 10 s after, refused on either
    clock.advance(max_age + 10)
    r = behind.post(path, data=late)
    assert r.status_code == 400 and r.headers["x-renke-form"] == "expired"
