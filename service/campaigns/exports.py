"""A campaign's answers as files and as the one frame every consumer reads.

``export_csv`` is exactly the responses file of survey.md (the CLI's input), and
``answers_frame`` is that file read by ``scoring.responses`` — so the verdict, the integrity
page and ``python -m scoring evaluate WORKBOOK --responses export.csv`` see the same answers.
"""

import csv
import io

from sqlmodel import Session, select

from scoring.errors import InputError
from service.db.models import Response
from service.web.clock import CHINA
from survey_templates import ITEMS

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
XLSX_EXTRA_COLUMNS = ("comment", "submitted_at")


def export_rows(session: Session, campaign_id: int) -> list[dict[str, str]]:
    """One dict per answer: the survey.md columns, plus the extra ``comment``/``submitted_at``."""
    rows = []
    for r in session.exec(select(Response).where(Response.campaign_id == campaign_id).order_by(Response.id)):
        rows.append({
            "response_id": r.submission_id, "questionnaire": r.questionnaire, "group": r.group,
            "school_code": r.school_code or "", "location": r.location,
            "grade": "" if r.grade is None else str(r.grade),
            "duration_s": _seconds(r.duration_s), "duplicate_of": r.duplicate_of or "",
            **{i: getattr(r, i) or "" for i in ITEMS},
            "comment": r.comment or "",
            "submitted_at": r.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        })
    return rows


def _seconds(value: float) -> str:
    """Plain decimal seconds, one decimal at most (never exponent notation)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def export_csv(session: Session, campaign_id: int) -> bytes:
    """The responses file of survey.md, exactly its columns, UTF-8 (no BOM)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESPONSE_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(export_rows(session, campaign_id))
    return buf.getvalue().encode("utf-8")


def export_xlsx(session: Session, campaign_id: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "responses"
    columns = (*RESPONSE_COLUMNS, *XLSX_EXTRA_COLUMNS)     # survey.md allows extra columns
    ws.append(list(columns))
    for row in export_rows(session, campaign_id):
        ws.append([row[c] for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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


