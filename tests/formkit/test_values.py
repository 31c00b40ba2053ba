"""What people type into a cell, and the typed value the engine sees (blank is never zero)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from songnuan.formkit.definitions import Item, ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.values import decimal_from_float, normalize_text, parse_value

COUNT = Item("2D", "2", "D", "其中，困难职工（户）", "户", ItemKind.COUNT, 0)
MONEY = Item("3A", "3", "A", "筹集慰问款物总额(万元)", "万元", ItemKind.MONEY, 0)
YES_NO = Item("6B", "6", "B", "资金是否纳入财政预算（是/否）", "是/否", ItemKind.YES_NO, 0)


@pytest.mark.parametrize(
    ("item", "raw", "expected"),
    [
        (COUNT, None, None),
        (COUNT, "", None),
        (COUNT, "   ", None),
        (COUNT, "　", None),  # ideographic space
        (COUNT, "—", None),
        (COUNT, "/", None),
        (COUNT, 12.0, 12),
        (COUNT, 12, 12),
        (COUNT, "12", 12),
        (COUNT, " 12 ", 12),
        (COUNT, "１２", 12),  # full-width digits
        (COUNT, "1,234", 1234),
        (COUNT, "1，234", 1234),  # full-width comma
        (COUNT, "12户", 12),  # the item's own unit typed after the number
        (COUNT, "0", 0),
        (COUNT, 0.0, 0),
        (COUNT, "12.5", Decimal("12.5")),  # not whole: the engine reports .integer
        (COUNT, -3.0, -3),  # negative: the engine reports .non-negative
        (COUNT, "约20", "约20"),  # not a number: kept as text, the engine reports .number
        (COUNT, "1,2", "1,2"),
        (COUNT, "12人", "12人"),  # a different unit is not silently dropped
        (COUNT, True, "TRUE"),
        (COUNT, dt.date(2018, 2, 1), "2018-02-01"),
        (MONEY, 12.35, Decimal("12.35")),
        (MONEY, 0.1 + 0.2, Decimal("0.3")),  # the 15 digits Excel shows, not the binary tail
        (MONEY, "12.3500", Decimal("12.35")),
        (MONEY, "１２．５", Decimal("12.5")),
        (MONEY, "1,234.5678", Decimal("1234.5678")),
        (MONEY, "12.34567", Decimal("12.34567")),  # too many decimals: the engine reports .decimals
        (MONEY, "12万元", Decimal(12)),
        (YES_NO, "是", "是"),
        (YES_NO, "否", "否"),
        (YES_NO, "Y", "是"),
        (YES_NO, "n", "否"),
        (YES_NO, " 是 ", "是"),
        (YES_NO, True, "是"),
        (YES_NO, "不确定", "不确定"),
        (YES_NO, 1.0, "1"),
    ],
)
def test_parse_value(item: Item, raw: object, expected: Value) -> None:
    value = parse_value(item, raw)
    assert value == expected
    assert type(value) is type(expected)


def test_money_is_never_a_float() -> None:
    assert isinstance(parse_value(MONEY, 3.3), Decimal)
    assert isinstance(parse_value(MONEY, 3), Decimal)


PLAIN = Item("9Z", "9", "Z", "没有单位的项目", "", ItemKind.COUNT, 0)


def same(value: Value, expected: Value) -> bool:
    """Equal, of the same type, and (for a Decimal) with the same digits and exponent: 12.5 is not 12.50."""
    if isinstance(value, Decimal) and isinstance(expected, Decimal):
        return value.as_tuple() == expected.as_tuple()
    return type(value) is type(expected) and value == expected


@pytest.mark.parametrize(
    ("item", "raw", "expected"),
    [
        (YES_NO, True, "是"),
        (YES_NO, False, "否"),  # not 是: False is a value, not a blank
        (COUNT, True, "TRUE"),  # on a number item a boolean is text, reported as not a number
        (COUNT, False, "FALSE"),
        (MONEY, False, "FALSE"),
        (COUNT, float("nan"), "nan"),  # a broken formula in the sheet: text, never a number
        (MONEY, float("inf"), "inf"),
        (MONEY, float("-inf"), "-inf"),
        (YES_NO, float("nan"), "nan"),
        (COUNT, dt.datetime(2018, 2, 1, 8, 30), "2018-02-01 08:30:00"),
        (MONEY, dt.time(8, 30), "08:30:00"),
        (COUNT, dt.timedelta(days=1), "1 day, 0:00:00"),
        (COUNT, "2018-01-15", "2018-01-15"),  # a date typed as text stays text
        (MONEY, "2018年1月15日", "2018年1月15日"),
    ],
)
def test_booleans_non_finite_floats_and_dates(item: Item, raw: object, expected: Value) -> None:
    assert same(parse_value(item, raw), expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (5, 5),
        (5.0, 5),
        ("5.0", 5),
        ("５．００", 5),
        (-0.0, 0),
        (0.5, Decimal("0.5")),  # half a person: the engine reports .integer
        ("0.5", Decimal("0.5")),
        ("12.50", Decimal("12.50")),  # not whole: left as typed, the engine names it
        (10**12, 10**12),
        (1e15, 10**15),
    ],
)
def test_counts_are_int_when_whole(raw: object, expected: Value) -> None:
    assert same(parse_value(COUNT, raw), expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50000", Decimal("12.5")),  # trailing zeros are not decimal places
        (12.5, Decimal("12.5")),
        ("1.23450", Decimal("1.2345")),
        ("1.23456", Decimal("1.23456")),
        (0.00001, Decimal("0.00001")),
        ("100", Decimal("1E+2")),
        (100, Decimal("1E+2")),
        (100.0, Decimal("1E+2")),
        ("0.000", Decimal(0)),
        ("-0", Decimal("-0")),
        ("+3", Decimal(3)),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
    ],
)
def test_money_is_normalized(raw: object, expected: Decimal) -> None:
    assert same(parse_value(MONEY, raw), expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, "1"),
        (0, "0"),
        (1.0, "1"),
        (0.5, "0.5"),
        (1e20, "100000000000000000000"),  # plain digits, never 1E+20
        (1e-7, "0.0000001"),
        ("1", "1"),  # typed text: kept as typed, the engine reports it is not 是/否
        (" 0 ", "0"),
        ("\u3000不确定 ", "不确定"),
    ],
)
def test_numbers_on_a_yes_no_item_are_text(raw: object, expected: str) -> None:
    assert same(parse_value(YES_NO, raw), expected)


@pytest.mark.parametrize("word", ["是", "Y", "y", "YES", "Yes", "TRUE", "true", "√", "有", "ｙｅｓ", " Ｙ "])
def test_yes_words(word: str) -> None:
    assert parse_value(YES_NO, word) == "是"
    assert parse_value(COUNT, word) == word.strip()  # only a 是/否 item reads them


@pytest.mark.parametrize(
    "word", ["否", "N", "n", "NO", "No", "FALSE", "false", "×", "无", "ｎｏ", "\u3000否"]
)
def test_no_words(word: str) -> None:
    assert parse_value(YES_NO, word) == "否"
    assert parse_value(MONEY, word) == word.strip()


@pytest.mark.parametrize("mark", ["", "-", "—", "——", "–", "/", "\\", " - ", "\u3000/\u3000", "\t——"])
def test_blank_marks_stay_blank(mark: str) -> None:
    for item in (COUNT, MONEY, YES_NO):
        assert parse_value(item, mark) is None


@pytest.mark.parametrize(
    ("item", "raw", "expected"),
    [
        (PLAIN, "12", 12),  # no unit: nothing is cut off the end
        (PLAIN, "12户", "12户"),
        (COUNT, "12 户", 12),
        (COUNT, "1,234户", 1234),
        (MONEY, "1,234.5万元", Decimal("1234.5")),
        (MONEY, "万元", "万元"),
        (MONEY, "12元", "12元"),
        (COUNT, "-1,234", -1234),
        (COUNT, "+1,234,567", 1234567),
        (COUNT, "12,345", 12345),
        (COUNT, "123,456", 123456),
        (COUNT, "1234,567", "1234,567"),  # a first group of four digits is not a thousands separator
        (COUNT, "1,2345", "1,2345"),
        (COUNT, "1,23", "1,23"),
        (COUNT, ",123", ",123"),
        (MONEY, "1.234,5", "1.234,5"),
        (MONEY, "1,234.", "1,234."),
        (COUNT, "1 234", 1234),  # spaces inside a number are dropped, as Excel users type them
    ],
)
def test_units_and_thousands_separators(item: Item, raw: object, expected: Value) -> None:
    assert same(parse_value(item, raw), expected)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (2.675, "2.675"),
        (123456789012345.67, "123456789012346"),
        (1e20, "1E+20"),
        (-1.5, "-1.5"),
    ],
)
def test_decimal_from_float_keeps_15_significant_digits(number: float, expected: str) -> None:
    assert str(decimal_from_float(number)) == expected


@pytest.mark.parametrize("text", ["１２．５", " a b ", "\u3000是\u3000", "ＡＢ，", "", "12\n34"])
def test_normalize_text_caching_does_not_change_results(text: str) -> None:
    uncached = normalize_text.__wrapped__(text)
    assert normalize_text(text) == uncached
    assert normalize_text(text) == uncached  # from the cache
    normalize_text.cache_clear()
    assert normalize_text(text) == uncached


def test_normalize_text() -> None:
    assert normalize_text("ＡＢ １２，．\u3000x\ty\n") == "AB12,.xy"
