"""The county-level sentence at the top of the integrity page (issue 23): when the flagged answers alone carry
the county across 85 %, the page says so with both figures; otherwise it says nothing. Nothing is excluded."""

import re
from datetime import timedelta, timezone

import pandas as pd
from sqlmodel import Session, select

from benchmarks.integrity_signals import PATTERNS, generate_campaign
from inspector_helpers import browser, make_users
from service.db.models import Link, Answer
from svc_helpers import ALL_A

CHINA = timezone(timedelta(hours=8))


def store(app, cid: int, syn) -> None:
    """A generated county (25 schools X000–X024 = S01–S25) stored as the phone form stores answers."""
    code_of = {f"X{i:03d}": f"S{i + 1:02d}" for i in range(25)}
    templates = app.state.templates
    with Session(app.state.engine) as s:
        link_of = {}
        for link in s.exec(select(Link).where(Link.campaign_id == cid)):
            if link.school_code and link.group in ("student", "parent", "teacher"):
                staff = "staff" if link.group == "teacher" else link.group
                link_of[f"X{int(link.school_code[1:]) - 1:03d}-{staff}"] = link.id
            elif not link.school_code and link.group:
                link_of[f"county-{link.group}"] = link.id
        rows = [dict(
            submission_id=f"syn-{rec['response_id']}", campaign_id=cid, link_id=link_of[rec["link_id"]],
            questionnaire=rec["questionnaire"], template_version=int(templates[rec["questionnaire"]]["version"]),
            group=rec["group"], school_code=code_of.get(rec["school_code"]) if rec["school_code"] else None,
            location=rec["location"], grade=None if pd.isna(rec["grade"]) else int(rec["grade"]),
            duration_s=float(rec["duration_s"]), comment=rec["free_text"] or None,
            duplicate_of=f"syn-{rec['duplicate_of']}" if isinstance(rec["duplicate_of"], str) and rec["duplicate_of"]
            else None, form_trace=rec["form_trace"] or None,
            created_at=pd.Timestamp(rec["submitted_at"]).to_pydatetime().replace(tzinfo=CHINA),
            **{i: (rec[i] if isinstance(rec[i], str) else None) for i in ALL_A})
            for rec in syn.responses.to_dict("records")]
        s.execute(Answer.__table__.insert(), rows)
        s.commit()


def _page(app, campaign) -> str:
    make_users(app)
    with browser(app, "inspector_a") as c:
        page = c.get(f"/trust/campaigns/{campaign}/integrity")
    assert page.status_code == 200, page.text[:1000]
    return page.text


def test_flagged_answers_carrying_the_county_across_85_percent_are_called_out_at_the_top(app, client, campaign):
    """Seed 0, 25 schools near 85 % (level −0.3), five coached at 30 %: 85.2 % as evaluated, 84.2 % without the
    flagged schools' suspicious answers (scoring-level figures of the generator)."""
    store(app, campaign, generate_campaign(0, 25, patterns=tuple((PATTERNS[k], 0.3) for k in range(5)), level=-0.3))
    html = _page(app, campaign)
    sentence = re.search(r'<p id="county-call-out"[^>]*><b>(.*?)</b></p>', html, re.S)
    assert sentence, html[:3000]
    text = sentence.group(1)
    figures = re.findall(r"(\d+\.\d)%", text)
    assert len(figures) == 4 and float(figures[0]) >= 85.0 > float(figures[2]) and figures[1] == figures[3] == "85.0"
    assert "不剔除任何答卷" in text and html.index("county-call-out") < html.index('id="flags"')


def test_no_sentence_when_the_flagged_answers_do_not_decide(app, client, campaign):
    """The same county without the level shift: the flagged answers do not decide its verdict, no sentence."""
    store(app, campaign, generate_campaign(0, 25, patterns=tuple((PATTERNS[k], 0.3) for k in range(5))))
    html = _page(app, campaign)
    assert 'id="flags"' in html and "county-call-out" not in html
