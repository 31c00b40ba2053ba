"""Turning what people type into cells (in Excel, WPS or a web form) into typed values.

`parse_value` is lenient about form (full-width digits, thousands separators, stray spaces, numbers stored as
text, a trailing unit, 是/否 written Y/N) and strict about meaning: anything else stays text, and the engine
reports it as an error on that item.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from songnuan.formkit.definitions import Item, ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.expressions import NO, YES

#: What people write for "nothing reported here": kept blank, never turned into 0.
BLANK_MARKS = frozenset({"", "-", "—", "——", "–", "/", "\\"})
_YES = frozenset({"是", "Y", "YES", "TRUE", "√", "有"})
_NO = frozenset({"否", "N", "NO", "FALSE", "×", "无"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")
#: A date as people type it: 2018-01-15, 2018/1/15, 2018.1.15, 2018年1月15日 (year, month, day groups).
DATE_TEXT = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")


@functools.lru_cache(maxsize=8192)
def normalize_text(text: str) -> str:
    """NFKC (full-width ＡＢ１２，． become ASCII) and no white space at all, including 　 (U+3000).

    Cached: the same labels and headings recur in every file of a reporting round.
    """
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def decimal_from_float(number: float) -> Decimal:
    """A spreadsheet double as the decimal Excel shows (15 significant digits: 0.1+0.2 is 0.3)."""
    return Decimal(format(number, ".15g"))


def parse_value(item: Item, raw: object) -> Value:
    """The typed value of one cell for `item`; text that is not a value of its kind is returned as is."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        if item.kind is ItemKind.YES_NO:
            return YES if raw else NO
        return str(raw).upper()
    if isinstance(raw, dt.date | dt.datetime | dt.time | dt.timedelta):
        return str(raw)
    if isinstance(raw, int):
        return _typed_number(item, Decimal(raw))
    if isinstance(raw, float):
        # NaN or ±∞ (a broken formula in the sheet) is not a number: kept as text, the engine reports it.
        if not math.isfinite(raw):
            return str(raw)
        return _typed_number(item, decimal_from_float(raw))
    text = normalize_text(str(raw))
    if text in BLANK_MARKS:
        return None
    if item.kind is ItemKind.YES_NO:
        upper = text.upper()
        if upper in _YES:
            return YES
        if upper in _NO:
            return NO
        return str(raw).strip()
    if item.unit and text.endswith(item.unit):
        text = text[: -len(item.unit)]
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if _NUMBER.fullmatch(text):
        try:
            return _typed_number(item, Decimal(text))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            pass
    return str(raw).strip()


def _typed_number(item: Item, number: Decimal) -> Value:
    if item.kind is ItemKind.YES_NO:
        return format(number, "f")
    if item.kind is ItemKind.COUNT:
        return int(number) if number == number.to_integral_value() else number
    # 12.50000 and 12.5 are the same amount: trailing zeros do not count as decimal places.
    return number.normalize()
