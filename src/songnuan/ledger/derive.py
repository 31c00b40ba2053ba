"""Form items derived from the relief ledger, as the form files declare them (`ledger = { … }`, the grammar in
docs/forms.md and `songnuan.formkit.definitions.LEDGER_RECORDS`): no Python per item.

One SQL statement answers a whole form: per record kind (help records, receipts, activities, stations) one
aggregate query with one conditional aggregate per item — the items' filters become `FILTER (WHERE …)` —
and the kinds' queries joined by UNION ALL. Grouped by unit (`derive_units`, 本级 of many units at once) or
not at all (`derive`: one unit, or its subtree).

What counts: approved help records, a reversal cancelling what it reverses (sums net out; a record count is
records less reversals; a distinct count leaves out reversed records and reversals); receipts the unit raised
itself (an allocation from above is counted where it was raised), reversals netting out; every activity;
stations open on the campaign's last day. Money is yuan in the ledger and 万元 (4 decimals) in the tables.
Blank is not zero: when a unit has no ledger records of a kind at all, that kind's items are None (the
ledger says nothing); once it has some, an item none of them matches is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from songnuan.archive.models import Household
from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.formkit.definitions import LEDGER_RECORDS, Derivation, Form, Item, ItemKind
from songnuan.formkit.engine import Value as FormValue
from songnuan.ledger.models import Activity, FundSource, HelpItem, HelpRecord, Receipt, Station
from songnuan.orgs.models import Unit

TEN_THOUSAND = Decimal(10_000)
MONEY_PLACES = Decimal("0.0001")

#: Per record kind, each filter field of the grammar → how it is looked up. A callable gets the codes.
_HELP_FIELDS: dict[str, Any] = {
    "item": lambda codes: Q(item__in=HelpItem.objects.filter(code__in=codes).values("pk")),
    "item_form_item": lambda codes: Q(item__in=HelpItem.objects.filter(form_item__in=codes).values("pk")),
    "source": lambda codes: Q(source__in=FundSource.objects.filter(code__in=codes).values("pk")),
    "source_form_item": lambda codes: Q(
        source__in=FundSource.objects.filter(form_item__in=codes).values("pk")
    ),
    "recipient": lambda codes: Q(recipient_kind__in=codes),
    # A subquery, not a join: the database hashes the (few) households once instead of joining every record.
    "household_category": lambda codes: Q(
        household__in=Household.objects.filter(category__in=codes).values("pk")
    ),
    "person_category": lambda codes: Q(person_category__in=codes),
    "enterprise_kind": lambda codes: Q(enterprise_kind__in=codes),
    "channel": lambda codes: Q(channel__in=codes),
}
LOOKUPS: dict[str, dict[str, Any]] = {
    "help": _HELP_FIELDS,
    "receipts": {key: _HELP_FIELDS[key] for key in ("source", "source_form_item")},
    "activities": {
        "kind": lambda codes: Q(kind__in=codes),
        "subkind": lambda codes: Q(subkind__in=codes),
    },
    "stations": {},
}
_MAX_IN = 500
_MONEY = DecimalField(max_digits=20, decimal_places=2)
#: A column another record kind fills: NULL, typed (PostgreSQL will not unite an untyped NULL with a number).
_NONE = Cast(Value(None), output_field=_MONEY)
_NET = Case(When(reverses__isnull=True, then=Value(1)), default=Value(-1), output_field=IntegerField())


@dataclass(frozen=True)
class Scope:
    """Whose records: one unit (`unit`), its subtree (`subtree`), or each of `units` apart (grouped)."""

    unit: Unit | None = None
    subtree: bool = False
    units: tuple[int, ...] | None = None  # derive_units: these units' own records, grouped by unit

    def q(self) -> Q:
        if self.unit is not None:
            return Q(unit__path__startswith=self.unit.path) if self.subtree else Q(unit=self.unit)
        if self.units is not None and len(self.units) <= _MAX_IN:
            return Q(unit_id__in=self.units)
        return Q()  # every unit (a long list is filtered after the query, not in 4 × n parameters)


def whole_area(campaign: Campaign) -> bool:
    """What a unit's own table holds (the entry page's 本级 / 全辖): its subtree with WHOLE_AREA."""
    return campaign.reporting_scope == ReportingScope.WHOLE_AREA


def derive(
    campaign: Campaign, form: Form, unit: Unit, *, subtree: bool | None = None
) -> dict[str, FormValue]:
    """Per derivable item of `form`, its value from the ledger for `unit` (本级) or, with `subtree`, for
    `unit` and every unit below it (全辖). `subtree` defaults to what the unit's own table holds in this
    campaign (`Campaign.reporting_scope`). Items without a derivation are left out. One query."""
    if subtree is None:
        subtree = whole_area(campaign)
    rows = _run(campaign, form, Scope(unit=unit, subtree=subtree))
    return _values(form, rows.get(0, {}))


def derive_units(
    campaign: Campaign, form: Form, units: Iterable[int] | None = None
) -> dict[int, dict[str, FormValue]]:
    """Per unit id (every unit with ledger records in the campaign, or those of `units`), the derivable items
    of its own records (本级). One query, grouped by unit."""
    scope = Scope(units=tuple(units) if units is not None else None)
    rows = _run(campaign, form, scope, grouped=True)
    wanted = set(scope.units) if scope.units is not None else None
    return {key: _values(form, row) for key, row in rows.items() if wanted is None or key in wanted}


def derivable(form: Form) -> list[Item]:
    return [item for item in form.items if item.derivation is not None]


# --- the query ---------------------------------------------------------------------------------------------


def _base(campaign: Campaign, records: str, scope: Scope) -> QuerySet[Any]:
    where = scope.q()
    if records == "help":
        return HelpRecord.objects.filter(where, campaign=campaign, state=HelpRecord.State.APPROVED)
    if records == "receipts":
        return Receipt.objects.filter(where, campaign=campaign, kind=Receipt.Kind.RAISED)
    if records == "activities":
        return Activity.objects.filter(where, campaign=campaign)
    end = campaign.period_end
    return Station.objects.filter(where, opened_on__lte=end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=end)
    )


def _condition(records: str, derivation: Derivation) -> Q:
    q = Q()
    for field, codes in derivation.where:
        q &= LOOKUPS[records][field](list(codes))
    return q


def _aggregate(campaign: Campaign, records: str, derivation: Derivation) -> Any:
    q = _condition(records, derivation)
    measure = derivation.measure
    reversible = records in ("help", "receipts")
    if measure == "records":
        return Sum(_NET, filter=q) if reversible else Count("pk", filter=q)
    if measure in ("households", "persons"):
        reversed_ids = HelpRecord.objects.filter(campaign=campaign, reverses__isnull=False).values("reverses")
        live = q & Q(reverses__isnull=True) & ~Q(pk__in=reversed_ids)
        if measure == "households":
            return Count("household", distinct=True, filter=live)
        return Count("id_number", distinct=True, filter=live & ~Q(id_number=""))
    if measure == "value":
        zero = Value(Decimal(0), output_field=_MONEY)
        both = Coalesce("amount", zero, output_field=_MONEY) + Coalesce(
            "goods_value", zero, output_field=_MONEY
        )
        return Sum(both, filter=q, output_field=_MONEY)
    return Sum(measure if measure != "goods_quantity" else "goods_quantity", filter=q)


def _run(campaign: Campaign, form: Form, scope: Scope, *, grouped: bool = False) -> dict[int, dict[str, Any]]:
    """{group key: {item code or "<kind>:" (the kind's row count): raw aggregate}}; key 0 when not grouped."""
    items = [item for item in derivable(form) if not item.derivation.items]  # type: ignore[union-attr]
    kinds = [kind for kind in LEDGER_RECORDS if any(i.derivation.records == kind for i in items)]  # type: ignore[union-attr]
    if not kinds:
        return {}
    columns = [f"{kind}:" for kind in kinds] + [item.code for item in items]
    aliases = {column: f"c{position}" for position, column in enumerate(columns)}
    parts = []
    for kind in kinds:
        annotations: dict[str, Any] = {}
        for column in columns:
            alias = aliases[column]
            if column == f"{kind}:":
                annotations[alias] = Count("pk")
            elif column.endswith(":"):
                annotations[alias] = _NONE
            else:
                derivation = form.item(column).derivation
                assert derivation is not None
                annotations[alias] = (
                    _aggregate(campaign, kind, derivation) if derivation.records == kind else _NONE
                )
        base = _base(campaign, kind, scope).order_by()
        if grouped:
            query = base.values("unit_id").annotate(**annotations).values_list("unit_id", *aliases.values())
        else:
            query = (
                base.annotate(key=Value(0, output_field=IntegerField()))
                .values("key")
                .annotate(**annotations)
                .values_list("key", *aliases.values())
            )
        parts.append(query)
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    # On a raw cursor: the ORM's per-cell converters cost more than the query on 10,000 units × 50 items,
    # and `_values` turns the few kinds of raw numbers (int, float, Decimal) into the table's values itself.
    sql, params = combined.query.get_compiler(using=combined.db).as_sql()
    with connections[combined.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    # A row holds one kind's columns (its row count first, then its items'); the others are NULL.
    own = [
        [(1 + position, column) for position, column in enumerate(columns) if column == f"{kind}:"]
        + [
            (1 + position, column)
            for position, column in enumerate(columns)
            if not column.endswith(":") and form.item(column).derivation.records == kind  # type: ignore[union-attr]
        ]
        for kind in kinds
    ]
    found: dict[int, dict[str, Any]] = {}
    for row in fetched:
        target = found.setdefault(int(row[0]), {})
        for which in range(len(kinds)):
            if row[1 + which] is not None:
                for position, column in own[which]:
                    target[column] = row[position]
                break
    return found


# --- from raw aggregates to the table's values -----------------------------------------------------------


def _money(raw: Any) -> Decimal:
    """Yuan (a float on SQLite, whose sums of cents are off in the 10th place) → 万元 to 4 places."""
    yuan = raw if isinstance(raw, Decimal) else Decimal(repr(raw) if isinstance(raw, float) else raw)
    return (yuan / TEN_THOUSAND).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _count(raw: Any) -> int:
    return raw if isinstance(raw, int) else int(Decimal(str(raw)).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class _Plan:
    """How a form's raw aggregates become its values, worked out once per form."""

    direct: tuple[tuple[str, str, bool], ...]  # (item code, "<kind>:", money)
    sums: tuple[tuple[str, tuple[str, ...]], ...]  # (item code, the items it adds)


_PLANS: dict[int, tuple[Form, _Plan]] = {}


def _plan(form: Form) -> _Plan:
    known = _PLANS.get(id(form))
    if known is not None and known[0] is form:  # the form kept alive with its plan: its id is its own
        return known[1]
    direct: list[tuple[str, str, bool]] = []
    sums: list[tuple[str, tuple[str, ...]]] = []
    for item in derivable(form):
        derivation = item.derivation
        assert derivation is not None
        if derivation.items:
            sums.append((item.code, derivation.items))
        else:
            direct.append((item.code, f"{derivation.records}:", item.kind is ItemKind.MONEY))
    plan = _Plan(tuple(direct), tuple(sums))
    _PLANS[id(form)] = (form, plan)
    return plan


def _values(form: Form, raw: Mapping[str, Any]) -> dict[str, FormValue]:
    values: dict[str, FormValue] = {}
    for code, kind, money in _plan(form).direct:
        if not raw.get(kind):
            values[code] = None  # no records of this kind: the ledger says nothing
        elif money:
            values[code] = _money(raw.get(code) or 0)
        else:
            values[code] = _count(raw.get(code) or 0)
    for code, parts in _plan(form).sums:
        known = [value for part in parts if (value := values.get(part)) is not None]
        values[code] = sum(known[1:], start=known[0]) if known else None
    return values
