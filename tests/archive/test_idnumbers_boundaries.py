"""The boundaries of the ID-number, card-number and masking rules, each one table of exact values.

The expected values come from the standards themselves (GB 11643-1999's MOD 11-2 written as
`(12 - sum mod 11) mod 11`, the Luhn check written with the digit sums of doubled digits), not from
`idnumbers.py`, so a changed weight, bound, or table there shows here. Dates are injected (`today=`), never
read from the clock: TODAY lies in the past, so a mutant that fell back to the clock would accept a
birth date TODAY refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from songnuan.archive.idnumbers import (
    EARLIEST_BIRTH,
    InvalidIdNumber,
    ResidentId,
    _mask,
    check_character,
    luhn_valid,
    mask_card,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    parse_id_number,
    shown_birth_year,
)

TODAY = dt.date(2020, 6, 15)
_GB_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11, as GB 11643 lists them

if TYPE_CHECKING:
    from time_machine import TimeMachineFixture


def gb11643_check(first17: str) -> str:
    """The check character written as the standard states it, independently of idnumbers.py."""
    value = (12 - sum(int(d) * w for d, w in zip(first17, _GB_WEIGHTS, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


def with_check(first17: str) -> str:
    return first17 + gb11643_check(first17)


def luhn_complete(partial: str) -> str:
    """`partial` and the Luhn check digit that makes it valid (doubled digits counted by their digit sum)."""
    total = 0
    for position, digit in enumerate(reversed(partial)):
        value = int(digit)
        if position % 2 == 0:  # the check digit will sit at position 0, so these are doubled
            value = sum(divmod(2 * value, 10))
        total += value
    return partial + str(-total % 10)


# --- Luhn --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),  # Visa test number
        ("4012888888881881", True),  # Visa test number
        ("5500000000000004", True),  # Mastercard test number
        ("5105105105105100", True),  # Mastercard test number
        ("378282246310005", True),  # American Express test number (15 digits)
        ("6011111111111117", True),  # Discover test number
        ("3530111333300000", True),  # JCB test number
        ("6200000000000005", True),  # UnionPay test number
        ("6205500000000000004", True),  # UnionPay test number (19 digits)
        ("6222021001115123454", True),  # computed: a 19-digit 6222 card
        ("4111111111111112", False),
        ("5500000000000005", False),
        ("6200000000000006", False),
        ("6205500000000000005", False),
        ("6222021001115123457", False),
        ("4111111111111121", False),  # two neighbours swapped (1 and 2): Luhn sees it
    ],
)
def test_luhn_known_card_numbers(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("", False),
        ("0", False),
        ("00000000000", False),  # 11 digits whose Luhn sum is 0: too short all the same
        ("79927398713", False),  # the textbook Luhn example, 11 digits: too short
        ("000000000000", True),  # 12 digits: long enough
        ("079927398713", True),  # the same with a leading zero, 12 digits
        ("079927398710", False),
        ("0079927398713", True),
        ("622202100112", True),  # luhn_complete("62220210011"), 12 digits
        ("62220210011", False),
    ],
)
def test_luhn_needs_twelve_digits(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1111", True),
        ("４１１１１１１１１１１１１１１１", True),  # full-width digits, as typed with a Chinese IME
        (" 4111111111111111\t", True),
        ("4111111111111111a", False),
        ("41111111111a1111", False),
        ("abc", False),
        ("abcdefghijklmnop", False),
        ("4111.1111.1111.1111", False),
    ],
)
def test_luhn_reads_what_people_type(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


# Digit d in a doubled position counts 2d, or 2d - 9 from 5 on (the digit sum of 2d); the check digit
# that balances it is the table's third column. In a position not doubled it counts d.
@pytest.mark.parametrize(
    ("digit", "doubled", "check"),
    [
        ("0", 0, "0"),
        ("1", 2, "8"),
        ("2", 4, "6"),
        ("3", 6, "4"),
        ("4", 8, "2"),
        ("5", 1, "9"),
        ("6", 3, "7"),
        ("7", 5, "5"),
        ("8", 7, "3"),
        ("9", 9, "1"),
    ],
)
def test_luhn_doubles_every_second_digit_from_the_right(digit: str, doubled: int, check: str) -> None:
    assert (doubled + int(check)) % 10 == 0
    number = "0000000000" + digit + check
    assert luhn_valid(number)
    assert luhn_complete("0000000000" + digit) == number
    for other in "0123456789".replace(check, ""):
        assert not luhn_valid("0000000000" + digit + other), other
    # Not doubled: the digit two from the right counts as itself.
    plain = "000000000" + digit + "0" + str(-int(digit) % 10)
    assert luhn_valid(plain)
    assert not luhn_valid("000000000" + digit + "0" + str((1 - int(digit)) % 10))


@pytest.mark.parametrize(
    "partial",
    [
        "62220210011",  # → 12 digits, the shortest accepted
        "622202100111512345",  # → 19 digits, a 6222 card
        "621700123456789012",
        "411111111111111",
        "123456789012345",
        "987654321098765",
        "00000000000000000",
    ],
)
def test_luhn_complete_gives_a_valid_number_and_every_single_digit_change_fails(partial: str) -> None:
    number = luhn_complete(partial)
    assert len(number) == len(partial) + 1
    assert luhn_valid(number)
    for position, original in enumerate(number):
        for digit in "0123456789":
            if digit != original:
                changed = number[:position] + digit + number[position + 1 :]
                assert not luhn_valid(changed), changed


# --- GB 11643 check character ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231007", "0"),
        ("11010519491231001", "1"),
        ("11010519491231006", "2"),
        ("11010519491231000", "3"),
        ("11010519491231005", "4"),
        ("11010519491231018", "5"),
        ("11010519491231004", "6"),
        ("11010519491231009", "7"),
        ("11010519491231003", "8"),
        ("11010519491231008", "9"),
        ("11010519491231002", "X"),
        ("44052418800101001", "4"),
        ("13050319670401001", "6"),
        ("00000000000000000", "1"),
        ("99999999999999999", "3"),
    ],
)
def test_check_character_every_value_including_x(first17: str, check: str) -> None:
    assert gb11643_check(first17) == check
    assert check_character(first17) == check
    number = first17 + check
    if number[:2] in ("11", "44", "13"):
        assert parse_id_number(number, today=TODAY).number == number


@pytest.mark.parametrize("first", ["1101051949123100", "110105194912310020"])
def test_check_character_needs_exactly_seventeen_digits(first: str) -> None:
    with pytest.raises(ValueError):
        check_character(first)


# --- birth date bounds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "accepted"),
    [
        (dt.date(1849, 12, 31), False),
        (dt.date(1850, 1, 1), True),
        (dt.date(1850, 1, 2), True),
        (dt.date(2000, 2, 29), True),
        (TODAY - dt.timedelta(days=1), True),
        (TODAY, True),
        (TODAY + dt.timedelta(days=1), False),
        (dt.date(2020, 12, 31), False),
    ],
)
def test_birth_date_from_1850_to_today(birth: dt.date, accepted: bool) -> None:
    assert dt.date(1850, 1, 1) == EARLIEST_BIRTH
    number = with_check(f"110105{birth:%Y%m%d}001")
    if accepted:
        assert parse_id_number(number, today=TODAY).birth_date == birth
    else:
        with pytest.raises(InvalidIdNumber) as caught:
            parse_id_number(number, today=TODAY)
        assert caught.value.code == "birth-date"
        assert str(caught.value) == f"身份证号中的出生日期 {birth.isoformat()} 不可能"


@pytest.mark.parametrize(
    ("today", "accepted"),
    [(dt.date(2010, 5, 4), False), (dt.date(2010, 5, 5), True), (dt.date(2010, 5, 6), True)],
)
def test_today_is_the_one_passed_in(today: dt.date, accepted: bool) -> None:
    number = with_check("11010520100505001")
    try:
        parse_id_number(number, today=today)
    except InvalidIdNumber as refused:
        assert not accepted and refused.code == "birth-date"
    else:
        assert accepted


# --- 15-digit numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "birth", "sex"),
    [
        ("110105491231002", "11010519491231002X", dt.date(1949, 12, 31), "女"),
        ("130503670401001", "130503196704010016", dt.date(1967, 4, 1), "男"),
        ("420802800101163", "420802198001011635", dt.date(1980, 1, 1), "男"),
        ("440524800101001", "440524198001010013", dt.date(1980, 1, 1), "男"),
        (" 4405 2480 0101 001 ", "440524198001010013", dt.date(1980, 1, 1), "男"),
    ],
)
def test_fifteen_digits_become_eighteen(old: str, new: str, birth: dt.date, sex: str) -> None:
    assert with_check(new[:17]) == new
    resident = parse_id_number(old, today=TODAY)
    assert resident == ResidentId(
        number=new,
        birth_date=birth,
        sex=sex,
        province={"11": "北京", "13": "河北", "42": "湖北", "44": "广东"}[new[:2]],
        converted_from=normalize_id_number(old),
    )


def test_an_eighteen_digit_number_is_not_converted() -> None:
    resident = parse_id_number("440524198001010013", today=TODAY)
    assert resident == ResidentId("440524198001010013", dt.date(1980, 1, 1), "男", "广东", None)
    assert resident.converted_from is None


# --- province and sex --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "province"),
    [
        ("110105", "北京"),
        ("130503", "河北"),
        ("150102", "内蒙古"),
        ("230102", "黑龙江"),
        ("420802", "湖北"),
        ("440524", "广东"),  # an abolished county code, still on people's cards
        ("500101", "重庆"),
        ("650102", "新疆"),
        ("710000", "台湾"),
        ("810000", "香港"),
        ("820000", "澳门"),
    ],
)
def test_province_from_the_area_code(area: str, province: str) -> None:
    assert parse_id_number(with_check(f"{area}19800101001"), today=TODAY).province == province


@pytest.mark.parametrize(
    "area", ["000000", "100000", "160000", "200000", "390000", "720000", "830000", "990105"]
)
def test_unknown_province_is_refused(area: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(with_check(f"{area}19800101001"), today=TODAY)
    assert caught.value.code == "area"
    assert str(caught.value) == f"身份证号开头的地区码 {area} 不存在"


@pytest.mark.parametrize(
    ("digit17", "sex"),
    [
        ("0", "女"),
        ("1", "男"),
        ("2", "女"),
        ("3", "男"),
        ("4", "女"),
        ("5", "男"),
        ("6", "女"),
        ("7", "男"),
        ("8", "女"),
        ("9", "男"),
    ],
)
def test_sex_is_the_parity_of_digit_seventeen(digit17: str, sex: str) -> None:
    assert parse_id_number(with_check(f"42080219800101{digit17}0{digit17}"), today=TODAY).sex == sex


# --- what each refusal says --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("", "length", "身份证号应为18位（或旧的15位），这里是0位"),
        ("11010519491231", "length", "身份证号应为18位（或旧的15位），这里是14位"),
        ("1101051949123100", "length", "身份证号应为18位（或旧的15位），这里是16位"),
        ("11010519491231002", "length", "身份证号应为18位（或旧的15位），这里是17位"),
        ("1101051949123100211", "length", "身份证号应为18位（或旧的15位），这里是19位"),
        ("11010549123100A", "format", "15位身份证号应全部是数字"),
        ("A1010549123100 2", "format", "15位身份证号应全部是数字"),
        ("11010519491231002A", "format", "身份证号前17位应是数字，最后一位是数字或X"),
        ("A1010519491231002X", "format", "身份证号前17位应是数字，最后一位是数字或X"),
        ("1101051949123100XX", "format", "身份证号前17位应是数字，最后一位是数字或X"),
        ("1101051949123100A2", "format", "身份证号前17位应是数字，最后一位是数字或X"),
        ("99010519491231002X", "area", "身份证号开头的地区码 990105 不存在"),
        ("99010519491231002A", "format", "身份证号前17位应是数字，最后一位是数字或X"),
        ("990105194902300021", "area", "身份证号开头的地区码 990105 不存在"),  # the area is checked first
        ("110105194902300027", "birth-date", "身份证号中的出生日期 19490230 不是有效日期"),
        ("110105190002290021", "birth-date", "身份证号中的出生日期 19000229 不是有效日期"),
        ("110105198013010021", "birth-date", "身份证号中的出生日期 19801301 不是有效日期"),
        ("110105198001000021", "birth-date", "身份证号中的出生日期 19800100 不是有效日期"),
        ("110105000001010021", "birth-date", "身份证号中的出生日期 00000101 不是有效日期"),
        ("110105203001010012", "birth-date", "身份证号中的出生日期 2030-01-01 不可能"),
        ("110105184912310021", "birth-date", "身份证号中的出生日期 1849-12-31 不可能"),
        ("110105194912310021", "check-digit", "身份证号校验位不对（最后一位应为 X），请核对是否抄错"),
        ("11010519491231002x0", "length", "身份证号应为18位（或旧的15位），这里是19位"),
        ("440524188001010015", "check-digit", "身份证号校验位不对（最后一位应为 4），请核对是否抄错"),
        ("44052418800101001X", "check-digit", "身份证号校验位不对（最后一位应为 4），请核对是否抄错"),
    ],
)
def test_each_refusal_names_its_code_and_says_so_in_chinese(number: str, code: str, message: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == code
    assert str(caught.value) == message
    assert caught.value.args == (message,)


# --- normalising -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        (" 1101 0519 4912 3100 2x ", "11010519491231002X"),
        ("110105-19491231-002X", "110105-19491231-002X".replace("-", "")),
        ("110105－19491231－002X", "11010519491231002X"),  # full-width dash
        ("1101\u300005\t19491231\n002X", "11010519491231002X"),  # ideographic space, tab, newline
        ("", ""),
        ("  - ", ""),
        ("abc", "ABC"),
        ("110105_1949", "110105_1949"),  # only spaces and dashes are dropped
    ],
)
def test_normalize_id_number(typed: str, normalized: str) -> None:
    assert normalize_id_number(typed) == normalized


def test_a_converted_number_gets_its_own_check_character() -> None:
    # The 15-digit generation had no check character: none can be wrong.
    assert parse_id_number("110105491231003", today=TODAY).number == with_check("11010519491231003")


def test_a_normalized_number_parses_to_the_same_file() -> None:
    assert (
        parse_id_number("１１０１０５ １９４９１２３１ ００２ｘ", today=TODAY).number == "11010519491231002X"
    )


# --- masks at every length ---------------------------------------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRST"

# mask_id_number: first 4 and last 4 shown while at least 10 stay hidden; short numbers lose the head first.
ID_MASKS = [
    "",
    "*",
    "**",
    "***",
    "****",
    "*****",
    "******",
    "*******",
    "********",
    "*********",
    "**********",
    "**********K",
    "**********KL",
    "**********KLM",
    "**********KLMN",
    "A**********LMNO",
    "AB**********MNOP",
    "ABC**********NOPQ",
    "ABCD**********OPQR",
    "ABCD***********PQRS",
    "ABCD************QRST",
]

# mask_phone: first 3 and last 4 shown while at least 4 stay hidden.
PHONE_MASKS = [
    "",
    "*",
    "**",
    "***",
    "****",
    "****E",
    "****EF",
    "****EFG",
    "****EFGH",
    "A****FGHI",
    "AB****GHIJ",
    "ABC****HIJK",
    "ABC*****IJKL",
    "ABC******JKLM",
    "ABC*******KLMN",
    "ABC********LMNO",
    "ABC*********MNOP",
    "ABC**********NOPQ",
    "ABC***********OPQR",
    "ABC************PQRS",
    "ABC*************QRST",
]

# mask_card: first 4 and last 4 shown while at least 8 stay hidden.
CARD_MASKS = [
    "",
    "*",
    "**",
    "***",
    "****",
    "*****",
    "******",
    "*******",
    "********",
    "********I",
    "********IJ",
    "********IJK",
    "********IJKL",
    "A********JKLM",
    "AB********KLMN",
    "ABC********LMNO",
    "ABCD********MNOP",
    "ABCD*********NOPQ",
    "ABCD**********OPQR",
    "ABCD***********PQRS",
    "ABCD************QRST",
]

MASK_CASES = [
    pytest.param(mask, hidden, LETTERS[:length], expected, id=f"{mask.__name__}-{length}")
    for mask, hidden, table in (
        (mask_id_number, 10, ID_MASKS),
        (mask_phone, 4, PHONE_MASKS),
        (mask_card, 8, CARD_MASKS),
    )
    for length, expected in enumerate(table)
]


def test_the_mask_tables_cover_every_length_from_0_to_20() -> None:
    assert [len(t) for t in (ID_MASKS, PHONE_MASKS, CARD_MASKS)] == [21, 21, 21]
    for table in (ID_MASKS, PHONE_MASKS, CARD_MASKS):
        assert [len(masked) for masked in table] == list(range(21))


@pytest.mark.parametrize(("mask", "hidden", "text", "expected"), MASK_CASES)
def test_masks_at_every_length(mask: Callable[[str], str], hidden: int, text: str, expected: str) -> None:
    masked = mask(text)
    assert masked == expected
    assert masked.count("*") >= min(hidden, len(text))
    # What is shown is shown where it stands.
    assert all(shown in ("*", original) for shown, original in zip(masked, text, strict=True))


@pytest.mark.parametrize(
    ("mask", "typed", "expected"),
    [
        (mask_id_number, "11010519491231002x", "1101**********002X"),
        (mask_id_number, "１１０１０５１９４９１２３１００２ｘ", "1101**********002X"),
        (mask_id_number, "1101 0519 4912 3100 2X", "1101**********002X"),
        (mask_phone, "138-0724-1234", "138****1234"),
        (mask_phone, "１３８０７２４１２３４", "138****1234"),
        (mask_card, "6222 0210 0111 5123 454", "6222***********3454"),
    ],
)
def test_masks_normalize_first(mask: Callable[[str], str], typed: str, expected: str) -> None:
    assert mask(typed) == expected


def test_a_resident_id_is_shown_masked() -> None:
    assert parse_id_number("11010519491231002X", today=TODAY).masked == "1101**********002X"


@pytest.mark.parametrize(
    ("text", "head", "tail", "hidden", "expected"),
    [
        ("", 4, 4, 10, ""),
        ("ABCDEFGH", 2, 2, 2, "AB****GH"),  # hidden is a floor: more may be hidden
        ("ABCDEFGH", 3, 3, 4, "A****FGH"),  # the head gives way first
        ("ABCDEFGH", 3, 3, 6, "******GH"),  # then the tail
        ("ABCDEFGH", 3, 3, 8, "********"),
        ("ABCDEFGH", 3, 3, 9, "********"),
        ("ABCDEFGH", 0, 0, 0, "********"),  # nothing to show: all hidden
        ("ABCDEFGH", 5, 5, 0, "ABCDEFGH"),  # the head takes what it may, the tail the rest
        ("ABCDEFGH", 5, 1, 0, "ABCDE**H"),
        ("ABCDEFGH", 0, 3, 1, "*****FGH"),
        ("ABCDEFGH", 3, 0, 1, "ABC*****"),
        ("ABC", 0, 5, 1, "*BC"),
        ("ABC", 5, 0, 1, "AB*"),
    ],
)
def test_mask_keeps_hidden_characters_masked(
    text: str, head: int, tail: int, hidden: int, expected: str
) -> None:
    masked = _mask(text, head, tail, hidden=hidden)
    assert masked == expected
    assert masked.count("*") >= min(hidden, len(text))


@pytest.mark.parametrize(
    ("birth", "year"),
    [(dt.date(1949, 12, 31), 1949), (dt.date(1850, 1, 1), 1850), (dt.date(2020, 6, 15), 2020), (None, None)],
)
def test_shown_birth_year(birth: dt.date | None, year: int | None) -> None:
    assert shown_birth_year(birth) == year


def test_without_today_a_child_born_today_in_china_is_accepted(time_machine: TimeMachineFixture) -> None:
    # 00:30 on 2 December in China is still 1 December in UTC (the process's zone here): "today" is China's.
    time_machine.move_to(dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC), tick=False)
    first17 = "42080220261202001"
    born_today = parse_id_number(first17 + check_character(first17))
    assert born_today.birth_date == dt.date(2026, 12, 2)
    first17 = "42080220261203001"
    with pytest.raises(InvalidIdNumber) as refused:
        parse_id_number(first17 + check_character(first17))
    assert refused.value.code == "birth-date"
