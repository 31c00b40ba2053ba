"""The ledger's money rules as plain functions (songnuan.ledger.rules): amounts in yuan, 依档帮扶 dates, caps,
the 公示's masked names, card numbers. No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from songnuan.ledger.rules import (
    AmountError,
    Cap,
    basis_unknown,
    cap_for,
    file_open_on,
    mask_name,
    normalize_card,
    parse_yuan,
)

D = Decimal
JAN = dt.date(2018, 1, 15)

# --- parse_yuan --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1200", D("1200.00")),
        ("1,200.50", D("1200.50")),
        ("1，200.5", D("1200.50")),
        ("1200元", D("1200.00")),
        (" 300 元 ", D("300.00")),
        (".5", D("0.50")),
        ("0.01", D("0.01")),
        (D("99.9"), D("99.90")),
        (500, D("500.00")),
        (1200.5, D("1200.50")),  # a float through its shortest text, not its binary approximation
        (0.1, D("0.10")),
        ("10000000", D("10000000.00")),  # the largest amount still taken
    ],
)
def test_parse_yuan_accepts_amounts_in_yuan(given: object, expected: Decimal) -> None:
    parsed = parse_yuan(given)
    assert parsed == expected and isinstance(parsed, Decimal)
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        (None, "不能为空"),
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("一千", "不是数字"),
        ("12a", "不是数字"),
        ("1.2.3", "不是数字"),
        ("1e3", "不是数字"),
        ("NaN", "不是数字"),
        (True, "应是数字"),
        (float("nan"), "应是数字"),
        (float("inf"), "应是数字"),
        ("0", "大于零"),
        ("0.00", "大于零"),
        (-5, "大于零"),
        ("-100", "大于零"),
        ("10.001", "两位小数"),
        (D("0.005"), "两位小数"),
        (0.125, "两位小数"),
        ("10000000.01", "过大"),
    ],
)
def test_parse_yuan_refuses_what_is_not_a_payment(given: object, fragment: str) -> None:
    with pytest.raises(AmountError) as refused:
        parse_yuan(given)
    assert fragment in str(refused.value)


def test_parse_yuan_blank_is_not_zero() -> None:
    assert parse_yuan("", allow_blank=True) is None
    assert parse_yuan(None, allow_blank=True) is None
    # allowed blank is still not "anything goes": a zero is refused, not taken as blank
    with pytest.raises(AmountError):
        parse_yuan("0", allow_blank=True)


# --- file_open_on (依档帮扶) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "ended", "open_"),
    [
        (dt.date(2017, 12, 1), None, True),  # filed before, never ended
        (JAN, None, True),  # filed on the payment date: 先建档、后帮扶 holds on the same day
        (dt.date(2018, 1, 16), None, False),  # filed the day after
        (None, None, False),  # never filed
        (None, dt.date(2018, 2, 1), False),
        (dt.date(2017, 12, 1), dt.date(2018, 1, 16), True),  # ends the day after
        (dt.date(2017, 12, 1), JAN, False),  # ends on the payment date: no longer open on it
        (dt.date(2017, 12, 1), dt.date(2018, 1, 14), False),  # ended before
        (JAN, JAN, False),  # filed and ended the same day
    ],
)
def test_file_open_on(filed: dt.date | None, ended: dt.date | None, open_: bool) -> None:
    assert file_open_on(filed, ended, JAN) is open_


# --- cap_for, basis_unknown --------------------------------------------------------------------------------


def _cap(
    basis: str,
    *,
    per_payment: str | None = None,
    per_year: str | None = None,
    line: str | None = None,
    size: int | None = None,
    cost: str | None = None,
) -> Cap:
    return cap_for(
        basis,
        per_payment=D(per_payment) if per_payment else None,
        per_year=D(per_year) if per_year else None,
        living_line=D(line) if line else None,
        household_size=size,
        cost=D(cost) if cost else None,
    )


def test_no_basis_no_cap() -> None:
    assert _cap("") == Cap(None, None)


def test_fixed_caps_are_the_configured_ones() -> None:
    # 节日慰问 (Shandong's rule): 3,000 a visit, 6,000 a year
    assert _cap("fixed", per_payment="3000", per_year="6000") == Cap(D("3000"), D("6000"))


def test_living_line_year_is_line_times_12_times_size() -> None:
    assert _cap("living-line-year", line="600", size=3) == Cap(None, D("21600.00"))
    # an unknown or nonsensical size counts as one person, never as zero (which would forbid every payment)
    assert _cap("living-line-year", line="600", size=None).per_year == D("7200.00")
    assert _cap("living-line-year", line="600", size=0).per_year == D("7200.00")
    # the lower of the configured cap and the computed one
    assert _cap("living-line-year", per_year="5000", line="600", size=3).per_year == D("5000")
    assert _cap("living-line-year", per_year="50000", line="600", size=3).per_year == D("21600.00")
    # no 低保 line: nothing computed (the service warns)
    assert _cap("living-line-year", line=None, size=3) == Cap(None, None)


def test_cost_caps_a_payment_at_the_out_of_pocket_cost() -> None:
    assert _cap("cost", cost="4321.50") == Cap(D("4321.50"), None)
    assert _cap("cost", per_payment="3000", cost="4321.50").per_payment == D("3000")
    assert _cap("cost", cost=None) == Cap(None, None)


def test_schooling_caps_a_payment_at_ten_months_of_the_line() -> None:
    assert _cap("living-line-10-months", line="585.5") == Cap(D("5855.00"), None)
    assert _cap("living-line-10-months", line=None) == Cap(None, None)


def test_basis_unknown() -> None:
    assert basis_unknown("living-line-year", living_line=None, cost=D("1"))
    assert not basis_unknown("living-line-year", living_line=D("600"), cost=None)
    assert basis_unknown("living-line-10-months", living_line=None, cost=None)
    assert not basis_unknown("living-line-10-months", living_line=D("600"), cost=None)
    assert basis_unknown("cost", living_line=D("600"), cost=None)
    assert not basis_unknown("cost", living_line=None, cost=D("10"))
    assert not basis_unknown("fixed", living_line=None, cost=None)
    assert not basis_unknown("", living_line=None, cost=None)


# --- mask_name, normalize_card -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三明", "张*明"),
        ("欧阳明月", "欧**月"),
        ("李四", "李*"),
        ("王", "王"),
        ("", ""),
        ("  赵敏  ", "赵*"),
        ("买买提·吐尔逊", "买*****逊"),
    ],
)
def test_mask_name(name: str, shown: str) -> None:
    assert mask_name(name) == shown


def test_mask_name_hides_every_middle_character() -> None:
    name = "张明明明明"
    assert mask_name(name)[1:-1] == "***" and "明" not in mask_name(name)[1:-1]


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("6222 0212 3456 7890", "6222021234567890"),
        ("6222-0212-3456-7890", "6222021234567890"),
        (" 6222\t0212 ", "62220212"),
        ("", ""),
        ("6222O212", "6222O212"),  # a letter O is not a digit: left for the digit check to refuse
    ],
)
def test_normalize_card(typed: str, digits: str) -> None:
    assert normalize_card(typed) == digits
