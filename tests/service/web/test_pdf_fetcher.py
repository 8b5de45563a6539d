"""Issue 21, finding 11: the PDF renderer loads nothing but ``data:`` URLs and the app's own static
files, whatever a printed page comes to contain."""

import base64
import http.server
import io
import shutil
import threading
from pathlib import Path

import pytest

from service.web.pdf import html_to_pdf

ICON = Path(__file__).resolve().parents[3] / "service" / "answers" / "static" / "icon.png"


def images(pdf: bytes) -> int:
    pypdf = pytest.importorskip("pypdf")
    return sum(len(page.images) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def listener():
    """A local HTTP server recording the paths asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(ICON.read_bytes())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()


def test_the_pdf_renderer_fetches_only_data_urls_and_the_apps_own_assets(tmp_path, listener):
    base, asked = listener
    elsewhere = tmp_path / "secret.png"
    shutil.copy(ICON, elsewhere)
    inline = "data:image/png;base64," + base64.b64encode(ICON.read_bytes()).decode()
    html = (f'<link rel="stylesheet" href="{base}/style.css"><style>@import url("{base}/more.css");</style>'
            f'<p>报告</p><img src="{base}/a.png"><img src="{elsewhere.as_uri()}"><img src="file:///etc/passwd">')
    assert images(html_to_pdf(html)) == 0 and asked == []
    assert images(html_to_pdf(f'<img src="{inline}"><img src="{ICON.as_uri()}">')) == 2


pytestmark = pytest.mark.one_database   # pages, words, guards, files: SQLite only
