"""The ledger's money rules as plain functions of plain values (no database), so that they are tested
exhaustively and the services, the roster import and the self-check all apply the same ones.

- 依档帮扶 (`file_open_on`): money from a bound source goes only to a household whose file was filed on or
  before the payment date and had not ended (out of difficulty, closed) by then. A file that ends on the
  payment date is no longer open on it.
- Amounts (`parse_yuan`): yuan, more than zero, at most two decimals, written as a number.
- Caps (`cap_for`): per payment, and per household (or person) per year, by the item's basis.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
#: Above this, a payment to one household is surely a typo (ten million yuan).
LARGEST_AMOUNT = Decimal("10000000")


def file_open_on(filed_on: dt.date | None, ended_on: dt.date | None, day: dt.date) -> bool:
    """Whether a household's file was open (filed, not yet ended) on `day`."""
    return filed_on is not None and filed_on <= day and (ended_on is None or day < ended_on)


class AmountError(ValueError):
    """An amount that is not a payment in yuan; the message is Chinese."""


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_yuan(value: object, *, allow_blank: bool = False) -> Decimal | None:
    """A payment in yuan from what a form or a sheet holds: a Decimal, an int, or text like "1,200.50" or
    "1200元". Never a float's binary approximation: a float is read through its shortest text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_blank:
            return None
        raise AmountError(_("金额不能为空"))
    if isinstance(value, bool):
        raise AmountError(_("金额应是数字"))
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = str(value).strip().replace(",", "").replace("，", "").removesuffix("元").strip()
        if not _NUMBER.match(text):
            raise AmountError(_("金额“{text}”不是数字").format(text=str(value).strip()))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise AmountError(_("金额“{text}”不是数字").format(text=str(value).strip())) from None
    if not amount.is_finite():
        raise AmountError(_("金额应是数字"))
    if amount <= 0:
        raise AmountError(_("金额应大于零，这里是 {amount}").format(amount=amount))
    # Before rounding to cents: a huge exponent (1e400) cannot be quantized at all.
    if amount > LARGEST_AMOUNT:
        raise AmountError(_("金额 {amount} 元过大，请核对单位（元，不是分）").format(amount=amount))
    if amount != amount.quantize(CENT):
        raise AmountError(_("金额以元为单位，最多两位小数（到分），这里是 {amount}").format(amount=amount))
    return amount.quantize(CENT)


@dataclass(frozen=True)
class Cap:
    """What one payment may be at most, and what one recipient may get in a year, in yuan (None: no cap)."""

    per_payment: Decimal | None
    per_year: Decimal | None


def cap_for(
    basis: str,
    *,
    per_payment: Decimal | None,
    per_year: Decimal | None,
    living_line: Decimal | None,
    household_size: int | None,
    cost: Decimal | None,
) -> Cap:
    """The caps of an item with `basis` (HelpItem.CapBasis), given what is known of the recipient.

    living-line-year: per year the household's 低保 line × 12 × its size (unknown line: no cap can be
    computed, which the service reports as a warning); cost: per payment the out-of-pocket cost; living-line-
    10-months: per payment (one student) the line × 10. The fixed caps configured on the item apply too."""
    payment, year = per_payment, per_year
    if basis == "living-line-year" and living_line is not None:
        year = _lower(year, (living_line * 12 * max(household_size or 1, 1)).quantize(CENT))
    elif basis == "cost" and cost is not None:
        payment = _lower(payment, cost)
    elif basis == "living-line-10-months" and living_line is not None:
        payment = _lower(payment, (living_line * 10).quantize(CENT))
    return Cap(payment, year)


def _lower(a: Decimal | None, b: Decimal) -> Decimal:
    return b if a is None else min(a, b)


def basis_unknown(basis: str, *, living_line: Decimal | None, cost: Decimal | None) -> bool:
    """The item's cap depends on something not recorded (the household's 低保 line, the cost)."""
    if basis in ("living-line-year", "living-line-10-months"):
        return living_line is None
    if basis == "cost":
        return cost is None
    return False


_CARD_GAPS = re.compile(r"[\s\-]")


def normalize_card(text: str) -> str:
    """A card number as digits only (spaces and dashes people type between groups dropped)."""
    if text and text.isdigit():  # most are typed plain (digits hold no space or dash): no regex a row
        return text
    return _CARD_GAPS.sub("", text or "")


def mask_name(name: str) -> str:
    """张*明 for the 公示: the first and last character stay, the middle ones are hidden; two characters
    keep the first (张*). Enough for neighbours to recognise, not enough to look someone up."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
