"""Spreadsheet cells safe to open: the one guard every CSV and xlsx export applies to its text
(and ``printable``, what the SPSS and Stata files add).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel (and LibreOffice) as a formula — a comment or a school name could run one on the
reader's machine (OWASP "CSV injection"). Such a cell gets a leading apostrophe, so it is
shown as the text it was. Numbers are not text and pass unchanged (a negative increase stays
a number).

Control characters (C0, but tab, newline and carriage return) cannot be stored in an .xlsx:
openpyxl refuses the whole file, so one in a comment would make an export answer 500 for every
reader. They are dropped; the readers of uploaded files refuse them in the first place.
"""

import unicodedata
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` without control characters and with a leading apostrophe when it is text that a
    spreadsheet would run."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def printable(value: Any) -> Any:
    """``value`` without control characters when it is text: a NUL ends a string early in SPSS
    and Stata readers, and a line break or escape inside a fixed-width field garbles the listing."""
    if isinstance(value, str):
        return "".join(ch for ch in value if unicodedata.category(ch) != "Cc")
    return value
