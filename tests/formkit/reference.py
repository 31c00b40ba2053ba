"""A deliberately simple, slow evaluator of a form's rules: the oracle the compiled engine is checked against.

It is written from the parsed comparisons and the documented semantics only — no index vectors, no fast paths,
nothing shared with `CompiledRule` — so that a bug in the engine's optimisations shows up as a disagreement.
Arithmetic is done in Decimal throughout; the engine may return an int where this returns an equal Decimal.

The semantics, in the order they apply:
- A value of the wrong kind or range is one error on its item (`.number`, `.non-negative`, `.integer`,
  `.decimals`, `.yes-no`) and is then treated as blank. 是 counts as 1, 否 as 0.
- A rule naming an item the reader could not read (`unknown`) is not checked.
- A rule with a `when` condition is checked only when every item of the condition is filled and it holds.
- A rule whose items are all blank is not checked.
- A total rule (TOTAL = parts, TOTAL >= parts, or the mirror image; two parts or more, or one for a generated
  rule) with its total blank reports the blank total; with its total filled, blank parts add nothing.
- Any other rule with a blank item is not checked.
- A money-only rule with more than one summand on a side that fails by at most 0.01 万元 per summand (of the
  larger side) is a `.rounding` warning instead.
- Errors and warnings are each ordered by the table row of their first item (stable).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from songnuan.formkit.definitions import Form, ItemKind, RuleDefinition, Severity
from songnuan.formkit.expressions import Comparison, Side, parse_comparison

YES_NO_NUMBER = {"是": 1, "否": 0}
OPERATOR_WORDS = {"=": "等于", "<=": "不大于", ">=": "不小于", "<": "小于", ">": "大于", "!=": "不等于"}
MIRRORED = {"=": "=", "!=": "!=", "<=": ">=", ">=": "<=", "<": ">", ">": "<"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    items: tuple[str, ...]
    expected: Decimal | None = None
    actual: Decimal | None = None
    difference: Decimal | None = None
    #: Texts the engine's message must contain, and must not (the exact wording is tested elsewhere).
    says: tuple[str, ...] = ()
    omits: tuple[str, ...] = ()


@dataclass
class Outcome:
    errors: list[Finding]
    warnings: list[Finding]


def holds(operator: str, left: Decimal, right: Decimal) -> bool:
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if operator == "<=":
        return left <= right
    if operator == ">=":
        return left >= right
    if operator == "<":
        return left < right
    assert operator == ">"
    return left > right


def number_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def side_text(side: Side) -> str:
    """A side as messages print it: `2×1B - 1C + 1`; an empty side is 0."""
    text = ""
    for term in side.terms:
        magnitude = abs(term.coefficient)
        if term.item is None:
            body = number_text(magnitude)
        else:
            body = term.item if magnitude == 1 else f"{number_text(magnitude)}×{term.item}"
        if not text:
            text = f"-{body}" if term.coefficient < 0 else body
        else:
            text += f" - {body}" if term.coefficient < 0 else f" + {body}"
    return text or "0"


def comparison_text(check: Comparison) -> str:
    return f"{side_text(check.left)} {check.operator} {side_text(check.right)}"


# --- values ----------------------------------------------------------------------------------------------


def value_problem(kind: ItemKind, value: object) -> str | None:
    """The suffix of the rule id reporting `value` for an item of `kind`, or None if the value is fine."""
    if value is None:
        return None
    if kind is ItemKind.YES_NO:
        return None if isinstance(value, str) and value in YES_NO_NUMBER else "yes-no"
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, Decimal) and not value.is_finite():
        return "number"  # NaN and ±Infinity are not amounts anyone reported
    if value < 0:
        return "non-negative"
    if kind is ItemKind.COUNT:
        return None if type(value) is int else "integer"
    assert isinstance(value, Decimal), "an int amount of money is outside what the oracle models"
    ten_thousandths = value * 10000
    return None if ten_thousandths == ten_thousandths.to_integral_value() else "decimals"


def numbers(form: Form, values: Mapping[str, object]) -> tuple[dict[str, Decimal | None], list[Finding]]:
    """Each item's number (None when blank or bad) and the errors for bad values, in row order."""
    found: dict[str, Decimal | None] = {}
    bad: list[Finding] = []
    for item in form.items:
        value = values.get(item.code)
        problem = value_problem(item.kind, value)
        if problem is not None:
            rule = form.full_rule_id(f"{item.code}.{problem}")
            bad.append(Finding(rule, Severity.ERROR, (item.code,), says=(item.code, item.name)))
            found[item.code] = None
        elif value is None:
            found[item.code] = None
        elif item.kind is ItemKind.YES_NO:
            assert isinstance(value, str)
            found[item.code] = Decimal(YES_NO_NUMBER[value])
        else:
            assert isinstance(value, int | Decimal)
            found[item.code] = Decimal(value)
    return found, bad


# --- rules -----------------------------------------------------------------------------------------------


def plain_sum(side: Side) -> bool:
    return bool(side.terms) and all(t.item is not None and t.coefficient == 1 for t in side.terms)


def total_of(check: Comparison, generated: bool) -> tuple[str, bool] | None:
    """The total item of a sum rule and whether it stands on the left, or None for other shapes."""
    fewest_parts = 1 if generated else 2
    if (
        check.operator in ("=", ">=")
        and len(check.left.terms) == 1
        and plain_sum(check.left)
        and plain_sum(check.right)
        and len(check.right.terms) >= fewest_parts
    ):
        return check.left.items[0], True
    if (
        check.operator in ("=", "<=")
        and len(check.right.terms) == 1
        and plain_sum(check.right)
        and plain_sum(check.left)
        and len(check.left.terms) >= fewest_parts
    ):
        return check.right.items[0], False
    return None


def side_value(side: Side, numbers: Mapping[str, Decimal | None]) -> Decimal:
    """coefficient × value summed over the side; a blank item adds nothing."""
    total = Decimal(0)
    for term in side.terms:
        if term.item is None:
            total += term.coefficient
        else:
            value = numbers[term.item]
            if value is not None:
                total += term.coefficient * value
    return total


def generated_definitions(form: Form) -> list[RuleDefinition]:
    """The 其中 rules the items imply, derived independently of the engine (compared in a test)."""
    stated: set[tuple[str, str]] = set()
    for rule in form.rules:
        check = parse_comparison(rule.check)
        if check.operator == "=" and len(check.left.terms) == 1 and plain_sum(check.right):
            for part in check.right.items:
                stated.add((check.left.items[0], part))
    found: list[RuleDefinition] = []
    for item in form.items:
        parent = item.parent
        if parent is None or not form.has_item(parent) or form.item(parent).kind is ItemKind.YES_NO:
            continue
        if (parent, item.code) not in stated:
            found.append(
                RuleDefinition(
                    id=f"{item.code}.of-which",
                    check=f"{item.code} <= {parent}",
                    message=f"{item.code}是{parent}的“其中”项，不能大于{parent}",
                    generated=True,
                )
            )
    for item in form.items:
        children = [child.code for child in form.items if child.parent == item.code]
        if not item.parts or len(children) < 2:
            continue
        if all((item.code, child) in stated for child in children):
            continue
        found.append(
            RuleDefinition(
                id=f"{item.code}.parts",
                check=" + ".join(children) + f" <= {item.code}",
                message=f"{'、'.join(children)}是{item.code}中互不重叠的部分，它们的和不能大于{item.code}",
                generated=True,
            )
        )
    return found


def tolerance(form: Form, check: Comparison) -> Decimal | None:
    codes = check.items
    summands = max(len(check.left.items), len(check.right.items))
    if summands > 1 and all(form.item(code).kind is ItemKind.MONEY for code in codes):
        return Decimal("0.01") * summands
    return None


def within_rounding(operator: str, difference: Decimal, allowed: Decimal) -> bool:
    """A failed comparison that a rounding of each summand could explain (difference = left − right)."""
    if operator == "=":
        return abs(difference) <= allowed
    if operator in ("<=", "<"):
        return difference <= allowed
    if operator in (">=", ">"):
        return difference >= -allowed
    return False


def check_rule(
    form: Form, definition: RuleDefinition, numbers: Mapping[str, Decimal | None]
) -> Finding | None:
    rule_id = form.full_rule_id(definition.id)
    check = parse_comparison(definition.check)
    codes = tuple(dict.fromkeys(check.items))
    if definition.when:
        condition = parse_comparison(definition.when)
        if any(numbers[code] is None for code in condition.items):
            return None
        if not holds(
            condition.operator, side_value(condition.left, numbers), side_value(condition.right, numbers)
        ):
            return None
    filled = [code for code in codes if numbers[code] is not None]
    if not filled:
        return None
    total = total_of(check, definition.generated)
    if total is not None:
        total_code, _on_left = total
        if numbers[total_code] is None:
            parts = check.right.items if _on_left else check.left.items
            named = tuple(code for code in parts if numbers[code] is not None)
            return Finding(
                rule_id, definition.severity, codes, says=(total_code, f"分项{'、'.join(named)}已填")
            )
    elif len(filled) < len(codes):
        return None
    left = side_value(check.left, numbers)
    right = side_value(check.right, numbers)
    if holds(check.operator, left, right):
        return None
    difference = left - right
    says: list[str] = []
    if definition.message:
        says.append(definition.message)
    elif total is not None:
        total_code, on_left = total
        operator = check.operator if on_left else MIRRORED[check.operator]
        says += [total_code, f"应{OPERATOR_WORDS[operator]}分项之和"]
    else:
        says.append(f"{comparison_text(check)} 不成立")
    if check.left.items:
        says.append(f"{side_text(check.left)} = {number_text(left)}")
    if check.right.items:
        says.append(f"{side_text(check.right)} = {number_text(right)}")
    omits: tuple[str, ...] = ()
    if check.left.items and check.right.items:
        says.append(f"相差 {number_text(abs(difference))}")
    else:
        omits = ("相差",)  # a side without items (a constant) is not worth a difference
    if definition.when:
        says.append(f"当 {comparison_text(parse_comparison(definition.when))} 时")
    allowed = tolerance(form, check)
    if allowed is not None and within_rounding(check.operator, difference, allowed):
        rounding = (*says, "舍位差")
        return Finding(
            f"{rule_id}.rounding", Severity.WARNING, codes, right, left, difference, rounding, omits
        )
    return Finding(rule_id, definition.severity, codes, right, left, difference, tuple(says), omits)


def reference_check(form: Form, values: Mapping[str, object], unknown: Collection[str] = ()) -> Outcome:
    found, findings = numbers(form, values)
    for definition in (*form.rules, *generated_definitions(form)):
        if set(parse_comparison(definition.check).items) & set(unknown):
            continue
        finding = check_rule(form, definition, found)
        if finding is not None:
            findings.append(finding)
    row = {item.code: item.index for item in form.items}
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    errors.sort(key=lambda f: row[f.items[0]])
    warnings.sort(key=lambda f: row[f.items[0]])
    return Outcome(errors, warnings)
