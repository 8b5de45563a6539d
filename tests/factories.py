"""Small builders for rule tests: one school row or a schools frame with sane defaults."""

import pandas as pd

from scoring.profile import ITEMS

SCHOOL_DEFAULTS = {
    "school_name": "测试学校", "school_type": "primary", "location": "urban",
    "students_primary": 500.0, "students_junior": 0.0, "students_senior": 0.0,
    "qualified_teachers_primary": 25.0, "qualified_teachers_junior": float("nan"),
    "backbone_teachers_primary": 6.0, "backbone_teachers_junior": float("nan"),
    "pe_art_teachers_primary": 6.0, "pe_art_teachers_junior": float("nan"),
    "teaching_area_m2": 2500.0, "sports_area_m2": 4000.0, "equipment_value_yuan": 1_100_000.0,
    "multimedia_rooms": 13.0, "classes": 12.0, "music_rooms": 1.0, "art_rooms": 1.0,
    "music_room_min_area_m2": 96.0, "art_room_min_area_m2": 90.0,
    "max_class_size_primary": 42.0, "max_class_size_junior": float("nan"),
    "funded_students": 500.0, "public_funds_yuan": 450_000.0, "training_funds_yuan": 30_000.0,
}


def schools(*rows: dict) -> pd.DataFrame:
    """A schools frame; each row overrides the defaults, codes S01, S02, ... unless given."""
    records = [{"school_code": f"S{i + 1:02d}", **SCHOOL_DEFAULTS, **row} for i, row in enumerate(rows)]
    frame = pd.DataFrame.from_records(records)
    frame["excel_row"] = range(2, len(frame) + 2)
    return frame


def responses(*rows: dict) -> pd.DataFrame:
    """Normalised responses: each row overrides a valid, all-A parent response."""
    base = {"questionnaire": "public", "group": "parent", "school_code": "S01", "location": "urban",
            "grade": float("nan"), "duration_s": 120.0, "duplicate_of": None, **{item: "A" for item in ITEMS}}
    records = [{"response_id": f"r{i + 1:06d}", **base, **row} for i, row in enumerate(rows)]
    return pd.DataFrame.from_records(records)


def load_profile_with(**overrides):
    """The national profile with overrides, loaded through an override file as a user would."""
    import json
    import tempfile

    from scoring.profile import load_profile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(overrides, f)
    return load_profile(f.name)


COUNTY_DEFAULTS = {
    "county_name": "测试县", "resident_population": 380000.0,
    "population_share_urban": 0.45, "population_share_town": 0.30, "population_share_rural": 0.25,
    "G1": True, "G2a": True, "G2b": True, "G2c": True, "G2d": True, "G7": 6500.0,
    "G8_teacher_salary": 98000.0, "G8_civil_servant_salary": 96000.0, "G8_merit_pay_full": True,
    "G9": 1.0, "G10": True, "G11_eligible": 400.0, "G11_rotated": 52.0, "G11_rotated_backbone": 14.0,
    "G12": 1.0, "G13_primary": 1.0, "G13_junior": 0.97, "G14": 0.55, "G14_rural_tilt": True,
    "G15_care_system": True, "G15_migrant_rate": 0.91, "Q1": 0.97, "Q2": 0.96, "Q3": True, "Q5": True,
    "Q6": "良好", "Q7": True, "Q8": True, "Q9_min_level": 3, "Q9_school_diff_rate": 0.11,
    "basic_balance_year": 2016, "evaluation_year": 2024,
}


def county(**overrides) -> dict:
    return {**COUNTY_DEFAULTS, **overrides}
