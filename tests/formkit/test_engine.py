"""Rule semantics that every form shares: blank is not zero, severities, rounding, value checks, messages."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from songnuan.formkit.definitions import Severity
from songnuan.formkit.engine import CheckResult, Value, compiled, validate, value_text
from songnuan.formkit.i18n import current_translator, use_translator

from .minimal import minimal_form

FORM = minimal_form()
VALID: dict[str, Value] = {
    "3A": D(10),
    "3B": D(4),
    "3C": D(6),
    "4A": D(9),
    "4B": D(5),
    "4C": D(4),
    "5A": 3,
    "5B": "是",
}


def check(**changes: Value) -> CheckResult:
    return validate(FORM, {**VALID, **changes})


def rules(result: CheckResult, severity: Severity | None = None) -> set[str]:
    found = (
        result.all if severity is None else (result.errors if severity is Severity.ERROR else result.warnings)
    )
    return {v.rule for v in found}


def test_valid_table_has_no_findings() -> None:
    result = check()
    assert result.valid and not result.all


def test_generated_rules() -> None:
    ids = [rule.id for rule in compiled(FORM).rules]
    # 3B/3C are covered by the equality 3A = 3B + 3C, so no of-which rule for them; 4B/4C get both kinds.
    assert ids == [
        "mini.3A.sum",
        "mini.4A.within-raised",
        "mini.5A.visited",
        "mini.4B.of-which",
        "mini.4C.of-which",
        "mini.4A.parts",
    ]


def test_all_blank_rule_is_skipped() -> None:
    assert not validate(FORM, {}).all


def test_blank_is_not_zero_for_a_total() -> None:
    result = check(**{"3A": None})
    assert rules(result, Severity.ERROR) == {"mini.3A.sum"}
    assert "未填" in result.errors[0].message and "不等于0" in result.errors[0].message


def test_blank_parts_add_nothing() -> None:
    assert check(**{"3A": D(4), "3C": None, "4A": D(4), "4B": D(4), "4C": None}).valid
    assert rules(check(**{"3C": None}), Severity.ERROR) == {"mini.3A.sum"}


def test_comparison_with_a_blank_item_is_skipped() -> None:
    # 4A <= 3A cannot be judged when 3A is blank; the blank total is reported by 3A.sum instead.
    result = check(**{"3A": None, "3B": None, "3C": None})
    assert "mini.4A.within-raised" not in rules(result)


def test_sum_error_reports_expected_actual_and_difference() -> None:
    result = check(**{"3A": D("10.5")})
    (violation,) = result.errors
    assert violation.rule == "mini.3A.sum"
    assert violation.severity is Severity.ERROR
    assert violation.items == ("3A", "3B", "3C")
    assert (violation.actual, violation.expected, violation.difference) == (D("10.5"), D(10), D("0.5"))
    assert "3A（筹集总额）应等于分项之和" in violation.message and "相差 0.5" in violation.message


@pytest.mark.parametrize(
    ("total", "severity", "rule"),
    [
        (D("10.01"), Severity.WARNING, "mini.3A.sum.rounding"),  # one cent per summand: rounding
        (D("10.02"), Severity.WARNING, "mini.3A.sum.rounding"),  # two summands: up to 0.02
        (D("9.98"), Severity.WARNING, "mini.3A.sum.rounding"),
        (D("10.03"), Severity.ERROR, "mini.3A.sum"),
        (D("9.97"), Severity.ERROR, "mini.3A.sum"),
    ],
)
def test_rounding_difference_is_a_warning(total: D, severity: Severity, rule: str) -> None:
    result = check(**{"3A": total})
    assert rules(result) == {rule}
    assert result.all[0].severity is severity
    if severity is Severity.WARNING:
        assert "舍位" in result.all[0].message


def test_trailing_zeros_are_not_decimal_places() -> None:
    assert check(**{"3A": D("10.00000"), "3B": D("4.500000"), "3C": D("5.5")}).valid


def test_money_is_compared_as_decimals() -> None:
    # 0.1 + 0.2 == 0.3 exactly, as 万元 must be (in float it is not).
    assert check(
        **{"3A": D("0.3"), "3B": D("0.1"), "3C": D("0.2"), "4A": D("0.3"), "4B": D("0.1"), "4C": D("0.2")}
    ).valid


def test_warning_and_its_custom_message() -> None:
    result = check(**{"4A": D(11), "4B": D(6), "4C": D(5)})
    assert result.valid
    (warning,) = result.warnings
    assert warning.rule == "mini.4A.within-raised"
    assert warning.message.startswith("发放超过筹集")


def test_of_which_and_parts() -> None:
    assert rules(check(**{"4B": D(10)}), Severity.ERROR) == {"mini.4B.of-which", "mini.4A.parts"}
    assert rules(check(**{"4B": D(6), "4C": D(6), "4A": D(9)}), Severity.ERROR) == {"mini.4A.parts"}


def test_when_condition() -> None:
    assert rules(check(**{"5A": 0})) == {"mini.5A.visited"}
    assert "当 5B = 1 时" in check(**{"5A": 0}).warnings[0].message
    condition_no: dict[str, Value] = {"5A": 0, "5B": "否"}
    assert not check(**condition_no).all
    blank_condition: dict[str, Value] = {"5A": 0, "5B": None}
    assert not check(**blank_condition).all


@pytest.mark.parametrize(
    ("code", "value", "rule"),
    [
        ("5A", -1, "mini.5A.non-negative"),
        ("5A", D("2.5"), "mini.5A.integer"),
        ("5A", "约20", "mini.5A.number"),
        ("3B", D("-1"), "mini.3B.non-negative"),
        ("3B", D("1.23456"), "mini.3B.decimals"),
        ("3B", "很多", "mini.3B.number"),
        ("5B", "也许", "mini.5B.yes-no"),
    ],
)
def test_bad_values_are_item_errors_and_the_rest_is_still_checked(code: str, value: Value, rule: str) -> None:
    result = check(**{code: value, "4A": D(20)})
    assert rule in rules(result, Severity.ERROR)
    assert "mini.4A.within-raised" in rules(result)  # other rules still ran
    bad = next(v for v in result.errors if v.rule == rule)
    assert bad.items == (code,)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (D("-0"), "0"),
        (D("-0.00"), "0"),
        (D("0.3000"), "0.3"),
        (D("1E+2"), "100"),
        (D("12.50"), "12.5"),
        (7, "7"),
        ("是", "是"),
    ],
)
def test_value_text_is_plain_exact_and_blank_stays_blank(value: Value, text: str) -> None:
    assert value_text(value) == text


def test_generated_rule_messages_are_made_in_the_language_of_the_moment() -> None:
    """The compiled form is kept for every request: a generated rule's message must not keep the language it
    was compiled in."""
    compiled_form = compiled(FORM)
    broken = {**VALID, "4B": D(10)}
    chinese = {v.rule: v.message for v in compiled_form.validate(broken).errors}
    previous = current_translator()  # the web project's (Django's) when the whole suite runs
    use_translator(lambda message: "EN " + message)
    try:
        english = {v.rule: v.message for v in compiled_form.validate(broken).errors}
    finally:
        use_translator(previous)
    for rule in ("mini.4B.of-which", "mini.4A.parts"):
        assert not chinese[rule].startswith("EN ")
        assert english[rule].startswith("EN ")
    assert {v.rule: v.message for v in compiled_form.validate(broken).errors} == chinese
