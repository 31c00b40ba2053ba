"""The `ledger = { … }` grammar of form files: parsed into `Item.derivation`, refused with a Chinese message
naming the item when it is wrong, the codes it names checked by the linter against the ledger's vocabulary,
and every 附件1 item either derived or given a reason why not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from songnuan.formkit.definitions import (
    LEDGER_MONEY_MEASURES,
    LEDGER_RECORDS,
    Derivation,
    FormDefinitionError,
    form_from_mapping,
    get_form,
)
from songnuan.formkit.lint import lint_form

from .minimal import MINIMAL


def with_item(**fields: Any) -> dict[str, Any]:
    """The minimal form with `fields` added to its item 5A (慰问户数, 户)."""
    data: dict[str, Any] = copy.deepcopy(dict(MINIMAL))
    data["groups"][2]["items"][0].update(fields)
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(FormDefinitionError) as caught:
        form_from_mapping(data, "mini.toml")
    return caught.value.problems


def test_a_derivation_is_parsed() -> None:
    ledger = {
        "records": "help",
        "where": {"recipient": "household", "item": ["living", "visit"]},
        "measure": "households",
    }
    item = form_from_mapping(with_item(ledger=ledger), "mini.toml").item("5A")
    assert item.derivation == Derivation(
        records="help",
        where=(("item", ("living", "visit")), ("recipient", ("household",))),
        measure="households",
    )
    assert not item.derivation.is_money and item.ledger_none is None


def test_a_reason_instead_of_a_derivation() -> None:
    item = form_from_mapping(with_item(ledger_none="台账不记这一项"), "mini.toml").item("5A")
    assert item.derivation is None and item.ledger_none == "台账不记这一项"


@pytest.mark.parametrize(
    ("ledger", "expected"),
    [
        (
            {"records": "help", "measure": "records", "by": "x"},
            "编号5的第1个项目的台账取数“ledger”有未知字段“by”",
        ),
        (
            {"records": "payments", "measure": "records"},
            "记录类型“records”应为 help、receipts、activities、stations 之一，而不是“payments”",
        ),
        (
            {"records": "activities", "measure": "households"},
            "activities 记录的取数方式“measure”应为 amount、people、quantity、records 之一",
        ),
        (
            {"records": "activities", "where": {"colour": "red"}, "measure": "people"},
            "activities 记录没有筛选字段“colour”",
        ),
        (
            {"records": "activities", "where": {"kind": 3}, "measure": "people"},
            "筛选字段“kind”的值应为代码或代码列表",
        ),
        (
            {"records": "activities", "where": {"kind": []}, "measure": "people"},
            "筛选字段“kind”的值应为代码或代码列表",
        ),
        ({"records": "activities", "where": "kind", "measure": "people"}, "“where”应为"),
        (
            {"records": "receipts", "measure": "amount"},
            "取数方式“amount”是金额（元，折算为万元），与项目的计量单位“户”不符",
        ),
        ({"items": ["5A"]}, "“items”应为两个以上项目代码的列表"),
        ({"items": ["3A", "3B"], "measure": "records"}, "写了“items”（其他项目之和）就不能再写"),
        ({"items": ["3A", "9Z"]}, "项目 5A 的台账取数把 3A 相加，但 3A 不存在或没有自己的台账取数"),
        ("help", "编号5的第1个项目的台账取数“ledger”格式不对"),
    ],
)
def test_a_wrong_derivation_is_refused_naming_the_item(ledger: Any, expected: str) -> None:
    found = problems(with_item(ledger=ledger))
    assert any(expected in problem for problem in found), found


def test_a_count_measure_does_not_fill_money() -> None:
    data: dict[str, Any] = copy.deepcopy(dict(MINIMAL))
    data["groups"][0]["items"][0]["ledger"] = {"records": "receipts", "measure": "records"}
    assert any("取数方式“records”是个数，与项目的计量单位“万元”不符" in p for p in problems(data))


def test_a_sum_of_items_of_another_unit_is_refused() -> None:
    data = with_item(ledger={"items": ["3B", "3C"]})
    for item in data["groups"][0]["items"][1:]:
        item["ledger"] = {"records": "receipts", "measure": "amount"}
    assert any("两者计量单位不同（户、万元）" in p for p in problems(data))


def test_both_or_a_reasonless_none_is_refused() -> None:
    assert any(
        "不能同时写" in p
        for p in problems(
            with_item(ledger={"records": "stations", "measure": "records"}, ledger_none="没有这类记录")
        )
    )
    assert any("须写明不能从台账取数的理由" in p for p in problems(with_item(ledger_none="")))


def test_the_linter_checks_the_codes_against_the_vocabulary() -> None:
    form = form_from_mapping(
        with_item(
            ledger={
                "records": "activities",
                "where": {"kind": ["visit-household", "vist"]},
                "measure": "people",
            }
        ),
        "mini.toml",
    )
    findings = [
        f for f in lint_form(form, vocabulary={"kind": {"visit-household"}}) if f.code == "ledger-code"
    ]
    assert [f.rule for f in findings] == ["mini.5A.ledger"]
    assert "“kind”的代码 vist 台账中没有" in findings[0].message
    assert not [f for f in lint_form(form) if f.code == "ledger-code"]  # without a vocabulary: the shape only


def test_money_measures_are_measures_of_their_kinds() -> None:
    offered = set().union(*(measures for _fields, measures in LEDGER_RECORDS.values()))
    assert offered >= LEDGER_MONEY_MEASURES


def test_every_item_of_attachment_1_is_derived_or_says_why_not() -> None:
    form = get_form("warmth-2018")
    undecided = [item.code for item in form.items if item.derivation is None and not item.ledger_none]
    assert undecided == []
    assert len([item for item in form.items if item.derivation is not None]) == len(form.items)


def test_attachment_2_derives_the_centres_help_and_says_why_not_for_the_rest_of_9_and_10() -> None:
    form = get_form("service-centres-2017")
    for item in form.items:
        if item.number in ("9", "10"):
            assert item.derivation is not None or item.ledger_none, item.code
    assert form.item("9P").ledger_none and form.item("9C").derivation is not None
