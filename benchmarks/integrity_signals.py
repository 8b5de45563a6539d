"""Benchmark: do the integrity signals find coached schools, and leave clean ones alone (issues 12, 23)?

A synthetic campaign generator (importable: ``generate_campaign``) and a script that
runs ``scoring.integrity.integrity_report`` over seeded counties and prints detection by
pattern × strength × share of schools coached, clean schools and legitimate parents'
meetings flagged, and counties near 85 % carried across it by coaching and called out by
the page's sentence. Usage: python benchmarks/integrity_signals.py [--seeds 50]

Clean campaign: ~30 schools of varied size (parents log-normal around 70), each with
a student, a parent and a staff QR link, plus county links for deputies, CPPCC
members and the public. Answers come from a latent satisfaction per respondent
(school effect + group effect + noise): about a third answer all nine items alike
("straight-liners", mostly all A), the others item by item, with some E answers.
Free text: mostly empty, some common phrases, some individual comments. Schools
differ in satisfaction, straight-lining, speeder and duplicate rates. Submissions
spread over five days with evening peaks (19–22 h), a lunch bump, quiet nights, a
busy announcement day and a reminder day per school; duplicates are resubmissions
a few minutes to two hours after the first, mostly with the same answers. Answers
made on the page carry the form's record; 1–6 % per school come from phones without
JavaScript.

Coaching (injected into 10, 20 or 30 % of the schools, each at 15/30/60/90 % of its
answers): bursts (all A; all A but one B), a meeting, push waves saying 请选满意, staff
filling one after another with fresh cookies, "mostly satisfied" templates (one or two
B sprinkled in), answers drawn from a skewed distribution (A 80 %, B 17 %, C 3 %), and a
paid filler's script posting without the page at human pace (no form record). Heavy
coaching comes in several sessions on different days (at most 40–80 answers each).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.integrity import flagged_schools, integrity_report, integrity_settings  # noqa: E402
from scoring.profile import ITEMS, load_profile  # noqa: E402
from scoring.recognition import classify_validity, evaluate_rate  # noqa: E402
from scoring.responses import normalise_responses  # noqa: E402

OPTIONS = np.array(list("ABCDE"))
QUESTIONNAIRE = {"student": "student", "parent": "public", "teacher": "staff", "principal": "staff",
                 "npc_deputy": "public", "cppcc_member": "public", "public": "public"}
GROUP_EFFECT = {"student": 0.3, "parent": 0.0, "teacher": 0.2, "principal": 0.5,
                "npc_deputy": 0.3, "cppcc_member": 0.2, "public": -0.2}
ITEM_EFFECT = np.array([0.2, 0.0, -0.2, 0.0, 0.1, -0.2, 0.1, -0.5, 0.2])
HOUR_WEIGHT = np.array([0.05, 0.03, 0.02, 0.02, 0.03, 0.1, 0.3, 0.8, 0.6, 0.5, 0.5, 0.6,
                        1.2, 1.0, 0.6, 0.6, 0.7, 0.9, 1.5, 2.5, 3.0, 2.8, 1.5, 0.5])
COMMON_TEXT = ["无", "没有", "很好", "满意", "非常满意", "希望减轻作业负担", "希望增加课后服务",
               "老师很负责", "希望改善食堂", "无意见"]
TOPICS = ["食堂", "校车", "作业", "课后服务", "体育活动", "家校沟通", "校门口交通", "图书馆", "心理辅导", "午休"]
COACHED_TEXT = ["学校很好，老师很负责", "非常满意", "满意，感谢学校和老师"]


PATTERNS = ("burst_all_a", "burst_one_b", "meeting_all_a", "push_wave_a", "staff_fill", "mostly_satisfied", "skewed",
            "scripted")
PATTERN_NAMES = {"burst_all_a": "burst, all satisfied", "burst_one_b": "burst, all satisfied but one B",
                 "meeting_all_a": "meeting, all satisfied", "push_wave_a": "push wave 请选满意",
                 "staff_fill": "staff filling, fresh cookie, fixed vector",
                 "mostly_satisfied": "mostly satisfied (one or two B sprinkled), waves",
                 "skewed": "skewed draws (A 80 %, B 17 %, C 3 %), waves",
                 "scripted": "scripted filler, skewed, human timing, no form record"}
STRENGTHS = (0.15, 0.30, 0.60, 0.90)
SHARES = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Campaign:
    responses: pd.DataFrame        # normalised columns + submitted_at, link_id, free_text, device_hash
    schools: tuple[str, ...]
    coached: tuple[str, ...]       # coached schools
    patterns: dict = field(default_factory=dict)     # coached school → (pattern, strength)
    meetings: dict = field(default_factory=dict)     # clean school → response ids of its parents' meeting


def _answers(rng: np.random.Generator, z: np.ndarray, straight_bias: np.ndarray) -> np.ndarray:
    """n×9 option letters from latent satisfaction z (straight-liners answer all items alike)."""
    n = len(z)
    straight = rng.random(n) < 1 / (1 + np.exp(-(-0.7 + straight_bias + 0.8 * z)))
    level = z + rng.normal(0, 0.5, n)
    straight_option = np.select([level > -1.0, level > -1.8, level > -2.5], [0, 1, 2], 3)
    score = z[:, None] + ITEM_EFFECT[None, :] + rng.normal(0, 1.0, (n, len(ITEMS)))
    item_option = np.select([score > 0.2, score > -0.6, score > -1.4], [0, 1, 2], 3)
    item_option = np.where(rng.random((n, len(ITEMS))) < 0.04, 4, item_option)
    codes = np.where(straight[:, None], straight_option[:, None], item_option)
    return OPTIONS[codes]


def _spread(rng: np.random.Generator, n: int, day_weight: np.ndarray) -> np.ndarray:
    """Seconds from the start: day and hour patterns (evening peak, lunch bump, quiet nights)."""
    day = rng.choice(len(day_weight), size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return day * 86400 + hour * 3600 + rng.uniform(0, 3600, n)


def _link_times(rng: np.random.Generator, n: int, day_weight: np.ndarray, days: int) -> np.ndarray:
    """A link's submission times: 30–60 % in push waves (20–90 min after a post), the rest spread."""
    seconds = _spread(rng, n, day_weight)
    in_wave = rng.random(n) < rng.uniform(0.3, 0.6)
    posts = int(rng.integers(1, 4))
    post_at = rng.choice(days, posts, replace=posts > days) * 86400 \
        + rng.choice([8, 12, 18, 19, 20, 21], posts) * 3600 + rng.uniform(0, 3600, posts)
    lasting = rng.uniform(20, 90, posts) * 60
    which = rng.integers(0, posts, n)
    delay = np.minimum(rng.exponential(lasting[which] / 3), lasting[which])
    return np.where(in_wave, post_at[which] + delay, seconds)


def _free_text(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.random(n)
    common = np.array(COMMON_TEXT, dtype=object)[rng.integers(0, len(COMMON_TEXT), n)]
    topic = np.array(TOPICS, dtype=object)[rng.integers(0, len(TOPICS), n)]
    own = "希望学校改进" + topic + "（" + rng.integers(1, 10**6, n).astype(str).astype(object) + "）"
    return np.where(kind < 0.75, "", np.where(kind < 0.87, common, own))


def _sessions(rng: np.random.Generator, n: int, cap: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Split n coached answers into sessions of at most ``cap``: per answer its session, and each session's day.

    Heavy coaching is not one burst: a school that coaches 90 % of its answers sends the link again on
    other evenings (days taken in turn from a random first one)."""
    k = max(1, -(-n // cap))
    which = np.sort(np.arange(n) % k)
    first = int(rng.integers(days))
    return which, (first + np.arange(k)) % days


def _skewed(rng: np.random.Generator, n: int, p: tuple[float, float, float] = (0.8, 0.17, 0.03)) -> np.ndarray:
    """n×9 answers drawn item by item from a skewed distribution (A, B, C) rather than copied."""
    return OPTIONS[rng.choice(3, size=(n, len(ITEMS)), p=p)].astype(object)


def _waves(rng: np.random.Generator, n: int, days: int, cap: int = 80) -> np.ndarray:
    """Push waves of at most ``cap`` answers, each 20–90 min after an evening post."""
    which, day = _sessions(rng, n, cap, days)
    post = day * 86400 + rng.integers(18, 22, len(day)) * 3600 + rng.uniform(0, 3600, len(day))
    lasting = rng.uniform(20, 90, len(day)) * 60
    return post[which] + np.minimum(rng.exponential(lasting[which] / 3), lasting[which])


def _coaching(rng: np.random.Generator, pattern: str, n: int, days: int) -> dict:
    """n coached answers of one pattern: seconds, answers (n×9), durations, free text, form record (bool)."""
    answers = np.full((n, len(ITEMS)), "A", dtype=object)
    text = np.full(n, "" if rng.random() < 0.5 else COACHED_TEXT[int(rng.integers(len(COACHED_TEXT)))], dtype=object)
    durations = np.exp(rng.normal(np.log(60), 0.4, n))
    traced = np.ones(n, dtype=bool)      # answered on the page (its script ran)
    if pattern in ("burst_all_a", "burst_one_b"):
        which, day = _sessions(rng, n, 60, days)
        begin = day * 86400 + rng.integers(19, 22, len(day)) * 3600 + rng.uniform(0, 3000, len(day))
        seconds = begin[which] + rng.uniform(0, 600, n)
        if pattern == "burst_one_b":
            answers[np.arange(n), rng.integers(0, len(ITEMS), n)] = "B"
    elif pattern == "meeting_all_a":
        which, day = _sessions(rng, n, 50, days)
        begin = day * 86400 + rng.integers(14, 19, len(day)) * 3600 + rng.uniform(0, 2700, len(day))
        seconds = begin[which] + rng.uniform(0, 900, n)
        durations = np.exp(rng.normal(np.log(100), 0.4, n))
    elif pattern == "push_wave_a":
        seconds = _waves(rng, n, days)
        text[:] = ""
        durations = np.exp(rng.normal(np.log(90), 0.5, n))
    elif pattern == "mostly_satisfied":   # a template of nine A with one or two B sprinkled in, per parent
        seconds = _waves(rng, n, days)
        first = rng.integers(0, len(ITEMS), n)
        answers[np.arange(n), first] = "B"
        second = rng.random(n) < 0.5
        answers[np.flatnonzero(second), rng.integers(0, len(ITEMS), int(second.sum()))] = "B"
        durations = np.exp(rng.normal(np.log(90), 0.5, n))
    elif pattern == "skewed":             # "choose 满意 or 比较满意": drawn, not copied
        seconds = _waves(rng, n, days)
        answers = _skewed(rng, n)
        text[:] = ""
        durations = np.exp(rng.normal(np.log(90), 0.5, n))
    elif pattern == "scripted":           # a paid filler's script: posts without the page, human-like timing
        answers = _skewed(rng, n)
        text[:] = ""
        durations = np.exp(rng.normal(np.log(100), 0.6, n))
        evening = rng.integers(0, days, n) * 86400 + rng.uniform(19, 23.5, n) * 3600
        seconds = np.sort(evening)
        traced[:] = False
    else:   # staff_fill: sittings of up to 40 forms, one after another, fresh cookie each time
        day = int(rng.integers(days))
        vector = np.full(len(ITEMS), "A", dtype=object)
        if rng.random() < 0.5:
            vector[rng.choice(len(ITEMS), int(rng.integers(1, 3)), replace=False)] = "B"
        answers[:] = vector
        text[:] = ""
        durations = np.clip(rng.normal(45, 8, n), 25, None)
        gaps = durations + np.clip(rng.normal(15, 5, n), 3, None)
        seconds = np.empty(n)
        for k, start in enumerate(range(0, n, 40)):
            block = slice(start, min(n, start + 40))
            begin = ((day + k) % days) * 86400 + int(rng.integers(19, 22)) * 3600 + rng.uniform(0, 1800)
            seconds[block] = begin + np.cumsum(gaps[block])
    return {"seconds": seconds, "answers": answers, "duration_s": durations, "free_text": text, "traced": traced}


def generate_campaign(seed: int, n_schools: int = 30, n_coached: int = 0, *, days: int = 5,
                      size_scale: float = 1.0, patterns: tuple[tuple[str, float], ...] | None = None,
                      meeting_share: float = 0.3, start: str = "2026-05-11", level: float = 0.0) -> Campaign:
    """A synthetic county campaign.

    ``patterns`` gives (pattern, strength) for each coached school (chosen at random);
    without it, ``n_coached`` schools get ``burst_all_a`` at strength 30 %. A coached
    school's coached answers are ``strength`` of all its answers. ``level`` shifts every
    school's latent satisfaction (negative: a county nearer 85 %). Each answer made on the
    page carries the form's record (``form_trace``); 1–6 % of a school's genuine answers come
    from phones without JavaScript (no record), drawn from a second generator so that the
    rest of the campaign is the same with or without it.
    """
    rng = np.random.default_rng(seed)
    if patterns is None:
        patterns = (("burst_all_a", 0.3),) * n_coached
    origin = pd.Timestamp(start)
    codes = [f"X{i:03d}" for i in range(n_schools)]
    location = rng.choice(["urban", "town", "rural"], n_schools, p=[0.4, 0.35, 0.25])
    parents = np.clip(np.round(np.exp(rng.normal(np.log(70), 0.6, n_schools)) * size_scale), 12, 400).astype(int)
    counts = {
        "parent": parents,
        "student": np.round(parents * rng.uniform(0.3, 0.6, n_schools)).astype(int),
        "teacher": np.clip(np.round(parents * rng.uniform(0.1, 0.2, n_schools)), 3, 60).astype(int),
        "principal": rng.integers(1, 3, n_schools),
    }
    satisfaction = rng.normal(0, 0.5, n_schools) + level
    straight_bias = rng.normal(0, 0.3, n_schools)
    speeder_rate = np.clip(0.03 * np.exp(rng.normal(0, 0.4, n_schools)), 0, 0.2)
    duplicate_rate = np.clip(0.015 * np.exp(rng.normal(0, 0.4, n_schools)), 0, 0.1)
    coached = tuple(sorted(rng.choice(codes, size=len(patterns), replace=False))) if patterns else ()
    pattern_of = dict(zip(coached, patterns))
    meeting_of = {c for c in codes if c not in pattern_of and rng.random() < meeting_share}

    parts = []
    device = 0
    for s, code in enumerate(codes):     # one block per school; rows are generated vectorised
        day_weight = np.ones(days)
        day_weight[0] = 2.5
        day_weight[rng.integers(1, days)] = 1.6
        school_parts = []
        for group, per_school in counts.items():
            n = int(per_school[s])
            z = satisfaction[s] + GROUP_EFFECT[group] + rng.normal(0, 1, n)
            kind = "staff" if group in ("teacher", "principal") else group
            seconds = _link_times(rng, n, day_weight, days)
            devices = device + np.arange(n)
            device += n
            meeting = np.zeros(n, dtype=bool)
            if group == "parent" and code in meeting_of:        # ~40 parents in 15 minutes, ordinary answers
                m = min(n // 2, int(rng.integers(32, 49)))
                meeting[rng.choice(n, m, replace=False)] = True
                at = int(rng.integers(days)) * 86400 + int(rng.integers(14, 19)) * 3600 + rng.uniform(0, 2700)
                seconds = np.where(meeting, at + rng.uniform(0, 900, n), seconds)
            if group == "parent":                                # some families answer twice on one phone
                again = rng.random(n) < 0.05
                devices = np.where(again, devices[rng.integers(0, n, n)], devices)
            if group == "student" and rng.random() < 0.3:        # a computer-room session on shared machines
                lab = rng.random(n) < 0.5
                at = int(rng.integers(days)) * 86400 + int(rng.integers(9, 16)) * 3600
                seconds = np.where(lab, at + rng.uniform(0, 2400, n), seconds)
                devices = np.where(lab, device + rng.integers(0, 30, n), devices)
                device += 30
            school_parts.append(pd.DataFrame({
                "group": group, "school_code": code, "location": location[s], "link_id": f"{code}-{kind}",
                "grade": rng.integers(3, 10, n).astype(str) if group == "student" else "",
                "seconds": seconds, "free_text": _free_text(rng, n), "device": devices, "meeting": meeting,
                "speeder_rate": speeder_rate[s], "duplicate_rate": duplicate_rate[s], "coached": False, "traced": True,
                "duration_s": np.where(rng.random(n) < speeder_rate[s], rng.uniform(5, 19.5, n),
                                       np.exp(rng.normal(np.log(100), 0.6, n))),
                **dict(zip(ITEMS, _answers(rng, z, np.full(n, straight_bias[s])).T)),
            }))
        if code in pattern_of:
            pattern, strength = pattern_of[code]
            total = sum(len(p) for p in school_parts)
            n = max(1, int(round(strength / (1 - strength) * total)))
            c = _coaching(rng, pattern, n, days)
            school_parts.append(pd.DataFrame({
                "group": "parent", "school_code": code, "location": location[s], "link_id": f"{code}-parent",
                "grade": "", "seconds": c["seconds"], "free_text": c["free_text"], "device": device + np.arange(n),
                "meeting": False, "speeder_rate": 0.0, "duplicate_rate": 0.0, "coached": True, "traced": c["traced"],
                "duration_s": c["duration_s"], **{item: c["answers"][:, k] for k, item in enumerate(ITEMS)},
            }))
            device += n
        parts.extend(school_parts)
    for group, n in (("npc_deputy", 15), ("cppcc_member", 15), ("public", 40)):
        n = int(round(n * size_scale))
        z = GROUP_EFFECT[group] + rng.normal(0, 1, n)
        parts.append(pd.DataFrame({
            "group": group, "school_code": "", "location": rng.choice(["urban", "town", "rural"], n),
            "link_id": f"county-{group}", "grade": "", "free_text": _free_text(rng, n),
            "seconds": _link_times(rng, n, np.ones(days), days), "device": device + np.arange(n), "meeting": False,
            "speeder_rate": 0.03, "duplicate_rate": 0.015, "coached": False, "traced": True,
            "duration_s": np.exp(rng.normal(np.log(100), 0.6, n)),
            **dict(zip(ITEMS, _answers(rng, z, np.zeros(n)).T)),
        }))
        device += n
    frame = pd.concat(parts, ignore_index=True)
    frame["duplicate_of"] = ""

    # Duplicates: resubmissions of earlier responses on the same device, mostly with the same answers.
    n = len(frame)
    again = np.flatnonzero(rng.random(n) < frame["duplicate_rate"].to_numpy())
    copies = frame.iloc[again].copy()
    copies["seconds"] = copies["seconds"] + rng.uniform(60, 7200, len(again))
    copies["meeting"] = False
    changed = rng.random(len(again)) >= 0.7
    fresh = _answers(rng, rng.normal(0, 1, len(again)), np.zeros(len(again)))
    for k, item in enumerate(ITEMS):
        copies[item] = np.where(changed, fresh[:, k], copies[item].to_numpy())
    copies["duration_s"] = np.exp(rng.normal(np.log(80), 0.6, len(again)))
    frame["response_id"] = [f"r{i}" for i in range(n)]
    copies["duplicate_of"] = frame["response_id"].to_numpy()[again]
    copies["response_id"] = [f"r{n + i}" for i in range(len(again))]
    frame = pd.concat([frame, copies], ignore_index=True)
    frame["submitted_at"] = origin.to_datetime64() + (np.round(frame["seconds"].to_numpy()) * 1e9).astype(
        "timedelta64[ns]")
    frame = frame.sort_values("submitted_at", kind="stable").reset_index(drop=True)

    raw = frame.assign(questionnaire=frame["group"].map(QUESTIONNAIRE), duration_s=frame["duration_s"].round(1))
    raw = raw.astype({c: str for c in ("duration_s",)})
    responses = normalise_responses(raw, codes, name="synthetic")
    responses["submitted_at"] = frame["submitted_at"].to_numpy()
    responses["link_id"] = frame["link_id"].to_numpy()
    responses["free_text"] = frame["free_text"].to_numpy()
    responses["device_hash"] = "d" + frame["device"].astype(str).to_numpy()
    trace_rng = np.random.default_rng(10**6 + seed)
    no_js = dict(zip(codes, np.clip(0.025 * np.exp(trace_rng.normal(0, 0.5, n_schools)), 0.01, 0.06)))
    js = frame["traced"].to_numpy(dtype=bool) & (
        trace_rng.random(len(frame)) >= frame["school_code"].map(no_js).fillna(0.025).to_numpy())
    responses["form_trace"] = np.where(js, _traces(trace_rng, frame["duration_s"].to_numpy(dtype=float)), "")
    responses["coached"] = frame["coached"].to_numpy(dtype=bool)
    meetings = {code: tuple(frame.loc[frame["meeting"] & (frame["school_code"] == code), "response_id"])
                for code in sorted(meeting_of)}
    return Campaign(responses, tuple(codes), coached, pattern_of, meetings)


def _traces(rng: np.random.Generator, duration: np.ndarray) -> np.ndarray:
    """The form's record as its script writes it (f: seconds to the first answer; s: seconds spent on the
    identity, the nine items and the comment; c: answers changed) — see respondent/form.html."""
    first = np.minimum(duration * rng.uniform(0.05, 0.2, len(duration)), 60)
    rest = np.maximum(duration - first, 3.0)[:, None] * rng.dirichlet([2, 8, 1], len(duration))
    parts = [np.char.mod("f%.1f;s", first)] + [np.char.mod(f, rest[:, k]) for k, f in enumerate(("%.1f,", "%.1f,", "%.1f"))]
    parts.append(np.char.mod(";c%d", rng.poisson(0.6, len(duration))))
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(out, part)
    return out.astype(object)


COMBOS = tuple((p, st) for st in STRENGTHS for p in PATTERNS)


def county_patterns(seed: int, n_coached: int = len(PATTERNS)) -> tuple[tuple[str, float], ...]:
    """(pattern, strength) of each coached school: every combination in turn, shifted with the seed, so that
    every cell of pattern × strength is filled at every share of coached schools."""
    return tuple(COMBOS[(seed * n_coached + k) % len(COMBOS)] for k in range(n_coached))


def _called_out(report, profile):
    """The page's county sentence for this report (None when it says nothing; before issue 23 the page had none)."""
    from scoring import integrity
    call_out = getattr(integrity, "county_call_out", None)
    return call_out(report.sensitivity, profile) if call_out else None


def _one(args) -> dict:
    seed, n_schools, share, level = args
    profile = load_profile()
    settings = integrity_settings()
    n_coached = int(round(share * n_schools))
    # Near 85 %: coaching 30 % of the answers in a share of the schools, the patterns in turn.
    patterns = county_patterns(seed, n_coached) if level == 0.0 else \
        tuple((PATTERNS[(seed + k) % len(PATTERNS)], 0.3) for k in range(n_coached))
    campaign = generate_campaign(seed, n_schools, patterns=patterns, level=level)
    validity = classify_validity(campaign.responses, profile)
    t0 = time.perf_counter()
    report = integrity_report(campaign.responses, validity, settings, profile)
    elapsed = time.perf_counter() - t0
    hit = flagged_schools(report.flags)
    ids = campaign.responses["response_id"].astype(str).to_numpy()
    link_rows = {}
    for flag in report.flags:
        if flag.scope == "link":
            link_rows.setdefault(flag.school_code, set()).update(ids[list(flag.rows)])
    meetings_flagged = sum(bool(set(rows) & link_rows.get(code, set())) for code, rows in campaign.meetings.items())
    clean = set(campaign.schools) - set(campaign.coached)
    kinds_clean = {}
    for flag in report.flags:
        if flag.school_code in clean:
            kinds_clean[flag.kind] = kinds_clean.get(flag.kind, 0) + 1
    # The county without its coached answers (the truth, known to the generator only) and with them.
    coached_rows = campaign.responses["coached"].to_numpy(dtype=bool)
    honest = evaluate_rate(campaign.responses, profile, validity.astype(object).where(~coached_rows, "set_aside"))
    rated = evaluate_rate(campaign.responses, profile, validity)
    threshold = float(profile.recognition["recognition_threshold"])
    carried = bool(rated.rate >= threshold > honest.rate)
    carried_lb = bool(rated.lower_bound_95 >= threshold > honest.lower_bound_95)
    return {"seed": seed, "share": share, "level": level,
            "coached": {code: (*campaign.patterns[code], code in hit) for code in campaign.coached},
            "clean": len(clean), "clean_flagged": len(hit & clean), "meetings": len(campaign.meetings),
            "meetings_flagged": meetings_flagged,
            "meeting_schools_flagged": len(hit & set(campaign.meetings)), "kinds_clean": kinds_clean,
            "information": len(report.information), "tests": report.tests, "seconds": elapsed,
            "rate": rated.rate, "honest_rate": honest.rate, "carried": carried, "carried_lb": carried_lb,
            "called_out": _called_out(report, profile) is not None}


def wilson(hit: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson 95 % interval of a proportion (as scipy's binomtest(...).proportion_ci(method="wilson"))."""
    if n == 0:
        return 0.0, 1.0
    p = hit / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def run(seeds: list[int], n_schools: int = 30, workers: int = 2, shares=SHARES, near_level: float = -0.3,
        near_share: float = 0.2) -> dict:
    started = time.perf_counter()
    jobs = [(s, n_schools, share, 0.0) for share in shares for s in seeds]
    jobs += [(s, n_schools, near_share, near_level) for s in seeds]   # counties near 85 %
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_one, jobs, chunksize=4))
    else:
        results = [_one(j) for j in jobs]
    grid = [r for r in results if r["level"] == 0.0]
    near = [r for r in results if r["level"] != 0.0]
    cells = {}
    for r in grid:
        for pattern, strength, hit in r["coached"].values():
            cell = cells.setdefault((pattern, strength, r["share"]), [0, 0])
            cell[0] += hit
            cell[1] += 1
    total = lambda key, rs=grid: sum(r[key] for r in rs)   # noqa: E731
    kinds = {}
    for r in grid:
        for k, v in r["kinds_clean"].items():
            kinds[k] = kinds.get(k, 0) + v
    return {"seeds": seeds, "shares": shares, "cells": cells, "clean": total("clean"),
            "clean_flagged": total("clean_flagged"), "meetings": total("meetings"),
            "meetings_flagged": total("meetings_flagged"), "meeting_schools_flagged": total("meeting_schools_flagged"),
            "kinds_clean": kinds, "information": total("information"), "tests": total("tests") / len(grid),
            "signal_seconds": sum(r["seconds"] for r in results), "seconds": time.perf_counter() - started,
            "near": len(near), "near_below": sum(r["honest_rate"] < 0.85 for r in near),
            "carried": sum(r["carried"] for r in near), "carried_called": sum(r["carried"] and r["called_out"] for r in near),
            "carried_lb": sum(r["carried_lb"] for r in near),
            "carried_lb_called": sum(r["carried_lb"] and r["called_out"] for r in near),
            "near_called": sum(r["called_out"] for r in near), "near_clean_flagged": total("clean_flagged", near),
            "near_clean": total("clean", near), "counties": len(results)}


def _pooled(cells: dict, **where) -> tuple[int, int]:
    keys = ("pattern", "strength", "share")
    chosen = [v for k, v in cells.items() if all(k[keys.index(n)] == x for n, x in where.items())]
    return sum(v[0] for v in chosen), sum(v[1] for v in chosen)


def table(r: dict) -> str:
    cells, shares = r["cells"], r["shares"]
    pct = lambda h, n: f"{100 * h / n:.0f} %" if n else "–"   # noqa: E731
    head = "| pattern | " + " | ".join(f"{100 * st:.0f} % @ {100 * sh:.0f} %" for st in STRENGTHS for sh in shares) + " |"
    lines = ["Detection by pattern × strength @ share of schools coached (flagged / coached):", "", head,
             "|---|" + "---|" * (len(STRENGTHS) * len(shares))]
    for pattern in PATTERNS:
        row = ["{}/{}".format(*_pooled(cells, pattern=pattern, strength=st, share=sh)) for st in STRENGTHS for sh in shares]
        lines.append(f"| {PATTERN_NAMES[pattern]} | " + " | ".join(row) + " |")
    lines += ["", "All patterns, by strength × share (Wilson 95 % interval):", "",
              "| strength | " + " | ".join(f"{100 * sh:.0f} % of schools" for sh in shares) + " | all shares |",
              "|---|" + "---|" * (len(shares) + 1)]
    for st in STRENGTHS:
        row = []
        for sh in (*shares, None):
            h, n = _pooled(cells, strength=st, **({} if sh is None else {"share": sh}))
            lo, hi = wilson(h, n)
            row.append(f"{h}/{n} = {pct(h, n)} ({100 * lo:.0f}–{100 * hi:.0f})")
        lines.append(f"| {100 * st:.0f} % | " + " | ".join(row) + " |")
    lines += ["", "By pattern, strength ≥ 30 %, all shares:", "", "| pattern | flagged |", "|---|---|"]
    for pattern in PATTERNS:
        h = sum(_pooled(cells, pattern=pattern, strength=st)[0] for st in STRENGTHS if st >= 0.3)
        n = sum(_pooled(cells, pattern=pattern, strength=st)[1] for st in STRENGTHS if st >= 0.3)
        lines.append(f"| {PATTERN_NAMES[pattern]} | {h}/{n} = {100 * h / n:.1f} % |")
    strong = [v for (p, st, sh), v in cells.items() if st >= 0.3]
    hit, n = sum(v[0] for v in strong), sum(v[1] for v in strong)
    lines += ["", f"- **strength ≥ 30 %, every pattern and share: {hit}/{n} = {100 * hit / n:.1f} %** (goal ≥ 90 % in every cell"
                  " of strength × share)",
              f"- clean schools flagged: {r['clean_flagged']}/{r['clean']} = {100 * r['clean_flagged'] / r['clean']:.2f} %"
              f" (goal ≤ 2 %); flags on them by kind: {r['kinds_clean']}",
              f"- legitimate parents' meetings flagged (a link flag on the meeting's answers): {r['meetings_flagged']}/"
              f"{r['meetings']} = {100 * r['meetings_flagged'] / max(1, r['meetings']):.1f} % (goal ≤ 10 %); schools with a"
              f" meeting flagged for anything: {r['meeting_schools_flagged']}",
              f"- counties near 85 % ({r['near']}, a fifth of the schools coached at 30 %, patterns rotating): "
              f"{r['near_below']} below 85 % without the coached answers; coaching carried {r['carried']} across 85 %, "
              f"the page's sentence calls out {r['carried_called']} of them; across 85 % by the lower bound "
              f"{r['carried_lb']}, called out {r['carried_lb_called']}; sentences in all {r['near_called']}; clean schools "
              f"flagged there {r['near_clean_flagged']}/{r['near_clean']}",
              f"- 集中作答 information shown: {r['information']} windows; tests per county (one family): {r['tests']:.0f}",
              f"- time: {r['seconds']:.0f} s in all for {r['counties']} counties, {r['signal_seconds']:.0f} s in "
              "integrity_report (2 cores shared with other sessions' jobs)"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    r = run(seeds, args.schools, args.workers)
    print(f"seeds {seeds[0]}–{seeds[-1]}: {len(seeds)} counties of {args.schools} schools at each share of coached "
          f"schools ({', '.join(f'{100 * s:.0f} %' for s in SHARES)}), patterns × strengths rotating; the same seeds "
          "again as counties near 85 %")
    print(table(r))


if __name__ == "__main__":
    main()
