"""Benchmark: do the integrity signals find coached schools, and leave clean ones alone?

A synthetic campaign generator (importable: ``generate_campaign``) and a script that
runs ``scoring.integrity.integrity_flags`` over repeated seeds and prints the share
of injected (coached) schools flagged and the share of clean schools flagged
(goal: ≥ 95 % and ≤ 5 %). Usage: python benchmarks/integrity_signals.py [--seeds 50]

Clean campaign: ~30 schools of varied size (parents log-normal around 70), each with
a student, a parent and a staff QR link, plus county links for deputies, CPPCC
members and the public. Answers come from a latent satisfaction per respondent
(school effect + group effect + noise): about a third answer all nine items alike
("straight-liners", mostly all A), the others item by item, with some E answers.
Free text: mostly empty, some common phrases, some individual comments. Schools
differ in satisfaction, straight-lining, speeder and duplicate rates. Submissions
spread over five days with evening peaks (19–22 h), a lunch bump, quiet nights, a
busy announcement day and a reminder day per school; duplicates are resubmissions
a few minutes to two hours after the first, mostly with the same answers.

Coaching (injected): 15–40 extra parents of a school submit one answer pattern
(all A, or all A with one to three B's; empty or one shared comment) through the
school's parent link within ten minutes of an evening, quickly (median 50 s).
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
from scoring.recognition import classify_validity  # noqa: E402
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


PATTERNS = ("burst_all_a", "burst_one_b", "meeting_all_a", "push_wave_a", "staff_fill")
PATTERN_NAMES = {"burst_all_a": "burst, all satisfied", "burst_one_b": "burst, all satisfied but one B",
                 "meeting_all_a": "meeting, all satisfied", "push_wave_a": "push wave 请选满意",
                 "staff_fill": "staff filling, fresh cookie, fixed vector"}
STRENGTHS = (0.15, 0.30, 0.60)


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


def _coaching(rng: np.random.Generator, pattern: str, n: int, days: int) -> dict:
    """n coached answers of one pattern: seconds, answers (n×9), durations, free text, fresh devices."""
    answers = np.full((n, len(ITEMS)), "A", dtype=object)
    text = np.full(n, "" if rng.random() < 0.5 else COACHED_TEXT[int(rng.integers(len(COACHED_TEXT)))], dtype=object)
    durations = np.exp(rng.normal(np.log(60), 0.4, n))
    day = int(rng.integers(days))
    if pattern in ("burst_all_a", "burst_one_b"):
        begin = day * 86400 + int(rng.integers(19, 22)) * 3600 + rng.uniform(0, 3000)
        seconds = begin + rng.uniform(0, 600, n)
        if pattern == "burst_one_b":
            answers[np.arange(n), rng.integers(0, len(ITEMS), n)] = "B"
    elif pattern == "meeting_all_a":
        seconds = day * 86400 + int(rng.integers(14, 19)) * 3600 + rng.uniform(0, 2700) + rng.uniform(0, 900, n)
        durations = np.exp(rng.normal(np.log(100), 0.4, n))
    elif pattern == "push_wave_a":
        post = day * 86400 + int(rng.integers(18, 22)) * 3600 + rng.uniform(0, 3600)
        lasting = rng.uniform(20, 90) * 60
        seconds = post + np.minimum(rng.exponential(lasting / 3, n), lasting)
        text[:] = ""
        durations = np.exp(rng.normal(np.log(90), 0.5, n))
    else:   # staff_fill: sittings of up to 40 forms, one after another, fresh cookie each time
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
    return {"seconds": seconds, "answers": answers, "duration_s": durations, "free_text": text}


def generate_campaign(seed: int, n_schools: int = 30, n_coached: int = 0, *, days: int = 5,
                      size_scale: float = 1.0, patterns: tuple[tuple[str, float], ...] | None = None,
                      meeting_share: float = 0.3, start: str = "2026-05-11") -> Campaign:
    """A synthetic county campaign.

    ``patterns`` gives (pattern, strength) for each coached school (chosen at random);
    without it, ``n_coached`` schools get ``burst_all_a`` at strength 30 %. A coached
    school's coached answers are ``strength`` of all its answers.
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
    satisfaction = rng.normal(0, 0.5, n_schools)
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
                "speeder_rate": speeder_rate[s], "duplicate_rate": duplicate_rate[s], "coached": False,
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
                "meeting": False, "speeder_rate": 0.0, "duplicate_rate": 0.0, "coached": True,
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
            "speeder_rate": 0.03, "duplicate_rate": 0.015, "coached": False,
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
    meetings = {code: tuple(frame.loc[frame["meeting"] & (frame["school_code"] == code), "response_id"])
                for code in sorted(meeting_of)}
    return Campaign(responses, tuple(codes), coached, pattern_of, meetings)


def county_patterns(seed: int) -> tuple[tuple[str, float], ...]:
    """One coached school per pattern; strengths rotate with the seed so that every cell is filled."""
    return tuple((p, STRENGTHS[(seed + k) % len(STRENGTHS)]) for k, p in enumerate(PATTERNS))


def _one(args) -> dict:
    seed, n_schools = args
    profile = load_profile()
    settings = integrity_settings()
    campaign = generate_campaign(seed, n_schools, patterns=county_patterns(seed))
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
    return {"seed": seed, "coached": {code: (*campaign.patterns[code], code in hit) for code in campaign.coached},
            "clean": len(clean), "clean_flagged": len(hit & clean), "meetings": len(campaign.meetings),
            "meetings_flagged": meetings_flagged,
            "meeting_schools_flagged": len(hit & set(campaign.meetings)), "kinds_clean": kinds_clean,
            "information": len(report.information), "tests": report.tests, "seconds": elapsed,
            "rate": report.sensitivity.rate, "rate_set_aside": report.sensitivity.rate_set_aside}


def run(seeds: list[int], n_schools: int = 30, workers: int = 2) -> dict:
    started = time.perf_counter()
    jobs = [(s, n_schools) for s in seeds]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_one, jobs))
    else:
        results = [_one(j) for j in jobs]
    cells = {}
    for r in results:
        for pattern, strength, hit in r["coached"].values():
            cell = cells.setdefault((pattern, strength), [0, 0])
            cell[0] += hit
            cell[1] += 1
    total = lambda key: sum(r[key] for r in results)   # noqa: E731
    kinds = {}
    for r in results:
        for k, v in r["kinds_clean"].items():
            kinds[k] = kinds.get(k, 0) + v
    return {"seeds": seeds, "cells": cells, "clean": total("clean"), "clean_flagged": total("clean_flagged"),
            "meetings": total("meetings"), "meetings_flagged": total("meetings_flagged"),
            "meeting_schools_flagged": total("meeting_schools_flagged"), "kinds_clean": kinds,
            "information": total("information"), "tests": total("tests") / len(results),
            "signal_seconds": total("seconds"), "seconds": time.perf_counter() - started,
            "rate_shift": float(np.mean([r["rate"] - r["rate_set_aside"] for r in results]))}


def table(r: dict) -> str:
    lines = ["| pattern | 15 % | 30 % | 60 % |", "|---|---|---|---|"]
    for pattern in PATTERNS:
        row = [f"{r['cells'].get((pattern, s), [0, 0])[0]}/{r['cells'].get((pattern, s), [0, 0])[1]}"
               for s in STRENGTHS]
        lines.append(f"| {PATTERN_NAMES[pattern]} | " + " | ".join(row) + " |")
    strong = [v for (p, s), v in r["cells"].items() if s >= 0.3]
    hit, n = sum(v[0] for v in strong), sum(v[1] for v in strong)
    lines.append(f"| **all patterns, strength ≥ 30 %** | | **{hit}/{n} = {100 * hit / n:.1f} %** (goal ≥ 90 %) | |")
    lines.append("")
    lines.append(f"- clean schools flagged: {r['clean_flagged']}/{r['clean']} = "
                 f"{100 * r['clean_flagged'] / r['clean']:.2f} % (goal ≤ 2 %); flags on them by kind: {r['kinds_clean']}")
    lines.append(f"- legitimate parents' meetings flagged (a link flag on the meeting's answers): "
                 f"{r['meetings_flagged']}/{r['meetings']} = {100 * r['meetings_flagged'] / max(1, r['meetings']):.1f} %"
                 f" (goal ≤ 10 %); schools with a meeting flagged for anything: {r['meeting_schools_flagged']}")
    lines.append(f"- 集中作答 information shown: {r['information']} windows; tests per county (one family): "
                 f"{r['tests']:.0f}; mean rate − rate with flagged answers set aside: {100 * r['rate_shift']:.2f} points")
    lines.append(f"- time: {r['seconds']:.0f} s in all, {r['signal_seconds']:.0f} s in integrity_report")
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
    print(f"seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} counties of {args.schools} schools; five coached per county, "
          f"one per pattern, strengths rotating)")
    print(table(r))


if __name__ == "__main__":
    main()
