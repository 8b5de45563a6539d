"""Security headers on every response, error pages and redirects included (the app's
``before_send`` hook sees every response start, where ``after_request`` misses the ones
made by exception handlers and middleware).

The CSP allows no inline script but the templates' own: the sha256 of every inline
``<script>`` block is computed at start-up from the template files, so a script edited in a
template stays allowed and an injected one does not run. Inline scripts must therefore be
static text (no Jinja inside), and templates have no inline event handlers (a form that asks
first says so with ``data-confirm``, handled by its page's script);
``tests/service/accounts/test_hardening.py`` checks the rendered pages against the policy.
"""

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
_EVENT_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*"([^"]*)\"""", re.I)
# The health check sets no caching. The phone form is no-store like every page: a page kept by a
# back/forward cache or a proxy would post its signed submission id a second time, and a second
# person's answer would be thanked as a retry of the first and never stored.
_OWN_CACHING = ("/healthz",)
HSTS = "max-age=31536000"


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def inline_script_hashes(template_dirs: Iterable[Path]) -> list[str]:
    """The hashes of every template's inline script blocks; an inline event handler stops the
    start (it would need 'unsafe-hashes')."""
    scripts: set[str] = set()
    for directory in template_dirs:
        for path in sorted(Path(directory).rglob("*.html")):
            text = path.read_text(encoding="utf-8").replace("\r\n", "\n")   # Jinja renders \n
            if _EVENT_HANDLER.search(text):
                raise ValueError(f"{path}: inline event handler (the CSP allows none; use data-confirm or a script)")
            scripts |= {csp_hash(body) for body in _INLINE_SCRIPT.findall(text)}
    return sorted(scripts)


def content_security_policy(template_dirs: Iterable[Path]) -> str:
    # Everything is served by this host: no other host is ever contacted (WeChat's browser too).
    script_src = ["'self'", *inline_script_hashes(template_dirs)]
    return (f"default-src 'self'; script-src {' '.join(script_src)}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def security_headers(csp: str, https: bool):
    """The ``before_send`` hook: fixed headers on every response; ``Cache-Control: no-store``
    on every response that sets no caching of its own, but the phone form's and the health check."""
    fixed = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
             "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
    if https:
        fixed["Strict-Transport-Security"] = HSTS

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        message.setdefault("headers", [])
        headers = MutableScopeHeaders.from_message(message)
        for key, value in fixed.items():
            if key not in headers:
                headers[key] = value
        if "cache-control" not in headers and not scope.get("path", "").startswith(_OWN_CACHING):
            headers["Cache-Control"] = "no-store"

    return before_send
