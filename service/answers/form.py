"""The phone form of a link: which groups and questions it asks, and the validation of a
posted answer (per field, what is missing, in Chinese).

Questions that only some identities answer (a parent's school and grade, the public's
location) carry those groups (``only``): the page shows them for those identities, and the
validation reads them only for those. Grades follow the school's stages: a primary school
offers grades 1-6 (within the template's range), a junior school 7-9."""

import re
from typing import Any

from service.db.models import Campaign, Link
from survey_templates import GROUPS, ITEMS, LOCATION_LABELS, OPTIONS, SCHOOL_GROUPS


def allowed_groups(link: Link) -> list[str]:
    if link.group:
        return [link.group]
    if link.school_code:
        return list(SCHOOL_GROUPS)
    return list(GROUPS)


PRIMARY_GRADES = range(1, 7)
# Page order of the fields a respondent may have to fix (the first one is focused).
FIELD_ORDER = ("group", "school_code", "grade", "location")


def grades_of(school, spec: dict[str, Any]) -> list[int]:
    """The grades of the template's range that ``school`` teaches (all of them when the
    workbook gives it no students)."""
    grades = range(spec["min"], spec["max"] + 1)
    primary, junior = school is not None and school.students_primary > 0, school is not None and school.students_junior > 0
    if not (primary or junior):
        return list(grades)
    return [g for g in grades if (g in PRIMARY_GRADES and primary) or (g not in PRIMARY_GRADES and junior)]


def stages_of(school) -> str:
    """"p", "j" or "pj" (empty: unknown), what the page's grade list filters by."""
    return ("p" if school.students_primary > 0 else "") + ("j" if school.students_junior > 0 else "")


def asked_groups(tpl: dict[str, Any], link: Link) -> list[str]:
    """The identities a questionnaire's form asks on this link (one: it is fixed)."""
    return [g for g in tpl["groups"] if g in allowed_groups(link)]


def form_context(schools: list, campaign: Campaign, link: Link, questionnaire: str,
                 token: str, sid: str, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None) -> dict[str, Any]:
    tpl = campaign.templates[questionnaire]
    groups = asked_groups(tpl, link)
    fixed_group = groups[0] if len(groups) == 1 else None
    fixed_school = None
    if link.school_code:
        fixed_school = next((s for s in schools if s.school_code == link.school_code), None)

    def asks(field: str) -> bool:
        spec = tpl.get(field)
        return bool(spec) and any(g in spec["groups"] for g in groups)

    # For a form whose respondent chooses the identity: the identities each question is for,
    # when it is not for all of them.
    only = {}
    if not fixed_group:
        for field in ("school", "grade", "location"):
            answering = [g for g in groups if g in (tpl.get(field) or {}).get("groups", ())]
            if answering and len(answering) < len(groups):
                only[field] = " ".join(answering)
    errors = errors or {}
    order = [*FIELD_ORDER, *(item["id"] for item in tpl["items"]), "comment"]
    return {
        "tpl": tpl, "campaign": campaign, "link": link, "token": token, "sid": sid,
        "groups": [(g, tpl["groups"][g]) for g in groups], "fixed_group": fixed_group,
        "ask_school": asks("school") and not link.school_code, "schools": [] if link.school_code else schools,
        "fixed_school": fixed_school,
        "ask_grade": asks("grade"), "ask_location": asks("location"),
        "grades": grades_of(fixed_school, tpl["grade"]) if tpl.get("grade") else [],
        "stages": stages_of, "only": only,
        "locations": list(LOCATION_LABELS.items()), "options": list(OPTIONS.items()),
        "values": values or {}, "errors": errors,
        "first_error": next((f for f in order if f in errors), None),
    }


def validate(form: dict[str, str], tpl: dict[str, Any], schools: list,
             link: Link) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned answer or, per field, what is missing (Chinese). Needs only the template
    and the link: the page's context is built only to show the errors."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    groups = asked_groups(tpl, link)
    group = groups[0] if len(groups) == 1 else form.get("group", "")
    if group not in groups:
        errors["group"] = "请选择您的身份"
        group = None
    out["group"] = group
    school = None
    if group in SCHOOL_GROUPS:
        code = link.school_code or form.get("school_code", "")
        school = next((s for s in schools if s.school_code == code), None)
        if school is None:
            errors["school_code"] = "请选择学校"
        else:
            out["school_code"], out["location"] = school.school_code, school.location
    elif group:
        out["school_code"] = None
        loc = form.get("location", "")
        if loc not in LOCATION_LABELS:
            errors["location"] = "请选择居住地"
        out["location"] = loc
    out["grade"] = None
    grade_spec = tpl.get("grade")
    if group and grade_spec and group in grade_spec["groups"]:
        raw = form.get("grade", "")
        offered = grades_of(school, grade_spec)
        if raw.isdigit() and int(raw) in offered:
            out["grade"] = int(raw)
        elif raw.isdigit() and grade_spec["min"] <= int(raw) <= grade_spec["max"]:
            errors["grade"] = "所选学校没有这个年级，请重新选择"
        else:
            errors["grade"] = "请选择年级"
    for item in ITEMS:
        value = form.get(item, "")
        if value not in OPTIONS:
            errors[item] = "这道题还没有作答"
        out[item] = value or None
    comment = (form.get("comment") or "").strip()
    limit = tpl.get("comment", {}).get("max_length", 1000)
    if len(comment) > limit:
        errors["comment"] = f"意见建议最多 {limit} 字"
    out["comment"] = comment or None
    out["form_trace"] = form_record(form.get("_h", ""))
    return out, errors


# The form script's record (respondent/form.html): f<seconds to the first answer>;s<seconds on the identity>,
# <on the items>,<on the comment>;c<answers changed>. Anything else (a post made without the page) is not kept.
_RECORD = re.compile(r"f\d{1,6}(\.\d)?;s\d{1,6}(\.\d)?(,\d{1,6}(\.\d)?){2};c\d{1,4}")


def form_record(value: str) -> str | None:
    """The record of how the form was answered, as its script wrote it, or None (no JavaScript, or malformed)."""
    return value if value and _RECORD.fullmatch(value) else None
