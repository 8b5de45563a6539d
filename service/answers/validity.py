"""An answer's validity in SQL: the one expression every query of the answers uses.

survey.md's rules in their order, as ``scoring.recognition.classify_validity`` applies them to
the answers file (the export): ``incomplete`` when an item is unanswered (NULL, or blank as the
file reader reads an empty cell), else ``duplicate`` when ``duplicate_of`` names an answer (a
blank one names none), else ``speeder`` when the duration is below the profile's minimum
(durations are stored rounded to 0.1 s, as the export writes them), else ``valid``.
tests/service/answers/test_validity_sql.py checks it equals ``scoring`` on random answers."""

from sqlalchemy import and_, case, func, or_

from service.db.models import Answer
from survey_templates import ITEMS


def _blank(column):
    return or_(column.is_(None), func.trim(column) == "")


def validity(profile):
    """'valid', 'incomplete', 'duplicate' or 'speeder' of each answer, labelled ``status``."""
    return case((or_(*[_blank(getattr(Answer, i)) for i in ITEMS]), "incomplete"),
                (and_(Answer.duplicate_of.is_not(None), func.trim(Answer.duplicate_of) != ""), "duplicate"),
                (Answer.duration_s < float(profile.recognition["min_duration_s"]), "speeder"),
                else_="valid").label("status")
