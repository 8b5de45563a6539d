"""Server-rendered SVG charts (no JavaScript; printable). Figures come from the verdict."""

import math
from html import escape

FONT = 'font-family="PingFang SC, Microsoft YaHei, sans-serif"'


def cv_bars(rows: list[tuple[str, float | None, float]], width: int = 420) -> str:
    """Horizontal bars of CVs, each against its cap (a dashed tick). rows: (label, cv, cap)."""
    bar_h, gap, left, right = 16, 6, 34, 60
    top = 6
    scale_max = max([c for _, c, _ in rows if c is not None] + [cap for _, _, cap in rows] + [0.01]) * 1.15
    inner = width - left - right
    height = top + len(rows) * (bar_h + gap) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="差异系数与上限" {FONT} font-size="11">']
    for i, (label, value, cap) in enumerate(rows):
        y = top + i * (bar_h + gap)
        over = value is not None and value > cap
        w = 0 if value is None else inner * value / scale_max
        colour = "#c62828" if over else "#2e7d32"
        out.append(f'<text x="0" y="{y + 12}">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}" />')
        cx = left + inner * cap / scale_max
        out.append(f'<line x1="{cx:.1f}" y1="{y - 2}" x2="{cx:.1f}" y2="{y + bar_h + 2}" stroke="#333" '
                   f'stroke-dasharray="3,2" />')
        text = "—" if value is None else f"{value:.3f}"
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 12}">{text}</text>')
    out.append("</svg>")
    return "".join(out)


def group_rates(rows: list[tuple[str, float | None, float | None, int]], threshold: float = 0.85,
                width: int = 680, z: float = 1.959964) -> str:
    """Group rates p_g as dots with 95 % whiskers p_g ± z·sqrt(var_g) (the design variance),
    against the threshold. rows: (label, rate or None, variance or None, n)."""
    left, right, top, row_h = 90, 120, 22, 24
    lo_axis = 0.5
    rates = [r for _, r, _, _ in rows if r is not None]
    if rates:
        lo_axis = max(0.0, math.floor((min(min(rates), threshold) - 0.1) * 10) / 10)
    inner = width - left - right
    height = top + len(rows) * row_h + 8

    def x(v: float) -> float:
        return left + inner * (min(max(v, lo_axis), 1.0) - lo_axis) / (1.0 - lo_axis)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="各群体认可度及 95% 区间" {FONT} font-size="11">']
    for k in range(int(round(lo_axis * 10)), 11):
        v = k / 10
        out.append(f'<line x1="{x(v):.1f}" y1="{top - 4}" x2="{x(v):.1f}" y2="{height - 6}" stroke="#e3e6ea" />')
        out.append(f'<text x="{x(v):.1f}" y="{top - 8}" text-anchor="middle">{v:.0%}</text>')
    tx = x(threshold)
    out.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - 6}" stroke="#c62828" '
               f'stroke-dasharray="4,3" />')
    for i, (label, rate, var, n) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        out.append(f'<text x="0" y="{y + 4:.1f}">{escape(label)}</text>')
        if rate is None:
            out.append(f'<text x="{left}" y="{y + 4:.1f}" fill="#667">无有效答卷</text>')
            continue
        half = z * math.sqrt(var) if var else 0.0
        lo, hi = rate - half, rate + half
        colour = "#2e7d32" if lo >= threshold else ("#ef6c00" if rate >= threshold else "#c62828")
        out.append(f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" stroke="{colour}" '
                   f'stroke-width="2" />')
        for end in (lo, hi):
            out.append(f'<line x1="{x(end):.1f}" y1="{y - 5:.1f}" x2="{x(end):.1f}" y2="{y + 5:.1f}" '
                       f'stroke="{colour}" stroke-width="2" />')
        out.append(f'<circle cx="{x(rate):.1f}" cy="{y:.1f}" r="4" fill="{colour}" />')
        out.append(f'<text x="{width - right + 6}" y="{y + 4:.1f}">{rate:.1%}（{n} 份）</text>')
    out.append("</svg>")
    return "".join(out)


OPTION_COLOURS = {"A": "#1b5e20", "B": "#43a047", "C": "#a5d6a7", "D": "#c62828", "E": "#b0bec5"}


def option_bars(rows: list[tuple[str, dict[str, int] | None, str]], options: dict[str, str],
                width: int = 680) -> str:
    """One stacked bar per survey item: the shares of each option among its valid answers.
    rows: (item label, counts per option or None when hidden, rate text); options: code → label."""
    left, right, top, bar_h, gap = 120, 64, 26, 16, 6
    inner = width - left - right
    height = top + len(rows) * (bar_h + gap) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="各题选项分布" {FONT} font-size="11">']
    x = left
    for code, label in options.items():          # the legend
        out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{OPTION_COLOURS[code]}" />')
        out.append(f'<text x="{x + 14}" y="13">{escape(label)}</text>')
        x += 14 + 12 * len(label) + 14
    for i, (label, counts, rate) in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="0" y="{y + 12}">{escape(label)}</text>')
        total = sum(counts.values()) if counts else 0
        if not total:
            out.append(f'<text x="{left}" y="{y + 12}" fill="#667">{"样本过少，不显示" if counts is None else "无有效答卷"}</text>')
            continue
        x = float(left)
        for code in options:
            w = inner * counts.get(code, 0) / total
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{OPTION_COLOURS[code]}">'
                           f'<title>{escape(options[code])} {counts[code]} 份</title></rect>')
            x += w
        out.append(f'<text x="{left + inner + 6}" y="{y + 12}">{escape(rate)}</text>')
    out.append("</svg>")
    return "".join(out)
