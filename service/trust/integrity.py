"""The integrity signals of a campaign (issue 6), computed by ``scoring.integrity`` on the
campaign's answers as stored: the export's normalised frame plus ``submitted_at`` (Beijing
wall clock), ``link_id`` and ``free_text`` (the masked comment). Flags only tell inspectors
where to look: nothing is excluded (the validity rules of survey.md stay the only ones).

Workers keep nothing of their own (issue 25): what one worker computed is kept in the database
for every other. The signals last computed are stored with the answers they read (their number
and largest id; ``integrity_state``): while no answer has arrived since, a request reads them,
whichever worker asks first. The typed frame the signals are computed on is stored in pieces
(``integrity_frame``), each the answers of one id range as an Arrow IPC stream, chained from id 0;
a request reads the pieces and, from SQL, only the answers after the last one, and stores those
as a new piece once they are ``PIECE_MIN`` (merging the pieces into one beyond ``PIECES_MAX``).
Nothing is counted or summed across requests, so two workers writing at once cannot count an
answer twice: a piece is keyed by where it starts (the second writer's insert fails and is
dropped), and a piece is used only while the answers up to its end are still as many as it holds.
The signals themselves read every answer's time, link and vector (windows, pacing runs,
identical vectors, the answers a flag sets aside): they are computed on the whole frame, never
from sums."""

import hashlib
import json
import zlib
from functools import reduce
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
from pandas.api.types import union_categoricals
from sqlalchemy import String, case, cast, delete, func, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from scoring import display
from scoring.integrity import (KIND_NAMES, CallOut, Flag, Sensitivity, county_call_out, integrity_report,
                               integrity_settings)
from scoring.privacy import min_cell_size, small_cell
from scoring.recognition import classify_validity
from scoring.profile import ITEMS
from scoring.recognition import OPTIONS
from scoring.responses import RESPONSE_COLUMNS, normalise_responses

from service.campaigns.links import link_label, links_of
from service.campaigns.schools import schools_of
from service.campaigns.exports import seconds_text
from service.campaigns.states import SCORING_DIGEST
from service.db.models import Answer, Campaign, IntegrityFrame, IntegrityState
from service.web.clock import CHINA
COUNT_KINDS = ("burst", "identical_answers", "pacing", "concentrated")
FORMAT = 1          # of the stored frame and signals: a change of their layout is a new key
PIECE_MIN = 1000    # answers after the last piece read from SQL on each request until they are this many
PIECES_MAX = 8      # pieces beyond which they are merged into one


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
    ``device_hash``, ``form_trace``), in the export's order."""
    return _frame(db, campaign)[0]


def _frame(db: Session, campaign: Campaign) -> tuple[pd.DataFrame, int]:
    """(the campaign's frame, the largest id in it): the stored pieces, then the answers after them."""
    codes = {s.school_code for s in schools_of(db, campaign.id)}
    key = _digest(FORMAT, SCORING_DIGEST, sorted(codes))
    ends = {after: (last, n) for after, last, n in db.exec(
        select(IntegrityFrame.after_id, IntegrityFrame.last_id, IntegrityFrame.answers)
        .where(IntegrityFrame.campaign_id == campaign.id, IntegrityFrame.key == key))}
    chain, top, held = [], 0, 0
    while top in ends:
        chain.append(top)
        top, n = ends[top]
        held += n
    # An answer below the chain's end committed after the piece was written (ids are drawn before
    # commit), or answers deleted: the pieces no longer hold the answers up to their end.
    if chain and db.exec(select(func.count()).select_from(Answer).where(
            Answer.campaign_id == campaign.id, Answer.id <= top)).one() != held:
        chain, top = [], 0
    pieces = [_unpacked(bytes(data)) for data in db.exec(
        select(IntegrityFrame.data).where(IntegrityFrame.campaign_id == campaign.id,
                                          IntegrityFrame.after_id.in_(chain)).order_by(IntegrityFrame.after_id))] \
        if chain else []
    last, tail = _read(db, campaign.id, codes, top)
    frame = _joined([*pieces, tail] if len(tail) else pieces)
    if not chain and len(frame):
        _store_piece(db, campaign.id, key, 0, last, frame, replace=True)
    elif len(tail) >= PIECE_MIN and len(chain) >= PIECES_MAX:
        _store_piece(db, campaign.id, key, 0, last, frame, replace=True)
    elif len(tail) >= PIECE_MIN:
        _store_piece(db, campaign.id, key, top, last, tail, replace=False)
    return frame, last


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _packed(frame: pd.DataFrame) -> bytes:
    """The frame as an Arrow IPC stream (categoricals as dictionaries; pandas' types kept)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _unpacked(data: bytes) -> pd.DataFrame:
    return ipc.open_stream(data).read_all().to_pandas()


def _store_piece(db: Session, campaign_id: int, key: str, after: int, last: int, frame: pd.DataFrame,
                 replace: bool) -> None:
    """Store the answers after ``after`` up to ``last`` as a piece, in a transaction of its own;
    ``replace``: the piece from id 0 replaces every piece of the campaign. Another worker that
    stored the same start first wins (the primary key); this request goes on with its own frame."""
    piece = IntegrityFrame(campaign_id=campaign_id, after_id=after, last_id=last, answers=len(frame), key=key,
                           data=_packed(frame))
    with Session(db.get_bind()) as s:
        try:
            if replace:
                s.exec(delete(IntegrityFrame).where(IntegrityFrame.campaign_id == campaign_id))
            s.add(piece)
            s.commit()
        except (IntegrityError, DBAPIError):   # a concurrent writer (PostgreSQL may report a serialization failure)
            s.rollback()


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after the other: lines numbered on, each categorical over the union of its
    values (sorted, as one read of all the answers makes it) when the frames' categories differ."""
    if len(frames) <= 1:
        return frames[0] if frames else pd.DataFrame()
    offsets = np.cumsum([0] + [len(f) for f in frames[:-1]])
    out = pd.concat([f.assign(line=f["line"] + k) for f, k in zip(frames, offsets)], ignore_index=True)
    for c in frames[0].columns:
        if isinstance(frames[0][c].dtype, pd.CategoricalDtype) and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = union_categoricals([f[c] for f in frames], sort_categories=True)
    return out


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
    """The campaign's signals: as stored while no answer has arrived since, else computed and stored."""
    key = _digest(FORMAT, profile.digest, SCORING_DIGEST, sorted(s.school_code for s in schools_of(db, campaign.id)))
    answers, top = db.exec(select(func.count(), func.max(Answer.id)).where(Answer.campaign_id == campaign.id)).one()
    stored = db.exec(select(IntegrityState.answers, IntegrityState.last_id, IntegrityState.key)
                     .where(IntegrityState.campaign_id == campaign.id)).first()
    if stored is not None and tuple(stored) == (answers, top or 0, key):
        return _decoded(db.exec(select(IntegrityState.data).where(IntegrityState.campaign_id == campaign.id)).one())
    frame, last = _frame(db, campaign)
    signals = _signals(db, campaign, profile, frame, last)
    _store_state(db, IntegrityState(campaign_id=campaign.id, last_id=last, answers=len(frame), key=key,
                                    data=_encoded(signals)))
    return signals


def _store_state(db: Session, state: IntegrityState) -> None:
    """Store the signals unless another worker stored those of more answers meanwhile."""
    with Session(db.get_bind()) as s:
        try:
            values = {"last_id": state.last_id, "answers": state.answers, "key": state.key, "data": state.data}
            done = s.exec(update(IntegrityState).where(IntegrityState.campaign_id == state.campaign_id,
                                                       IntegrityState.answers <= state.answers).values(**values))
            if not done.rowcount and s.get(IntegrityState, state.campaign_id) is None:
                s.add(state)
            s.commit()
        except (IntegrityError, DBAPIError):   # another worker stored its own first: either is exact for its answers
            s.rollback()


def _encoded(signals: Signals) -> bytes:
    # One level at a time: ``asdict`` deep-copies every answer's position in every flag.
    plain = {f.name: getattr(signals, f.name) for f in fields(signals)}
    plain.update({part: [_fields(f) for f in plain[part]] for part in ("flags", "information")},
                 sensitivity=_fields(signals.sensitivity), call_out=_fields(signals.call_out))
    return zlib.compress(json.dumps(plain, ensure_ascii=False).encode(), 1)


def _fields(value) -> dict | None:
    return None if value is None else {f.name: getattr(value, f.name) for f in fields(value)}


def _decoded(data: bytes) -> Signals:
    d = json.loads(zlib.decompress(data))
    flags = [[Flag(**{**f, "rows": tuple(f["rows"])}) for f in d[part]] for part in ("flags", "information")]
    s, c = d["sensitivity"], d["call_out"]
    return Signals(flags[0], d["responses"], d["valid"], d["k"], information=flags[1],
                   new_device_bursts=d["new_device_bursts"], tests=d["tests"],
                   sensitivity=None if s is None else Sensitivity(**s), call_out=None if c is None else CallOut(**c))


def _signals(db: Session, campaign: Campaign, profile, frame: pd.DataFrame, last: int) -> Signals:
    k = min_cell_size(profile)
    if frame.empty:
        return Signals([], 0, 0, k)
    validity = classify_validity(frame, profile)
    report = integrity_report(frame, validity, integrity_settings(profile), profile)
    bursts = db.exec(select(func.count()).select_from(Answer).where(
        Answer.campaign_id == campaign.id, Answer.id <= last, Answer.new_device_burst.is_(True))).one()
    return Signals(list(report.flags), len(frame), int((validity == "valid").sum()), k,
                   information=list(report.information), new_device_bursts=bursts, tests=report.tests,
                   sensitivity=report.sensitivity, call_out=county_call_out(report.sensitivity, profile))


def flag_rows(db: Session, campaign: Campaign, signals: Signals, flags: list[Flag] | None = None) -> list[dict]:
    """Display rows (Chinese): what, where, figure, county baseline, p-value, evidence."""
    schools = {s.school_code: s for s in schools_of(db, campaign.id)}
    links = {str(link.id): link for link in links_of(db, campaign.id)}
    rows = []
    for f in signals.flags if flags is None else flags:
        if f.scope == "link" and f.scope_id in links:
            where = "二维码：" + link_label(links[f.scope_id], schools)
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
