"""A readable Chinese text report of a verdict."""

from . import display, names
from .guarantee import NAMES as G_NAMES
from .profile import GROUPS, INDICATORS, LOCATIONS
from .quality import NAMES as Q_NAMES
from .recognition import FORECAST_CAVEAT, SCHOOL_GROUPS, forecast_sentence, no_forecast_sentence
from .resources import STAGE_NAMES
from .sampling import GROUP_NAMES, CheckResult
from .verdict import STATUS_NAMES, VETO_NAMES, Verdict
from .whatif import PLAIN, WhatIf, drag_text, headline, row_text

PART_NAMES = {"resources": "资源配置", "guarantee": "政府保障程度", "quality": "教育质量", "recognition": "社会认可度"}
CHECK_NAMES = {"S1": "样本量", "S2": "家长占比", "S3": "其他群体均衡", "S4": "城乡结构", "S5": "有效率",
               "S6": "学校覆盖", "S7": "学段均衡"}


MAX_SCHOOLS_LISTED = 10  # S6 names this many schools, then counts the rest


def describe_check(code: str, check: CheckResult) -> str:
    """What an S1–S7 check measured, as a short Chinese sentence with display-rounded figures
    (the 数据 column of the page, the report and verdict.xlsx)."""
    f, ok = check.figures, check.passed
    if code == "S1":
        return f"有效样本 {f['actual']} 份，应调查 {f['required']} 份"
    if code == "S2":
        return f"家长问卷 {f['parents']} 份，占有效样本 {display.percent(f['share'], passed=ok)}"
    if code == "S3":
        counts = "、".join(f"{names.GROUPS[g]} {n} 份" for g, n in f["counts"].items())
        return f"{counts}；平均 {f['mean']:.1f} 份"
    if code == "S4":
        def shares(values):
            return "、".join(f"{names.LOCATIONS[loc]} {display.percent(values[loc])}" for loc in LOCATIONS)
        return (f"样本 {shares(f['sample_shares'])}；人口 {shares(f['population_shares'])}；"
                f"最大偏差 {display.percent(f['max_deviation'], passed=ok, rule='max')}")
    if code == "S5":
        return (f"回收 {f['collected']} 份，有效 {f['valid']} 份，"
                f"有效率 {display.percent(f['rate'], passed=ok)}")
    if code == "S6":
        missing = list(f["missing"])
        if not missing:
            return "每所学校都有学生、家长、教师的有效问卷"
        listed = "、".join(missing[:MAX_SCHOOLS_LISTED]) + (f" 等 {len(missing)} 所" if len(missing) > MAX_SCHOOLS_LISTED else "")
        return f"{len(missing)} 所学校问卷不足：{listed}"
    if code == "S7":
        bands = f["bands"]
        if not bands:
            return "没有应调查的年级段"
        return "、".join(f"{names.BANDS[b]} {n} 份" for b, n in bands.items())
    raise ValueError(f"describe_check: no check {code}")


def _mark(passed: bool) -> str:
    return "✔ 达标" if passed else "✘ 未达标"


WHAT_IF_ROWS = 10  # the cheapest rows of the what-if; the pages show the rest


def render_text(v: Verdict, what_if: "WhatIf | None" = None) -> str:
    lines = [f"{v.county} 义务教育优质均衡发展评估（{names.PROFILES.get(v.profile, v.profile)}）",
             f"结论：{'达到优质均衡' if v.passed else '未达到优质均衡'}"]
    if v.failed_parts:
        lines.append("未达标部分：" + "、".join(PART_NAMES[p] for p in v.failed_parts))
    pre = {"passed": "满足", "failed": "不满足", "unchecked": "未核验"}[v.precondition.status]
    lines.append(f"前置条件（基本均衡满 3 年）：{pre}" + (f"（{v.precondition.reason}）" if v.precondition.reason else ""))
    lines.append("一票否决：" + ("、".join(f"{k} {VETO_NAMES[k]}" for k in v.veto) if v.veto else "无"))

    r = v.resources
    lines += ["", f"一、资源配置：{_mark(r.passed)}",
              f"  学校学段 {len(r.sections)} 个，达标 {sum(s.passed for s in r.sections)} 个"]
    lines += [f"  ✘ {s.school_code} {s.reason}" for s in r.sections if not s.passed]
    for stage, cvs in r.cv.items():
        cells = [f"{ind} {display.cv(cvs[ind], passed=r.cv_passed[stage][ind]) if cvs[ind] is not None else '—'}"
                 + ("" if r.cv_passed[stage][ind] else "✘") for ind in INDICATORS]
        lines.append(f"  {STAGE_NAMES[stage]}校际差异系数：" + "  ".join(cells))
    lines += [f"  ✘ {reason}" for stage in r.cv_reasons.values() for reason in stage.values()]

    for title, part, item_names in (("二、政府保障程度", v.guarantee, G_NAMES), ("三、教育质量", v.quality, Q_NAMES)):
        passed_count = sum(i.passed for i in part.items.values())
        lines += ["", f"{title}：{_mark(part.passed)}（{passed_count}/{len(part.items)} 项达标）"]
        lines += [f"  ✘ {code} {item.reason or item_names[code]}" for code, item in part.items.items() if not item.passed]

    rec, rate = v.recognition, v.recognition.rate
    lines += ["", f"四、社会认可度：{_mark(rec.passed)}（{STATUS_NAMES[rate.status]}）"]
    if rate.rate is not None:
        ok = rate.status != "fail"
        lines.append(f"  加权认可度 {display.percent(rate.rate, passed=ok)}，汇总认可度 {display.percent(rate.pooled_rate)}")
        lines.append(f"  95% 置信区间 {display.percent(rate.ci95[0])}–{display.percent(rate.ci95[1])}，"
                     f"单侧下限 {display.percent(rate.lower_bound_95, passed=rate.status == 'robust_pass')}（近似）")
        # The bureau reads what the interval means, not its formula.
        lines.append("  说明：同一所学校的答卷彼此相关（同一位校长、同一条家长群通知），区间按学校分组计算；"
                     "它只反映抽样的偶然误差，扫码参与者是否有代表性不在其中。")
        if rate.thin_groups:
            lines.append("  样本偏少的群体：" + "、".join(GROUP_NAMES[g] for g in rate.thin_groups)
                         + "（其结果偶然性大，补足之前不能判定稳健达标）")
    lines.append(f"  回收 {rate.collected} 份，有效 {rate.valid} 份；无效：未答完 {rate.invalid['incomplete']}、"
                 f"重复 {rate.invalid['duplicate']}、用时过短 {rate.invalid['speeder']}")
    groups = [f"{GROUP_NAMES[g]} {rate.groups[g].n} 份"
              + (f"（{rate.groups[g].clusters} 所学校）" if g in SCHOOL_GROUPS and rate.groups[g].rated else "")
              + (f" {display.percent(rate.groups[g].rate)}" if rate.groups[g].rate is not None else "") for g in GROUPS]
    lines.append("  " + "；".join(groups))
    for code, check in rec.checks.items():
        lines.append(f"  {code} {CHECK_NAMES[code]}：{_mark(check.passed)}（{describe_check(code, check)}）"
                     + (f"  {check.reason}" if check.reason else ""))
    if rate.ci95_srs is not None:
        lines.append(f"  注：若把每份答卷都当作相互独立（全国方法的简单算法），95% 区间为 "
                     f"{display.percent(rate.ci95_srs[0])}–{display.percent(rate.ci95_srs[1])}，"
                     f"单侧下限 {display.percent(rate.lower_bound_95_srs)}；同校答卷相关时它会偏窄，仅供对照。")
    if rec.reason and not rec.checks:
        lines.append(f"  ✘ {rec.reason}")
    forecast = rec.official_forecast
    lines.append("  正式调查预测：" + (forecast_sentence(forecast) if forecast
                                   else no_forecast_sentence(rate)))
    if forecast:
        lines.append(f"  说明：{FORECAST_CAVEAT}")
    if forecast and what_if is not None and what_if.applies:
        lines.append(f"  补充答卷：{headline(what_if)}")
        for row in what_if.rows[:WHAT_IF_ROWS]:
            where = f"{row.school_code} 的{GROUP_NAMES[row.group]}" if row.school_code else GROUP_NAMES[row.group]
            lines.append(f"    · {where}：{row_text(row)}")
        if what_if.rows:
            lines.append(f"    {PLAIN}")
        if what_if.drags:
            lines.append("  拉低期望认可度的群体：")
            lines += [f"    · {drag_text(d)}" for d in what_if.drags]
    if v.warnings:
        lines += ["", "提示："] + [f"  · {w}" for w in v.warnings]
    return "\n".join(lines) + "\n"
