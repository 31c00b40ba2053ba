"""Comparison with last year (核实性审核): a value changed beyond a ratio since last year's accepted table.

The rule, as DHIS2's min-max check does it, per item: this year's value `v`, last year's `p`, the campaign's
ratio `r` (> 1, e.g. 3): a warning when v > p × r or v < p ÷ r (v × r < p, so no division rounds). Exactly
×r or ÷r is no warning. Nothing is said when either value is blank (blank is not 0), when last year's is 0
(no ratio is defined against 0: a new activity is not a "change"), for yes/no items, or for a value of the
wrong kind (the engine already reports that as an error). No Django here: the selector that finds last
year's values is `songnuan.reporting.last_year`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext

from songnuan.formkit.definitions import Form, ItemKind, Severity
from songnuan.formkit.engine import Value, Violation, value_text
from songnuan.formkit.i18n import gettext as _

#: The rule id of the comparison of one item, after the form code: `warmth-2018.1A.last-year`.
RULE_SUFFIX = "last-year"


def rule_id(form: Form, code: str) -> str:
    return form.full_rule_id(f"{code}.{RULE_SUFFIX}")


def rule_ids(form: Form) -> frozenset[str]:
    """Every rule id a comparison warning of `form` can carry (each can be explained)."""
    return frozenset(rule_id(form, item.code) for item in form.items if item.kind is not ItemKind.YES_NO)


def _number(value: Value) -> Decimal | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return Decimal(value)


def change(this: Value, last: Value, ratio: Decimal) -> str | None:
    """ "up" when `this` is more than `ratio` times `last`, "down" when less than `last` ÷ `ratio`, else
    None (also when either is blank or not a number, when `last` is 0, or when `ratio` is not above 1)."""
    now, before = _number(this), _number(last)
    if now is None or before is None or before <= 0 or now < 0 or not ratio > 1:
        return None
    with localcontext() as context:
        context.prec = 60  # 20 digits × 6 digits, exact
        if now > before * ratio:
            return "up"
        if now * ratio < before:
            return "down"
    return None


def change_factor(this: Value, last: Value) -> Decimal | None:
    """this ÷ last rounded to 2 places, for the reviewer's grid; None when either is blank or last is 0."""
    now, before = _number(this), _number(last)
    if now is None or before is None or before == 0:
        return None
    return (now / before).quantize(Decimal("0.01"))


def ratio_text(ratio: Decimal) -> str:
    return value_text(ratio)


def last_year_warnings(
    form: Form, values: Mapping[str, Value], last: Mapping[str, Value], ratio: Decimal
) -> list[Violation]:
    """The warnings of `values` against `last` (last year's values under this year's item codes)."""
    found: list[Violation] = []
    for item in form.items:
        if item.kind is ItemKind.YES_NO:
            continue
        this, before = values.get(item.code), last.get(item.code)
        direction = change(this, before, ratio)
        if direction is None:
            continue
        template = (
            _("{code}（{name}）本年 {this}，超过上年（{last}）的{ratio}倍，请核实")
            if direction == "up"
            else _("{code}（{name}）本年 {this}，不到上年（{last}）的1/{ratio}，请核实")
        )
        found.append(
            Violation(
                rule=rule_id(form, item.code),
                severity=Severity.WARNING,
                items=(item.code,),
                message=template.format(
                    code=item.code,
                    name=item.name,
                    this=value_text(this),
                    last=value_text(before),
                    ratio=ratio_text(ratio),
                ),
                expected=_number(before),
                actual=_number(this),
            )
        )
    return found
