"""Command line: ``python -m scoring evaluate|plan|roadmap`` (verdict.md, survey.md, roadmap.md)."""

import argparse
import json
import os
import sys

from .errors import InputError
from .profile import LOCATIONS, load_profile


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scoring",
                                     description="Evaluate a county by the national method.")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="the four-part verdict of a county")
    ev.add_argument("workbook", help=".xlsx, .zip or a folder of CSVs")
    ev.add_argument("--responses", help="the responses CSV of survey.md")
    ev.add_argument("--profile", default=None, help="profile name or override file (default national-2017)")
    ev.add_argument("--format", choices=("json", "text"), default="json")
    plan = sub.add_parser("plan", help="the sampling plan (quotas) of a county")
    plan.add_argument("workbook")
    plan.add_argument("--profile", default=None)
    plan.add_argument("--format", choices=("json", "text"), default="json")
    roadmap = sub.add_parser("roadmap", help="the projection of a plan year by year (roadmap.md)")
    roadmap.add_argument("workbook", help=".xlsx, .zip or a folder of CSVs")
    roadmap.add_argument("plan", help="the plan: .xlsx (sheet 规划/plan), .csv, .zip or a folder")
    roadmap.add_argument("--responses", help="the responses CSV of survey.md (the same for every year)")
    roadmap.add_argument("--profile", default=None)
    roadmap.add_argument("--format", choices=("json", "text"), default="json")
    return parser


def _evaluate(args) -> str:
    from .report import render_text
    from .responses import read_responses
    from .verdict import evaluate
    from .workbook import read_workbook

    profile = load_profile(args.profile)
    workbook = read_workbook(args.workbook, profile=profile)
    responses = None
    if args.responses:
        responses = read_responses(args.responses, set(workbook.schools["school_code"].astype(str)),
                                   verdict_only=True)
    verdict = evaluate(workbook, responses, profile)
    if args.format == "text":
        from .recognition import aggregate_responses
        from .whatif import county_what_if
        aggregate = aggregate_responses(responses, profile) if responses is not None and len(responses) else None
        return render_text(verdict, county_what_if(verdict, workbook, aggregate, profile))
    from .ledger import ledger_rows

    out = verdict.to_dict()
    out["ledger"] = ledger_rows(verdict, workbook, profile, responses)
    return json.dumps(out, ensure_ascii=False, indent=1)


def _plan(args) -> str:
    from .sampling import GROUP_NAMES, LOCATION_NAMES, sampling_plan
    from .workbook import read_workbook

    profile = load_profile(args.profile)
    workbook = read_workbook(args.workbook, profile=profile)
    county = workbook.county
    plan = sampling_plan(workbook.schools, float(county["resident_population"]),
                         {loc: county[f"population_share_{loc}"] for loc in LOCATIONS}, profile)
    if args.format == "json":
        return json.dumps(plan.to_dict(profile), ensure_ascii=False, indent=1)
    lines = [f"{county['county_name']} 抽样方案：共 {plan.total} 份"]
    lines.append("  " + "；".join(f"{GROUP_NAMES[g]} {n}" for g, n in plan.by_group.items()))
    lines += [f"  ！{warning}" for warning in plan.warnings(profile).values()]
    lines.append("按城乡：")
    lines += [f"  {LOCATION_NAMES[loc]}：" + "；".join(f"{GROUP_NAMES[g]} {n}" for g, n in groups.items() if n)
              for loc, groups in plan.by_location.items()]
    lines.append("按学校：")
    lines += [f"  {code}：" + "；".join(f"{GROUP_NAMES[g]} {n}" for g, n in groups.items())
              for code, groups in plan.by_school.items()]
    lines += [f"  {code}：{why}" for code, why in plan.out_of_scope.items()]
    return "\n".join(lines) + "\n"


def _roadmap(args) -> str:
    from .responses import read_responses
    from .roadmap import project, read_plan, render_text
    from .workbook import read_workbook

    profile = load_profile(args.profile)
    workbook = read_workbook(args.workbook, profile=profile)
    plan = read_plan(args.plan, workbook, profile=profile)
    responses = None
    if args.responses:
        responses = read_responses(args.responses, set(workbook.schools["school_code"].astype(str)))
    roadmap = project(workbook, plan, profile, responses)
    if args.format == "text":
        return render_text(roadmap)
    return json.dumps(roadmap.to_dict(), ensure_ascii=False, indent=1)


COMMANDS = {"evaluate": _evaluate, "plan": _plan, "roadmap": _roadmap}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Before pandas loads Arrow: in a one-shot process the C library's allocator gives the
    # blocks Arrow frees back to the system, which Arrow's default (mimalloc) keeps (~30 MB
    # more at the peak with a million answers; benchmarks/README.md, issue 25).
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        output = COMMANDS[args.command](args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
