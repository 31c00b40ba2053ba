"""Comparison with last year, without a database: the `[previous]` mapping of a form file, its lint, and the
ratio rule (a warning beyond ×ratio or ÷ratio; exactly ×ratio is none; blank and 0 last year give none)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songnuan.formkit.definitions import FormDefinitionError, Severity, form_from_mapping, get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.lint import lint_form, previous_findings
from songnuan.formkit.yearly import change, change_factor, last_year_warnings, rule_id, rule_ids

from .minimal import MINIMAL, minimal_form

THREE = Decimal(3)


def _with_previous(previous: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data["previous"] = previous
    return data


# --- the mapping ------------------------------------------------------------------------------------------


def test_by_default_an_item_maps_to_the_same_code_of_the_same_form() -> None:
    form = minimal_form()
    assert form.previous_form_code == "mini"
    assert form.previous_item("3A") == "3A"
    assert form.previous_item("5B") is None  # yes/no: never compared
    assert form.previous_item("9Z") is None


def test_a_file_maps_items_to_another_form_and_marks_new_items() -> None:
    form = form_from_mapping(_with_previous({"form": "mini-2017", "items": {"3A": "2A", "3B": ""}}), "<mini>")
    assert form.previous_form_code == "mini-2017"
    assert form.previous_item("3A") == "2A"
    assert form.previous_item("3B") is None  # "" = no counterpart last year
    assert form.previous_item("3C") == "3C"


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ("warmth-2017", "“previous”（上年对照）格式不对"),
        ({"form": "Warmth 2017"}, "“form”应为表样代码"),
        ({"items": ["3A"]}, "“items”应为“本年项目代码 = 上年项目代码”的表"),
        ({"items": {"3a": "3A"}}, "本年项目代码“3a”不合格式"),
        ({"items": {"3A": 3}}, "项目 3A 对应的上年项目代码“3”不合格式"),
        ({"form": "mini", "years": 1}, "未知字段“years”"),
    ],
)
def test_a_malformed_mapping_is_refused_with_a_clear_message(previous: Any, expected: str) -> None:
    with pytest.raises(FormDefinitionError) as refused:
        form_from_mapping(_with_previous(previous), "<mini>")
    assert expected in str(refused.value)


def test_the_linter_checks_the_mapping_against_both_forms() -> None:
    earlier = form_from_mapping({**copy.deepcopy(MINIMAL), "code": "mini-2017"}, "<mini-2017>")
    form = form_from_mapping(
        _with_previous(
            {"form": "mini-2017", "items": {"9A": "3A", "3A": "3Z", "3B": "5A", "3C": "4A", "4A": "4A"}}
        ),
        "<mini>",
    )
    messages = [f.message for f in previous_findings(form, {"mini-2017": earlier})]
    assert messages == [
        "上年对照中的项目 9A 不在本表中",
        "本表项目 3A 对照的上年项目 3Z 不在上年表样“mini-2017”中",
        "本表项目 3B（中央财政，万元）与上年项目 5A（慰问户数，户）单位不同，不能比较",
        "本表项目 3C 和 4A 都对照上年项目 4A；每个上年项目只能对照一个本年项目",
    ]
    assert {f.code for f in previous_findings(form, {"mini-2017": earlier})} == {"previous-item"}


def test_an_item_new_since_last_year_must_be_mapped_or_marked_new() -> None:
    data = copy.deepcopy(MINIMAL)
    data["code"] = "mini-2017"
    data["groups"] = data["groups"][:2]  # last year's form had no 编号5
    earlier = form_from_mapping(data, "<mini-2017>")
    form = form_from_mapping(_with_previous({"form": "mini-2017"}), "<mini>")
    (finding,) = previous_findings(form, {"mini-2017": earlier})
    assert finding.message == (
        "本表项目 5A 在上年表样“mini-2017”中没有同代码的项目；"
        '请在 items 中写明对照的上年项目，没有对应项目的写 ""'
    )  # 5B is yes/no: never compared, never asked for
    marked = form_from_mapping(_with_previous({"form": "mini-2017", "items": {"5A": ""}}), "<mini>")
    assert previous_findings(marked, {"mini-2017": earlier}) == []


def test_the_linter_refuses_an_unknown_earlier_form() -> None:
    form = form_from_mapping(_with_previous({"form": "warmth-2016"}), "<mini>")
    (finding,) = lint_form(form, forms={"warmth-2018": get_form("warmth-2018")})
    assert finding.code == "previous-form"
    assert "上年对照的表样“warmth-2016”不存在" in finding.message
    assert "warmth-2018" in finding.message


def test_a_form_without_mapping_and_the_built_in_forms_lint_clean() -> None:
    assert previous_findings(minimal_form(), {}) == []
    for code in ("warmth-2018", "service-centres-2017"):
        assert lint_form(get_form(code)) == []


# --- the ratio rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("this", "last", "expected"),
    [
        (360, 120, None),  # exactly ×3: no warning
        (361, 120, "up"),
        (40, 120, None),  # exactly ÷3: no warning
        (39, 120, "down"),
        (0, 120, "down"),  # nothing this year against 120 last year is a change to check
        (Decimal("0.3001"), Decimal("0.1"), "up"),
        (Decimal("0.3"), Decimal("0.1"), None),
        (500, 0, None),  # no ratio against 0
        (0, 0, None),
        (None, 120, None),  # blank this year
        (500, None, None),  # blank last year: nothing to compare with
        ("是", 1, None),
        ("12x", 1, None),  # a bad value: the engine's error, not a comparison
    ],
)
def test_change_beyond_the_ratio(this: Value, last: Value, expected: str | None) -> None:
    assert change(this, last, THREE) == expected


def test_a_ratio_not_above_one_compares_nothing() -> None:
    assert change(1000, 1, Decimal(1)) is None
    assert change(1000, 1, Decimal(0)) is None


def test_warnings_name_the_item_both_values_and_the_ratio() -> None:
    form = minimal_form()
    values: dict[str, Value] = {"3A": Decimal(500), "3B": Decimal(10), "3C": None, "5A": 5, "5B": "是"}
    last: dict[str, Value] = {
        "3A": Decimal(120),
        "3B": Decimal(120),
        "3C": Decimal(1),
        "5A": None,
        "5B": "否",
    }
    found = last_year_warnings(form, values, last, THREE)
    assert [(v.rule, v.severity, v.items) for v in found] == [
        ("mini.3A.last-year", Severity.WARNING, ("3A",)),
        ("mini.3B.last-year", Severity.WARNING, ("3B",)),
    ]
    assert found[0].message == "3A（筹集总额）本年 500，超过上年（120）的3倍，请核实"
    assert found[1].message == "3B（中央财政）本年 10，不到上年（120）的1/3，请核实"
    assert last_year_warnings(form, values, last, Decimal("2.50"))[0].message.endswith("的2.5倍，请核实")


def test_every_comparison_rule_id_can_be_explained() -> None:
    form = minimal_form()
    assert rule_id(form, "3A") in rule_ids(form)
    assert "mini.5B.last-year" not in rule_ids(form)  # yes/no items are never compared


def test_change_factor_for_the_grid() -> None:
    assert change_factor(360, 120) == Decimal("3.00")
    assert change_factor(1, 3) == Decimal("0.33")
    assert change_factor(1, 0) is None
    assert change_factor(None, 3) is None


amounts = st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False, allow_infinity=False)
ratios = st.decimals(min_value=Decimal("1.01"), max_value=100, places=2)


@given(this=amounts, last=amounts, ratio=ratios)
def test_the_ratio_rule_agrees_with_its_definition(this: Decimal, last: Decimal, ratio: Decimal) -> None:
    """A warning exactly when last > 0 and this/last lies outside [1/ratio, ratio], in exact fractions."""
    from fractions import Fraction

    found = change(this, last, ratio)
    if last == 0:
        assert found is None
        return
    factor = Fraction(this) / Fraction(last)
    expected = "up" if factor > Fraction(ratio) else "down" if factor < 1 / Fraction(ratio) else None
    assert found == expected
