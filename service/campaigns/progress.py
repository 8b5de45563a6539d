"""Progress against the plan: valid answers by group, school and location, the schools behind
their plan, and the plan itself (``scoring.sampling``)."""

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session

from service.answers.queries import validity_counts
from service.campaigns.schools import schools_frame, schools_of
from service.db.models import Campaign, School
from survey_templates import SCHOOL_GROUPS


@dataclass
class Progress:
    collected: int = 0
    valid: int = 0
    incomplete: int = 0
    duplicates: int = 0
    speeders: int = 0
    by_group: Counter = field(default_factory=Counter)
    by_school: dict[str, Counter] = field(default_factory=dict)
    by_location: dict[str, Counter] = field(default_factory=dict)


_INVALID = {"incomplete": "incomplete", "duplicate": "duplicates", "speeder": "speeders"}


def progress(session: Session, campaign: Campaign, profile) -> Progress:
    """Counts of valid responses: complete, not a duplicate, not a speeder (survey.md's order,
    ``answers.validity``)."""
    p = Progress()
    for group, school, loc, status, n in validity_counts(session, campaign.id, profile):
        p.collected += n
        if status != "valid":
            setattr(p, _INVALID[status], getattr(p, _INVALID[status]) + n)
            continue
        p.valid += n
        p.by_group[group] += n
        if school:
            p.by_school.setdefault(school, Counter())[group] += n
        p.by_location.setdefault(loc, Counter())[group] += n
    return p


@dataclass(frozen=True)
class Lag:
    """A school behind its plan: per group (valid, target, missing), and the total missing."""
    school: School
    groups: dict[str, tuple[int, int, int]]
    missing: int


def lagging_schools(schools: list[School], plan, prog: Progress) -> list[Lag]:
    """Schools missing valid answers against the plan, the most missing first (then in
    workbook order): who to chase. Counts are exact; the minimum cell size guards rates and
    breakdowns of answers, not how many answers came in."""
    lags = []
    for school in schools:
        targets = plan.by_school.get(school.school_code, {})
        got = prog.by_school.get(school.school_code) or Counter()
        groups = {g: (got[g], targets.get(g, 0), max(0, targets.get(g, 0) - got[g])) for g in SCHOOL_GROUPS}
        missing = sum(m for _, _, m in groups.values())
        if missing:
            lags.append(Lag(school, groups, missing))
    return sorted(lags, key=lambda lag: -lag.missing)


def overall(plan, prog: Progress) -> tuple[int, int, int]:
    """(valid answers counted towards the plan, its total, percent done): every school's and
    location's target on its own (``SamplingPlan.progress``), so 100 % only when all are met."""
    return plan.progress(prog.by_school, prog.by_location)


def plan_for(session: Session, campaign: Campaign, profile):
    """``scoring.sampling.sampling_plan`` for the campaign's schools (its school list) and its own
    population figures, or None before schools are imported."""
    schools = schools_of(session, campaign.id)
    if not schools:
        return None
    from scoring.sampling import sampling_plan
    shares = {"urban": campaign.share_urban, "town": campaign.share_town, "rural": campaign.share_rural}
    return sampling_plan(schools_frame(schools), float(campaign.resident_population), shares, profile)
