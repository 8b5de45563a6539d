"""Exports of a county's verdict: JSON (verdict.md + ledger, unrounded: it is data), .xlsx for
people (a sheet per part, the responses summary with charts, the per-question table, the
ledger; figures as the page shows them), the ledger alone as CSV/.xlsx, and the province
overview as .xlsx. Every text cell of a CSV or xlsx passes ``service.web.cells.neutralise``."""

import csv
import io
import json
from typing import Any

from scoring import display, facts
from scoring import names as N
from scoring.privacy import min_cell_size
from scoring.questions import TOTAL
from scoring.report import describe_check
from scoring import ledger_display as LD
from service.verdicts.pipeline import CountyVerdict
from service.web.cells import neutralise

PART_NAMES = {k: N.PARTS[k] for k in N.FOUR_PARTS}
LEDGER_SORTS = ("rule", "school_code", "stage", "indicator", "increase", "responses")


def verdict_json(cv: CountyVerdict) -> dict[str, Any]:
    data = cv.verdict.to_dict()
    data["ledger"] = cv.ledger_dicts
    data["workbook_version"] = {"version": cv.version.version, "filename": cv.version.filename,
                                "sha256": cv.version.sha256, "uploaded_at": cv.version.uploaded_at.isoformat()}
    data["campaign_id"] = cv.campaign.id if cv.campaign else None
    return data


def verdict_json_bytes(cv: CountyVerdict) -> bytes:
    return json.dumps(verdict_json(cv), ensure_ascii=False, indent=2).encode("utf-8")


def sort_ledger(rows: list[dict], key: str | None) -> list[dict]:
    """Rows sorted by a ledger field (blanks last); unknown keys keep the ledger's order."""
    if key is None:
        return rows
    desc = key.startswith("-")
    field = key.lstrip("-")
    if field not in LEDGER_SORTS:
        return rows
    present = [r for r in rows if r.get(field) is not None]
    absent = [r for r in rows if r.get(field) is None]
    numeric = all(isinstance(r[field], (int, float)) for r in present)
    present.sort(key=lambda r: r[field] if numeric else str(r[field]), reverse=desc)
    return present + absent


def school_names(cv: CountyVerdict) -> dict[str, str]:
    schools = cv.workbook.schools
    return dict(zip(schools["school_code"].astype(str), schools["school_name"].astype(str)))


def ledger_csv(rows: list[dict], names: dict[str, str] | None = None) -> bytes:
    """The ledger for people (verdict.json keeps ledger.md's codes for programs)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LD.HEADERS)
    for r in rows:
        shown = LD.display_row(r, names)
        w.writerow([neutralise(shown[h]) for h in LD.HEADERS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")   # BOM: Excel opens UTF-8 CSVs correctly


# Numbers beside the words, so that a sheet can sum and sort them.
LEDGER_NUMBERS = (("调整量（数值）", "increase"), ("需增加有效答卷（份）", "responses"), ("估算费用（元）", "cost_yuan"))


def _ledger_sheet(wb, rows: list[dict], names: dict[str, str] | None = None) -> None:
    ws = wb.create_sheet("短板台账")
    _widths(ws, [24, 16, 6, 16, 16, 18, 16, 12, 22, 14, 80, 12, 12, 14])
    _append(ws, [*LD.HEADERS, *(h for h, _ in LEDGER_NUMBERS)], bold=True)
    for r in rows:
        shown = LD.display_row(r, names)
        ws.append([neutralise(shown[h]) for h in LD.HEADERS] + [r.get(k) for _, k in LEDGER_NUMBERS])


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def ledger_xlsx(rows: list[dict], names: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    _ledger_sheet(wb, rows, names)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


PERCENT, CV_FORMAT, NUMBER = "0.0%", "0.000", "0.00"


def _shown(text: str) -> float | None:
    """The number a ``scoring.display`` text shows ("84.9%" → 0.849): cells hold what the page
    shows, rounded towards failure where it applies, and a number format keeps its decimals."""
    if text == "—":
        return None
    # Rounded again: 93.3 / 100 is 0.9329999… in binary, and a cell should read 0.933.
    return round(float(text[:-1]) / 100, 6) if text.endswith("%") else float(text)


def _append(ws, values: list, formats: dict[int, str] | None = None, bold: bool = False) -> None:
    """One row, text neutralised, with number formats per column index."""
    from openpyxl.styles import Font
    ws.append([neutralise(v) for v in values])
    row = ws.max_row
    for col, fmt in (formats or {}).items():
        ws.cell(row=row, column=col + 1).number_format = fmt
    if bold:
        for cell in ws[row]:
            cell.font = Font(bold=True)


def _widths(ws, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def verdict_xlsx(cv: CountyVerdict, profile, view: dict) -> bytes:
    """The verdict for Excel: Chinese labels (scoring.names), figures as the page shows them
    (``view``: presenters.verdict_view, display-rounded, with number formats), S1–S7 as
    sentences, native charts of the group rates against the threshold and of the CVs against
    their caps, the per-question table."""
    from openpyxl import Workbook

    v = cv.verdict
    names = view["names"]
    rec, rate = v.recognition, v.recognition.rate
    passed = N.PASSED
    wb = Workbook()
    ws = wb.active
    ws.title = "总览"
    _widths(ws, [16, 40, 40])
    _append(ws, ["县", v.county], bold=True)
    _append(ws, ["评估方案", N.profile_title(profile)])
    _append(ws, ["结论", "达到优质均衡" if v.passed else "未达到优质均衡"])
    _append(ws, ["未达标部分", "、".join(view["failed_parts"]) or "无"])
    _append(ws, [N.PARTS["precondition"], N.PRECONDITION_STATUS[v.precondition.status], v.precondition.reason or ""])
    _append(ws, [N.PARTS["veto"], "、".join(f"{N.VETO_ITEMS[k]}" for k in v.veto) or "无"])
    for key in PART_NAMES:
        _append(ws, [PART_NAMES[key], passed[getattr(v, key).passed]])
    _append(ws, ["认可度本身", N.RATE_STATUS[rate.status]])
    _append(ws, ["指标表版本", f"第 {cv.version.version} 版", cv.version.filename])
    _append(ws, ["指标表 SHA-256", cv.version.sha256])
    if cv.campaign is not None:
        _append(ws, ["调查", cv.campaign.name])

    _resources_sheet(wb, view, names)
    for key, item_names in (("guarantee", N.GUARANTEE_ITEMS), ("quality", N.QUALITY_ITEMS)):
        ws = wb.create_sheet(PART_NAMES[key])
        _widths(ws, [8, 36, 8, 60, 30])
        _append(ws, ["项目", "名称", "结果", "说明", "未达标学校"], bold=True)
        for code, item in getattr(v, key).items.items():
            _append(ws, [code, item_names.get(code, ""), passed[item.passed], item.reason or "",
                         "、".join(f"{c} {names.get(c, '')}".strip() for c in item.schools)])

    ok = facts.meets_recognition(rate.rate, profile)
    lb_ok = facts.meets_recognition(rate.lower_bound_95, profile)
    ws = wb.create_sheet("社会认可度")
    _widths(ws, [16, 14, 60, 50])
    _append(ws, ["部分结论", passed[rec.passed]], bold=True)
    _append(ws, ["认可度本身", N.RATE_STATUS[rate.status]])
    _append(ws, ["加权认可度", _shown(display.percent(rate.rate, passed=ok))], {1: PERCENT})
    _append(ws, ["合并认可度", _shown(display.percent(rate.pooled_rate, passed=ok))], {1: PERCENT})
    ci = rate.ci95 or (None, None)
    _append(ws, ["95% 区间下限", _shown(display.percent(ci[0]))], {1: PERCENT})
    _append(ws, ["95% 区间上限", _shown(display.percent(ci[1]))], {1: PERCENT})
    _append(ws, ["单侧 95% 下限", _shown(display.percent(rate.lower_bound_95, passed=lb_ok))], {1: PERCENT})
    _append(ws, ["达标线", facts.recognition_threshold(profile)], {1: "0%"})
    _append(ws, ["收集", rate.collected])
    _append(ws, ["有效", rate.valid])
    for k, n in rate.invalid.items():
        _append(ws, [f"无效：{N.INVALID[k]}", n])
    _append(ws, ["说明", rec.reason or ""])
    _append(ws, [])
    _append(ws, ["检查", "结果", "数据", "说明"], bold=True)
    for code, c in rec.checks.items():
        _append(ws, [f"{code} {N.CHECKS[code]}", "通过" if c.passed else "未通过", describe_check(code, c),
                     c.reason or ""])

    _groups_sheet(wb, rate, facts.recognition_threshold(profile))
    _questions_sheet(wb, cv, profile)
    _ledger_sheet(wb, cv.ledger_dicts, school_names(cv))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _resources_sheet(wb, view: dict, names: dict) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference

    ws = wb.create_sheet("资源配置")
    inds = list(N.INDICATORS)
    _widths(ws, [10, 24, 8, 10, *[12] * len(inds), 8, 8])
    _append(ws, ["学校代码", "学校名称", "学段", "学生数", *(f"{i} {N.INDICATORS[i]}" for i in inds), "达标项",
                 "达标"], bold=True)
    for st in view["stages"]:
        for r in st["rows"]:
            _append(ws, [r["code"], r["name"], st["name"], r["students"], *(_shown(c["text"]) for c in r["cells"]),
                     f"{r['met']}/7", "是" if r["passed"] else "否"],
                    {4 + i: NUMBER for i in range(len(inds))})
    _append(ws, [])
    for st in view["stages"]:
        _append(ws, [f"{st['name']}校际差异系数", "指标", "差异系数", "上限", "结果"], bold=True)
        first = ws.max_row + 1
        for c in st["cvs"]:
            _append(ws, ["", f"{c['ind']} {N.INDICATORS[c['ind']]}", _shown(c["text"]), st["cap"],
                         "达标" if c["passed"] else "超过上限"], {2: CV_FORMAT, 3: "0.00"})
        last = ws.max_row
        bars = BarChart()
        bars.title = f"{st['name']}校际差异系数与上限"
        bars.y_axis.title = "差异系数"
        bars.y_axis.number_format = "0.00"
        bars.add_data(Reference(ws, min_col=3, min_row=first - 1, max_row=last), titles_from_data=True)
        bars.set_categories(Reference(ws, min_col=2, min_row=first, max_row=last))
        cap = LineChart()
        cap.add_data(Reference(ws, min_col=4, min_row=first - 1, max_row=last), titles_from_data=True)
        bars += cap
        bars.width, bars.height = 22, 9
        ws.add_chart(bars, f"H{first - 1}")
        for _ in range(12):                     # room for the chart beside the table
            _append(ws, [])


def _groups_sheet(wb, rate, threshold: float) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference

    ws = wb.create_sheet("答卷汇总")
    _widths(ws, [12, 12, 12, 12, 10, 10])
    _append(ws, ["群体", "有效份数", "评分份数", "认可度", "权重", "达标线"], bold=True)
    for g, gr in rate.groups.items():
        weight = rate.weights.get(g)
        _append(ws, [N.GROUPS[g], gr.n, gr.rated, _shown(display.percent(gr.rate)),
                     None if weight is None else round(weight, 3), threshold],
                {3: PERCENT, 4: "0.000", 5: "0%"})
    last = ws.max_row
    rates = [gr.rate for gr in rate.groups.values() if gr.rate is not None]
    chart = BarChart()
    chart.title = f"各群体认可度与达标线 {threshold:.0%}"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0.5 if all(r >= 0.55 for r in rates) else 0   # the differences stay visible
    chart.y_axis.scaling.max = 1
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    line = LineChart()
    line.add_data(Reference(ws, min_col=6, min_row=1, max_row=last), titles_from_data=True)
    chart += line
    chart.width, chart.height = 20, 9
    ws.add_chart(chart, "H2")
    _append(ws, [])
    _append(ws, ["收集", rate.collected])
    _append(ws, ["有效", rate.valid])
    for k, n in rate.invalid.items():
        _append(ws, [f"无效：{N.INVALID[k]}", n])


def _questions_sheet(wb, cv: CountyVerdict, profile) -> None:
    """Each item × group (and all groups): counts of each option among valid answers, the rate."""
    ws = wb.create_sheet("各题认可情况")
    k = min_cell_size(profile)
    _widths(ws, [18, 10, 10, *[9] * len(N.OPTIONS), 10])
    _append(ws, ["题目", "群体", "有效份数", *N.OPTIONS.values(), "认可度"], bold=True)
    for row in cv.questions:
        for g in (TOTAL, *N.GROUPS):
            cell = row.cells[g]
            name = "全部" if g == TOTAL else N.GROUPS[g]
            if cell.counts is None:
                _append(ws, [N.ITEMS[row.item], name, cell.n, f"少于 {k} 份等原因，不显示"])
                continue
            _append(ws, [N.ITEMS[row.item], name, cell.n, *cell.counts.values(), _shown(display.percent(cell.rate))],
                    {3 + len(N.OPTIONS): PERCENT})
    _append(ws, [])
    _append(ws, [f"认可度：满意、比较满意、基本满意占作答“不了解”以外答卷的比例；答卷少于 {k} 份的群体不显示分布"
                 "（为免由合计反推，必要时再隐去一个最小的群体）。"])


def overview_xlsx(rows: list[dict], now_text) -> bytes:
    """The province overview (presenters.overview_rows) as one sheet, figures as the page shows
    them; ``now_text`` formats an upload time in China's time."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "全省概览"
    _widths(ws, [14, 10, 10, 12, 10, 12, 24, 10, 18, 10, 10, 10, 10, 10, 20])
    _append(ws, ["县", "结论", *PART_NAMES.values(), N.PARTS["veto"], "认可度", "95% 区间", "单侧下限", "有效答卷",
                 "应调查", "调查进度", "指标表版本", "最近上传"], bold=True)
    for r in rows:
        if r["passed"] is None:
            conclusion = r["error"] or "未上传指标表"
        else:
            conclusion = N.PASSED[r["passed"]]
        parts = [N.PASSED[r["parts"][k]] if k in r["parts"] else "" for k in PART_NAMES]
        _append(ws, [r["county"], conclusion, *parts, "、".join(N.VETO_ITEMS[k] for k in r["veto"]),
                     _shown(r.get("rate_text") or "—"), r.get("ci_text") or "—", _shown(r.get("lower_text") or "—"),
                     r["valid"], r["required"], None if r["progress"] is None else round(r["progress"], 3),
                     f"第 {r['version']} 版" if r["version"] else "", now_text(r["uploaded"]) if r["uploaded"] else ""],
                {7: PERCENT, 9: PERCENT, 12: "0%"})
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
