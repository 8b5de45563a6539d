"""The form's record of how it was answered (issue 23): written by the form's script into a hidden field,
stored with the answer by the batch writer, never required (the form works without JavaScript)."""

import gzip
import re

from sqlmodel import Session, select

from service.answers.form import form_record
from service.db.models import Answer

from svc_helpers import ALL_A, answer, link_token


def _stored(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer).order_by(Answer.id)))


def test_the_form_carries_an_empty_record_field_and_its_script(app, campaign, anon):
    page = anon.get("/s/" + link_token(app, campaign, "S01", "student"))
    assert '<input type="hidden" name="_h">' in page.text           # empty until the script writes it
    assert 'h.value="f"+r(F)+";s"+s.map(r).join(",")+";c"+c' in page.text


def test_the_record_is_stored_with_the_answer(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    r, _, _ = answer(anon, clock, path, {**ALL_A, "grade": "4", "_h": "f4.2;s3.1,61.5,0;c2"}, wait=70)
    assert r.status_code == 200 and "提交成功" in r.text
    [row] = _stored(app)
    assert row.form_trace == "f4.2;s3.1,61.5,0;c2"


def test_an_answer_without_javascript_is_stored_without_a_record(app, campaign, anon, clock):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    r, _, _ = answer(anon, clock, path, {**ALL_A, "grade": "4"}, wait=70)
    assert r.status_code == 200 and "提交成功" in r.text
    [row] = _stored(app)
    assert row.form_trace is None


def test_a_record_not_written_by_the_form_is_not_kept():
    assert form_record("f12;s1.5,30,2.5;c0") == "f12;s1.5,30,2.5;c0"
    for forged in ("", "f1;s2;c0", "f1.25;s1,2,3;c0", "f1;s1,2,3;c0;name=张三", "<script>", "f" + "9" * 7 + ";s1,2,3;c0"):
        assert form_record(forged) is None, forged


def test_form_page_with_the_record_script_stays_under_30_kb(app, campaign, anon):
    page = anon.get("/s/" + link_token(app, campaign) + "?q=public")
    assert "name=\"_h\"" in page.text
    assert len(gzip.compress(page.content, 6)) < 30 * 1024 and page.num_bytes_downloaded < 30 * 1024
    assert len(re.findall(r"<script>", page.text)) == 2          # the form's script and the record's, both inline
