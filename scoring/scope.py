"""Which schools are evaluated and which stage sections they have (standard.md §1)."""

import pandas as pd

from .profile import Profile

# Stages each school type may enrol; sections exist only for compulsory stages.
TYPE_STAGES = {
    "primary": ("primary",),
    "teaching_point": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
    "twelve_year": ("primary", "junior", "senior"),
    "complete_middle": ("junior", "senior"),
    "special": ("primary", "junior"),
}
SECTION_TYPES = {t: tuple(s for s in stages if s != "senior") for t, stages in TYPE_STAGES.items()}
SECTION_TYPES["special"] = ()


def compulsory_students(schools: pd.DataFrame) -> pd.Series:
    return schools["students_primary"].fillna(0) + schools["students_junior"].fillna(0)


def in_scope(schools: pd.DataFrame, profile: Profile) -> pd.Series:
    """All schools but special ones and teaching points below the size floor."""
    small_point = (schools["school_type"] == "teaching_point") & (
        compulsory_students(schools) < profile.resources["teaching_point_min_students"]
    )
    return (schools["school_type"] != "special") & ~small_point


def small_rural_school(schools: pd.DataFrame, profile: Profile) -> pd.Series:
    """Schools G6 applies to: rural primary schools and teaching points under 100 pupils."""
    return (schools["school_type"].isin(["primary", "teaching_point"]) & (schools["location"] == "rural")
            & (compulsory_students(schools) < profile.guarantee["small_school_students"]))


def has_section(schools: pd.DataFrame, stage: str) -> pd.Series:
    """A school has a section of ``stage`` when its type has it and it enrols students in it."""
    typed = schools["school_type"].map(lambda t: stage in SECTION_TYPES.get(t, ())).astype(bool)
    return typed & (schools[f"students_{stage}"].fillna(0) > 0)
