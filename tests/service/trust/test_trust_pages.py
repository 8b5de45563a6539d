"""Issue 6: frozen exports (count + checksum), who may take the raw answers, the integrity
signals page on a campaign with a coached school, and the minimum cell size rule of the
pages that break results down."""

import pytest
import hashlib
import re
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from inspector_helpers import browser, make_users
from service.db.models import Campaign, Link, Answer
from svc_helpers import ALL_A, add_answers, answer, csrf_token, link_token

ROOT = Path(__file__).resolve().parents[3]
CHINA = timezone(timedelta(hours=8))


def close(client, cid: int) -> None:
    page = client.get(f"/bureau/campaigns/{cid}")
    r = client.post(f"/bureau/campaigns/{cid}/close", data={"_csrf_token": csrf_token(page.text)})
    assert r.status_code == 200


def test_closed_campaign_is_frozen_and_its_export_carries_count_and_checksum(app, client, campaign, anon, clock):
    token = link_token(app, campaign, group="public")
    for loc in ("urban", "town", "rural"):
        r, _, _ = answer(anon, clock, f"/s/{token}?q=public", {**ALL_A, "group": "public", "location": loc})
        assert r.status_code == 200
    open_export = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    assert open_export.headers["x-renke-frozen"] == "open" and open_export.headers["x-renke-count"] == "3"

    page = anon.get(f"/s/{token}?q=public")                 # a form loaded before the close ...
    close(client, campaign)
    clock.advance(60)
    r = anon.post(f"/s/{token}", data={"_t": re.search(r'name="_t" value="([^"]*)"', page.text).group(1),
                                       "_sid": re.search(r'name="_sid" value="([^"]*)"', page.text).group(1),
                                       **ALL_A, "group": "public", "location": "urban"})
    assert r.status_code == 410                             # ... is refused after it
    assert anon.get(f"/s/{token}").status_code == 410

    first = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    second = client.get(f"/bureau/campaigns/{campaign}/export.csv")
    assert first.content == second.content == open_export.content
    digest = hashlib.sha256(first.content).hexdigest()
    for r in (first, second):
        assert r.headers["x-renke-frozen"] == "closed"
        assert r.headers["x-renke-count"] == "3" and r.headers["x-renke-sha256"] == digest
    assert first.content.decode().count("\n") == 4            # the spec's file: header + rows, no footer
    xlsx = client.get(f"/bureau/campaigns/{campaign}/export.xlsx")
    assert xlsx.headers["x-renke-count"] == "3"
    assert xlsx.headers["x-renke-sha256"] == hashlib.sha256(xlsx.content).hexdigest()
    sidecar = client.get(f"/trust/campaigns/{campaign}/checksum")
    assert sidecar.status_code == 200
    assert sidecar.text.startswith(f"{digest}  responses-{campaign}.csv\n")
    assert "答卷 3 份；调查已结束" in sidecar.text


def test_raw_answers_export_is_for_the_countys_bureau_and_province(app, campaign):
    make_users(app)
    for user, status in (("bureau_a", 200), ("province", 200), ("inspector_a", 403), ("bureau_b", 403)):
        with browser(app, user) as c:
            for suffix in ("export.csv", "export.xlsx"):
                assert c.get(f"/bureau/campaigns/{campaign}/{suffix}").status_code == status, (user, suffix)


# ---- integrity signals -----------------------------------------------------------------------

def insert_synthetic(app, cid: int, seed: int = 3, n_coached: int = 1) -> tuple[str, ...]:
    """The benchmark's generator (25 schools, ``n_coached`` coached) stored as the campaign's answers."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.integrity_signals import generate_campaign
    syn = generate_campaign(seed, n_schools=25, n_coached=n_coached)
    code_of = {f"X{i:03d}": f"S{i + 1:02d}" for i in range(25)}
    templates = app.state.templates
    with Session(app.state.engine) as s:
        links = list(s.exec(select(Link).where(Link.campaign_id == cid)))
        link_of = {}
        for link in links:
            if link.school_code and link.group in ("student", "parent", "teacher"):
                staff = "staff" if link.group == "teacher" else link.group
                link_of[f"X{int(link.school_code[1:]) - 1:03d}-{staff}"] = link.id
            elif not link.school_code and link.group:
                link_of[f"county-{link.group}"] = link.id
        rows = []
        frame = syn.responses
        for rec in frame.to_dict("records"):
            items = {i: (rec[i] if isinstance(rec[i], str) else None) for i in ALL_A}
            rows.append(dict(
                submission_id=f"syn-{rec['response_id']}", campaign_id=cid, link_id=link_of[rec["link_id"]],
                questionnaire=rec["questionnaire"], template_version=int(templates[rec["questionnaire"]]["version"]),
                group=rec["group"], school_code=code_of.get(rec["school_code"]) if rec["school_code"] else None,
                location=rec["location"], grade=None if pd.isna(rec["grade"]) else int(rec["grade"]),
                duration_s=float(rec["duration_s"]),
                duplicate_of=f"syn-{rec['duplicate_of']}" if isinstance(rec["duplicate_of"], str)
                and rec["duplicate_of"] else None,
                comment=rec["free_text"] or None,
                created_at=pd.Timestamp(rec["submitted_at"]).to_pydatetime().replace(tzinfo=CHINA), **items))
        s.execute(Answer.__table__.insert(), rows)
        s.commit()
    return tuple(code_of[c] for c in syn.coached)


def test_integrity_page_flags_the_coached_school_and_excludes_nothing(app, client, campaign):
    coached = insert_synthetic(app, campaign)
    make_users(app)
    with browser(app, "inspector_a") as c:
        page = c.get(f"/trust/campaigns/{campaign}/integrity")
    assert page.status_code == 200, page.text[:1000]
    html = page.text
    flagged = set(re.findall(r'data-school="([^"]*)"', html))
    assert set(coached) <= flagged, (coached, flagged)
    assert len(flagged - set(coached)) <= 2                    # clean schools: rarely flagged
    row = re.search(rf'<tr class="behind" data-kind="(\w+)" data-school="{coached[0]}">(.*?)</tr>', html, re.S)
    assert row and "p 值" in html and "全县基准" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(2), re.S)
    assert len(cells) == 7 and cells[3] and cells[4] and re.match(r"[0-9.e+-]+$", cells[5]) and cells[6]
    assert "不剔除任何答卷" in html
    assert re.search(r"共 \d+ 项检验", html)                   # one family of tests, its size shown
    assert re.search(r'id="sensitivity">敏感性参考：加权认可度 [0-9.]+%', html)
    # nothing excluded: the page's valid count is the progress page's (survey.md's rules only)
    from service.campaigns.progress import progress
    with Session(app.state.engine) as s:
        valid = progress(s, s.get(Campaign, campaign), app.state.profile).valid
    assert f"有效 {valid} 份" in html
    with browser(app, "bureau_b") as c:
        assert c.get(f"/trust/campaigns/{campaign}/integrity").status_code == 403


def test_integrity_page_of_a_campaign_without_answers(app, client, campaign):
    page = client.get(f"/trust/campaigns/{campaign}/integrity")
    assert page.status_code == 200 and 'id="no-flags"' in page.text


# ---- minimum cell size -----------------------------------------------------------------------

def test_progress_page_shows_exact_counts_below_k(app, client, campaign):
    """The minimum cell size guards rates, comments and answer breakdowns, not counts of answers:
    a bureau must see which school has 0 or 3 answers to chase it."""
    add_answers(app, campaign, "S01", "parent", 3)            # S01 is a town school
    add_answers(app, campaign, "S02", "student", 6, location="urban")
    page = client.get(f"/bureau/campaigns/{campaign}").text
    assert "&lt;5" not in page
    section = page.split("<h4>按学校")[1]
    s01 = re.search(r"<td>S01学校</td>(.*?)</tr>", section, re.S).group(1)
    s02 = re.search(r"<td>S02学校</td>(.*?)</tr>", section, re.S).group(1)
    s01_cells = re.findall(r"<td class=\"n[^\"]*\">(.*?)</td>", s01)
    s02_cells = re.findall(r"<td class=\"n[^\"]*\">(.*?)</td>", s02)
    assert [c.split(" / ")[0] for c in s01_cells] == ["0", "3", "0", "0"], s01_cells
    assert [c.split(" / ")[0] for c in s02_cells] == ["6", "0", "0", "0"], s02_cells
    by_location = page.split("<h4>按城乡")[1].split("<h4>按学校")[0]
    town = re.search(r"<th>镇区</th>(.*?)</tr>", by_location, re.S).group(1)
    assert re.search(r">3 / ", town)
    by_group = page.split("<h4>按群体")[1].split("<h4>按城乡")[0]
    assert re.search(r">3 / \d+", by_group) and re.search(r">6 / \d+", by_group)
    assert "有效 9 份" in page


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
