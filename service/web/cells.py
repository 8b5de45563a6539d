"""Spreadsheet cells safe to open: the one guard every CSV and xlsx export applies to its text
(and ``printable``, what the SPSS and Stata files add).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel (and LibreOffice) as a formula — a comment or a school name could run one on the
reader's machine (OWASP "CSV injection"). Such a cell gets a leading apostrophe, so it is
shown as the text it was. Numbers are not text and pass unchanged (a negative increase stays
a number).
"""

import unicodedata
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text that a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def printable(value: Any) -> Any:
    """``value`` without control characters when it is text: a NUL ends a string early in SPSS
    and Stata readers, and a line break or escape inside a fixed-width field garbles the listing."""
    if isinstance(value, str):
        return "".join(ch for ch in value if unicodedata.category(ch) != "Cc")
    return value
