"""Comparison with the relief ledger (核实性审核): a typed value that differs from what the ledger derives.

The ledger's values come in from outside (`songnuan.ledger.derive`), as last year's do for `yearly`: no
Django here. Per item with a derivation: a warning when both the typed value and the ledger's are numbers and
they differ (money compared to the 4 decimals the table takes). Nothing is said when either is blank — a
blank ledger value means the unit keeps no ledger records of that kind, so the ledger has nothing to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from songnuan.formkit.definitions import Form, Severity
from songnuan.formkit.engine import Value, Violation, value_text
from songnuan.formkit.i18n import gettext as _

#: The rule id of the comparison of one item, after the form code: `warmth-2018.4A.ledger`.
RULE_SUFFIX = "ledger"


def rule_id(form: Form, code: str) -> str:
    return form.full_rule_id(f"{code}.{RULE_SUFFIX}")


def rule_ids(form: Form) -> frozenset[str]:
    """Every rule id a ledger warning of `form` can carry (each can be explained)."""
    return frozenset(rule_id(form, item.code) for item in form.items if item.derivation is not None)


def _number(value: Value) -> Decimal | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return Decimal(value)


def ledger_warnings(
    form: Form, values: Mapping[str, Value], ledger: Mapping[str, Value] | None
) -> list[Violation]:
    """The warnings of `values` against the ledger's values (`ledger`: item code → value, blank None)."""
    if not ledger:
        return []
    found: list[Violation] = []
    for item in form.items:
        if item.derivation is None:
            continue
        this, derived = _number(values.get(item.code)), _number(ledger.get(item.code))
        if this is None or derived is None or this == derived:
            continue
        found.append(
            Violation(
                rule=rule_id(form, item.code),
                severity=Severity.WARNING,
                items=(item.code,),
                message=_("{code}（{name}）填报 {this}，与台账不符：台账 {ledger}，请核实并说明").format(
                    code=item.code,
                    name=item.name,
                    this=value_text(values.get(item.code)),
                    ledger=value_text(ledger.get(item.code)),
                ),
                expected=derived,
                actual=this,
            )
        )
    return found
