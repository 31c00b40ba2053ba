"""What people type into a cell, and the typed value the engine sees (blank is never zero)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from songnuan.formkit.definitions import Item, ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.values import parse_value

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
