"""Every read of the stored answers (the ``response`` table) but the write path's and the
integrity frame's: the watermark, the sums part S is computed from, progress counts, the schools
with answers, counts, comments. Validity is ``answers.validity``'s one expression."""

from functools import reduce
from operator import add

import pandas as pd
from sqlalchemy import and_, case, delete, func, or_
from sqlmodel import Session, select

from scoring.ledger import item_columns
from scoring.recognition import AGGREGATE_KEYS, OPTIONS
from service.answers.validity import validity
from service.db.models import Answer
from survey_templates import ITEMS

RAW_KEYS = (*AGGREGATE_KEYS, "y", "m")
ITEM_SUMS = tuple(c for i in ITEMS for c in item_columns(i))
OPTION_COUNTS = tuple(f"option_{i}_{o}" for i in ITEMS for o in OPTIONS)  # the per-question table's sums


# ---- the watermark: what a campaign's answers are up to ------------------------------------------

def watermarks(session: Session, campaign_ids: list[int]) -> dict[int, tuple[int, int, str]]:
    """(count, max id, its submission id) of each campaign's answers: the watermark (answers are
    only ever added; ids alone could repeat in another database or after deletes)."""
    if not campaign_ids:
        return {}
    rows = list(session.exec(select(Answer.campaign_id, func.count(), func.max(Answer.id))
                             .where(Answer.campaign_id.in_(campaign_ids)).group_by(Answer.campaign_id)))
    last = dict(session.exec(select(Answer.id, Answer.submission_id)
                             .where(Answer.id.in_([top for _, _, top in rows]))).all()) if rows else {}
    return {cid: (n, top, last[top]) for cid, n, top in rows}


def watermark(session: Session, campaign_id: int | None) -> tuple[int, int, str]:
    """``watermarks`` of one campaign; (0, 0, "") without answers or campaign."""
    if campaign_id is None:
        return 0, 0, ""
    return watermarks(session, [campaign_id]).get(campaign_id, (0, 0, ""))


def submission_id_of(session: Session, campaign_id: int, answer_id: int) -> str | None:
    return session.exec(select(Answer.submission_id).where(Answer.id == answer_id,
                                                            Answer.campaign_id == campaign_id)).first()


# ---- counts --------------------------------------------------------------------------------------

def answer_count(session: Session, campaign_id: int) -> int:
    return session.exec(select(func.count()).select_from(Answer).where(Answer.campaign_id == campaign_id)).one()


def answer_counts(session: Session) -> dict[int, int]:
    """Answers per campaign, every campaign with answers."""
    return dict(session.exec(select(Answer.campaign_id, func.count()).group_by(Answer.campaign_id)
                             .order_by(Answer.campaign_id)).all())


def delete_answers(session: Session, campaign_id: int) -> int:
    """Delete a (test) campaign's answers, uncommitted; returns how many there were."""
    count = answer_count(session, campaign_id)
    session.exec(delete(Answer).where(Answer.campaign_id == campaign_id))
    return count


def answered_schools(session: Session, campaign_id: int) -> set[str]:
    """Codes of the campaign's schools with at least one answer."""
    return set(session.exec(select(Answer.school_code).where(Answer.campaign_id == campaign_id,
                                                             Answer.school_code.is_not(None)).distinct()))


def validity_counts(session: Session, campaign_id: int, profile) -> list[tuple[str, str | None, str, str, int]]:
    """(group, school code, location, validity, answers) of the campaign's answers."""
    status = validity(profile)
    keys = (Answer.group, Answer.school_code, Answer.location, status)
    return [tuple(row) for row in session.exec(select(*keys, func.count())
                                               .where(Answer.campaign_id == campaign_id).group_by(*keys))]


def cell_counts(session: Session, campaign_id: int) -> dict[tuple[str | None, str], int]:
    """Answers per (school code, group), valid or not: the cells of the minimum cell size rule."""
    return {(school, group): n for school, group, n in session.exec(
        select(Answer.school_code, Answer.group, func.count()).where(Answer.campaign_id == campaign_id)
        .group_by(Answer.school_code, Answer.group))}


def comments(session: Session, campaign_id: int) -> list[tuple[str | None, str, str]]:
    """(school code, group, masked comment) of every answer with a comment, in submission order."""
    return [tuple(row) for row in session.exec(
        select(Answer.school_code, Answer.group, Answer.comment)
        .where(Answer.campaign_id == campaign_id, Answer.comment.is_not(None), Answer.comment != "")
        .order_by(Answer.id))]


# ---- part S from sufficient statistics -----------------------------------------------------------

def answer_groups(session: Session, campaign_id: int, after_id: int, max_id: int, profile) -> pd.DataFrame:
    """The campaign's answers with ``after_id < id <= max_id``, grouped by (group, school, location,
    grade, validity, y, m): a response's y and m take few values, so grouping by them leaves
    few rows and computes each once (summing y², y·m, … of an expression recomputes it per row).
    Validity is ``answers.validity``'s, y and m under ``profile`` (a profile may weigh the items
    anew); ``odd`` counts values the responses file would refuse, per item the answers recognising
    it and those that count, and per item and option the answers choosing it (``OPTION_COUNTS``)."""
    rec = profile.recognition
    recognised = list(rec["recognised"])
    counting = recognised + list(rec["not_recognised"])
    columns = {i: getattr(Answer, i) for i in ITEMS}

    def weighed(options: list[str], name: str):
        return reduce(add, [case((c.in_(options), float(rec["item_weights"][i])), else_=0.0)
                            for i, c in columns.items()]).label(name)

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    keys = [Answer.group, Answer.school_code, Answer.location, Answer.grade, validity(profile),
            weighed(recognised, "score_y"), weighed(counting, "score_m")]
    rows = session.exec(
        select(*keys, func.count(), count(or_(*[and_(c.is_not(None), c.not_in(OPTIONS)) for c in columns.values()])),
               *[count(c.in_(options)) for c in columns.values() for options in (recognised, counting)],
               *[count(c == option) for c in columns.values() for option in OPTIONS])
        .where(Answer.campaign_id == campaign_id, Answer.id > after_id, Answer.id <= max_id)
        .group_by(*keys)).all()
    return pd.DataFrame(rows, columns=[*RAW_KEYS, "n", "odd", *ITEM_SUMS, *OPTION_COUNTS])
