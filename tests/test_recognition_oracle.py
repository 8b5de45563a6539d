"""The design and simple variances of survey.md agree with a maintained survey package.

The oracle is svy (PyPI ``svy``, used only here): ``Design(stratum="group", psu=<school, or
the response for the public>)`` and the ratio of y over m by group, Taylor linearisation.
Its domain covariance matrix gives var(p) = Wᵀ·Cov·W without our formula.
"""

import numpy as np
import pandas as pd
import pytest

from scoring.profile import GROUPS, ITEMS, load_profile
from scoring.recognition import SCHOOL_GROUPS, classify_validity, evaluate_rate, scores
from scoring.responses import read_responses
from scoring.workbook import read_workbook
from tests.factories import load_profile_with
from tests.test_examples import EXAMPLES

svy = pytest.importorskip("svy")
pl = pytest.importorskip("polars")

PROFILE = load_profile()
TOL = dict(rel=1e-9, abs=1e-15)


def rated_rows(responses: pd.DataFrame, profile=PROFILE) -> pd.DataFrame:
    """group, psu, y, m of the rated responses; the psu is the school or the response itself."""
    valid = (classify_validity(responses, profile) == "valid").to_numpy()
    ym = scores(responses, profile)
    rows = pd.DataFrame({"group": responses["group"].astype(str), "y": ym["y"], "m": ym["m"],
                         "school": responses["school_code"], "rid": responses["response_id"].astype(str)})
    rows = rows[valid & (rows["m"] > 0).to_numpy()]
    linked = rows["group"].isin(SCHOOL_GROUPS)
    rows["psu"] = np.where(linked, "school:" + rows["school"].astype(str), "alone:" + rows["rid"])
    return rows[["group", "psu", "rid", "y", "m"]].reset_index(drop=True)


def oracle(rows: pd.DataFrame, psu: str = "psu", stratum: str | None = "group"):
    """svy's per-group ratio estimates and their covariance matrix (groups in GROUPS order)."""
    data = pl.from_pandas(rows)
    if stratum:
        # PSU labels nested in their stratum, as the design declares.
        data = data.with_columns((pl.col(stratum) + "/" + pl.col(psu)).alias("_psu"))
        sample = svy.Sample(data, svy.Design(stratum=stratum, psu="_psu"))
        est = sample.estimation.ratio("y", "m", by="group")
        table = est.to_polars().to_pandas().set_index("group")
        order = [str(k) for k in est.to_polars()["group"]]
        return table["est"].to_dict(), pd.DataFrame(est.covariance, index=order, columns=order)
    sample = svy.Sample(data, svy.Design(psu=psu))
    est = sample.estimation.ratio("y", "m")
    return float(est.to_polars()["est"][0]), float(np.asarray(est.covariance).ravel()[0])


def assert_agrees_with_svy(responses: pd.DataFrame):
    result = evaluate_rate(responses, PROFILE)
    rows = rated_rows(responses)
    rates, cov = oracle(rows, "psu")
    _, cov_srs = oracle(rows, "rid")
    present = list(cov.index)
    for g in present:
        assert result.groups[g].rate == pytest.approx(rates[g], **TOL)
        assert result.groups[g].variance == pytest.approx(cov.loc[g, g], **TOL), g
        assert result.groups[g].variance_srs == pytest.approx(cov_srs.loc[g, g], **TOL), g
    w = np.array([result.weights[g] for g in present])
    assert result.variance == pytest.approx(float(w @ cov.to_numpy() @ w), **TOL)
    assert result.variance_srs == pytest.approx(float(w @ cov_srs.to_numpy() @ w), **TOL)
    return result


@pytest.mark.parametrize("name", ["example-pass", "example-fail"])
def test_design_variance_of_the_examples_is_svys_stratified_cluster_taylor_variance(name):
    workbook = read_workbook(EXAMPLES / name, profile=PROFILE)
    assert_agrees_with_svy(read_responses(EXAMPLES / name / "responses.csv", set(workbook.schools["school_code"])))


def synthetic_county(seed: int, n_schools: int = 30, school_sd: float = 1.2) -> pd.DataFrame:
    """Responses with a strong school effect: each school's answers share a logit shift."""
    rng = np.random.default_rng(seed)
    shift = rng.normal(0, school_sd, n_schools)
    counts = {"student": 300, "parent": 1200, "teacher": 200, "principal": 90,
              "npc_deputy": 60, "cppcc_member": 60, "public": 150}
    records = []
    for g, n in counts.items():
        school = rng.integers(0, n_schools, n)
        base = 2.2 + (shift[school] if g in SCHOOL_GROUPS else np.zeros(n))
        p_ok = 1 / (1 + np.exp(-base))
        for i in range(n):
            # A respondent answers D with the school's probability and E now and then.
            ans = np.where(rng.random(len(ITEMS)) < p_ok[i], "A", "D")
            ans = np.where(rng.random(len(ITEMS)) < 0.05, "E", ans)
            records.append({"response_id": f"{g}{i}", "questionnaire": "public", "group": g,
                            "school_code": f"S{school[i]:02d}" if g in SCHOOL_GROUPS else None,
                            "location": "urban", "grade": np.nan, "duration_s": 100.0, "duplicate_of": None,
                            **dict(zip(ITEMS, ans))})
    return pd.DataFrame.from_records(records)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_design_variance_with_a_strong_school_effect_is_svys_and_wider_than_simple(seed):
    result = assert_agrees_with_svy(synthetic_county(seed))
    # The school effect is what the design variance is for: parents' variance well above simple.
    assert result.groups["parent"].variance > 1.5 * result.groups["parent"].variance_srs
    assert result.variance > result.variance_srs


def test_deputies_cppcc_and_public_alone_give_svys_simple_variance():
    frame = synthetic_county(4)
    result = evaluate_rate(frame, PROFILE)
    _, cov_srs = oracle(rated_rows(frame), "rid")
    for g in ("npc_deputy", "cppcc_member", "public"):
        assert result.groups[g].variance == pytest.approx(cov_srs.loc[g, g], **TOL)


def test_pooled_weights_cluster_a_schools_four_groups_together_as_svy_does():
    profile = load_profile_with(weights="pooled")
    frame = synthetic_county(5)
    result = evaluate_rate(frame, profile)
    rows = rated_rows(frame, profile)
    rate, var = oracle(rows, "psu", stratum=None)
    assert result.rate == pytest.approx(rate, **TOL)
    assert result.variance == pytest.approx(var, **TOL)
    assert set(GROUPS) == set(rows["group"])
