"""The rule engine at its edges: each boundary is one table, with the exact finding (rule id, severity,
message, expected/actual/difference) the engine must give. The Chinese messages are what reviewers read:
they are the contract, so they are asserted whole.

Most rules are checked on a small hand-built form with that one rule, twice: on a table where every item is
filled (the engine's fast path) and on one where an unrelated item is blank (the general path).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest

from songnuan.formkit.definitions import Form, Severity, form_from_mapping, get_form
from songnuan.formkit.engine import (
    ROUNDING_PER_SUMMAND,
    CheckResult,
    Value,
    Violation,
    _mirror,
    clear_compiled,
    compiled,
    format_value,
    generated_rules,
    validate,
    value_violation,
)
from songnuan.formkit.expressions import ExpressionError

from .minimal import minimal_form

ERROR, WARNING = Severity.ERROR, Severity.WARNING

ITEMS: list[dict[str, Any]] = [
    {
        "number": 1,
        "items": [
            {"letter": "A", "label": "总额(万元)", "unit": "万元"},
            {"letter": "B", "label": "甲项(万元)", "unit": "万元"},
            {"letter": "C", "label": "乙项(万元)", "unit": "万元"},
            {"letter": "D", "label": "丙项(万元)", "unit": "万元"},
        ],
    },
    {
        "number": 2,
        "items": [
            {"letter": "A", "label": "人数（人）", "unit": "人"},
            {"letter": "B", "label": "户数（户）", "unit": "户"},
        ],
    },
    {"number": 3, "items": [{"letter": "A", "label": "是否设立(是/否)", "unit": "是/否"}]},
]
#: Every item of the edge form filled, none named by a rule below unless the test says so.
FULL: dict[str, Value] = {"1A": D(0), "1B": D(0), "1C": D(0), "1D": D(0), "2A": 0, "2B": 0, "3A": "否"}


def edge_form(check: str, **rule: str) -> Form:
    """A form with the items above and the single rule `edge.r`."""
    return form_from_mapping(
        {
            "code": "edge",
            "attachment": "附件9",
            "title": "边界表",
            "groups": ITEMS,
            "rules": [{"id": "r", "check": check, **rule}],
        },
        "<edge>",
    )


def check_both_ways(form: Form, values: dict[str, Value], blank: str = "2B") -> CheckResult:
    """Validate `values` on a full table and with `blank` (an item no rule names) blank; both must agree."""
    full = validate(form, {**FULL, **values})
    partial = validate(form, {**FULL, **values, blank: None})
    assert [v.as_dict() for v in partial.all] == [v.as_dict() for v in full.all]
    return full


def finding(result: CheckResult) -> dict[str, Any] | None:
    """The one finding of a result (as a dict), or None."""
    assert len(result.all) <= 1, [v.message for v in result.all]
    return result.all[0].as_dict() if result.all else None


def summary(rule: str, severity: Severity, items: list[str], message: str, *numbers: Any) -> dict[str, Any]:
    expected, actual, difference = numbers
    return {
        "rule": rule,
        "severity": severity.value,
        "items": items,
        "message": message,
        "expected": expected,
        "actual": actual,
        "difference": difference,
    }


def rounding(message: str) -> str:
    return f"舍位差：{message}。差额在每个分项0.01万元的舍位误差以内，请核实"


# --- rounding tolerance: 0.01 万元 per summand, two summands here ---

ABC = ["1A", "1B", "1C"]


@pytest.mark.parametrize(
    ("check", "total", "severity", "message"),
    [
        # `=`: within ±0.02 a warning, beyond it an error.
        ("1A = 1B + 1C", "10", None, None),
        (
            "1A = 1B + 1C",
            "10.02",
            WARNING,
            rounding("1A（总额）应等于分项之和（1A = 10.02，1B + 1C = 10，相差 0.02）"),
        ),
        (
            "1A = 1B + 1C",
            "9.98",
            WARNING,
            rounding("1A（总额）应等于分项之和（1A = 9.98，1B + 1C = 10，相差 0.02）"),
        ),
        (
            "1A = 1B + 1C",
            "10.0201",
            ERROR,
            "1A（总额）应等于分项之和（1A = 10.0201，1B + 1C = 10，相差 0.0201）",
        ),
        (
            "1A = 1B + 1C",
            "9.9799",
            ERROR,
            "1A（总额）应等于分项之和（1A = 9.9799，1B + 1C = 10，相差 0.0201）",
        ),
        # `<=` (no total: the sum is on the right): only an excess is a finding.
        ("1A <= 1B + 1C", "9", None, None),
        ("1A <= 1B + 1C", "10", None, None),
        (
            "1A <= 1B + 1C",
            "10.02",
            WARNING,
            rounding("1A <= 1B + 1C 不成立（1A = 10.02，1B + 1C = 10，相差 0.02）"),
        ),
        (
            "1A <= 1B + 1C",
            "10.0201",
            ERROR,
            "1A <= 1B + 1C 不成立（1A = 10.0201，1B + 1C = 10，相差 0.0201）",
        ),
        # `>=` with the total on the left: only a shortfall is a finding.
        ("1A >= 1B + 1C", "11", None, None),
        ("1A >= 1B + 1C", "10", None, None),
        (
            "1A >= 1B + 1C",
            "9.98",
            WARNING,
            rounding("1A（总额）应不小于分项之和（1A = 9.98，1B + 1C = 10，相差 0.02）"),
        ),
        (
            "1A >= 1B + 1C",
            "9.9799",
            ERROR,
            "1A（总额）应不小于分项之和（1A = 9.9799，1B + 1C = 10，相差 0.0201）",
        ),
        # `<` and `>`: equality itself breaks them, and is within rounding.
        ("1A < 1B + 1C", "9.99", None, None),
        ("1A < 1B + 1C", "10", WARNING, rounding("1A < 1B + 1C 不成立（1A = 10，1B + 1C = 10，相差 0）")),
        (
            "1A < 1B + 1C",
            "10.02",
            WARNING,
            rounding("1A < 1B + 1C 不成立（1A = 10.02，1B + 1C = 10，相差 0.02）"),
        ),
        ("1A < 1B + 1C", "10.0201", ERROR, "1A < 1B + 1C 不成立（1A = 10.0201，1B + 1C = 10，相差 0.0201）"),
        ("1A > 1B + 1C", "10.01", None, None),
        ("1A > 1B + 1C", "10", WARNING, rounding("1A > 1B + 1C 不成立（1A = 10，1B + 1C = 10，相差 0）")),
        (
            "1A > 1B + 1C",
            "9.98",
            WARNING,
            rounding("1A > 1B + 1C 不成立（1A = 9.98，1B + 1C = 10，相差 0.02）"),
        ),
        ("1A > 1B + 1C", "9.9799", ERROR, "1A > 1B + 1C 不成立（1A = 9.9799，1B + 1C = 10，相差 0.0201）"),
        # `!=` has no rounding: being equal is simply wrong.
        ("1A != 1B + 1C", "10.01", None, None),
        ("1A != 1B + 1C", "10", ERROR, "1A != 1B + 1C 不成立（1A = 10，1B + 1C = 10，相差 0）"),
    ],
)
def test_rounding_tolerance_at_the_boundary(
    check: str, total: str, severity: Severity | None, message: str | None
) -> None:
    result = check_both_ways(edge_form(check), {"1A": D(total), "1B": D(4), "1C": D(6)})
    if severity is None:
        assert finding(result) is None
        return
    assert message is not None
    rule = "edge.r.rounding" if severity is WARNING else "edge.r"
    left, right = D(total), D(10)
    assert finding(result) == summary(rule, severity, ABC, message, right, left, left - right)
    assert result.valid is (severity is WARNING)


@pytest.mark.parametrize(
    ("check", "tolerance"),
    [
        ("1A = 1B + 1C", D("0.02")),
        ("1A = 1B + 1C + 1D", D("0.03")),
        ("1B + 1C + 1D <= 1A", D("0.03")),  # summands counted on the larger side, either way round
        ("1A <= 1B", None),  # one summand: amounts are compared exactly
        ("1A = 2A", None),  # not all money
        ("1A = 1B + 2A", None),
        ("2A = 2B + 2B", None),  # counts are whole numbers: nothing to round
    ],
)
def test_tolerance_is_a_cent_per_summand_of_money(check: str, tolerance: D | None) -> None:
    assert compiled(edge_form(check)).rule("edge.r").tolerance == tolerance
    assert D("0.01") == ROUNDING_PER_SUMMAND


def test_one_summand_of_money_has_no_rounding() -> None:
    result = check_both_ways(edge_form("1A <= 1B"), {"1A": D("4.0001"), "1B": D(4)})
    assert finding(result) == summary(
        "edge.r",
        ERROR,
        ["1A", "1B"],
        "1A <= 1B 不成立（1A = 4.0001，1B = 4，相差 0.0001）",
        D(4),
        D("4.0001"),
        D("0.0001"),
    )


# --- totals on the right: the operator word is mirrored ---


@pytest.mark.parametrize(
    ("check", "parts", "total", "word", "difference"),
    [
        ("1B + 1C <= 1A", D(10), D(9), "不小于", D(1)),
        ("1B + 1C = 1A", D(10), D(9), "等于", D(1)),
        ("1B + 1C = 1A", D(10), D(11), "等于", D(-1)),
        ("1A >= 1B + 1C", D(10), D(9), "不小于", D(-1)),
        ("1A = 1B + 1C", D(10), D(11), "等于", D(1)),
    ],
)
def test_operator_word_of_a_total(check: str, parts: D, total: D, word: str, difference: D) -> None:
    result = check_both_ways(edge_form(check), {"1A": total, "1B": D(4), "1C": parts - 4})
    total_first = check.startswith("1A")
    detail = (
        f"1A = {total}，1B + 1C = {parts}" if total_first else f"1B + 1C = {parts}，1A = {total}"
    ) + f"，相差 {abs(difference)}"
    (violation,) = result.errors
    assert violation.message == f"1A（总额）应{word}分项之和（{detail}）"
    left, right = (total, parts) if total_first else (parts, total)
    assert (violation.actual, violation.expected, violation.difference) == (left, right, difference)
    assert violation.items == (("1A", "1B", "1C") if total_first else ("1B", "1C", "1A"))


@pytest.mark.parametrize(
    ("operator", "mirrored"), [("<=", ">="), (">=", "<="), ("<", ">"), (">", "<"), ("=", "="), ("!=", "!=")]
)
def test_mirror(operator: str, mirrored: str) -> None:
    assert _mirror(operator) == mirrored


# --- minus, multiplied terms and constants ---


@pytest.mark.parametrize(
    ("check", "values", "message", "left", "right"),
    [
        (
            "1A - 1B = 1C",
            {"1A": D(10), "1B": D(3), "1C": D(6)},
            "1A - 1B = 1C 不成立（1A - 1B = 7，1C = 6，相差 1）",
            D(7),
            D(6),
        ),
        (
            "1A = 1B - 1C",
            {"1A": D(1), "1B": D(5), "1C": D(3)},
            "1A = 1B - 1C 不成立（1A = 1，1B - 1C = 2，相差 1）",
            D(1),
            D(2),
        ),
        (
            "-1A + 1B = 1C",
            {"1A": D(2), "1B": D(5), "1C": D(2)},
            "-1A + 1B = 1C 不成立（-1A + 1B = 3，1C = 2，相差 1）",
            D(3),
            D(2),
        ),
        (
            "1A = 2 * 1B",
            {"1A": D(5), "1B": D(3)},
            "1A = 2×1B 不成立（1A = 5，2×1B = 6，相差 1）",
            D(5),
            D(6),
        ),
        (
            "1A = 0.5 * 1B + 1C",
            {"1A": D(5), "1B": D(3), "1C": D(2)},
            "1A = 0.5×1B + 1C 不成立（1A = 5，0.5×1B + 1C = 3.5，相差 1.5）",
            D(5),
            D("3.5"),
        ),
        (
            "1A - 2 * 1B >= 1C",
            {"1A": D(10), "1B": D(3), "1C": D(5)},
            "1A - 2×1B >= 1C 不成立（1A - 2×1B = 4，1C = 5，相差 1）",
            D(4),
            D(5),
        ),
        (
            "1A + 2 * 1B - 1C - 0.5 >= 2 * 1D - 3",
            {"1A": D(1), "1B": D(1), "1C": D(4), "1D": D(5)},
            "1A + 2×1B - 1C - 0.5 >= 2×1D - 3 不成立（1A + 2×1B - 1C - 0.5 = -1.5，2×1D - 3 = 7，相差 8.5）",
            D("-1.5"),
            D(7),
        ),
        (
            "1A <= 1B + 3",
            {"1A": D(10), "1B": D(3)},
            "1A <= 1B + 3 不成立（1A = 10，1B + 3 = 6，相差 4）",
            D(10),
            D(6),
        ),
        (
            "1A + 1B - 1C <= 0",
            {"1A": D(2), "1B": D(3), "1C": D(1)},
            # A side without items is not shown, nor a difference.
            "1A + 1B - 1C <= 0 不成立（1A + 1B - 1C = 4）",
            D(4),
            0,
        ),
        (
            "2A - 2B >= 1",
            {"2A": 3, "2B": 3},
            "2A - 2B >= 1 不成立（2A - 2B = 0）",
            0,
            D(1),
        ),
        ("2A = 0", {"2A": 1}, "2A = 0 不成立（2A = 1）", 1, 0),
        ("1A <= 0", {"1A": D("0.5")}, "1A <= 0 不成立（1A = 0.5）", D("0.5"), 0),
        ("2A != 0", {"2A": 0}, "2A != 0 不成立（2A = 0）", 0, 0),
        (
            "-1A + 2A = 0",
            {"1A": D(1), "2A": 3},
            "-1A + 2A = 0 不成立（-1A + 2A = 2）",
            D(2),
            0,
        ),
        (
            "1A = -1 * 1B + 1C",
            {"1A": D(1), "1B": D(1), "1C": D(3)},
            "1A = -1B + 1C 不成立（1A = 1，-1B + 1C = 2，相差 1）",
            D(1),
            D(2),
        ),
        (
            "1A = -2 * 1B + 1C",
            {"1A": D(2), "1B": D(1), "1C": D(3)},
            "1A = -2×1B + 1C 不成立（1A = 2，-2×1B + 1C = 1，相差 1）",
            D(2),
            D(1),
        ),
    ],
)
def test_minus_multiplied_and_constant_terms(
    check: str, values: dict[str, Value], message: str, left: D | int, right: D | int
) -> None:
    # Filled except `2B` when the rule does not name it; rules naming 2B are checked on a full table only.
    form = edge_form(check)
    result = (
        validate(form, {**FULL, **values}) if "2B" in check else check_both_ways(form, values, blank="3A")
    )
    (violation,) = result.errors
    assert violation.rule == "edge.r"
    assert violation.message == message
    assert (violation.actual, violation.expected, violation.difference) == (left, right, left - right)
    assert type(violation.actual) is type(left) and type(violation.expected) is type(right)


@pytest.mark.parametrize(
    ("check", "values"),
    [
        ("1A - 1B = 1C", {"1A": D(10), "1B": D(4), "1C": D(6)}),
        ("1A = 2 * 1B", {"1A": D(6), "1B": D(3)}),
        ("1A - 2 * 1B >= 1C", {"1A": D(11), "1B": D(3), "1C": D(5)}),
        ("1A <= 1B + 3", {"1A": D(6), "1B": D(3)}),
        ("-1A + 2A = 0", {"1A": D(3), "2A": 3}),
    ],
)
def test_minus_multiplied_and_constant_terms_that_hold(check: str, values: dict[str, Value]) -> None:
    assert finding(check_both_ways(edge_form(check), values, blank="3A")) is None


def test_a_rule_with_terms_is_not_judged_while_one_of_its_items_is_blank() -> None:
    # Only a total's parts may be blank (they add nothing); 1A - 1B = 1C has no total.
    assert not validate(edge_form("1A - 1B = 1C"), {**FULL, "1A": D(10), "1B": None, "1C": D(6)}).all


# --- blanks: parts add nothing, a blank total is its own error ---


@pytest.mark.parametrize(
    ("check", "values", "finding_"),
    [
        ("1A = 1B + 1C", {"1A": D(4), "1B": D(4), "1C": None}, None),
        (
            "1A = 1B + 1C",
            {"1A": D(5), "1B": D(4), "1C": None},
            summary(
                "edge.r",
                ERROR,
                ABC,
                "1A（总额）应等于分项之和（1A = 5，1B + 1C = 4，相差 1）",
                D(4),
                D(5),
                D(1),
            ),
        ),
        (
            "1A = 1B + 1C",
            {"1A": D(4), "1B": None, "1C": D(5)},
            summary(
                "edge.r",
                ERROR,
                ABC,
                "1A（总额）应等于分项之和（1A = 4，1B + 1C = 5，相差 1）",
                D(5),
                D(4),
                D(-1),
            ),
        ),
        (
            "1A = 1B + 1C",
            {"1A": None, "1B": D(4), "1C": D(5)},
            summary(
                "edge.r",
                ERROR,
                ABC,
                "1A（总额）未填，但它的分项1B、1C已填：合计不能空着（空表示未统计，不等于0）",
                None,
                None,
                None,
            ),
        ),
        (
            "1B + 1C + 1D <= 1A",
            {"1A": None, "1B": None, "1C": D(5), "1D": D(1)},
            summary(
                "edge.r",
                ERROR,
                ["1B", "1C", "1D", "1A"],
                "1A（总额）未填，但它的分项1C、1D已填：合计不能空着（空表示未统计，不等于0）",
                None,
                None,
                None,
            ),
        ),
        ("1A = 1B + 1C", {"1A": None, "1B": None, "1C": None}, None),
        ("1A = 1B + 1C", {"1A": D(0), "1B": None, "1C": None}, None),
        (
            "1A = 1B + 1C",
            {"1A": D(1), "1B": None, "1C": None},
            summary(
                "edge.r",
                ERROR,
                ABC,
                "1A（总额）应等于分项之和（1A = 1，1B + 1C = 0，相差 1）",  # blank parts add nothing
                0,
                D(1),
                D(1),
            ),
        ),
        # Not of the shape TOTAL = parts (or TOTAL >= parts, parts <= TOTAL): not judged with a blank.
        ("1A <= 1B + 1C", {"1A": D(1), "1B": None, "1C": D(5)}, None),
        ("1B + 1C >= 1A", {"1A": D(9), "1B": None, "1C": D(5)}, None),
        ("1A > 1B + 1C", {"1A": D(1), "1B": None, "1C": D(5)}, None),
        ("1A != 1B + 1C", {"1A": D(5), "1B": None, "1C": D(5)}, None),
        ("2 * 1A = 1B + 1C", {"1A": None, "1B": D(1), "1C": D(5)}, None),
        ("1A = 1B + 2 * 1C", {"1A": None, "1B": D(1), "1C": D(5)}, None),
        ("1A = 1B + 1C + 1", {"1A": None, "1B": D(1), "1C": D(5)}, None),
        ("1A + 1D = 1B + 1C", {"1A": None, "1B": D(1), "1C": D(5), "1D": D(1)}, None),
        ("1A >= 1B", {"1A": None, "1B": D(1)}, None),  # one part is not a total either
    ],
)
def test_blank_parts_and_blank_totals(
    check: str, values: dict[str, Value], finding_: dict[str, Any] | None
) -> None:
    assert finding(validate(edge_form(check), {**FULL, **values})) == finding_


# --- when conditions ---


@pytest.mark.parametrize(
    ("when", "values", "shown"),
    [
        # `shown`: the condition as the message prints it (是 is 1), or None when the rule must not fire.
        ("3A = 是", {"3A": "是", "2A": 0}, "3A = 1"),
        ("3A = 是", {"3A": "否", "2A": 0}, None),
        ("3A = 是", {"3A": None, "2A": 0}, None),  # an unknown condition does not apply
        ("3A = 是", {"3A": "是", "2A": 1}, None),
        ("2B >= 2", {"2B": 2, "2A": 0}, "2B >= 2"),
        ("2B >= 2", {"2B": 1, "2A": 0}, None),
        ("2B + 1 > 2", {"2B": 2, "2A": 0}, "2B + 1 > 2"),  # a condition with a constant (the general path)
        ("2B + 1 > 2", {"2B": 1, "2A": 0}, None),
        ("2B + 1 > 2", {"2B": None, "2A": 0}, None),
        ("2B > 1B + 1C", {"2B": 2, "1B": D(1), "1C": D("0.5"), "2A": 0}, "2B > 1B + 1C"),
        ("2B > 1B + 1C", {"2B": 2, "1B": D(1), "1C": D(1), "2A": 0}, None),
        ("2B > 1B + 1C", {"2B": 2, "1B": D(1), "1C": None, "2A": 0}, None),
    ],
)
def test_when_condition(when: str, values: dict[str, Value], shown: str | None) -> None:
    form = edge_form("2A > 0", when=when, severity="warning")
    for table in ({**FULL, **values}, {**FULL, **values, "1D": None}):
        result = validate(form, table)
        if shown is None:
            assert not result.all
        else:
            message = f"当 {shown} 时：2A > 0 不成立（2A = 0）"
            assert finding(result) == summary("edge.r", WARNING, ["2A"], message, 0, 0, 0)


def test_when_message_shows_the_condition_text() -> None:
    form = edge_form("2A > 0", when="3A = 是", severity="warning", message="应有人数")
    assert finding(validate(form, {**FULL, "3A": "是"})) == summary(
        "edge.r", WARNING, ["2A"], "当 3A = 1 时：应有人数（2A = 0）", 0, 0, 0
    )


# --- values of the wrong kind or range ---


@pytest.mark.parametrize(
    ("code", "value", "suffix", "message"),
    [
        (
            "2A",
            D("0.5"),
            "integer",
            "2A（人数，人）应为整数（填了 0.5）",
        ),  # 0.5 persons: a fraction, not negative
        ("2A", D("0.99"), "integer", "2A（人数，人）应为整数（填了 0.99）"),
        ("2A", D(0), "integer", "2A（人数，人）应为整数（填了 0）"),  # a count is an int, not a Decimal
        ("2A", D("1.50"), "integer", "2A（人数，人）应为整数（填了 1.5）"),
        ("2A", -1, "non-negative", "2A（人数，人）不能为负数（填了 -1）"),
        ("2A", D("-0.5"), "non-negative", "2A（人数，人）不能为负数（填了 -0.5）"),
        ("2A", 1.0, "number", "2A（人数，人）应填数字，而不是“1.0”"),
        ("2A", True, "number", "2A（人数，人）应填数字，而不是“True”"),
        ("2A", False, "number", "2A（人数，人）应填数字，而不是“False”"),
        ("2A", "约20", "number", "2A（人数，人）应填数字，而不是“约20”"),
        ("2A", D("NaN"), "number", "2A（人数，人）应填数字，而不是“NaN”"),
        ("1B", D("NaN"), "number", "1B（甲项，万元）应填数字，而不是“NaN”"),
        ("1B", D("sNaN"), "number", "1B（甲项，万元）应填数字，而不是“sNaN”"),
        ("1B", D("Infinity"), "number", "1B（甲项，万元）应填数字，而不是“Infinity”"),
        ("1B", D("-Infinity"), "number", "1B（甲项，万元）应填数字，而不是“-Infinity”"),
        ("1B", True, "number", "1B（甲项，万元）应填数字，而不是“True”"),
        ("1B", False, "number", "1B（甲项，万元）应填数字，而不是“False”"),
        ("1B", 1.5, "number", "1B（甲项，万元）应填数字，而不是“1.5”"),
        ("1B", D("-0.0001"), "non-negative", "1B（甲项，万元）不能为负数（填了 -0.0001）"),
        (
            "1B",
            D("1.23456"),
            "decimals",
            "1B（甲项，万元）以万元计，最多保留4位小数（即精确到元），填了 1.23456",
        ),
        (
            "1B",
            D("0.00001"),
            "decimals",
            "1B（甲项，万元）以万元计，最多保留4位小数（即精确到元），填了 0.00001",
        ),
        ("3A", "也许", "yes-no", "3A（是否设立，是/否）只能填“是”或“否”，而不是“也许”"),
        ("3A", 1, "yes-no", "3A（是否设立，是/否）只能填“是”或“否”，而不是“1”"),
        ("3A", True, "yes-no", "3A（是否设立，是/否）只能填“是”或“否”，而不是“True”"),
        ("3A", False, "yes-no", "3A（是否设立，是/否）只能填“是”或“否”，而不是“False”"),
    ],
)
def test_bad_value_is_one_error_on_its_item(code: str, value: object, suffix: str, message: str) -> None:
    form = edge_form("1A >= 0")
    result = validate(form, {**FULL, code: value})  # type: ignore[dict-item]
    assert finding(result) == summary(f"edge.{code}.{suffix}", ERROR, [code], message, None, None, None)
    assert value_violation(form, code, value).as_dict() == finding(result)


@pytest.mark.parametrize(
    "value",
    [
        D("12.50000"),
        D("1.2345"),
        D("1.23450"),
        D("0.0001"),
        D("10.00000000"),
        D("1E+3"),
        D(0),
        D("-0"),
        D("99999999.9999"),
    ],
)
def test_money_with_at_most_four_decimals_is_accepted(value: D) -> None:
    assert not validate(edge_form("1A >= 0"), {**FULL, "1B": value}).all


@pytest.mark.parametrize("value", [0, 1, 10**9])
def test_counts_that_are_accepted(value: int) -> None:
    assert not validate(edge_form("1A >= 0"), {**FULL, "2A": value}).all


@pytest.mark.parametrize(("value", "number", "holds"), [("是", 1, True), ("否", 0, False)])
def test_yes_no_values(value: str, number: int, holds: bool) -> None:
    form = edge_form("3A = 是")
    assert (not validate(form, {**FULL, "3A": value}).all) is holds
    assert compiled(form).vector({"3A": value})[-1] == number


def test_a_bad_value_is_treated_as_blank_by_the_rules() -> None:
    form = edge_form("1A = 1B + 1C")
    result = validate(form, {**FULL, "1A": D(4), "1B": D(4), "1C": D("0.123456")})
    assert [v.rule for v in result.all] == ["edge.1C.decimals"]
    result = validate(form, {**FULL, "1A": D(9), "1B": D(4), "1C": "很多"})
    assert [(v.rule, v.message) for v in result.all] == [
        ("edge.r", "1A（总额）应等于分项之和（1A = 9，1B + 1C = 4，相差 5）"),
        ("edge.1C.number", "1C（乙项，万元）应填数字，而不是“很多”"),
    ]


# --- several findings: sorted by row, errors before warnings ---


def test_order_of_several_findings() -> None:
    form = minimal_form()
    values: dict[str, Value] = {
        "3A": D(11),
        "3B": D(4),
        "3C": D(6),
        "4A": D(12),
        "4B": D(13),
        "4C": "x",
        "5A": 0,
        "5B": "是",
    }
    result = validate(form, values)
    assert [(v.rule, v.severity) for v in result.all] == [
        ("mini.3A.sum", ERROR),
        ("mini.4B.of-which", ERROR),
        ("mini.4A.parts", ERROR),
        ("mini.4C.number", ERROR),
        ("mini.4A.within-raised", WARNING),
        ("mini.5A.visited", WARNING),
    ]


def test_order_of_bad_values_follows_the_rows() -> None:
    form = minimal_form()
    result = validate(form, {"5A": -1, "3C": D(-1), "3B": "x", "5B": "也许"})
    assert [v.rule for v in result.all] == [
        "mini.3B.number",
        "mini.3C.non-negative",
        "mini.5A.non-negative",
        "mini.5B.yes-no",
    ]


def test_unknown_items_skip_the_rules_that_name_them() -> None:
    form = minimal_form()
    values: dict[str, Value] = {
        "3A": D(1),
        "3B": D(4),
        "3C": D(6),
        "4A": D(12),
        "4B": D(1),
        "4C": D(1),
        "5A": 0,
        "5B": "是",
    }
    checked = compiled(form).validate(values, unknown={"3A"})
    # 3A.sum and 4A.within-raised both name 3A; the rules after them are still checked.
    assert [v.rule for v in checked.all] == ["mini.5A.visited"]
    checked = compiled(form).validate(values, unknown=())
    assert [v.rule for v in checked.all] == ["mini.3A.sum", "mini.4A.within-raised", "mini.5A.visited"]
    # An unread item has no value: a condition on it does not apply.
    checked = compiled(form).validate({**values, "5B": None}, unknown={"5B"})
    assert [v.rule for v in checked.all] == ["mini.3A.sum", "mini.4A.within-raised"]


def two_rule_form(severity: str) -> Form:
    """Two rules defined in the opposite order of their rows."""
    return form_from_mapping(
        {
            "code": "edge",
            "attachment": "附件9",
            "title": "边界表",
            "groups": ITEMS,
            "rules": [
                {"id": "late", "check": "2A > 0", "severity": severity},
                {"id": "early", "check": "1A <= 1B", "severity": severity},
            ],
        },
        "<edge>",
    )


@pytest.mark.parametrize("severity", [ERROR, WARNING])
@pytest.mark.parametrize("blank", [None, "2B"])
def test_two_findings_are_sorted_by_row(severity: Severity, blank: str | None) -> None:
    values: dict[str, Value] = {**FULL, "1A": D(2), "1B": D(1)}
    if blank:
        values[blank] = None
    result = validate(two_rule_form(severity.value), values)
    assert [v.rule for v in result.all] == ["edge.early", "edge.late"]
    assert [v.severity for v in result.all] == [severity, severity]


# --- generated “其中” and parts rules ---


def generated(form: Form) -> list[tuple[str, str, str | None, bool]]:
    return [(rule.id, rule.check, rule.message, rule.generated) for rule in generated_rules(form)]


def test_generated_rules_of_the_minimal_form() -> None:
    assert generated(minimal_form()) == [
        ("4B.of-which", "4B <= 4A", "4B是4A的“其中”项，不能大于4A", True),
        ("4C.of-which", "4C <= 4A", "4C是4A的“其中”项，不能大于4A", True),
        ("4A.parts", "4B + 4C <= 4A", "4B、4C是4A中互不重叠的部分，它们的和不能大于4A", True),
    ]


def tree_form(rules: list[dict[str, str]], parts: bool = True, parent_unit: str = "万元") -> Form:
    return form_from_mapping(
        {
            "code": "tree",
            "attachment": "附件9",
            "title": "其中表",
            "groups": [
                {
                    "number": 1,
                    "items": [
                        {"letter": "A", "label": "总额", "unit": parent_unit, "parts": parts},
                        {"letter": "B", "label": "其中，甲", "unit": "万元", "parent": "1A"},
                        {"letter": "C", "label": "其中，乙", "unit": "万元", "parent": "1A"},
                        {"letter": "D", "label": "其中，丙", "unit": "万元", "parent": "1C"},
                    ],
                }
            ],
            "rules": rules,
        },
        "<tree>",
    )


@pytest.mark.parametrize(
    ("rules", "parts", "ids"),
    [
        ([], True, ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"]),
        ([], False, ["1B.of-which", "1C.of-which", "1D.of-which"]),
        # An equality covers its parts: no of-which rule for them, and no parts rule once all are covered.
        ([{"id": "s", "check": "1A = 1B + 1C"}], True, ["1D.of-which"]),
        ([{"id": "s", "check": "1A = 1B + 1D"}], True, ["1C.of-which", "1D.of-which", "1A.parts"]),
        ([{"id": "s", "check": "1C = 1D"}], True, ["1B.of-which", "1C.of-which", "1A.parts"]),
        # Not an equality, or not a single total: covers nothing.
        (
            [{"id": "s", "check": "1A >= 1B + 1C"}],
            True,
            ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"],
        ),
        (
            [{"id": "s", "check": "1A + 1D = 1B + 1C"}],
            True,
            ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"],
        ),
        (
            [{"id": "s", "check": "1A = 1B - 1C"}],
            True,
            ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"],
        ),
        (
            [{"id": "s", "check": "1B + 1C = 1A"}],
            True,
            ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"],
        ),
        # A rule that does not parse is the linter's business; it covers nothing.
        (
            [{"id": "s", "check": "1A = = 1B"}],
            True,
            ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"],
        ),
        ([{"id": "s", "check": "1A = = 1B"}, {"id": "t", "check": "1A = 1B + 1C"}], True, ["1D.of-which"]),
        ([], True, ["1B.of-which", "1C.of-which", "1D.of-which", "1A.parts"]),
    ],
)
def test_which_rules_are_generated(rules: list[dict[str, str]], parts: bool, ids: list[str]) -> None:
    assert [rule.id for rule in generated_rules(tree_form(rules, parts))] == ids


def test_no_of_which_rule_under_a_yes_no_item() -> None:
    assert [rule.id for rule in generated_rules(tree_form([], parent_unit="是/否"))] == [
        "1D.of-which",
        "1A.parts",
    ]


def test_a_parts_rule_needs_two_children() -> None:
    base = tree_form([])
    # 1C has one child: marked as made of parts, it still gets no parts rule.
    items = tuple(replace(item, parts=True) if item.code == "1C" else item for item in base.items)
    form = replace(base, items=items, _by_code={})
    assert [rule.id for rule in generated_rules(form)] == [
        "1B.of-which",
        "1C.of-which",
        "1D.of-which",
        "1A.parts",
    ]


def test_no_of_which_rule_for_a_parent_not_in_the_form() -> None:
    # The loader refuses such a form; one built in code must still compile.
    base = tree_form([])
    items = tuple(replace(item, parent="1Z") if item.code == "1D" else item for item in base.items)
    form = replace(base, items=items, _by_code={})
    assert [rule.id for rule in generated_rules(form)] == ["1B.of-which", "1C.of-which", "1A.parts"]
    assert [rule.id for rule in compiled(form).rules] == [
        "tree.1B.of-which",
        "tree.1C.of-which",
        "tree.1A.parts",
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "warmth-2018",
            [
                ("1B.of-which", "1B <= 1A", "1B是1A的“其中”项，不能大于1A"),
                ("4B.of-which", "4B <= 4A", "4B是4A的“其中”项，不能大于4A"),
                ("4C.of-which", "4C <= 4A", "4C是4A的“其中”项，不能大于4A"),
                ("4D.of-which", "4D <= 4A", "4D是4A的“其中”项，不能大于4A"),
                ("4A.parts", "4B + 4C + 4D <= 4A", "4B、4C、4D是4A中互不重叠的部分，它们的和不能大于4A"),
            ],
        ),
        ("service-centres-2017", []),
    ],
)
def test_generated_rules_of_the_builtin_forms(code: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(r.id, r.check, r.message) for r in generated_rules(get_form(code))] == expected
    assert all(
        r.generated and r.severity is ERROR and r.when is None for r in generated_rules(get_form(code))
    )


def test_generated_rules_fire_with_their_message() -> None:
    form = minimal_form()
    values: dict[str, Value] = {
        "3A": D(10),
        "3B": D(4),
        "3C": D(6),
        "4A": D(9),
        "4B": D(10),
        "4C": D(0),
        "5A": 1,
    }
    result = validate(form, values)
    assert [v.as_dict() for v in result.all] == [
        summary(
            "mini.4B.of-which",
            ERROR,
            ["4B", "4A"],
            "4B是4A的“其中”项，不能大于4A（4B = 10，4A = 9，相差 1）",
            D(9),
            D(10),
            D(1),
        ),
        summary(
            "mini.4A.parts",
            ERROR,
            ["4B", "4C", "4A"],
            "4B、4C是4A中互不重叠的部分，它们的和不能大于4A（4B + 4C = 10，4A = 9，相差 1）",
            D(9),
            D(10),
            D(1),
        ),
    ]


def test_a_generated_of_which_with_a_blank_parent_is_a_blank_total() -> None:
    form = minimal_form()
    result = validate(form, {"4B": D(1)})
    assert [(v.rule, v.message) for v in result.all] == [
        ("mini.4B.of-which", "4A（发放款物）未填，但它的分项4B已填：合计不能空着（空表示未统计，不等于0）"),
        ("mini.4A.parts", "4A（发放款物）未填，但它的分项4B已填：合计不能空着（空表示未统计，不等于0）"),
    ]


# --- Violation, CheckResult, format_value ---


def test_violation_as_dict_and_cell() -> None:
    plain = Violation("f.r", WARNING, ("3A", "3B"), "m", D(1), D(2), D(-1))
    assert plain.cell is None
    assert plain.as_dict() == {
        "rule": "f.r",
        "severity": "warning",
        "items": ["3A", "3B"],
        "message": "m",
        "expected": D(1),
        "actual": D(2),
        "difference": D(-1),
    }
    located = Violation("f.r", ERROR, ("3A", "3B"), "m", cells={"3B": "D7", "3A": "D6"})
    assert located.cell == "D6"
    assert located.as_dict() == {
        "rule": "f.r",
        "severity": "error",
        "items": ["3A", "3B"],
        "message": "m",
        "expected": None,
        "actual": None,
        "difference": None,
        "cells": {"3B": "D7", "3A": "D6"},
        "cell": "D6",
    }
    assert Violation("f.r", ERROR, ("3C",), "m", cells={"3A": "D6"}).cell is None
    assert Violation("f.r", ERROR, (), "m", cells={"3A": "D6"}).cell is None


def test_check_result_helpers() -> None:
    result = CheckResult()
    assert result.valid and result.all == []
    late_error = Violation("f.b", ERROR, ("5A",), "b")
    early_error = Violation("f.a", ERROR, ("3B", "5A"), "a")
    no_items = Violation("f.c", ERROR, (), "c")
    unknown = Violation("f.d", ERROR, ("9Z",), "d")
    warning = Violation("f.w", WARNING, ("4A",), "w")
    first_warning = Violation("f.v", WARNING, ("3A",), "v")
    result.add(late_error)
    result.extend([no_items, warning, unknown, early_error, first_warning])
    assert not result.valid
    assert result.errors == [late_error, no_items, unknown, early_error]
    assert result.warnings == [warning, first_warning]
    assert result.all == [late_error, no_items, unknown, early_error, warning, first_warning]
    result.sort({"3A": 0, "3B": 1, "4A": 2, "5A": 3})
    assert result.errors == [early_error, late_error, no_items, unknown]  # unplaced ones last, in their order
    assert result.warnings == [first_warning, warning]
    assert result.items_with(ERROR) == {"3B", "5A", "9Z"}
    assert result.items_with(WARNING) == {"3A", "4A"}
    only_warnings = CheckResult(warnings=[warning])
    assert only_warnings.valid and only_warnings.items_with(ERROR) == set()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "（空）"),
        (D("10.50"), "10.5"),
        (D("10.00"), "10"),
        (D("100"), "100"),
        (D("1E+2"), "100"),
        (D("0.0001"), "0.0001"),
        (D("-0.50"), "-0.5"),
        (D("0.000"), "0"),
        (D(0), "0"),
        (7, "7"),
        (0, "0"),
        ("是", "是"),
        (D("Infinity"), "Infinity"),
        (D("NaN"), "NaN"),
    ],
)
def test_format_value(value: Value, text: str) -> None:
    assert format_value(value) == text


# --- the compiled-form cache ---


def test_compiled_form_is_kept_per_form_and_can_be_cleared() -> None:
    form = minimal_form()
    first = compiled(form)
    assert compiled(form) is first and first.form is form
    other = minimal_form()  # an equal form, but another object: compiled on its own
    assert compiled(other) is not first and compiled(other).form is other
    clear_compiled()
    assert compiled(form) is not first


def test_evaluate_and_holds_treat_blanks_as_blank_by_default() -> None:
    # `filled=True` is a promise of the caller (validate); without it a rule must look for blanks itself.
    form = edge_form("1A = 1B + 1C", when="2A > 1B")
    rule = compiled(form).rule("edge.r")
    assert rule.when is not None
    vector = compiled(form).vector({"1A": D(5), "1B": D(1), "1C": None, "2A": 3})
    assert rule.when.holds(vector)
    violation = rule.evaluate(vector)
    assert violation is not None and violation.message == (
        "当 2A > 1B 时：1A（总额）应等于分项之和（1A = 5，1B + 1C = 1，相差 4）"
    )
    assert (rule.when.id, rule.when_items, rule.when.items) == ("edge.r.when", ("2A", "1B"), ("2A", "1B"))
    assert compiled(edge_form("1A = 1B")).rule("edge.r").when_items == ()
    blank_condition = compiled(form).vector({"1A": D(5), "1B": D(1), "1C": D(4), "2A": None})
    assert not rule.when.holds(blank_condition)
    assert rule.evaluate(blank_condition) is None


def test_a_rule_naming_an_item_not_in_the_form_does_not_compile() -> None:
    # The loader reports such a rule; a form built in code is refused when compiled.
    base = edge_form("1A = 1B")
    form = replace(base, rules=(replace(base.rules[0], check="1A = 1B + 9Z"),))
    with pytest.raises(ExpressionError) as raised:
        compiled(form)
    assert str(raised.value) == "规则 edge.r 引用了不存在的项目 9Z"
