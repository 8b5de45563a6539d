"""A campaign's answers as the responses file of survey.md, and as the one frame every consumer reads.

``export_csv`` is exactly the responses file of survey.md (the CLI's input), and
``answers_frame`` is that file read by ``scoring.responses`` — so the verdict, the integrity
page and ``python -m scoring evaluate WORKBOOK --responses export.csv`` see the same answers.
``answer_batches`` is the one plain column SELECT every answers export reads, in batches (no ORM
objects, no whole frame); the people's files are ``campaigns.exports``, the statistical ones
``campaigns.statfiles``. The CLI's file holds codes the scoring reader checks, byte for byte the
file of survey.md: no cell is neutralised.
"""

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlmodel import Session

from scoring.errors import InputError
from service.db.models import Answer
from survey_templates import ITEMS

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
BATCH = 5000  # rows per database fetch and per validity classification

# The columns read, in this order: the survey.md file's, then the people's extras.
_SELECTED = (Answer.submission_id, Answer.questionnaire, Answer.group, Answer.school_code,
             Answer.location, Answer.grade, Answer.duration_s, Answer.duplicate_of,
             *(getattr(Answer, i) for i in ITEMS), Answer.comment, Answer.created_at)
# Where a batch row's extras are: its comment and its time.
COMMENT, CREATED = len(RESPONSE_COLUMNS), len(RESPONSE_COLUMNS) + 1


def answer_batches(session: Session, campaign_id: int) -> Iterator[list[tuple]]:
    """The campaign's answers in submission order, BATCH rows at a time, as plain tuples."""
    result = session.execute(select(*_SELECTED).where(Answer.campaign_id == campaign_id)
                             .order_by(Answer.id).execution_options(yield_per=BATCH))
    for batch in result.partitions(BATCH):
        yield [tuple(row) for row in batch]


def seconds_text(value: float) -> str:
    """Plain decimal seconds, one decimal at most (never exponent notation)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _survey_row(row: tuple) -> list[str]:
    rid, questionnaire, group, school, location, grade, duration, duplicate_of, *answers = row[:COMMENT]
    return [rid, questionnaire, group, school or "", location, "" if grade is None else str(grade),
            seconds_text(duration), duplicate_of or "", *(a or "" for a in answers)]


def csv_bytes(write, encoding: str, lineterminator: str) -> bytes:
    """What ``write(csv_writer)`` writes, encoded as it goes (no second copy of the text)."""
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding=encoding, newline="")
    write(csv.writer(text, lineterminator=lineterminator))
    text.flush()
    text.detach()
    return out.getvalue()


def export_csv(session: Session, campaign_id: int) -> bytes:
    """The responses file of survey.md, exactly its columns, UTF-8 (no BOM)."""
    def write(writer) -> None:
        writer.writerow(RESPONSE_COLUMNS)
        for batch in answer_batches(session, campaign_id):
            writer.writerows(_survey_row(row) for row in batch)
    return csv_bytes(write, "utf-8", "\n")


def answers_frame(session: Session, campaign_id: int | None, school_codes: set[str]):
    """The campaign's answers as ``scoring.responses`` reads the export: (frame or None, problems)."""
    if campaign_id is None:
        return None, []
    from scoring.responses import read_responses

    data = export_csv(session, campaign_id)
    if data.count(b"\n") <= 1:
        return None, []
    try:
        return read_responses(data, school_codes), []
    except InputError as exc:
        return None, list(exc.problems)
