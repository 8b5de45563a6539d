"""The form token: signed without compression, and a token signed compressed (a page loaded
before the change) still accepted; a tampered one is stale."""

import pytest
from itsdangerous import URLSafeSerializer

from service.web.security import FormSigner

SID = "0d5f2c8e-1a2b-4c3d-8e9f-0123456789ab"
DATA = {"c": 1, "l": 2, "q": "student", "s": SID, "k": None, "t": 1_765_000_000.5}


def test_a_form_token_is_not_compressed():
    # zlib.decompress lets go of the GIL: checking a compressed token mid-request waited for the writer thread
    assert not FormSigner("secret").sign(DATA).startswith(".")


def test_a_token_signed_compressed_before_still_loads():
    old = URLSafeSerializer("secret", salt="renke-form").dumps(DATA)
    assert old.startswith(".")
    assert FormSigner("secret").check(old, SID, DATA["t"] + 60, 3600) == (DATA, None)


def test_a_tampered_token_is_stale():
    token = FormSigner("secret").sign(DATA)
    assert FormSigner("other").check(token, SID, DATA["t"] + 60, 3600) == (None, "stale")
    assert FormSigner("secret").check(token[:-2] + "xx", SID, DATA["t"] + 60, 3600) == (None, "stale")


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
