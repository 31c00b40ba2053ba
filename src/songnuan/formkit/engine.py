"""The rule engine: compile a form's rules once, then check reported values against them.

Values are `int` for counts, `Decimal` for 万元, "是"/"否" for yes/no items, and `None` for blank (not
reported — never the same as 0).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from songnuan.formkit.definitions import (
    MONEY_DECIMAL_PLACES,
    Form,
    ItemKind,
    RuleDefinition,
    Severity,
)
from songnuan.formkit.expressions import (
    NO,
    OPERATOR_WORDS,
    YES,
    YES_NO_VALUES,
    Comparison,
    ExpressionError,
    Side,
    parse_comparison,
)
from songnuan.formkit.i18n import gettext as _

Value = int | Decimal | str | None

#: 舍位: a money sum may be off by at most this much per summand before it is an error.
ROUNDING_PER_SUMMAND = Decimal("0.01")
_MONEY_QUANTUM_EXPONENT = -MONEY_DECIMAL_PLACES
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "!=": operator.ne,
}


@dataclass(slots=True)
class Violation:
    """One broken rule (or one bad value), with everything a reviewer needs to see where and why."""

    rule: str
    severity: Severity
    items: tuple[str, ...]
    message: str
    expected: Decimal | int | None = None
    actual: Decimal | int | None = None
    difference: Decimal | int | None = None
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def cell(self) -> str | None:
        """The sheet cell of the first item (the total, for a sum rule), where it was read from a file."""
        return self.cells.get(self.items[0]) if self.items else None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "items": list(self.items),
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "difference": self.difference,
        }
        if self.cells:
            data["cells"] = dict(self.cells)
            data["cell"] = self.cell
        return data


@dataclass(slots=True)
class CheckResult:
    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, violation: Violation) -> None:
        (self.errors if violation.severity is Severity.ERROR else self.warnings).append(violation)

    def extend(self, violations: Iterable[Violation]) -> None:
        for violation in violations:
            self.add(violation)

    @property
    def all(self) -> list[Violation]:
        return self.errors + self.warnings

    def sort(self, order: Mapping[str, int]) -> None:
        """Put findings in the order of the table's rows (by each one's first item), as a reviewer reads."""
        last = len(order)
        for found in (self.errors, self.warnings):
            found.sort(key=lambda v: order.get(v.items[0], last) if v.items else last)

    def items_with(self, severity: Severity) -> set[str]:
        found = self.errors if severity is Severity.ERROR else self.warnings
        return {code for violation in found for code in violation.items}


def value_text(value: Value | Decimal) -> str:
    """A value as a cell, a field, a change record or the API shows it: the exact amount in plain notation
    without trailing zeros ("0.3000" → "0.3", "1E+2" → "100"); blank stays blank ("")."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)


def format_value(value: Value | Decimal) -> str:
    """A value inside a message: as `value_text`, with blank written out as （空）."""
    return _("（空）") if value is None else value_text(value)


class _SideEvaluator:
    """Evaluates one side of a comparison on the value vector; blanks add nothing."""

    __slots__ = ("constant", "get", "indices", "negative", "plain", "scaled")

    def __init__(self, side: Side, index: Mapping[str, int]) -> None:
        positive = [index[t.item] for t in side.terms if t.item is not None and t.coefficient == 1]
        self.negative = tuple(index[t.item] for t in side.terms if t.item is not None and t.coefficient == -1)
        self.scaled = tuple(
            (index[t.item], t.coefficient)
            for t in side.terms
            if t.item is not None and abs(t.coefficient) != 1
        )
        self.constant = side.constant
        self.indices = tuple(positive)
        self.get: Callable[[list[Any]], tuple[Any, ...]] = _tuple_getter(self.indices)
        # Most sides are a plain sum of items (3B + 3C + …) or a constant: those take the short path.
        self.plain = not self.negative and not self.scaled and not self.constant

    def value(self, vector: list[Any], complete: bool) -> Decimal | int:
        if self.plain and complete:
            plain_sum: Decimal | int = sum(self.get(vector))
            return plain_sum
        values = self.get(vector)
        total: Decimal | int = sum(values) if complete else sum(v for v in values if v is not None)
        for position in self.negative:
            if vector[position] is not None:
                total -= vector[position]
        for position, coefficient in self.scaled:
            if vector[position] is not None:
                total += coefficient * vector[position]
        return total + self.constant if self.constant else total


def _tuple_getter(indices: tuple[int, ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
    if not indices:
        return lambda vector: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda vector: (vector[only],)
    return operator.itemgetter(*indices)


class CompiledRule:
    """A rule parsed once into index lookups; `evaluate` is the hot path."""

    __slots__ = (
        "check",
        "compare",
        "definition",
        "form",
        "get_all",
        "holds_when_filled",
        "id",
        "index",
        "items",
        "left",
        "message_of",
        "operator",
        "right",
        "severity",
        "split",
        "tolerance",
        "total",
        "total_side",
        "when",
        "when_items",
    )

    tolerance: Decimal | None
    total: int | None

    def __init__(
        self,
        form: Form,
        definition: RuleDefinition,
        index: Mapping[str, int],
        message_of: Callable[[], str] | None = None,
    ) -> None:
        self.form = form
        self.index = index
        self.definition = definition
        # A generated rule's message, made in the language of the moment: the compiled form is kept for
        # every request, so its definition's message (translated once, when compiled) must not be shown.
        self.message_of = message_of
        self.id = form.full_rule_id(definition.id)
        self.severity = definition.severity
        self.check = parse_comparison(definition.check)
        for code in self.check.items:
            if code not in index:
                raise ExpressionError(_("规则 {id} 引用了不存在的项目 {code}").format(id=self.id, code=code))
        self.items = tuple(dict.fromkeys(self.check.items))
        self.operator = self.check.operator
        self.compare = _COMPARE[self.operator]
        self.left = _SideEvaluator(self.check.left, index)
        self.right = _SideEvaluator(self.check.right, index)
        self.get_all = _tuple_getter(tuple(index[code] for code in self.items))
        # When both sides are plain sums of distinct items, both are summed from the tuple get_all fetched:
        # the left side is its first `split` values, the right side the rest.
        left_items, right_items = self.check.left.items, self.check.right.items
        plain = self.left.plain and self.right.plain and len(set(self.items)) == len(left_items + right_items)
        self.split: int | None = len(left_items) if plain and self.items == left_items + right_items else None
        self.holds_when_filled = self._predicate(
            [index[c] for c in left_items], [index[c] for c in right_items]
        )
        total_code, self.total_side = _total_of(self.check, definition)
        self.total = index[total_code] if total_code is not None else None
        self.when: CompiledRule | None = None
        self.when_items: tuple[str, ...] = ()
        if definition.when:
            condition = RuleDefinition(id=f"{definition.id}.when", check=definition.when)
            self.when = CompiledRule(form, condition, index)
            self.when_items = self.when.items
        money = all(form.item(code).kind is ItemKind.MONEY for code in self.items)
        summands = max(len(self.check.left.items), len(self.check.right.items))
        self.tolerance = ROUNDING_PER_SUMMAND * summands if money and summands > 1 else None

    def _predicate(self, left: list[int], right: list[int]) -> Callable[[list[Any]], bool] | None:
        """For a rule of plain sums, a check with its positions bound in advance: the fast path for a fully
        filled table, where most rules hold. None for other shapes (they take `evaluate`)."""
        if self.split is None:
            return None
        compare = self.compare
        if len(left) == 1 and len(right) <= 1:
            i = left[0]
            if not right:
                return lambda vector: compare(vector[i], 0)
            j = right[0]
            return lambda vector: compare(vector[i], vector[j])
        get_left, get_right = _tuple_getter(tuple(left)), _tuple_getter(tuple(right))
        return lambda vector: compare(sum(get_left(vector)), sum(get_right(vector)))

    def holds(self, vector: list[Any], filled: bool = False) -> bool:
        """For a `when` condition: true only when every item is filled and the comparison holds."""
        values = self.get_all(vector)
        if not filled and [v for v in values if v is None]:
            return False
        if self.split is not None:
            return self.compare(sum(values[: self.split]), sum(values[self.split :]))
        return self.compare(self.left.value(vector, True), self.right.value(vector, True))

    def evaluate(self, vector: list[Any], filled: bool = False) -> Violation | None:
        """The violation of this rule, or None. `filled`: the caller knows no value in `vector` is blank."""
        if self.when is not None and not self.when.holds(vector, filled):
            return None
        values = self.get_all(vector)
        # Counted by identity: `values.count(None)` would compare every Decimal with None, which is slow.
        blanks = 0 if filled else len([v for v in values if v is None])
        if blanks == len(values):
            return None
        if self.total is not None:
            if vector[self.total] is None:
                return self._blank_total(vector)
        elif blanks:
            return None
        if self.split is not None and not blanks:
            left: Decimal | int = sum(values[: self.split])
            right: Decimal | int = sum(values[self.split :])
        else:
            left = self.left.value(vector, not blanks)
            right = self.right.value(vector, not blanks)
        if self.compare(left, right):
            return None
        difference = left - right
        if self.tolerance is not None and self._within_rounding(difference):
            return self._violation(left, right, difference, rounding=True)
        return self._violation(left, right, difference, rounding=False)

    def _within_rounding(self, difference: Decimal | int) -> bool:
        tolerance = self.tolerance
        assert tolerance is not None
        if self.operator == "=":
            return -tolerance <= difference <= tolerance
        if self.operator in ("<=", "<"):
            return difference <= tolerance
        if self.operator in (">=", ">"):
            return difference >= -tolerance
        return False

    # --- messages (only built when a rule is broken) ---

    @property
    def message(self) -> str | None:
        """The rule's own message (generated rules: in the current language), or None."""
        return self.message_of() if self.message_of is not None else self.definition.message

    def _name(self, code: str) -> str:
        return f"{code}（{self.form.item(code).name}）"

    def _blank_total(self, vector: list[Any]) -> Violation:
        assert self.total is not None and self.total_side is not None
        total_code = self.form.items[self.total].code
        parts = [c for c in self.total_side.items if vector[self.index[c]] is not None]
        message = _("{total}未填，但它的分项{parts}已填：合计不能空着（空表示未统计，不等于0）").format(
            total=self._name(total_code), parts="、".join(parts)
        )
        return Violation(self.id, self.severity, self.items, message)

    def _violation(
        self, left: Decimal | int, right: Decimal | int, difference: Decimal | int, *, rounding: bool
    ) -> Violation:
        sides: list[tuple[Side, Decimal | int]] = [
            (side, value)
            for side, value in ((self.check.left, left), (self.check.right, right))
            if side.items
        ]
        detail = "，".join(f"{side.text()} = {format_value(value)}" for side, value in sides)
        if len(sides) == 2:
            detail += _("，相差 {diff}").format(
                diff=format_value(difference if difference > 0 else -difference)
            )
        own = self.message
        if own:
            message = f"{own}（{detail}）"
        elif self.total is not None:
            total_code = self.form.items[self.total].code
            op = _mirror(self.operator) if self.total_side is self.check.left else self.operator
            message = _("{total}应{op}分项之和（{detail}）").format(
                total=self._name(total_code), op=_(OPERATOR_WORDS[op]), detail=detail
            )
        else:
            message = _("{check} 不成立（{detail}）").format(check=self.check.text(), detail=detail)
        if self.when is not None:
            message = _("当 {when} 时：{message}").format(when=self.when.check.text(), message=message)
        severity = self.severity
        rule_id = self.id
        if rounding:
            severity = Severity.WARNING
            rule_id = f"{self.id}.rounding"
            message = _("舍位差：{message}。差额在每个分项0.01万元的舍位误差以内，请核实").format(
                message=message
            )
        return Violation(rule_id, severity, self.items, message, right, left, difference)


def _mirror(op: str) -> str:
    return {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}.get(op, op)


def _total_of(check: Comparison, definition: RuleDefinition) -> tuple[str | None, Side | None]:
    """The total item of a rule of the shape TOTAL = a + b …, a + b … <= TOTAL (or a generated of-which)."""
    minimum_parts = 1 if definition.generated else 2
    # TOTAL = parts, TOTAL >= parts; then the mirror image: parts = TOTAL, parts <= TOTAL.
    for total, parts, operators in (
        (check.left, check.right, ("=", ">=")),
        (check.right, check.left, ("=", "<=")),
    ):
        if (
            check.operator in operators
            and len(total.terms) == 1
            and total.is_plain_sum
            and parts.is_plain_sum
            and len(parts.terms) >= minimum_parts
        ):
            return total.items[0], parts
    return None, None


def _of_which_message(code: str, parent: str) -> Callable[[], str]:
    return lambda: _("{code}是{parent}的“其中”项，不能大于{parent}").format(code=code, parent=parent)


def _parts_message(parts: str, code: str) -> Callable[[], str]:
    return lambda: _("{parts}是{code}中互不重叠的部分，它们的和不能大于{code}").format(parts=parts, code=code)


def generated_rules(form: Form) -> list[RuleDefinition]:
    """The “其中” rules the items imply: each part ≤ its parent; disjoint parts' sum ≤ the parent."""
    return [definition for definition, _message in _generated(form)]


def _generated(form: Form) -> list[tuple[RuleDefinition, Callable[[], str]]]:
    """The generated rules, each with its message as a function, to be made in the language of the moment."""
    covered: set[tuple[str, str]] = set()
    for rule in form.rules:
        try:
            check = parse_comparison(rule.check)
        except ExpressionError:
            continue
        if (
            check.operator == "="
            and len(check.left.terms) == 1
            and check.left.is_plain_sum  # `0 = 1A + 1B` has no total
            and check.right.is_plain_sum
        ):
            covered.update((check.left.items[0], part) for part in check.right.items)
    rules: list[tuple[RuleDefinition, Callable[[], str]]] = []
    for item in form.items:
        if not item.parent or not form.has_item(item.parent):
            continue
        if form.item(item.parent).kind is ItemKind.YES_NO or (item.parent, item.code) in covered:
            continue
        message = _of_which_message(item.code, item.parent)
        rules.append(
            (
                RuleDefinition(
                    id=f"{item.code}.of-which",
                    check=f"{item.code} <= {item.parent}",
                    message=message(),
                    generated=True,
                ),
                message,
            )
        )
    for item in form.items:
        children = form.children.get(item.code, ())
        if item.parts and len(children) > 1 and not all((item.code, c.code) in covered for c in children):
            message = _parts_message("、".join(c.code for c in children), item.code)
            rules.append(
                (
                    RuleDefinition(
                        id=f"{item.code}.parts",
                        check=" + ".join(c.code for c in children) + f" <= {item.code}",
                        message=message(),
                        generated=True,
                    ),
                    message,
                )
            )
    return rules


class CompiledForm:
    """A form with every rule compiled; build once per form and reuse (see `compiled`)."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.codes = form.codes
        self.index = {code: position for position, code in enumerate(self.codes)}
        generated = _generated(form)
        self.rules = (
            *(CompiledRule(form, definition, self.index) for definition in form.rules),
            *(CompiledRule(form, definition, self.index, message) for definition, message in generated),
        )
        self.count_positions = tuple(i.index for i in form.items if i.kind is ItemKind.COUNT)
        self.money_positions = tuple(i.index for i in form.items if i.kind is ItemKind.MONEY)
        self.money_set = frozenset(self.money_positions)
        self.yes_no_positions = tuple(i.index for i in form.items if i.kind is ItemKind.YES_NO)
        self._by_id = {rule.id: rule for rule in self.rules}

    def rule(self, full_id: str) -> CompiledRule:
        return self._by_id[full_id]

    def vector(self, values: Mapping[str, Value]) -> list[Any]:
        vector: list[Any] = [values.get(code) for code in self.codes]
        for position in self.yes_no_positions:
            if vector[position] is not None:
                vector[position] = YES_NO_VALUES.get(vector[position], vector[position])
        return vector

    def validate(self, values: Mapping[str, Value], unknown: Collection[str] = ()) -> CheckResult:
        """Check typed values: each value's kind and range, then every rule.

        A bad value is reported once, on its item, and rules treat it as blank. An item the reader could not
        read at all (`unknown`: a formula saved without its result, a deleted row; the reader reports it) is
        not blank but unknown: a rule naming it is not checked, since "the total is blank" would be a second,
        wrong message about the same cell.
        """
        result = CheckResult()
        vector = self.vector(values)
        bad = self._bad_positions(vector, values)
        skipped = frozenset(unknown)
        if bad:
            for position in bad:
                value = vector[position]
                if value.__class__ is int and value >= 0 and position in self.money_set:
                    # A whole amount given as int (by a caller that skipped parse_value) is that amount.
                    vector[position] = Decimal(value)
                    continue
                result.add(value_violation(self.form, self.codes[position], values.get(self.codes[position])))
                vector[position] = None
        filled = not [v for v in vector if v is None]
        for rule in self.rules:
            if skipped and not skipped.isdisjoint(rule.items):
                continue
            if filled and (holds := rule.holds_when_filled) is not None:
                condition = rule.when
                if condition is None:
                    if holds(vector):
                        continue
                elif (applies := condition.holds_when_filled) is not None and (
                    not applies(vector) or holds(vector)
                ):
                    continue
            violation = rule.evaluate(vector, filled)
            if violation is not None:
                result.add(violation)
        if len(result.errors) > 1 or len(result.warnings) > 1:
            result.sort(self.index)
        return result

    def _bad_positions(self, vector: list[Any], values: Mapping[str, Value]) -> list[int]:
        """Positions whose value is not of its item's kind (hot path: comprehensions, no lookups by code)."""
        bad = [
            p
            for p in self.count_positions
            if (value := vector[p]) is not None and (value.__class__ is not int or value < 0)
        ]
        bad += [
            p
            for p in self.money_positions
            if (value := vector[p]) is not None
            and (
                value.__class__ is not Decimal
                or not value.is_finite()
                or value < 0
                or (
                    value != value.to_integral_value()
                    and int(value.as_tuple().exponent) < _MONEY_QUANTUM_EXPONENT
                    and int(value.normalize().as_tuple().exponent)
                    < _MONEY_QUANTUM_EXPONENT  # 12.50000 is fine
                )
            )
        ]
        bad += [
            p
            for p in self.yes_no_positions
            if vector[p] is not None and values[self.codes[p]] not in (YES, NO)
        ]
        return sorted(bad) if bad else bad


def value_violation(form: Form, code: str, value: object) -> Violation:
    """The error for a typed value of the wrong kind or range (the reader reports raw text itself)."""
    item = form.item(code)
    label = f"{code}（{item.name}，{item.unit}）"
    if item.kind is ItemKind.YES_NO:
        return Violation(
            form.full_rule_id(f"{code}.yes-no"),
            Severity.ERROR,
            (code,),
            _("{label}只能填“是”或“否”，而不是“{v}”").format(label=label, v=value),
        )
    # NaN and ±Infinity are Decimals but not numbers anyone reported (and NaN cannot be compared with 0).
    if not isinstance(value, int | Decimal) or isinstance(value, bool) or not _finite(value):
        return Violation(
            form.full_rule_id(f"{code}.number"),
            Severity.ERROR,
            (code,),
            _("{label}应填数字，而不是“{v}”").format(label=label, v=value),
        )
    if value < 0:
        return Violation(
            form.full_rule_id(f"{code}.non-negative"),
            Severity.ERROR,
            (code,),
            _("{label}不能为负数（填了 {v}）").format(label=label, v=format_value(value)),
        )
    if item.kind is ItemKind.COUNT:
        return Violation(
            form.full_rule_id(f"{code}.integer"),
            Severity.ERROR,
            (code,),
            _("{label}应为整数（填了 {v}）").format(label=label, v=format_value(value)),
        )
    return Violation(
        form.full_rule_id(f"{code}.decimals"),
        Severity.ERROR,
        (code,),
        _("{label}以万元计，最多保留{n}位小数（即精确到元），填了 {v}").format(
            label=label, n=MONEY_DECIMAL_PLACES, v=format_value(value)
        ),
    )


def _finite(value: int | Decimal) -> bool:
    return not isinstance(value, Decimal) or value.is_finite()


#: Compiled forms by `id(form)`. Each entry holds its form (`CompiledForm.form`), so the id cannot be reused
#: by another form while the entry lives; the identity check below is the guard. Not keyed by the form
#: itself: hashing a frozen form hashes every item, on every check.
_COMPILED: dict[int, CompiledForm] = {}


def compiled(form: Form) -> CompiledForm:
    """The compiled rules of a form, built on first use and kept (forms are immutable)."""
    found = _COMPILED.get(id(form))
    if found is None or found.form is not form:
        found = _COMPILED[id(form)] = CompiledForm(form)
    return found


def clear_compiled() -> None:
    """Forget every compiled form (tests do, so that no test sees rules compiled by another)."""
    _COMPILED.clear()


def validate(form: Form, values: Mapping[str, Value]) -> CheckResult:
    return compiled(form).validate(values)
