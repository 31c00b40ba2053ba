"""Reads of the relief ledger, filtered by `songnuan.orgs.permissions`: what a user may see, the totals by
source and by item, and the personal numbers as the user may see them (masked unless
`may_see_personal_data`). Pages, exports and the API read through here."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db.models import Count, Q, QuerySet, Sum
from django.http import FileResponse
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import Household
from songnuan.archive.selectors import HouseholdSearch, households_visible_to, search_households
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import campaigns_visible_to, units_taking_part
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord, LedgerEvent, Receipt
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import User, may_see_ledger, may_see_personal_data, units_visible_to


def _in(unit: Unit, subtree: bool, field: str = "unit") -> Q:
    return Q(**{f"{field}__path__startswith": unit.path}) if subtree else Q(**{field: unit})


def help_records_visible_to(user: User) -> QuerySet[HelpRecord]:
    """Every help record of a unit the user sees."""
    return HelpRecord.objects.filter(unit__in=units_visible_to(user))


def help_records(campaign: Campaign, unit: Unit, *, subtree: bool = False) -> QuerySet[HelpRecord]:
    """The help records of `unit` (and the units below it with `subtree`) in `campaign`, newest first. The
    caller has asked `may_see_ledger` for `unit`."""
    return (
        HelpRecord.objects.filter(_in(unit, subtree), campaign=campaign)
        .select_related("unit", "item", "source", "household", "entered_by", "approved_by")
        .order_by("-paid_on", "-pk")
    )


def counted(records: QuerySet[HelpRecord]) -> QuerySet[HelpRecord]:
    """The records that count in tables, totals and the 公示: approved ones (reversals included, which cancel
    what they reverse)."""
    return records.filter(state=HelpRecord.State.APPROVED)


def receipts(campaign: Campaign, unit: Unit, *, subtree: bool = False) -> QuerySet[Receipt]:
    """Money raised by and allocated to `unit` (and below, with `subtree`), and allocations it gave."""
    where = _in(unit, subtree) | _in(unit, subtree, "from_unit")
    return (
        Receipt.objects.filter(where, campaign=campaign)
        .select_related("unit", "from_unit", "source", "entered_by")
        .order_by("-received_on", "-pk")
    )


@dataclass(frozen=True)
class SourceTotals:
    source: FundSource
    raised: Decimal  # 本级筹集 (counted once, where raised)
    allocated_in: (
        Decimal  # 上级下拨 to the unit (only for one unit: within a subtree it is passed, not raised)
    )
    allocated_out: Decimal  # 下拨 to units outside the subtree's … (one unit: to the units below)
    spent: Decimal  # approved help records' money and goods
    reserved: Decimal  # drafts (not yet approved) — they hold the money too

    @property
    def left(self) -> Decimal:
        return self.raised + self.allocated_in - self.allocated_out - self.spent - self.reserved

    @property
    def handed_out(self) -> Decimal:
        """Approved and draft records together: what the unit's spending check counts."""
        return self.spent + self.reserved


def _decimal(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def totals_by_source(campaign: Campaign, unit: Unit, *, subtree: bool = False) -> list[SourceTotals]:
    """Per fund source: raised, allocated in and out, spent, reserved, left — for `unit` alone, or its whole
    subtree, where money passed between units inside it is neither raised nor spent twice (only allocations
    that enter from above count in, none go out of a subtree downwards)."""
    money = Receipt.objects.filter(campaign=campaign)
    raised = dict(
        money.filter(_in(unit, subtree), kind=Receipt.Kind.RAISED)
        .values_list("source")
        .annotate(total=Sum("amount"))
        .values_list("source", "total")
    )
    into = money.filter(_in(unit, subtree), kind=Receipt.Kind.ALLOCATION)
    if subtree:
        into = into.exclude(from_unit__path__startswith=unit.path)
    allocated_in = dict(
        into.values_list("source").annotate(total=Sum("amount")).values_list("source", "total")
    )
    out = money.filter(from_unit=unit, kind=Receipt.Kind.ALLOCATION) if not subtree else money.none()
    allocated_out = dict(
        out.values_list("source").annotate(total=Sum("amount")).values_list("source", "total")
    )
    records = HelpRecord.objects.filter(_in(unit, subtree), campaign=campaign)
    spent: dict[int, Decimal] = {}
    reserved: dict[int, Decimal] = {}
    for state, source_id, amount, goods in (
        records.values_list("state", "source")
        .annotate(amount=Sum("amount"), goods=Sum("goods_value"))
        .values_list("state", "source", "amount", "goods")
    ):
        target = spent if state == HelpRecord.State.APPROVED else reserved
        target[source_id] = target.get(source_id, Decimal(0)) + _decimal(amount) + _decimal(goods)
    return [
        SourceTotals(
            source,
            _decimal(raised.get(source.pk)),
            _decimal(allocated_in.get(source.pk)),
            _decimal(allocated_out.get(source.pk)),
            spent.get(source.pk, Decimal(0)),
            reserved.get(source.pk, Decimal(0)),
        )
        for source in FundSource.objects.all()
    ]


@dataclass(frozen=True)
class ItemTotals:
    item: HelpItem
    records: int  # approved records, reversals not counted
    amount: Decimal
    goods_value: Decimal


def totals_by_item(campaign: Campaign, unit: Unit, *, subtree: bool = False) -> list[ItemTotals]:
    """Per help item, the approved records (net of reversals) of `unit` or its subtree."""
    rows = (
        counted(HelpRecord.objects.filter(_in(unit, subtree), campaign=campaign))
        .values("item")
        .annotate(
            records=Count("pk", filter=Q(reverses__isnull=True, is_reversed=False)),
            amount=Sum("amount"),
            goods=Sum("goods_value"),
        )
    )
    by_item: dict[int, dict[str, Any]] = {row["item"]: dict(row) for row in rows}
    totals = []
    for item in HelpItem.objects.all():
        row = by_item.get(item.pk, {})
        totals.append(
            ItemTotals(
                item, int(row.get("records") or 0), _decimal(row.get("amount")), _decimal(row.get("goods"))
            )
        )
    return totals


def shown_id_number(user: User, record: HelpRecord, *, full: bool = False) -> str:
    """The recipient's ID number as shown to `user`: masked, as in the archive, unless the full numbers were
    asked for (`full`) by a user who may see them — and the caller logs that (`services.numbers_viewed`)."""
    if not record.id_number or (full and may_see_personal_data(user, record.unit)):
        return record.id_number
    return mask_id_number(record.id_number)


def shown_card_number(user: User, record: HelpRecord, *, full: bool = False) -> str:
    """The card number as shown to `user` (see `shown_id_number`)."""
    if not record.card_number or (full and may_see_personal_data(user, record.unit)):
        return record.card_number
    return mask_card(record.card_number)


# --- what the ledger's pages ask ----------------------------------------------------------------------------


def ledger_campaigns(user: User) -> list[Campaign]:
    """The campaigns whose ledger the user may keep or see: those a unit it sees takes part in (the owner, an
    addressee or a unit below one — the reporting pages' rule), newest first."""
    if not isinstance(user, AuthUser):
        return []
    units = units_visible_to(user)
    return [
        campaign
        for campaign in campaigns_visible_to(user).select_related("owner").order_by("-period_start", "-pk")
        if units_taking_part(campaign, units).exists()
    ]


def ledger_units(user: User, campaign: Campaign) -> list[Unit]:
    """The units taking part in `campaign` whose ledger the user sees, in tree order."""
    return list(units_taking_part(campaign, units_visible_to(user).filter(closed_at__isnull=True)))


def units_below(unit: Unit) -> QuerySet[Unit]:
    """The open units strictly below `unit`: where it may pass money down (`may_allocate`)."""
    return (
        Unit.objects.filter(path__startswith=unit.path, closed_at__isnull=True)
        .exclude(pk=unit.pk)
        .order_by("path")
    )


@dataclass(frozen=True)
class RecordFilter:
    """What the records list is narrowed to; blank fields do not narrow it."""

    state: str = ""
    item: HelpItem | None = None
    source: FundSource | None = None
    channel: str = ""
    recipient_kind: str = ""
    name: str = ""  # the start of the recipient's name
    start: dt.date | None = None
    end: dt.date | None = None
    warnings_only: bool = False
    subtree: bool = False


def filtered_records(campaign: Campaign, unit: Unit, chosen: RecordFilter) -> QuerySet[HelpRecord]:
    """`help_records` narrowed by `chosen`, newest first."""
    records = help_records(campaign, unit, subtree=chosen.subtree)
    if chosen.state:
        records = records.filter(state=chosen.state)
    if chosen.item is not None:
        records = records.filter(item=chosen.item)
    if chosen.source is not None:
        records = records.filter(source=chosen.source)
    if chosen.channel:
        records = records.filter(channel=chosen.channel)
    if chosen.recipient_kind:
        records = records.filter(recipient_kind=chosen.recipient_kind)
    if chosen.name.strip():
        records = records.filter(name__contains=chosen.name.strip())
    if chosen.start is not None:
        records = records.filter(paid_on__gte=chosen.start)
    if chosen.end is not None:
        records = records.filter(paid_on__lte=chosen.end)
    if chosen.warnings_only:
        # A JSON list that is not empty: "[]" is the only empty one the services write.
        records = records.exclude(warnings=[])
    return records


@dataclass(frozen=True)
class RecordSums:
    records: int
    amount: Decimal
    goods_value: Decimal

    @property
    def value(self) -> Decimal:
        return self.amount + self.goods_value


def record_sums(records: QuerySet[HelpRecord]) -> RecordSums:
    """How many records, and their money and goods, as listed (drafts and reversals included)."""
    sums = records.order_by().aggregate(n=Count("pk"), amount=Sum("amount"), goods=Sum("goods_value"))
    return RecordSums(int(sums["n"] or 0), _decimal(sums["amount"]), _decimal(sums["goods"]))


def record_visible(user: User, pk: int) -> HelpRecord | None:
    """The record, when the user may see its unit's ledger (`may_see_ledger`), else None."""
    record = (
        HelpRecord.objects.select_related(
            "campaign", "unit", "item", "source", "household", "entered_by", "approved_by", "reverses"
        )
        .filter(pk=pk)
        .first()
    )
    if record is None or not may_see_ledger(user, record.unit):
        return None
    return record


#: What a record's evidence is served as, by its extension; any other file as bytes.
EVIDENCE_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def evidence_download(record: HelpRecord) -> FileResponse | None:
    """The record's evidence (凭证) as an attachment named after the record, or None when it has none (or its
    file is gone). The caller has asked whether the user sees the record: the file is served through the
    page's view or the API only, never a public media address."""
    if not record.evidence:
        return None
    try:
        handle = record.evidence.open("rb")
    except FileNotFoundError:
        return None
    extension = os.path.splitext(record.evidence.name or "")[1].lstrip(".").lower()
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_("凭证_{pk}_{name}.{ext}").format(pk=record.pk, name=record.name, ext=extension or "bin"),
        content_type=EVIDENCE_TYPES.get(extension, "application/octet-stream"),
    )
    # Whatever a stored file holds, a browser saves it and never renders it in place.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "no-store"
    return response


def receipt_visible(user: User, pk: int) -> Receipt | None:
    """The receipt, when the user sees the ledger of its unit or of the unit that allocated it."""
    receipt = Receipt.objects.select_related("campaign", "unit", "from_unit", "source").filter(pk=pk).first()
    if receipt is None:
        return None
    owner = receipt.from_unit if receipt.kind == Receipt.Kind.ALLOCATION else receipt.unit
    if owner is not None and may_see_ledger(user, owner):
        return receipt
    return receipt if may_see_ledger(user, receipt.unit) else None


def record_events(record: HelpRecord) -> QuerySet[LedgerEvent]:
    """The record's history (its refused edits too), newest first; a reversal's own events follow it."""
    return (
        LedgerEvent.objects.filter(Q(record=record) | Q(record__reverses=record))
        .select_related("user")
        .order_by("-at", "-pk")
    )


def unit_events(campaign: Campaign, unit: Unit) -> QuerySet[LedgerEvent]:
    """Everything done to the unit's ledger in the campaign, refused attempts included, newest first."""
    return (
        LedgerEvent.objects.filter(campaign=campaign, unit=unit)
        .select_related("user", "record")
        .order_by("-at", "-pk")
    )


def household_choices(user: User, unit: Unit, text: str, *, limit: int = 20) -> list[Household]:
    """Files of `unit` and below the user sees, found by name, initials or ID number (the archive's own
    search), at most `limit`: the recipients a help record may be written for."""
    if not text.strip():
        return []
    found = search_households(user, HouseholdSearch(text=text.strip(), unit=unit))
    return list(found.filter(unit__path__startswith=unit.path)[:limit])


def households_of(user: User, unit: Unit) -> QuerySet[Household]:
    """Every file of `unit` and below that the user sees (what a posted household id may be)."""
    return households_visible_to(user).filter(unit__path__startswith=unit.path).select_related("unit")
