"""Statistical exports (issue 24): a campaign's answers as SPSS .sav and Stata .dta files with
Chinese variable and value labels, and their codebook; read back with pyreadstat."""

import hashlib
import io
import uuid

import pyreadstat
import pytest
from inspector_helpers import browser, make_users
from openpyxl import load_workbook
from sqlmodel import Session, select

from scoring import names as N
from scoring.recognition import classify_validity, scores
from scoring.responses import read_responses
from service.campaigns.statfiles import values_text
from service.db.models import ITEM_FIELDS, AuditEntry, Campaign, Answer, School
from service.web.cells import FORMULA_STARTS

ALL = dict.fromkeys(ITEM_FIELDS, "A")
FORMATS = {"sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta}


def add(app, cid: int, **fields) -> str:
    base = {"questionnaire": "public", "template_version": 1, "group": "public", "location": "urban",
            "duration_s": 60.0, **ALL}
    sid = str(uuid.uuid4())
    with Session(app.state.engine) as s:
        s.add(Answer(submission_id=sid, campaign_id=cid, **{**base, **fields}))
        s.commit()
    return sid


@pytest.fixture
def answers(app, campaign):
    """Answers of every group, location, validity and option; a school named like a formula with
    control characters in it (not NUL, which PostgreSQL cannot store and the forms refuse)."""
    first = add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4,
                overall="D", burden="E", conduct="B", quality="C")
    add(app, campaign, group="parent", school_code="S02", grade=1, duplicate_of=first)
    add(app, campaign, group="npc_deputy", location="town", duration_s=5.0)
    add(app, campaign, group="cppcc_member", location="rural", moral=None)
    add(app, campaign, questionnaire="staff", group="teacher", school_code="S03", location="town")
    add(app, campaign, questionnaire="staff", group="principal", school_code="S03", location="town")
    add(app, campaign, group="parent", school_code="S02", grade=9)
    with Session(app.state.engine) as s:
        s.exec(select(School).where(School.campaign_id == campaign, School.school_code == "S03")
               ).one().school_name = "=HYPERLINK(\"x\")\x07学校\x1b"
        s.commit()
    return campaign


def read_back(content: bytes, fmt: str, tmp_path):
    path = tmp_path / f"answers.{fmt}"
    path.write_bytes(content)
    return FORMATS[fmt](str(path))


def expected_labels(app, cid: int) -> tuple[dict, dict]:
    """The variable and value labels every file must carry, from scoring.names and the pinned titles."""
    with Session(app.state.engine) as s:
        templates = s.get(Campaign, cid).templates
    variables = {"answer_id": "答卷编号", "questionnaire": "问卷", "group": "群体", "school_code": "学校代码",
                 "school_name": "学校名称", "location": "城乡", "grade": "年级", **N.ITEMS, "validity": "有效性",
                 "score_y": "认可得分", "score_m": "计分权重", "duration_s": "用时（秒）", "submitted": "提交时间"}
    options = {1: "满意", 2: "比较满意", 3: "基本满意", 4: "不满意", 5: "不了解"}
    values = {"questionnaire": {1: templates["student"]["title"], 2: templates["staff"]["title"],
                                3: templates["public"]["title"]},
              "group": {1: "学生", 2: "家长", 3: "教师", 4: "校长", 5: "人大代表", 6: "政协委员", 7: "其他群众"},
              "location": {1: "城区", 2: "镇区", 3: "乡村"},
              "grade": {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级", 7: "七年级",
                        8: "八年级", 9: "九年级"},
              **{item: options for item in ITEM_FIELDS},
              "validity": {0: "有效", 1: "未答完", 2: "重复作答", 3: "答题过快"}}
    return variables, values


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_variable_and_value_label_is_in_chinese_in_the_file(app, client, answers, fmt, tmp_path):
    r = client.get(f"/bureau/campaigns/{answers}/export.{fmt}")
    assert r.status_code == 200 and r.headers["x-renke-count"] == "7"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    frame, meta = read_back(r.content, fmt, tmp_path)
    variables, values = expected_labels(app, answers)
    assert meta.column_names_to_labels == variables
    assert {k: {int(c): label for c, label in v.items()} for k, v in meta.variable_value_labels.items()} == values
    assert "示例县" in meta.file_label and len(frame) == 7


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_files_rows_are_the_answers_with_the_verdicts_validity_and_scores(app, client, answers, fmt, tmp_path):
    frame, meta = read_back(client.get(f"/bureau/campaigns/{answers}/export.{fmt}").content, fmt, tmp_path)
    with Session(app.state.engine) as s:
        codes = set(s.exec(select(School.school_code).where(School.campaign_id == answers)).all())
    cli = read_responses(client.get(f"/bureau/campaigns/{answers}/export.csv").content, codes)
    profile = app.state.profile
    assert frame["answer_id"].tolist() == cli["response_id"].tolist()
    labels = meta.variable_value_labels

    def decoded(column: str) -> list:
        return [labels[column].get(v) if v == v else None for v in frame[column]]

    assert decoded("group") == [N.GROUPS[g] for g in cli["group"]]
    assert decoded("location") == [N.LOCATIONS[loc] for loc in cli["location"]]
    for item in ITEM_FIELDS:
        assert decoded(item) == [N.OPTIONS[a] if isinstance(a, str) and a else None for a in cli[item]], item
    assert decoded("validity") == [N.VALIDITY[v] for v in classify_validity(cli, profile).astype(str)]
    assert set(decoded("validity")) == set(N.VALIDITY.values())
    assert decoded("grade") == [N.GRADES[int(g)] if g == g else None for g in cli["grade"]]
    ym = scores(cli, profile)
    assert frame["score_y"].tolist() == ym["y"].tolist() and frame["score_m"].tolist() == ym["m"].tolist()
    assert frame["duration_s"].tolist() == cli["duration_s"].tolist()
    assert frame["submitted"].notna().all()


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_in_the_files_has_no_control_characters_and_no_formula_starts(client, answers, fmt, tmp_path):
    frame, _ = read_back(client.get(f"/bureau/campaigns/{answers}/export.{fmt}").content, fmt, tmp_path)
    texts = [v for c in ("answer_id", "school_code", "school_name") for v in frame[c] if isinstance(v, str)]
    assert "'=HYPERLINK(\"x\")学校" in texts
    assert not [t for t in texts if t.startswith(FORMULA_STARTS) or any(ord(ch) < 32 or ord(ch) == 127 for ch in t)]


def test_the_codebook_lists_each_variable_its_label_and_values(app, client, answers):
    r = client.get(f"/bureau/campaigns/{answers}/export.codebook.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    rows = list(wb["变量"].iter_rows(values_only=True))
    assert rows[0] == ("变量名", "变量标签", "类型", "取值及标签", "说明")
    variables, values = expected_labels(app, answers)
    assert {row[0]: row[1] for row in rows[1:]} == variables
    assert {row[0]: row[3] for row in rows[1:] if row[3]} == {k: values_text(v) for k, v in values.items()}
    assert "1 = 学生\n2 = 家长" in values_text(values["group"])
    with Session(app.state.engine) as s:
        templates = s.get(Campaign, answers).templates
    wording = list(wb["题目原文"].iter_rows(values_only=True))
    assert wording[0][2:] == tuple(templates[q]["title"] for q in ("student", "staff", "public"))
    moral = next(row for row in wording if row[0] == "moral")
    assert moral[1] == N.ITEMS["moral"] and moral[2] == templates["student"]["items"][0]["text"]


def test_an_empty_campaigns_files_still_carry_every_label(app, client, campaign, tmp_path):
    for fmt in FORMATS:
        r = client.get(f"/bureau/campaigns/{campaign}/export.{fmt}")
        assert r.status_code == 200 and r.headers["x-renke-count"] == "0"
        frame, meta = read_back(r.content, fmt, tmp_path)
        assert len(frame) == 0 and meta.column_names_to_labels == expected_labels(app, campaign)[0]


def test_the_statistical_exports_are_audited_with_their_checksum(app, client, answers):
    for name in ("export.sav", "export.dta", "export.codebook.xlsx"):
        r = client.get(f"/bureau/campaigns/{answers}/{name}")
        with Session(app.state.engine) as s:
            entry = s.exec(select(AuditEntry).where(AuditEntry.action == "export")
                           .order_by(AuditEntry.id.desc())).first()
        assert entry.file_sha256 == hashlib.sha256(r.content).hexdigest() == r.headers["x-renke-sha256"]
        assert entry.target.startswith(f"campaign/{answers}/答卷-{answers}")
    assert entry.target.endswith("变量说明.xlsx")


def test_another_countys_staff_and_inspectors_are_refused_the_statistical_exports(app, answers):
    make_users(app)
    for user, status in (("bureau_a", 200), ("province", 200), ("inspector_a", 403), ("bureau_b", 403)):
        with browser(app, user) as c:
            for suffix in ("export.sav", "export.dta", "export.codebook.xlsx"):
                assert c.get(f"/bureau/campaigns/{answers}/{suffix}").status_code == status, (user, suffix)


def test_the_campaign_page_links_the_statistical_exports(client, campaign):
    page = client.get(f"/bureau/campaigns/{campaign}").text
    for suffix in ("export.sav", "export.dta", "export.codebook.xlsx"):
        assert f'href="/bureau/campaigns/{campaign}/{suffix}"' in page


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
