"""The questionnaire templates: valid, aligned with scoring, broken ones located."""

import shutil

import pytest
import yaml

import survey_templates as st
from scoring import profile as sp


def test_bundled_templates_load_and_match_scoring_constants():
    templates = st.load_templates()
    assert set(templates) == {"student", "staff", "public"}
    assert st.GROUPS == sp.GROUPS and st.ITEMS == sp.ITEMS and tuple(st.LOCATION_LABELS) == sp.LOCATIONS
    for qid, tpl in templates.items():
        assert [i["id"] for i in tpl["items"]] == list(sp.ITEMS)
        assert tpl["options"] == {"A": "满意", "B": "比较满意", "C": "基本满意", "D": "不满意", "E": "不了解"}
        assert isinstance(tpl["version"], int)
    assert templates["student"]["grade"]["min"] == 3 and templates["student"]["grade"]["max"] == 9
    assert templates["public"]["grade"]["min"] == 1 and templates["public"]["grade"]["max"] == 9
    assert set(templates["staff"]["groups"]) == {"teacher", "principal"}
    assert set(templates["public"]["groups"]) == {"parent", "npc_deputy", "cppcc_member", "public"}


def test_broken_template_names_file_field_and_problem(tmp_path):
    for name in ("student", "staff", "public"):
        shutil.copy(st.TEMPLATE_DIR / f"{name}.yaml", tmp_path)
    data = yaml.safe_load((tmp_path / "staff.yaml").read_text(encoding="utf-8"))
    data["items"][3]["id"] = "conductt"
    data["version"] = "one"
    data["colour"] = "red"
    (tmp_path / "staff.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pub = yaml.safe_load((tmp_path / "public.yaml").read_text(encoding="utf-8"))
    del pub["location"]
    (tmp_path / "public.yaml").write_text(yaml.safe_dump(pub, allow_unicode=True), encoding="utf-8")
    with pytest.raises(st.TemplateError) as err:
        st.load_templates(tmp_path)
    problems = err.value.problems
    assert "staff.yaml: items[3].id: is 'conductt', expected one of moral, equity, sharing, conduct, " \
           "quality_ed, assessment, quality, burden, overall" in problems
    assert "staff.yaml: items: missing rated item(s) conduct" in problems
    assert any(p.startswith("staff.yaml: version:") for p in problems)
    assert any(p.startswith("staff.yaml: colour: unknown field") for p in problems)
    assert any(p.startswith("public.yaml: location: is required for groups cppcc_member, npc_deputy, public")
               for p in problems)


def test_unreadable_yaml_is_located(tmp_path):
    for name in ("student", "staff", "public"):
        shutil.copy(st.TEMPLATE_DIR / f"{name}.yaml", tmp_path)
    (tmp_path / "student.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(st.TemplateError) as err:
        st.load_templates(tmp_path)
    assert err.value.problems[0].startswith("student.yaml: (file): cannot be read")


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
