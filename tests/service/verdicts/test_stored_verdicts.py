"""Verdicts computed once per state (service/verdicts/pipeline.py, issue 15): the sufficient-
statistics path equals the per-respondent path, and the stored verdict equals a fresh
computation after every kind of change."""

import json
import math
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inspector_helpers import COUNTY_A, EXAMPLES, browser, campaign_with_responses, example_zip, make_users, upload
from sqlalchemy import delete, func
from sqlmodel import Session, select

from scoring.ledger import ledger
from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import SCHOOL_GROUPS
from scoring.verdict import evaluate
from service.answers.exports import answers_frame
from service.campaigns.counted import designate
from service.campaigns.lifecycle import create_campaign
from service.db.models import Answer, StoredVerdict
from service.verdicts import pipeline as P
from service.verdicts.presenters import overview_rows
from service.workbooks.versions import parse_version


def same(a, b, path="") -> None:
    """Equal JSON-like values, floats within rounding (sums taken in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), (path, sorted(set(a) ^ set(b)))
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(b, float) and isinstance(a, int) and not isinstance(a, bool):
        same(b, a, path)
    else:
        assert a == b, (path, a, b)


def fresh(session: Session, county: str, profile) -> dict:
    """The state's verdict computed from scratch, one row per respondent, as the CLI would."""
    state = P.county_state(session, county, None, profile)
    workbook = parse_version(state.version, profile)
    campaign = state.counted.campaign
    responses, _ = answers_frame(session, campaign.id if campaign else None,
                                 set(workbook.schools["school_code"].astype(str)))
    verdict = evaluate(workbook, responses, profile)
    return json.loads(json.dumps(P.verdict_data(verdict, ledger(verdict, workbook, profile, responses)),
                                 default=P._plain))


def stored(session: Session, county: str, profile) -> dict:
    """The stored row of the county's current state (the overview reads it and computes it if missing)."""
    overview_rows(session, [county], profile)
    key = P.county_state(session, county, None, profile).key
    verdict, summary = session.exec(select(StoredVerdict.verdict, StoredVerdict.summary)
                                    .where(StoredVerdict.state == key)).one()
    verdict = json.loads(verdict)
    same(json.loads(summary), P.summary_of(verdict))      # what the overview shows of it
    return verdict


def add_answers(session: Session, campaign_id: int, rows: list[dict], profile) -> None:
    for row in rows:
        items = {i: row.get(i) for i in ITEMS}
        session.add(Answer(submission_id=str(uuid.uuid4()), campaign_id=campaign_id,
                             questionnaire="student" if row["group"] == "student" else "public",
                             template_version=1, group=row["group"], school_code=row.get("school_code"),
                             location=row["location"], grade=row.get("grade"), duration_s=row["duration_s"],
                             duplicate_of=row.get("duplicate_of"), **items))
    session.commit()


def new_campaign(session: Session, templates):
    """Another campaign of the county, designated as the one that counts."""
    now = datetime.now(UTC)
    campaign = create_campaign(session, name="又一次调查", county_name=COUNTY_A, resident_population=380000,
                               shares={"urban": 0.45, "town": 0.30, "rural": 0.25},
                               opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                               templates=templates)
    designate(session, campaign, None)
    return campaign


@pytest.fixture
def county(app):
    """示例县 with its example workbook as version 1 and a campaign holding the example's answers."""
    make_users(app)
    with browser(app, "bureau_a") as c:
        assert upload(c, COUNTY_A, [("example-pass.zip", example_zip("example-pass"))]).status_code == 200
    campaign_with_responses(app, COUNTY_A, "example-pass")
    P._OBJECTS.clear()
    P._GROUPS.clear()
    return app


# ---- the sufficient-statistics path equals the per-respondent path -----------------------------

# Mostly complete, slow enough and first answers, so that the valid ones are many; D and E
# often enough that rates fail and the ledger lists the weakest items.
answer_option = st.sampled_from([*"ABCDE" * 4, None])
respondent = st.fixed_dictionaries({
    "group": st.sampled_from(GROUPS), "school": st.integers(0, 24), "location": st.sampled_from(["urban", "town", "rural"]),
    "grade": st.one_of(st.none(), st.integers(1, 9)), "duration_s": st.sampled_from([1.0, 19.9, 20.0, 20.1, *[300.0] * 6]),
    "duplicate": st.sampled_from([False] * 9 + [True]), "items": st.lists(answer_option, min_size=len(ITEMS), max_size=len(ITEMS))})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(respondent, min_size=2, max_size=80), cut=st.floats(0.05, 0.95))
def test_aggregate_verdict_equals_per_respondent_verdict(county, answers, cut):
    app = county
    profile = app.state.profile
    with Session(app.state.engine, expire_on_commit=False) as s:
        state = P.county_state(s, COUNTY_A, None, profile)
        codes = sorted(parse_version(state.version, profile).schools["school_code"].astype(str))
        # A new campaign per example, designated: answers are only ever added to a campaign.
        cid = new_campaign(s, county.state.templates).id
        split = max(1, int(len(answers) * cut))
        rows = []
        for a in answers:
            linked = a["group"] in SCHOOL_GROUPS
            rows.append({"group": a["group"], "school_code": codes[a["school"] % len(codes)] if linked else None,
                         "location": a["location"], "grade": a["grade"] if a["group"] == "student" else None,
                         "duration_s": a["duration_s"], "duplicate_of": "x" if a["duplicate"] else None,
                         **dict(zip(ITEMS, a["items"]))})
        # In two batches: the second verdict adds the new answers' groups to those kept.
        for batch in (rows[:split], rows[split:]):
            add_answers(s, cid, batch, profile)
            state = P.county_state(s, COUNTY_A, None, profile)
            _, verdict, ledger_rows, problems = P.evaluate_state(s, state, profile)
            assert problems == []
            same(json.loads(json.dumps(P.verdict_data(verdict, ledger_rows), default=P._plain)),
                 fresh(s, COUNTY_A, profile))


def test_answers_the_responses_file_refuses_give_the_same_problems(county):
    app = county
    profile = app.state.profile
    with Session(app.state.engine, expire_on_commit=False) as s:
        cid = P.county_state(s, COUNTY_A, None, profile).counted.campaign.id
        add_answers(s, cid, [{"group": "parent", "school_code": "NOPE", "location": "urban", "duration_s": 100.0,
                              **dict.fromkeys(ITEMS, "A")}], profile)
        cv = P.county_verdict(s, COUNTY_A, None, profile)
        workbook = parse_version(cv.version, profile)
        _, problems = answers_frame(s, cid, set(workbook.schools["school_code"].astype(str)))
        assert problems and cv.response_problems == problems
        assert cv.verdict.recognition.rate.status == "no_data"


# ---- the stored verdict equals a fresh computation after every kind of change -------------------

def test_stored_verdict_equals_fresh_after_new_answers(county):
    profile = county.state.profile
    with Session(county.state.engine, expire_on_commit=False) as s:
        same(stored(s, COUNTY_A, profile), fresh(s, COUNTY_A, profile))
        before = stored(s, COUNTY_A, profile)["parts"]["recognition"]["collected"]
        cid = P.county_state(s, COUNTY_A, None, profile).counted.campaign.id
        add_answers(s, cid, [{"group": "public", "location": "rural", "duration_s": 200.0,
                              **dict.fromkeys(ITEMS, "D")}] * 3, profile)
        after = stored(s, COUNTY_A, profile)
        same(after, fresh(s, COUNTY_A, profile))
        assert after["parts"]["recognition"]["collected"] == before + 3


def test_the_same_count_and_max_id_with_another_last_answer_is_another_state(county):
    # Ids alone could repeat (SQLite reuses a deleted largest id; another database): the
    # watermark's answer is part of the state.
    profile = county.state.profile
    with Session(county.state.engine, expire_on_commit=False) as s:
        cid = P.county_state(s, COUNTY_A, None, profile).counted.campaign.id
        add_answers(s, cid, [{"group": "public", "location": "rural", "duration_s": 200.0,
                              **dict.fromkeys(ITEMS, "A")}], profile)
        before = stored(s, COUNTY_A, profile)
        top = s.exec(select(func.max(Answer.id)).where(Answer.campaign_id == cid)).one()
        s.exec(delete(Answer).where(Answer.id == top))
        add_answers(s, cid, [{"group": "public", "location": "rural", "duration_s": 200.0,
                              **dict.fromkeys(ITEMS, "D")}], profile)
        after = stored(s, COUNTY_A, profile)
        same(after, fresh(s, COUNTY_A, profile))
        assert after["parts"]["recognition"]["rate"] < before["parts"]["recognition"]["rate"]


def test_a_new_watermark_replaces_the_stored_row_of_the_earlier_one(county):
    profile = county.state.profile
    with Session(county.state.engine, expire_on_commit=False) as s:
        stored(s, COUNTY_A, profile)
        cid = P.county_state(s, COUNTY_A, None, profile).counted.campaign.id
        add_answers(s, cid, [{"group": "public", "location": "rural", "duration_s": 200.0,
                              **dict.fromkeys(ITEMS, "A")}], profile)
        stored(s, COUNTY_A, profile)
        rows = s.exec(select(StoredVerdict.answers).where(StoredVerdict.county_name == COUNTY_A)).all()
        assert rows == [788]


def test_stored_verdict_equals_fresh_after_a_new_version(county):
    profile = county.state.profile
    with Session(county.state.engine, expire_on_commit=False) as s:
        first = stored(s, COUNTY_A, profile)
    # Version 2: the county's veto item V3 now triggered.
    veto = (EXAMPLES / "example-pass" / "veto.csv").read_text(encoding="utf-8-sig").replace("V3,no", "V3,yes")
    with browser(county, "bureau_a") as c:
        r = upload(c, COUNTY_A, [("v2.zip", example_zip("example-pass", {"veto.csv": veto.encode()}))])
        assert r.status_code == 200
    with Session(county.state.engine, expire_on_commit=False) as s:
        assert P.county_state(s, COUNTY_A, None, profile).version.version == 2
        second = stored(s, COUNTY_A, profile)
        same(second, fresh(s, COUNTY_A, profile))
        assert first["veto"]["triggered"] == [] and second["veto"]["triggered"] == ["V3"]


def test_stored_verdict_equals_fresh_after_a_new_designation(county):
    profile = county.state.profile
    with Session(county.state.engine, expire_on_commit=False) as s:
        first = stored(s, COUNTY_A, profile)
        other = new_campaign(s, county.state.templates)
        add_answers(s, other.id, [{"group": "npc_deputy", "location": "town", "duration_s": 200.0,
                                   **dict.fromkeys(ITEMS, "A")}] * 5, profile)
        second = stored(s, COUNTY_A, profile)
        same(second, fresh(s, COUNTY_A, profile))
        assert P.county_state(s, COUNTY_A, None, profile).counted.campaign.id == other.id
        assert (first["parts"]["recognition"]["collected"], second["parts"]["recognition"]["collected"]) == (787, 5)


def test_stored_verdict_equals_fresh_after_a_profile_change(county, tmp_path):
    profile = county.state.profile
    override = tmp_path / "strict.json"
    override.write_text(json.dumps({"recognition": {"recognition_threshold": 0.99}}))
    strict = load_profile(override)
    with Session(county.state.engine, expire_on_commit=False) as s:
        national = stored(s, COUNTY_A, profile)
        other = stored(s, COUNTY_A, strict)
        same(other, fresh(s, COUNTY_A, strict))
        assert P.county_state(s, COUNTY_A, None, strict).key != P.county_state(s, COUNTY_A, None, profile).key
        assert national["parts"]["recognition"]["passed"] and not other["parts"]["recognition"]["passed"]


def test_concurrent_requests_for_one_state_compute_it_once(county, monkeypatch):
    profile = county.state.profile
    calls = []
    real = P.evaluate_state

    def slow(session, state, profile):
        calls.append(state.key)
        time.sleep(0.3)         # wide enough for every thread to be waiting on the state's lock
        return real(session, state, profile)

    monkeypatch.setattr(P, "evaluate_state", slow)
    rows = []

    def overview():
        with Session(county.state.engine, expire_on_commit=False) as s:
            rows.append(overview_rows(s, [COUNTY_A], profile)[0])

    threads = [threading.Thread(target=overview) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(county.state.engine) as s:
        key = P.county_state(s, COUNTY_A, None, profile).key
        assert s.exec(select(func.count()).select_from(StoredVerdict).where(StoredVerdict.state == key)).one() == 1
    assert calls == [key]
    assert len({(r["passed"], r["rate"], r["valid"]) for r in rows}) == 1 and len(rows) == 4
