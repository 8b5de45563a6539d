"""Issue 20: the phone chooser names the school of the scanned code, so a parent can check it."""

import pytest
from sqlmodel import Session, select

from service.db.models import Link, School
from svc_helpers import link_token


def test_chooser_of_a_school_link_names_the_school(app, client, campaign, anon):
    with Session(app.state.engine) as s:
        link = s.exec(select(Link).where(Link.campaign_id == campaign, Link.school_code.is_not(None),
                                         Link.group.is_(None))).first()
        name = s.exec(select(School.school_name).where(School.campaign_id == campaign,
                                                       School.school_code == link.school_code)).one()
    page = anon.get(f"/s/{link.token}")
    assert page.status_code == 200 and "请选择适合您的问卷" in page.text
    assert f"学校：<b>{name}</b>" in page.text


def test_chooser_of_the_county_link_names_no_school(app, client, campaign, anon):
    page = anon.get(f"/s/{link_token(app, campaign)}")
    assert "请选择适合您的问卷" in page.text and "学校：<b>" not in page.text


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
