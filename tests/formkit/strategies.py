"""Hypothesis strategies for the rule engine: small generated forms; full, partly filled or bad tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from songnuan.formkit.definitions import Form, ItemKind, form_from_mapping
from songnuan.formkit.expressions import Comparison, parse_comparison

from .reference import plain_sum, side_value, tolerance

D = Decimal
CODES = ("1A", "1B", "1C", "1D", "2A", "2B", "2C")
UNIT = {ItemKind.MONEY: "万元", ItemKind.COUNT: "人", ItemKind.YES_NO: "是/否"}
OPERATORS = ("=", "<=", ">=", "<", ">", "!=")

# --- values ----------------------------------------------------------------------------------------------

#: Amounts with at most 4 decimals, small (so that sums meet) and large; trailing zeros do not count.
good_money = st.one_of(
    st.sampled_from([D(0), D("0.0001"), D("0.01"), D("0.02"), D(1), D("-0"), D("12.50000"), D("3.00")]),
    st.integers(0, 2000).map(lambda n: D(n) / 100),
    st.integers(0, 10**9).map(lambda n: D(n).scaleb(-4)),
)
good_count = st.one_of(st.sampled_from([0, 1]), st.integers(0, 30), st.integers(0, 10**7))
good_yes_no = st.sampled_from(["是", "否"])
bad_money = st.sampled_from(
    [
        D("-0.01"),
        D(-1),
        D("1.23456"),
        D("0.00001"),
        "很多",
        "",
        True,
        False,
        1.5,
        D("-0.00001"),
        D("NaN"),
        D("-Infinity"),
    ]
)
bad_count = st.sampled_from(
    [-1, -30, D("0.5"), D("2"), D("-0.5"), D("1.0"), "约20", True, False, 2.0, D("Infinity"), D("sNaN")]
)
bad_yes_no = st.sampled_from(["Y", "是 ", "也许", "", 1, 0, True, False, D(1)])

GOOD = {ItemKind.MONEY: good_money, ItemKind.COUNT: good_count, ItemKind.YES_NO: good_yes_no}
BAD = {ItemKind.MONEY: bad_money, ItemKind.COUNT: bad_count, ItemKind.YES_NO: bad_yes_no}


def near_offsets(form: Form, check: Comparison) -> list[Decimal]:
    """left − right values at the edges that matter: equal, ±tolerance, ±(tolerance + 1 元), ±1 元, ±1."""
    offsets = [D(0), D(1), D(-1)]
    allowed = tolerance(form, check)
    if allowed is not None:
        step = D("0.0001")
        offsets += [allowed, -allowed, allowed + step, -allowed - step, step, -step, allowed - step]
    return offsets


def nudge(form: Form, check: Comparison, values: dict[str, Any], offset: Decimal) -> None:
    """Change one filled item of `check` (a ±1 term) so that left − right is exactly `offset`, if it can."""
    numbers: dict[str, Decimal | None] = {}
    for item in form.items:
        value = values.get(item.code)
        if item.kind is ItemKind.YES_NO:
            numbers[item.code] = D({"是": 1, "否": 0}[value]) if value in ("是", "否") else None
        elif isinstance(value, int) and not isinstance(value, bool):
            numbers[item.code] = D(value)
        elif isinstance(value, Decimal) and value.is_finite():
            numbers[item.code] = value
        else:
            numbers[item.code] = None
    for on_left, side in ((True, check.left), (False, check.right)):
        for term in side.terms:
            code = term.item
            if code is None or abs(term.coefficient) != 1 or numbers[code] is None:
                continue
            kind = form.item(code).kind
            if kind is ItemKind.YES_NO:
                continue
            gap = offset - (side_value(check.left, numbers) - side_value(check.right, numbers))
            change = gap * term.coefficient * (1 if on_left else -1)
            if code in check.left.items and code in check.right.items:
                continue  # the change would cancel out
            value = numbers[code]
            assert value is not None
            new = value + change
            if new < 0 or (kind is ItemKind.COUNT and new != new.to_integral_value()):
                continue
            values[code] = int(new) if kind is ItemKind.COUNT else new
            return


@st.composite
def tables(draw: st.DrawFn, form: Form, bad: bool = True) -> dict[str, Any]:
    """A table of `form`: random values, a share of blanks, a few bad values, then some rules brought to an
    edge (holding exactly, or off by the rounding tolerance or just beyond it)."""
    blank_share = draw(st.sampled_from([0, 0, 1, 5, 9, 10]))  # in tenths
    bad_share = draw(st.sampled_from([0, 0, 1, 3])) if bad else 0  # in twentieths
    values: dict[str, Any] = {}
    for item in form.items:
        if draw(st.integers(0, 9)) < blank_share:
            value = None
        elif draw(st.integers(0, 19)) < bad_share:
            value = draw(BAD[item.kind])
        else:
            value = draw(GOOD[item.kind])
        if value is not None or draw(st.booleans()):
            values[item.code] = value  # a blank is either missing or None: the same to the engine
    checks = [parse_comparison(rule.check) for rule in form.rules]
    for check in reversed(checks):  # sub-totals before the totals that contain them
        if draw(st.integers(0, 3)):
            nudge(form, check, values, draw(st.sampled_from(near_offsets(form, check))))
    return values


# --- generated forms -------------------------------------------------------------------------------------


def term_text(first: bool, coefficient: Decimal, item: str | None) -> str:
    magnitude = abs(coefficient)
    if item is None:
        body = format(magnitude, "f")
    elif magnitude == 1:
        body = item
    else:
        body = f"{format(magnitude, 'f')}*{item}"
    if first:
        return f"-{body}" if coefficient < 0 else body
    return f" - {body}" if coefficient < 0 else f" + {body}"


@st.composite
def sides(draw: st.DrawFn, codes: tuple[str, ...], size: int) -> str:
    terms = []
    for position in range(size):
        coefficient = draw(st.sampled_from([D(1), D(1), D(1), D(-1), D(2), D(3), D("0.5"), D(-2)]))
        item = None if draw(st.integers(0, 5)) == 0 else draw(st.sampled_from(codes))
        if item is None:
            coefficient = draw(st.sampled_from([D(0), D(1), D(5), D("0.01"), D(-1)]))
        terms.append(term_text(position == 0, coefficient, item))
    return "".join(terms)


@st.composite
def checks(draw: st.DrawFn, codes: tuple[str, ...]) -> str:
    shape = draw(st.sampled_from(["total", "mirrored", "free", "free", "constant"]))
    if shape in ("total", "mirrored"):
        total = draw(st.sampled_from(codes))
        parts = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True))
        operator = draw(st.sampled_from(["=", "=", ">=", "<=", ">"]))
        if shape == "total":
            return f"{total} {operator} {' + '.join(parts)}"
        return f"{' + '.join(parts)} {operator} {total}"
    if shape == "constant":
        code = draw(st.sampled_from(codes))
        return f"{code} {draw(st.sampled_from(OPERATORS))} {draw(st.sampled_from(['0', '1', '0.01']))}"
    left = draw(sides(codes, draw(st.integers(1, 3))))
    right = draw(sides(codes, draw(st.integers(1, 3))))
    return f"{left} {draw(st.sampled_from(OPERATORS))} {right}"


def crashes_generated_rules(check: str) -> bool:
    """`K = a + b` with a constant K: `generated_rules` takes K's item and fails (see the xfail test)."""
    parsed = parse_comparison(check)
    return (
        parsed.operator == "="
        and len(parsed.left.terms) == 1
        and not parsed.left.items
        and plain_sum(parsed.right)
    )


@st.composite
def conditions(draw: st.DrawFn, form_items: list[tuple[str, ItemKind]]) -> str:
    code, kind = draw(st.sampled_from(form_items))
    if kind is ItemKind.YES_NO:
        return f"{code} = {draw(st.sampled_from(['是', '否']))}"
    if draw(st.booleans()):
        other = draw(st.sampled_from([c for c, _k in form_items]))
        return f"{code} {draw(st.sampled_from(OPERATORS))} {other}"
    return f"{code} {draw(st.sampled_from(['>', '=', '>=', '<']))} {draw(st.sampled_from(['0', '1', '5']))}"


@st.composite
def generated_forms(draw: st.DrawFn) -> Form:
    """A small form: money, count and yes/no items, 其中 items and parts, and 1–4 rules of every shape."""
    size = draw(st.integers(3, len(CODES)))
    codes = CODES[:size]
    mix = draw(st.sampled_from(["money", "money", "count", "mixed"]))
    if mix == "mixed":
        kinds = [draw(st.sampled_from([ItemKind.MONEY, ItemKind.COUNT, ItemKind.YES_NO])) for _ in codes]
    else:
        kind = ItemKind.MONEY if mix == "money" else ItemKind.COUNT
        kinds = [ItemKind.YES_NO if draw(st.integers(0, 9)) == 0 else kind for _ in codes]
    groups: dict[str, list[dict[str, Any]]] = {}
    for position, (code, kind) in enumerate(zip(codes, kinds, strict=True)):
        raw: dict[str, Any] = {"letter": code[1], "label": f"项目{code}（{UNIT[kind]}）", "unit": UNIT[kind]}
        if position and draw(st.integers(0, 2)) == 0:
            raw["parent"] = draw(st.sampled_from(codes[:position]))
        if draw(st.integers(0, 2)) == 0:
            raw["parts"] = True
        groups.setdefault(code[0], []).append(raw)
    rules: list[dict[str, Any]] = []
    for number in range(draw(st.integers(1, 4))):
        check = draw(checks(codes).filter(lambda c: not crashes_generated_rules(c)))
        rule: dict[str, Any] = {"id": f"r{number}", "check": check}
        if draw(st.integers(0, 2)) == 0:
            rule["when"] = draw(conditions(list(zip(codes, kinds, strict=True))))
        if draw(st.booleans()):
            rule["severity"] = "warning"
        if draw(st.integers(0, 3)) == 0:
            rule["message"] = "自定义说明"
        rules.append(rule)
    mapping = {
        "code": "gen",
        "title": "生成的表",
        "groups": [{"number": int(number), "items": items} for number, items in groups.items()],
        "rules": rules,
    }
    return form_from_mapping(mapping, "<generated>")
