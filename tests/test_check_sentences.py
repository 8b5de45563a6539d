"""S1–S7 "数据" as short Chinese sentences (scoring.report.describe_check), never raw figures."""

import re
from pathlib import Path

import pytest

from scoring import display
from scoring.profile import load_profile
from scoring.report import describe_check
from scoring.responses import read_responses
from scoring.verdict import evaluate
from scoring.workbook import read_workbook

EXAMPLES = Path(__file__).parent / "examples"


@pytest.mark.parametrize("example", ["example-pass", "example-fail"])
def test_every_check_is_described_in_chinese_with_display_rounded_figures(example):
    profile = load_profile()
    workbook = read_workbook(EXAMPLES / example, profile=profile)
    responses = read_responses(EXAMPLES / example / "responses.csv", set(workbook.schools["school_code"]))
    checks = evaluate(workbook, responses, profile).recognition.checks
    sentences = {code: describe_check(code, check) for code, check in checks.items()}
    assert set(sentences) == {f"S{i}" for i in range(1, 8)}
    for code, text in sentences.items():
        assert not re.search(r"[A-Za-z_{}\[\]']", text), (code, text)      # no code, key or repr
        assert not re.search(r"\d\.\d{2,}", text.replace("%", "")), (code, text)
    f = {code: c.figures for code, c in checks.items()}
    assert f"{f['S1']['actual']} 份" in sentences["S1"] and f"{f['S1']['required']} 份" in sentences["S1"]
    assert display.percent(f["S2"]["share"], passed=checks["S2"].passed) in sentences["S2"]
    assert display.percent(f["S5"]["rate"], passed=checks["S5"].passed) in sentences["S5"]
    for share in f["S4"]["sample_shares"].values():
        assert display.percent(share) in sentences["S4"]
    assert all(f"{n} 份" in sentences["S7"] for n in f["S7"]["bands"].values())
