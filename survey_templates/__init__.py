"""Questionnaire templates as data: load, validate, pin.

``load_templates()`` reads ``student.yaml``, ``staff.yaml`` and ``public.yaml``
next to this file and validates each against the schema documented in
``README.md``. Any problem raises ``TemplateError`` naming the file, the field
and the problem, so a broken template stops the service at start-up.

A validated template is a plain JSON-able ``dict``; a campaign stores that dict
(pins it) when it opens, so later edits never change an open campaign.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).parent
QUESTIONNAIRES = ("student", "staff", "public")

# Fixed by survey.md; kept here too so this package has no import-time
# dependency on the scoring engine (checked equal in the service's tests).
GROUPS = ("student", "parent", "teacher", "principal", "npc_deputy", "cppcc_member", "public")
ITEMS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")
OPTIONS = {"A": "满意", "B": "比较满意", "C": "基本满意", "D": "不满意", "E": "不了解"}
SCHOOL_GROUPS = ("student", "parent", "teacher", "principal")
QUESTIONNAIRE_OF_GROUP = {
    "student": "student", "parent": "public", "teacher": "staff", "principal": "staff",
    "npc_deputy": "public", "cppcc_member": "public", "public": "public",
}
LOCATION_LABELS = {"urban": "城区", "town": "镇区", "rural": "乡村"}

_TOP_KEYS = {"id", "version", "title", "intro", "groups", "identity", "school", "grade",
             "location", "options", "items", "comment"}


class TemplateError(Exception):
    """One or more templates are broken; ``problems`` are "file: field: problem" strings."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("questionnaire templates are invalid:\n" + "\n".join(self.problems))


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def validate_template(data: Any, source: str) -> list[str]:
    """Every problem of one template, as "source: field: problem" strings."""
    out: list[str] = []

    def bad(field: str, problem: str) -> None:
        out.append(f"{source}: {field}: {problem}")

    if not isinstance(data, Mapping):
        bad("(top)", "must be a mapping of fields")
        return out
    for key in data:
        if key not in _TOP_KEYS:
            bad(str(key), f"unknown field (allowed: {', '.join(sorted(_TOP_KEYS))})")
    qid = data.get("id")
    if qid not in QUESTIONNAIRES:
        bad("id", f"is {qid!r}, expected one of {', '.join(QUESTIONNAIRES)}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        bad("version", f"is {version!r}, expected an integer >= 1")
    for key in ("title", "intro"):
        if not _nonempty_str(data.get(key)):
            bad(key, "is required and must be non-empty text")

    groups = data.get("groups")
    group_codes: list[str] = []
    if not isinstance(groups, Mapping) or not groups:
        bad("groups", "is required: a mapping of group code to its Chinese label")
    else:
        for code, label in groups.items():
            if code not in GROUPS:
                bad(f"groups.{code}", f"unknown group (expected one of {', '.join(GROUPS)})")
            elif qid in QUESTIONNAIRES and QUESTIONNAIRE_OF_GROUP[code] != qid:
                bad(f"groups.{code}", f"answers questionnaire {QUESTIONNAIRE_OF_GROUP[code]!r}, not {qid!r}")
            if not _nonempty_str(label):
                bad(f"groups.{code}", "label must be non-empty text")
            group_codes.append(str(code))
        if qid in QUESTIONNAIRES:
            expected = {g for g, q in QUESTIONNAIRE_OF_GROUP.items() if q == qid}
            missing = expected - set(group_codes)
            if missing:
                bad("groups", f"missing {', '.join(sorted(missing))} (survey.md assigns them to {qid!r})")

    identity = data.get("identity")
    if len(group_codes) > 1:
        if not isinstance(identity, Mapping) or not _nonempty_str(identity.get("label")):
            bad("identity.label", "is required when the questionnaire serves several groups")
    elif identity is not None and not isinstance(identity, Mapping):
        bad("identity", "must be a mapping with a label")

    school_groups = set(g for g in group_codes if g in SCHOOL_GROUPS)
    located_groups = set(g for g in group_codes if g not in SCHOOL_GROUPS)

    def field_groups(name: str, required: set[str], allowed: set[str]) -> set[str]:
        spec = data.get(name)
        if spec is None:
            if required:
                bad(name, f"is required for groups {', '.join(sorted(required))}")
            return set()
        if not isinstance(spec, Mapping):
            bad(name, "must be a mapping (label, groups, ...)")
            return set()
        if not _nonempty_str(spec.get("label")):
            bad(f"{name}.label", "is required and must be non-empty text")
        gs = spec.get("groups")
        if not isinstance(gs, list) or not gs:
            bad(f"{name}.groups", "is required: a list of group codes")
            return set()
        for g in gs:
            if g not in group_codes:
                bad(f"{name}.groups", f"{g!r} is not one of this template's groups")
            elif g not in allowed:
                bad(f"{name}.groups", f"{g!r} cannot be asked this question (survey.md)")
        if not required <= set(gs):
            bad(f"{name}.groups", f"must include {', '.join(sorted(required - set(gs)))}")
        return set(gs)

    field_groups("school", school_groups, school_groups)
    field_groups("location", located_groups, located_groups)
    grade_required = {g for g in group_codes if g in ("student", "parent")}
    field_groups("grade", grade_required, grade_required)
    grade = data.get("grade")
    if isinstance(grade, Mapping):
        lo, hi = grade.get("min"), grade.get("max")
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= 9):
            bad("grade.min/max", f"are {lo!r}/{hi!r}, expected integers with 1 <= min <= max <= 9")

    options = data.get("options")
    if not isinstance(options, Mapping) or dict(options) != OPTIONS:
        bad("options", "must be exactly " + " ".join(f"{k}: {v}" for k, v in OPTIONS.items()))

    items = data.get("items")
    if not isinstance(items, list):
        bad("items", "is required: a list of {id, text}")
    else:
        seen: list[str] = []
        for i, item in enumerate(items):
            where = f"items[{i}]"
            if not isinstance(item, Mapping):
                bad(where, "must be a mapping with id and text")
                continue
            for key in item:
                if key not in ("id", "text"):
                    bad(f"{where}.{key}", "unknown field (allowed: id, text)")
            iid = item.get("id")
            if iid not in ITEMS:
                bad(f"{where}.id", f"is {iid!r}, expected one of {', '.join(ITEMS)}")
            elif iid in seen:
                bad(f"{where}.id", f"{iid!r} appears twice")
            else:
                seen.append(iid)
            if not _nonempty_str(item.get("text")):
                bad(f"{where}.text", "is required and must be non-empty text")
        missing = [i for i in ITEMS if i not in seen]
        if missing:
            bad("items", f"missing rated item(s) {', '.join(missing)}")

    comment = data.get("comment")
    if comment is not None:
        if not isinstance(comment, Mapping) or not _nonempty_str(comment.get("label")):
            bad("comment.label", "is required and must be non-empty text")
        else:
            ml = comment.get("max_length", 1000)
            if not isinstance(ml, int) or not 1 <= ml <= 5000:
                bad("comment.max_length", f"is {ml!r}, expected an integer 1-5000")
    return out


def load_template_file(path: Path) -> dict:
    """One validated template from a YAML file; raises TemplateError."""
    try:
        # libyaml's safe loader when present: the same documents, a tenth of the time.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateError([f"{path.name}: (file): cannot be read: {exc}"]) from exc
    problems = validate_template(data, path.name)
    if problems:
        raise TemplateError(problems)
    return _normalise(data)


def _normalise(data: Mapping) -> dict:
    out = {k: data[k] for k in _TOP_KEYS if k in data and data[k] is not None}
    out["groups"] = dict(data["groups"])
    out["items"] = [{"id": i["id"], "text": i["text"]} for i in data["items"]]
    if "comment" in out:
        out["comment"] = {"label": data["comment"]["label"],
                          "max_length": int(data["comment"].get("max_length", 1000))}
    return out


def load_templates(directory: Path | str | None = None) -> dict[str, dict]:
    """All three questionnaires, validated together; every problem reported at once."""
    folder = Path(directory) if directory else TEMPLATE_DIR
    found: dict[str, dict] = {}
    problems: list[str] = []
    for qid in QUESTIONNAIRES:
        path = folder / f"{qid}.yaml"
        if not path.is_file():
            problems.append(f"{path.name}: (file): missing")
            continue
        try:
            tpl = load_template_file(path)
        except TemplateError as exc:
            problems.extend(exc.problems)
            continue
        if tpl["id"] != qid:
            problems.append(f"{path.name}: id: is {tpl['id']!r}, expected {qid!r} (the file name)")
        found[qid] = tpl
    if problems:
        raise TemplateError(problems)
    return found
