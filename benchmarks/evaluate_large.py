"""Benchmark: evaluate a large county (300 schools, 1,000,000 responses).

Builds the county in a temporary folder, then runs `python -m scoring evaluate`
in a child process and prints its wall time and peak memory (max RSS), and the
in-process time of each phase. Usage:
python benchmarks/evaluate_large.py [--responses N] [--runs 3] [--keep DIR]
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring.profile import GROUPS, ITEMS, load_profile  # noqa: E402
from scoring.responses import read_responses  # noqa: E402
from scoring.verdict import evaluate  # noqa: E402
from scoring.workbook import read_workbook  # noqa: E402

EXAMPLE = ROOT / "tests" / "examples" / "example-pass"


def build_county(folder: Path, n_schools: int, n_responses: int, seed: int = 7,
                 export_like: bool = False) -> None:
    rng = np.random.default_rng(seed)
    template = pd.read_csv(EXAMPLE / "schools.csv", dtype=str, keep_default_na=False)
    rows = template.iloc[np.arange(n_schools) % len(template)].copy()
    rows["school_code"] = [f"B{i:04d}" for i in range(n_schools)]
    rows["school_name"] = [f"基准学校{i}" for i in range(n_schools)]
    rows.to_csv(folder / "schools.csv", index=False)
    county = pd.read_csv(EXAMPLE / "county.csv", dtype=str)
    county.loc[county["key"] == "resident_population", "value"] = "600000"
    county.to_csv(folder / "county.csv", index=False)
    (folder / "veto.csv").write_text((EXAMPLE / "veto.csv").read_text(encoding="utf-8"), encoding="utf-8")

    weights = np.array([1, 6, 1, 1, 1, 1, 1], dtype=float)
    groups = np.array(GROUPS)[rng.choice(len(GROUPS), n_responses, p=weights / weights.sum())]
    school_group = np.isin(groups, ["student", "parent", "teacher", "principal"])
    schools = np.array(rows["school_code"])[rng.integers(0, n_schools, n_responses)]
    location_of = dict(zip(rows["school_code"], rows["location"]))
    locations = np.where(school_group, pd.Series(schools).map(location_of).to_numpy(),
                         np.array(["urban", "town", "rural"])[rng.integers(0, 3, n_responses)])
    answers = np.array(list("ABCDE"))[rng.choice(5, (n_responses, len(ITEMS)), p=[0.5, 0.25, 0.15, 0.06, 0.04])]
    frame = pd.DataFrame({
        "response_id": [f"r{i:07d}" for i in range(n_responses)],
        "questionnaire": np.where(groups == "student", "student",
                                  np.where(np.isin(groups, ["teacher", "principal"]), "staff", "public")),
        "group": groups,
        "school_code": np.where(school_group, schools, ""),
        "location": locations,
        "grade": np.where(groups == "student", rng.integers(3, 10, n_responses).astype(str), ""),
        "duration_s": rng.integers(5, 600, n_responses),
        "duplicate_of": np.where(rng.random(n_responses) < 0.01, "r0000000", ""),
        **{item: answers[:, k] for k, item in enumerate(ITEMS)},
    })
    if export_like:
        frame = _like_export(frame, rng)
    frame.to_csv(folder / "responses.csv", index=False)


def _like_export(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Make the file look like the service's answers export (service/answers/exports.py).

    Submission ids are 36-character UUIDs and duplicates point at real earlier ones;
    durations are decimal seconds with one decimal; grades only for students (else blank);
    1 % of answers leave an item blank, 2 % answer E (no opinion) to every item.
    """
    n = len(frame)
    frame["response_id"] = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]
    duplicate = rng.random(n) < 0.01
    duplicate[0] = False
    targets = (rng.random(n) * np.arange(n)).astype(np.int64)
    frame["duplicate_of"] = np.where(duplicate, frame["response_id"].to_numpy()[targets], "")
    seconds = np.round(rng.lognormal(np.log(150), 0.8, n), 1)
    frame["duration_s"] = [f"{v:.1f}".rstrip("0").rstrip(".") for v in seconds]
    students = (frame["group"] == "student").to_numpy()
    frame["grade"] = np.where(students, rng.integers(1, 10, n).astype(str), "")
    all_e = rng.random(n) < 0.02
    for item in ITEMS:
        frame.loc[all_e, item] = "E"
    blank = rng.random(n) < 0.01
    columns = rng.integers(0, len(ITEMS), n)
    for k, item in enumerate(ITEMS):
        frame.loc[blank & (columns == k), item] = ""
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="CLI runs to time (each a fresh process)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the county in this folder, or reuse it when it already has responses.csv")
    parser.add_argument("--export-like", action="store_true",
                        help="responses like the service's export: UUID ids, decimal durations, grades, "
                             "blank items, all-E rows, duplicates pointing at real ids")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "responses.csv").exists():
            t0 = time.perf_counter()
            build_county(folder, args.schools, args.responses, export_like=args.export_like)
            print(f"built {args.schools} schools, {args.responses:,} responses in {time.perf_counter() - t0:.1f} s")
        print(f"county in {folder} ({(folder / 'responses.csv').stat().st_size / 1e6:.0f} MB CSV)")

        walls = []
        for _ in range(args.runs):
            start = time.perf_counter()
            child = subprocess.run([sys.executable, "-m", "scoring", "evaluate", str(folder), "--responses",
                                    str(folder / "responses.csv"), "--format", "json"],
                                   cwd=ROOT, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            if child.returncode != 0:
                sys.exit(child.stderr)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"CLI evaluate (process start, read workbook + responses, evaluate, JSON): "
              f"{' / '.join(f'{w:.2f}' for w in walls)} s wall, peak RSS {peak_mb:.0f} MB")

        profile = load_profile()
        t0 = time.perf_counter()
        workbook = read_workbook(folder, profile=profile)
        t1 = time.perf_counter()
        responses = read_responses(folder / "responses.csv", set(workbook.schools["school_code"]), verdict_only=True)
        t2 = time.perf_counter()
        verdict = evaluate(workbook, responses, profile)
        t3 = time.perf_counter()
        print(f"in-process: read workbook {t1 - t0:.3f} s, read responses {t2 - t1:.3f} s, "
              f"evaluate {t3 - t2:.3f} s")
        rate = verdict.recognition.rate
        print(f"result: rate {rate.rate:.4f}, valid {rate.valid:,} of {rate.collected:,}, passed {verdict.passed}")


if __name__ == "__main__":
    main()
