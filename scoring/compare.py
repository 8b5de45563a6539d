"""Two workbook versions of a county side by side, as a bureau reads them: what the verdict does
differently (a part, a rule, a section, a difference coefficient), then every changed field by its
Chinese name with its old and new value and what it changes in the verdict -- the changes that
move the verdict first.

Pure: the two versions' workbooks and verdicts in, frozen rows out; the page only renders them.
"""

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import names as N
from .county_keys import key_label
from .roadmap import column_rule
from .workbook import SCHOOL_COLUMNS, Workbook

PASSED = {True: "达标", False: "未达标"}


@dataclass(frozen=True)
class VerdictChange:
    """A result the two versions give differently: ``what`` (a part, a rule, a school's section,
    a coefficient), its result in the old and the new version."""

    what: str
    old: str
    new: str
    rule: str        # the rule codes it belongs to, comma-separated ("" for the whole verdict or a part)


@dataclass(frozen=True)
class FieldChange:
    """One field whose value differs: where (a school or 县域), the field's Chinese name, the two
    values as text, the rule it feeds and the verdict changes of that rule (empty: none)."""

    place: str
    field: str
    old: str
    new: str
    rule: str
    effects: tuple[str, ...]

    @property
    def moves_verdict(self) -> bool:
        return bool(self.effects)


@dataclass(frozen=True)
class Comparison:
    verdict: tuple[VerdictChange, ...]
    fields: tuple[FieldChange, ...]      # those moving the verdict first, then in workbook order


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if not float(value).is_integer() else f"{int(value):,}"
    return str(value)


def _same(x: Any, y: Any) -> bool:
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (x, y)]
    if any(missing):
        return all(missing)
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        return abs(float(x) - float(y)) <= 1e-9
    return x == y


def _rule_text(code: str) -> str:
    return f"{code} {N.label(code)}" if N.label(code) != code else code


def verdict_changes(a: dict, b: dict, names: dict[str, str]) -> tuple[VerdictChange, ...]:
    """Results that differ between two verdicts (``Verdict.to_dict``), the whole first."""
    out = []
    if a["passed"] != b["passed"]:
        out.append(VerdictChange("评估结论", "通过" if a["passed"] else "未通过", "通过" if b["passed"] else "未通过", ""))
    for part in ("resources", "guarantee", "quality", "recognition"):
        pa, pb = a["parts"][part], b["parts"][part]
        if pa.get("passed") != pb.get("passed"):
            out.append(VerdictChange(N.PARTS[part], PASSED.get(pa.get("passed"), "待提供"),
                                     PASSED.get(pb.get("passed"), "待提供"), ""))
    sa = {(s["school_code"], s["stage"]): s for s in a["parts"]["resources"].get("sections", [])}
    sb = {(s["school_code"], s["stage"]): s for s in b["parts"]["resources"].get("sections", [])}
    for key in [*sa, *(k for k in sb if k not in sa)]:
        x, y = sa.get(key), sb.get(key)
        where = f"{key[0]} {names.get(key[0], '')}".strip() + f" {N.STAGES.get(key[1], key[1])}部"
        shown = [f"{len(s['met'])}/7 项达标" if s else "不在本版" for s in (x, y)]
        if (x or {}).get("passed") != (y or {}).get("passed") or sorted((x or {}).get("met", [])) != sorted((y or {}).get("met", [])):
            rules = sorted(set((x or {}).get("met", [])) ^ set((y or {}).get("met", [])))
            out.append(VerdictChange(where + "资源配置" + ("（" + "、".join(rules) + "）" if rules else ""),
                                     shown[0], shown[1], ",".join(rules) or "R"))
    ca, cb = a["parts"]["resources"].get("cv_passed", []), b["parts"]["resources"].get("cv_passed", [])
    for stage in N.STAGES:
        if (stage in ca) != (stage in cb) and (stage in a["parts"]["resources"].get("cv", []) or
                                               stage in b["parts"]["resources"].get("cv", [])):
            out.append(VerdictChange(f"{N.STAGES[stage]}校际差异系数", PASSED[stage in ca], PASSED[stage in cb], "CV"))
    for part in ("guarantee", "quality"):
        ia, ib = a["parts"][part].get("items", {}), b["parts"][part].get("items", {})
        for code in ia:
            if code in ib and ia[code]["passed"] != ib[code]["passed"]:
                out.append(VerdictChange(_rule_text(code), PASSED[ia[code]["passed"]], PASSED[ib[code]["passed"]], code))
    va, vb = set(a["veto"]["triggered"]), set(b["veto"]["triggered"])
    for code in sorted(va ^ vb):
        out.append(VerdictChange(f"一票否决 {_rule_text(code)}", "触发" if code in va else "未触发",
                                 "触发" if code in vb else "未触发", code))
    return tuple(out)


def _effects(rule: str, school: str | None, changes: tuple[VerdictChange, ...], names: dict[str, str]) -> tuple[str, ...]:
    """The verdict changes a field of ``rule`` (at ``school``) takes part in."""
    hits = []
    for c in changes:
        codes = c.rule.split(",")
        at_school = bool(school) and c.what.startswith(school)
        if rule.startswith("R") and (c.rule == "CV" or (at_school and rule in codes)):
            hits.append(c)          # an R input moves its indicator at that school and the CVs
        elif rule == "G4" and (c.rule == "CV" or c.rule == "G4" or (at_school and codes[0].startswith("R"))):
            hits.append(c)          # enrolment is every per-student indicator's denominator
        elif c.rule == rule:
            hits.append(c)
    return tuple(f"{c.what}：{c.old} → {c.new}" for c in hits)


def compare_versions(wa: Workbook, wb: Workbook, va: dict, vb: dict) -> Comparison:
    """Version A (older) against version B, verdicts as ``Verdict.to_dict``."""
    names = {**dict(zip(wa.schools["school_code"].astype(str), wa.schools["school_name"].astype(str))),
             **dict(zip(wb.schools["school_code"].astype(str), wb.schools["school_name"].astype(str)))}
    changes = verdict_changes(va, vb, names)
    fields: list[FieldChange] = []
    sa = wa.schools.set_index(wa.schools["school_code"].astype(str))
    sb = wb.schools.set_index(wb.schools["school_code"].astype(str))
    for code in [*sa.index, *(c for c in sb.index if c not in sa.index)]:
        place = f"{code} {names.get(code, '')}".strip()
        if code not in sb.index or code not in sa.index:
            gone = code not in sb.index
            fields.append(FieldChange(place, "学校", "在名单中" if gone else "—", "—" if gone else "新增",
                                      "", _effects("R", place, changes, names)))
            continue
        for column, label in SCHOOL_COLUMNS.items():
            if column == "school_code" or column not in sa.columns or column not in sb.columns:
                continue
            x, y = sa.at[code, column], sb.at[code, column]
            x, y = (None if pd.isna(v) else v for v in (x, y))
            if not _same(x, y):
                rule = column_rule(column) if column not in ("school_name", "school_type", "location") else ""
                fields.append(FieldChange(place, label, _text(x), _text(y), _rule_text(rule) if rule else "",
                                          _effects(rule, place, changes, names) if rule else ()))
    for key in dict.fromkeys([*wa.county, *wb.county]):
        x, y = wa.county.get(key), wb.county.get(key)
        if not _same(x, y):
            rule = column_rule(key)
            fields.append(FieldChange("县域", key_label(key), _text(x), _text(y),
                                      _rule_text(rule) if rule != "default" else "",
                                      _effects(rule, None, changes, names) if rule != "default" else ()))
    for key in dict.fromkeys([*wa.veto, *wb.veto]):
        if bool(wa.veto.get(key)) != bool(wb.veto.get(key)):
            fields.append(FieldChange("一票否决", _rule_text(key), _text(bool(wa.veto.get(key))),
                                      _text(bool(wb.veto.get(key))), _rule_text(key),
                                      _effects(key, None, changes, names)))
    ordered = sorted(fields, key=lambda f: not f.moves_verdict)   # stable: workbook order otherwise
    return Comparison(changes, tuple(ordered))
