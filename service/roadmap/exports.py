"""The roadmap's .xlsx files: the timeline of a plan's projection and a department's task list
(one file per department), with Chinese headers and unrounded figures. They go to other
departments: every cell passes the one neutraliser (a school name, a plan's 责任单位 or 备注
written as a formula stays text)."""

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from scoring import names as N
from service.web.cells import neutralise

TASK_HEADERS = (("year", "年度"), ("school_code", "学校代码"), ("school_name", "学校"), ("column", "字段"),
                ("change", "变化"), ("before", "原值"), ("after", "目标值"), ("increase", "数量"),
                ("cost", "费用（元）"), ("departments", "责任单位"), ("note", "说明"))


def _save(book: Workbook) -> bytes:
    for sheet in book.worksheets:
        for i, column in enumerate(sheet.columns, start=1):
            width = max(len(str(c.value or "")) for c in column) * 2 + 2
            sheet.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _append(sheet, values: list) -> None:
    sheet.append([neutralise(v) for v in values])


def timeline_xlsx(county: str, timeline: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "时间表"
    departments = timeline["departments"]
    parts = [p["name"] for p in timeline["base"]["parts"]]
    _append(sheet, ["年度", *parts, N.PARTS["veto"], "是否达标", "剩余台账费用（元）", "规划累计费用（元）",
                  *[f"规划费用·{d}（元）" for d in departments]])
    for label, row in [("当前", timeline["base"]), *[(str(y["year"]), y) for y in timeline["years"]]]:
        _append(sheet, [label, *[p["state"] for p in row["parts"]], "、".join(row["veto"]) or "无",
                      N.PASSED[bool(row["passed"])], row["ledger_cost"], row["plan_cost"],
                      *[row["plan_cost_by_department"].get(d, 0.0) for d in departments]])
    _append(sheet, [])
    _append(sheet, ["达标年度", timeline["compliance_year"] or (timeline["why_none"] or "无")])
    _append(sheet, ["县", county])
    return _save(book)


def tasks_xlsx(county: str, department: str, rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "任务清单"
    _append(sheet, [f"{county} {department} 任务清单"])
    _append(sheet, [h for _, h in TASK_HEADERS])
    for r in rows:
        _append(sheet, [r[k] for k, _ in TASK_HEADERS])
    _append(sheet, ["合计", *[""] * 7, sum(r["cost"] or 0.0 for r in rows)])
    return _save(book)
