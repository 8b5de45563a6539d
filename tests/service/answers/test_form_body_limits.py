"""Issue 21, finding 2: a phone form post is bounded to what a form needs before anything parses
it (a 9.8 MB body of 1.2 million fields held the event loop for seconds)."""

from urllib.parse import urlencode

from svc_helpers import ALL_A, answer, hidden, link_token

from service.answers.routes import FORM_BODY_LIMIT, FORM_FIELDS_LIMIT


def test_a_phone_form_post_larger_than_a_form_needs_is_refused_unread(app, anon, campaign):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    page = anon.get(path)
    body = b"_t=" + hidden(page.text, "_t").encode() + b"&comment=" + b"x" * FORM_BODY_LIMIT
    r = anon.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "提交的内容过多" in r.text
    assert FORM_BODY_LIMIT == 64 * 1024


def test_a_phone_form_post_with_more_fields_than_a_form_has_is_refused(app, anon, campaign):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    page = anon.get(path)
    fields = "&".join(f"f{i}=" for i in range(FORM_FIELDS_LIMIT + 1))
    body = f"_t={hidden(page.text, '_t')}&_sid={hidden(page.text, '_sid')}&{fields}".encode()
    assert len(body) < FORM_BODY_LIMIT
    r = anon.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "提交成功" not in r.text


def test_a_full_answer_with_the_longest_comment_fits_the_bounds(app, anon, clock, campaign):
    """The student form's comment at its 500 characters is taken; the longest comment a template may
    allow (5,000 Chinese characters, 9 bytes each once percent-encoded) fits the body bound."""
    path = "/s/" + link_token(app, campaign, "S01", "student")
    r, _, _ = answer(anon, clock, path, {**ALL_A, "grade": "4", "comment": "很好" * 250})
    assert r.status_code == 200 and "提交成功" in r.text
    assert len(urlencode({**ALL_A, "comment": "很" * 5000, "_t": "x" * 200})) < FORM_BODY_LIMIT
