"""Form items derived from the relief ledger, as the form files declare them (`ledger = { … }`, the grammar in
docs/forms.md and `songnuan.formkit.definitions.LEDGER_RECORDS`): no Python per item.

One SQL statement answers a whole form (and one small query finds the ids of the help items and fund sources
the filters name): per record kind (help records, receipts, activities, stations) one aggregate query with
one conditional aggregate per item — the items' filters become `FILTER (WHERE …)` — and the kinds' queries
joined by UNION ALL. Grouped by unit (`derive_units`, 本级 of many units at once) or
not at all (`derive`: one unit, or its subtree).

What counts: approved help records, a reversal cancelling what it reverses (sums net out; a record count is
records less reversals; a distinct count leaves out reversed records and reversals); receipts the unit raised
itself (an allocation from above is counted where it was raised), reversals netting out; every activity;
stations open on the campaign's last day. Money is yuan in the ledger and 万元 (4 decimals) in the tables.
Blank is not zero: when a unit has no ledger records of a kind at all, that kind's items are None (the
ledger says nothing); once it has some, an item none of them matches is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from songnuan.archive.models import Household
from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.formkit.definitions import (
    LEDGER_MONEY_MEASURES,
    LEDGER_RECORDS,
    Derivation,
    Form,
    Item,
    ItemKind,
)
from songnuan.formkit.engine import Value as FormValue
from songnuan.ledger.models import Activity, FundSource, HelpItem, HelpRecord, Receipt, Station
from songnuan.orgs.models import Unit

MONEY_PLACES = Decimal("0.0001")
NO_MONEY = Decimal("0.0000")

#: SQL text and its parameters (`%s` placeholders, as Django's cursors take them on every database).
Sql = tuple[str, list[Any]]


class Codes:
    """The ids of the configured help items and fund sources a filter names (by code, or by the 附件1 item
    they count in): one query, made the first time a filter needs it, so the statement compares plain ids."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, int, str, str]] | None = None

    def rows(self) -> list[tuple[str, int, str, str]]:
        """("item" | "source", id, code, form item) of every configured help item and fund source."""
        if self._rows is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 'item', id, code, form_item FROM {HelpItem._meta.db_table} UNION ALL "
                    f"SELECT 'source', id, code, form_item FROM {FundSource._meta.db_table}"
                )
                self._rows = cursor.fetchall()
        return self._rows

    def ids(self, table: str, field: str, codes: Sequence[str]) -> list[int]:
        wanted = set(codes)
        column = 2 if field == "code" else 3
        return sorted(row[1] for row in self.rows() if row[0] == table and row[column] in wanted)


def _in(column: str, values: Sequence[Any]) -> Sql:
    if not values:
        return "1 = 0", []  # a code nothing is configured under: nothing matches
    if len(values) == 1:
        return f"{column} = %s", [values[0]]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _by_id(table: str, field: str, column: str) -> Any:
    return lambda codes, known: _in(column, known.ids(table, field, codes))


def _by_value(column: str) -> Any:
    return lambda codes, _known: _in(column, codes)


#: Per record kind, each filter field of the grammar → its SQL condition, given the codes and `Codes`. The
#: record is `r`; `h` its household (joined only when a filter names the household's category).
_HELP_FIELDS: dict[str, Any] = {
    "item": _by_id("item", "code", "r.item_id"),
    "item_form_item": _by_id("item", "form_item", "r.item_id"),
    "source": _by_id("source", "code", "r.source_id"),
    "source_form_item": _by_id("source", "form_item", "r.source_id"),
    "recipient": _by_value("r.recipient_kind"),
    "household_category": _by_value("h.category"),
    "person_category": _by_value("r.person_category"),
    "enterprise_kind": _by_value("r.enterprise_kind"),
    "channel": _by_value("r.channel"),
}
LOOKUPS: dict[str, dict[str, Any]] = {
    "help": _HELP_FIELDS,
    "receipts": {key: _HELP_FIELDS[key] for key in ("source", "source_form_item")},
    "activities": {"kind": _by_value("r.kind"), "subkind": _by_value("r.subkind")},
    "stations": {},
}
_HOUSEHOLD_FIELDS = frozenset({"household_category"})
_MAX_IN = 500
#: A column another record kind fills: NULL, typed as the column's own aggregate (PostgreSQL will not unite
#: an untyped NULL with a number, and a count united with a NUMERIC NULL would come back as a Decimal).
_NONE_MONEY = "CAST(NULL AS NUMERIC)"
_NONE_COUNT = "CAST(NULL AS BIGINT)"
#: A reversal counts −1 record: a record and its reversal net out.
_NET = "CASE WHEN r.reverses_id IS NULL THEN 1 ELSE -1 END"
#: Neither a reversal nor reversed (`rv`, the record's reversal, joined for the distinct counts).
_LIVE = "r.reverses_id IS NULL AND rv.id IS NULL"
_MODELS: dict[str, type[Model]] = {
    "help": HelpRecord,
    "receipts": Receipt,
    "activities": Activity,
    "stations": Station,
}


@dataclass(frozen=True)
class Scope:
    """Whose records: one unit (`unit`), its subtree (`subtree`), or each of `units` apart (grouped)."""

    unit: Unit | None = None
    subtree: bool = False
    units: tuple[int, ...] | None = None  # derive_units: these units' own records, grouped by unit

    def sql(self) -> Sql:
        if self.unit is not None:
            if not self.subtree:
                return "r.unit_id = %s", [self.unit.pk]
            # Paths are digits and "/" (`orgs.models.path_segment`): nothing in them is a LIKE wildcard.
            return f"r.unit_id IN (SELECT u.id FROM {Unit._meta.db_table} u WHERE u.path LIKE %s)", [
                f"{self.unit.path}%"
            ]
        if self.units is not None and len(self.units) <= _MAX_IN:
            return _in("r.unit_id", self.units)
        return "", []  # every unit (a long list is filtered after the query, not in 4 × n parameters)


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


def _base(campaign: Campaign, records: str) -> Sql:
    """Which rows of a record kind count at all (before the scope and the items' filters)."""
    if records == "help":
        return "r.campaign_id = %s AND r.state = %s", [campaign.pk, HelpRecord.State.APPROVED.value]
    if records == "receipts":
        return "r.campaign_id = %s AND r.kind = %s", [campaign.pk, Receipt.Kind.RAISED.value]
    if records == "activities":
        return "r.campaign_id = %s", [campaign.pk]
    end = connection.ops.adapt_datefield_value(campaign.period_end)
    return "r.opened_on <= %s AND (r.closed_on IS NULL OR r.closed_on > %s)", [end, end]


def _condition(records: str, derivation: Derivation, known: Codes) -> Sql:
    parts: list[str] = []
    params: list[Any] = []
    for field, codes in derivation.where:
        sql, values = LOOKUPS[records][field](list(codes), known)
        parts.append(sql)
        params += values
    return " AND ".join(parts), params


def _aggregate(records: str, derivation: Derivation, known: Codes) -> Sql:
    """One item's aggregate over the rows of its record kind: `FILTER (WHERE …)` its filters."""
    condition, params = _condition(records, derivation, known)
    measure = derivation.measure
    if measure in ("households", "persons"):
        counted = "r.household_id" if measure == "households" else "r.id_number"
        live = _LIVE if measure == "households" else f"{_LIVE} AND r.id_number <> ''"
        where = f"{condition} AND {live}" if condition else live
        return f"COUNT(DISTINCT {counted}) FILTER (WHERE {where})", params
    if measure == "records":
        aggregate = f"SUM({_NET})" if records in ("help", "receipts") else "COUNT(*)"
    elif measure == "value":
        aggregate = "SUM(COALESCE(r.amount, 0) + COALESCE(r.goods_value, 0))"
    else:  # a column of the record, by the grammar's name (amount, goods_quantity, people …)
        field = _MODELS[records]._meta.get_field(measure)
        assert isinstance(field, Field)  # a concrete column, never a relation
        aggregate = f"SUM(r.{field.column})"
    return (f"{aggregate} FILTER (WHERE {condition})", params) if condition else (aggregate, params)


def _select(
    campaign: Campaign,
    form: Form,
    records: str,
    columns: Sequence[str],
    scope: Scope,
    known: Codes,
    *,
    grouped: bool,
) -> Sql:
    """One record kind's part of the statement: its row count and its items' aggregates in their columns, the
    other kinds' columns NULL."""
    selects: list[str] = []
    params: list[Any] = []
    joined_households = joined_reversals = False
    for column in columns:
        if column == f"{records}:":
            selects.append("COUNT(*)")
            continue
        derivation = None if column.endswith(":") else form.item(column).derivation
        if derivation is None or derivation.records != records:
            money = derivation is not None and derivation.measure in LEDGER_MONEY_MEASURES
            selects.append(_NONE_MONEY if money else _NONE_COUNT)
            continue
        sql, values = _aggregate(records, derivation, known)
        selects.append(sql)
        params += values
        joined_households |= any(field in _HOUSEHOLD_FIELDS for field, _codes in derivation.where)
        joined_reversals |= derivation.measure in ("households", "persons")
    table = _MODELS[records]._meta.db_table
    joins = ""
    # Joins, not a subquery per item: one lookup a row instead of one per filter that needs it.
    if joined_households:
        joins += f" LEFT JOIN {Household._meta.db_table} h ON h.id = r.household_id"
    if joined_reversals:
        joins += f" LEFT JOIN {table} rv ON rv.reverses_id = r.id"
    where, where_params = _base(campaign, records)
    within, within_params = scope.sql()
    if within:
        where = f"{where} AND {within}"
    key = "r.unit_id" if grouped else "0"
    sql = f"SELECT {key}, {', '.join(selects)} FROM {table} r{joins} WHERE {where}"
    if grouped:
        sql += " GROUP BY r.unit_id"
    return sql, params + where_params + within_params


def _run(campaign: Campaign, form: Form, scope: Scope, *, grouped: bool = False) -> dict[int, dict[str, Any]]:
    """{group key: {item code or "<kind>:" (the kind's row count): raw aggregate}}; key 0 when not grouped.

    Hand-written SQL rather than the ORM's: on 10,000 units × 1,000,000 records the ORM's spelling (a subquery
    per filter, casts around every sum, NOT IN for reversals) cost 3–15 × a flat GROUP BY; this spelling
    compares plain columns and ids (BENCHMARKS.md, issue 12 (b))."""
    items = [item for item in derivable(form) if not item.derivation.items]  # type: ignore[union-attr]
    kinds = [kind for kind in LEDGER_RECORDS if any(i.derivation.records == kind for i in items)]  # type: ignore[union-attr]
    if not kinds:
        return {}
    columns = [f"{kind}:" for kind in kinds] + [item.code for item in items]
    known = Codes()
    parts = [_select(campaign, form, kind, columns, scope, known, grouped=grouped) for kind in kinds]
    sql = " UNION ALL ".join(part for part, _params in parts)
    params = [value for _part, values in parts for value in values]
    # On a raw cursor: the ORM's per-cell converters cost more than the query on 10,000 units × 50 items,
    # and `_values` turns the few kinds of raw numbers (int, float, Decimal) into the table's values itself.
    with connection.cursor() as cursor:
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
    # scaleb shifts the exponent (exact, and cheaper than dividing by 10,000: 550,000 values for a city).
    return yuan.scaleb(-4).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def _count(raw: Any) -> int:
    return raw if type(raw) is int else int(Decimal(str(raw)).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class _Plan:
    """How a form's raw aggregates become its values, worked out once per form."""

    #: Per record kind ("<kind>:"), its items: (item code, money); all None when the unit keeps none of it.
    direct: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]
    sums: tuple[tuple[str, tuple[str, ...]], ...]  # (item code, the items it adds)


_PLANS: dict[int, tuple[Form, _Plan]] = {}


def _plan(form: Form) -> _Plan:
    known = _PLANS.get(id(form))
    if known is not None and known[0] is form:  # the form kept alive with its plan: its id is its own
        return known[1]
    by_kind: dict[str, list[tuple[str, bool]]] = {}
    sums: list[tuple[str, tuple[str, ...]]] = []
    for item in derivable(form):
        derivation = item.derivation
        assert derivation is not None
        if derivation.items:
            sums.append((item.code, derivation.items))
        else:
            by_kind.setdefault(f"{derivation.records}:", []).append((item.code, item.kind is ItemKind.MONEY))
    plan = _Plan(tuple((kind, tuple(items)) for kind, items in by_kind.items()), tuple(sums))
    _PLANS[id(form)] = (form, plan)
    return plan


def _values(form: Form, raw: Mapping[str, Any]) -> dict[str, FormValue]:
    values: dict[str, FormValue] = {}
    plan = _plan(form)
    for kind, items in plan.direct:
        if not raw.get(kind):
            for code, _money_item in items:
                values[code] = None  # no records of this kind: the ledger says nothing
            continue
        for code, money in items:  # 550,000 values for a city's units: the common cases first
            value = raw.get(code) or 0
            if money:
                values[code] = _money(value) if value else NO_MONEY
            else:
                values[code] = value if type(value) is int else _count(value)
    for code, parts in plan.sums:
        known = [value for part in parts if (value := values.get(part)) is not None]
        values[code] = sum(known[1:], start=known[0]) if known else None
    return values
