"""The integrity signals of a campaign (issue 6), computed by ``scoring.integrity`` on the
campaign's answers as stored: the export's normalised frame plus ``submitted_at`` (Beijing
wall clock), ``link_id`` and ``free_text`` (the masked comment). Flags only tell inspectors
where to look: nothing is excluded (the validity rules of survey.md stay the only ones)."""

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from scoring import display
from scoring.integrity import (KIND_NAMES, CallOut, Flag, Sensitivity, county_call_out, integrity_report,
                               integrity_settings)
from scoring.privacy import min_cell_size, small_cell
from scoring.recognition import classify_validity
from scoring.responses import read_responses

from service.campaigns import rules as C
from service.campaigns.exports import export_csv
from service.db.models import Campaign, Response
from service.web.clock import CHINA
COUNT_KINDS = ("burst", "identical_answers", "pacing", "concentrated")


def campaign_frame(db: Session, campaign: Campaign) -> pd.DataFrame:
    """The normalised responses (as ``python -m scoring evaluate`` reads the export) with the
    columns ``scoring.integrity`` needs."""
    data = export_csv(db, campaign.id)
    codes = {s.school_code for s in C.schools_of(db, campaign.id)}
    if data.count(b"\n") <= 1:
        return pd.DataFrame()
    frame = read_responses(data, codes)
    extra = {sid: (at, link, comment, device, trace) for sid, at, link, comment, device, trace in db.exec(
        select(Response.submission_id, Response.created_at, Response.link_id, Response.comment,
               Response.device_hash, Response.form_trace).where(Response.campaign_id == campaign.id))}
    ids = frame["response_id"].astype(str)
    frame["submitted_at"] = pd.to_datetime([extra[i][0].astimezone(CHINA).replace(tzinfo=None) for i in ids])
    frame["link_id"] = [str(extra[i][1]) if extra[i][1] is not None else "" for i in ids]
    frame["free_text"] = [extra[i][2] or "" for i in ids]
    frame["device_hash"] = [extra[i][3] or "" for i in ids]     # keyed hashes: new-device runs (pacing)
    frame["form_trace"] = [extra[i][4] or "" for i in ids]      # the form's record: posts without the page
    return frame


@dataclass
class Signals:
    flags: list[Flag]
    responses: int
    valid: int
    k: int
    information: list[Flag] = field(default_factory=list)     # 集中作答 with ordinary answers
    new_device_bursts: int = 0                                 # answers marked by the per-link new-device limit
    tests: int = 0                                             # tests corrected together
    sensitivity: Sensitivity | None = None
    call_out: CallOut | None = None                            # the flagged answers carry the county across 85 %

    @property
    def sensitivity_text(self) -> dict | None:
        """The rate and the rate with the flagged answers set aside, display-rounded (information only)."""
        s = self.sensitivity
        if s is None or s.rate is None:
            return None
        return {"rate": display.percent(s.rate), "set_aside": display.percent(s.rate_set_aside),
                "count": s.set_aside}


def signals_for(db: Session, campaign: Campaign, profile) -> Signals:
    frame = campaign_frame(db, campaign)
    k = min_cell_size(profile)
    if frame.empty:
        return Signals([], 0, 0, k)
    validity = classify_validity(frame, profile)
    report = integrity_report(frame, validity, integrity_settings(profile), profile)
    bursts = db.exec(select(func.count()).select_from(Response).where(
        Response.campaign_id == campaign.id, Response.new_device_burst.is_(True))).one()
    return Signals(list(report.flags), len(frame), int((validity == "valid").sum()), k,
                   information=list(report.information), new_device_bursts=bursts, tests=report.tests,
                   sensitivity=report.sensitivity, call_out=county_call_out(report.sensitivity, profile))


def flag_rows(db: Session, campaign: Campaign, signals: Signals, flags: list[Flag] | None = None) -> list[dict]:
    """Display rows (Chinese): what, where, figure, county baseline, p-value, evidence."""
    schools = {s.school_code: s for s in C.schools_of(db, campaign.id)}
    links = {str(link.id): link for link in C.links_of(db, campaign.id)}
    rows = []
    for f in signals.flags if flags is None else flags:
        if f.scope == "link" and f.scope_id in links:
            where = "二维码：" + C.link_label(links[f.scope_id], schools)
        elif f.school_code in schools:
            where = schools[f.school_code].school_name
        else:
            where = f.scope_id
        counted = f.kind in COUNT_KINDS
        # Flags need at least min_responses (>= k) answers; a cell below k never shows figures.
        hidden = small_cell(f.total, signals.k) if f.total else False
        rows.append({
            "kind": f.kind, "name": KIND_NAMES.get(f.kind, f.kind), "scope": "二维码" if f.scope == "link" else "学校",
            "where": where, "school_code": f.school_code or "", "hidden": hidden,
            "figure": f"<{signals.k}" if hidden else (f"{f.figure:.0f}" if counted else f"{100 * f.figure:.1f}%"),
            "baseline": f"{f.baseline:.1f}" if counted else f"{100 * f.baseline:.1f}%",
            "p_value": f"{f.p_value:.2g}" if f.p_value >= 1e-4 else f"{f.p_value:.1e}",
            "evidence": "" if hidden else f.evidence, "count": f.count, "total": f.total,
        })
    return rows
