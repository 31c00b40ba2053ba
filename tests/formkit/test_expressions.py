"""The rule language: what parses, into what, and the Chinese message for what does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from songnuan.formkit.expressions import ExpressionError, Term, parse_comparison, qualify_printed_formula


@pytest.mark.parametrize(
    ("source", "left", "operator", "right"),
    [
        ("3A = 3B + 3C", ("3A",), "=", ("3B", "3C")),
        ("2B = 2B1 + 2B2 + 2B3", ("2B",), "=", ("2B1", "2B2", "2B3")),
        ("4A<=3A", ("4A",), "<=", ("3A",)),
        ("4A ≤ 3A", ("4A",), "<=", ("3A",)),
        ("13B + 13C <= 13A", ("13B", "13C"), "<=", ("13A",)),
        ("2D > 0", ("2D",), ">", ()),
        ("12A == 否", ("12A",), "=", ()),
        ("1A != 2A", ("1A",), "!=", ("2A",)),
        ("16G ≥ 1", ("16G",), ">=", ()),
    ],
)
def test_parses_comparisons(
    source: str, left: tuple[str, ...], operator: str, right: tuple[str, ...]
) -> None:
    comparison = parse_comparison(source)
    assert comparison.left.items == left
    assert comparison.operator == operator
    assert comparison.right.items == right


def test_coefficients_constants_and_yes_no() -> None:
    comparison = parse_comparison("2 * 3A - 3B + 1.5 = 否")
    assert comparison.left.terms == (Term(Decimal(2), "3A"), Term(Decimal(-1), "3B"), Term(Decimal("1.5")))
    assert comparison.right.constant == 0
    assert parse_comparison("6B = 是").right.constant == 1


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("3A + 3B", "缺少比较符号"),
        ("3A = 3B +", "缺少项目或数字"),
        ("3A = 3B $ 3C", "无法识别"),
        ("3A = 3B = 3C", "只能有一个比较符号"),
        ("3A = 2 * 7", "后应为项目代码"),
        ("3A = 3B 3C", "或比较符号"),
        ("= 3A", "应为项目或数字"),
    ],
)
def test_bad_expressions_get_a_chinese_message(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError, match=fragment):
        parse_comparison(source)


def test_printed_formulas_are_qualified_with_their_group_number() -> None:
    assert qualify_printed_formula("A=C+E+G+I+K+I+J+L", "10") == "10A=10C+10E+10G+10I+10K+10I+10J+10L"
    assert qualify_printed_formula("C = D + E + F", "2") == "2C=2D+2E+2F"
