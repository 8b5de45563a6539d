"""HTML to an A4 PDF with WeasyPrint (a maintained HTML/CSS renderer: the printed report is the
same template as the page, with its print CSS), CJK text from the system's Noto CJK fonts
(Debian ``fonts-noto-cjk``, installed by ``.ci/run`` and the Dockerfile).

The pages printed carry what people typed (school names, comments, plan notes): escaping keeps
it text, and the fetcher is the second guard: it loads ``data:`` URLs and the app's own static
files only, never another file of the machine nor anything over the network."""

import functools
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher

ASSET_DIRS = tuple(p.resolve() for p in Path(__file__).resolve().parents[1].glob("*/static"))


class AssetsOnly(URLFetcher):
    """WeasyPrint's fetcher for ``data:`` URLs and files under the app's ``static`` folders; any other
    URL is refused (WeasyPrint then leaves the image or style out and renders the rest)."""

    def __init__(self):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(d) for d in ASSET_DIRS):
                raise ValueError(f"not one of the app's own files: {url}")
        elif scheme != "data":
            raise ValueError(f"refused: {url}")
        return super().fetch(url, headers)


@functools.lru_cache(maxsize=1)
def _fonts():
    from weasyprint.text.fonts import FontConfiguration
    return FontConfiguration()


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a rendered page; images and styles are inline or under ``base_url``."""
    from weasyprint import HTML
    return HTML(string=html, base_url=base_url, url_fetcher=AssetsOnly()).write_pdf(font_config=_fonts())
