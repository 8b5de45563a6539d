"""Anonymity helpers (issue 6): free-text masking, minimum cell size, device hashes."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.integrity import integrity_settings
from scoring.privacy import (EMAIL_MASK, ID_MASK, PHONE_MASK, find_personal_data,
                             mask_free_text, min_cell_size, small_cell)

# Independent checks on the NFKC form of masked text (not the module's own patterns).
PHONE_DIGITS = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
ID_DIGITS = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def _clean(text: str) -> str:
    """NFKC with the separators a phone or ID may carry removed."""
    return re.sub(r"(?<=[0-9])[ \-](?=[0-9])", "", unicodedata.normalize("NFKC", text))


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("text, expected", [
    ("我的电话13812345678，请联系", f"我的电话{PHONE_MASK}，请联系"),
    ("电话 138 1234 5678", f"电话 {PHONE_MASK}"),
    ("电话138-1234-5678。", f"电话{PHONE_MASK}。"),
    ("+86 13912345678", PHONE_MASK),
    ("+86-139-1234-5678", PHONE_MASK),
    ("8613912345678", PHONE_MASK),
    ("call me at tel19912345678", f"call me at tel{PHONE_MASK}"),
    ("手机：１３８１２３４５６７８", f"手机：{PHONE_MASK}"),
    ("手机：１３８－１２３４－５６７８", f"手机：{PHONE_MASK}"),
    ("身份证11010119900307123X谢谢", f"身份证{ID_MASK}谢谢"),
    ("身份证 110101199003071234", f"身份证 {ID_MASK}"),
    ("110101 19900307 123x", ID_MASK),
    ("身份证１１０１０１１９９００３０７１２３Ｘ", f"身份证{ID_MASK}"),
    ("邮箱 zhang.san@example.com 欢迎", f"邮箱 {EMAIL_MASK} 欢迎"),
    ("13812345678@163.com", EMAIL_MASK),
    ("邮箱ｚｓ＠ｑｑ．ｃｏｍ", f"邮箱{EMAIL_MASK}"),
    ("电话13812345678和13987654321", f"电话{PHONE_MASK}和{PHONE_MASK}"),
    ("电话1381 234 5678", f"电话{PHONE_MASK}"),
    ("电话 13812345678 3 次没人接", f"电话 {PHONE_MASK} 3 次没人接"),
    ("110101199003071234 5 个孩子", f"{ID_MASK} 5 个孩子"),
])
def test_masks_each_kind(text, expected):
    assert mask_free_text(text) == expected


def test_masks_15_digit_id_numbers():
    assert mask_free_text("老身份证110101900307123谢谢") == f"老身份证{ID_MASK}谢谢"
    assert mask_free_text("110101 900307 123") == ID_MASK
    assert mask_free_text("14 位 11010190030712 不是") == "14 位 11010190030712 不是"


def test_masks_phones_with_dots_spaces_or_dashes_inside():
    assert mask_free_text("电话138.1234.5678") == f"电话{PHONE_MASK}"
    assert mask_free_text("电话 138 - 1234 - 5678") == f"电话 {PHONE_MASK}"
    assert mask_free_text("电话138  1234  5678！") == f"电话{PHONE_MASK}！"
    assert mask_free_text("电话１３８．１２３４．５６７８") == f"电话{PHONE_MASK}"


def test_masks_digits_written_in_chinese():
    assert mask_free_text("电话一三八一二三四五六七八") == f"电话{PHONE_MASK}"
    assert mask_free_text("打幺三九 〇〇〇〇 一二三四") == f"打{PHONE_MASK}"
    assert mask_free_text("身份证壹壹零壹零壹壹玖玖零零叁零柒壹贰叁肆") == f"身份证{ID_MASK}"
    assert mask_free_text("我有一13812345678") == f"我有一{PHONE_MASK}"   # 一 does not lengthen the number
    assert mask_free_text("一二三四五六七八九十，三年级二班") == "一二三四五六七八九十，三年级二班"


def test_masks_spelled_out_at_in_emails():
    assert mask_free_text("写信 zhang.san(at)example.com 吧") == f"写信 {EMAIL_MASK} 吧"
    assert mask_free_text("zs [at] qq [dot] com") == EMAIL_MASK
    assert mask_free_text("ZS（AT）163.com") == EMAIL_MASK
    assert mask_free_text("we meet at school") == "we meet at school"


@pytest.mark.parametrize("text", [
    "2023年9月1日开学，全校1200名学生，46个班",
    "每学期收费 13800 元，教辅 350.5 元",
    "订单号 213812345678 不是手机号",          # 12 digits
    "编号 1381234567",                           # 10 digits
    "1234567890123456789 是 19 位数",           # 19 digits
    "2024-05-11 19:30 提交，用时 95 秒",
    "第3、4、5、6题我不了解",
    "第 13 14 15 16 17 18 19 题",
    "2023 1380 5678",
    "",
    "没有意见",
])
def test_leaves_ordinary_numbers(text):
    assert mask_free_text(text) == text
    assert find_personal_data(text) == []


phones = st.builds(lambda d, sep, prefix: prefix + d[:3] + sep + d[3:7] + sep + d[7:],
                   st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True),
                   st.sampled_from(["", " ", "-"]), st.sampled_from(["", "+86 ", "86", "+86-"]))
ids = st.builds(lambda d, last: d + last, st.from_regex(r"\A[0-9]{17}\Z", fullmatch=True),
                st.sampled_from(list("0123456789Xx")))
emails = st.from_regex(r"\A[a-z0-9._]{1,12}@[a-z0-9]{1,8}\.(com|cn|net)\Z", fullmatch=True)
personal = st.one_of(phones, ids, emails).flatmap(
    lambda s: st.sampled_from([s, _full_width(s)]))
filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(filler, personal), max_size=4), filler)
def test_masked_text_never_holds_a_phone_id_or_email(pieces, tail):
    # Each piece of personal data stands apart from neighbouring digits and letters.
    text = "".join(f"{before} ，{item}， " for before, item in pieces) + tail
    masked = mask_free_text(text)
    clean = _clean(masked)
    for before, item in pieces:
        assert _clean(item) not in clean
    assert find_personal_data(masked) == []
    assert mask_free_text(masked) == masked


@settings(max_examples=100, deadline=None)
@given(filler)
def test_masked_arbitrary_text_holds_no_pattern(text):
    masked = mask_free_text(text)
    assert find_personal_data(masked) == []
    clean = unicodedata.normalize("NFKC", masked)
    assert not PHONE_DIGITS.search(clean) and not ID_DIGITS.search(clean) and not EMAIL.search(clean)


def test_small_cell_rule():
    assert small_cell(4, 5) and small_cell(0, 5)
    assert not small_cell(5, 5) and not small_cell(120, 5)


def test_cell_size_and_integrity_settings_from_the_profile(tmp_path):
    assert min_cell_size() == 5
    override = tmp_path / "province.toml"
    override.write_text("[privacy]\nmin_cell_size = 10\n", encoding="utf-8")
    assert min_cell_size(override) == 10
    bare = tmp_path / "province.yaml"
    bare.write_text("alpha: 0.05\nburst_window_minutes: 15\n", encoding="utf-8")
    s = integrity_settings(bare)
    assert (s.alpha, s.burst_window_minutes, s.min_responses) == (0.05, 15.0, 10)
    assert integrity_settings().alpha == 0.01


def test_device_hash():
    # The service's device key hash (service/web/security.py): keyed, salted per campaign.
    from service.web.security import device_hash

    secret = "server-secret-0123456789abcdef"
    a1 = device_hash(secret, 1, "salt-a", "device-key-1")
    assert a1 == device_hash(secret, 1, "salt-a", "device-key-1")       # stable within a campaign
    assert a1 != device_hash(secret, 2, "salt-b", "device-key-1")       # unlinkable across campaigns
    assert a1 != device_hash(secret, 1, "salt-a", "device-key-2")
    assert a1 != device_hash("another-secret", 1, "salt-a", "device-key-1")
    assert re.fullmatch(r"[0-9a-f]{64}", a1)
    assert "device-key-1" not in a1


@given(st.text(min_size=1, max_size=40))
def test_device_hash_never_the_raw_key(key):
    from service.web.security import device_hash

    hashed = device_hash("secret", 1, "salt", key)
    assert hashed != key and hashed != device_hash("secret", 1, "salt2", key)
