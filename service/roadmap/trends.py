"""Trends across a county's surveys (the monitoring page): each real (not test) campaign's rate
with its interval, group rates and item shares side by side, as an SVG chart and a table, with
the change since the survey before and whether it exceeds the noise (``scoring.trends``).

Each campaign's figures come from the SQL sums the verdict reads
(``verdicts.pipeline.campaign_aggregate``), kept per campaign and profile: a closed survey is
read once. Group rates and item shares of fewer than the minimum cell size of answers are not
shown (``scoring.privacy``), as on the verdict's per-question table."""

from html import escape

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from scoring import names as N
from scoring.privacy import min_cell_size
from scoring.trends import latest_change, survey_figures
from service.db.models import Campaign, School
from service.verdicts.charts import FONT
from service.verdicts.pipeline import campaign_aggregate
from service.web.clock import CHINA

CHART_W, CHART_H = 680, 240
SPARK_W, SPARK_H = 120, 30


def _campaigns(session: Session, county: str) -> list[Campaign]:
    return list(session.exec(select(Campaign).options(defer(Campaign.templates))
                             .where(Campaign.county_name == county, Campaign.is_test.is_(False))
                             .order_by(Campaign.opens_at, Campaign.id)))


def _school_codes(session: Session, campaign_id: int) -> set[str]:
    return set(session.exec(select(School.school_code).where(School.campaign_id == campaign_id)).all())


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _points(value: float) -> str:
    """A difference of shares in percentage points, signed (a minus sign, not a hyphen)."""
    pts = value * 100
    return f"{'+' if pts >= 0 else '−'}{abs(pts):.1f} 个百分点"


def change_cell(c) -> dict | None:
    """What the table shows of a ``scoring.trends.Change``."""
    if c is None:
        return None
    if c.exceeds_noise is None:
        verdict, css = "样本过少，无法判断是否超出抽样误差", ""
    elif c.exceeds_noise:
        verdict, css = "超出抽样误差", "ok" if c.difference > 0 else "fail"
    else:
        verdict, css = "在抽样误差之内", ""
    interval = None if c.ci95 is None else f"95% 区间 {_points(c.ci95[0])} 至 {_points(c.ci95[1])}"
    return {"text": _points(c.difference), "verdict": verdict, "css": css, "interval": interval}


def rate_chart(columns: list[dict], threshold: float) -> str:
    """The rate of each survey as a dot with its 95 % interval, joined in time order, against
    the threshold (dashed). columns: {"label", "title", "rate", "ci95"}."""
    left, right, top, bottom = 48, 16, 16, 40
    known = [c for c in columns if c["rate"] is not None]
    lows = [c["ci95"][0] if c["ci95"] else c["rate"] for c in known] + [threshold]
    lo_axis = max(0.0, int((min(lows) - 0.05) * 20) / 20)
    inner_w, inner_h = CHART_W - left - right, CHART_H - top - bottom
    step = inner_w / max(len(columns), 1)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(v: float) -> float:
        return top + inner_h * (1 - (min(max(v, lo_axis), 1.0) - lo_axis) / (1 - lo_axis))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{CHART_W}" height="{CHART_H}" '
           f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="历次调查的认可度及 95% 区间" {FONT} font-size="11">']
    grid = 0.05 if 1 - lo_axis <= 0.3 else 0.1
    k = 0
    while lo_axis + k * grid <= 1.0 + 1e-9:
        v = lo_axis + k * grid
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{CHART_W - right}" y2="{y(v):.1f}" stroke="#e3e6ea" />'
                   f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0%}</text>')
        k += 1
    out.append(f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{CHART_W - right}" y2="{y(threshold):.1f}" '
               f'stroke="#c62828" stroke-dasharray="4,3" /><text x="{CHART_W - right}" y="{y(threshold) - 4:.1f}" '
               f'text-anchor="end" fill="#c62828">达标线 {threshold:.0%}</text>')
    line = " ".join(f"{x(i):.1f},{y(c['rate']):.1f}" for i, c in enumerate(columns) if c["rate"] is not None)
    out.append(f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="1.5" />')
    for i, c in enumerate(columns):
        out.append(f'<text x="{x(i):.1f}" y="{CHART_H - bottom + 16}" text-anchor="middle">{escape(c["label"])}</text>')
        if c["rate"] is None:
            out.append(f'<text x="{x(i):.1f}" y="{top + inner_h / 2:.1f}" text-anchor="middle" fill="#667">无有效答卷</text>')
            continue
        lo, hi = c["ci95"] if c["ci95"] else (c["rate"], c["rate"])
        colour = "#2e7d32" if lo >= threshold else ("#ef6c00" if c["rate"] >= threshold else "#c62828")
        out.append(f'<g><title>{escape(c["title"])}：{_pct(c["rate"])}（95% 区间 {_pct(lo)}–{_pct(hi)}）</title>'
                   f'<line x1="{x(i):.1f}" y1="{y(lo):.1f}" x2="{x(i):.1f}" y2="{y(hi):.1f}" stroke="{colour}" stroke-width="2" />'
                   + "".join(f'<line x1="{x(i) - 5:.1f}" y1="{y(e):.1f}" x2="{x(i) + 5:.1f}" y2="{y(e):.1f}" '
                             f'stroke="{colour}" stroke-width="2" />' for e in (lo, hi))
                   + f'<circle cx="{x(i):.1f}" cy="{y(c["rate"]):.1f}" r="4" fill="{colour}" />'
                   f'<text x="{x(i) + 8:.1f}" y="{y(c["rate"]) + 4:.1f}">{_pct(c["rate"])}</text></g>')
    out.append("</svg>")
    return "".join(out)


def sparkline(values: list[float | None], label: str) -> str:
    """A small SVG line of shares over the surveys, scaled to their own range."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    lo, hi = min(known), max(known)
    span = max(hi - lo, 0.02)
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 4 + (SPARK_W - 8) * i / n, SPARK_H - 4 - (SPARK_H - 8) * (v - lo) / span

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values) if v is not None))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{SPARK_W}" height="{SPARK_H}" '
            f'viewBox="0 0 {SPARK_W} {SPARK_H}" role="img" aria-label="{escape(label)}">'
            f'<polyline points="{path}" fill="none" stroke="#1565c0" stroke-width="1.5"/></svg>')


def survey_trends(session: Session, county: str, profile) -> dict:
    """The county's real campaigns in time order with their figures, the chart and the table rows."""
    k = min_cell_size(profile)
    threshold = float(profile.recognition["recognition_threshold"])
    z = float(profile.recognition["z_two_sided_95"])
    surveys, figures, skipped = [], [], []
    for campaign in _campaigns(session, county):
        answers, aggregate = campaign_aggregate(session, campaign.id, profile, _school_codes(session, campaign.id))
        if aggregate is None:
            skipped.append({"campaign": campaign, "why": "尚无答卷" if not answers else "答卷中有无法识别的取值"})
            continue
        f = survey_figures(aggregate, profile)
        if f.rate.value is None:
            skipped.append({"campaign": campaign, "why": "尚无有效的评分答卷"})
            continue
        year = campaign.opens_at.astimezone(CHINA).year
        surveys.append({"campaign": campaign, "year": year, "label": f"{year} 年", "figures": f,
                        "title": f"{year} 年 {campaign.name}"})
        figures.append(f)
    if not surveys:
        return {"surveys": [], "skipped": skipped}
    if len({s["year"] for s in surveys}) < len(surveys):     # two surveys in a year: tell them apart
        for i, s in enumerate(surveys, 1):
            s["label"] = f"{s['year']} 年（第 {i} 次）"
    delta = latest_change(figures, z)

    def row(name: str, estimates: list, c, shown) -> dict:
        values = [e.value if shown(e) else None for e in estimates]
        return {"name": name, "cells": [{"value": _pct(v) if shown(e) else f"少于 {k} 份，不显示",
                                         "n": e.n, "hidden": not shown(e)} for v, e in zip(values, estimates)],
                "change": change_cell(c) if all(shown(e) for e in estimates[-2:]) else None,
                "svg": sparkline(values, f"{name}历次调查")}

    def enough(e) -> bool:
        return e.value is not None and e.n >= k

    rate_row = row("认可度", [f.rate for f in figures], delta and delta["rate"], lambda e: e.value is not None)
    rate_row["intervals"] = [f"{_pct(f.ci95[0])}–{_pct(f.ci95[1])}" if f.ci95 else "—" for f in figures]
    groups = [row(N.GROUPS[g], [f.groups[g] for f in figures], delta and delta["groups"][g], enough)
              for g in N.GROUPS if any(f.groups[g].value is not None for f in figures)]
    items = [row(N.ITEMS[i], [f.items[i] for f in figures], delta and delta["items"][i], enough) for i in N.ITEMS]
    chart = rate_chart([{"label": s["label"], "title": s["title"], "rate": s["figures"].rate.value,
                         "ci95": s["figures"].ci95} for s in surveys], threshold)
    return {"surveys": surveys, "skipped": skipped, "chart": chart, "rate_row": rate_row, "group_rows": groups,
            "item_rows": items, "has_change": delta is not None, "k": k, "z": z,
            "status": [N.RATE_STATUS[f.status] for f in figures],
            "recognised": "、".join(N.OPTIONS[o] for o in profile.recognition["recognised"])}


def province_trends(session: Session, counties: list[str], profile) -> dict:
    """Every county's surveys side by side (the province's view of ``survey_trends``): per county
    and survey year the rate with its interval, the latest change and whether it exceeds the
    noise, and a sparkline; counties without a survey are listed apart. Two surveys of one year
    show the later one (the table has one column a year)."""
    rows, without = [], []
    for county in sorted(counties):
        t = survey_trends(session, county, profile)
        if not t["surveys"]:
            without.append(county)
            continue
        by_year = {}
        for s, interval in zip(t["surveys"], t["rate_row"]["intervals"]):
            by_year[s["year"]] = {"rate": _pct(s["figures"].rate.value), "interval": interval,
                                  "status": N.RATE_STATUS[s["figures"].status], "name": s["campaign"].name}
        rows.append({"county": county, "by_year": by_year, "change": t["rate_row"]["change"],
                     "svg": t["rate_row"]["svg"], "surveys": len(t["surveys"])})
    years = sorted({y for r in rows for y in r["by_year"]})
    return {"rows": rows, "years": years, "without": without, "z": float(profile.recognition["z_two_sided_95"])}
