"""HTML to an A4 PDF with WeasyPrint (a maintained HTML/CSS renderer: the printed report is the
same template as the page, with its print CSS), CJK text from the system's Noto CJK fonts
(Debian ``fonts-noto-cjk``, installed by ``.ci/run`` and the Dockerfile)."""

import functools


@functools.lru_cache(maxsize=1)
def _fonts():
    from weasyprint.text.fonts import FontConfiguration
    return FontConfiguration()


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a rendered page; images and styles are inline or under ``base_url``."""
    from weasyprint import HTML
    return HTML(string=html, base_url=base_url).write_pdf(font_config=_fonts())
