"""Issue 20: two versions compared as a table people read -- the field's Chinese name, old and new
value, and what it changes in the verdict, the changes that move the verdict first."""

import shutil
from pathlib import Path

from scoring.compare import compare_versions
from scoring.profile import load_profile
from scoring.verdict import evaluate
from scoring.workbook import read_workbook

EXAMPLES = Path(__file__).parent / "examples"


def _pair(tmp_path, edit):
    folder = tmp_path / "b"
    shutil.copytree(EXAMPLES / "example-pass", folder)
    edit(folder)
    p = load_profile()
    a, b = read_workbook(EXAMPLES / "example-pass", profile=p), read_workbook(folder, profile=p)
    return compare_versions(a, b, evaluate(a, None, p).to_dict(), evaluate(b, None, p).to_dict())


def _set_school_cell(folder, column, value, row=1):
    lines = (folder / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    (folder / "schools.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cells[0]


def test_a_change_that_fails_a_section_comes_first_with_its_rule_and_effect(tmp_path):
    codes = {}

    def edit(folder):
        codes["cut"] = _set_school_cell(folder, "sports_area_m2", "100", row=1)
        codes["same"] = _set_school_cell(folder, "teaching_area_m2", "99999", row=2)

    c = _pair(tmp_path, edit)
    first = c.fields[0]
    assert first.place.startswith(codes["cut"]) and first.field == "体育运动场馆面积" and first.new == "100"
    assert first.rule == "R5 生均体育运动场馆面积" and first.moves_verdict
    assert any("R5" in e for e in first.effects)
    raised = next(f for f in c.fields if f.place.startswith(codes["same"]))
    assert not raised.moves_verdict and raised.new == "99,999"
    assert any(v.what.startswith(codes["cut"]) for v in c.verdict)


def test_a_county_key_change_is_named_and_tied_to_its_rule(tmp_path):
    def edit(folder):
        text = (folder / "county.csv").read_text(encoding="utf-8")
        lines = [("G9,0.5" if line.startswith("G9,") else line) for line in text.splitlines()]
        (folder / "county.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    c = _pair(tmp_path, edit)
    row = next(f for f in c.fields if f.place == "县域")
    assert row.field == "G9 教师5年360学时培训完成率" and row.new == "0.5"
    assert row.effects == ("G9 教师5年360学时培训完成率：达标 → 未达标",)
    assert ("政府保障程度", "达标", "未达标") in [(v.what, v.old, v.new) for v in c.verdict]


def test_identical_versions_have_nothing_to_compare(tmp_path):
    c = _pair(tmp_path, lambda folder: None)
    assert c.verdict == () and c.fields == ()
