"""Resident ID numbers (GB 11643-1999): property tests, the known examples, bad input, and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songnuan.archive.idnumbers import (
    PROVINCES,
    InvalidIdNumber,
    check_character,
    luhn_valid,
    mask_card,
    mask_id_number,
    mask_phone,
    parse_id_number,
    shown_birth_year,
)

TODAY = dt.date(2026, 11, 28)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(sorted(PROVINCES))) + draw(st.from_regex(r"\A[0-9]{4}\Z"))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.from_regex(r"\A[0-9]{3}\Z"))
    first17 = f"{area}{birth:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


@given(valid_ids())
def test_every_valid_id_passes_and_gives_birth_date_and_sex(number: str) -> None:
    resident = parse_id_number(number, today=TODAY)
    assert resident.number == number
    assert resident.birth_date.strftime("%Y%m%d") == number[6:14]
    assert resident.sex == ("男" if int(number[16]) % 2 else "女")


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_every_single_character_change_fails(number: str, position: int, replacement: str) -> None:
    if position < 17 and replacement == "X":
        replacement = "0"
    if replacement == number[position]:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, today=TODAY)


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [("11010519491231002X", dt.date(1949, 12, 31), "女"), ("440524188001010014", dt.date(1880, 1, 1), "男")],
)
def test_known_valid_examples(number: str, birth: dt.date, sex: str) -> None:
    resident = parse_id_number(number, today=TODAY)
    assert (resident.birth_date, resident.sex) == (birth, sex)


def test_typed_the_way_people_type_it() -> None:
    assert parse_id_number(" 1101 0519 4912 3100 2x ", today=TODAY).number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == "11010519491231002X"


def test_fifteen_digits_are_converted_to_eighteen() -> None:
    resident = parse_id_number("110105491231002", today=TODAY)
    assert resident.number == "11010519491231002X"
    assert resident.converted_from == "110105491231002"


@pytest.mark.parametrize(
    ("number", "code", "fragment"),
    [
        ("11010519491231002", "length", "17位"),
        ("1101051949123100211", "length", "19位"),
        ("11010519491231002A", "format", "数字或X"),
        ("11010519491231A02X", "format", "数字"),
        ("99010519491231002X", "area", "990105"),
        ("110105194902300027", "birth-date", "19490230"),
        ("110105203001010012", "birth-date", "不可能"),
        ("110105194912310021", "check-digit", "应为 X"),
        ("11010549123100A", "format", "15位"),
    ],
)
def test_bad_numbers_say_what_is_wrong(number: str, code: str, fragment: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == code
    assert fragment in str(caught.value)


def test_masking() -> None:
    assert mask_id_number("420802198001011234") == "4208**********1234"
    assert parse_id_number("11010519491231002X", today=TODAY).masked == "1101**********002X"
    assert mask_phone("13807241234") == "138****1234"
    assert mask_card("6222021001115123456") == "6222***********3456"
    assert mask_phone("123") == "***"
    # Short numbers show less rather than hide less: at least 4 phone and 8 card digits stay hidden.
    assert mask_phone("23456789") == "****6789"
    assert mask_card("4111111111111111") == "4111********1111"
    assert mask_card("622202100111") == "********0111"
    assert shown_birth_year(dt.date(1949, 12, 31)) == 1949 and shown_birth_year(None) is None


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("6222 0210 0111 5123 457", False),
        ("4111111111111112", False),
        ("abc", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid
