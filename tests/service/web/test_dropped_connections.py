"""Issue 21, finding 10: a client that drops its connection before its request is read is no
server error: one quiet line in the log, no traceback (anyone could flood the log with them)."""

import logging

import anyio

from svc_helpers import link_token


async def dropped_post(app, path: str) -> list[dict]:
    """POST ``path`` straight to the ASGI app, the client gone after the first bytes of the body."""
    sent: list[dict] = []
    events = iter([{"type": "http.request", "body": b"_t=abc&grade=", "more_body": True},
                   {"type": "http.disconnect"}])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver.local"), (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"content-length", b"5000")],
             "client": ("127.0.0.1", 50000), "server": ("testserver.local", 80), "state": {}}

    async def receive() -> dict:
        return next(events, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_a_dropped_connection_is_logged_in_one_line_without_a_traceback(app, client, campaign, caplog):
    path = "/s/" + link_token(app, campaign, "S01", "student")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        anyio.run(dropped_post, app, path)
    service = [r for r in caplog.records if r.name.startswith("service")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    [line] = service
    assert line.levelno == logging.INFO and "disconnected" in line.getMessage() and "\n" not in line.getMessage()
