"""Issue 19: an answer's validity is written once in SQL (``service.answers.validity``) and equals
``scoring.recognition.classify_validity`` of the export — survey.md's rules in their order:
incomplete, duplicate, speeder — on random answers in the real database (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set)."""

import random
import uuid

from sqlmodel import Session, select

from scoring.profile import GROUPS, ITEMS, LOCATIONS, OPTIONS, SCHOOL_GROUPS
from scoring.recognition import classify_validity
from service.answers.exports import answers_frame
from service.answers.queries import validity_counts
from service.answers.validity import validity
from service.campaigns.progress import progress
from service.campaigns.schools import schools_of
from service.db.models import Answer, Campaign

# Unanswered as stored: NULL, empty, blank; the form's five options; a whole row of 不了解 (E).
ITEM_VALUES = (*OPTIONS, *OPTIONS, *OPTIONS, None, "", " ")
ANSWERS = 400


def random_answers(campaign_id: int, schools: list[str], min_s: float, seed: int) -> list[Answer]:
    rng = random.Random(seed)
    rows: list[Answer] = []
    for k in range(ANSWERS):
        group = rng.choice(GROUPS)
        kind = rng.random()
        items = dict.fromkeys(ITEMS, "E") if kind < 0.1 else \
            {i: rng.choice(OPTIONS) for i in ITEMS} if kind < 0.6 else {i: rng.choice(ITEM_VALUES) for i in ITEMS}
        earlier = [r.submission_id for r in rows]
        duplicate_of = rng.choice([None, None, None, "", "  ", *(earlier[-3:] or [None])])
        # Stored to 0.1 s, as the form records it: around the minimum, and 0.
        duration = rng.choice([0.0, min_s, round(min_s - 0.1, 1), round(min_s + 0.1, 1),
                               round(rng.uniform(0, 3 * min_s), 1)])
        rows.append(Answer(submission_id=str(uuid.UUID(int=rng.getrandbits(128))), campaign_id=campaign_id,
                           questionnaire="student" if group == "student" else "public", template_version=1,
                           group=group, school_code=rng.choice(schools) if group in SCHOOL_GROUPS else None,
                           location=rng.choice(LOCATIONS),
                           grade=rng.randint(1, 9) if group in ("student", "parent") else None,
                           duration_s=duration, duplicate_of=duplicate_of, **items))
    return rows


def test_answer_validity_in_sql_is_scorings_classification_of_the_export(app, campaign):
    profile = app.state.profile
    min_s = float(profile.recognition["min_duration_s"])
    with Session(app.state.engine) as s:
        codes = [school.school_code for school in schools_of(s, campaign)]
        s.add_all(random_answers(campaign, codes, min_s, seed=19))
        s.commit()
        in_sql = dict(s.exec(select(Answer.submission_id, validity(profile))
                             .where(Answer.campaign_id == campaign)).all())
        frame, problems = answers_frame(s, campaign, set(codes))
        assert problems == []
        by_scoring = dict(zip(frame["response_id"], classify_validity(frame, profile).astype(str)))
        assert len(in_sql) == ANSWERS and in_sql == by_scoring
        # every status occurs, so each rule was compared
        assert set(in_sql.values()) == {"valid", "incomplete", "duplicate", "speeder"}
        # the progress page counts with the same expression
        counts = {status: 0 for status in in_sql.values()}
        for *_, status, n in validity_counts(s, campaign, profile):
            counts[status] += n
        shown = progress(s, s.get(Campaign, campaign), profile)
        assert (shown.valid, shown.incomplete, shown.duplicates, shown.speeders) == \
            (counts["valid"], counts["incomplete"], counts["duplicate"], counts["speeder"])
        assert counts == {status: list(by_scoring.values()).count(status) for status in counts}
