"""A campaign's answers as files and as the one frame every consumer reads.

``export_csv`` is exactly the responses file of survey.md (the CLI's input), and
``answers_frame`` is that file read by ``scoring.responses`` — so the verdict, the integrity
page and ``python -m scoring evaluate WORKBOOK --responses export.csv`` see the same answers.

``people_xlsx`` and ``people_csv`` are the same answers for people: Chinese headers, school
names, groups, locations and options by their Chinese labels (``scoring.names``), validity and
its reason (``scoring.recognition.classify_validity``), duration, time and the (masked)
comment. Every file is built from one plain column SELECT read in batches — no ORM objects,
no whole frame — and the xlsx is written by XlsxWriter in constant-memory mode to a temporary
file that the route streams, so memory stays flat in the number of answers. Their text cells pass ``service.web.cells.neutralise``; the CLI's
file does not: it holds codes the scoring reader checks, and must stay byte for byte the
file of survey.md.
"""

import csv
import io
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from scoring import names as N
from scoring.errors import InputError
from scoring.privacy import mask_free_text
from scoring.recognition import classify_validity
from service.db.models import Response, School
from service.web.cells import neutralise
from service.web.clock import CHINA
from survey_templates import ITEMS

RESPONSE_COLUMNS = ("response_id", "questionnaire", "group", "school_code", "location", "grade",
                    "duration_s", "duplicate_of", *ITEMS)
BATCH = 5000  # rows per database fetch and per validity classification

# The columns read, in this order: the survey.md file's, then the people's extras.
_SELECTED = (Response.submission_id, Response.questionnaire, Response.group, Response.school_code,
             Response.location, Response.grade, Response.duration_s, Response.duplicate_of,
             *(getattr(Response, i) for i in ITEMS), Response.comment, Response.created_at)
_COMMENT, _CREATED = len(RESPONSE_COLUMNS), len(RESPONSE_COLUMNS) + 1

PEOPLE_HEADERS = ("答卷编号", "群体", "学校代码", "学校名称", "城乡", "年级", *(N.ITEMS[i] for i in ITEMS),
                  "有效性", "无效原因", "用时（秒）", "提交时间", "意见建议")


def answer_batches(session: Session, campaign_id: int) -> Iterator[list[tuple]]:
    """The campaign's answers in submission order, BATCH rows at a time, as plain tuples."""
    result = session.execute(select(*_SELECTED).where(Response.campaign_id == campaign_id)
                             .order_by(Response.id).execution_options(yield_per=BATCH))
    for batch in result.partitions(BATCH):
        yield [tuple(row) for row in batch]


def seconds_text(value: float) -> str:
    """Plain decimal seconds, one decimal at most (never exponent notation)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _survey_row(row: tuple) -> list[str]:
    rid, questionnaire, group, school, location, grade, duration, duplicate_of, *answers = row[:_COMMENT]
    return [rid, questionnaire, group, school or "", location, "" if grade is None else str(grade),
            seconds_text(duration), duplicate_of or "", *(a or "" for a in answers)]


def _csv_bytes(write, encoding: str, lineterminator: str) -> bytes:
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
    return _csv_bytes(write, "utf-8", "\n")


def _people_rows(session: Session, campaign_id: int, profile) -> Iterator[list]:
    """One list per answer in PEOPLE_HEADERS order; numbers stay numbers, text is neutralised.

    A column of few distinct values (groups, schools, locations, options, validity) is labelled and
    neutralised once per value, not once per cell."""
    names = dict(session.execute(select(School.school_code, School.school_name)
                                 .where(School.campaign_id == campaign_id)).all())
    group = _Labels(N.GROUPS.get)
    code = _Labels(lambda c: c or "")
    name = _Labels(lambda c: names.get(c, "") if c else "")
    location = _Labels(N.LOCATIONS.get)
    option = _Labels(lambda a: N.OPTIONS.get(a, "") if a else "")
    status = {s: (neutralise("有效" if s == "valid" else "无效"), neutralise(N.INVALID.get(s, "")))
              for s in ("valid", *N.INVALID)}
    for batch in answer_batches(session, campaign_id):
        # Validity is a rule of each answer alone, so a batch at a time gives every answer's.
        frame = pd.DataFrame([row[:_COMMENT] for row in batch], columns=RESPONSE_COLUMNS)
        validity = classify_validity(frame, profile).astype(str).tolist()
        for row, valid in zip(batch, validity):
            rid, _, g, school, loc, grade, duration, _, *answers = row[:_COMMENT]
            comment = row[_COMMENT]
            yield [neutralise(rid), group[g], code[school], name[school], location[loc], grade,
                   *(option[a] for a in answers), *status.get(valid, (neutralise("无效"), "")),
                   round(float(duration), 1), row[_CREATED].astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                   neutralise(mask_free_text(comment)) if comment else ""]


class _Labels(dict):
    """value → its neutralised label, made on first use (``label`` returning None keeps the value)."""

    def __init__(self, label) -> None:
        super().__init__()
        self.label = label

    def __missing__(self, value):
        shown = self.label(value)
        self[value] = cell = neutralise(value if shown is None else shown)
        return cell


def people_csv(session: Session, campaign_id: int, profile) -> bytes:
    """The answers for Excel: UTF-8 with a BOM (else Excel shows mojibake), CRLF, Chinese columns."""
    def write(writer) -> None:
        writer.writerow(PEOPLE_HEADERS)
        writer.writerows(["" if c is None else seconds_text(c) if isinstance(c, float) else c for c in row]
                         for row in _people_rows(session, campaign_id, profile))
    return _csv_bytes(write, "utf-8-sig", "\r\n")


def people_xlsx(session: Session, campaign_id: int, profile, path: str) -> None:
    """The answers as one 答卷 sheet for people, written row by row to the file ``path``.

    XlsxWriter in constant-memory mode: each row goes to a temporary file as it is written (memory
    flat in the number of answers), text inline (no shared-strings table), no format per cell —
    only the header's bold; every cell is written as what it is (text is never read as a formula,
    a number or a link)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                    "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet("答卷")
    ws.freeze_panes(1, 0)
    widths = {"答卷编号": 38, "学校名称": 24, "提交时间": 20, "意见建议": 40, "无效原因": 10}
    for i, header in enumerate(PEOPLE_HEADERS):
        ws.set_column(i, i, widths.get(header, max(8, 2 * len(header) + 2)))
    ws.write_row(0, 0, PEOPLE_HEADERS, wb.add_format({"bold": True}))
    write_string, write_number = ws.write_string, ws.write_number
    for r, row in enumerate(_people_rows(session, campaign_id, profile), 1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                if value:
                    # XlsxWriter would store a carriage return as "_x000D_", which only Excel decodes.
                    write_string(r, c, value.replace("\r", "\n") if "\r" in value else value)
            elif value is not None:
                write_number(r, c, value)
    wb.close()


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
