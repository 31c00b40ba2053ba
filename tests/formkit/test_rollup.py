"""The roll-up rule on its own: blank + blank = blank, any filled value counts, counts stay int and 万元 stay
Decimal; 是 wins over 否 on a yes/no item."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.rollup import combine, combine_tables

from .strategies import good_count, good_money, good_yes_no

D = Decimal


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        (ItemKind.COUNT, [], None),
        (ItemKind.COUNT, [None], None),
        (ItemKind.COUNT, [None, None, None], None),
        (ItemKind.COUNT, [None, 0], 0),
        (ItemKind.COUNT, [0, 0], 0),
        (ItemKind.COUNT, [3, None, 4], 7),
        (ItemKind.MONEY, [None, None], None),
        (ItemKind.MONEY, [D("0"), None], D(0)),
        (ItemKind.MONEY, [D("1.50"), D("2.50")], D(4)),
        (ItemKind.MONEY, [D("0.0001"), None, D("12.25")], D("12.2501")),
        (ItemKind.YES_NO, [None, None], None),
        (ItemKind.YES_NO, ["否", None], "否"),
        (ItemKind.YES_NO, ["否", "否"], "否"),
        (ItemKind.YES_NO, ["否", "是", None], "是"),
        (ItemKind.YES_NO, ["是"], "是"),
    ],
)
def test_combine_table(kind: ItemKind, values: list[Value], expected: Value) -> None:
    result = combine(values, kind)
    assert result == expected
    assert type(result) is type(expected)


def test_money_totals_are_normalised() -> None:
    result = combine([D("1.50"), D("2.50")], ItemKind.MONEY)
    assert isinstance(result, Decimal) and result.as_tuple() == D(4).as_tuple()


@given(st.lists(st.one_of(st.none(), good_count), max_size=6))
def test_counts_sum_the_filled_values_and_stay_int(values: list[int | None]) -> None:
    filled = [v for v in values if v is not None]
    result = combine(values, ItemKind.COUNT)
    if not filled:
        assert result is None
    else:
        assert result == sum(filled) and type(result) is int


@given(st.lists(st.one_of(st.none(), good_money), max_size=6))
def test_money_sums_the_filled_values_and_stays_decimal(values: list[Decimal | None]) -> None:
    filled = [v for v in values if v is not None]
    result = combine(values, ItemKind.MONEY)
    if not filled:
        assert result is None
    else:
        assert result == sum(filled, D(0)) and type(result) is Decimal


@given(st.lists(st.one_of(st.none(), good_yes_no), max_size=6))
def test_yes_no_is_yes_when_any_says_yes(values: list[str | None]) -> None:
    filled = [v for v in values if v is not None]
    expected = None if not filled else ("是" if "是" in filled else "否")
    assert combine(values, ItemKind.YES_NO) == expected


def test_combine_tables_goes_item_by_item_over_the_whole_form() -> None:
    form = get_form("warmth-2018")
    result = combine_tables(form, [{"1A": 2, "3A": D("1.5")}, {"1A": 3, "2C": 0}, {}])
    assert result == {**dict.fromkeys(form.codes), "1A": 5, "2C": 0, "3A": D("1.5")}
    assert combine_tables(form, []) == dict.fromkeys(form.codes)
