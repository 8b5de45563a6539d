"""Workers keep nothing of their own (issue 25): the integrity page's typed answers and its signals are
stored in the database by the worker that first computes them, and every other worker — a second app
on the same database — reads them; whatever was stored, the signals stay those ``scoring.integrity``
gives on every answer, read one by one."""

import random

import pandas as pd
import pytest
from markupsafe import escape
from litestar.testing import TestClient
from sqlalchemy import delete, func
from sqlmodel import Session, select

from benchmarks.integrity_signals import PATTERNS, generate_campaign
from scoring.integrity import integrity_report, integrity_settings
from scoring.recognition import classify_validity
from service.campaigns import lifecycle, schools
from service.db.models import Answer, Campaign, IntegrityFrame, IntegrityState
from service.trust import integrity as T
from svc_helpers import login, make_app
from test_integrity_call_out import store
from test_integrity_frame import answers_one_by_one


@pytest.fixture
def second(app, database_url):
    """Another app instance (another worker) on the same database."""
    other = make_app(database_url, admin=False)
    yield other
    other.state.engine.dispose()


def _expected(db: Session, campaign: Campaign, profile):
    oracle = answers_one_by_one(db, campaign)
    return integrity_report(oracle, classify_validity(oracle, profile), integrity_settings(profile), profile)


def _same(signals: T.Signals, expected, seed) -> None:
    assert (signals.flags, signals.information, signals.tests, signals.sensitivity) == \
        (list(expected.flags), list(expected.information), expected.tests, expected.sensitivity), seed


def _one_read(db: Session, campaign: Campaign) -> pd.DataFrame:
    """Every answer of the campaign read at once from SQL, nothing stored used."""
    return T._read(db, campaign.id, {s.school_code for s in schools.schools_of(db, campaign.id)}, 0)[1]


def _arrive(db: Session, campaign: int, n: int, tag: str) -> None:
    """``n`` new answers: copies of stored ones with new submission ids, comments, devices and times."""
    rows = [r.model_dump(exclude={"id"}) for r in db.exec(select(Answer).where(Answer.campaign_id == campaign)
                                                           .order_by(Answer.id).limit(n))]
    for k, row in enumerate(rows):
        row.update(submission_id=f"{tag}-{k}", comment=f"意见 {tag} {k}" if k % 3 else None,
                   device_hash=f"device-{tag}-{k}", created_at=row["created_at"] + pd.Timedelta(hours=k))
    db.execute(Answer.__table__.insert(), rows)
    db.commit()


def test_a_cold_worker_reads_the_signals_another_worker_stored_and_they_are_scorings_on_every_answer(
        app, second, campaign, monkeypatch):
    """The first app computes and stores; the second, cold, computes nothing (the report is not called)
    and gives the same flags with their answers, information, tests and sensitivity as scoring on the
    answers read one by one; its page shows them."""
    seed = random.randrange(1000)
    store(app, campaign, generate_campaign(seed, 25, patterns=tuple((PATTERNS[k], 0.3) for k in range(5))))
    profile = app.state.profile
    with Session(app.state.engine) as db:
        first = T.signals_for(db, db.get(Campaign, campaign), profile)
    monkeypatch.setattr(T, "integrity_report", None)     # the cold worker must not compute
    with Session(second.state.engine) as db:
        c = db.get(Campaign, campaign)
        cold = T.signals_for(db, c, profile)
        expected = _expected(db, c, profile)
        places = [escape(row["where"]) for row in T.flag_rows(db, c, cold)]
    assert expected.flags, seed
    _same(first, expected, seed)
    _same(cold, expected, seed)
    assert cold == first, seed
    with TestClient(second, base_url="http://testserver.local") as client:
        login(client)
        page = client.get(f"/trust/campaigns/{campaign}/integrity")
    assert page.status_code == 200
    assert places and all(place in page.text for place in places), seed


def test_answers_arriving_in_batches_are_stored_in_pieces_that_read_back_as_one_read_of_every_answer(
        app, second, campaign, monkeypatch):
    """Pieces from 15 answers on, merged beyond 3: after each batch (5 to 40 answers), read by either
    worker, the frame equals one read of every answer (values, types, categories, line numbers), and the
    signals equal scoring's on the answers read one by one."""
    monkeypatch.setattr(T, "PIECE_MIN", 15)
    monkeypatch.setattr(T, "PIECES_MAX", 3)
    seed = random.randrange(1000)
    store(app, campaign, generate_campaign(seed, 12, patterns=((PATTERNS[0], 0.3),)))
    profile = app.state.profile
    rng = random.Random(seed)
    for round_ in range(8):
        worker = (app, second)[round_ % 2]
        with Session(worker.state.engine) as db:
            c = db.get(Campaign, campaign)
            pd.testing.assert_frame_equal(T.campaign_frame(db, c), _one_read(db, c))
            pieces = db.exec(select(func.count()).select_from(IntegrityFrame)
                             .where(IntegrityFrame.campaign_id == campaign)).one()
            assert 1 <= pieces <= 3, (seed, round_)
            _arrive(db, campaign, rng.choice((5, 14, 15, 40)), f"r{round_}-{seed}")
    with Session(second.state.engine) as db:
        c = db.get(Campaign, campaign)
        _same(T.signals_for(db, c, profile), _expected(db, c, profile), seed)


def test_pieces_that_no_longer_hold_the_answers_up_to_their_end_are_read_again(app, campaign, monkeypatch):
    """An answer gone from a piece's range, then one committed there late (ids are drawn before commit):
    the pieces' count no longer matches, the answers are read again; the frame is one read of every answer."""
    monkeypatch.setattr(T, "PIECE_MIN", 15)
    store(app, campaign, generate_campaign(3, 8, patterns=((PATTERNS[0], 0.3),)))
    with Session(app.state.engine) as db:
        c = db.get(Campaign, campaign)
        T.campaign_frame(db, c)
        _arrive(db, campaign, 20, "later")
        T.campaign_frame(db, c)
        ids = db.exec(select(Answer.id).where(Answer.campaign_id == campaign).order_by(Answer.id)).all()
        gone = db.get(Answer, ids[len(ids) // 2]).model_dump()
        db.exec(delete(Answer).where(Answer.id == gone["id"]))
        db.commit()
        pd.testing.assert_frame_equal(T.campaign_frame(db, c), _one_read(db, c))
        db.execute(Answer.__table__.insert(), [gone])        # the same id, committed late
        db.commit()
        pd.testing.assert_frame_equal(T.campaign_frame(db, c), _one_read(db, c))
        assert db.exec(select(IntegrityFrame.answers).where(IntegrityFrame.campaign_id == campaign)).all() \
            == [len(ids)]


def test_two_workers_storing_at_once_keep_one_piece_and_the_signals_of_the_most_answers(app, campaign):
    """The same piece stored twice: one kept, no error. Signals of fewer answers never replace those of more."""
    store(app, campaign, generate_campaign(5, 8, patterns=()))
    profile = app.state.profile
    with Session(app.state.engine) as db:
        c = db.get(Campaign, campaign)
        frame, last = T._frame(db, c)
        T._store_piece(db, campaign, "k", 0, last, frame, replace=False)
        assert db.exec(select(func.count()).select_from(IntegrityFrame)
                       .where(IntegrityFrame.campaign_id == campaign)).one() == 1
        T.signals_for(db, c, profile)
        kept = db.exec(select(IntegrityState.answers).where(IntegrityState.campaign_id == campaign)).one()
        T._store_state(db, IntegrityState(campaign_id=campaign, last_id=1, answers=1, key="older", data=b""))
        db.expire_all()
        assert db.exec(select(IntegrityState.answers, IntegrityState.key)
                       .where(IntegrityState.campaign_id == campaign)).one()[0] == kept == len(frame)


def test_deleting_a_test_campaign_deletes_what_its_integrity_page_stored(app, campaign):
    """A test campaign (试填) is deleted with its answers: its stored frame and signals go with it."""
    store(app, campaign, generate_campaign(7, 8, patterns=()))
    with Session(app.state.engine) as db:
        c = db.get(Campaign, campaign)
        T.signals_for(db, c, app.state.profile)
        c.is_test = True
        assert lifecycle.delete_test_campaign(db, c) > 0
        assert db.exec(select(func.count()).select_from(IntegrityFrame)).one() == 0
        assert db.exec(select(func.count()).select_from(IntegrityState)).one() == 0
