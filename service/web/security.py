"""Passwords, signed form tokens, device-key hashes, random tokens."""

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"          # links: lower case, no l/o/0/1
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"           # slips: upper case, no I/O/0/1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got.hex(), digest)


def password_stamp(password_hash: str) -> str:
    """What a session keeps of its account's password hash: a session made under another
    password (changed since, here or elsewhere) is over."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def random_token(length: int = 10, alphabet: str = TOKEN_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def device_hash(secret: str, campaign_id: int, campaign_salt: str, device_key: str) -> str:
    """Keyed hash of the device cookie, salted per campaign: not linkable across campaigns."""
    msg = f"{campaign_id}:{campaign_salt}:{device_key}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


class _Uncompressed(URLSafeSerializer):
    """itsdangerous' URL-safe serializer, its payload never zlib-compressed: a form token is a
    few dozen bytes, and ``zlib.decompress`` lets go of the GIL, so checking one in the middle of
    a submission waited for the batch writer's thread. Tokens signed compressed still load."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class FormSigner:
    """Signs what a form page fixed: campaign, link, questionnaire, code, load time (``t``, the
    app clock) and the one submission id (``s``) the loaded page may be answered with."""

    def __init__(self, secret: str):
        self._s = _Uncompressed(secret, salt="renke-form")

    def sign(self, data: dict[str, Any]) -> str:
        return self._s.dumps(data)

    def load(self, token: str) -> dict[str, Any] | None:
        try:
            data = self._s.loads(token)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None

    def check(self, token: str, sid: str, now: float, max_age_s: float) -> tuple[dict[str, Any] | None, str | None]:
        """The signed data of a posted form and what is wrong with it: "stale" (not ours, or
        posted with another submission id than the page was given), "expired" (loaded more
        than ``max_age_s`` ago) or None."""
        data = self.load(token)
        if data is None or data.get("s") != sid or not isinstance(data.get("t"), (int, float)):
            return None, "stale"
        if now - data["t"] > max_age_s:
            return data, "expired"
        return data, None
