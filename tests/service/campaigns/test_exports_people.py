"""Exports for people (issue 13): the answers as an Excel sheet and as a CSV that Excel opens,
in Chinese beside the CLI's file; and formula neutralisation in every CSV and xlsx export."""

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries
from sqlmodel import Session, select

from scoring import names as N
from scoring.recognition import classify_validity
from scoring.responses import read_responses
from service.campaigns.exports import PEOPLE_HEADERS
from service.db.models import ITEM_FIELDS, AuditEntry, Answer, School
from service.web.cells import FORMULA_STARTS, neutralise

ALL = dict.fromkeys(ITEM_FIELDS, "A")
DANGEROUS = ("=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd")


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
    """Answers of every kind: valid, incomplete, duplicate, speeder; comments that look like formulas."""
    first = add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4,
                comment=DANGEROUS[0], **{"overall": "D", "burden": "E"})
    add(app, campaign, questionnaire="public", group="parent", school_code="S02", grade=5, duplicate_of=first)
    add(app, campaign, duration_s=5.0, comment=DANGEROUS[1])
    add(app, campaign, location="rural", moral=None, comment=DANGEROUS[2])
    for text in DANGEROUS[3:]:
        add(app, campaign, questionnaire="staff", group="teacher", school_code="S03", location="town", comment=text)
    return campaign


def _rows_of_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content))["答卷"]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _cli_validity(app, client, cid: int) -> list[str]:
    """Validity as the verdict reads it: the CLI's file through scoring's reader and rule."""
    with Session(app.state.engine) as s:
        codes = set(s.exec(select(School.school_code).where(School.campaign_id == cid)).all())
    frame = read_responses(client.get(f"/bureau/campaigns/{cid}/export.csv").content, codes)
    return classify_validity(frame, app.state.profile).astype(str).tolist()


def test_answers_xlsx_is_in_chinese_with_school_names_options_and_validity(app, client, answers):
    r = client.get(f"/bureau/campaigns/{answers}/export.xlsx")
    assert r.status_code == 200 and r.headers["x-renke-count"] == "7"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    rows = _rows_of_xlsx(r.content)
    assert tuple(rows[0]) == PEOPLE_HEADERS and len(rows) == 8
    by = [dict(zip(PEOPLE_HEADERS, row)) for row in rows[1:]]
    with Session(app.state.engine) as s:
        names = dict(s.exec(select(School.school_code, School.school_name).where(School.campaign_id == answers)).all())
    student = by[0]
    assert student["群体"] == N.GROUPS["student"] and student["城乡"] == N.LOCATIONS["urban"]
    assert student["学校代码"] == "S01" and student["学校名称"] == names["S01"] and student["年级"] == 4
    assert student[N.ITEMS["overall"]] == "不满意" and student[N.ITEMS["burden"]] == "不了解"
    assert student[N.ITEMS["moral"]] == "满意" and student["用时（秒）"] == 60
    assert len(student["提交时间"]) == 19
    validity = _cli_validity(app, client, answers)
    assert [row["有效性"] for row in by] == ["有效" if v == "valid" else "无效" for v in validity]
    assert [row["无效原因"] or "" for row in by] == [N.INVALID.get(v, "") for v in validity]
    assert {"重复作答", "答题过快", "未答完"} <= {row["无效原因"] for row in by}
    english = {*N.GROUPS, *N.LOCATIONS, *N.OPTIONS, "valid", "speeder", "duplicate", "incomplete"}
    assert not {str(v) for row in rows for v in row if v is not None} & english


def test_answers_csv_for_excel_has_a_bom_and_the_xlsx_rows(app, client, answers):
    r = client.get(f"/bureau/campaigns/{answers}/export.excel.csv")
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    assert r.headers["x-renke-count"] == "7"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    xlsx = _rows_of_xlsx(client.get(f"/bureau/campaigns/{answers}/export.xlsx").content)
    assert [row[:-1] for row in rows] == [["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
                                           for v in row[:-1]] for row in xlsx]


def test_the_clis_csv_stays_the_survey_file_with_its_codes(app, client, answers):
    r = client.get(f"/bureau/campaigns/{answers}/export.csv")
    assert not r.content.startswith("\ufeff".encode())
    assert "responses-" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
    assert {row["group"] for row in rows} == {"student", "parent", "public", "teacher"}
    assert {row["overall"] for row in rows} == {"A", "D"}


# ---- formula neutralisation: the rule, then each export -------------------------------------

def test_neutralise_prefixes_every_formula_start_and_leaves_the_rest():
    for start in FORMULA_STARTS:
        assert neutralise(f"{start}x") == f"'{start}x"
    for safe in ("满意", "S01", "", "1=1", "'=x"):
        assert neutralise(safe) == safe
    assert neutralise(-2.5) == -2.5 and neutralise(None) is None


def _dangerous_left(values) -> list[str]:
    return [v for v in values if isinstance(v, str) and v.startswith(FORMULA_STARTS)]


def test_answers_xlsx_neutralises_formula_cells(app, client, answers):
    rows = _rows_of_xlsx(client.get(f"/bureau/campaigns/{answers}/export.xlsx").content)
    comments = [row[-1] for row in rows[1:]]
    assert _dangerous_left(v for row in rows for v in row) == []
    # Without lxml, XML turns the carriage return into a line feed: the apostrophe before it matters.
    def same(text):
        return text.replace("\r", "\n")
    assert sorted(same(c) for c in comments if c and c.startswith("'")) == sorted(same(f"'{t}") for t in DANGEROUS)


def test_answers_csv_neutralises_formula_cells(app, client, answers):
    text = client.get(f"/bureau/campaigns/{answers}/export.excel.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert _dangerous_left(v for row in rows for v in row) == []
    assert {f"'{t}" for t in DANGEROUS} <= {row[-1] for row in rows[1:]}


def test_audit_csv_neutralises_formula_cells(app, client, answers):
    from service.accounts import audit
    with Session(app.state.engine) as s:
        audit.record(s, "=cmd|' /C calc'!A0", "export", "-target", {"file": "@x"})
        data = audit.to_csv(list(s.exec(select(AuditEntry).order_by(AuditEntry.id))))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert _dangerous_left(v for row in rows for v in row) == []
    assert ["'=cmd|' /C calc'!A0", "'-target"] == [rows[-1][2], rows[-1][5]]


def test_school_name_like_a_formula_is_neutralised_in_the_answers_xlsx(app, client, answers):
    with Session(app.state.engine) as s:
        s.exec(select(School).where(School.campaign_id == answers, School.school_code == "S01")).one().school_name = "=1+1"
        s.commit()
    rows = _rows_of_xlsx(client.get(f"/bureau/campaigns/{answers}/export.xlsx").content)
    assert rows[1][3] == "'=1+1"


# ---- verdict.xlsx, the ledger and the province overview -------------------------------------

def _formula_county(app, client) -> int:
    """A campaign whose workbook names schools like formulas, with answers of its schools."""
    from svc_helpers import EXAMPLE, create_campaign, example_zip, login, store_county_version, upload_workbook
    login(client)
    cid = create_campaign(client)
    schools = (EXAMPLE / "schools.csv").read_text(encoding="utf-8-sig")
    schools = schools.replace("S01学校", "=HYPERLINK(\"http://x\")").replace("S03学校", "-S03学校")
    store_county_version(app, example_zip({"schools.csv": schools.encode("utf-8")}))
    r = upload_workbook(client, cid, example_zip({"schools.csv": schools.encode("utf-8")}))
    assert r.status_code == 200 and "处问题" not in r.text, r.text[:2000]
    for code in ("S01", "S03"):
        add(app, cid, questionnaire="student", group="student", school_code=code, grade=4)
    return cid


def _cells(wb) -> list:
    return [v for ws in wb for row in ws.iter_rows(values_only=True) for v in row]


def test_verdict_xlsx_neutralises_formula_cells(app, client):
    _formula_county(app, client)
    r = client.get("/inspector/counties/示例县/verdict.xlsx")
    assert r.status_code == 200
    cells = _cells(load_workbook(io.BytesIO(r.content)))
    assert _dangerous_left(cells) == []
    assert "'=HYPERLINK(\"http://x\")" in cells and "'-S03学校" in cells


def test_verdict_xlsx_has_native_charts_of_rates_against_85_and_cvs_against_caps(app, client, campaign):
    add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4)
    wb = load_workbook(io.BytesIO(client.get("/inspector/counties/示例县/verdict.xlsx").content))
    threshold = app.state.profile.recognition["recognition_threshold"]
    groups = wb["答卷汇总"]
    (chart,) = groups._charts
    kinds = {c.tagname: c.series[0].val.numRef.f for c in chart._charts}
    assert set(kinds) == {"barChart", "lineChart"}
    assert kinds["barChart"].endswith("$D$2:$D$8")                   # the group rates ...
    assert [groups.cell(row=i, column=6).value for i in range(2, 9)] == [threshold] * 7   # ... against 85 %
    assert groups.cell(row=1, column=4).value == "认可度" and groups.cell(row=2, column=4).number_format == "0.0%"
    resources = wb["资源配置"]
    assert len(resources._charts) == 2                                 # one per stage: CVs and their cap
    for chart in resources._charts:
        assert {c.tagname for c in chart._charts} == {"barChart", "lineChart"}
        line = next(c for c in chart._charts if c.tagname == "lineChart").series[0].val.numRef.f
        col, first, _, last = range_boundaries(line.split("!")[1])
        caps = {resources.cell(row=i, column=col).value for i in range(first, last + 1)}
        assert len(caps) == 1 and caps <= set(app.state.profile.resources["cv_cap"].values())


def test_verdict_xlsx_states_checks_as_sentences_and_questions_per_group(app, client, campaign):
    add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4)
    wb = load_workbook(io.BytesIO(client.get("/inspector/counties/示例县/verdict.xlsx").content))
    checks = [row for row in wb["社会认可度"].iter_rows(values_only=True) if row[0] and str(row[0])[:1] == "S"]
    assert len(checks) == 7 and all("{" not in (row[2] or "") and "=" not in (row[2] or "") for row in checks)
    questions = list(wb["各题认可情况"].iter_rows(values_only=True))
    assert questions[0][:4] == ("题目", "群体", "有效份数", "满意")
    student = [row for row in questions if row[1] == N.GROUPS["student"]]
    assert len(student) == len(ITEM_FIELDS) and all("不显示" in row[3] for row in student)   # 1 answer < k
    english = {*N.GROUPS, *N.LOCATIONS, "primary", "junior", "valid"}
    assert not english & {v for v in _cells(wb) if isinstance(v, str)}


def test_ledger_exports_neutralise_text_and_keep_numbers():
    from service.verdicts import exports as X
    rows = [{"rule": "G5", "school_code": "=S05", "increase": -7, "reason": "@cmd", "group": "parent",
             "column": "max_class_size_primary"}]
    text = X.ledger_csv(rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    head = parsed[0]
    assert head[:2] == ["规则", "学校"] and parsed[1][0] == "G5 班额"
    assert parsed[1][1] == "'=S05" and parsed[1][head.index("调整量")] == "减少 7 人"
    assert parsed[1][head.index("说明")] == "'@cmd" and parsed[1][head.index("指标或项目")] == N.GROUPS["parent"]
    sheet = load_workbook(io.BytesIO(X.ledger_xlsx(rows)))["短板台账"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, (c.value for c in sheet[2])))
    assert row["学校"] == "'=S05" and row["调整量（数值）"] == -7 and row["说明"] == "'@cmd"


def test_overview_xlsx_has_chinese_headers_the_pages_figures_and_no_formulas(app, client, campaign):
    add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4)
    r = client.get("/inspector/overview.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content))["全省概览"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["县", "结论"] and "认可度" in header and "调查进度" in header
    row = {h: c for h, c in zip(header, sheet[2])}
    assert row["县"].value == "示例县" and row["结论"].value in N.PASSED.values()
    page = client.get("/inspector/overview").text
    shown = f'{row["认可度"].value * 100:.1f}%'
    assert row["认可度"].number_format == "0.0%" and f'<td class="n">{shown}</td>' in page
    from service.verdicts import exports as X
    from service.web.clock import local
    danger = X.overview_xlsx([{"county": "=cmd", "passed": None, "error": None, "parts": {}, "veto": [],
                               "valid": None, "required": None, "progress": None, "version": None,
                               "uploaded": None}], local)
    assert _dangerous_left(_cells(load_workbook(io.BytesIO(danger)))) == []


def test_verdict_exports_of_a_county_without_answers_and_with_one(app, client, campaign):
    for suffix in ("/verdict.xlsx", "/report.pdf"):
        assert client.get("/inspector/counties/示例县" + suffix).status_code == 200, suffix
    assert "还没有有效答卷" in client.get("/inspector/counties/示例县/verdict").text
    add(app, campaign, questionnaire="student", group="student", school_code="S01", grade=4)
    page = client.get("/inspector/counties/示例县/verdict").text
    questions = page[page.index('id="questions"'):page.index('id="ledger"')]
    assert questions.count(">不显示<") == len(ITEM_FIELDS)          # one student's answers stay hidden


def test_answers_xlsx_is_streamed_from_a_temporary_file_with_its_digest_in_the_headers(app, client, answers):
    """Issue 25: the xlsx is written to a temporary file and sent in chunks; the audited SHA-256 is the
    file's, and the temporary file is gone once it is sent."""
    import glob
    import hashlib
    import tempfile
    left = set(glob.glob(f"{tempfile.gettempdir()}/renke-answers-*.xlsx"))
    r = client.get(f"/bureau/campaigns/{answers}/export.xlsx")
    assert r.status_code == 200 and r.headers["X-Renke-SHA256"] == hashlib.sha256(r.content).hexdigest()
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"] and r.headers["X-Renke-Count"] == str(len(
        _rows_of_xlsx(r.content)) - 1)
    assert set(glob.glob(f"{tempfile.gettempdir()}/renke-answers-*.xlsx")) == left
