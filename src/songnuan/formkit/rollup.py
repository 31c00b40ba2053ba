"""The roll-up rule, pure: adding the tables of several units item by item.

Blank + blank = blank: an item no part filled stays None (not 0); any filled value counts. Counts stay `int`,
万元 stay `Decimal`; a yes/no item is 是 when any part says 是, 否 when all that filled it say 否.
The SQL roll-up (`reporting.rollup`) must agree with this; its tests use `combine` as the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from songnuan.formkit.definitions import Form, ItemKind
from songnuan.formkit.engine import Value


def combine(values: Iterable[Value], kind: ItemKind) -> Value:
    """The roll-up of one item over several parts."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    if kind is ItemKind.YES_NO:
        return "是" if "是" in present else ("否" if "否" in present else None)
    numbers = [v for v in present if isinstance(v, int | Decimal) and not isinstance(v, bool)]
    total: int | Decimal = sum(numbers, start=0)
    return total.normalize() if isinstance(total, Decimal) else total


def combine_tables(form: Form, parts: Iterable[Mapping[str, Value]]) -> dict[str, Value]:
    """The roll-up of whole tables (or of roll-ups), item by item."""
    parts = list(parts)
    return {item.code: combine((part.get(item.code) for part in parts), item.kind) for item in form.items}
