"""Importing a payment roster (发放花名册): the rows units keep today become draft help records.

Each row is held to the rules a hand-entered record is (`songnuan.ledger.services.check_help`): the same
rule functions (`songnuan.ledger.rules`, and the services' own in-memory checks of the recipient's file and
the channel), applied to values read once per batch instead of queried per row — the households of the batch's
ID numbers, the records already held for its recipients and cards, what each unit has left of each source.
The good rows go in as drafts (待审核) in one transaction with the whole file, through the database's bulk
path; each bad row goes to the rejected-rows file with every reason it broke. A row's `import_key` is a
digest of its content: importing the same file again finds its rows there and creates nothing new.

Values are read as people write them: the item, source and channel by their Chinese names (生活救助;
中央财政 or 中央财政帮扶资金; 阳光5·1卡 or 工会卡, 银行卡, 现金, 实物), the amount in yuan. The recipient
is the household whose head has the row's ID number in the archive of the row's unit (or a unit below);
anyone else is a person not on file, of the category the 备注 names (一线职工, 工匠劳模, 技能人才,
农民工) or 其他职工.
For a cash row the 备注 is the reason for cash; for goods (实物) it names the goods, the amount their value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import operator
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.bulk import column_adapter, insert_rows
from songnuan.archive.idnumbers import EARLIEST_BIRTH, PROVINCES, InvalidIdNumber, parse_id_number
from songnuan.archive.importing import (
    ImportField,
    ImportOutcome,
    MappingError,
    Progress,
    RejectRow,
    check_columns,
    guess_columns,
    in_batches,
)
from songnuan.archive.models import Household
from songnuan.campaigns.services import lock_unit_in_campaign
from songnuan.formkit.values import BLANK_MARKS, DATE_TEXT, normalize_text
from songnuan.ledger import rules
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord, LedgerEvent, RosterImport
from songnuan.ledger.services import (
    Checked,
    HelpInput,
    Problem,
    apply_caps,
    available,
    budget_problem,
    card_shared_problem,
    check_archive_first,
    check_channel,
    duplicate_problem,
    local_date,
    record_event,
    unfiled_problem,
    value_of,
)
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_enter_ledger, units_visible_to

BATCH_ROWS = 2000
ZERO = Decimal(0)
Kind = HelpRecord.RecipientKind
Channel = HelpRecord.Channel

#: The roster's columns and what people call them (compared without spaces, brackets or units).
FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "name", "姓名", ("姓名", "户主姓名", "职工姓名", "收款人姓名", "领取人", "户主"), required=True
    ),
    ImportField(
        "id_number",
        "身份证号",
        ("身份证号", "身份证号码", "公民身份号码", "证件号码", "户主身份证号", "身份证"),
        required=True,
    ),
    ImportField("item", "帮扶项目", ("帮扶项目", "救助项目", "帮扶类别", "救助类别", "项目"), required=True),
    ImportField("source", "资金来源", ("资金来源", "经费来源", "资金渠道", "来源"), required=True),
    ImportField(
        "amount",
        "金额（元）",
        ("金额", "发放金额", "慰问金", "慰问金额", "帮扶金额", "救助金额", "金额元"),
        required=True,
    ),
    ImportField("channel", "发放方式", ("发放方式", "发放形式", "支付方式", "方式"), required=True),
    ImportField("card_number", "卡号", ("卡号", "银行卡号", "阳光5·1卡号", "账号", "卡号账号")),
    ImportField("paid_on", "发放日期", ("发放日期", "发放时间", "日期"), required=True),
    ImportField("unit", "所属工会", ("所属工会", "发放单位", "工会名称", "所属单位")),
    ImportField("note", "备注", ("备注", "说明")),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)

_CHANNELS = {
    "阳光5·1卡": Channel.UNION_CARD,
    "阳光51卡": Channel.UNION_CARD,
    "阳光卡": Channel.UNION_CARD,
    "5·1卡": Channel.UNION_CARD,
    "51卡": Channel.UNION_CARD,
    "工会卡": Channel.UNION_CARD,
    "工会卡(阳光5·1卡)": Channel.UNION_CARD,
    "银行卡": Channel.BANK_CARD,
    "银行": Channel.BANK_CARD,
    "打卡": Channel.BANK_CARD,
    "现金": Channel.CASH,
    "实物": Channel.GOODS,
    **{value: value for value in Channel.values},
}
_ITEM_ALIASES = {
    "慰问": "visit",
    "慰问金": "visit",
    "春节慰问": "visit",
    "送温暖慰问": "visit",
    "生活救助金": "living",
    "医疗救助金": "medical",
    "助学": "schooling",
    "金秋助学": "schooling",
    "助学金": "schooling",
}
_CATEGORIES = {
    "一线职工": HelpRecord.PersonCategory.FRONTLINE,
    "工匠劳模": HelpRecord.PersonCategory.MODEL_WORKER,
    "劳模": HelpRecord.PersonCategory.MODEL_WORKER,
    "工匠": HelpRecord.PersonCategory.MODEL_WORKER,
    "技能人才": HelpRecord.PersonCategory.TALENT,
    "学科带头人": HelpRecord.PersonCategory.TALENT,
    "技能人才、学科带头人": HelpRecord.PersonCategory.TALENT,
    "农民工": HelpRecord.PersonCategory.MIGRANT,
    "其他职工": HelpRecord.PersonCategory.WORKER,
    "职工": HelpRecord.PersonCategory.WORKER,
}

# The choices a row compares with, as module constants: read on every row, spared the class lookups.
_PERSON, _GOODS, _CASH = Kind.PERSON, Channel.GOODS, Channel.CASH
_WORKER = HelpRecord.PersonCategory.WORKER

#: What the rules read of a household that a row pays (the rest of its row is not fetched).
HOUSEHOLD_FIELDS = (
    "id",
    "unit_id",
    "head_name",
    "head_id_number",
    "status",
    "filed_at",
    "ended_on",
    "card_number",
    "bank",
    "minimum_living_line",
    "household_size",
)

#: The help record's columns as the bulk insert writes them.
RECORD_COLUMNS = (
    "campaign_id",
    "unit_id",
    "recipient_kind",
    "household_id",
    "name",
    "id_number",
    "person_category",
    "credit_code",
    "enterprise_kind",
    "item_id",
    "source_id",
    "amount",
    "goods_description",
    "goods_quantity",
    "goods_value",
    "cost_basis",
    "channel",
    "cash_reason",
    "card_number",
    "bank",
    "paid_on",
    "note",
    "evidence",
    "warnings",
    "explanation",
    "state",
    "payment",
    "entered_by_id",
    "entered_at",
    "approved_by_id",
    "approved_at",
    "reverses_id",
    "import_key",
    "import_job_id",
    "import_row",
)


def guess_mapping(header: Sequence[str]) -> dict[str, int]:
    return guess_columns(header, FIELDS)


def check_mapping(mapping: Mapping[str, int], header: Sequence[str]) -> None:
    check_columns(mapping, header, FIELDS)


def _key(text: str) -> str:
    return normalize_text(text).replace("（", "(").replace("）", ")")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


class _Names:
    """Item, source and channel by the Chinese names people write (or the codes), read once per import."""

    def __init__(self) -> None:
        self.items = {item.code: item for item in HelpItem.objects.all()}
        self.sources = {source.code: source for source in FundSource.objects.all()}
        self.item_names = {_key(i.name): i for i in self.items.values()} | {
            _key(alias): self.items[code] for alias, code in _ITEM_ALIASES.items() if code in self.items
        }
        self.source_names = {_key(s.name): s for s in self.sources.values()}
        self.channels = {_key(text): channel for text, channel in _CHANNELS.items()}
        self.channels |= {_key(str(label)): value for value, label in Channel.choices}

    @functools.cache  # noqa: B019 — one _Names per import, a few distinct texts
    def item(self, text: str) -> HelpItem | None:
        key = _key(text)
        return self.item_names.get(key) or self.items.get(key)

    @functools.cache  # noqa: B019
    def source(self, text: str) -> FundSource | None:
        """By its name, its code, or a part of its name that names one source only (中央财政, 工会经费)."""
        key = _key(text)
        found = self.source_names.get(key) or self.sources.get(key)
        if found is None and len(key) >= 2:
            named = [s for name, s in self.source_names.items() if key in name]
            found = named[0] if len(named) == 1 else None
        return found

    @functools.cache  # noqa: B019
    def channel(self, text: str) -> str | None:
        return self.channels.get(_key(text))


@dataclass(slots=True)
class _Row:
    """One row read and checked: the record's values, or the reasons it is refused."""

    row: int
    cells: Sequence[Any]
    key: str
    unit: Unit | None = None
    data: HelpInput | None = None
    found: Checked = field(default_factory=Checked)
    problems: list[str] = field(default_factory=list)
    #: What the row takes from its source: `value_of(amount, goods_value)`, one of which is None.
    wanted: Decimal = Decimal(0)


class _Seen:
    """What the batch (and, through the database, the file so far) already holds for one recipient."""

    __slots__ = ("file_rows", "live_items", "year_sums")

    def __init__(self) -> None:
        self.live_items: set[int] = set()  # items of this campaign, still standing
        self.year_sums: dict[tuple[int, int], Decimal] = {}  # (item, year) → yuan
        self.file_rows: dict[int, int] = {}  # item → row of this file


# `RosterReader.read` unpacks a row's values in this order.
assert FIELD_NAMES == (
    "name",
    "id_number",
    "item",
    "source",
    "amount",
    "channel",
    "card_number",
    "paid_on",
    "unit",
    "note",
)


class RosterReader:
    """Reads and checks the rows of one roster; `import_batch` writes a batch's good rows.

    Every row passes here, so the per-row work is kept to plain operations on values prepared once per
    import: the mapped column of each field in one tuple, the names and codes looked up once per distinct
    text, the caps of each item computed once, the constant columns of the database row adapted once."""

    def __init__(self, *, user: User, job: RosterImport, mapping: Mapping[str, int]) -> None:
        self.user, self.job, self.campaign = user, job, job.campaign
        self.default_unit = job.unit
        self.indexes = tuple(mapping.get(name) for name in FIELD_NAMES)  # None: not mapped
        # Every field mapped: one C call picks a row's cells in field order (`values`' common case).
        mapped = [index for index in self.indexes if index is not None]
        self.pick = operator.itemgetter(*mapped) if len(mapped) == len(self.indexes) > 1 else None
        self.widest = max(mapped, default=-1)
        self.names = _Names()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.period = (self.campaign.period_start, self.campaign.period_end)
        visible = list(units_visible_to(user))
        self.units = {normalize_text(unit.name): unit for unit in visible}
        self.enterable = {unit.pk for unit in visible if may_enter_ledger(user, unit)}
        self.unit_of = {unit.pk: unit for unit in visible}  # the households' units, by id
        self.left: dict[tuple[int, int], Decimal] = {}  # (unit, source) → yuan still to spend
        self.locked: set[int] = set()
        # (item, 低保 line, household size) → (cap unknown, caps): `apply_caps`' inputs from the item and
        # the household, which a roster repeats (a person's are the item's alone; a roster has no cost).
        self.caps: dict[tuple[int, Decimal | None, int | None], tuple[bool, rules.Cap]] = {}
        # The database row: the columns that vary go through the database's adapter (none on PostgreSQL
        # but JSON), the constant ones are adapted here, once.
        self.adapt_money = column_adapter(HelpRecord, "amount")
        self.adapt_day = column_adapter(HelpRecord, "paid_on")
        self.adapt_json = column_adapter(HelpRecord, "warnings") or _no_adapter
        self.no_warnings = self.adapt_json([])
        entered_at = column_adapter(HelpRecord, "entered_at")
        self.entered_at = entered_at(self.now) if entered_at is not None else self.now
        self.draft, self.unpaid = str(HelpRecord.State.DRAFT), str(HelpRecord.Payment.NONE)

    # --- one row, on its own -----------------------------------------------------------------------------

    def values(self, cells: Sequence[Any]) -> list[Any]:
        """The row's value of each field in `FIELD_NAMES` order: text stripped, None for a blank cell (empty
        or a blank mark such as "-"), a cell beyond the row's end, or a field without a column."""
        count, blank = len(cells), BLANK_MARKS
        if self.pick is not None and count > self.widest:  # most rows: every field mapped and present
            return [
                (None if (text := value.strip()) in blank else text) if value.__class__ is str else value
                for value in self.pick(cells)
            ]
        values: list[Any] = []
        append = values.append
        for index in self.indexes:
            if index is None or index >= count:
                append(None)
                continue
            value = cells[index]
            if isinstance(value, str):
                value = value.strip()
                if value in blank:
                    value = None
            append(value)
        return values

    @staticmethod
    def import_key(values: Sequence[Any]) -> str:
        """The row's content (its `values`) as a digest: the same row imported again has the same key.

        The SHA-256 of the values' repr, as every import so far has stored it: keys already in the ledger
        must keep matching, so a cheaper digest would need their migration (this costs ≈ 1 µs a row)."""
        return hashlib.sha256(repr(values).encode()).hexdigest()

    @staticmethod
    def date(value: Any) -> dt.date | None:
        day: Any = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date):
            return day
        return _date_of_text(str(day))

    def id_number(self, value: Any, problems: list[str]) -> str:
        if type(value) is str and _plain_valid_id(value, self.today):  # almost every row: checked at once
            return value.upper()
        if isinstance(value, float | int) and not isinstance(value, bool):
            if isinstance(value, float) and not (value.is_integer() and value < 1e15):
                problems.append(
                    _("身份证号在Excel中被存成了数字，后几位已经丢失：请把该列设为“文本”后重新录入")
                )
                return ""
            value = str(int(value))
        text = str(value)
        if _plain_valid_id(text, self.today):  # almost every row: 18 ASCII characters, checked at once
            return text.upper()
        try:
            return parse_id_number(text, today=self.today).number
        except InvalidIdNumber as problem:
            problems.append(_("身份证号：{problem}").format(problem=problem))
            return ""

    def read(self, row: int, cells: Sequence[Any]) -> _Row:
        """The row's values checked on their own (what needs no other row and no database)."""
        values = self.values(cells)
        read = _Row(row, cells, self.import_key(values))
        problems = read.problems
        (
            name_value,
            number_value,
            item_value,
            source_value,
            amount_value,
            channel_value,
            card_value,
            paid_value,
            unit_value,
            note_value,
        ) = values
        # A text cell is stripped already (`values`): `_text` only for the rest (numbers, dates, None).
        name = name_value if type(name_value) is str else _text(name_value).strip()
        if not name:
            problems.append(_("“姓名”不能为空"))
        number = ""
        if number_value is None:
            problems.append(_("“身份证号”不能为空"))
        else:
            number = self.id_number(number_value, problems)
        item = source = None
        channel: str | None = None
        if item_value is None or source_value is None or channel_value is None:
            for label, value in (
                ("帮扶项目", item_value),
                ("资金来源", source_value),
                ("发放方式", channel_value),
            ):
                if value is None:
                    problems.append(_("“{label}”不能为空").format(label=label))
        names = self.names
        if item_value is not None:
            item = names.item(item_value if type(item_value) is str else _text(item_value))
            if item is None:
                problems.append(
                    _("没有“{value}”这个帮扶项目（应为{known}之一）").format(
                        value=item_value, known="、".join(i.name for i in names.items.values())
                    )
                )
        if source_value is not None:
            source = names.source(source_value if type(source_value) is str else _text(source_value))
            if source is None:
                problems.append(
                    _("没有“{value}”这个资金来源（应为{known}之一）").format(
                        value=source_value, known="、".join(s.name for s in names.sources.values())
                    )
                )
        if channel_value is not None:
            channel = names.channel(channel_value if type(channel_value) is str else _text(channel_value))
            if channel is None:
                problems.append(
                    _("没有“{value}”这种发放方式（应为阳光5·1卡、银行卡、现金或实物）").format(
                        value=channel_value
                    )
                )
        amount: Decimal | None = None
        try:
            amount = _yuan(amount_value)
        except rules.AmountError as problem:
            problems.append(_("金额（元）：{problem}").format(problem=problem))
        paid_on: dt.date | None = None
        if paid_value is None:
            problems.append(_("“发放日期”不能为空"))
        else:
            paid_on = _date_of_text(paid_value) if type(paid_value) is str else self.date(paid_value)
            start, end = self.period
            if paid_on is None:
                problems.append(
                    _("“发放日期”应是日期（如 2018-01-25），这里是“{value}”").format(value=paid_value)
                )
            elif not start <= paid_on <= end:
                problems.append(
                    _("发放日期 {day} 不在活动期间（{start} 至 {end}）内").format(
                        day=paid_on, start=start, end=end
                    )
                )
        unit_name = "" if unit_value is None else _text(unit_value).strip()
        if unit_name:
            unit = self.units.get(normalize_text(unit_name))
            if unit is None:
                problems.append(_("所属工会“{name}”不存在，或您不能为它录入发放记录").format(name=unit_name))
            elif unit.id not in self.enterable:
                problems.append(
                    _("您不能为“{name}”录入发放记录：花名册只能导入本单位的发放").format(name=unit.name)
                )
            else:
                read.unit = unit
        else:
            read.unit = self.default_unit
        note = note_value if type(note_value) is str else _text(note_value).strip()
        if problems:
            return read
        assert item is not None and source is not None and channel is not None and paid_on is not None
        assert amount is not None  # `_yuan` refuses a blank
        goods = channel == _GOODS
        read.data = HelpInput(
            recipient_kind=_PERSON,  # until the archive says it is a household (`resolve`)
            item=item.code,
            source=source.code,
            channel=channel,
            paid_on=paid_on,
            name=name,
            id_number=number,
            person_category=_CATEGORIES.get(normalize_text(note), _WORKER),
            amount=None if goods else amount,
            goods_value=amount if goods else None,
            goods_description=note if goods else "",
            cash_reason=note if channel == _CASH else "",
            card_number=card_value if type(card_value) is str else _text(card_value),
            note=note,
        )
        read.wanted = amount
        read.found.item, read.found.source = item, source
        return read

    # --- the rules that need the archive and the ledger ---------------------------------------------------

    def resolve(self, read: _Row, households: Sequence[Household]) -> None:
        """Who the row pays (a filed household of the row's unit or below, else a person not on file), and
        the recipient's and channel's rules — the services' own checks."""
        data, found, unit = read.data, read.found, read.unit
        assert data is not None and unit is not None and found.source is not None
        household: Household | None = None
        if households:  # most rows of a roster pay people not on file: nothing to choose from
            units = self.unit_of
            mine = [h for h in households if units[h.unit_id].is_within(unit)]
            household = next(
                (h for h in mine if rules.file_open_on(local_date(h.filed_at), h.ended_on, data.paid_on)),
                max(mine, key=lambda h: h.pk, default=None),
            )
        bound = found.source.archive_first
        if household is not None:
            data.recipient_kind, data.household_id = Kind.HOUSEHOLD, household.pk
            found.household, found.name, found.id_number = household, household.head_name, data.id_number
            if data.name != household.head_name:
                found.errors.append(
                    Problem(
                        "name-differs",
                        _("姓名“{name}”与档案户主“{head}”不符（实名制）").format(
                            name=data.name, head=household.head_name
                        ),
                        "name",
                    )
                )
            if bound:
                check_archive_first(household, data.paid_on, found)
        else:
            found.name, found.id_number = data.name, data.id_number
            if bound:
                found.errors.append(unfiled_problem(data.name))
        check_channel(data, found)

    def cache_units(self, ids: Iterable[int]) -> None:
        """The units of `ids` not yet in `unit_of` read (one query, none once a roster's units are known)."""
        missing = set(ids) - self.unit_of.keys()
        if missing:
            self.unit_of.update((unit.pk, unit) for unit in Unit.objects.filter(pk__in=missing))

    def recipient(self, read: _Row) -> tuple[str, Any]:
        if read.found.household is not None:
            return ("h", read.found.household.pk)
        return ("p", read.found.id_number)

    def available(self, unit: Unit, source: FundSource) -> Decimal:
        """What `unit` has left of `source`: read once (the unit locked), then kept up to date here."""
        key = (unit.id, source.id)
        if key not in self.left:
            if unit.id not in self.locked:  # two imports, or an import and a page, may not share a remainder
                lock_unit_in_campaign(self.campaign.pk, unit.id)
                self.locked.add(unit.id)
            self.left[key] = available(self.campaign, unit, source)
        return self.left[key]

    def caps_of(self, item: HelpItem, household: Household | None) -> tuple[bool, rules.Cap]:
        """Whether the item's cap cannot be computed, and its caps, for a row to `household` (None: a
        person) — what `apply_caps` computes from the same rules, once per item and household kind."""
        living_line = household.minimum_living_line if household is not None else None
        size = household.household_size if household is not None else None
        key = (item.id, living_line, size)
        known = self.caps.get(key)
        if known is None:
            known = self.caps[key] = (
                rules.basis_unknown(item.cap_basis, living_line=living_line, cost=None),
                rules.cap_for(
                    item.cap_basis,
                    per_payment=item.per_payment,
                    per_year=item.per_year,
                    living_line=living_line,
                    household_size=size,
                    cost=None,
                ),
            )
        return known

    def database_row(self, read: _Row) -> tuple[Any, ...]:
        """The help record's row in `RECORD_COLUMNS` order, in the form the database takes."""
        data, found, unit = read.data, read.found, read.unit
        assert data is not None and unit is not None and found.item is not None and found.source is not None
        amount, goods_value, money, day = data.amount, data.goods_value, self.adapt_money, self.adapt_day
        if money is not None:
            amount = None if amount is None else money(amount)
            goods_value = None if goods_value is None else money(goods_value)
        warnings = found.warnings
        return (
            self.campaign.id,
            unit.id,
            data.recipient_kind,
            data.household_id,
            found.name,
            found.id_number,
            data.person_category if data.recipient_kind == _PERSON else "",
            "",  # credit_code
            "",  # enterprise_kind
            found.item.id,
            found.source.id,
            amount,
            data.goods_description,
            None,  # goods_quantity
            goods_value,
            None,  # cost_basis
            data.channel,
            data.cash_reason,
            found.card_number,
            found.bank,
            data.paid_on if day is None else day(data.paid_on),
            data.note[:200],
            "",  # evidence
            self.adapt_json([problem.as_dict() for problem in warnings]) if warnings else self.no_warnings,
            "",  # explanation
            self.draft,
            self.unpaid,
            self.user.id,
            self.entered_at,
            None,  # approved_by_id
            None,  # approved_at
            None,  # reverses_id
            read.key,
            self.job.id,
            read.row,
        )


def _no_adapter(value: Any) -> Any:
    return value


def _where_in(
    model: type[models.Model],
    columns: Sequence[str],
    column: str,
    values: Iterable[Any],
    *,
    also: tuple[str, list[Any]] = ("", []),
) -> list[tuple[Any, ...]]:
    """`columns` of the rows whose `column` is one of `values`: one probe of the column's index, without
    the ORM's per-value preparation (a batch asks for thousands). Only plain columns (text, integers)."""
    values = list(values)
    if not values:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(name) for name in columns)
    condition, condition_params = also
    where = f"{condition} AND " if condition else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {names} FROM {table} WHERE {where}{quote(column)} = ANY(%s)",
                [*condition_params, values],
            )
        else:
            marks = ", ".join(["%s"] * len(values))
            cursor.execute(
                f"SELECT {names} FROM {table} WHERE {where}{quote(column)} IN ({marks})",
                [*condition_params, *values],
            )
        return [tuple(row) for row in cursor.fetchall()]


_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
#: The weighted sum of 17 ASCII digits taken as their byte values is too large by this ('0' is byte 48):
#: summing the bytes spares an int() per digit, on every row.
_ASCII_ZERO_WEIGHT = ord("0") * sum(_WEIGHTS)
_CHECK = "10X98765432"
_CHECK_CHARACTERS = frozenset("0123456789X")


def _plain_valid_id(text: str, today: dt.date) -> bool:
    """`parse_id_number` would accept `text` as it is (18 ASCII characters, known area, possible birth date,
    right check character); False sends it there, for the number or the precise reason."""
    if len(text) != 18 or not text.isascii():
        return False
    head = text[:17]
    if not head.isdigit():
        return False
    last = text[17].upper()
    if last not in _CHECK_CHARACTERS or not _plausible_birth(text[:2], text[6:14], today):
        return False
    return _CHECK[(sum(map(operator.mul, head.encode(), _WEIGHTS)) - _ASCII_ZERO_WEIGHT) % 11] == last


@functools.lru_cache(maxsize=65536)
def _plausible_birth(province: str, birth: str, today: dt.date) -> bool:
    try:
        day = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        return False
    return province in PROVINCES and EARLIEST_BIRTH <= day <= today


@functools.lru_cache(maxsize=4096)
def _date_of_text(text: str) -> dt.date | None:
    """A date as people type it; a roster holds a few dates, each parsed once."""
    match = DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", text).strip())
    try:
        return dt.date(*(int(part) for part in match.groups())) if match else None
    except ValueError:
        return None


_parse_text_yuan = functools.lru_cache(maxsize=4096)(rules.parse_yuan)


def _yuan(value: Any) -> Decimal | None:
    """`rules.parse_yuan`; text (most rosters hold a few amounts, again and again) parsed once per text."""
    if isinstance(value, str):
        return _parse_text_yuan(value)
    return rules.parse_yuan(value)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while the import runs, as it was after.

    A batch's thousands of row objects live long enough to be promoted, so full collections come often
    during an import, and each walks the whole heap (Django, the app): ≈ 15 % of the import's time at
    100,000 rows. What a row makes holds no reference cycle and is freed by its count at the end of its
    batch, so memory stays flat (the benchmark checks it); the few cycles a batch's queries may leave are
    collected when the collector resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def roster_import(
    *,
    user: User,
    job: RosterImport,
    rows: Iterable[tuple[int, Sequence[Any]]],
    mapping: Mapping[str, int],
    reject: RejectRow,
    progress: Progress | None = None,
    fraction_read: Callable[[], float] = lambda: 0.0,
) -> ImportOutcome:
    """Import `rows` (row number, cells) as draft help records in one transaction; each bad row goes to
    `reject` with its reasons. Ends with one ROSTER_IMPORTED event in the ledger's history."""
    if not may_enter_ledger(user, job.unit):
        raise MappingError(_("您不能为“{unit}”录入发放记录").format(unit=job.unit.name))
    check_mapping(mapping, job.columns)
    reader = RosterReader(user=user, job=job, mapping=mapping)
    outcome = ImportOutcome()
    with transaction.atomic(), _collector_paused():
        in_batches(
            rows,
            batch_rows=BATCH_ROWS,
            handle=lambda batch: _import_batch(batch, reader, outcome, reject),
            outcome=outcome,
            progress=progress,
            fraction_read=fraction_read,
        )
        record_event(
            LedgerEvent.Action.ROSTER_IMPORTED,
            user=user,
            campaign=job.campaign,
            unit=job.unit,
            new={
                "file": job.file_name,
                "rows": str(outcome.rows),
                "created": str(outcome.created),
                "existing": str(outcome.existing),
                "rejected": str(outcome.rejected),
                "warnings": str(outcome.warnings),
            },
            note=_(
                "导入花名册“{file}”：读取 {rows} 行，新增待审核记录 {created} 条，已导入过 {existing} 条，"
                "退回 {rejected} 行，有提醒 {warnings} 条"
            ).format(
                file=job.file_name,
                rows=outcome.rows,
                created=outcome.created,
                existing=outcome.existing,
                rejected=outcome.rejected,
                warnings=outcome.warnings,
            ),
        )
    if progress is not None:
        progress(outcome.rows, 1.0)
    return outcome


def _import_batch(
    batch: Sequence[tuple[int, Sequence[Any]]],
    reader: RosterReader,
    outcome: ImportOutcome,
    reject: RejectRow,
) -> None:
    if not batch:
        return
    campaign = reader.campaign
    reads = [reader.read(row, cells) for row, cells in batch]
    # Rows imported before (this file again, or an earlier one with the same rows): nothing new.
    keys = {read.key for read in reads}
    # The campaign and the partial index's own condition spelled out, so that the probe uses that index.
    held_keys = {
        key
        for (key,) in _where_in(
            HelpRecord,
            ("import_key",),
            "import_key",
            keys,
            also=("campaign_id = %s AND NOT (import_key = '')", [campaign.id]),
        )
    }
    numbers = {read.data.id_number for read in reads if read.data is not None}
    households: dict[str, list[Household]] = defaultdict(list)
    filed = {number for (number,) in _where_in(Household, ("head_id_number",), "head_id_number", numbers)}
    if filed:  # most rows of most rosters are on file: their households alone, as objects
        # Only the fields the rules read (`resolve`, `check_archive_first`, `check_channel`, `apply_caps`),
        # and the units from the reader's own cache: a household object costs 40 µs with its whole row and
        # its unit joined, a few rows in ten of a roster pay one.
        for household in Household.objects.filter(head_id_number__in=filed).only(*HOUSEHOLD_FIELDS):
            households[household.head_id_number].append(household)
        reader.cache_units(h.unit_id for found in households.values() for h in found)
    checked: list[_Row] = []
    for read in reads:
        if read.key in held_keys:
            outcome.existing += 1
            continue
        if read.data is not None:
            reader.resolve(read, households.get(read.data.id_number, ()))
        checked.append(read)
    seen, cards = _what_is_held(reader, [r for r in checked if r.data is not None and not r.found.errors])
    good: list[tuple[Any, ...]] = []
    for read in checked:
        if read.data is not None and not read.found.errors:
            _check_ledger(reader, read, seen, cards)
        if read.problems or read.found.errors:
            problems = read.problems or [problem.message for problem in read.found.errors]
            outcome.rejected += 1
            reject(read.row, read.cells, "；".join(problems))
            continue
        if read.found.warnings:
            outcome.warnings += 1
        good.append(reader.database_row(read))
    insert_rows(HelpRecord, RECORD_COLUMNS, good)
    outcome.created += len(good)


def _what_is_held(
    reader: RosterReader, reads: Sequence[_Row]
) -> tuple[dict[tuple[str, Any], _Seen], dict[str, list[tuple[int | None, str]]]]:
    """The records already held (the file's earlier batches too) for the batch's recipients and cards: two
    queries a batch, never one a row."""
    seen: dict[tuple[str, Any], _Seen] = defaultdict(_Seen)
    cards: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    household_ids = {r.found.household.id for r in reads if r.found.household is not None}
    numbers = {r.found.id_number for r in reads if r.found.id_number}
    # A bare probe of the indexes first (a fresh campaign holds nothing for most rows), then what was found.
    found_ids = {pk for (pk,) in _where_in(HelpRecord, ("id",), "id_number", numbers)}
    found_ids |= {pk for (pk,) in _where_in(HelpRecord, ("id",), "household_id", household_ids)}
    if found_ids:
        held = HelpRecord.objects.filter(pk__in=found_ids).values_list(
            "pk",
            "household_id",
            "id_number",
            "item_id",
            "campaign_id",
            "paid_on",
            "amount",
            "goods_value",
            "reverses_id",
            "import_job_id",
            "import_row",
        )
        rows = list(held)
        reversed_ids = {row[8] for row in rows if row[8] is not None}
        for (
            pk,
            household_id,
            number,
            item_id,
            campaign_id,
            paid_on,
            amount,
            goods,
            reverses,
            job_id,
            row,
        ) in rows:
            keys: list[tuple[str, Any]] = [("p", number)] if number else []
            if household_id is not None:
                keys.append(("h", household_id))
            for key in keys:
                entry = seen[key]
                year_key = (item_id, paid_on.year)
                entry.year_sums[year_key] = entry.year_sums.get(year_key, ZERO) + value_of(amount, goods)
                if campaign_id == reader.campaign.id and reverses is None and pk not in reversed_ids:
                    entry.live_items.add(item_id)
                if job_id == reader.job.id and row is not None:
                    entry.file_rows.setdefault(item_id, row)
    # The duplicate check by ID number takes a person's records under that number, whoever entered them
    # (services: Q(id_number=…)); a household's, its own records (Q(household=…)).
    wanted_cards = {r.found.card_number for r in reads if r.found.card_number}
    if wanted_cards:
        for card, household_id, number in _where_in(
            HelpRecord, ("card_number", "household_id", "id_number"), "card_number", wanted_cards
        ):
            cards[card].append((household_id, number))
    return seen, cards


def _check_ledger(
    reader: RosterReader,
    read: _Row,
    seen: dict[tuple[str, Any], _Seen],
    cards: dict[str, list[tuple[int | None, str]]],
) -> None:
    """Money left, repeats, shared cards and caps — the services' own rules (`budget_problem`,
    `duplicate_problem`, `card_shared_problem`, `apply_caps`) — on what was read for the batch, instead of a
    query a row; a row accepted here counts for the rows after it."""
    data, found, unit = read.data, read.found, read.unit
    assert data is not None and unit is not None and found.item is not None and found.source is not None
    item, source = found.item, found.source
    recipient = reader.recipient(read)
    entry = seen.get(recipient)  # None: nothing held for the recipient (most rows), nothing made for it
    if entry is not None:
        earlier_row = entry.file_rows.get(item.id)
        if earlier_row is not None:
            found.errors.append(
                Problem(
                    "same-in-file",
                    _("{name}的“{item}”与本文件第{row}行重复（同一人同一项目在一个文件中只能有一行）").format(
                        name=found.name, item=item.name, row=earlier_row
                    ),
                )
            )
            return
    wanted = read.wanted
    left = reader.available(unit, source)
    over = budget_problem(source, left, wanted)
    if over is not None:
        found.errors.append(over)
        return
    if entry is not None and item.id in entry.live_items:
        found.warnings.append(duplicate_problem(found))
    card = found.card_number
    holders = cards.get(card) if card else None  # None for most: a card not seen before
    if holders and any(not _same_recipient(recipient, holder) for holder in holders):
        found.warnings.append(card_shared_problem())
    year = data.paid_on.year
    so_far = entry.year_sums.get((item.id, year), ZERO) if entry is not None else ZERO
    # `apply_caps` adds nothing when the cap is known and neither limit is passed — most rows: asked only
    # otherwise, it says what is wrong in its own words (the test below is its own, on the same caps).
    unknown, cap = reader.caps_of(item, found.household)
    if (
        unknown
        or (cap.per_payment is not None and wanted > cap.per_payment)
        or (cap.per_year is not None and so_far + wanted > cap.per_year)
    ):
        apply_caps(data, found, so_far)
        if found.errors:
            return
    # Accepted: what it takes counts for the rows after it in this batch (later batches read it back).
    reader.left[(unit.id, source.id)] = left - wanted
    for key in _keys_of(read, recipient):
        other = seen.get(key)
        if other is None:
            other = seen[key] = _Seen()
        other.live_items.add(item.id)
        other.year_sums[(item.id, year)] = other.year_sums.get((item.id, year), ZERO) + wanted
        other.file_rows.setdefault(item.id, read.row)
    if card:
        cards[card].append((data.household_id, found.id_number))


def _same_recipient(recipient: tuple[str, Any], holder: tuple[int | None, str]) -> bool:
    """Whether a card's `holder` (household id, ID number) is the row's recipient: a household by its file,
    anyone else by the ID number."""
    kind, key = recipient
    return bool(holder[0] == key if kind == "h" else holder[1] == key)


def _keys_of(read: _Row, recipient: tuple[str, Any]) -> list[tuple[str, Any]]:
    keys = [recipient]
    if recipient[0] == "h" and read.found.id_number:
        keys.append(("p", read.found.id_number))
    return keys
