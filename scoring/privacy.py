"""Respondent anonymity (issue 6): free-text masking, minimum cell size, device hashes.

Pure functions: nothing here stores or logs anything.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path


from .profile import Profile, load_profile

PHONE_MASK = "[手机号已隐去]"
ID_MASK = "[身份证号已隐去]"
EMAIL_MASK = "[邮箱已隐去]"
DEFAULT_MIN_CELL_SIZE = 5

# Matched on the NFKC form of the text (full-width digits, ＠ and － become ASCII), and once
# more with digits written in Chinese (一三八…, 〇/零, 幺, 壹贰叁…) read as digits.
# E-mail first (a local part may be a phone number; "(at)" / "[at]" and "(dot)" spell @ and
# a dot), then ID numbers (18 digits, the last may be X, or the old 15-digit form), then
# mobile numbers (1[3-9] + 9 digits, optional +86 / 0086 / 86 prefix). Digits may be grouped
# by up to three spaces, hyphens or dots ("138 1234 5678", "138.1234.5678", "138 - 1234",
# "110101 19900307 123X"). A match never starts or ends inside a run of digits, so years,
# counts and amounts (never 11, 15 or 18 digits) stay as they are.
_BEFORE = r"(?<![0-9])"
_AFTER = r"(?![0-9])"
_SEP = r"[ \-.]{0,3}"
_AT = r"(?:@|\s*[(\[{]\s*at\s*[)\]}]\s*)"
_DOT = r"(?:\.|\s*[(\[{]\s*dot\s*[)\]}]\s*)"
_EMAIL = r"[A-Za-z0-9._%+\-]+" + _AT + r"[A-Za-z0-9\-]+(?:" + _DOT + r"[A-Za-z0-9\-]+)+"
_ID = (_BEFORE + r"[0-9](?:" + _SEP + r"[0-9]){16}" + _SEP + r"[0-9Xx]" + _AFTER + "|"
       + _BEFORE + r"[0-9](?:" + _SEP + r"[0-9]){14}" + _AFTER)
_PHONE = (_BEFORE + r"(?:(?:\+|00)?86[ \-]?|\(\+?86\)[ \-]?)?1[3-9](?:" + _SEP + r"[0-9]){9}"
          + _AFTER)
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("email", re.compile(_EMAIL, re.IGNORECASE), EMAIL_MASK),
    ("id_number", re.compile(_ID), ID_MASK),
    ("mobile", re.compile(_PHONE), PHONE_MASK),
)
_CHINESE_DIGITS = str.maketrans("〇零幺一二三四五六七八九壹贰叁肆伍陆柒捌玖", "001123456789123456789")


def _normalised(text: str) -> tuple[str, list[int]]:
    """NFKC form of ``text`` and, per normalised character, the index of its source character."""
    parts, origin = [], []
    for i, char in enumerate(text):
        norm = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        parts.append(norm)
        origin.extend([i] * len(norm))
    return "".join(parts), origin


def find_personal_data(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each phone/ID/e-mail found in ``text``, spans in ``text``'s own indexes."""
    norm, origin = _normalised(text)
    found: list[tuple[str, int, int]] = []
    taken = [False] * len(text)
    # Chinese digits read apart from the text's own digits: "一" next to a number written in
    # figures must not make that number one digit longer.
    for variant in (norm, norm.translate(_CHINESE_DIGITS)):
        for kind, pattern, _ in PATTERNS:
            for match in pattern.finditer(variant):
                start, end = origin[match.start()], origin[match.end() - 1] + 1
                if any(taken[start:end]):
                    continue
                taken[start:end] = [True] * (end - start)
                found.append((kind, start, end))
    return sorted(found, key=lambda f: f[1])


def mask_free_text(text: str) -> str:
    """``text`` with Chinese mobile numbers, ID numbers (18 or 15 digits) and e-mail addresses
    masked, in figures or in Chinese digits.

    Masking repeats until nothing is found, so the result never contains any of them
    (a mask is bracketed text, so it cannot join digits into a new number).
    """
    if not text:
        return text
    masks = {kind: mask for kind, _, mask in PATTERNS}
    for _ in range(10):
        found = find_personal_data(text)
        if not found:
            return text
        pieces, last = [], 0
        for kind, start, end in found:
            pieces += [text[last:start], masks[kind]]
            last = end
        text = "".join(pieces) + text[last:]
    return text


def small_cell(count: int, k: int) -> bool:
    """True when a breakdown cell of ``count`` valid responses must not be shown (count < k)."""
    return count < k



def min_cell_size(profile: Profile | str | Path | None = None) -> int:
    """Profile ``[privacy] min_cell_size`` (default 5)."""
    return int(load_profile(profile).privacy.get("min_cell_size", DEFAULT_MIN_CELL_SIZE))
