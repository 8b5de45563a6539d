"""The bureau's review shows each per-student value beside the county's median of the round's
submitted and approved schools, and flags one far outside the county's spread, saying which rule
fired and why (scoring.collection: median ± max(3 × 1.4826 × MAD, 20% of the median), five
schools at least); the change of more than a third from last year is flagged beside it."""

from collection_helpers import ROUND, county_with_round, example_rows
from sqlmodel import Session

from service.collection import rounds as K


def _submit(app, rows: dict[str, dict[str, str]]) -> None:
    """The schools' rows as their clerks submit them (the domain's own submit)."""
    with Session(app.state.engine) as s:
        rnd = K.round_of(s, "示例县", 2025)
        for code, values in rows.items():
            _, problems = K.submit(s, K.school_of(s, rnd.id, code), values, None, app.state.profile)
            assert problems == [], problems


def test_a_per_student_value_far_from_the_county_median_is_flagged_with_its_numbers(app):
    rows = example_rows()
    with county_with_round(app) as bureau:
        # S06: 6,000,000 元 of equipment for 1163 students (5,159.07 per student; 2,884,700 last year)
        _submit(app, {c: rows[c] for c in ("S01", "S02", "S03", "S04", "S05")}
                | {"S06": {**rows["S06"], "equipment_value_yuan": "6000000"}})
        review = bureau.get(f"{ROUND}/schools/S06").text
        assert "生均：本校 5,159.07 元，全县中位数 2,833.99 元（6 所学校）" in review
        assert ("需复核：生均值远离全县中位数（生均教学仪器设备值为 5,159.07 元，全县中位数 2,833.99 元，"
                "超出常见范围（2,267.19～3,400.79：中位数上下 3 倍稳健标准差、至少中位数的 20%，"
                "按 6 所已提交学校计算））") in review
        assert "需复核：与上次核定值相比变化超过三分之一（上次 2,884,700，本次 6,000,000，变化 +108%）" in review
        assert review.count("需复核") == 2
        other = bureau.get(f"{ROUND}/schools/S02").text                 # 2,844.96 per student: usual
        assert "生均：本校 2,844.96 元，全县中位数 2,833.99 元（6 所学校）" in other and "需复核" not in other


def test_no_median_flag_before_five_schools_have_submitted(app):
    rows = example_rows()
    with county_with_round(app) as bureau:
        _submit(app, {c: rows[c] for c in ("S01", "S02", "S03")}
                | {"S06": {**rows["S06"], "equipment_value_yuan": "6000000"}})
        review = bureau.get(f"{ROUND}/schools/S06").text
        assert "全县中位数" in review and "（4 所学校）" in review
        assert "生均值远离全县中位数" not in review and review.count("需复核") == 1   # the change only
