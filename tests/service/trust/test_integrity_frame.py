"""The integrity page reads the answers from one typed SELECT (issue 25); its signals must be those
``scoring.integrity`` gives on the answers as the export and the database give them one by one."""

import random
from datetime import UTC

import pandas as pd
from sqlalchemy import update
from sqlmodel import Session, select

from benchmarks.integrity_signals import PATTERNS, generate_campaign
from scoring.integrity import integrity_report, integrity_settings
from scoring.recognition import classify_validity
from scoring.responses import read_responses
from service.campaigns.schools import schools_of
from service.answers.exports import export_csv
from service.db.models import Campaign, Answer
from service.trust.integrity import campaign_frame, signals_for
from service.web.clock import CHINA
from test_integrity_call_out import store


def answers_one_by_one(db: Session, campaign: Campaign) -> pd.DataFrame:
    """The export read by scoring's reader, each answer's stored extras looked up by its id."""
    frame = read_responses(export_csv(db, campaign.id), {s.school_code for s in schools_of(db, campaign.id)})
    stored = {r.submission_id: r for r in db.exec(select(Answer).where(Answer.campaign_id == campaign.id))}
    rows = [stored[i] for i in frame["response_id"].astype(str)]
    # SQLite keeps no zone: its times are UTC.
    frame["submitted_at"] = pd.to_datetime([(r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC))
                                            .astimezone(CHINA).replace(tzinfo=None) for r in rows])
    frame["link_id"] = ["" if r.link_id is None else str(r.link_id) for r in rows]
    frame["free_text"] = [r.comment or "" for r in rows]
    frame["device_hash"] = [r.device_hash or "" for r in rows]
    frame["form_trace"] = [r.form_trace or "" for r in rows]
    return frame


def test_the_pages_signals_equal_scorings_on_the_answers_read_one_by_one(app, campaign):
    """A random county (seed drawn per run, printed on failure): five schools coached at 30 %, devices answering
    once or twice; the frame of the typed read equals the one read answer by answer, and so do the report's
    flags (with their answers), information, tests and sensitivity figures."""
    seed = random.randrange(1000)
    store(app, campaign, generate_campaign(seed, 25, patterns=tuple((PATTERNS[k], 0.3) for k in range(5))))
    rng = random.Random(seed)
    profile = app.state.profile
    with Session(app.state.engine) as db:
        ids = db.exec(select(Answer.id).where(Answer.campaign_id == campaign)).all()
        devices = [f"{rng.getrandbits(64):016x}" for _ in ids]
        db.execute(update(Answer), [{"id": i, "device_hash": devices[rng.randrange(len(ids))] if rng.random() < 0.05
                                       else devices[k]} for k, i in enumerate(ids)])
        db.commit()
        c = db.get(Campaign, campaign)
        typed, oracle = campaign_frame(db, c), answers_one_by_one(db, c)
        _same_frames(typed, oracle, seed)
        settings = integrity_settings(profile)
        expected = integrity_report(oracle, classify_validity(oracle, profile), settings, profile)
        got = integrity_report(typed, classify_validity(typed, profile), settings, profile)
        assert expected.flags, seed      # coaching found: the comparison is not of two empty reports
        assert got == expected, seed
        page = signals_for(db, c, profile)
        assert (page.flags, page.information, page.tests, page.sensitivity) == \
            (list(expected.flags), list(expected.information), expected.tests, expected.sensitivity), seed


def _same_frames(typed: pd.DataFrame, oracle: pd.DataFrame, seed: int) -> None:
    for column in oracle.columns.drop("response_id"):
        assert typed[column].astype(object).fillna("").tolist() == oracle[column].astype(object).fillna("").tolist(), \
            (seed, column)


def test_answers_arriving_after_the_stored_frame_are_appended_as_the_export_reads_them(app, campaign):
    """The frame stored by the last request, with the answers stored since appended (new links, comments,
    devices, schools' codes), equals the whole campaign read answer by answer; so do the signals."""
    seed = random.randrange(1000)
    store(app, campaign, generate_campaign(seed, 12, patterns=((PATTERNS[0], 0.3),)))
    profile = app.state.profile
    with Session(app.state.engine) as db:
        c = db.get(Campaign, campaign)
        first = len(campaign_frame(db, c))
        later = [r.model_dump(exclude={"id"}) for r in db.exec(select(Answer).where(Answer.campaign_id == campaign)
                                                                .order_by(Answer.id).limit(40))]
        for k, row in enumerate(later):
            row.update(submission_id=f"later-{seed}-{k}", comment=f"新意见 {k}" if k % 3 else None,
                       device_hash=f"new-device-{k}", created_at=row["created_at"] + pd.Timedelta(days=1))
        db.execute(Answer.__table__.insert(), later)
        db.commit()
        typed = campaign_frame(db, c)
        assert len(typed) == first + 40, seed
        oracle = answers_one_by_one(db, c)
        _same_frames(typed, oracle, seed)
        assert typed["line"].tolist() == oracle["line"].tolist()
        settings = integrity_settings(profile)
        assert integrity_report(typed, classify_validity(typed, profile), settings, profile) == \
            integrity_report(oracle, classify_validity(oracle, profile), settings, profile), seed
