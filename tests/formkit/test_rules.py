"""Every rule of both tables, each with a passing case (the valid filled example) and a failing case."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from songnuan.formkit.definitions import Severity, builtin_forms, get_form
from songnuan.formkit.engine import Value, compiled, validate

from ..filemakers import filled_example

Change = Callable[[dict[str, Any]], dict[str, Value]]


def more(code: str, by: int | D = 1) -> Change:
    return lambda v: {code: v[code] + by}


def zero(code: str) -> Change:
    return lambda v: {code: D(0) if isinstance(v[code], D) else 0}


def above(part: str, parent: str) -> Change:
    return lambda v: {part: v[parent] + 1}


#: A change to the valid example that breaks exactly the named rule (other rules may break with it).
FAILING: dict[str, Change] = {
    # 附件1
    "warmth-2018.2C.sum": more("2C"),
    "warmth-2018.3A.sum": more("3A", D("0.5")),
    "warmth-2018.8A.sum": more("8A"),
    "warmth-2018.9A.sum": more("9A"),
    "warmth-2018.4A.within-raised": lambda v: {"4A": v["3A"] + 1, "4B": v["4B"] + (v["3A"] + 1 - v["4A"])},
    "warmth-2018.4B.visited": zero("2D"),
    "warmth-2018.4C.visited": zero("2F"),
    "warmth-2018.4D.visited": zero("2E"),
    "warmth-2018.7C.persons": zero("7B"),
    "warmth-2018.9C.trains": zero("9B"),
    "warmth-2018.9E.carriages": zero("9D"),
    "warmth-2018.9G.coaches": zero("9F"),
    "warmth-2018.9I.boats": zero("9H"),
    "warmth-2018.9K.flights": zero("9J"),
    "warmth-2018.11B.stations": zero("11A"),
    "warmth-2018.11C.stations": zero("11A"),
    "warmth-2018.1B.of-which": above("1B", "1A"),
    "warmth-2018.4B.of-which": above("4B", "4A"),
    "warmth-2018.4C.of-which": above("4C", "4A"),
    "warmth-2018.4D.of-which": above("4D", "4A"),
    "warmth-2018.4A.parts": lambda v: {"4A": v["4B"] + v["4C"] + v["4D"] - D("0.5")},
    # 附件2
    "service-centres-2017.1A.sum": more("1A"),
    "service-centres-2017.2A.sum": more("2A"),
    "service-centres-2017.2B.staff": more("2B1"),
    "service-centres-2017.2C.staff": more("2C2"),
    "service-centres-2017.2D.staff": more("2D3"),
    "service-centres-2017.4A.sum": more("4E"),
    "service-centres-2017.5A.sum": more("5B", D("0.0600")),  # beyond 0.01 × 5 summands
    "service-centres-2017.9A.sum": more("9R"),
    "service-centres-2017.9B.sum": more("9S", D(2)),
    "service-centres-2017.10A.sum": more("10J"),
    "service-centres-2017.10B.sum": more("10K", D(1)),
    "service-centres-2017.11A.sum": more("11E"),
    "service-centres-2017.7C.within": above("7C", "7A"),
    "service-centres-2017.8C.within": above("8C", "8A"),
    "service-centres-2017.1A.staffed": lambda v: {"2A": 0, "2B": 0, "2C": 0, "2D": 0},
    "service-centres-2017.6B.budget": zero("6A"),
    "service-centres-2017.7B.funds": zero("7A"),
    "service-centres-2017.8B.funds": zero("8A"),
    **{
        f"service-centres-2017.{money}.persons": zero(persons)
        for money, persons in [
            ("9D", "9C"),
            ("9F", "9E"),
            ("9H", "9G"),
            ("9J", "9I"),
            ("9L", "9K"),
            ("9O", "9N"),
            ("9Q", "9P"),
            ("9S", "9R"),
            ("10D", "10C"),
            ("10F", "10E"),
            ("10H", "10G"),
            ("10K", "10J"),
            ("10M", "10L"),
        ]
    },
    "service-centres-2017.12A.none": lambda v: {"12A": "否"},
    "service-centres-2017.13A.services": lambda v: {"13A": v["13B"] + v["13C"] - 1},
    "service-centres-2017.14B.cases": zero("14A"),
    "service-centres-2017.14C.cases": zero("14A"),
}

#: (form code, rule id) of every rule, from the table above: nothing is compiled while tests are collected, so
#: each test compiles the rules it checks (and `test_every_rule_has_a_failing_case` checks the list is whole).
ALL_RULES = [(rule.partition(".")[0], rule) for rule in sorted(FAILING)]


def test_every_rule_has_a_failing_case() -> None:
    compiled_ids = [rule.id for form in builtin_forms().values() for rule in compiled(form).rules]
    assert sorted(compiled_ids) == sorted(FAILING)


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_the_valid_example_passes_every_rule(code: str) -> None:
    values, _header = filled_example(code)
    assert len(values) == len(get_form(code).items) and None not in values.values()
    result = validate(get_form(code), values)
    assert [v.message for v in result.all] == []


@pytest.mark.parametrize(("code", "rule"), ALL_RULES, ids=[rule for _c, rule in ALL_RULES])
def test_rule_fails_on_its_failing_case(code: str, rule: str) -> None:
    values, _header = filled_example(code)
    changed = {**values, **FAILING[rule](values)}
    result = validate(get_form(code), changed)
    violation = next((v for v in result.all if v.rule == rule), None)
    assert violation is not None, f"{rule} did not fire: {[v.rule for v in result.all]}"
    assert violation.severity is compiled(get_form(code)).rule(rule).severity
    assert violation.message and violation.items
    # and passes on the unchanged example
    assert rule not in {v.rule for v in validate(get_form(code), values).all}


def test_notice_counts() -> None:
    assert len(get_form("warmth-2018").items) == 55
    assert len(get_form("service-centres-2017").items) == 92
    assert get_form("service-centres-2017").codes[1:16] == (
        "1B",
        "1C",
        "1D",
        "2A",
        "2B",
        "2B1",
        "2B2",
        "2B3",
        "2C",
        "2C1",
        "2C2",
        "2C3",
        "2D",
        "2D1",
        "2D2",
    )


def test_severities() -> None:
    severities = {rule: compiled(get_form(code)).rule(rule).severity for code, rule in ALL_RULES}
    assert severities["warmth-2018.3A.sum"] is Severity.ERROR
    assert severities["warmth-2018.4A.within-raised"] is Severity.WARNING
