"""The per-question table from the GROUP BY's option counts is the table of the answers read one
by one (issue 25: the verdict page and verdict.xlsx no longer re-read the export)."""

import numpy as np
import pytest
from forecast_helpers import campaign_of, example_records
from inspector_helpers import COUNTY_A, EXAMPLE_OF, browser, example_zip, make_users, upload
from sqlmodel import Session

from scoring.profile import ITEMS
from scoring.questions import question_table
from service.verdicts import pipeline


def shuffled(records: list[dict], seed: int) -> list[dict]:
    """The example's answers with random options (some blank), durations and duplicates, under
    submission ids of their own (as real forms' are), so no worker's cache from another seed's
    identical ids is taken for them."""
    rng = np.random.default_rng(seed)
    out = []
    for rec in records:
        options = rng.choice(list("ABCDE") + [""], size=len(ITEMS), p=[0.35, 0.25, 0.15, 0.1, 0.1, 0.05])
        out.append({**rec, **dict(zip(ITEMS, map(str, options))), "response_id": f"{seed}-{rec['response_id']}",
                    "duration_s": f"{rng.uniform(5, 300):.1f}",
                    "duplicate_of": f"{seed}-{rec['response_id']}" if rng.random() < 0.05 else ""})
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_question_table_from_sums_is_the_table_of_the_answers(app, seed):
    make_users(app)
    with browser(app, "bureau_a") as c:
        upload(c, COUNTY_A, [(f"{EXAMPLE_OF[COUNTY_A]}.zip", example_zip(EXAMPLE_OF[COUNTY_A]))])
    campaign_of(app, COUNTY_A, shuffled(example_records(EXAMPLE_OF[COUNTY_A]), seed))
    profile = app.state.profile
    with Session(app.state.engine) as s:
        cv = pipeline.county_verdict(s, COUNTY_A, None, profile)
        state = pipeline.county_state(s, COUNTY_A, None, profile)
        codes = set(cv.workbook.schools["school_code"].astype(str))
        assert pipeline.question_counts(s, cv.campaign.id, state.answers, state.max_id, state.last,
                                        profile, codes) is not None  # the table came from the sums
        from_sums = cv.questions
        one_by_one = question_table(cv.responses, profile)
    assert from_sums == one_by_one
    assert from_sums[0].cells["all"].n > 0
