"""A campaign's answers for statistical software: an SPSS ``.sav`` and a Stata ``.dta`` file with
Chinese variable and value labels, and their codebook (xlsx: variable, label, values).

One row per answer, as the people's exports (``campaigns.exports``; both read
``answers.exports.answer_batches``): the questionnaire (labelled with the campaign's own pinned
questionnaire titles), group, school, location, grade, the nine items coded 1–5 (A–E), validity
(``scoring.recognition.classify_validity``), the scores y and m of survey.md under the profile
(a group's rate is Σy ÷ Σm over its valid answers), duration and time. Codes are labelled from
``scoring.names``. No comments: free text stays in the people's exports. Text passes
``service.web.cells`` (control characters dropped, formula starts neutralised) as every raw
export's does.

The files are written by pyreadstat (ReadStat), which takes a whole frame: the answers are read
in batches as the other exports, but held as one numeric frame (a few MB per 100,000 answers).
"""

import io
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from scoring import names as N
from scoring.recognition import classify_validity, scores
from service.answers.exports import RESPONSE_COLUMNS, answer_batches
from service.db.models import Campaign, School
from service.web.cells import neutralise, printable
from service.web.clock import CHINA
from survey_templates import ITEMS, QUESTIONNAIRES

SAV_MEDIA_TYPE = "application/x-spss-sav"
DTA_MEDIA_TYPE = "application/x-stata-dta"
STATA_LABEL_MAX = 80          # characters of a Stata variable or file label

QUESTIONNAIRE_CODES = {q: k for k, q in enumerate(QUESTIONNAIRES, 1)}
GROUP_CODES = {g: k for k, g in enumerate(N.GROUPS, 1)}
LOCATION_CODES = {loc: k for k, loc in enumerate(N.LOCATIONS, 1)}
OPTION_CODES = {o: k for k, o in enumerate(N.OPTIONS, 1)}
VALIDITY_CODES = {v: k for k, v in enumerate(N.VALIDITY)}     # 0 = valid


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str                                 # 文本 | 数值 | 日期时间 (the codebook's words)
    values: Mapping[int, str] | None = None   # value labels
    measure: str = "scale"                    # SPSS: nominal | ordinal | scale
    note: str = ""


def _labels(codes: Mapping[str, int], names: Mapping[str, str]) -> dict[int, str]:
    return {k: names[code] for code, k in codes.items()}


def variables(campaign: Campaign, profile) -> list[Variable]:
    """The files' variables in order, with their labels from ``scoring.names`` and the campaign's
    pinned questionnaires."""
    rec = profile.recognition
    recognised = "、".join(N.OPTIONS[o] for o in rec["recognised"])
    titles = {q: campaign.templates[q]["title"] for q in QUESTIONNAIRES}
    return [
        Variable("answer_id", "答卷编号", "文本"),
        Variable("questionnaire", "问卷", "数值", _labels(QUESTIONNAIRE_CODES, titles), "nominal"),
        Variable("group", "群体", "数值", _labels(GROUP_CODES, N.GROUPS), "nominal"),
        Variable("school_code", "学校代码", "文本", note="人大代表、政协委员、其他群众不填学校"),
        Variable("school_name", "学校名称", "文本"),
        Variable("location", "城乡", "数值", _labels(LOCATION_CODES, N.LOCATIONS), "nominal",
                 "填学校的群体为学校所在地"),
        Variable("grade", "年级", "数值", dict(N.GRADES), "ordinal", "学生和家长填写；其他群体为缺失值"),
        *(Variable(item, N.ITEMS[item], "数值", _labels(OPTION_CODES, N.OPTIONS), "ordinal", "缺失值为未作答")
          for item in ITEMS),
        Variable("validity", "有效性", "数值", _labels(VALIDITY_CODES, N.VALIDITY), "nominal",
                 "按评估方法依次判定：未答完、重复作答、答题过快"),
        Variable("score_y", "认可得分", "数值",
                 note=f"作答为{recognised}的题目权重之和；某群体认可度 = 其有效答卷认可得分之和 ÷ 计分权重之和"),
        Variable("score_m", "计分权重", "数值", note="作答不是“不了解”的题目权重之和"),
        Variable("duration_s", "用时（秒）", "数值"),
        Variable("submitted", "提交时间", "日期时间", note="北京时间"),
    ]


def _text(value) -> str:
    return neutralise(printable(value or ""))


def answers_table(session: Session, campaign: Campaign, profile) -> pd.DataFrame:
    """One row per answer, the variables' columns, codes as numbers (NaN when missing)."""
    names = dict(session.execute(select(School.school_code, School.school_name)
                                 .where(School.campaign_id == campaign.id)).all())
    columns: dict[str, list] = {v.name: [] for v in variables(campaign, profile)}
    width = len(RESPONSE_COLUMNS)
    for batch in answer_batches(session, campaign.id):
        frame = pd.DataFrame([row[:width] for row in batch], columns=RESPONSE_COLUMNS)
        validity = classify_validity(frame, profile).astype(str)
        ym = scores(frame, profile)
        columns["validity"] += [VALIDITY_CODES[v] for v in validity]
        columns["score_y"] += ym["y"].tolist()
        columns["score_m"] += ym["m"].tolist()
        for row in batch:
            rid, questionnaire, group, school, location, grade, duration, _, *answers = row[:width]
            columns["answer_id"].append(_text(rid))
            columns["questionnaire"].append(QUESTIONNAIRE_CODES.get(questionnaire))
            columns["group"].append(GROUP_CODES.get(group))
            columns["school_code"].append(_text(school))
            columns["school_name"].append(_text(names.get(school)) if school else "")
            columns["location"].append(LOCATION_CODES.get(location))
            columns["grade"].append(grade)
            for item, a in zip(ITEMS, answers):
                columns[item].append(OPTION_CODES.get(a) if a else None)
            columns["duration_s"].append(round(float(duration), 1))
            columns["submitted"].append(row[width + 1].astimezone(CHINA).replace(tzinfo=None))
    table = pd.DataFrame(columns)
    for v in variables(campaign, profile):
        if v.kind == "数值":
            table[v.name] = pd.to_numeric(table[v.name], errors="coerce").astype(float)
        elif v.kind == "文本":
            table[v.name] = table[v.name].astype(object)
    table["submitted"] = pd.to_datetime(table["submitted"])
    return table


def _file_label(campaign: Campaign) -> str:
    return f"{campaign.county_name}·{campaign.name}·答卷"[:STATA_LABEL_MAX]


def _write(writer, table: pd.DataFrame, suffix: str, **options) -> bytes:
    """What pyreadstat's ``writer`` writes (it takes a path, not a stream)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"answers.{suffix}"
        writer(table, str(path), **options)
        return path.read_bytes()


def spss_sav(session: Session, campaign: Campaign, profile) -> bytes:
    import pyreadstat
    spec = variables(campaign, profile)
    return _write(pyreadstat.write_sav, answers_table(session, campaign, profile), "sav",
                  file_label=_file_label(campaign), column_labels={v.name: v.label for v in spec},
                  variable_value_labels={v.name: dict(v.values) for v in spec if v.values},
                  variable_measure={v.name: v.measure for v in spec})


def stata_dta(session: Session, campaign: Campaign, profile) -> bytes:
    import pyreadstat
    spec = variables(campaign, profile)
    return _write(pyreadstat.write_dta, answers_table(session, campaign, profile), "dta",
                  file_label=_file_label(campaign), column_labels={v.name: v.label for v in spec},
                  variable_value_labels={v.name: dict(v.values) for v in spec if v.values})


CODEBOOK_HEADERS = ("变量名", "变量标签", "类型", "取值及标签", "说明")


def values_text(values: Mapping[int, str] | None) -> str:
    """The codebook's cell of value labels: one "code = label" a line."""
    return "\n".join(f"{k} = {label}" for k, label in values.items()) if values else ""


def codebook_xlsx(campaign: Campaign, profile) -> bytes:
    """The variables (name, label, type, values, note), then each item's wording per questionnaire."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "变量"
    ws.append(CODEBOOK_HEADERS)
    for v in variables(campaign, profile):
        ws.append([neutralise(c) for c in (v.name, v.label, v.kind, values_text(v.values), v.note)])
    wording = wb.create_sheet("题目原文")
    wording.append(["变量名", "变量标签", *(campaign.templates[q]["title"] for q in QUESTIONNAIRES)])
    texts = {q: {i["id"]: i["text"] for i in campaign.templates[q]["items"]} for q in QUESTIONNAIRES}
    for item in ITEMS:
        wording.append([neutralise(printable(c)) for c in
                        (item, N.ITEMS[item], *(texts[q].get(item, "") for q in QUESTIONNAIRES))])
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet, widths in ((ws, (14, 16, 10, 44, 60)), (wording, (12, 16, 48, 48, 48))):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
        for letter, w in zip("ABCDE", widths):
            sheet.column_dimensions[letter].width = w
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
