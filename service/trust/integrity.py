"""The integrity signals of a campaign (issue 6), computed by ``scoring.integrity`` on the
campaign's answers as stored: the export's normalised frame plus ``submitted_at`` (Beijing
wall clock), ``link_id`` and ``free_text`` (the masked comment). Flags only tell inspectors
where to look: nothing is excluded (the validity rules of survey.md stay the only ones)."""

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import String, case, cast, func
from sqlmodel import Session, select

from scoring import display
from scoring.integrity import (KIND_NAMES, CallOut, Flag, Sensitivity, county_call_out, integrity_report,
                               integrity_settings)
from scoring.privacy import min_cell_size, small_cell
from scoring.recognition import classify_validity
from scoring.profile import ITEMS
from scoring.recognition import OPTIONS
from scoring.responses import RESPONSE_COLUMNS, normalise_responses

from service.campaigns import rules as C
from service.campaigns.exports import seconds_text
from service.db.models import Campaign, Answer
from service.campaigns.states import cached, campaign_key, keep, new_cache
from service.web.clock import CHINA
COUNT_KINDS = ("burst", "identical_answers", "pacing", "concentrated")
SIGNALS_KEPT = 16   # states kept per worker (a flag lists its answers: up to a few MB at 100,000)
FRAMES_KEPT = 4     # campaigns' frames kept per worker (about 20 MB each at 100,000 answers)


_FILE = tuple(c for c in RESPONSE_COLUMNS if c != "response_id" and c not in ITEMS)
# The nine answers as one integer per answer, base 7: 0 NULL, 1–5 A–E, 6 anything else (then the
# text columns are read instead, so that the file reader's checks name it).
_BASE = len(OPTIONS) + 2
_PACKED = reduce(lambda a, b: a + b, (case((getattr(Answer, item).is_(None), 0),
                                           *((getattr(Answer, item) == o, k + 1) for k, o in enumerate(OPTIONS)),
                                           else_=_BASE - 1) * _BASE ** j for j, item in enumerate(ITEMS)))
_SIGNALS = (cast(Answer.created_at, String), Answer.link_id, Answer.comment, Answer.device_hash,
            Answer.form_trace)
# Each column's cell as the export writes it (exports._survey_row), "" for NULL.
_CELL = {"grade": str, "duration_s": seconds_text}


def campaign_frame(db: Session, campaign: Campaign) -> pd.DataFrame:
    """The campaign's answers as ``python -m scoring evaluate`` reads the export, with the columns
    ``scoring.integrity`` needs (``submitted_at`` on Beijing wall clock, ``link_id``, ``free_text``,
    ``device_hash``, ``form_trace``), in the export's order.

    Answers are only ever added: the frame of the last request is kept per campaign (and schools),
    and when the answers up to its watermark are still the same number, only the newer ones are read
    and appended; else the whole campaign is read again. The returned frame is shared: not to be changed."""
    codes = {s.school_code for s in C.schools_of(db, campaign.id)}
    whose = (campaign.id, campaign.salt, str(campaign.created_at), tuple(sorted(codes)))
    kept = cached(_FRAMES, whose, None, FRAMES_KEPT)
    if kept is not None and db.exec(select(func.count()).select_from(Answer).where(
            Answer.campaign_id == campaign.id, Answer.id <= kept[0])).one() == len(kept[1]):
        top, new = _read(db, campaign.id, codes, kept[0])
        frame = _appended(kept[1], new) if len(new) else kept[1]
        top = max(top, kept[0])
    else:
        top, frame = _read(db, campaign.id, codes, 0)
    if len(frame):
        keep(_FRAMES, whose, (top, frame), FRAMES_KEPT)
    return frame


def _read(db: Session, campaign_id: int, codes: set[str], after: int) -> tuple[int, pd.DataFrame]:
    """(largest id read, the frame of the answers with a larger id than ``after``).

    One plain SELECT, the nine answers packed into one integer by SQL; each column becomes a
    categorical of the export's cells, made once per distinct value, and goes through the file
    reader's checks (``scoring.responses.normalise_responses``): the frame the export would give,
    without writing and parsing the file or a Python object per answer and item."""
    where = (Answer.campaign_id == campaign_id) & (Answer.id > after)
    statement = select(Answer.id, *(getattr(Answer, c) for c in _FILE), _PACKED, *_SIGNALS).where(where) \
        .order_by(Answer.id)
    rows = db.connection().execute(statement).cursor.fetchall()   # plain tuples: no row objects
    if not rows:
        return after, pd.DataFrame()
    columns = np.array(rows, dtype=object).T[1:]     # one column per field, the cells as fetched
    top = int(rows[-1][0])
    del rows
    raw = {c: _cells(columns[i], _CELL.get(c, str)) for i, c in enumerate(_FILE)}
    digits = (columns[len(_FILE)].astype(np.int64)[:, None] // _BASE ** np.arange(len(ITEMS))) % _BASE
    if (digits == _BASE - 1).any():     # a stored answer the form never writes
        texts = db.connection().execute(select(*(getattr(Answer, i) for i in ITEMS)).where(where)
                                        .order_by(Answer.id)).cursor.fetchall()
        raw.update({item: _cells(cells) for item, cells in zip(ITEMS, zip(*texts))})
    else:
        raw.update({item: pd.Categorical.from_codes(digits[:, j] - 1, OPTIONS) for j, item in enumerate(ITEMS)})
    raw["response_id"] = np.ones(len(digits), dtype=bool)   # every stored answer has its id
    frame = normalise_responses(pd.DataFrame(raw), codes, name="responses.csv")
    created, link, comment, device, trace = columns[len(_FILE) + 1:]
    # Stored in UTC (SQLite keeps no zone): Beijing wall clock, without the zone.
    frame["submitted_at"] = pd.to_datetime(pd.Series(created, dtype="string"), utc=True, format="ISO8601") \
        .dt.tz_convert(CHINA).dt.tz_localize(None)
    frame["link_id"] = _cells(link)
    frame["free_text"] = _cells(comment)
    # keyed hashes (new-device runs, pacing): nearly one per answer, so text, not a categorical
    frame["device_hash"] = np.asarray(_cells(device), dtype=object)
    frame["form_trace"] = _cells(trace)      # the form's record: posts without the page
    return top, frame


def _appended(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``new`` after ``old``: lines numbered on, categoricals over the union of their values."""
    new = new.assign(line=new["line"] + len(old))
    out = pd.concat([old, new], ignore_index=True)
    for c in old.columns:
        if isinstance(old[c].dtype, pd.CategoricalDtype) and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = union_categoricals([old[c], new[c]])
    return out


def _cells(values, text=str) -> pd.Categorical:
    """A stored column as text cells ("" for NULL), ``text`` applied once per distinct value."""
    codes, uniques = pd.factorize(np.ascontiguousarray(values, dtype=object), use_na_sentinel=True)
    cells = np.array([text(v) for v in uniques] + [""], dtype=object)
    return pd.Categorical(cells[codes])


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
    """The campaign's signals, computed once per state of its answers (and schools) in each worker."""
    schools = sorted(s.school_code for s in C.schools_of(db, campaign.id))
    # The campaign's own salt and creation time tell apart another database's campaign whose ids repeat.
    key = campaign_key(db, campaign.id, profile, "integrity", campaign.salt, str(campaign.created_at),
                       hashlib.sha256(repr(schools).encode()).hexdigest())
    return cached(_SIGNALS_KEPT, key, lambda: _signals(db, campaign, profile), SIGNALS_KEPT)


def _signals(db: Session, campaign: Campaign, profile) -> Signals:
    frame = campaign_frame(db, campaign)
    k = min_cell_size(profile)
    if frame.empty:
        return Signals([], 0, 0, k)
    validity = classify_validity(frame, profile)
    report = integrity_report(frame, validity, integrity_settings(profile), profile)
    bursts = db.exec(select(func.count()).select_from(Answer).where(
        Answer.campaign_id == campaign.id, Answer.new_device_burst.is_(True))).one()
    return Signals(list(report.flags), len(frame), int((validity == "valid").sum()), k,
                   information=list(report.information), new_device_bursts=bursts, tests=report.tests,
                   sensitivity=report.sensitivity, call_out=county_call_out(report.sensitivity, profile))


_SIGNALS_KEPT: "OrderedDict[str, Signals]" = new_cache()
_FRAMES: "OrderedDict[tuple, tuple[int, pd.DataFrame]]" = new_cache()


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
