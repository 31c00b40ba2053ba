"""The form linter: on the notice's formulas as printed it finds exactly the notice's own mistakes."""

from __future__ import annotations

import copy

import pytest

from songnuan.formkit.definitions import builtin_forms, form_from_mapping, get_form
from songnuan.formkit.lint import lint_form

from .minimal import MINIMAL


def test_printed_formulas_have_exactly_the_known_problems() -> None:
    found = sorted(
        (finding.rule, finding.code)
        for form in builtin_forms().values()
        for finding in lint_form(form, printed=True)
    )
    assert found == [
        ("service-centres-2017.10A.printed", "repeated-term"),  # A=C+E+G+I+K+I+J+L: I twice
        ("service-centres-2017.10A.printed", "unit-mix"),  # … and K is 万元 among 人次
        ("service-centres-2017.11A.printed", "unit-mix"),  # 户 = sum of 人
        ("warmth-2018.9A.printed", "unit-mix"),  # 人次 includes 9L 张
    ]


def test_printed_problems_name_the_units() -> None:
    messages = {f.rule + f.code: f.message for f in lint_form(get_form("service-centres-2017"), printed=True)}
    assert "10K" in messages["service-centres-2017.10A.printedunit-mix"]
    assert "万元" in messages["service-centres-2017.10A.printedunit-mix"]
    assert "10I" in messages["service-centres-2017.10A.printedrepeated-term"]
    assert "户" in messages["service-centres-2017.11A.printedunit-mix"]
    assert "张" in lint_form(get_form("warmth-2018"), printed=True)[0].message


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_built_in_definitions_with_their_readings_are_clean(code: str) -> None:
    assert lint_form(get_form(code)) == []


def test_readings_are_where_the_notice_is_wrong() -> None:
    readings = {
        form.full_rule_id(rule.id) for form in builtin_forms().values() for rule in form.rules if rule.reading
    }
    assert readings == {"warmth-2018.9A.sum", "service-centres-2017.10A.sum", "service-centres-2017.11A.sum"}


def _with_rule(check: str, **extra: str) -> list[str]:
    data = copy.deepcopy(MINIMAL)
    data["rules"] = [*data["rules"], {"id": "x", "check": check, **extra}]
    return [f.code for f in lint_form(form_from_mapping(data, "<t>"))]


@pytest.mark.parametrize(
    ("check", "codes"),
    [
        ("5A = 3B + 3C", ["unit-mix"]),
        ("3A = 3B + 3B", ["repeated-term"]),
        ("3A = 3B + 9Z", ["unknown-item"]),
        ("3A = 3B +", ["syntax"]),
        ("5B + 5A > 0", ["yes-no-arithmetic"]),
        ("4A <= 3A", []),
    ],
)
def test_linter_findings(check: str, codes: list[str]) -> None:
    assert _with_rule(check) == codes


def test_a_reading_accepts_a_rule() -> None:
    assert _with_rule("5A = 3B + 3C", reading="每户按一万元折算，仅作示例") == []


def test_a_written_rule_may_not_take_a_generated_id() -> None:
    data = copy.deepcopy(MINIMAL)
    data["rules"] = [*data["rules"], {"id": "4A.parts", "check": "4B <= 4A"}]
    assert [f.code for f in lint_form(form_from_mapping(data, "<t>"))] == ["duplicate-id"]


def test_a_printed_formula_without_a_rule_is_reported() -> None:
    data = copy.deepcopy(MINIMAL)
    data["rules"] = data["rules"][1:]  # drop 3A.sum, keep 3A's printed formula
    codes = [f.code for f in lint_form(form_from_mapping(data, "<t>"))]
    assert codes == ["unchecked-formula"]
