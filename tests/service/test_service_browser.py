"""The phone form in a real headless Chromium (skipped when Chromium is not installed):
the progressive-enhancement script submits, and on a network failure keeps the answers
in localStorage and retries with the same submission id until it is stored once."""

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from sqlmodel import Session, select

from service.models import Response

from svc_helpers import link_token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A minimal Chrome DevTools Protocol client over one page."""

    def __init__(self, tmp_path):
        from websockets.sync.client import connect
        port = _free_port()
        self.proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                      f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'chrome'}",
                                      "--window-size=390,844", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1))
                page = next(p for p in pages if p["type"] == "page")
                break
            except Exception:  # noqa: BLE001
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.next_id = 0

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg.get("result", {})

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.js(expression):
                    return
            except Exception:  # noqa: BLE001 - page navigating
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}; page: {self.js('document.body.innerText')}")

    def open(self, url: str):
        self.send("Page.navigate", url=url)
        self.wait_for(f"location.href == {json.dumps(url)} && document.readyState == 'complete'")

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def live(app, tmp_path):
    import uvicorn
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline
        time.sleep(0.05)
    browser = Browser(tmp_path)
    yield f"http://127.0.0.1:{port}", browser
    browser.close()
    server.should_exit = True
    thread.join(10)


FILL = """(() => {
  document.querySelectorAll('input[type=radio][value=B]').forEach(r => r.checked = true);
  const g = document.querySelector('select[name=grade]'); if (g) g.value = '5';
  return document.getElementById('f') !== null; })()"""


def _rows(app):
    with Session(app.state.engine) as s:
        return list(s.exec(select(Response)))


def test_script_submits_the_form(app, campaign, live):
    base, browser = live
    browser.open(f"{base}/s/{link_token(app, campaign, 'S01', 'student')}")
    assert browser.js(FILL)
    browser.js("document.getElementById('f').requestSubmit()")
    browser.wait_for("document.body.innerText.includes('提交成功')")
    [row] = _rows(app)
    assert row.group == "student" and row.grade == 5 and row.overall == "B"


def test_offline_submit_is_kept_and_retried_with_the_same_id(app, campaign, live):
    base, browser = live
    browser.open(f"{base}/s/{link_token(app, campaign, 'S02', 'student')}")
    sid = browser.js("document.querySelector('input[name=_sid]').value")
    assert browser.js(FILL)
    browser.send("Network.enable")
    browser.send("Network.emulateNetworkConditions", offline=True, latency=0,
                 downloadThroughput=-1, uploadThroughput=-1)
    browser.js("document.getElementById('f').requestSubmit()")
    browser.wait_for("document.getElementById('net').innerText.includes('答案已保存在本机')")
    saved = browser.js("localStorage.getItem('rk:' + location.pathname)")
    assert saved and f"_sid={sid}" in saved
    assert _rows(app) == []
    browser.send("Network.emulateNetworkConditions", offline=False, latency=0,
                 downloadThroughput=-1, uploadThroughput=-1)
    browser.wait_for("document.body.innerText.includes('提交成功')", timeout=30)
    rows = _rows(app)
    assert [r.submission_id for r in rows] == [sid]
    assert browser.js("Object.keys(localStorage).filter(k => k.startsWith('rk:')).length") == 0
