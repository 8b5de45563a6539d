"""Issue 21, finding 6: the phone form's page is rendered once and kept for every respondent;
nothing of one request's Host header may be kept in it."""

import re

import pytest
from litestar.testing import TestClient

from svc_helpers import link_token, open_campaign


def og_image(page: str) -> str:
    return re.search(r'<meta property="og:image" content="([^"]*)"', page).group(1)


@pytest.mark.parametrize("public_url", [None, "https://renke.example.cn"])
def test_a_host_header_never_reaches_the_next_respondents_form(app, client, public_url):
    app.state.settings.public_url = public_url
    path = "/s/" + link_token(app, open_campaign(client), "S01", "student")
    with TestClient(app, base_url="http://evil.example") as attacker:
        poisoned = attacker.get(path, headers={"Host": "evil.example"})
    assert poisoned.status_code == 200
    if public_url:
        assert og_image(poisoned.text) == f"{public_url}/s/_/icon.png"
    with TestClient(app, base_url="http://testserver.local") as phone:
        page = phone.get(path)
    assert "evil.example" not in page.text
    assert og_image(page.text) == f"{public_url or 'http://testserver.local'}/s/_/icon.png"


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
