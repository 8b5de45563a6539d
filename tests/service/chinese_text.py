"""What counts as an English word or a raw data structure on a page a person reads (the
Chinese-first rule), shared by the page sweep and the browser journeys."""

import html
import re
from html.parser import HTMLParser

ALLOWED = re.compile(
    r"https?://\S+|(?<![\w])/[\w./?=&%{}:-]+"                # URLs and paths shown to copy
    r"|[\w.+-]*\.(?:xlsx|xls|zip|csv|docx|pdf|png|svg|sav|dta|json)\b"     # file names and extensions
    r"|\b(?:QR|Excel|CSV|PDF|SHA-256|PNG|SVG|WPS|SPSS|Stata)\b"
    r"|\b[0-9a-f]{64}\b|\b[0-9a-f]{16}(?=…|\b)"                # a SHA-256 shown, or its first 16 digits
    r"|\b(?:[RGQSV]\d{1,2}[a-d]?|CV|S\d{2,})\b"              # rule and school codes
    r"|\b[A-Z0-9]{8}\b"                                      # one-time codes printed on slips
    r"|\b[a-km-z2-9]{10}\b"                                  # QR link tokens (data)
    r"|\b(?:admin|demo|inspector|province)\b")              # user names (data, not labels)
ENGLISH = re.compile(r"[A-Za-z]{2,}")
RAW = re.compile(r"[{}\[\]]|\b(?:None|True|False|nan)\b|\w+=\S")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return html.unescape(" ".join(parser.parts))


def leaks(text: str) -> list[str]:
    rest = ALLOWED.sub(" ", text)
    return sorted(set(ENGLISH.findall(rest)) | set(RAW.findall(rest)))
