"""What the verdict pages show: the verdict display-rounded (``scoring.display``) with every
label from ``scoring.names`` and every threshold fact from ``scoring.facts``; the province
overview's rows."""

from typing import Any

from sqlmodel import Session

from scoring import display, facts
from scoring import ledger_display as LD
from scoring import names as N
from scoring.privacy import min_cell_size
from scoring.questions import TOTAL
from scoring.recognition import FORECAST_CAVEAT, SCHOOL_GROUPS, forecast_sentence, no_forecast_sentence, \
    probability_words
from scoring.whatif import PLAIN, drag_text, headline, row_text
from scoring.report import describe_check
from service.campaigns.counted import counted_campaign
from service.campaigns.progress import progress
from service.verdicts import charts
from service.verdicts import exports as X
from service.verdicts.pipeline import CountyVerdict, county_states, stored_summaries



def verdict_view(cv: CountyVerdict, profile, sort: str | None = None) -> dict:
    """Everything the verdict page and the printed report show, display-rounded (scoring.display)."""
    v = cv.verdict
    d = v.to_dict()
    schools = cv.workbook.schools
    names = dict(zip(schools["school_code"].astype(str), schools["school_name"].astype(str)))
    threshold = facts.recognition_threshold(profile)

    cards = []
    res_reasons = [f"{s.school_code} {names.get(s.school_code, '')}：{s.reason}" for s in v.resources.sections
                   if not s.passed and s.reason]
    res_reasons += [r for stage in v.resources.cv_reasons.values() for r in stage.values()]
    cards.append({"key": "resources", "name": N.PARTS["resources"], "passed": v.resources.passed,
                  "reasons": res_reasons})
    for key, part, item_names in (("guarantee", v.guarantee, N.GUARANTEE_ITEMS), ("quality", v.quality, N.QUALITY_ITEMS)):
        cards.append({"key": key, "name": N.PARTS[key], "passed": part.passed,
                      "reasons": [f"{code} {item_names.get(code, '')}：{item.reason or '未达标'}"
                                  for code, item in part.items.items() if not item.passed]})
    # The rate's own status is not the part's verdict: a robust rate fails with a failed S-check.
    cards.append({"key": "recognition", "name": N.PARTS["recognition"], "passed": v.recognition.passed,
                  "status": f"认可度本身：{N.RATE_STATUS[v.recognition.rate.status]}",
                  "reasons": [v.recognition.reason] if v.recognition.reason else []})
    cards.append({"key": "veto", "name": N.PARTS["veto"], "passed": not v.veto,
                  "reasons": [f"{k} {N.VETO_ITEMS[k]}" for k in v.veto]})
    pre = v.precondition
    cards.append({"key": "precondition", "name": f"{N.PARTS['precondition']}（基本均衡认定满年限）", "passed": pre.status != "failed",
                  "status": N.PRECONDITION_STATUS[pre.status],
                  "reasons": [pre.reason] if pre.reason else []})

    stages = []
    for stage in ("primary", "junior"):
        secs = [s for s in v.resources.sections if s.stage == stage]
        if not secs:
            continue
        std = facts.standards(profile, stage)
        rows = []
        for s in secs:
            cells = []
            for ind in N.INDICATORS:
                met = ind in s.met
                value = s.values.get(ind)
                below = facts.below_floor(value, ind, stage, profile)
                cells.append({"ind": ind, "text": display.number(value, passed=met), "met": met, "below_floor": below})
            rows.append({"code": s.school_code, "name": names.get(s.school_code, ""), "students": s.students,
                         "cells": cells, "passed": s.passed, "met": len(s.met)})
        cap = float(profile.resources["cv_cap"][stage])
        cvs = [{"ind": ind, "value": v.resources.cv[stage].get(ind),
                "text": display.cv(v.resources.cv[stage].get(ind), passed=v.resources.cv_passed[stage][ind]),
                "passed": v.resources.cv_passed[stage][ind]} for ind in N.INDICATORS]
        stages.append({"key": stage, "name": N.STAGES[stage], "standards": std, "floor": facts.shortfall_floor(profile),
                       "floor_values": facts.floors(profile, stage), "rows": rows, "cap": cap,
                       "cvs": cvs, "failing": sum(not r["passed"] for r in rows),
                       "chart": charts.cv_bars([(c["ind"], c["value"], cap) for c in cvs])})

    rec = v.recognition
    rate = rec.rate
    rate_ok = facts.meets_recognition(rate.rate, profile)
    lb_ok = facts.meets_recognition(rate.lower_bound_95, profile)
    thin = set(rate.thin_groups)
    groups = [{"key": g, "name": N.GROUPS.get(g, g), "n": gr.n, "rated": gr.rated, "rate": gr.rate,
               "text": display.percent(gr.rate), "weight": rate.weights.get(g), "clusters": gr.clusters,
               "school_linked": g in SCHOOL_GROUPS, "thin": g in thin} for g, gr in rate.groups.items()]
    recognition = {
        "passed": rec.passed, "status": N.RATE_STATUS.get(rate.status, rate.status),
        "rate": display.percent(rate.rate, passed=rate_ok), "pooled": display.percent(rate.pooled_rate, passed=rate_ok),
        "ci": [display.percent(x) for x in rate.ci95] if rate.ci95 else None,
        "lower": display.percent(rate.lower_bound_95, passed=lb_ok), "collected": rate.collected,
        "ci_srs": [display.percent(x) for x in rate.ci95_srs] if rate.ci95_srs else None,
        "lower_srs": display.percent(rate.lower_bound_95_srs,
                                     passed=facts.meets_recognition(rate.lower_bound_95_srs, profile)),
        "thin": list(rate.warnings),
        "valid": rate.valid, "invalid": dict(rate.invalid), "groups": groups, "threshold": threshold,
        "checks": [{"code": code, "passed": c.passed, "reason": c.reason,
                    "figures": {k: val for k, val in c.figures.items()}} for code, c in rec.checks.items()],
        "chart": charts.group_rates([(N.GROUPS.get(g, g), gr.rate, gr.variance, gr.n)
                                     for g, gr in rate.groups.items()], threshold,
                                    z=float(profile.recognition["z_two_sided_95"])),
    }
    ledger = [LD.display_row(row, names) for row in X.sort_ledger(cv.ledger_dicts, sort)]
    return {"v": v, "d": d, "cards": cards, "stages": stages, "recognition": recognition, "ledger": ledger,
            "sort": sort, "indicators": N.INDICATORS, "names": names, "failed_parts":
            [N.PARTS[p] for p in v.failed_parts] + ([N.PARTS["veto"]] if v.veto else [])
            + ([N.PARTS["precondition"]] if pre.status == "failed" else []),
            "group_names": N.GROUPS, "location_names": N.LOCATIONS, "stage_names": N.STAGES,
            "rule_names": N.LEDGER_RULES, "check_names": N.CHECKS, "ledger_headers": LD.HEADERS,
            "G_names": N.GUARANTEE_ITEMS, "Q_names": N.QUALITY_ITEMS, "V_names": N.VETO_ITEMS, "counted": cv.counted,
            "profile_title": N.profile_title(profile), "band_names": N.BANDS,
            "item_names": N.ITEMS, "part_names": N.PARTS,
            "check_data": {code: describe_check(code, c) for code, c in rec.checks.items()},
            "questions": questions_view(cv, profile), "forecast": forecast_view(cv, names)}


SCHOOL_ROWS_SHOWN = 10


def forecast_view(cv: CountyVerdict, names: dict[str, str]) -> dict:
    """The forecast of the official survey and its what-if, in the sentences ``scoring`` words."""
    rec = cv.verdict.recognition
    forecast, rate = rec.official_forecast, rec.rate
    view = {"sentence": forecast_sentence(forecast) if forecast else None,
            "missing": None if forecast else no_forecast_sentence(rate),
            "caveat": FORECAST_CAVEAT, "thin": list(rate.warnings),
            "chance": probability_words(forecast.p_pass) if forecast else None,
            "expected": display.percent(forecast.expected_rate) if forecast else None,
            "sample": [(N.GROUPS[g], n) for g, n in forecast.sample.items()] if forecast else [],
            "what_if": None}
    w = cv.what_if if cv.campaign is not None else None
    if w is not None and w.applies and forecast is not None:
        def row(r) -> dict:
            return {"group": N.GROUPS[r.group], "school": f"{r.school_code} {names.get(r.school_code, '')}".strip()
                    if r.school_code else None, "rate": display.percent(r.rate), "answers": r.answers,
                    "rated": rate.groups[r.group].rated, "text": row_text(r)}
        schools = w.school_rows
        view["what_if"] = {"headline": headline(w), "plain": PLAIN, "groups": [row(r) for r in w.group_rows],
                           "schools": [row(r) for r in schools[:SCHOOL_ROWS_SHOWN]],
                           "more_schools": max(0, len(schools) - SCHOOL_ROWS_SHOWN),
                           "drags": [drag_text(d) for d in w.drags], "target": f"{w.target:.0%}"}
    return view


def questions_view(cv: CountyVerdict, profile) -> dict:
    """The per-question table (scoring.questions) for the page: rates per item × group, the
    options of all groups together, and their stacked bars."""
    rows = cv.questions
    groups = [g for g in N.GROUPS if rows and rows[0].cells[g].n > 0]
    shown = []
    for row in rows:
        total = row.cells[TOTAL]
        shown.append({"item": N.ITEMS[row.item], "total": total, "rate": display.percent(total.rate),
                      "cells": [{"n": row.cells[g].n, "hidden": row.cells[g].hidden,
                                 "rate": display.percent(row.cells[g].rate)} for g in groups]})
    return {"k": min_cell_size(profile), "groups": [(g, N.GROUPS[g], rows[0].cells[g].n) for g in groups],
            "rows": shown, "options": N.OPTIONS, "valid": rows[0].cells[TOTAL].n if rows else 0,
            "chart": charts.option_bars([(r["item"], r["total"].counts, r["rate"]) for r in shown], dict(N.OPTIONS))}


OVERVIEW_SORTS = ("county", "passed", "rate", "lower", "progress", "uploaded")


def overview_rows(db: Session, counties: list[str], profile) -> list[dict]:
    """A row per county from the summary of its stored verdict (``pipeline.stored_summaries``:
    one query, and only the counties whose state has none are computed)."""
    states = county_states(db, counties, profile)
    stored = stored_summaries(db, profile, list(states.values()))
    rows = []
    for county in counties:
        row: dict[str, Any] = {"county": county, "parts": {}, "passed": None, "rate": None, "ci": None,
                               "lower": None, "progress": None, "required": None, "valid": None, "veto": [],
                               "uploaded": None, "version": None, "error": None}
        state = states.get(county)
        campaign = state.counted.campaign if state else counted_campaign(db, county).campaign
        row["campaign"] = campaign
        d = stored.get(county)
        if state is not None and d is None:
            row["error"] = "无法评估"
        if d is not None:
            ci = tuple(d["ci95"]) if d["ci95"] else None
            row.update(passed=d["passed"], version=state.version.version, uploaded=state.version.uploaded_at,
                       parts={k: d["parts"][k] for k in N.FOUR_PARTS}, rate=d["rate"], ci=ci,
                       lower=d["lower_bound_95"], veto=list(d["veto"]), valid=d["valid"], required=d["required"])
            row["rate_text"] = display.percent(d["rate"], passed=facts.meets_recognition(d["rate"], profile))
            row["lower_text"] = display.percent(d["lower_bound_95"],
                                                passed=facts.meets_recognition(d["lower_bound_95"], profile))
            row["ci_text"] = "–".join(display.percent(x) for x in ci) if ci else "—"
            if row["required"]:
                row["progress"] = d["valid"] / row["required"]
        elif campaign is not None:
            row["valid"] = progress(db, campaign, profile).valid
        rows.append(row)
    return rows


def sort_overview(rows: list[dict], sort: str | None) -> list[dict]:
    key = (sort or "county").lstrip("-")
    if key not in OVERVIEW_SORTS:
        key = "county"
    present = [r for r in rows if r.get(key) is not None]
    absent = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=(sort or "").startswith("-"))
    return present + absent
