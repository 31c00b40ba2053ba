"""What people type into a cell → the typed value, checked against a small model of the rules.

The model: blank marks are blank. On a 是/否 item only the yes/no words (any case, full width, spaces
anywhere) and booleans mean 是/否; numbers become their plain digits as text; anything else stays as typed.
On a number item a number (full width, spaces anywhere, well-formed thousands groups, the item's unit at
the end) is an int for a whole count, else a Decimal (money without trailing zeros); anything else stays
as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Context, Decimal

from hypothesis import given
from hypothesis import strategies as st

from songnuan.formkit.definitions import Item, ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.values import parse_value

COUNT = Item("2D", "2", "D", "其中，困难职工（户）", "户", ItemKind.COUNT, 0)
VISITS = Item("7A", "7", "A", "为职工提供各项服务(人次)", "人次", ItemKind.COUNT, 0)
MONEY = Item("3A", "3", "A", "筹集慰问款物总额(万元)", "万元", ItemKind.MONEY, 0)
YES_NO = Item("6B", "6", "B", "资金是否纳入财政预算（是/否）", "是/否", ItemKind.YES_NO, 0)
ITEMS = st.sampled_from([COUNT, VISITS, MONEY, YES_NO])
NUMBER_ITEMS = st.sampled_from([COUNT, VISITS, MONEY])

SPACE = st.sampled_from([" ", "\u3000", "\t", "  "])
YES_WORDS = ("是", "Y", "YES", "TRUE", "√", "有")
NO_WORDS = ("否", "N", "NO", "FALSE", "×", "无")
BLANK_MARKS = ("", "-", "—", "——", "–", "/", "\\")
FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789.,+-ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


@dataclass(frozen=True)
class Number:
    """A number as the model understands it: sign, whole digits, fraction digits."""

    negative: bool
    whole: str
    fraction: str | None

    @property
    def value(self) -> Decimal:
        digits = self.whole + ("." + self.fraction if self.fraction else "")
        return -Decimal(digits) if self.negative else Decimal(digits)

    @property
    def decimals(self) -> int:
        """Decimal places that count: trailing zeros do not."""
        return len((self.fraction or "").rstrip("0"))


def expected_number(item: Item, number: Decimal, decimals: int) -> tuple[type, Decimal, int | None]:
    """(type, value, decimal places if money) that a number must become on a number item."""
    if item.kind is ItemKind.COUNT:
        return (int, number, None) if number == int(number) else (Decimal, number, None)
    return (Decimal, number, decimals)


def check_number(value: Value, item: Item, number: Decimal, decimals: int) -> None:
    kind, amount, places = expected_number(item, number, decimals)
    assert type(value) is kind, value
    assert isinstance(value, int | Decimal)
    assert value == amount
    if places is not None:
        assert isinstance(value, Decimal)
        assert max(0, -int(value.as_tuple().exponent)) == places


@st.composite
def sprinkled(draw: st.DrawFn, text: str) -> str:
    """Spaces (incl. U+3000) put anywhere: before, after and between characters."""
    characters = list(text)
    for _ in range(draw(st.integers(0, 3))):
        characters.insert(draw(st.integers(0, len(characters))), draw(SPACE))
    return "".join(characters)


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, Number, bool]:
    """(what was typed, the number meant, whether the model reads it as a number)."""
    negative = draw(st.booleans())
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=4))
    fraction = draw(st.none() | st.text("0123456789", min_size=1, max_size=6))
    well_formed = len(groups) == 1 or (len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]))
    comma = draw(st.sampled_from([",", "，"]))
    text = ("-" if negative else draw(st.sampled_from(["", "+"]))) + comma.join(groups)
    if fraction is not None:
        text += "." + fraction
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return text, Number(negative, "".join(groups), fraction), well_formed


@given(NUMBER_ITEMS, typed_numbers(), st.booleans(), st.data())
def test_numbers_typed_as_text(
    item: Item, typed: tuple[str, Number, bool], unit: bool, data: st.DataObject
) -> None:
    text, number, well_formed = typed
    if unit:
        text += data.draw(st.sampled_from(["", " ", "\u3000"])) + item.unit
    raw = data.draw(sprinkled(text))
    value = parse_value(item, raw)
    if well_formed:
        check_number(value, item, number.value, number.decimals)
    else:
        assert value == raw.strip()


@given(typed_numbers(), st.data())
def test_numbers_typed_on_a_yes_no_item_stay_as_typed(
    typed: tuple[str, Number, bool], data: st.DataObject
) -> None:
    raw = data.draw(sprinkled(typed[0]))
    assert parse_value(YES_NO, raw) == raw.strip()


@given(NUMBER_ITEMS, typed_numbers(), st.sampled_from(["人", "元", "个", "次", "%", "万"]))
def test_another_unit_is_not_dropped(item: Item, typed: tuple[str, Number, bool], unit: str) -> None:
    raw = typed[0] + unit
    assert parse_value(item, raw) == raw


@st.composite
def yes_no_words(draw: st.DrawFn) -> tuple[str, str]:
    meaning = draw(st.sampled_from(["是", "否"]))
    word = draw(st.sampled_from(YES_WORDS if meaning == "是" else NO_WORDS))
    word = "".join(c.lower() if draw(st.booleans()) else c for c in word)
    if draw(st.booleans()):
        word = (
            word.upper().translate(FULL_WIDTH).lower() if draw(st.booleans()) else word.translate(FULL_WIDTH)
        )
    return draw(sprinkled(word)), meaning


@given(yes_no_words(), NUMBER_ITEMS)
def test_yes_no_words(word: tuple[str, str], item: Item) -> None:
    raw, meaning = word
    assert parse_value(YES_NO, raw) == meaning
    assert parse_value(item, raw) == raw.strip()  # only a 是/否 item reads them


@given(st.booleans(), ITEMS)
def test_booleans(raw: bool, item: Item) -> None:
    if item.kind is ItemKind.YES_NO:
        assert parse_value(item, raw) == ("是" if raw else "否")
    else:
        assert parse_value(item, raw) == ("TRUE" if raw else "FALSE")


@given(st.integers(-(10**20), 10**20), ITEMS)
def test_integers(raw: int, item: Item) -> None:
    value = parse_value(item, raw)
    if item.kind is ItemKind.YES_NO:
        assert value == str(raw)
    else:
        check_number(value, item, Decimal(raw), 0)


@given(st.integers(-(10**15 - 1), 10**15 - 1), st.integers(-12, 8), ITEMS)
def test_floats_keep_the_15_digits_excel_shows(digits: int, exponent: int, item: Item) -> None:
    meant = Decimal(digits).scaleb(exponent)
    value = parse_value(item, float(meant))
    if item.kind is ItemKind.YES_NO:
        assert isinstance(value, str)
        assert "E" not in value.upper()
        assert Decimal(value) == meant
    else:
        check_number(value, item, meant, max(0, -int(meant.normalize().as_tuple().exponent)))


@given(st.floats(allow_nan=False, allow_infinity=False), NUMBER_ITEMS)
def test_any_finite_float_is_a_number_rounded_to_15_digits(raw: float, item: Item) -> None:
    meant = Context(prec=15).create_decimal(raw)
    check_number(parse_value(item, raw), item, meant, max(0, -int(meant.normalize().as_tuple().exponent)))


@given(st.sampled_from([float("nan"), float("inf"), float("-inf"), -float("nan")]), ITEMS)
def test_nan_and_infinity_stay_text(raw: float, item: Item) -> None:
    assert parse_value(item, raw) == str(raw)


@given(st.dates() | st.datetimes() | st.times() | st.timedeltas(), ITEMS)
def test_dates_and_times_stay_text(raw: dt.date | dt.time | dt.timedelta, item: Item) -> None:
    assert parse_value(item, raw) == str(raw)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(["-", "/", ".", "年"]), ITEMS)
def test_dates_typed_as_text_stay_text(day: dt.date, separator: str, item: Item) -> None:
    raw = f"{day.year}{separator}{day.month}{separator}{day.day}"
    if separator == "年":
        raw = f"{day.year}年{day.month}月{day.day}日"
    value = parse_value(item, raw)
    assert value == raw


@given(st.sampled_from(BLANK_MARKS), ITEMS, st.data())
def test_blank_marks_stay_blank(mark: str, item: Item, data: st.DataObject) -> None:
    assert parse_value(item, data.draw(sprinkled(mark))) is None
    assert parse_value(item, None) is None
