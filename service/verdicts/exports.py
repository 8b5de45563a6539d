"""Exports of a county's verdict: JSON (verdict.md + ledger), .xlsx (a sheet per part, the
ledger, the responses summary), and the ledger alone as CSV/.xlsx. Unrounded numbers: rounding
is for display only."""

import csv
import io
import json
from typing import Any

from scoring import names as N
from scoring.guarantee import NAMES as G_NAMES
from scoring.quality import NAMES as Q_NAMES
from scoring.resources import INDICATOR_NAMES, STAGE_NAMES

from service.verdicts.pipeline import CountyVerdict

PART_NAMES = {k: N.PARTS[k] for k in ("resources", "guarantee", "quality", "recognition")}
GROUP_NAMES = N.GROUPS
STATUS_NAMES = N.RATE_STATUS
LEDGER_COLUMNS = ("rule", "school_code", "stage", "indicator", "column", "increase", "key", "target", "group",
                  "location", "band", "item", "responses", "rate", "n", "reason")
LEDGER_HEADERS = {"rule": "规则", "school_code": "学校代码", "stage": "学段", "indicator": "指标", "column": "列",
                  "increase": "增加量", "key": "键", "target": "目标值", "group": "群体", "location": "城乡",
                  "band": "年级段", "item": "题目", "responses": "需增加有效答卷", "rate": "认可度", "n": "n",
                  "reason": "说明"}
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


def ledger_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LEDGER_COLUMNS)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in LEDGER_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")   # BOM: Excel opens UTF-8 CSVs correctly


def _ledger_sheet(wb, rows: list[dict]) -> None:
    ws = wb.create_sheet("短板台账")
    ws.append([LEDGER_HEADERS[c] for c in LEDGER_COLUMNS])
    ws.append(list(LEDGER_COLUMNS))
    for r in rows:
        ws.append([_cell(r.get(c)) for c in LEDGER_COLUMNS])


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def ledger_xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    _ledger_sheet(wb, rows)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def verdict_xlsx(cv: CountyVerdict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    d = cv.verdict.to_dict()
    parts = d["parts"]
    wb = Workbook()
    ws = wb.active
    ws.title = "总览"
    ws.append(["县", d["county"]])
    ws.append(["评估方案", d["profile"]])
    ws.append(["结论", "达标" if d["passed"] else "未达标"])
    ws.append(["未达标部分", "、".join(PART_NAMES[p] for p in d["failed_parts"])])
    ws.append(["前置条件", d["precondition"]["status"], d["precondition"].get("reason", "")])
    ws.append(["一票否决", "、".join(d["veto"]["triggered"]), d["veto"].get("reason", "")])
    for key, name in PART_NAMES.items():
        ws.append([name, "达标" if parts[key]["passed"] else "未达标"])
    ws.append(["指标表版本", cv.version.version, cv.version.filename, cv.version.sha256])
    ws["A1"].font = Font(bold=True)

    res = parts["resources"]
    ws = wb.create_sheet("资源配置")
    ws.append(["学校代码", "学段", "学生数", *INDICATOR_NAMES, "达标项", "达标", "说明"])
    for s in res["sections"]:
        ws.append([s["school_code"], STAGE_NAMES.get(s["stage"], s["stage"]), s["students"],
                   *[s["values"].get(i) for i in INDICATOR_NAMES], "、".join(s["met"]),
                   "是" if s["passed"] else "否", s.get("reason", "")])
    ws.append([])
    ws.append(["学段", "指标", "差异系数", "达标", "说明"])
    for stage, values in res["cv"].items():
        for ind, value in values.items():
            ws.append([STAGE_NAMES.get(stage, stage), ind, value, "是" if res["cv_passed"][stage][ind] else "否",
                       res.get("cv_reasons", {}).get(stage, {}).get(ind, "")])

    for key, names in (("guarantee", G_NAMES), ("quality", Q_NAMES)):
        ws = wb.create_sheet(PART_NAMES[key])
        ws.append(["项目", "名称", "达标", "说明", "未达标学校"])
        for code, item in parts[key]["items"].items():
            ws.append([code, names.get(code, ""), "是" if item["passed"] else "否", item.get("reason", ""),
                       "、".join(item.get("schools", []))])

    rec = parts["recognition"]
    ws = wb.create_sheet("社会认可度")
    ws.append(["状态", STATUS_NAMES.get(rec["status"], rec["status"]), "达标" if rec["passed"] else "未达标"])
    ws.append(["加权认可度", rec["rate"]])
    ws.append(["合并认可度", rec["pooled_rate"]])
    ws.append(["95% 区间下限", *(rec["ci95"] or [None, None])[:1]])
    ws.append(["95% 区间上限", *(rec["ci95"] or [None, None])[1:]])
    ws.append(["单侧 95% 下限", rec["lower_bound_95"]])
    ws.append(["收集", rec["collected"]])
    ws.append(["有效", rec["valid"]])
    for k, v in rec["invalid"].items():
        ws.append([f"无效：{k}", v])
    ws.append(["说明", rec.get("reason", "")])
    ws.append([])
    ws.append(["检查", "通过", "数据", "说明"])
    for code, c in rec["checks"].items():
        figures = {k: v for k, v in c.items() if k not in ("passed", "reason")}
        ws.append([code, "是" if c["passed"] else "否", json.dumps(figures, ensure_ascii=False),
                   c.get("reason", "")])

    ws = wb.create_sheet("答卷汇总")
    ws.append(["群体", "键", "有效份数 n", "评分份数", "认可度 p_g", "权重"])
    for g, v in rec["groups"].items():
        ws.append([GROUP_NAMES.get(g, g), g, v["n"], v.get("rated"), v["rate"], rec.get("weights", {}).get(g)])
    ws.append([])
    ws.append(["收集", rec["collected"]])
    ws.append(["有效", rec["valid"]])
    for k, v in rec["invalid"].items():
        ws.append([k, v])
    if cv.campaign is not None:
        ws.append(["调查", cv.campaign.name, cv.campaign.id])

    _ledger_sheet(wb, cv.ledger_dicts)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
