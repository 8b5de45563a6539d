"""The CLI of verdict.md: JSON/text output, exit 2 on bad input with nothing on stdout."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_examples import EXAMPLES, mismatches


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scoring", *args], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent, timeout=120)


@pytest.mark.parametrize("name", ["example-pass", "example-fail"])
def test_evaluate_json_matches_expected(name):
    folder = EXAMPLES / name
    result = run("evaluate", str(folder), "--responses", str(folder / "responses.csv"), "--format", "json")
    assert result.returncode == 0, result.stderr
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert mismatches(json.loads(result.stdout), expected) == []


def test_evaluate_text_is_a_chinese_report():
    folder = EXAMPLES / "example-fail"
    result = run("evaluate", str(folder), "--responses", str(folder / "responses.csv"), "--format", "text")
    assert result.returncode == 0
    assert "未达到优质均衡" in result.stdout and "V3" in result.stdout and "S05" in result.stdout


def test_without_responses_recognition_has_no_data_and_the_county_cannot_pass():
    out = json.loads(run("evaluate", str(EXAMPLES / "example-pass")).stdout)
    assert out["parts"]["recognition"]["status"] == "no_data" and out["passed"] is False


def test_bad_workbook_exits_2_with_every_problem_on_stderr_and_nothing_on_stdout(tmp_path):
    folder = tmp_path / "bad"
    shutil.copytree(EXAMPLES / "example-pass", folder)
    schools = (folder / "schools.csv").read_text(encoding="utf-8").splitlines()
    schools[3] = schools[3].replace(",urban,", ",downtown,", 1)
    schools[5] = schools[5].replace("S05,", "S04,", 1)
    (folder / "schools.csv").write_text("\n".join(schools) + "\n", encoding="utf-8")
    result = run("evaluate", str(folder))
    assert result.returncode == 2 and result.stdout == ""
    assert "schools 第 4 行 城乡类型（location）" in result.stderr and "schools 第 6 行 学校代码（school_code）" in result.stderr


def test_bad_responses_exit_2_with_line_and_column(tmp_path):
    folder = EXAMPLES / "example-pass"
    lines = (folder / "responses.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",public,public,", ",public,grandparent,", 1)
    bad = tmp_path / "responses.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("evaluate", str(folder), "--responses", str(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert "第 3 行 group" in result.stderr


def test_missing_workbook_exits_2():
    result = run("evaluate", "/no/such/workbook.xlsx")
    assert result.returncode == 2 and result.stdout == ""


def test_profile_override_file_changes_the_verdict(tmp_path):
    override = tmp_path / "strict.yaml"
    override.write_text("recognition_threshold: 0.95\n", encoding="utf-8")
    folder = EXAMPLES / "example-pass"
    out = json.loads(run("evaluate", str(folder), "--responses", str(folder / "responses.csv"),
                         "--profile", str(override)).stdout)
    assert out["profile"] == "strict" and out["parts"]["recognition"]["status"] == "fail"


def test_plan_prints_quotas_that_add_up():
    out = json.loads(run("plan", str(EXAMPLES / "example-fail"), "--format", "json").stdout)
    assert out["total"] == 780 and sum(out["by_group"].values()) == 780
    assert sum(s["parent"] for s in out["by_school"].values()) == out["by_group"]["parent"] == 390
    text = run("plan", str(EXAMPLES / "example-fail"), "--format", "text").stdout
    assert "抽样方案" in text and "家长 390" in text


def test_plan_text_warns_when_a_target_cannot_be_met(tmp_path):
    profile = tmp_path / "few.yaml"
    profile.write_text("principals_per_school: 0.1\n", encoding="utf-8")
    out = run("plan", str(EXAMPLES / "example-pass"), "--profile", str(profile), "--format", "text")
    assert out.returncode == 0, out.stderr
    assert "！校长需" in out.stdout and "无法完成" in out.stdout
    plain = run("plan", str(EXAMPLES / "example-pass"), "--format", "text")
    assert "无法完成" not in plain.stdout
