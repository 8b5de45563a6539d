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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.integrity import KINDS, flagged_schools, integrity_flags, integrity_settings  # noqa: E402
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


@dataclass(frozen=True)
class Campaign:
    responses: pd.DataFrame        # normalised columns + submitted_at, link_id, free_text
    schools: tuple[str, ...]
    coached: tuple[str, ...]       # schools with an injected coaching burst


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


def _times(rng: np.random.Generator, n: int, day_weight: np.ndarray, start: pd.Timestamp) -> np.ndarray:
    day = rng.choice(len(day_weight), size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    seconds = day * 86400 + hour * 3600 + rng.uniform(0, 3600, n)
    return start.to_datetime64() + (seconds * 1e9).astype("timedelta64[ns]")


def _free_text(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.random(n)
    common = np.array(COMMON_TEXT, dtype=object)[rng.integers(0, len(COMMON_TEXT), n)]
    topic = np.array(TOPICS, dtype=object)[rng.integers(0, len(TOPICS), n)]
    own = "希望学校改进" + topic + "（" + rng.integers(1, 10**6, n).astype(str).astype(object) + "）"
    return np.where(kind < 0.75, "", np.where(kind < 0.87, common, own))


def generate_campaign(seed: int, n_schools: int = 30, n_coached: int = 0, *, days: int = 5,
                      size_scale: float = 1.0, burst_size: tuple[int, int] = (15, 40),
                      start: str = "2026-05-11") -> Campaign:
    """A synthetic campaign; ``n_coached`` schools (chosen at random) get a coaching burst."""
    rng = np.random.default_rng(seed)
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

    parts = []
    for s, code in enumerate(codes):     # one block per school; rows are generated vectorised
        day_weight = np.ones(days)
        day_weight[0] = 2.5
        day_weight[rng.integers(1, days)] = 1.6
        for group, per_school in counts.items():
            n = int(per_school[s])
            z = satisfaction[s] + GROUP_EFFECT[group] + rng.normal(0, 1, n)
            link = f"{code}-{'staff' if group in ('teacher', 'principal') else group}"
            parts.append(pd.DataFrame({
                "group": group, "school_code": code, "location": location[s], "link_id": link,
                "grade": rng.integers(3, 10, n).astype(str) if group == "student" else "",
                "submitted_at": _times(rng, n, day_weight, origin), "free_text": _free_text(rng, n),
                "speeder_rate": speeder_rate[s], "duplicate_rate": duplicate_rate[s],
                **dict(zip(ITEMS, _answers(rng, z, np.full(n, straight_bias[s])).T)),
            }))
    for group, n in (("npc_deputy", 15), ("cppcc_member", 15), ("public", 40)):
        n = int(round(n * size_scale))
        z = GROUP_EFFECT[group] + rng.normal(0, 1, n)
        parts.append(pd.DataFrame({
            "group": group, "school_code": "", "location": rng.choice(["urban", "town", "rural"], n),
            "link_id": f"county-{group}", "grade": "", "free_text": _free_text(rng, n),
            "submitted_at": _times(rng, n, np.ones(days), origin),
            "speeder_rate": 0.03, "duplicate_rate": 0.015,
            **dict(zip(ITEMS, _answers(rng, z, np.zeros(n)).T)),
        }))
    frame = pd.concat(parts, ignore_index=True)
    n = len(frame)
    frame["duration_s"] = np.where(rng.random(n) < frame["speeder_rate"], rng.uniform(5, 19.5, n),
                                   np.exp(rng.normal(np.log(100), 0.6, n)))
    frame["duplicate_of"] = ""

    coached = tuple(sorted(rng.choice(codes, size=n_coached, replace=False))) if n_coached else ()
    for code in coached:
        s = codes.index(code)
        b = int(rng.integers(burst_size[0], burst_size[1] + 1))
        pattern = np.full(len(ITEMS), "A", dtype=object)
        if rng.random() < 0.5:
            pattern[rng.choice(len(ITEMS), size=int(rng.integers(1, 4)), replace=False)] = "B"
        text = "" if rng.random() < 0.5 else COACHED_TEXT[int(rng.integers(len(COACHED_TEXT)))]
        begin = int(rng.integers(days)) * 86400 + int(rng.integers(19, 22)) * 3600 + rng.uniform(0, 3000)
        seconds = begin + rng.uniform(0, 600, b)
        frame = pd.concat([frame, pd.DataFrame({
            "group": "parent", "school_code": code, "location": location[s], "link_id": f"{code}-parent",
            "grade": "", "free_text": text, "speeder_rate": 0.0, "duplicate_rate": 0.0,
            "submitted_at": origin.to_datetime64() + (seconds * 1e9).astype("timedelta64[ns]"),
            "duration_s": np.exp(rng.normal(np.log(50), 0.4, b)), "duplicate_of": "",
            **{item: pattern[k] for k, item in enumerate(ITEMS)},
        })], ignore_index=True)

    # Duplicates: resubmissions of earlier responses, mostly with the same answers.
    n = len(frame)
    again = np.flatnonzero(rng.random(n) < frame["duplicate_rate"].to_numpy())
    copies = frame.iloc[again].copy()
    copies["submitted_at"] = copies["submitted_at"] + pd.to_timedelta(rng.uniform(60, 7200, len(again)), unit="s")
    changed = rng.random(len(again)) >= 0.7
    fresh = _answers(rng, rng.normal(0, 1, len(again)), np.zeros(len(again)))
    for k, item in enumerate(ITEMS):
        copies[item] = np.where(changed, fresh[:, k], copies[item].to_numpy())
    copies["duration_s"] = np.exp(rng.normal(np.log(80), 0.6, len(again)))
    frame["response_id"] = [f"r{i}" for i in range(n)]
    copies["duplicate_of"] = frame["response_id"].to_numpy()[again]
    copies["response_id"] = [f"r{n + i}" for i in range(len(again))]
    frame = pd.concat([frame, copies], ignore_index=True).sort_values("submitted_at", kind="stable")
    frame = frame.reset_index(drop=True)

    raw = frame.assign(questionnaire=frame["group"].map(QUESTIONNAIRE), duration_s=frame["duration_s"].round(1))
    raw = raw.astype({c: str for c in ("duration_s",)})
    responses = normalise_responses(raw, codes, name="synthetic")
    responses["submitted_at"] = frame["submitted_at"].to_numpy()
    responses["link_id"] = frame["link_id"].to_numpy()
    responses["free_text"] = frame["free_text"].to_numpy()
    return Campaign(responses, tuple(codes), coached)


def run(seeds: int, n_schools: int = 30, n_coached: int = 2, **options) -> dict:
    profile = load_profile()
    settings = integrity_settings()
    injected = injected_hit = clean = clean_hit = 0
    clean_only = clean_only_hit = 0
    by_kind_clean = dict.fromkeys(KINDS, 0)
    by_kind_injected = dict.fromkeys(KINDS, 0)
    started = time.perf_counter()
    signal_time = 0.0
    for seed in range(seeds):
        for campaign in (generate_campaign(seed, n_schools, n_coached, **options),
                         generate_campaign(10_000 + seed, n_schools, 0, **options)):
            validity = classify_validity(campaign.responses, profile)
            t0 = time.perf_counter()
            flags = integrity_flags(campaign.responses, validity, settings)
            signal_time += time.perf_counter() - t0
            hit = flagged_schools(flags)
            for flag in flags:
                target = by_kind_injected if flag.school_code in campaign.coached else by_kind_clean
                target[flag.kind] += 1
            injected += len(campaign.coached)
            injected_hit += len(hit & set(campaign.coached))
            clean_codes = set(campaign.schools) - set(campaign.coached)
            clean += len(clean_codes)
            clean_hit += len(hit & clean_codes)
            if not campaign.coached:
                clean_only += len(clean_codes)
                clean_only_hit += len(hit & clean_codes)
    return {"seeds": seeds, "injected": injected, "injected_flagged": injected_hit,
            "clean": clean, "clean_flagged": clean_hit, "clean_in_clean_campaigns": clean_only,
            "clean_flagged_in_clean_campaigns": clean_only_hit, "flags_on_clean_by_kind": by_kind_clean,
            "flags_on_injected_by_kind": by_kind_injected, "seconds": time.perf_counter() - started,
            "signal_seconds": signal_time}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--coached", type=int, default=2, help="coached schools per injected campaign")
    parser.add_argument("--burst", type=int, nargs=2, default=(15, 40), metavar=("MIN", "MAX"),
                        help="coached parents per burst (default 15 40)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply school sizes (default 1)")
    args = parser.parse_args()
    r = run(args.seeds, args.schools, args.coached, burst_size=tuple(args.burst), size_scale=args.scale)
    print(f"seeds: {r['seeds']} (each: one campaign with {args.coached} coached schools, one clean campaign; "
          f"{args.schools} schools each, sizes ×{args.scale:g}, bursts of {args.burst[0]}–{args.burst[1]} parents)")
    print(f"injected schools flagged: {r['injected_flagged']}/{r['injected']} "
          f"= {100 * r['injected_flagged'] / r['injected']:.1f} %   (goal ≥ 95 %)")
    print(f"clean schools flagged:    {r['clean_flagged']}/{r['clean']} "
          f"= {100 * r['clean_flagged'] / r['clean']:.1f} %   (goal ≤ 5 %)")
    print(f"  of which in fully clean campaigns: {r['clean_flagged_in_clean_campaigns']}/"
          f"{r['clean_in_clean_campaigns']} = "
          f"{100 * r['clean_flagged_in_clean_campaigns'] / r['clean_in_clean_campaigns']:.1f} %")
    print("flags on injected schools by kind:", r["flags_on_injected_by_kind"])
    print("flags on clean schools by kind:   ", r["flags_on_clean_by_kind"])
    print(f"time: {r['seconds']:.1f} s in all, {r['signal_seconds']:.1f} s in integrity_flags")


if __name__ == "__main__":
    main()
