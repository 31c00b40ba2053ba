"""Resident ID numbers (居民身份证号码, GB 11643-1999), bank and union card numbers, and masking them.

The real-name rule binds every household file and payment to a verified ID number, so the number is checked
the way GB 11643 defines it: 6-digit area code, birth date, 3-digit sequence (odd for men), and an ISO 7064
MOD 11-2 check character. The area code is checked at the province level only: people keep the code of the
county that issued their number, and many of those codes have since been abolished (440524 is one), so a
table of today's counties would refuse valid numbers.

15-digit numbers (the first generation, before 1999) are accepted and converted to 18 digits — "19" is
inserted before the 2-digit year and the check character added — because old paper archives still carry
them; the file then stores the 18-digit form and notes the conversion.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

#: Province-level codes of GB/T 2260 (71 台湾, 81 香港, 82 澳门 included).
PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
}
_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum mod 11
EARLIEST_BIRTH = dt.date(1850, 1, 1)


class InvalidIdNumber(ValueError):
    """Not a valid resident ID number; `code` says which part is wrong, the message says it in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 characters, the check character upper-case
    birth_date: dt.date
    sex: str  # 男 or 女, from the sequence number: odd for men
    province: str
    converted_from: str | None = None  # the 15-digit number it was converted from

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _CHECK_CHARACTERS[
        sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11
    ]


def normalize_id_number(text: str) -> str:
    """Full-width digits and letters folded, spaces and dashes dropped, x written X."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper()


def parse_id_number(text: str, *, today: dt.date | None = None) -> ResidentId:
    """The checked ID number, or InvalidIdNumber saying what is wrong."""
    number = normalize_id_number(text)
    converted_from = None
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidIdNumber("format", _("15位身份证号应全部是数字"))
        converted_from = number
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_character(first17)
    if len(number) != 18:
        raise InvalidIdNumber(
            "length", _("身份证号应为18位（或旧的15位），这里是{n}位").format(n=len(number))
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber("format", _("身份证号前17位应是数字，最后一位是数字或X"))
    province = PROVINCES.get(number[:2])
    if province is None:
        raise InvalidIdNumber("area", _("身份证号开头的地区码 {code} 不存在").format(code=number[:6]))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            "birth-date", _("身份证号中的出生日期 {d} 不是有效日期").format(d=number[6:14])
        ) from None
    # China's date, whatever the process's time zone: a child born today there is not born tomorrow.
    if not EARLIEST_BIRTH <= birth <= (today or timezone.localdate()):
        raise InvalidIdNumber("birth-date", _("身份证号中的出生日期 {d} 不可能").format(d=birth.isoformat()))
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(
            "check-digit", _("身份证号校验位不对（最后一位应为 {c}），请核对是否抄错").format(c=expected)
        )
    sex = "男" if int(number[16]) % 2 else "女"
    return ResidentId(number, birth, sex, province, converted_from)


#: A doubled Luhn digit, its digits added (7 → 14 → 5), as a translation of the digit characters.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
_ZERO = ord("0")


def luhn_valid(number: str) -> bool:
    """The Luhn check most bank cards carry (some UnionPay cards were issued without one: a warning only).
    Every card of a roster passes here: plain ASCII digits skip the normalisation, the doubling is a table."""
    digits = number if number.isascii() and number.isdigit() else normalize_id_number(number)
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 12:
        return False
    # Summing the characters' bytes spares an int() per digit: each digit is its byte less ord("0").
    total = sum(digits[-1::-2].encode()) + sum(digits[-2::-2].translate(_LUHN_DOUBLED).encode())
    return (total - _ZERO * len(digits)) % 10 == 0


#: What the masks show of a number; without the permission a search by part of a number uses only these.
ID_HEAD_SHOWN = 4
ID_TAIL_SHOWN = 4
PHONE_HEAD_SHOWN = 3


def mask_id_number(number: str) -> str:
    """4208**********1234: the area's first four and the last four characters stay visible.

    The ten hidden characters are area digits 5–6 and the whole birth date. The mask holds only if nothing
    shown beside it gives the birth date back: with the date in full, the check character leaves about 9
    candidates for the two hidden area digits (and a county table one). So without the full numbers only the
    birth year is shown (`shown_birth_year`), which leaves about 100 × 365 / 11 ≈ 3,300 valid numbers (≈ 230
    even to someone who knows every county code of the city). Sex is the parity of digit 17, which the
    visible tail already shows: it tells nothing more.
    """
    return _mask(normalize_id_number(number), ID_HEAD_SHOWN, ID_TAIL_SHOWN, hidden=10)


def mask_phone(number: str) -> str:
    """138****1234: at least four digits hidden (a phone number has no check digit: 10⁴ candidates)."""
    return _mask(normalize_id_number(number), PHONE_HEAD_SHOWN, 4, hidden=4)


def mask_card(number: str) -> str:
    """6222***********3456: the first four only while at least eight digits stay hidden, else the last four.

    A card's last digit is usually a Luhn check digit, which fixes one hidden digit given the others: eight
    hidden digits still leave 10⁷ numbers (a 19-digit card 10¹⁰).
    """
    return _mask(normalize_id_number(number), 4, 4, hidden=8)


def shown_birth_year(birth_date: dt.date | None) -> int | None:
    """What is shown of a birth date beside a masked ID number: the year (see `mask_id_number`)."""
    return birth_date.year if birth_date else None


def _mask(text: str, head: int, tail: int, *, hidden: int) -> str:
    """`head` and `tail` characters visible, as long as `hidden` stay masked (short numbers lose the head
    first, then the tail)."""
    head = max(0, min(head, len(text) - tail - hidden))
    tail = max(0, min(tail, len(text) - head - hidden))
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]
