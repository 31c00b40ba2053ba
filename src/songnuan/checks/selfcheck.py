"""The self-check (自查): a scan of a unit's ledger and archive (its subtree) in a campaign for breaches
of the money rules, stored as a `SelfCheck` with its `Finding`s, which the unit answers (corrected or
explained).

The rules are data (data/selfcheck.toml: code, title, enabled, thresholds); the caps are the ledger's own
(`HelpItem`) and the archive-first and cap arithmetic is `songnuan.ledger.rules`, as the services apply them
on save. Only standing records count: approved, not reversed, not a reversal.

Each rule family is a few queries over the subtree that return the breaches only (the database narrows, and
where the rule's arithmetic is the ledger's, Python confirms the few rows with `rules`), never a query per
record: a campaign may hold a million help records. The files of the households the records helped are read
from the archive once a scan, into a temporary table (`helped_files`), and the rules on files join that.
Messages name the household or person (ID numbers masked), the record and its payment; never a full ID, phone
or card number.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest, Trim
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone
from songnuan.archive.models import Household, Plan
from songnuan.campaigns.models import Campaign
from songnuan.checks.models import Finding, HelpedFile, ScannedRecord, SelfCheck, SelfCheckEvent
from songnuan.ledger import rules as money
from songnuan.ledger.models import BatchLine, FundSource, HelpItem, HelpRecord, PaymentBatch
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_answer_finding, may_run_self_check
from songnuan.orgs.selectors import unit_subtree

CONFIG_FILE = Path(__file__).resolve().parent / "data" / "selfcheck.toml"
#: Finding rows written per INSERT.
BULK = 1000
#: Ids per `IN (…)` list: well below SQLite's limit on parameters.
CHUNK = 500


class SelfCheckError(Exception):
    """A refused self-check step; `message` is for the user (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the rules as data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    enabled: bool
    thresholds: dict[str, Any]


@cache
def configured_rules() -> dict[str, Rule]:
    """The rules of data/selfcheck.toml by code, in the file's order (read once)."""
    with CONFIG_FILE.open("rb") as file:
        raw = tomllib.load(file)
    return {
        entry["code"]: Rule(
            code=entry["code"],
            title=entry["title"],
            enabled=bool(entry.get("enabled", True)),
            thresholds=dict(entry.get("thresholds", {})),
        )
        for entry in raw["rules"]
    }


def enabled_rules() -> list[Rule]:
    return [rule for rule in configured_rules().values() if rule.enabled]


def threshold(code: str, name: str) -> Any:
    return configured_rules()[code].thresholds[name]


# --- what a scan finds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    """One finding before it is stored: the rule, the unit answerable for it, the message, the records."""

    code: str
    unit_id: int
    message: str
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def record_ids(self) -> tuple[tuple[str, int], ...]:
        return tuple((one["kind"], one["id"]) for one in self.records)


@dataclass
class Scope:
    campaign: Campaign
    unit: Unit
    #: Whether the scope's `HelpedFile`s are in their temporary table now (`helped_files`).
    files_open: bool = field(default=False, init=False)

    @cached_property
    def whole_tree(self) -> bool:
        return self.unit.holds_every_unit()

    @cached_property
    def bound_sources(self) -> list[int]:
        """The funds the archive-first rule binds, by id: a constant list in the records' conditions rather
        than a join to the funds per record (0 stands for none, so the list is never empty). Read once a
        scan."""
        return list(FundSource.objects.filter(archive_first=True).values_list("pk", flat=True)) or [0]

    @cached_property
    def items(self) -> dict[int, HelpItem]:
        """The help items and their caps, read once a scan."""
        return {item.pk: item for item in HelpItem.objects.all()}


def _standing[M: (HelpRecord, ScannedRecord)](model: type[M], scope: Scope) -> QuerySet[M]:
    records = model.objects.filter(HelpRecord.standing(), campaign=scope.campaign)
    if scope.whole_tree:
        return records  # no condition on the unit: the database reads the campaign's records in order
    # The subtree as a subquery: one semi-join, not a join of the units per record.
    return records.filter(unit__in=unit_subtree(scope.unit).values("pk"))


def standing(scope: Scope) -> QuerySet[HelpRecord]:
    """The subtree's help records of the campaign that still stand: approved, not reversed, not a reversal."""
    return _standing(HelpRecord, scope)


def scanned(scope: Scope) -> QuerySet[ScannedRecord]:
    """`standing(scope)` with each record's household read from the scope's `HelpedFile`s: only inside
    `helped_files(scope)`."""
    return _standing(ScannedRecord, scope)


#: PostgreSQL's memory for each hash and sort of a scan's queries (`work_mem`, per node and worker).
SCAN_WORK_MEM = "64MB"

#: The temporary table of the helped households' ids, while their files are copied.
HELPED_HOUSEHOLDS = "checks_helped_household"

#: The archive's columns a scan reads, copied into the temporary table under the same names.
FILE_COLUMNS = tuple(
    model_field.attname
    for model_field in HelpedFile._meta.concrete_fields
    if model_field.name not in ("plan", "plan_complete")
)
#: The four parts of a 四明确 plan and their names (those of `Plan.missing`).
PLAN_PARTS = {
    "contact": gettext_lazy("联系人（单位）"),
    "deadline": gettext_lazy("期限"),
    "measures": gettext_lazy("措施"),
    "path": gettext_lazy("路径"),
}


def _plan_complete() -> Q:
    return Q(plan__isnull=False, plan__deadline__isnull=False) & ~Q(
        Q(plan__contact="") | Q(plan__measures="") | Q(plan__path="")
    )


@contextmanager
def helped_files(scope: Scope) -> Iterator[None]:
    """The files of the households the scope's standing records helped, copied into `HelpedFile`'s temporary
    table (the archive read once, where each rule on files read it again) for the length of the block; an
    open table is used as it is. Dropped at the end; on an error the savepoint's rollback takes it with it."""
    if scope.files_open:
        yield
        return
    quote = connection.ops.quote_name
    households = quote(HELPED_HOUSEHOLDS)
    helped = standing(scope).filter(household_id__isnull=False).values("household_id").distinct().order_by()
    files = (
        Household.objects.filter(pk__in=RawSQL(f"SELECT household_id FROM {households}", ()))
        .annotate(
            plan_id=F("plan__id"),
            plan_complete=ExpressionWrapper(_plan_complete(), output_field=BooleanField()),
        )
        .values(*FILE_COLUMNS, "plan_id", "plan_complete")
        .order_by()
    )
    table = quote(HelpedFile._meta.db_table)
    index = quote(f"{HelpedFile._meta.db_table}_id")
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Till the transaction ends. At the default 4 MB the hashes of a national campaign's records
                # spill: 8 batches of the 5.5 million files written to disk and read back (≈ 600 MB).
                cursor.execute(f"SET LOCAL work_mem = '{SCAN_WORK_MEM}'")
            # The households first, on their own and analysed: asked in one statement, the database guesses
            # the records name 2.6 times as many households as they do, and hashes the whole archive (2.6 s
            # of 3.9 at the national size) where it can walk it by key (0.7 s).
            sql, params = helped.query.sql_with_params()
            cursor.execute(f"CREATE TEMPORARY TABLE {households} AS {sql}", params)
            cursor.execute(f"ANALYZE {households}")
            sql, params = files.query.sql_with_params()
            cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql}", params)
            cursor.execute(f"DROP TABLE {households}")
            cursor.execute(f"CREATE UNIQUE INDEX {index} ON {table} (id)")
            # Nothing else analyses a temporary table, and the joins' plans need its statistics.
            cursor.execute(f"ANALYZE {table}")
        scope.files_open = True
        try:
            yield
        finally:
            scope.files_open = False
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table}")


#: What every message about a record needs, read with it (one row, no further query).
RECORD_FIELDS = (
    "pk",
    "unit_id",
    "unit__path",
    "name",
    "id_number",
    "household_id",
    "paid_on",
    "item__name",
    "source__name",
    "amount",
    "goods_value",
)


def _value_expression() -> Any:
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
    return models.ExpressionWrapper(
        Coalesce(F("amount"), zero) + Coalesce(F("goods_value"), zero),
        output_field=DecimalField(max_digits=15, decimal_places=2),
    )


def _yuan(value: Any) -> Decimal:
    """A money value as the database returned it (SQLite may compute sums in binary), to the cent."""
    return Decimal(str(value or 0)).quantize(money.CENT)


def _value(row: dict[str, Any]) -> Decimal:
    return _yuan(row["amount"]) + _yuan(row["goods_value"])


class Words:
    """The templates findings are worded with, translated once per rule rather than once per finding:
    gettext costs ≈ 10 µs a call, and a scan may word tens of thousands of findings."""

    def __init__(self) -> None:
        self.person = _("{name}（身份证号 {id}）")
        self.payment = _("{who} {day}“{item}”{value} 元（发放记录 {id}）")

    def who(self, name: str, id_number: str) -> str:
        return self.person.format(name=name, id=mask_id_number(id_number)) if id_number else name

    def record(self, row: dict[str, Any]) -> str:
        """王建国（身份证号 4208**********1234）2018-01-25 “节日慰问” 1000.00 元（发放记录 12）."""
        return self.payment.format(
            who=self.who(row["name"], row["id_number"]),
            day=row["paid_on"],
            item=row["item__name"],
            value=_value(row),
            id=row["pk"],
        )


def _help(pk: int) -> dict[str, Any]:
    return {"kind": "help", "id": pk}


def _household(pk: int) -> dict[str, Any]:
    return {"kind": "household", "id": pk}


def _common_unit(paths: Iterable[str]) -> int:
    """The id of the lowest unit above (or at) every one of `paths`: who answers for a finding that spans
    several units of the subtree."""
    segments = [path.rstrip("/").split("/") for path in paths]
    common: list[str] = []
    for parts in zip(*segments, strict=False):
        if any(part != parts[0] for part in parts):
            break
        common.append(parts[0])
    return int(common[-1])


def _chunks[T](ids: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# --- one pass over the records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRule:
    """Rules judged on one standing record at a time. `narrow` picks, in SQL, the records that may breach
    them (None: none can — e.g. no item has a cap); `judge` finds the breaches among the records picked, in
    Python where the rule's arithmetic is the ledger's; `fields` are what the judge reads besides
    RECORD_FIELDS. Every such rule of a scan shares one query: a campaign's records are read once, not once a
    rule."""

    codes: tuple[str, ...]
    narrow: Callable[[Scope], Q | None]
    judge: Callable[[Scope, list[dict[str, Any]]], list[Breach]]
    fields: tuple[str, ...] = ()


def _annotations() -> dict[str, Any]:
    """Values the rules' conditions read, computed by the database (native functions on both)."""
    return {
        "paid_value": _value_expression(),
        "reason": Trim("cash_reason"),
        "reviewed": Coalesce("household__last_reviewed_at", "household__filed_at"),
    }


def record_pass(scope: Scope, rules: Sequence[RecordRule]) -> list[Breach]:
    """The breaches of `rules` in one query: the records any of them picks, each row flagged with the rules
    that picked it, and each rule judging its own rows."""
    narrowed = [(rule, condition) for rule in rules if (condition := rule.narrow(scope)) is not None]
    if not narrowed:
        return []
    flags = {
        f"picked_{index}": ExpressionWrapper(condition, output_field=BooleanField())
        for index, (_rule, condition) in enumerate(narrowed)
    }
    fields = list(dict.fromkeys([*RECORD_FIELDS, *(name for rule, _ in narrowed for name in rule.fields)]))
    rows = (
        scanned(scope)
        .annotate(**_annotations())
        .filter(functools.reduce(operator.or_, (condition for _rule, condition in narrowed)))
        .annotate(**flags)
        .values(*fields, *flags)
        .order_by("pk")
    )
    picked: list[list[dict[str, Any]]] = [[] for _ in narrowed]
    names = list(flags)
    with helped_files(scope):
        for row in rows:
            for index, name in enumerate(names):
                if row[name]:
                    picked[index].append(row)
    found: list[Breach] = []
    for (rule, _condition), its_rows in zip(narrowed, picked, strict=True):
        found += rule.judge(scope, its_rows)
    return found


# --- 依档帮扶: bound money to someone not on file at the payment --------------------------------------------


def _bound_narrow(scope: Scope) -> Q:
    # Filed after the payment means filed after the campaign's first day (payments fall in its period): a
    # bound by a constant, so the database compares plain columns; the judge takes the filing date in China
    # time, as `rules.file_open_on` does.
    first_late = dt.datetime.combine(
        scope.campaign.period_start + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    return Q(source_id__in=scope.bound_sources) & (
        Q(household__isnull=True)
        | Q(household__filed_at__isnull=True)
        | Q(household__filed_at__gte=first_late)
        | Q(household__ended_on__lte=F("paid_on"))
    )


def _bound_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words = Words()
    found: list[Breach] = []
    for row in rows:
        filed_at, ended_on, day = row["household__filed_at"], row["household__ended_on"], row["paid_on"]
        filed_on = None if filed_at is None else timezone.localdate(filed_at)
        if row["household_id"] is not None and money.file_open_on(filed_on, ended_on, day):
            continue  # filed before the payment, open on its day
        what = words.record(row)
        if row["household_id"] is None:
            code = "bound-unfiled"
            message = _("{what}：“{source}”发给了{kind}，中央和省级帮扶资金只能发给建档困难职工家庭").format(
                what=what,
                source=row["source__name"],
                kind=HelpRecord.RecipientKind(row["recipient_kind"]).label,
            )
        elif filed_on is None:
            code = "bound-unfiled"
            message = _("{what}：档案尚未审核建档，却使用了“{source}”").format(
                what=what, source=row["source__name"]
            )
        elif filed_on > day:
            code = "bound-filed-late"
            message = _("{what}：档案 {filed} 才建档，晚于发放日期，“{source}”须先建档、后帮扶").format(
                what=what, filed=filed_on, source=row["source__name"]
            )
        else:
            code = "bound-file-ended"
            status = _("已解困脱困") if row["household__status"] == Household.Status.OUT else _("已注销")
            message = _("{what}：档案 {ended} {status}，发放时已不在档，不能使用“{source}”").format(
                what=what, ended=ended_on, status=status, source=row["source__name"]
            )
        found.append(Breach(code, row["unit_id"], message, [_help(row["pk"])]))
    return found


BOUND_TO_FILES = RecordRule(
    ("bound-unfiled", "bound-filed-late", "bound-file-ended"),
    _bound_narrow,
    _bound_judge,
    ("recipient_kind", "household__filed_at", "household__ended_on", "household__status"),
)


def scan_archive_first(scope: Scope) -> list[Breach]:
    """Bound money (FundSource.archive_first) to a person or enterprise, to a household never filed
    (bound-unfiled), filed after the payment date (bound-filed-late), or whose file had ended by then
    (bound-file-ended): `rules.file_open_on`, the filing date taken in China time."""
    return record_pass(scope, [BOUND_TO_FILES])


# --- cash ---------------------------------------------------------------------------------------------------


def _cash_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words, bound = Words(), set(scope.bound_sources)
    bound_cash = _("{what}：“{source}”以现金发放，中央和省级帮扶资金须通过阳光5·1卡或银行卡发放")
    no_reason = _("{what}：现金发放，未写明原因")
    found: list[Breach] = []
    for row in rows:
        if row["source_id"] in bound:
            message = bound_cash.format(what=words.record(row), source=row["source__name"])
            found.append(Breach("cash-bound", row["unit_id"], message, [_help(row["pk"])]))
        else:
            message = no_reason.format(what=words.record(row))
            found.append(Breach("cash-no-reason", row["unit_id"], message, [_help(row["pk"])]))
    return found


CASH = RecordRule(
    ("cash-bound", "cash-no-reason"),
    lambda scope: Q(channel=HelpRecord.Channel.CASH) & (Q(source_id__in=scope.bound_sources) | Q(reason="")),
    _cash_judge,
    ("source_id",),
)


def scan_cash(scope: Scope) -> list[Breach]:
    """Cash from a bound source (cash-bound); cash from any other source without a reason (cash-no-reason),
    as the services refuse them."""
    return record_pass(scope, [CASH])


# --- the same household helped twice for the same item ------------------------------------------------------


def scan_repeats(scope: Scope) -> list[Breach]:
    """A household with two or more standing records of one item in the campaign, within the subtree
    (repeat-item): one finding per household and item, naming every record. The repeated (household, item)
    pairs by one count (hashed, not a look for a twin per record), then their records, 500 households a
    query."""
    words = Words()
    helped = standing(scope).filter(household__isnull=False)
    repeated = set(
        helped.values("household_id", "item_id")
        .annotate(records=Count("pk"))
        .filter(records__gt=1)
        .values_list("household_id", "item_id")
        .order_by()
    )
    households = sorted({household for household, _item in repeated})
    rows = [
        row
        for ids in _chunks(households)
        for row in helped.filter(household_id__in=ids).values(*RECORD_FIELDS, "item_id")
        if (row["household_id"], row["item_id"]) in repeated
    ]
    rows.sort(key=lambda row: (row["household_id"], row["item_id"], row["paid_on"], row["pk"]))
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["household_id"], row["item_id"]), []).append(row)
    found: list[Breach] = []
    for group in groups.values():
        first = group[0]
        message = _("{who}在本次活动中{count}次领取“{item}”：{records}").format(
            who=words.who(first["name"], first["id_number"]),
            count=len(group),
            item=first["item__name"],
            records="；".join(
                _("{day} {value} 元（发放记录 {id}）").format(day=r["paid_on"], value=_value(r), id=r["pk"])
                for r in group
            ),
        )
        found.append(
            Breach(
                "repeat-item",
                _common_unit(r["unit__path"] for r in group),
                message,
                [_household(first["household_id"])] + [_help(r["pk"]) for r in group],
            )
        )
    return found


# --- caps ---------------------------------------------------------------------------------------------------


def caps_in_force() -> dict[str, dict[str, str]]:
    """The items' caps as configured now: what the cap rules ran with (stored in the summary)."""
    return {
        item.code: {
            "basis": item.cap_basis,
            "per_payment": "" if item.per_payment is None else str(item.per_payment),
            "per_year": "" if item.per_year is None else str(item.per_year),
        }
        for item in HelpItem.objects.all()
        if item.cap_basis or item.per_payment is not None or item.per_year is not None
    }


def _payment_over(item: HelpItem) -> Q | None:
    """Where a payment of `item` is over its per-payment cap (`rules.cap_for`), as a condition; None: the
    item has no such cap."""
    conditions: list[Q] = []
    if item.per_payment is not None:
        conditions.append(Q(paid_value__gt=item.per_payment))
    if item.cap_basis == HelpItem.CapBasis.COST:
        conditions.append(Q(cost_basis__isnull=False, paid_value__gt=F("cost_basis")))
    elif item.cap_basis == HelpItem.CapBasis.LIVING_LINE_10_MONTHS:
        conditions.append(
            Q(
                household__minimum_living_line__isnull=False,
                paid_value__gt=F("household__minimum_living_line") * 10,
            )
        )
    if not conditions:
        return None
    over = conditions[0]
    for condition in conditions[1:]:
        over |= condition
    return Q(item_id=item.pk) & over


def _year_over(item: HelpItem) -> Q | None:
    """Where a household's yearly total of `item` (`total`) is over its per-year cap, as a condition."""
    conditions: list[Q] = []
    if item.per_year is not None:
        conditions.append(Q(total__gt=item.per_year))
    if item.cap_basis == HelpItem.CapBasis.LIVING_LINE_YEAR:
        line_cap = (
            F("household__minimum_living_line") * 12 * Greatest(F("household__household_size"), Value(1))
        )
        conditions.append(Q(household__minimum_living_line__isnull=False, total__gt=line_cap))
    if not conditions:
        return None
    over = conditions[0]
    for condition in conditions[1:]:
        over |= condition
    return Q(item_id=item.pk) & over


def _cap(item: HelpItem, living_line: Any, size: Any, cost: Any) -> money.Cap:
    return money.cap_for(
        item.cap_basis,
        per_payment=item.per_payment,
        per_year=item.per_year,
        living_line=None if living_line is None else _yuan(living_line),
        household_size=size,
        cost=None if cost is None else _yuan(cost),
    )


def _payment_caps_narrow(scope: Scope) -> Q | None:
    conditions = [c for c in (_payment_over(item) for item in scope.items.values()) if c is not None]
    if not conditions:
        return None
    return ~Q(recipient_kind=HelpRecord.RecipientKind.ENTERPRISE) & functools.reduce(operator.or_, conditions)


def _payment_caps_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words, text = Words(), _("{what}：超过“{item}”单次限额 {cap} 元")
    items = scope.items
    found: list[Breach] = []
    for row in rows:
        item = items[row["item_id"]]
        cap = _cap(
            item, row["household__minimum_living_line"], row["household__household_size"], row["cost_basis"]
        )
        if cap.per_payment is None or _value(row) <= cap.per_payment:
            continue
        message = text.format(what=words.record(row), item=item.name, cap=cap.per_payment)
        found.append(Breach("cap-payment", row["unit_id"], message, [_help(row["pk"])]))
    return found


PAYMENT_CAPS = RecordRule(
    ("cap-payment",),
    _payment_caps_narrow,
    _payment_caps_judge,
    ("item_id", "cost_basis", "household__minimum_living_line", "household__household_size"),
)


def scan_caps(scope: Scope) -> list[Breach]:
    """Payments over the item's per-payment cap (cap-payment), and households whose year's total of an item
    (any campaign, any unit: the cap is the household's) is over the per-year cap (cap-year), the caps as the
    ledger configures them (`rules.cap_for`); enterprises have no caps."""
    return record_pass(scope, [PAYMENT_CAPS]) + scan_year_caps(scope)


def scan_year_caps(scope: Scope) -> list[Breach]:
    """cap-year: one query a calendar year the campaign spans (usually one), one per 500 households over."""
    words = Words()
    items = scope.items
    capped = {pk: condition for pk, item in items.items() if (condition := _year_over(item)) is not None}
    if not capped:
        return []
    over = functools.reduce(operator.or_, capped.values())
    by_living_line = any(items[pk].cap_basis == HelpItem.CapBasis.LIVING_LINE_YEAR for pk in capped)
    household_columns = (
        ("household__minimum_living_line", "household__household_size") if by_living_line else ()
    )
    campaign = scope.campaign
    over_caps: dict[tuple[int, int, int], tuple[Decimal, Decimal]] = {}
    # A query a year, the year a range of plain dates: no date function per record (SQLite's are Python).
    # The households are those on a HelpedFile (the scope helped them; the join is an inner one: a file's
    # size is never blank), the living lines theirs. A household over a cap the scope paid it nothing of is
    # dropped below, where the scope's payments are read: a finding names them.
    for year in range(campaign.period_start.year, campaign.period_end.year + 1):
        totals = (
            ScannedRecord.objects.filter(
                HelpRecord.standing(),
                household__household_size__isnull=False,
                item_id__in=list(capped),  # only items with a yearly cap: the rest can never be over one
                paid_on__gte=dt.date(year, 1, 1),
                paid_on__lte=dt.date(year, 12, 31),
            )
            .values("household_id", "item_id", *household_columns)
            .annotate(total=Sum(_value_expression()))
            .filter(over)
            .order_by()
        )
        with helped_files(scope), _without_merge_joins():
            year_totals = list(totals)
        for year_total in year_totals:
            item = items[year_total["item_id"]]
            year_cap = _cap(
                item,
                year_total.get("household__minimum_living_line"),
                year_total.get("household__household_size"),
                None,
            ).per_year
            total = _yuan(year_total["total"])
            if year_cap is not None and total > year_cap:
                over_caps[(year_total["household_id"], year_total["item_id"], year)] = (total, year_cap)
    if not over_caps:
        return []
    households = sorted({household for household, _item, _year in over_caps})
    in_scope: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for ids in _chunks(households):
        rows = (
            standing(scope)
            .filter(household_id__in=ids)
            .values(*RECORD_FIELDS, "item_id")
            .order_by("paid_on", "pk")
        )
        for row in rows:
            key = (row["household_id"], row["item_id"], row["paid_on"].year)
            if key in over_caps:
                in_scope.setdefault(key, []).append(row)
    found: list[Breach] = []
    for key, group in sorted(in_scope.items()):
        total, cap_per_year = over_caps[key]
        first = group[0]
        message = _(
            "{who}{year}年共领取“{item}”{total} 元，超过每户每年限额 {cap} 元；本次活动的发放：{records}"
        ).format(
            who=words.who(first["name"], first["id_number"]),
            year=key[2],
            item=first["item__name"],
            total=total,
            cap=cap_per_year,
            records="；".join(
                _("{day} {value} 元（发放记录 {id}）").format(day=r["paid_on"], value=_value(r), id=r["pk"])
                for r in group
            ),
        )
        found.append(
            Breach(
                "cap-year",
                _common_unit(r["unit__path"] for r in group),
                message,
                [_household(key[0])] + [_help(r["pk"]) for r in group],
            )
        )
    return found


@contextmanager
def _without_merge_joins() -> Iterator[None]:
    """PostgreSQL plans no merge join in the block (inside a transaction). The yearly totals join the records
    to the helped files by household: a merge join walks the records' household index and fetches every
    record it passes one page at a time (3–4 × the hash join when the helped households are the archive's
    first), and the planner counts on stopping early."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_mergejoin = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_mergejoin TO DEFAULT")


# --- cards and phones ---------------------------------------------------------------------------------------


def shared_by_households(records: QuerySet[HelpRecord], key: str, least: int) -> list[Any]:
    """The values of `key` that `least` or more distinct households of `records` share, sorted.

    The distinct (household, value) pairs first, then a plain count per value: both databases hash that,
    where COUNT(DISTINCT …) per value makes PostgreSQL sort every pair (to disk at a million records)."""
    pairs = records.annotate(shared_key=F(key)).values("household_id", "shared_key").distinct().order_by()
    sql, params = pairs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT shared_key FROM ({sql}) pairs GROUP BY shared_key HAVING COUNT(*) >= %s "
            "ORDER BY shared_key",
            (*params, least),
        )
        return [value for (value,) in cursor.fetchall()]


def scan_cards(scope: Scope) -> list[Breach]:
    """One card number in the campaign's standing payments to two or more households (card-shared): one
    finding per card. Two queries: the cards, then their records."""
    words = Words()
    base = standing(scope).filter(household__isnull=False).exclude(card_number="")
    rows = [
        row
        for cards in _chunks(shared_by_households(base, "card_number", 2))
        for row in base.filter(card_number__in=cards).values(*RECORD_FIELDS, "card_number")
    ]
    rows.sort(key=lambda row: (row["card_number"], row["household_id"], row["pk"]))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["card_number"], []).append(row)
    found: list[Breach] = []
    for card, group in groups.items():
        households: dict[int, dict[str, Any]] = {}
        for row in group:
            households.setdefault(row["household_id"], row)
        message = _("卡号 {card} 用于{count}户的发放：{who}").format(
            card=mask_card(card),
            count=len(households),
            who="、".join(words.who(r["name"], r["id_number"]) for r in households.values()),
        )
        found.append(
            Breach(
                "card-shared",
                _common_unit(r["unit__path"] for r in group),
                message,
                [_household(pk) for pk in households] + [_help(r["pk"]) for r in group],
            )
        )
    return found


def scan_phones(scope: Scope) -> list[Breach]:
    """One phone number on the files of `threshold` households or more that the campaign's standing records
    helped in the subtree (phone-shared): one finding per number. Two queries over the campaign's records,
    never over the whole archive — a national archive holds millions of files the campaign did not touch."""
    words = Words()
    least = int(threshold("phone-shared", "households"))
    # The helped households' files are one row a household: a plain count a phone.
    with helped_files(scope):
        shared = (
            HelpedFile.objects.exclude(phone="")
            .values("phone")
            .annotate(households=Count("pk"))
            .filter(households__gte=least)
            .order_by("phone")
        )
        rows = [
            row
            for phones in _chunks([entry["phone"] for entry in shared])
            for row in HelpedFile.objects.filter(phone__in=phones).values(
                "pk", "phone", "head_name", "head_id_number", "unit__path"
            )
        ]
    rows.sort(key=lambda row: (row["phone"], row["pk"]))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["phone"], []).append(dict(row))
    found: list[Breach] = []
    for phone, group in groups.items():
        message = _(
            "手机号 {phone} 登记在本次活动受助的{count}户的档案中（达到 {least} 户即列出）：{who}"
        ).format(
            phone=mask_phone(phone),
            count=len(group),
            least=least,
            who="、".join(words.who(r["head_name"], r["head_id_number"]) for r in group),
        )
        found.append(
            Breach(
                "phone-shared",
                _common_unit(r["unit__path"] for r in group),
                message,
                [_household(r["pk"]) for r in group],
            )
        )
    return found


# --- evidence and the bank ----------------------------------------------------------------------------------


def _evidence_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words, text = Words(), _("{what}：没有上传凭证（签收表、照片）")
    return [
        Breach("no-evidence", row["unit_id"], text.format(what=words.record(row)), [_help(row["pk"])])
        for row in rows
    ]


NO_EVIDENCE = RecordRule(
    ("no-evidence",),
    lambda scope: Q(evidence="") | Q(evidence__isnull=True),
    _evidence_judge,
)


def scan_evidence(scope: Scope) -> list[Breach]:
    """Standing records without evidence (签收表、照片) attached (no-evidence)."""
    return record_pass(scope, [NO_EVIDENCE])


def scan_bank(scope: Scope) -> list[Breach]:
    """A bank batch line the bank's return file settled as paid (in a batch not cancelled) whose amount is not
    the record's (bank-amount-differs). The return file's amount must equal the line's to be taken, so the
    line's amount is what the bank paid. One query."""
    words = Words()
    lines = (
        # Read from the lines (few), the record's standing spelled on the join: not the campaign's records
        # first and their lines after.
        BatchLine.objects.filter(
            HelpRecord.standing("record"),
            outcome=BatchLine.Outcome.PAID,
            record__campaign=scope.campaign,
        )
        .filter(Q() if scope.whole_tree else Q(record__unit__path__startswith=scope.unit.path))
        .exclude(batch__state=PaymentBatch.State.CANCELLED)
        .filter(Q(record__amount__isnull=True) | ~Q(amount=F("record__amount")))
        .values(
            "pk",
            "amount",
            "batch__number",
            "seq",
            *(f"record__{name}" for name in RECORD_FIELDS),
        )
        .order_by("record_id", "pk")
    )
    found: list[Breach] = []
    for line in lines:
        row = {name: line[f"record__{name}"] for name in RECORD_FIELDS}
        message = _("{what}：银行代发批次 {batch} 第 {seq} 笔到账 {paid} 元，与记录金额不符").format(
            what=words.record(row), batch=line["batch__number"], seq=line["seq"], paid=_yuan(line["amount"])
        )
        found.append(Breach("bank-amount-differs", row["unit_id"], message, [_help(row["pk"])]))
    return found


# --- the files of the households helped ---------------------------------------------------------------------


def scan_files(scope: Scope) -> list[Breach]:
    """Filed households the campaign's standing records helped: whose last yearly review (or filing) was more
    than `days` before a payment (review-stale), and which have no complete 四明确 plan (no-plan). One
    finding per household, naming its records.

    Only the latest review is stored on the file: a review after the payment hides whether there was one in
    the year before it, so such a household is not listed (the rule never accuses wrongly)."""
    rules = configured_rules()
    return record_pass(scope, [rule for rule in (STALE_REVIEWS, NO_PLAN) if rules[rule.codes[0]].enabled])


def _stale_narrow(scope: Scope) -> Q:
    # Narrowed in the database by a constant (the latest payment date the campaign allows), confirmed per
    # payment by the judge: date arithmetic on a column differs between SQLite and PostgreSQL.
    latest = scope.campaign.period_end - dt.timedelta(days=int(threshold("review-stale", "days")))
    before = dt.datetime.combine(latest, dt.time(), tzinfo=timezone.get_current_timezone())
    return Q(household__status=Household.Status.FILED, reviewed__lt=before)


def _stale_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words = Words()
    days = int(threshold("review-stale", "days"))
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["household_id"], r["paid_on"], r["pk"])):
        reviewed_on = timezone.localdate(row["reviewed"])
        if row["paid_on"] - reviewed_on > dt.timedelta(days=days):
            groups.setdefault(row["household_id"], []).append(row)
    found: list[Breach] = []
    for household_id, group in groups.items():
        first = group[0]
        message = _("{who}：最近一次年审（或建档）是 {reviewed}，距发放已超过 {days} 天：{records}").format(
            who=words.who(first["household__head_name"], first["household__head_id_number"]),
            reviewed=timezone.localdate(first["reviewed"]),
            days=days,
            records="；".join(
                _("{day}“{item}”{value} 元（发放记录 {id}）").format(
                    day=r["paid_on"], item=r["item__name"], value=_value(r), id=r["pk"]
                )
                for r in group
            ),
        )
        found.append(
            Breach(
                "review-stale",
                first["household__unit_id"],
                message,
                [_household(household_id)] + [_help(r["pk"]) for r in group],
            )
        )
    return found


_FILE_FIELDS = ("household__head_name", "household__head_id_number", "household__unit_id")
STALE_REVIEWS = RecordRule(("review-stale",), _stale_narrow, _stale_judge, ("reviewed", *_FILE_FIELDS))


def _plans_narrow(scope: Scope) -> Q:
    return Q(household__status=Household.Status.FILED, household__plan_complete=False)


def _plans_judge(scope: Scope, rows: list[dict[str, Any]]) -> list[Breach]:
    words = Words()
    no_plan = _("{who}：已建档并在本次活动中受助（发放记录 {ids}），没有“四明确”帮扶计划")
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["household_id"], r["pk"])):
        groups.setdefault(row["household_id"], []).append(row)
    plan_ids = sorted({row["household__plan"] for row in rows if row["household__plan"] is not None})
    plans = {
        plan["pk"]: plan
        for chunk in _chunks(plan_ids)
        for plan in Plan.objects.filter(pk__in=chunk).values("pk", *PLAN_PARTS)
    }
    found: list[Breach] = []
    for household_id, group in groups.items():
        first = group[0]
        who = words.who(first["household__head_name"], first["household__head_id_number"])
        ids = "、".join(str(r["pk"]) for r in group)
        if first["household__plan"] is None:
            message = no_plan.format(who=who, ids=ids)
        else:
            plan = plans[first["household__plan"]]
            missing = "、".join(str(label) for part, label in PLAN_PARTS.items() if not plan[part])
            message = _(
                "{who}：已建档并在本次活动中受助（发放记录 {ids}），“四明确”帮扶计划缺{missing}"
            ).format(who=who, ids=ids, missing=missing)
        found.append(
            Breach(
                "no-plan",
                first["household__unit_id"],
                message,
                [_household(household_id)] + [_help(r["pk"]) for r in group],
            )
        )
    return found


NO_PLAN = RecordRule(
    ("no-plan",),
    _plans_narrow,
    _plans_judge,
    (*_FILE_FIELDS, "household__plan"),
)


# --- the scan -----------------------------------------------------------------------------------------------

#: Each family and the rule codes it reports (what the tests and the benchmark take one at a time).
FAMILIES: tuple[tuple[Callable[[Scope], list[Breach]], tuple[str, ...]], ...] = (
    (scan_archive_first, ("bound-unfiled", "bound-filed-late", "bound-file-ended")),
    (scan_cash, ("cash-bound", "cash-no-reason")),
    (scan_repeats, ("repeat-item",)),
    (scan_caps, ("cap-payment", "cap-year")),
    (scan_cards, ("card-shared",)),
    (scan_phones, ("phone-shared",)),
    (scan_evidence, ("no-evidence",)),
    (scan_bank, ("bank-amount-differs",)),
    (scan_files, ("review-stale", "no-plan")),
)


#: The rules judged one record at a time: a scan reads the campaign's records for all of them at once.
RECORD_RULES = (BOUND_TO_FILES, CASH, PAYMENT_CAPS, NO_EVIDENCE, STALE_REVIEWS, NO_PLAN)
#: The families that compare records with each other (or with the bank's lines): a query or two each.
SET_FAMILIES: tuple[tuple[Callable[[Scope], list[Breach]], tuple[str, ...]], ...] = (
    (scan_repeats, ("repeat-item",)),
    (scan_year_caps, ("cap-year",)),
    (scan_cards, ("card-shared",)),
    (scan_phones, ("phone-shared",)),
    (scan_bank, ("bank-amount-differs",)),
)


def scan(campaign: Campaign, unit: Unit) -> list[Breach]:
    """Every enabled rule over `unit`'s subtree in `campaign`. Reads only (a temporary table aside); asks no
    permission."""
    enabled = {rule.code for rule in enabled_rules()}
    scope = Scope(campaign, unit)
    with helped_files(scope):  # the archive read once for every rule on files
        found = record_pass(scope, [rule for rule in RECORD_RULES if enabled.intersection(rule.codes)])
        for family, codes in SET_FAMILIES:
            if enabled.intersection(codes):
                found += family(scope)
    return [breach for breach in found if breach.code in enabled]


def summary_of(found: Sequence[Breach]) -> dict[str, Any]:
    """{code: findings} for every enabled rule, and "thresholds": what the rules ran with (the caps too)."""
    counts: dict[str, Any] = {rule.code: 0 for rule in enabled_rules()}
    for breach in found:
        counts[breach.code] += 1
    thresholds: dict[str, Any] = {
        rule.code: dict(rule.thresholds) for rule in enabled_rules() if rule.thresholds
    }
    if "cap-payment" in counts or "cap-year" in counts:
        thresholds["caps"] = caps_in_force()
    thresholds["bound_sources"] = sorted(
        FundSource.objects.filter(archive_first=True).values_list("code", flat=True)
    )
    counts["thresholds"] = thresholds
    return counts


# --- services -----------------------------------------------------------------------------------------------


def self_check_run(*, user: User, campaign: Campaign, unit: Unit) -> SelfCheck:
    """Scan `unit`'s subtree in `campaign` and store what was found, in one transaction."""
    if not may_run_self_check(user, unit):
        raise PermissionDenied(_("您无权对{unit}进行自查").format(unit=unit.name))
    with transaction.atomic():
        found = scan(campaign, unit)
        check = SelfCheck.objects.create(campaign=campaign, unit=unit, run_by=user, summary=summary_of(found))
        SelfCheckEvent.objects.create(
            user=user,
            action=SelfCheckEvent.Action.RUN,
            self_check=check,
            new={"findings": str(len(found)), "campaign": str(campaign.pk), "unit": str(unit.pk)},
        )
        Finding.objects.bulk_create(
            (
                Finding(
                    self_check=check,
                    code=breach.code,
                    unit_id=breach.unit_id,
                    message=breach.message,
                    records=breach.records,
                )
                for breach in found
            ),
            batch_size=BULK,
        )
    return check


ANSWER_STATES = (Finding.State.CORRECTED, Finding.State.EXPLAINED)


def finding_answer(*, user: User, finding: Finding, state: str, answer: str) -> Finding:
    """Mark `finding` corrected (已纠正) or explained (已说明), with the answer saying how or why."""
    if not may_answer_finding(user, finding.unit):
        raise PermissionDenied(_("您无权答复{unit}的自查发现").format(unit=finding.unit.name))
    if state not in ANSWER_STATES:
        raise SelfCheckError(_("请选择“已纠正”或“已说明”"))
    text = answer.strip()
    if not text:
        raise SelfCheckError(_("请填写纠正情况或说明，不能为空"))
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        old = {"state": locked.state, "answer": locked.answer}
        locked.state = state
        locked.answer = text
        locked.answered_by = user
        locked.answered_at = timezone.now()
        locked.save(update_fields=["state", "answer", "answered_by", "answered_at"])
        SelfCheckEvent.objects.create(
            user=user,
            action=SelfCheckEvent.Action.ANSWERED,
            self_check_id=locked.self_check_id,
            finding=locked,
            old=old,
            new={"state": state, "answer": text},
        )
    return locked


# --- selectors ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfCheckSummary:
    """The latest self-check of a unit in a campaign, as reviewers see it beside the tables."""

    self_check: SelfCheck
    #: (code, title, findings) for every rule the check ran, in the rules' order.
    counts: list[tuple[str, str, int]]
    thresholds: dict[str, Any]
    open: int  # findings not yet answered

    @property
    def total(self) -> int:
        return sum(count for _code, _title, count in self.counts)


def findings_with_answers(check: SelfCheck) -> QuerySet[Finding]:
    """The check's findings, each with `answers`: every answer given to it, oldest first. Two queries."""
    answers = (
        SelfCheckEvent.objects.filter(action=SelfCheckEvent.Action.ANSWERED)
        .select_related("user")
        .order_by("at", "pk")
    )
    return (
        check.findings.select_related("unit")
        .prefetch_related(Prefetch("events", queryset=answers, to_attr="answers"))
        .order_by("code", "pk")
    )


def latest_summary(campaign: Campaign, unit: Unit) -> SelfCheckSummary | None:
    """The unit's latest self-check of its subtree in the campaign, or None when it never ran one. Two
    queries. The caller has asked `may_see_ledger` for `unit`."""
    check = SelfCheck.objects.filter(campaign=campaign, unit=unit).order_by("-run_at", "-pk").first()
    if check is None:
        return None
    rules = configured_rules()
    counts = [
        (code, rules[code].title if code in rules else code, int(count))
        for code, count in check.summary.items()
        if code != "thresholds"
    ]
    order = list(rules)
    counts.sort(key=lambda entry: order.index(entry[0]) if entry[0] in order else len(order))
    still_open = check.findings.filter(state=Finding.State.OPEN).count()
    return SelfCheckSummary(check, counts, dict(check.summary.get("thresholds", {})), still_open)
