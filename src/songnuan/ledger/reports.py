"""The ledger's reports: the roll-up of a unit's subtree (its children one by one, its own level, the
total) and the 公示 (the public notice of who was helped), with their Excel files.

Both count only what stands: approved records, a reversal cancelling what it reverses. The roll-up groups
by the unit path's prefix (a child's segment, `PATH_DIGITS` wide) in a handful of GROUP BY queries,
however many units lie below. Money raised counts where it was raised (receipts of kind RAISED only); an
allocation counts as money coming in only where it crosses into a row's subtree from outside it, so the
total never counts money passed down the tree twice. The caller has asked `can_see_rollup` (roll-up) or
`may_see_ledger` (公示) for the unit.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import units_taking_part
from songnuan.formkit.excel_writer import ListWriter
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord, Receipt
from songnuan.ledger.rules import mask_name
from songnuan.orgs.models import Unit, path_segment

ZERO = Decimal("0.00")


def _money(value: object) -> Decimal:
    """A sum from the database as yuan (None — nothing to add — is 0 here: these are totals of records)."""
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else ZERO


def _standing() -> Q:
    """Approved records neither reversed nor reversals: the payments that stand."""
    return HelpRecord.standing()


def _reached(key: str, kind: str) -> Count:
    """How many distinct recipients of `kind` the standing records reached: a household by its file, a
    person by the ID number, an enterprise by its name."""
    return Count(key, distinct=True, filter=_standing() & Q(recipient_kind=kind))


# --- the roll-up -------------------------------------------------------------------------------------------


@dataclass
class RollupRow:
    """One line of the roll-up: a child's whole subtree, the unit's own level (本级), or the total."""

    kind: str  # "child", "own", "total"
    unit: Unit
    title: str
    raised: dict[int, Decimal] = field(default_factory=dict)  # by fund source id: 本级筹集 only
    allocated_in: dict[int, Decimal] = field(default_factory=dict)  # by source: from outside the row
    records: int = 0  # standing records
    households: int = 0  # distinct filed households reached
    persons: int = 0  # distinct persons not on file (by ID number)
    enterprises: int = 0  # distinct enterprises (by name)
    amount: Decimal = ZERO  # money handed out (reversals netted)
    goods_value: Decimal = ZERO  # goods, in yuan
    by_item: dict[int, Decimal] = field(default_factory=dict)  # money and goods by help item id
    cash: int = 0  # standing cash payments

    @property
    def raised_total(self) -> Decimal:
        return sum(self.raised.values(), ZERO)

    @property
    def allocated_in_total(self) -> Decimal:
        return sum(self.allocated_in.values(), ZERO)

    @property
    def value(self) -> Decimal:
        return self.amount + self.goods_value


@dataclass
class Rollup:
    campaign: Campaign
    unit: Unit
    sources: list[FundSource]
    items: list[HelpItem]
    rows: list[RollupRow]  # the children (tree order), then the unit's own level
    total: RollupRow
    ancestors: list[Unit]  # the units above, top first (the way back up)

    def raised_cells(self, row: RollupRow) -> list[Decimal]:
        return [row.raised.get(source.pk, ZERO) for source in self.sources]

    def item_cells(self, row: RollupRow) -> list[Decimal]:
        return [row.by_item.get(item.pk, ZERO) for item in self.items]

    @property
    def lines(self) -> list[tuple[RollupRow, list[Decimal], list[Decimal]]]:
        """Each row (the total last) with its cells by source and by item, in the column order."""
        return [(row, self.raised_cells(row), self.item_cells(row)) for row in [*self.rows, self.total]]


def rollup(campaign: Campaign, unit: Unit) -> Rollup:
    """The roll-up of `unit` in `campaign`: one row per child (its subtree), one for the unit itself, and
    the total — in a fixed number of queries, whatever the size of the tree."""
    prefix_length = len(unit.path) + len(path_segment(0))
    children = sorted(Unit.objects.filter(parent=unit), key=lambda child: (child.sort_order, child.pk))
    rows: dict[str, RollupRow] = {child.path: RollupRow("child", child, child.name) for child in children}
    own = RollupRow("own", unit, _("{unit}（本级）").format(unit=unit.name))
    rows[unit.path] = own
    total = RollupRow("total", unit, _("合计（全辖）"))

    touched: set[str] = set()

    def row_of(branch: str) -> RollupRow | None:
        # A unit moved under `unit` after the query's children were read has no row: left to the total.
        touched.add(branch)
        return rows.get(branch)

    branch = Substr("unit__path", 1, prefix_length)
    money = Receipt.objects.filter(campaign=campaign, unit__path__startswith=unit.path)

    for found in (
        money.filter(kind=Receipt.Kind.RAISED)
        .annotate(branch=branch)
        .values("branch", "source")
        .annotate(total=Sum("amount"))
    ):
        amount = _money(found["total"])
        for target in (row_of(found["branch"]), total):
            if target is not None:
                target.raised[found["source"]] = target.raised.get(found["source"], ZERO) + amount

    for allocation in (
        money.filter(kind=Receipt.Kind.ALLOCATION)
        .annotate(branch=branch, from_branch=Substr("from_unit__path", 1, prefix_length))
        .values("branch", "from_branch", "source")
        .annotate(total=Sum("amount"))
    ):
        amount = _money(allocation["total"])
        source = allocation["source"]
        from_branch = allocation["from_branch"] or ""
        target = row_of(allocation["branch"])
        # Into a child's subtree from outside it (the unit itself, a sibling, above); into the unit itself
        # always from above; into the whole subtree only from above it.
        if target is not None and (target is own or from_branch != allocation["branch"]):
            target.allocated_in[source] = target.allocated_in.get(source, ZERO) + amount
        if not from_branch.startswith(unit.path):
            total.allocated_in[source] = total.allocated_in.get(source, ZERO) + amount

    records = HelpRecord.objects.filter(
        campaign=campaign, unit__path__startswith=unit.path, state=HelpRecord.State.APPROVED
    )
    standing = _standing()
    for counts in (
        records.annotate(branch=branch)
        .values("branch")
        .annotate(
            records=Count("pk", filter=standing),
            amount=Sum("amount"),
            goods=Sum("goods_value"),
            cash=Count("pk", filter=standing & Q(channel=HelpRecord.Channel.CASH)),
            households=_reached("household", HelpRecord.RecipientKind.HOUSEHOLD),
            persons=_reached("id_number", HelpRecord.RecipientKind.PERSON),
            enterprises=_reached("name", HelpRecord.RecipientKind.ENTERPRISE),
        )
    ):
        target = row_of(counts["branch"])
        for line in (target, total) if target is not None else (total,):
            line.records += counts["records"]
            line.amount += _money(counts["amount"])
            line.goods_value += _money(counts["goods"])
            line.cash += counts["cash"]
        if target is not None:
            target.households = counts["households"]
            target.persons = counts["persons"]
            target.enterprises = counts["enterprises"]
    # Distinct over the whole subtree: a household helped by two units counts once in the total.
    whole = records.aggregate(
        households=_reached("household", HelpRecord.RecipientKind.HOUSEHOLD),
        persons=_reached("id_number", HelpRecord.RecipientKind.PERSON),
        enterprises=_reached("name", HelpRecord.RecipientKind.ENTERPRISE),
    )
    total.households, total.persons, total.enterprises = (
        whole["households"],
        whole["persons"],
        whole["enterprises"],
    )

    for by_item in (
        records.annotate(branch=branch)
        .values("branch", "item")
        .annotate(amount=Sum("amount"), goods=Sum("goods_value"))
    ):
        value = _money(by_item["amount"]) + _money(by_item["goods"])
        target = row_of(by_item["branch"])
        for line in (target, total) if target is not None else (total,):
            line.by_item[by_item["item"]] = line.by_item.get(by_item["item"], ZERO) + value

    taking_part = set(
        units_taking_part(campaign, Unit.objects.filter(parent=unit)).values_list("pk", flat=True)
    )
    return Rollup(
        campaign=campaign,
        unit=unit,
        sources=list(FundSource.objects.all()),
        items=list(HelpItem.objects.all()),
        # The children the campaign concerns, and any other that has a figure (so that the rows add up).
        rows=[rows[child.path] for child in children if child.pk in taking_part or child.path in touched]
        + [own],
        total=total,
        ancestors=ancestors(unit),
    )


def ancestors(unit: Unit) -> list[Unit]:
    """The units above `unit`, top first."""
    ids = [int(part) for part in unit.path.rstrip("/").split("/")[:-1]]
    found = {above.pk: above for above in Unit.objects.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def rollup_filename(table: Rollup) -> str:
    return _("{unit}帮扶台账汇总.xlsx").format(unit=table.unit.name)


def rollup_xlsx(table: Rollup) -> bytes:
    """The roll-up as a workbook of three sheets, as on the page: money raised, help given, by item."""
    target = io.BytesIO()
    title = _("{unit}帮扶台账汇总（{campaign}）").format(unit=table.unit.name, campaign=table.campaign.title)
    lines = table.lines
    writer = ListWriter(
        target,
        title=title,
        header=[
            _("单位"),
            *[_("本级筹集：{source}（元）").format(source=s.name) for s in table.sources],
            _("本级筹集合计（元）"),
            _("上级下拨（元）"),
        ],
        widths=[30, *[14] * len(table.sources), 14, 14],
        sheet_name=_("资金筹集"),
    )
    for row, raised, _items in lines:
        writer.write([row.title, *raised, row.raised_total, row.allocated_in_total])
    writer.add_sheet(
        title=title,
        header=[
            _("单位"),
            _("发放记录（条）"),
            _("建档家庭（户）"),
            _("未建档个人（人）"),
            _("困难企业（家）"),
            _("资金（元）"),
            _("物品折价（元）"),
            _("款物合计（元）"),
            _("现金发放（笔）"),
        ],
        widths=[30, 12, 12, 12, 12, 14, 14, 14, 12],
        sheet_name=_("帮扶发放"),
    )
    for row, _raised, _items in lines:
        writer.write(
            [
                row.title,
                row.records,
                row.households,
                row.persons,
                row.enterprises,
                row.amount,
                row.goods_value,
                row.value,
                row.cash,
            ]
        )
    writer.add_sheet(
        title=title,
        header=[_("单位"), *[_("{item}（元）").format(item=i.name) for i in table.items]],
        widths=[30, *[14] * len(table.items)],
        sheet_name=_("按帮扶项目"),
    )
    for row, _raised, by_item in lines:
        writer.write([row.title, *by_item])
    writer.close()
    return target.getvalue()


# --- 公示 ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicityLine:
    """One line of the 公示: no ID number, no card number — the name masked unless an enterprise."""

    name: str
    kind: str
    item: str
    amount: Decimal | None
    goods: str
    goods_value: Decimal | None
    paid_on: dt.date
    unit: str


@dataclass
class Publicity:
    campaign: Campaign
    unit: Unit
    subtree: bool
    households_only: bool
    lines: list[PublicityLine]
    title: str
    period: str
    phone: str

    @property
    def amount(self) -> Decimal:
        return sum((line.amount or ZERO for line in self.lines), ZERO)

    @property
    def goods_value(self) -> Decimal:
        return sum((line.goods_value or ZERO for line in self.lines), ZERO)


def publicity_title(campaign: Campaign, unit: Unit) -> str:
    # The campaign's year is its holiday's: a campaign of the 2019 Spring Festival may start in December 2018.
    return _("{unit}{year}年送温暖帮扶资金发放公示").format(unit=unit.name, year=campaign.period_end.year)


def publicity_period(campaign: Campaign) -> str:
    if campaign.period_text:
        return campaign.period_text
    return _("{start}至{end}").format(
        start=_date_text(campaign.period_start), end=_date_text(campaign.period_end)
    )


def _date_text(day: dt.date) -> str:
    return _("{y}年{m}月{d}日").format(y=day.year, m=day.month, d=day.day)


def publicity_records(
    campaign: Campaign, unit: Unit, *, subtree: bool = False, households_only: bool = False
) -> QuerySet[HelpRecord]:
    """The records that stand (approved, neither reversed nor a reversal) of `unit` (or its subtree), by
    unit in tree order, then date."""
    where = Q(unit__path__startswith=unit.path) if subtree else Q(unit=unit)
    records = HelpRecord.objects.filter(where, _standing(), campaign=campaign)
    if households_only:
        records = records.filter(recipient_kind=HelpRecord.RecipientKind.HOUSEHOLD)
    return records.select_related("unit", "item").order_by("unit__path", "paid_on", "pk")


def shown_name(record: HelpRecord) -> str:
    """The name as posted: an enterprise's in full (it is not personal), a person's masked (张*明)."""
    if record.recipient_kind == HelpRecord.RecipientKind.ENTERPRISE:
        return record.name
    return mask_name(record.name)


def _goods_text(record: HelpRecord) -> str:
    if not record.goods_description:
        return ""
    if record.goods_quantity is None:
        return record.goods_description
    return f"{record.goods_description}×{record.goods_quantity.normalize():f}"


def _lines(records: Iterable[HelpRecord]) -> list[PublicityLine]:
    return [
        PublicityLine(
            name=shown_name(record),
            kind=record.get_recipient_kind_display(),
            item=record.item.name,
            amount=record.amount,
            goods=_goods_text(record),
            goods_value=record.goods_value,
            paid_on=record.paid_on,
            unit=record.unit.name,
        )
        for record in records
    ]


def publicity(
    campaign: Campaign, unit: Unit, *, subtree: bool = False, households_only: bool = False
) -> Publicity:
    """The 公示 of `unit` in `campaign`: who was helped, with what, when, by which unit."""
    records = publicity_records(campaign, unit, subtree=subtree, households_only=households_only)
    return Publicity(
        campaign=campaign,
        unit=unit,
        subtree=subtree,
        households_only=households_only,
        lines=_lines(records.iterator(chunk_size=2000)),
        title=publicity_title(campaign, unit),
        period=publicity_period(campaign),
        phone=unit.contact_phone,
    )


def publicity_filename(notice: Publicity) -> str:
    return f"{notice.title}.xlsx"


def publicity_xlsx(notice: Publicity) -> bytes:
    """The 公示 as .xlsx: every name, item and unit written as text (never a formula)."""
    target = io.BytesIO()
    writer = ListWriter(
        target,
        title=notice.title,
        header=[
            _("序号"),
            _("姓名或名称"),
            _("帮扶项目"),
            _("金额（元）"),
            _("物品"),
            _("物品折价（元）"),
            _("发放日期"),
            _("发放单位"),
        ],
        widths=[6, 22, 12, 12, 16, 12, 12, 30],
        sheet_name=_("公示"),
    )
    for number, line in enumerate(notice.lines, start=1):
        writer.write(
            [
                number,
                line.name,
                line.item,
                line.amount,
                line.goods,
                line.goods_value,
                line.paid_on,
                line.unit,
            ]
        )
    writer.write([_("合计"), "", "", notice.amount, "", notice.goods_value, "", ""])
    writer.write([])
    writer.write([_("公示单位：{unit}").format(unit=notice.unit.name)])
    writer.write([_("活动时间：{period}").format(period=notice.period)])
    writer.write([_("监督电话：{phone}").format(phone=notice.phone)])
    writer.write([_("（盖章）　　　　年　　月　　日")])
    writer.close()
    return target.getvalue()
