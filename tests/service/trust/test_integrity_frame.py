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
from service.campaigns import rules as C
from service.campaigns.exports import export_csv
from service.db.models import Campaign, Response
from service.trust.integrity import campaign_frame, signals_for
from service.web.clock import CHINA
from test_integrity_call_out import store


def answers_one_by_one(db: Session, campaign: Campaign) -> pd.DataFrame:
    """The export read by scoring's reader, each answer's stored extras looked up by its id."""
    frame = read_responses(export_csv(db, campaign.id), {s.school_code for s in C.schools_of(db, campaign.id)})
    stored = {r.submission_id: r for r in db.exec(select(Response).where(Response.campaign_id == campaign.id))}
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
        ids = db.exec(select(Response.id).where(Response.campaign_id == campaign)).all()
        devices = [f"{rng.getrandbits(64):016x}" for _ in ids]
        db.execute(update(Response), [{"id": i, "device_hash": devices[rng.randrange(len(ids))] if rng.random() < 0.05
                                       else devices[k]} for k, i in enumerate(ids)])
        db.commit()
        c = db.get(Campaign, campaign)
        typed, oracle = campaign_frame(db, c), answers_one_by_one(db, c)
        for column in oracle.columns.drop(["response_id", "line"]):
            assert typed[column].astype(object).fillna("").tolist() == oracle[column].astype(object).fillna("").tolist(), \
                (seed, column)
        settings = integrity_settings(profile)
        expected = integrity_report(oracle, classify_validity(oracle, profile), settings, profile)
        got = integrity_report(typed, classify_validity(typed, profile), settings, profile)
        assert expected.flags, seed      # coaching found: the comparison is not of two empty reports
        assert got == expected, seed
        page = signals_for(db, c, profile)
        assert (page.flags, page.information, page.tests, page.sensitivity) == \
            (list(expected.flags), list(expected.information), expected.tests, expected.sensitivity), seed
