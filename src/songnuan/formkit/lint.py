"""The form linter: catches formulas that cannot be right before anyone fills the table.

It finds items of different units added together (人次 + 张, 户 = 人 …), a term added twice, unknown items,
yes/no items in arithmetic, expressions that do not parse, and printed formulas that no rule checks. A rule
marked with an accepted `reading` (and its written reason) is not reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from songnuan.formkit.definitions import Form, ItemKind, RuleDefinition, builtin_forms
from songnuan.formkit.engine import generated_rules
from songnuan.formkit.expressions import (
    Comparison,
    ExpressionError,
    parse_comparison,
    qualify_printed_formula,
)
from songnuan.formkit.i18n import gettext as _


@dataclass(frozen=True)
class Finding:
    #: unit-mix, repeated-term, unknown-item, yes-no-arithmetic, syntax, unchecked-formula, duplicate-id,
    #: previous-form, previous-item (the `[previous]` mapping to last year's form), ledger-code (a code a
    #: ledger derivation names that the ledger does not know)
    code: str
    rule: str  # the rule id, or "<item>.printed" for a printed formula
    message: str

    def __str__(self) -> str:
        return f"{self.rule}  [{self.code}]  {self.message}"


def lint_form(
    form: Form,
    *,
    printed: bool = False,
    forms: Mapping[str, Form] | None = None,
    vocabulary: Mapping[str, Collection[str]] | None = None,
) -> list[Finding]:
    """Findings for the rules of `form`; with `printed`, for the formulas exactly as printed instead.
    `forms` (the built-in ones by default) are where the form named by `[previous]` is looked up;
    `vocabulary` (per filter field, the codes the ledger knows: `songnuan.ledger.vocabulary`) checks the codes
    the items' ledger derivations name (the grammar itself is checked when the file is read)."""
    if printed:
        return [
            finding
            for item in form.items
            if item.formula
            for finding in _lint_expression(
                form, f"{form.code}.{item.code}.printed", qualify_printed_formula(item.formula, item.number)
            )
        ]
    findings: list[Finding] = []
    for rule in form.rules:
        if rule.reading:
            continue
        rule_id = form.full_rule_id(rule.id)
        findings.extend(_lint_expression(form, rule_id, rule.check))
        if rule.when:
            findings.extend(_lint_expression(form, f"{rule_id}.when", rule.when))
    findings.extend(_unchecked_formulas(form))
    findings.extend(previous_findings(form, builtin_forms() if forms is None else forms))
    findings.extend(ledger_findings(form, vocabulary or {}))
    written = {rule.id for rule in form.rules}
    for rule in generated_rules(form):
        if rule.id in written:
            findings.append(
                Finding(
                    "duplicate-id",
                    form.full_rule_id(rule.id),
                    _("规则编号与按“其中”关系自动生成的规则相同，请改用别的编号"),
                )
            )
    return findings


def accepted_readings(form: Form) -> list[RuleDefinition]:
    return [rule for rule in form.rules if rule.reading]


def _lint_expression(form: Form, rule_id: str, source: str) -> list[Finding]:
    try:
        comparison = parse_comparison(source)
    except ExpressionError as problem:
        return [Finding("syntax", rule_id, str(problem))]
    unknown = [code for code in comparison.items if not form.has_item(code)]
    if unknown:
        return [
            Finding(
                "unknown-item", rule_id, _("引用了不存在的项目：{codes}").format(codes="、".join(unknown))
            )
        ]
    findings: list[Finding] = []
    for code, count in Counter(comparison.left.items).items() | Counter(comparison.right.items).items():
        if count > 1:
            findings.append(
                Finding(
                    "repeated-term",
                    rule_id,
                    _("“{src}”中 {code}（{name}）出现了{n}次").format(
                        src=source, code=code, name=form.item(code).name, n=count
                    ),
                )
            )
    findings.extend(_unit_findings(form, rule_id, source, comparison))
    return findings


def _unit_findings(form: Form, rule_id: str, source: str, comparison: Comparison) -> list[Finding]:
    items = [form.item(code) for code in dict.fromkeys(comparison.items)]
    yes_no = [item for item in items if item.kind is ItemKind.YES_NO]
    arithmetic = len(comparison.left.terms) > 1 or len(comparison.right.terms) > 1
    if yes_no and (arithmetic or len(items) > 1):
        return [
            Finding(
                "yes-no-arithmetic",
                rule_id,
                _("“{src}”把是/否项 {codes} 当作数字计算").format(
                    src=source, codes="、".join(i.code for i in yes_no)
                ),
            )
        ]
    units = Counter(item.unit for item in items)
    if len(units) <= 1:
        return []
    main_unit = units.most_common(1)[0][0]
    odd = [item for item in items if item.unit != main_unit]
    return [
        Finding(
            "unit-mix",
            rule_id,
            _("“{src}”把不同单位的数相加或比较：{main} 与 {odd}").format(
                src=source, main=main_unit, odd="、".join(f"{i.code}（{i.name}，{i.unit}）" for i in odd)
            ),
        )
    ]


def _unchecked_formulas(form: Form) -> list[Finding]:
    """A printed formula that no rule checks as printed, and no rule explains with a reading."""
    findings: list[Finding] = []
    checks: list[tuple[frozenset[str], str, RuleDefinition]] = []
    for rule in form.rules:
        try:
            comparison = parse_comparison(rule.check)
        except ExpressionError:
            continue
        total = comparison.left.items[0] if len(comparison.left.terms) == 1 and comparison.left.items else ""
        checks.append((frozenset(comparison.right.items), total, rule))
    for item in form.items:
        if not item.formula:
            continue
        try:
            printed = parse_comparison(qualify_printed_formula(item.formula, item.number))
        except ExpressionError as problem:
            findings.append(Finding("syntax", f"{form.code}.{item.code}.printed", str(problem)))
            continue
        printed_parts = frozenset(printed.right.items)
        total = printed.left.items[0] if printed.left.items else item.code
        if not any(t == total and (parts == printed_parts or rule.reading) for parts, t, rule in checks):
            findings.append(
                Finding(
                    "unchecked-formula",
                    f"{form.code}.{item.code}.printed",
                    _("印刷公式“{f}”没有对应的规则；请添加规则，或在改写的规则中用 reading 写明理由").format(
                        f=item.formula
                    ),
                )
            )
    return findings


def previous_findings(form: Form, forms: Mapping[str, Form]) -> list[Finding]:
    """The `[previous]` mapping: last year's form must be known (its tables are read with it), each mapped
    item must exist on both sides, and an item may only be compared with one of the same unit — 户 last year
    against 人 this year would warn of a "change" that is none."""
    if not form.previous_form and not form.previous_items:
        return []
    where = f"{form.code}.previous"
    earlier = form if form.previous_form_code == form.code else forms.get(form.previous_form_code)
    if earlier is None:
        return [
            Finding(
                "previous-form",
                where,
                _(
                    "上年对照的表样“{code}”不存在；"
                    "请写已有表样的代码（{known}），或删去 form 表示与本表同一代码"
                ).format(code=form.previous_form_code, known="、".join(sorted(forms)) or "—"),
            )
        ]
    findings: list[Finding] = []
    targets: dict[str, str] = {}
    for code, old in form.previous_items:
        if not form.has_item(code):
            findings.append(
                Finding("previous-item", where, _("上年对照中的项目 {code} 不在本表中").format(code=code))
            )
            continue
        if not old:
            continue
        if not earlier.has_item(old):
            findings.append(
                Finding(
                    "previous-item",
                    where,
                    _("本表项目 {code} 对照的上年项目 {old} 不在上年表样“{form}”中").format(
                        code=code, old=old, form=earlier.code
                    ),
                )
            )
            continue
        item, before = form.item(code), earlier.item(old)
        if item.unit != before.unit:
            findings.append(
                Finding(
                    "previous-item",
                    where,
                    _(
                        "本表项目 {code}（{name}，{unit}）与上年项目 {old}（{old_name}，{old_unit}）"
                        "单位不同，不能比较"
                    ).format(
                        code=code,
                        name=item.name,
                        unit=item.unit,
                        old=old,
                        old_name=before.name,
                        old_unit=before.unit,
                    ),
                )
            )
        if old in targets:
            findings.append(
                Finding(
                    "previous-item",
                    where,
                    _(
                        "本表项目 {first} 和 {code} 都对照上年项目 {old}；每个上年项目只能对照一个本年项目"
                    ).format(first=targets[old], code=code, old=old),
                )
            )
        targets[old] = code
    if earlier is not form:
        mapped = {code for code, _old in form.previous_items}
        unmatched = [
            item.code
            for item in form.items
            if item.code not in mapped
            and item.kind is not ItemKind.YES_NO
            and not earlier.has_item(item.code)
        ]
        if unmatched:
            findings.append(
                Finding(
                    "previous-item",
                    where,
                    _(
                        "本表项目 {codes} 在上年表样“{form}”中没有同代码的项目；"
                        '请在 items 中写明对照的上年项目，没有对应项目的写 ""'
                    ).format(codes="、".join(unmatched), form=earlier.code),
                )
            )
    return findings


def ledger_findings(form: Form, vocabulary: Mapping[str, Collection[str]]) -> list[Finding]:
    """A code in an item's ledger derivation that the ledger does not know (a typo would derive 0 forever)."""
    findings: list[Finding] = []
    for item in form.items:
        if item.derivation is None:
            continue
        for field, codes in item.derivation.where:
            known = vocabulary.get(field)
            if known is None:
                continue
            unknown = [code for code in codes if code not in known]
            if unknown:
                findings.append(
                    Finding(
                        "ledger-code",
                        f"{form.code}.{item.code}.ledger",
                        _(
                            "项目 {code}（{name}）的台账取数中，“{field}”的代码 {codes} 台账中没有"
                            "（可用：{known}）"
                        ).format(
                            code=item.code,
                            name=item.name,
                            field=field,
                            codes="、".join(unknown),
                            known="、".join(sorted(known)),
                        ),
                    )
                )
    return findings
