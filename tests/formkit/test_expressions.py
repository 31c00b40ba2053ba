"""The rule language: what parses, into what, and the Chinese message for what does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from songnuan.formkit.expressions import (
    ExpressionError,
    Side,
    Term,
    parse_comparison,
    qualify_printed_formula,
)


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


def _terms(*pairs: tuple[str | int, str | None]) -> tuple[Term, ...]:
    return tuple(Term(Decimal(coefficient), item) for coefficient, item in pairs)


@pytest.mark.parametrize(
    ("source", "left", "right"),
    [
        ("-3A + 3B = 0", _terms((-1, "3A"), (1, "3B")), _terms((0, None))),
        ("3A = -3B - 3C", _terms((1, "3A")), _terms((-1, "3B"), (-1, "3C"))),
        ("-2 * 3A = 3B", _terms((-2, "3A")), _terms((1, "3B"))),
        ("3A = 2×3B - 0.5*3C", _terms((1, "3A")), _terms((2, "3B"), ("-0.5", "3C"))),
        ("3A=2*3B+3C", _terms((1, "3A")), _terms((2, "3B"), (1, "3C"))),
        ("-是 = -否 - 2", _terms((-1, None)), _terms((0, None), (-2, None))),
        ("10B1 - 99Z9 = -7", _terms((1, "10B1"), (-1, "99Z9")), _terms((-7, None))),
        ("\u30003A\t=\u3000 3B  \u3000", _terms((1, "3A")), _terms((1, "3B"))),  # U+3000 and tabs are spaces
        ("3A=-1.25", _terms((1, "3A")), _terms(("-1.25", None))),
    ],
)
def test_signs_coefficients_and_constants(
    source: str, left: tuple[Term, ...], right: tuple[Term, ...]
) -> None:
    comparison = parse_comparison(source)
    assert comparison.left.terms == left
    assert comparison.right.terms == right
    assert comparison.source == source


@pytest.mark.parametrize(
    ("spelling", "operator"),
    [
        ("=", "="),
        ("==", "="),
        ("<=", "<="),
        ("≤", "<="),
        (">=", ">="),
        ("≥", ">="),
        ("<", "<"),
        (">", ">"),
        ("!=", "!="),
        ("≠", "!="),
    ],
)
def test_every_operator_spelling(spelling: str, operator: str) -> None:
    for source in (f"3A {spelling} 3B", f"3A{spelling}3B", f"3A{spelling}-3B"):
        comparison = parse_comparison(source)
        assert comparison.operator == operator
        assert comparison.items == ("3A", "3B")


@pytest.mark.parametrize(
    ("side", "items", "constant", "plain_sum"),
    [
        ("3A + 3B", ("3A", "3B"), Decimal(0), True),
        ("1 * 3A + 3B", ("3A", "3B"), Decimal(0), True),
        ("3A - 3B", ("3A", "3B"), Decimal(0), False),
        ("-3A", ("3A",), Decimal(0), False),
        ("2*3A + 3B", ("3A", "3B"), Decimal(0), False),
        ("3A + 1", ("3A",), Decimal(1), False),
        ("3A + 2 - 0.5 + 是 - 否", ("3A",), Decimal("2.5"), False),
        ("-是 - 1.5", (), Decimal("-2.5"), False),
        ("0", (), Decimal(0), False),
    ],
)
def test_side_items_constant_and_plain_sum(
    side: str, items: tuple[str, ...], constant: Decimal, plain_sum: bool
) -> None:
    parsed = parse_comparison(f"{side} = 9Z").left
    assert parsed.items == items
    assert parsed.constant == constant
    assert parsed.is_plain_sum is plain_sum


def test_an_empty_side_is_zero_and_not_a_plain_sum() -> None:
    assert Side(()).text() == "0"
    assert Side(()).constant == Decimal(0)
    assert Side(()).is_plain_sum is False
    assert Side(()).items == ()


def test_comparison_items_are_left_then_right() -> None:
    assert parse_comparison("3C + 3A = 3B - 2*3D").items == ("3C", "3A", "3B", "3D")


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("3A=3B+3C", "3A = 3B + 3C"),
        ("-3A + 3B = 0", "-3A + 3B = 0"),
        ("3A = 3B - 3C", "3A = 3B - 3C"),
        ("2*3A - 1.5*3B == -2", "2×3A - 1.5×3B = -2"),
        ("3A = 2.0 * 3B + 2.50", "3A = 2×3B + 2.50"),
        ("3A = 2.50 * 3B", "3A = 2.50×3B"),
        ("100 * 3A ≥ 10", "100×3A >= 10"),
        ("10 * 3A == 是", "10×3A = 1"),
        ("3A ≤ 否", "3A <= 0"),
        ("1*3A ≠ 0.10*3B", "3A != 0.10×3B"),
        ("-1 * 3A < -0.5", "-3A < -0.5"),
        ("-1.0*3A > 1.0", "-3A > 1"),
        ("3A = 0*3B + 0 - 0", "3A = 0×3B + 0 + 0"),
        ("3A = -0", "3A = 0"),
        ("-否 = -0 * 3B", "0 = 0×3B"),
        ("3A = -2*3B - 3", "3A = -2×3B - 3"),
        ("0.0000001 * 3A = 0.00000050", "0.0000001×3A = 0.00000050"),  # plain digits, never 1E-7
    ],
)
def test_formula_text(source: str, text: str) -> None:
    comparison = parse_comparison(source)
    assert comparison.text() == text
    reread = parse_comparison(text)
    assert (reread.left, reread.operator, reread.right) == (
        comparison.left,
        comparison.operator,
        comparison.right,
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "表达式“”在结尾处缺少项目或数字"),
        ("   ", "表达式“   ”在结尾处缺少项目或数字"),
        ("3A = 3B +", "表达式“3A = 3B +”在结尾处缺少项目或数字"),
        ("3A = 3B - ", "表达式“3A = 3B - ”在结尾处缺少项目或数字"),
        ("3A = -", "表达式“3A = -”在结尾处缺少项目或数字"),
        ("3A + 3B", "表达式“3A + 3B”缺少比较符号（= <= >= < > !=）"),
        ("-3A", "表达式“-3A”缺少比较符号（= <= >= < > !=）"),
        ("3A = 3B = 3C", "表达式“3A = 3B = 3C”只能有一个比较符号"),
        ("3A <= 3B >= 3C", "表达式“3A <= 3B >= 3C”只能有一个比较符号"),
        ("$", "表达式“$”第1个字符“$”无法识别"),
        ("  $", "表达式“  $”第3个字符“$”无法识别"),
        ("3A=3B$", "表达式“3A=3B$”第6个字符“$”无法识别"),
        ("3A = 3B $ 3C", "表达式“3A = 3B $ 3C”第9个字符“$”无法识别"),
        ("3A = 3B\u3000\u3000# ", "表达式“3A = 3B\u3000\u3000# ”第10个字符“#”无法识别"),
        ("3a = 3B", "表达式“3a = 3B”第2个字符“a”无法识别"),
        ("3A = 1.", "表达式“3A = 1.”第7个字符“.”无法识别"),
        ("3A ＝ 3B", "表达式“3A ＝ 3B”第4个字符“＝”无法识别"),
        ("3A = 2 * 7", "表达式“3A = 2 * 7”第6个字符处：“*”后应为项目代码"),
        ("3A = 12 *", "表达式“3A = 12 *”第6个字符处：“*”后应为项目代码"),
        ("3A = 3B + 2×否", "表达式“3A = 3B + 2×否”第11个字符处：“*”后应为项目代码"),
        ("3A = 3B 3C", "表达式“3A = 3B 3C”第9个字符处应为“+”“-”或比较符号"),
        ("3A 3B = 0", "表达式“3A 3B = 0”第4个字符处应为“+”“-”或比较符号"),
        ("3A = 3B * 3C", "表达式“3A = 3B * 3C”第9个字符处应为“+”“-”或比较符号"),
        ("3A = 2  是", "表达式“3A = 2  是”第9个字符处应为“+”“-”或比较符号"),
        ("= 3A", "表达式“= 3A”第1个字符处应为项目或数字，而不是“=”"),
        (" +3A = 0", "表达式“ +3A = 0”第2个字符处应为项目或数字，而不是“+”"),
        ("3A = --3B", "表达式“3A = --3B”第7个字符处应为项目或数字，而不是“-”"),
        ("3A = * 3C", "表达式“3A = * 3C”第6个字符处应为项目或数字，而不是“*”"),
        ("3A <= = 3B", "表达式“3A <= = 3B”第7个字符处应为项目或数字，而不是“=”"),
        ("3A + ≥ 3B", "表达式“3A + ≥ 3B”第6个字符处应为项目或数字，而不是“≥”"),
    ],
)
def test_error_messages_name_the_position(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_comparison(source)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("formula", "number", "qualified"),
    [
        ("A=B+C", "3", "3A=3B+3C"),
        ("A = B + C", "10", "10A=10B+10C"),
        ("C = D + E + F", "2", "2C=2D+2E+2F"),
        ("A=C+E+G+I+K+I+J+L", "10", "10A=10C+10E+10G+10I+10K+10I+10J+10L"),
        ("A=2*B-C", "4", "4A=2*4B-4C"),
        ("3A=B+3C", "3", "3A=3B+3C"),  # codes already qualified stay as they are
        ("A=B1+B2", "2", "2A=B1+B2"),
        ("AB=C", "5", "AB=5C"),
    ],
)
def test_qualify_printed_formula(formula: str, number: str, qualified: str) -> None:
    assert qualify_printed_formula(formula, number) == qualified
