"""A campaign's answers as files for people (the responses file of survey.md and the frame read
from it are ``answers.exports``).

``people_xlsx`` and ``people_csv`` are the same answers for people: Chinese headers, school
names, groups, locations and options by their Chinese labels (``scoring.names``), validity and
its reason (``scoring.recognition.classify_validity``), duration, time and the (masked)
comment. Every file is built from ``answers.exports.answer_batches`` — no ORM objects,
no whole frame — and the xlsx's sheet is written row by row into a temporary file that the
route streams, so memory stays flat in the number of answers. Their text cells pass
``service.web.cells.neutralise``; the CLI's file does not: it holds codes the scoring reader
checks, and must stay byte for byte the file of survey.md.
"""

import io
import zipfile
from collections.abc import Iterator
from xml.sax.saxutils import escape

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from scoring import names as N
from scoring.privacy import mask_free_text
from scoring.recognition import classify_validity
from service.answers.exports import (COMMENT, CREATED, RESPONSE_COLUMNS, answer_batches, csv_bytes,
                                     seconds_text)
from service.db.models import School
from service.web.cells import neutralise
from service.web.clock import CHINA
from survey_templates import ITEMS

PEOPLE_HEADERS = ("答卷编号", "群体", "学校代码", "学校名称", "城乡", "年级", *(N.ITEMS[i] for i in ITEMS),
                  "有效性", "无效原因", "用时（秒）", "提交时间", "意见建议")


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
        frame = pd.DataFrame([row[:COMMENT] for row in batch], columns=RESPONSE_COLUMNS)
        validity = classify_validity(frame, profile).astype(str).tolist()
        for row, valid in zip(batch, validity):
            rid, _, g, school, loc, grade, duration, _, *answers = row[:COMMENT]
            comment = row[COMMENT]
            yield [neutralise(rid), group[g], code[school], name[school], location[loc], grade,
                   *(option[a] for a in answers), *status.get(valid, (neutralise("无效"), "")),
                   round(float(duration), 1), row[CREATED].astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
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
    return csv_bytes(write, "utf-8-sig", "\r\n")


def people_xlsx(session: Session, campaign_id: int, profile, path: str) -> None:
    """The answers as one 答卷 sheet for people, written row by row into the file ``path``.

    The sheet's XML is written as the rows come, straight into the zip (deflated as it goes), so
    memory is flat in the number of answers; text is inline (no shared-strings table), only the
    header has a format (bold), columns have their widths, the header row is frozen. A cell's XML
    is made once per distinct value of the few-valued columns. (openpyxl's write-only mode and
    XlsxWriter's constant-memory mode spend 8–10 µs per cell here: 20 s for 100,000 answers.)"""
    widths = {"答卷编号": 38, "学校名称": 24, "提交时间": 20, "意见建议": 40, "无效原因": 10}
    cols = "".join(f'<col min="{i}" max="{i}" width="{widths.get(h, max(8, 2 * len(h) + 2))}" customWidth="1"/>'
                   for i, h in enumerate(PEOPLE_HEADERS, 1))
    header = "".join(_text_cell(h, ' s="1"') for h in PEOPLE_HEADERS)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, xml in _XLSX_PARTS.items():
            z.writestr(name, _XML + xml)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            out = io.TextIOWrapper(part, encoding="utf-8", newline="")
            out.write(f'{_XML}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
                      f'topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                      f'<cols>{cols}</cols><sheetData><row>{header}</row>')
            known: dict = {}
            for row in _people_rows(session, campaign_id, profile):
                cells = []
                for value in row:
                    cell = known.get(value) if isinstance(value, str) else None
                    if cell is None:
                        cell = _text_cell(value) if isinstance(value, str) else "<c/>" if value is None \
                            else f"<c><v>{value!r}</v></c>"
                        if isinstance(value, str) and len(known) < 10000:   # labels, schools, times repeat
                            known[value] = cell
                    cells.append(cell)
                out.write(f"<row>{''.join(cells)}</row>")
            out.write("</sheetData></worksheet>")
            out.flush()
            out.detach()


def _text_cell(value: str, style: str = "") -> str:
    if not value:
        return f"<c{style}/>"
    # A carriage return would be read back as a line feed (XML's line-end rule): kept as a reference.
    text = escape(value).replace("\r", "&#13;")
    return f'<c{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/></Types>'),
    "_rels/.rels": (f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/officeDocument" '
                    'Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
                        '<sheet name="答卷" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_DOC}/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
        'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
        '<border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf '
        'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" '
        'fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" '
        'applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        '</cellStyles></styleSheet>'),
}
