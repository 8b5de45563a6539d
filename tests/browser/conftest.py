"""Real-browser tests: Playwright (Python) driving Debian's Chromium (never a downloaded browser)
against the app served by uvicorn in a thread, on SQLite. One browser per module,
a fresh app, server and browser context per test. Every test leaves a full-page screenshot in
test-artifacts/screenshots/<test name>.png (also when it fails). Skipped when Chromium or the
playwright package is missing."""

import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "service"))

import svc_helpers as H  # noqa: E402  (the service tests' helpers, shared)
from browser_helpers import shot_name  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = ("Chromium not installed (apt-get install chromium)" if CHROMIUM is None else
              "playwright not installed (pip install -e '.[dev]')" if _missing("playwright") else None)
    if reason:
        for item in items:
            if Path(str(item.fspath)).parent == here:
                item.add_marker(pytest.mark.skip(reason=reason))


def _missing(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    """One browser per module: the sync API keeps an asyncio loop running in the main thread while
    it is open, so it must be closed before other tests' asyncio.run() (module teardown does)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(sqlite_url):
    application = H.make_app(sqlite_url, admin=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def live(app) -> str:
    """The app served over real HTTP by uvicorn in a thread; its base URL."""
    import uvicorn
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert thread.is_alive() and time.time() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _context(request, chromium, options, label):
    context = chromium.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if not page.is_closed():     # the scenario's last state, kept as a test artifact (on failure too)
        try:
            both = {"phone", "desk"} <= set(request.fixturenames)       # then one file each
            page.screenshot(path=shot_name(request.node.name, label if both else ""), full_page=True, timeout=10_000)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test's own result
            pass
    context.close()


@pytest.fixture
def phone(request, chromium):
    """A page in a phone-sized, touch, zh-CN browser context."""
    yield from _context(request, chromium, PHONE, "phone")


@pytest.fixture
def desk(request, chromium):
    """A page in a desktop-sized browser context (the bureau's and the inspector's)."""
    yield from _context(request, chromium, DESK, "desk")


@pytest.fixture
def shot(request):
    """shot(page, "step") saves a full-page screenshot of an intermediate step."""
    def take(page, suffix: str) -> None:
        page.screenshot(path=shot_name(request.node.name, suffix), full_page=True)
    return take
