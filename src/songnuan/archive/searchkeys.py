"""The keys the archive is searched by: pinyin initials of a name, an ID number read backwards, prefix ranges.

Every key is searched as a prefix with a plain B-tree range (key >= p AND key < p⁺), which both SQLite and
PostgreSQL answer from an index at any size — LIKE '%…%' would read every row.
"""

from __future__ import annotations

import functools
import unicodedata

from pypinyin import Style, lazy_pinyin

# Surnames read differently from the same character elsewhere (单 is Shàn, not dān, as a surname).
_SURNAME_INITIALS = {
    "单": "s",
    "曾": "z",
    "解": "x",
    "仇": "q",
    "查": "z",
    "朴": "p",
    "区": "o",
    "覃": "q",
    "盖": "g",
    "乐": "y",
    "缪": "m",
    "召": "s",
    "种": "c",
    "翟": "z",
    "隗": "w",
    "秘": "b",
    "尉": "y",
    "万": "w",
    "沈": "s",
    "繁": "p",
    "员": "y",
    "黑": "h",
    "宁": "n",
    "那": "n",
    "折": "s",
}


@functools.lru_cache(maxsize=65536)
def _initial(character: str) -> str:
    if character.isascii():
        return character.lower() if character.isalpha() else ""
    if not "\u3400" <= character <= "\u9fff":  # not a CJK ideograph: ·, spaces, full-width marks
        return ""
    letter = lazy_pinyin(character, style=Style.FIRST_LETTER, errors="ignore")
    return letter[0][:1].lower() if letter else ""


def name_initials(name: str) -> str:
    """张三丰 → zsf; 单田芳 → stf (the surname's own reading); 买买提·艾力 → mmtal."""
    name = unicodedata.normalize("NFKC", name).strip()
    if not name:
        return ""
    first = _SURNAME_INITIALS.get(name[0]) or _initial(name[0])
    return first + "".join(_initial(character) for character in name[1:])


def reversed_id(number: str) -> str:
    return number[::-1]


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (code-point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
