"""The one verdict pipeline: a county's verdict from (workbook version, the campaign that
counts, profile). Every consumer calls ``county_verdict``: the verdict page, the JSON, xlsx
and print exports, the ledger, the province overview and the comparison of versions.

A verdict is computed once per *state*: the workbook version's sha256, the counted campaign,
its answers up to a watermark (their count and largest id: answers are only ever added),
the profile's digest and a digest of ``scoring``'s code (a deploy that changes a rule is a
new state). Each state's verdict JSON is stored in ``stored_verdict``, shared by every worker
and instance, which is what the province overview reads; the pages that need the scoring
objects (``Verdict``, the parsed workbook, ledger rows) keep them in a per-process cache by
the same key, and a worker that misses recomputes them, cheaply: part S is read from a SQL
GROUP BY of the answers (``answers.queries.answer_groups``, validity by ``answers.validity``,
made into ``answer_aggregate``: a few hundred rows of sufficient statistics,
``scoring.recognition.RecognitionAggregate``), and the parts the workbook alone decides are
kept per (workbook, profile). When the stored answers are not what the responses file
allows (``scoring.responses`` would reject them), the verdict falls back to reading the export
(``answers.exports.answers_frame``) so that its problems are the same ones. The verdict is
``scoring.verdict.evaluate`` and the ledger ``scoring.ledger.ledger``: nothing here
re-implements a rule.
"""

import fcntl
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from scoring.errors import Problem
from scoring.ledger import ledger
from scoring.profile import GRADES, GROUPS, ITEMS, LOCATIONS
from scoring.questions import question_table, question_table_from_counts
from scoring.recognition import AGGREGATE_KEYS, OPTIONS, SCHOOL_GROUPS, RecognitionAggregate, aggregate_responses
from service.answers.exports import answers_frame
from service.answers.queries import (ITEM_SUMS, OPTION_COUNTS, RAW_KEYS, answer_groups, submission_id_of, watermark,
                                     watermarks)
from scoring.verdict import evaluate, evaluate_workbook
from scoring.whatif import county_what_if
from service.campaigns.counted import Counted, counted_campaign, counted_of
from service.campaigns.states import SCORING_DIGEST, cached, keep, new_cache
from service.db.models import Campaign, CountySurvey, StoredVerdict, WorkbookVersion, utcnow
from service.workbooks.versions import parse_version, version_of

FRAMES_KEPT = 4
CACHE_SIZE = 256
LOG = logging.getLogger(__name__)


@dataclass
class CountyVerdict:
    county: str
    version: WorkbookVersion
    counted: Counted                     # the campaign whose answers count, and why
    workbook: Any
    verdict: Any                         # scoring.verdict.Verdict
    ledger: list                         # scoring.ledger.LedgerRow
    response_problems: list[Problem]
    # Reads the answers one by one, for what sums cannot give (the per-question table, a
    # roadmap's projection of part S); the verdict itself never needs it.
    load_responses: Any = None
    # The forecast's what-if (scoring.whatif), from the same sufficient statistics as the verdict.
    load_what_if: Any = None
    # The per-question table (scoring.questions), from the same GROUP BY.
    load_questions: Any = None
    key: str = ""                        # the state's key: what the verdict depends on

    @property
    def campaign(self) -> Campaign | None:
        return self.counted.campaign

    @property
    def responses(self):
        """The counted campaign's answers as ``scoring.responses`` reads the export (or None)."""
        return self.load_responses() if self.load_responses is not None else None

    @property
    def questions(self) -> list:
        """``scoring.questions.question_table`` rows of the counted campaign's valid answers."""
        return self.load_questions() if self.load_questions is not None else []

    @property
    def what_if(self):
        """``scoring.whatif.WhatIf`` of this state (or None)."""
        return self.load_what_if() if self.load_what_if is not None else None

    @property
    def ledger_dicts(self) -> list[dict]:
        return [row.to_dict() for row in self.ledger]


@dataclass(frozen=True)
class CountyState:
    """What a county's verdict depends on."""
    county: str
    version: WorkbookVersion
    counted: Counted
    answers: int                         # answers of the counted campaign up to the watermark
    max_id: int                          # the watermark: their largest id (0 when none)
    last: str                            # that answer's submission id ("" when none): ids alone
    profile_digest: str                  # could repeat in another database, or after deletes

    @property
    def key(self) -> str:
        campaign = self.counted.campaign
        return hashlib.sha256(repr((self.county, self.version.sha256, campaign.id if campaign else None,
                                    self.answers, self.max_id, self.last, self.profile_digest, SCORING_DIGEST)
                                   ).encode()).hexdigest()


def county_state(session: Session, county: str, number: int | None, profile) -> CountyState | None:
    """Version ``number``, or by default the county's latest version still counted (a withdrawn
    one never is; campaigns never make versions, so no campaign can move it)."""
    counted = counted_campaign(session, county)
    campaign = counted.campaign
    version = version_of(session, county, number)
    if version is None:
        return None
    return CountyState(county, version, counted, *watermark(session, campaign.id if campaign else None),
                       profile.digest)


def county_states(session: Session, counties: list[str], profile) -> dict[str, CountyState]:
    """``county_state`` of the latest version of each county, in a few queries for all of them
    (the overview's): counties without a workbook are left out. The counted campaign is
    ``campaigns.counted.counted_of``'s, as for one county."""
    if not counties:
        return {}
    latest = (select(WorkbookVersion.county_name, func.max(WorkbookVersion.version).label("v"))
              .where(WorkbookVersion.county_name.in_(counties), WorkbookVersion.withdrawn_at.is_(None))
              .group_by(WorkbookVersion.county_name).subquery())
    versions = {v.county_name: v for v in session.exec(
        select(WorkbookVersion).options(defer(WorkbookVersion.data))
        .join(latest, and_(WorkbookVersion.county_name == latest.c.county_name,
                           WorkbookVersion.version == latest.c.v)))}
    designated = {row.county_name: row.campaign_id for row in session.exec(
        select(CountySurvey).where(CountySurvey.county_name.in_(counties)))}
    campaigns: dict[str, list[Campaign]] = {}
    # Not the pinned questionnaires (a few KB of JSON each) that nothing here reads.
    for c in session.exec(select(Campaign).options(defer(Campaign.templates))
                          .where(Campaign.county_name.in_(counties)).order_by(Campaign.id.desc())):
        campaigns.setdefault(c.county_name, []).append(c)
    counted = {county: counted_of(designated.get(county), campaigns.get(county, [])) for county in versions}
    answers = watermarks(session, [c.campaign.id for c in counted.values() if c.campaign is not None])
    return {county: CountyState(county, versions[county], counted[county],
                                *answers.get(counted[county].campaign.id if counted[county].campaign else -1,
                                             (0, 0, "")),
                                profile.digest)
            for county in versions}


# ---- part S from sufficient statistics -----------------------------------------------------------

@dataclass(frozen=True)
class _Groups:
    answers: int
    max_id: int
    last: str                            # the submission id of answer ``max_id``
    groups: pd.DataFrame


def _groups_upto(session: Session, campaign_id: int, answers: int, max_id: int, last: str,
                 profile) -> pd.DataFrame:
    """``answers.queries.answer_groups`` of every answer up to the watermark. While answers arrive only the new
    ones are read: the groups kept for an earlier watermark plus those after it, when their
    counts add up to ``answers`` and the earlier watermark's answer is still the one it was
    (answers are only ever added; on PostgreSQL a lower id may commit after a higher one, and
    then the counts differ and everything is read again)."""
    key = (campaign_id, profile.digest)
    kept = _cached(_GROUPS, key, None)
    groups = None
    if kept is not None and kept.max_id <= max_id \
            and kept.last == submission_id_of(session, campaign_id, kept.max_id):
        new = answer_groups(session, campaign_id, kept.max_id, max_id, profile)
        if kept.answers + int(new["n"].sum()) == answers:
            groups = pd.concat([kept.groups, new], ignore_index=True) if len(new) else kept.groups
            groups = groups.groupby(list(RAW_KEYS), dropna=False, sort=False).sum().reset_index()
    if groups is None:
        groups = answer_groups(session, campaign_id, 0, max_id, profile)
    if kept is None or kept.max_id <= max_id:
        _put(_GROUPS, key, _Groups(answers, max_id, last, groups))
    return groups


def answer_aggregate(session: Session, campaign_id: int, answers: int, max_id: int, last: str, profile,
                     school_codes: set[str]) -> RecognitionAggregate | None:
    """The campaign's answers up to the watermark as ``scoring.recognition.RecognitionAggregate``
    cells (with the ledger's per-item columns, ``scoring.ledger.item_columns``). None when some
    stored value is one the responses file would refuse (unknown school, group, location,
    grade or option): the caller then reads the export, which names the problems."""
    raw = _groups_upto(session, campaign_id, answers, max_id, last, profile)
    if raw.empty or _refused(raw, school_codes):
        return None
    group, school = raw["group"], raw["school_code"]
    grade = pd.to_numeric(raw["grade"], errors="coerce")
    linked = group.isin(SCHOOL_GROUPS)
    valid = (raw["status"] == "valid").to_numpy()
    n = raw["n"].to_numpy(float)
    y, m = raw["y"].to_numpy(float), raw["m"].to_numpy(float)
    # Invalid responses keep their count and nothing else (RecognitionAggregate's contract).
    v = np.where(valid, n, 0.0)
    cells = pd.DataFrame({"group": group, "school_code": school.where(linked).astype(object),
                          "location": raw["location"], "grade": grade.where(group == "student").astype(float),
                          "status": raw["status"], "n": raw["n"].astype(int),
                          "rated": np.where(m > 0, v, 0.0).astype(int), "sum_y": v * y, "sum_m": v * m,
                          "sum_yy": v * y * y, "sum_mm": v * m * m, "sum_ym": v * y * m,
                          **{name: np.where(valid, raw[name].to_numpy(float), 0.0) for name in ITEM_SUMS}})
    cells = cells.groupby(list(AGGREGATE_KEYS), dropna=False, sort=True).sum().reset_index()
    cells["school_code"] = cells["school_code"].astype(object).where(cells["school_code"].notna(), None)
    return RecognitionAggregate(cells)


def _refused(raw: pd.DataFrame, school_codes: set[str]) -> bool:
    """Whether some grouped value is one the responses file would refuse."""
    group, school = raw["group"], raw["school_code"]
    grade = pd.to_numeric(raw["grade"], errors="coerce")
    linked = group.isin(SCHOOL_GROUPS)
    return bool(raw["odd"].astype(float).gt(0).any() or not group.isin(GROUPS).all()
                or not raw["location"].isin(LOCATIONS).all() or (grade.notna() & ~grade.isin(GRADES)).any()
                or (school.notna() & ~school.isin(list(school_codes))).any() or (linked & school.isna()).any())


def question_counts(session: Session, campaign_id: int, answers: int, max_id: int, last: str, profile,
                    school_codes: set[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(counts[item, group, option], valid responses per group) for
    ``scoring.questions.question_table_from_counts``, from the groups the verdict's GROUP BY
    keeps (no answer is read again); None when some stored value would be refused."""
    raw = _groups_upto(session, campaign_id, answers, max_id, last, profile)
    if raw.empty or _refused(raw, school_codes):
        return None
    valid = raw[raw["status"] == "valid"]
    by_group = valid.groupby("group")[["n", *OPTION_COUNTS]].sum().reindex(list(GROUPS), fill_value=0)
    counts = by_group[list(OPTION_COUNTS)].to_numpy(np.int64).reshape(len(GROUPS), len(ITEMS), len(OPTIONS))
    return counts.transpose(1, 0, 2), by_group["n"].to_numpy(np.int64)


def campaign_aggregate(session: Session, campaign_id: int, profile,
                       school_codes: set[str]) -> tuple[int, RecognitionAggregate | None]:
    """(answers, ``answer_aggregate`` of all of them) of any campaign, counted or not (the
    trends across surveys read each real campaign's this way); the aggregate is None when
    there are no answers or some stored value is one the responses file would refuse."""
    answers, max_id, last = watermark(session, campaign_id)
    if not answers:
        return 0, None
    return answers, answer_aggregate(session, campaign_id, answers, max_id, last, profile, school_codes)


# ---- computing a state's verdict ---------------------------------------------------------------

def evaluate_state(session: Session, state: CountyState, profile) -> tuple[Any, Any, list, list[Problem]]:
    """(workbook, verdict, ledger rows, response problems) of one state."""
    workbook = parse_version(state.version, profile)
    parts = _cached(_PARTS, (state.version.sha256, profile.digest), lambda: evaluate_workbook(workbook, profile))
    campaign = state.counted.campaign
    aggregate = responses = None
    problems: list[Problem] = []
    if campaign is not None and state.answers:
        codes = set(workbook.schools["school_code"].astype(str))
        aggregate = answer_aggregate(session, campaign.id, state.answers, state.max_id, state.last, profile, codes)
        if aggregate is None:
            responses, problems = answers_frame(session, campaign.id, codes)
    verdict = evaluate(workbook, responses, profile, aggregate=aggregate, parts=parts)
    rows = ledger(verdict, workbook, profile, aggregate if aggregate is not None else responses)
    return workbook, verdict, rows, problems


def verdict_of(session: Session, state: CountyState, profile) -> CountyVerdict:
    """The state's verdict objects (cached per process); its stored row is written when missing."""
    hit = _cached(_OBJECTS, state.key, None)
    if hit is None:
        hit = evaluate_state(session, state, profile)
        _put(_OBJECTS, state.key, hit)
        store(session, state, hit[1], hit[2])
    workbook, verdict, rows, problems = hit

    def load_responses():
        campaign = state.counted.campaign
        if campaign is None or not state.answers:
            return None
        codes = set(workbook.schools["school_code"].astype(str))
        return _cached(_FRAMES, state.key, lambda: answers_frame(session, campaign.id, codes)[0])

    def aggregate():
        """The sums the verdict was computed from: the SQL GROUP BY (its raw groups are kept per
        campaign, so this reads no answer again), or, when the verdict read the export, its rows'."""
        campaign = state.counted.campaign
        if campaign is None or not state.answers or problems:
            return None
        codes = set(workbook.schools["school_code"].astype(str))
        found = answer_aggregate(session, campaign.id, state.answers, state.max_id, state.last, profile, codes)
        return found if found is not None else aggregate_responses(load_responses(), profile)

    def load_what_if():
        return _cached(_WHAT_IF, state.key, lambda: county_what_if(verdict, workbook, aggregate(), profile))

    def load_questions():
        """The per-question table from the GROUP BY's option counts, or, when the stored
        answers hold a value the file would refuse, from the export's rows."""
        campaign = state.counted.campaign
        if campaign is None or not state.answers or problems:
            return question_table(load_responses(), profile)
        codes = set(workbook.schools["school_code"].astype(str))
        sums = question_counts(session, campaign.id, state.answers, state.max_id, state.last, profile, codes)
        return question_table_from_counts(*sums, profile) if sums is not None \
            else question_table(load_responses(), profile)
    return CountyVerdict(state.county, state.version, state.counted, workbook, verdict, rows, problems,
                         load_responses, load_what_if, load_questions, state.key)


def county_verdict(session: Session, county: str, number: int | None, profile) -> CountyVerdict | None:
    """The verdict of version ``number`` (the latest when None) with the answers of the campaign
    that counts; None when the county has no workbook."""
    state = county_state(session, county, number, profile)
    return None if state is None else verdict_of(session, state, profile)


def verdict_data(verdict, rows: list) -> dict[str, Any]:
    """What ``stored_verdict.verdict`` holds: the verdict's dict with the ledger's dicts."""
    return verdict.to_dict() | {"ledger": [row.to_dict() for row in rows]}


def summary_of(data: dict[str, Any]) -> dict[str, Any]:
    """What the province overview shows of a verdict's data: ``stored_verdict.summary``."""
    rec = data["parts"]["recognition"]
    return {"passed": data["passed"], "parts": {k: data["parts"][k]["passed"] for k in data["parts"]},
            "rate": rec["rate"], "ci95": rec["ci95"], "lower_bound_95": rec["lower_bound_95"],
            "valid": rec["valid"], "veto": data["veto"]["triggered"],
            "required": rec["checks"]["S1"].get("required") if "S1" in rec["checks"] else None}


def store(session: Session, state: CountyState, verdict, rows: list) -> None:
    """The state's row, once: a concurrent writer of the same state wins and this one is a no-op.
    The rows of the same workbook, campaign and profile at a lower watermark go: answers are only
    added, so those states never come back (a live county would leave a row per answer)."""
    campaign = state.counted.campaign
    data = verdict_data(verdict, rows)
    values = {"state": state.key, "county_name": state.county, "version_sha256": state.version.sha256,
              "campaign_id": campaign.id if campaign else None, "answers": state.answers,
              "max_answer_id": state.max_id, "profile_digest": state.profile_digest, "computed_at": utcnow(),
              "verdict": json.dumps(data, ensure_ascii=False, default=_plain),
              "summary": json.dumps(summary_of(data), ensure_ascii=False, default=_plain)}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.connection().execute(insert(StoredVerdict).values(**values)
                                 .on_conflict_do_nothing(index_elements=["state"]))
    session.connection().execute(delete(StoredVerdict).where(
        StoredVerdict.county_name == state.county, StoredVerdict.version_sha256 == state.version.sha256,
        StoredVerdict.campaign_id == values["campaign_id"], StoredVerdict.profile_digest == state.profile_digest,
        StoredVerdict.max_answer_id < state.max_id))
    session.commit()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def stored_summaries(session: Session, profile, states: list[CountyState]) -> dict[str, dict[str, Any]]:
    """{county: ``summary_of`` its stored verdict} for these states: one query for the stored
    ones; each missing one is computed once across workers and instances (a lock per state:
    the one that waited reads the row the other wrote). A county whose verdict fails is left out."""
    by_key = {s.key: s for s in states}
    found = dict(session.exec(select(StoredVerdict.state, StoredVerdict.summary)
                              .where(StoredVerdict.state.in_(list(by_key)))).all()) if by_key else {}
    out = {by_key[k].county: json.loads(v) for k, v in found.items()}
    for key, state in by_key.items():
        if key in found:
            continue
        try:
            with _state_lock(session, key):
                row = session.exec(select(StoredVerdict.summary).where(StoredVerdict.state == key)).first()
                if row is None:
                    cv = verdict_of(session, state, profile)
                    out[state.county] = summary_of(verdict_data(cv.verdict, cv.ledger))
                else:
                    out[state.county] = json.loads(row)
        except Exception:  # one broken county must not hide the others: it is left out
            session.rollback()
            LOG.exception("verdict of %s could not be computed", state.county)
    return out


@contextmanager
def _state_lock(session: Session, key: str) -> Iterator[None]:
    """One computer of a state at a time: threads of a process (a lock per stripe of state
    hashes), then processes (PostgreSQL: a transaction advisory lock, released by the commit
    that follows; SQLite: a byte-range lock on a file next to the database, a byte per stripe)."""
    number = int(key[:15], 16)
    with _STRIPES[number % len(_STRIPES)]:
        bind = session.get_bind()
        database = bind.url.database
        if bind.dialect.name == "postgresql":
            session.exec(select(func.pg_advisory_xact_lock(number - (1 << 59))))
            try:
                yield
            finally:
                session.commit()
        elif not database or database == ":memory:" or database.startswith("file:"):
            yield
        else:
            with open(f"{database}.verdict-lock", "a+b") as f:
                offset = number % (1 << 20)
                fcntl.lockf(f, fcntl.LOCK_EX, 1, offset)
                try:
                    yield
                finally:
                    fcntl.lockf(f, fcntl.LOCK_UN, 1, offset)


def _cached(cache: "OrderedDict[Any, Any]", key: Any, make) -> Any:
    return cached(cache, key, make, _size(cache))


def _put(cache: "OrderedDict[Any, Any]", key: Any, value: Any) -> Any:
    return keep(cache, key, value, _size(cache))


def _size(cache: "OrderedDict[Any, Any]") -> int:
    # Answer frames are large (about 15 MB at 100,000 answers): only a few are kept.
    return FRAMES_KEPT if cache is _FRAMES else CACHE_SIZE


_OBJECTS: "OrderedDict[str, tuple]" = new_cache()
_PARTS: "OrderedDict[tuple, Any]" = new_cache()
_FRAMES: "OrderedDict[str, Any]" = new_cache()
_WHAT_IF: "OrderedDict[str, Any]" = new_cache()
_GROUPS: "OrderedDict[tuple, _Groups]" = new_cache()
_STRIPES = tuple(threading.Lock() for _ in range(64))
