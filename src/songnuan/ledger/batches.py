"""Bank payment batches (批量代发): approved card payments go to a bank together, and the bank's return file
(回盘文件) settles each one.

    queued ──batch_create──▶ in-batch ──batch_reconcile──▶ paid
                                                    └──▶ failed ──batch_create (a new batch)──▶ in-batch …

The batch itself: draft ──batch_mark_sent──▶ sent ──batch_reconcile──▶ reconciled; a draft (not yet at the
bank) may be cancelled (batch_cancel, 作废, with a reason): its payments go back to the queue as they were
(queued, or failed when an earlier batch failed them) and the batch keeps its lines for the history. What
each state allows is `BATCH_STEPS`, read by the services and by the page alike.

A batch is made, exported (the file the bank's 批量代发 takes: .xlsx, or CSV in GBK, with the columns of the
bank's format in data/ledger.toml), marked sent, and reconciled with the bank's return file: per row 序号,
姓名, 卡号, 金额, 结果 (成功/失败) and 失败原因; a 批次号 column, when the bank adds one, must be the batch's.

Who may: a reviewer or admin of the unit or above (`may_approve_help`) makes, sends and reconciles; anyone who
sees the unit's ledger (`may_see_ledger`) sees its batches, card and ID numbers masked unless
`may_see_personal_data`. The exported bank file carries full card and ID numbers (the bank needs them): only
a user who may also see personal data downloads it, others are refused with a Chinese message, and each
download is logged in the archive's personal-data log for the households in it.

A return file is taken whole or not at all, in one transaction: a duplicated row, an amount or a card number
that differs from the batch line, a 结果 that is neither 成功 nor 失败, a row for a line already settled, a
file that names another batch or matches no line — the file is refused with every problem listed, and
nothing is marked. Rows that match no line of the batch are reported (they are the bank's to explain) while
the matching rows are taken. A file already used for a reconciliation is refused. Lines the file does not
mention stay with the bank; the batch is reconciled once every line is settled.

Every change writes `LedgerEvent`s: one for the batch (BATCH_CREATED, BATCH_SENT, BATCH_CANCELLED,
BATCH_RECONCILED, with
who, old and new) and one per help record whose payment state changed (linked to both).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import python_calamine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import Household, PersonalDataView
from songnuan.archive.services import personal_data_viewed
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.services import lock_unit_in_campaign
from songnuan.formkit.excel_writer import new_workbook, write_text
from songnuan.formkit.list_reader import ListReading, UnreadableFile, open_list
from songnuan.formkit.values import normalize_text
from songnuan.ledger import rules
from songnuan.ledger.config import BankFormat, bank_formats
from songnuan.ledger.models import BatchLine, HelpRecord, LedgerEvent, PaymentBatch
from songnuan.ledger.services import CARD_CHANNELS, LedgerError, Problem, record_event
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    may_approve_help,
    may_see_ledger,
    may_see_personal_data,
    units_visible_to,
)

Payment = HelpRecord.Payment
Outcome = BatchLine.Outcome
BatchState = PaymentBatch.State

#: What may be done to a batch in each state: the services refuse anything else, the page offers only these.
#: A sent batch is the bank's: only its return file settles it (a cancelled one would still be paid).
BATCH_STEPS: dict[str, frozenset[str]] = {
    BatchState.DRAFT: frozenset({"export", "send", "cancel"}),
    BatchState.SENT: frozenset({"export", "reconcile"}),
    BatchState.RECONCILED: frozenset({"export"}),
    BatchState.CANCELLED: frozenset(),
}


def batch_allows(batch: PaymentBatch, step: str) -> bool:
    return step in BATCH_STEPS[batch.state]


#: A bank's return file is one row per payment: a few MB at most. Larger uploads are refused unread.
RETURN_FILE_MAX_BYTES = 20 * 1024 * 1024
RETURN_FILE_SUFFIXES = (".xlsx", ".xls", ".csv")
#: Rows read beyond the batch's lines before the file is judged not to be this batch's return file.
EXTRA_ROWS_READ = 1000
#: The batch numbers this module gives (DF + date + unit + running number): a file name holding one that is
#: not this batch's names another batch.
BATCH_NUMBER = re.compile(r"DF\d{8}-\d+-\d+")
#: What banks write in the 结果 column.
PAID_WORDS = frozenset({"成功", "已成功", "交易成功", "处理成功", "代发成功", "入账成功", "已入账"})
FAILED_WORDS = frozenset({"失败", "交易失败", "处理失败", "代发失败", "入账失败", "退回", "已退回"})
#: The return file's columns, by the headers banks use for them.
RETURN_HEADERS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "顺序号", "编号"),
    "name": ("姓名", "户名", "收款人姓名", "收款人户名", "账户名称"),
    "card_number": ("卡号", "账号", "收款账号", "收款人账号", "银行卡号"),
    "amount": ("金额", "金额（元）", "金额(元)", "交易金额", "代发金额"),
    "result": ("结果", "处理结果", "交易结果", "代发结果", "状态", "交易状态"),
    "reason": ("失败原因", "原因", "备注", "错误信息", "失败信息"),
    "batch": ("批次号", "批次", "批次编号"),
}


# --- reads -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    count: int = 0
    total: Decimal = Decimal("0.00")


def _yuan(value: object) -> Decimal:
    """A sum from the database as yuan to the cent (SQLite's SUM loses the trailing zeros)."""
    return Decimal(str(value or 0)).quantize(rules.CENT)


def bank_format_choices() -> list[tuple[str, str]]:
    """(code, name) of the configured bank file formats, for a form's choices."""
    return [(code, spec.name) for code, spec in bank_formats().items()]


def queued_records(campaign: Campaign, unit: Unit) -> QuerySet[HelpRecord]:
    """The unit's approved card payments waiting for a batch: never sent (queued) or sent and failed."""
    return (
        HelpRecord.objects.filter(
            campaign=campaign,
            unit=unit,
            state=HelpRecord.State.APPROVED,
            channel__in=CARD_CHANNELS,
            payment__in=(Payment.QUEUED, Payment.FAILED),
            amount__gt=0,
            reverses__isnull=True,
        )
        .exclude(card_number="")
        .order_by("paid_on", "pk")
    )


def queue_summary(campaign: Campaign, unit: Unit) -> Tally:
    """How many payments wait for a batch, and their sum."""
    found = queued_records(campaign, unit).aggregate(count=Count("pk"), total=Sum("amount"))
    return Tally(found["count"], _yuan(found["total"]))


def batches(campaign: Campaign, unit: Unit) -> QuerySet[PaymentBatch]:
    """The unit's batches in `campaign`, newest first, each with its line count and total (`line_count`,
    `total`). The caller has asked `may_see_ledger` for `unit`."""
    return (
        PaymentBatch.objects.filter(campaign=campaign, unit=unit)
        .select_related("created_by")
        .annotate(line_count=Count("lines"), total=Sum("lines__amount"))
    )


def batches_visible_to(user: User) -> QuerySet[PaymentBatch]:
    """Every batch of a unit `user` sees (the API's list)."""
    return PaymentBatch.objects.filter(unit__in=units_visible_to(user))


def batch_of(user: User, batch_id: int) -> PaymentBatch | None:
    """The batch if `user` may see it, else None (the page answers 404: its existence is not told)."""
    batch = PaymentBatch.objects.select_related("campaign", "unit", "created_by").filter(pk=batch_id).first()
    if batch is None or not may_see_ledger(user, batch.unit):
        return None
    return batch


@dataclass(frozen=True)
class BatchSummary:
    """What the batch page's head shows: lines issued, sent, paid, failed, still with the bank."""

    issued: Tally
    sent: Tally
    paid: Tally
    failed: Tally
    pending: Tally


def batch_summary(batch: PaymentBatch) -> BatchSummary:
    rows = batch.lines.values("outcome").annotate(count=Count("pk"), total=Sum("amount"))
    by: dict[str, Tally] = {row["outcome"]: Tally(row["count"], _yuan(row["total"])) for row in rows}
    issued = Tally(sum(t.count for t in by.values()), sum((t.total for t in by.values()), Decimal("0.00")))
    sent = issued if batch.state != PaymentBatch.State.DRAFT else Tally()
    return BatchSummary(
        issued=issued,
        sent=sent,
        paid=by.get(Outcome.PAID, Tally()),
        failed=by.get(Outcome.FAILED, Tally()),
        pending=by.get(Outcome.PENDING, Tally()),
    )


@dataclass(frozen=True)
class ShownLine:
    """A batch line as `user` may see it."""

    line: BatchLine
    id_number: str
    card_number: str


def batch_lines_shown(user: User, batch: PaymentBatch) -> list[ShownLine]:
    """The batch's lines, ID and card numbers masked unless `may_see_personal_data` for the batch's unit."""
    full = may_see_personal_data(user, batch.unit)
    return [
        ShownLine(
            line,
            line.id_number if full or not line.id_number else mask_id_number(line.id_number),
            line.card_number if full else mask_card(line.card_number),
        )
        for line in batch.lines.select_related("record").order_by("seq")
    ]


def batch_events(batch: PaymentBatch) -> QuerySet[LedgerEvent]:
    """The batch's own history (not the per-record events), oldest first."""
    return LedgerEvent.objects.filter(batch=batch, record__isnull=True).select_related("user")


def export_refusal(user: User, batch: PaymentBatch) -> str | None:
    """Why `user` may not download the bank file of `batch` (None: it may). The file holds full card and
    ID numbers: a batch manager (`may_approve_help`) who may also see personal data."""
    if not may_approve_help(user, batch.unit):
        return _("只有本单位或上级单位的审核员可以下载银行代发文件")
    if not may_see_personal_data(user, batch.unit):
        return _(
            "银行代发文件含完整的卡号和身份证号，只有具有“查看完整身份信息”权限的账号可以下载；"
            "请联系管理员授予权限，或请有权限的同事下载"
        )
    if not batch_allows(batch, "export"):
        return _("批次 {number} 已作废，不能再下载代发文件：其中的款项已回到待发放队列").format(
            number=batch.number
        )
    return None


# --- making, sending ---------------------------------------------------------------------------------------


def _require_manager(user: User, unit: Unit) -> None:
    if not may_approve_help(user, unit):
        raise PermissionDenied(
            _("只有本单位或上级单位的审核员可以办理{unit}的银行代发").format(unit=unit.name)
        )


def _new_number(unit: Unit) -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    prefix = f"DF{today}-{unit.pk}-"
    taken = PaymentBatch.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1}"


def _payment_events(
    *,
    user: User,
    action: str,
    batch: PaymentBatch,
    changes: Iterable[tuple[HelpRecord, str, dict[str, str]]],
) -> None:
    """One event per record whose payment state changed: (record, old state, what is new)."""
    LedgerEvent.objects.bulk_create(
        LedgerEvent(
            action=action,
            user=user,
            campaign=batch.campaign,
            unit=batch.unit,
            record=record,
            batch=batch,
            old={"payment": old},
            new={**new, "batch": batch.number},
        )
        for record, old, new in changes
    )


@transaction.atomic
def batch_create(
    *, user: User, campaign: Campaign, unit: Unit, bank_format: str, purpose: str = ""
) -> PaymentBatch:
    """Put the unit's queued and failed card payments (`queued_records`) into a new batch, in the layout of
    `bank_format`; their payment state becomes in-batch."""
    _require_manager(user, unit)
    spec = bank_formats().get(bank_format)
    if spec is None:
        raise LedgerError(_("没有“{code}”这种银行文件格式").format(code=bank_format))
    lock_unit_in_campaign(campaign.pk, unit.pk)  # one batch at a time per unit
    records = list(queued_records(campaign, unit).select_for_update())
    if not records:
        raise LedgerError(_("{unit}没有待发放的卡发放记录：记录审核后才进入代发").format(unit=unit.name))
    batch = PaymentBatch.objects.create(
        campaign=campaign,
        unit=unit,
        number=_new_number(unit),
        bank_format=spec.code,
        purpose=purpose.strip() or PaymentBatch._meta.get_field("purpose").get_default(),
        created_by=user,
    )
    BatchLine.objects.bulk_create(
        BatchLine(
            batch=batch,
            record=record,
            seq=seq,
            name=record.name,
            id_number=record.id_number,
            card_number=rules.normalize_card(record.card_number),
            bank=record.bank,
            amount=record.amount or Decimal(0),  # queued_records has amount > 0
        )
        for seq, record in enumerate(records, start=1)
    )
    olds = {record.pk: record.payment for record in records}
    HelpRecord.objects.filter(pk__in=olds).update(payment=Payment.IN_BATCH)
    total = sum((record.amount or Decimal(0) for record in records), Decimal("0.00"))
    record_event(
        LedgerEvent.Action.BATCH_CREATED,
        user=user,
        campaign=campaign,
        unit=unit,
        batch=batch,
        new={
            "number": batch.number,
            "bank_format": spec.name,
            "state": batch.state,
            "lines": str(len(records)),
            "total": str(total),
            "retried": str(sum(1 for old in olds.values() if old == Payment.FAILED)),
        },
    )
    _payment_events(
        user=user,
        action=LedgerEvent.Action.BATCH_CREATED,
        batch=batch,
        changes=((r, olds[r.pk], {"payment": Payment.IN_BATCH}) for r in records),
    )
    return batch


def _locked(batch: PaymentBatch) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update().select_related("campaign", "unit").get(pk=batch.pk)


@transaction.atomic
def batch_mark_sent(*, user: User, batch: PaymentBatch) -> PaymentBatch:
    """Record that the batch's file went to the bank (送银行): its lines now wait for the return file."""
    _require_manager(user, batch.unit)
    batch = _locked(batch)
    if not batch_allows(batch, "send"):
        if batch.state == BatchState.CANCELLED:
            raise LedgerError(_("批次 {number} 已作废，不能送银行").format(number=batch.number))
        raise LedgerError(
            _("批次 {number} 已于 {at} 送银行").format(
                number=batch.number,
                at=timezone.localtime(batch.sent_at).strftime("%Y-%m-%d %H:%M") if batch.sent_at else "—",
            )
        )
    batch.state = PaymentBatch.State.SENT
    batch.sent_at = timezone.now()
    batch.save(update_fields=["state", "sent_at"])
    record_event(
        LedgerEvent.Action.BATCH_SENT,
        user=user,
        campaign=batch.campaign,
        unit=batch.unit,
        batch=batch,
        old={"state": PaymentBatch.State.DRAFT},
        new={"state": PaymentBatch.State.SENT},
    )
    return batch


@transaction.atomic
def batch_cancel(*, user: User, batch: PaymentBatch, reason: str) -> PaymentBatch:
    """Cancel (作废) a batch not yet sent to the bank — made by mistake, or to take a payment out: its
    payments go back to the queue as they were before it, to be batched again; the batch keeps its lines."""
    _require_manager(user, batch.unit)
    reason = reason.strip()
    if not reason:
        raise LedgerError(_("作废批次须写明原因"))
    batch = _locked(batch)
    if not batch_allows(batch, "cancel"):
        raise LedgerError(
            _("批次 {number}{state}，不能作废：只有尚未送银行的批次可以作废").format(
                number=batch.number, state=batch.get_state_display()
            )
        )
    records = [line.record for line in batch.lines.select_related("record").order_by("seq")]
    failed_before = set(
        BatchLine.objects.filter(record__in=records, outcome=Outcome.FAILED)
        .exclude(batch=batch)
        .values_list("record_id", flat=True)
    )
    back = {record.pk: Payment.FAILED if record.pk in failed_before else Payment.QUEUED for record in records}
    for state in (Payment.QUEUED, Payment.FAILED):
        HelpRecord.objects.filter(
            pk__in=[pk for pk, then in back.items() if then == state], payment=Payment.IN_BATCH
        ).update(payment=state)
    batch.state = BatchState.CANCELLED
    batch.save(update_fields=["state"])
    record_event(
        LedgerEvent.Action.BATCH_CANCELLED,
        user=user,
        campaign=batch.campaign,
        unit=batch.unit,
        batch=batch,
        old={"state": BatchState.DRAFT},
        new={"state": BatchState.CANCELLED, "lines": str(len(records))},
        note=reason,
    )
    _payment_events(
        user=user,
        action=LedgerEvent.Action.BATCH_CANCELLED,
        batch=batch,
        changes=((record, Payment.IN_BATCH, {"payment": back[record.pk]}) for record in records),
    )
    return batch


# --- the bank file ---------------------------------------------------------------------------------------


def _format_of(batch: PaymentBatch) -> BankFormat:
    spec = bank_formats().get(batch.bank_format)
    if spec is None:
        raise LedgerError(
            _("批次 {number} 的银行文件格式“{code}”已不在配置中（data/ledger.toml）").format(
                number=batch.number, code=batch.bank_format
            )
        )
    return spec


def _cells(batch: PaymentBatch, line: BatchLine, spec: BankFormat) -> list[Any]:
    values: dict[str, Any] = {
        "seq": line.seq,
        "name": line.name,
        "id_number": line.id_number,
        "card_number": line.card_number,
        "bank": line.bank,
        "amount": line.amount,
        "purpose": batch.purpose,
    }
    return [values[column] for column in spec.columns]


def _export_lines(user: User, batch: PaymentBatch) -> list[BatchLine]:
    refusal = export_refusal(user, batch)
    if refusal:
        raise PermissionDenied(refusal)
    return list(batch.lines.select_related("record").order_by("seq"))


def _log_export(user: User, lines: Sequence[BatchLine]) -> None:
    """The households whose full numbers went out, in the archive's log (as its own Excel export does)."""
    households = Household.objects.filter(
        pk__in={line.record.household_id for line in lines if line.record.household_id}
    )
    personal_data_viewed(user=user, households=list(households), via=PersonalDataView.Via.EXPORT)


def batch_export_xlsx(*, user: User, batch: PaymentBatch) -> bytes:
    """The bank file as .xlsx: the format's headers on the first row, one line per row; numbers of cards and
    IDs as text (never a number that loses digits), every text as text (never a formula)."""
    spec = _format_of(batch)
    lines = _export_lines(user, batch)
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    try:
        sheet = workbook.add_worksheet(_("代发明细"))
        head = workbook.add_format({"bold": True, "border": 1})
        text = workbook.add_format({"num_format": "@"})
        money = workbook.add_format({"num_format": "0.00"})
        for column, key in enumerate(spec.columns):
            sheet.set_column(column, column, {"card_number": 22, "id_number": 20, "bank": 20}.get(key, 12))
            write_text(sheet, 0, column, spec.headers[column], head)
        for row, line in enumerate(lines, start=1):
            for column, value in enumerate(_cells(batch, line, spec)):
                if isinstance(value, int):
                    sheet.write_number(row, column, value)
                elif isinstance(value, Decimal):
                    sheet.write_number(row, column, float(value), money)
                elif value:
                    write_text(sheet, row, column, str(value), text)
    finally:
        workbook.close()
    _log_export(user, lines)
    return buffer.getvalue()


#: A CSV cell Excel would read as a formula starts with one of these (and a tab or return before them).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text for a CSV cell that Excel and WPS show as the text it is: one that would start a formula gets
    a leading apostrophe (OWASP's CSV-injection rule; the same promise as `excel_writer.write_text`)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def batch_export_csv(*, user: User, batch: PaymentBatch) -> bytes:
    """The bank file as CSV in GBK (what banks' 批量代发 systems read), the format's headers first. A text
    GBK cannot write is refused with its line and column (the .xlsx carries every character)."""
    spec = _format_of(batch)
    lines = _export_lines(user, batch)
    out = io.BytesIO()
    out.write(_csv_line(spec.headers, 0, spec))
    for line in lines:
        cells = [
            str(value)
            if isinstance(value, int)
            else f"{value:.2f}"
            if isinstance(value, Decimal)
            else csv_text(str(value))
            for value in _cells(batch, line, spec)
        ]
        out.write(_csv_line(cells, line.seq, spec))
    _log_export(user, lines)
    return out.getvalue()


def _csv_line(cells: Sequence[str], seq: int, spec: BankFormat) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(cells)
    try:
        return text.getvalue().encode("gbk")
    except UnicodeEncodeError:
        for column, value in enumerate(cells):
            for character in value:
                try:
                    character.encode("gbk")
                except UnicodeEncodeError:
                    raise LedgerError(
                        _(
                            "第{seq}行{label}“{value}”中的“{ch}”无法写入GBK编码的CSV文件："
                            "请下载Excel格式的代发文件"
                        ).format(seq=seq, label=spec.headers[column], value=value, ch=character)
                    ) from None
        raise


# --- the bank's return file ----------------------------------------------------------------------------


@dataclass
class ReturnRow:
    """One row of a return file, as read."""

    row: int  # as the spreadsheet shows it
    seq: int | None
    name: str
    card_number: str
    amount: Decimal | None
    outcome: str  # Outcome.PAID / Outcome.FAILED
    reason: str


@dataclass
class Reconciled:
    """What a reconciliation did: lines paid and failed (counts and sums), rows matching no line (reported),
    lines the file did not mention (still with the bank)."""

    batch: PaymentBatch
    paid: Tally
    failed: Tally
    unmatched: list[str] = field(default_factory=list)
    still_pending: int = 0


class ReturnFileRefused(LedgerError):
    """A return file taken not at all: `problems` lists every row's problem."""


def _refused(file_name: str, problems: Sequence[Problem]) -> ReturnFileRefused:
    head = _("回盘文件“{file}”未导入，没有任何记录被标记：").format(file=file_name)
    shown = [problem.message for problem in problems[:20]]
    more = len(problems) - len(shown)
    tail = _("……另有 {n} 处问题").format(n=more) if more > 0 else ""
    return ReturnFileRefused(head + "；".join(shown) + tail, problems)


def _store(file_name: str, stream: IO[bytes]) -> tuple[Path, str]:
    """The upload in a temporary file, and its SHA-256; refused when too large or not a return file type."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in RETURN_FILE_SUFFIXES:
        raise LedgerError(
            _("“{file}”不是银行回盘文件：请上传 .xlsx、.xls 或 .csv 文件").format(file=file_name)
        )
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as out:
        path = Path(out.name)
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            size += len(chunk)
            if size > RETURN_FILE_MAX_BYTES:
                out.close()
                path.unlink()
                raise LedgerError(
                    _("“{file}”太大：回盘文件不应超过 {mb} MB").format(
                        file=file_name, mb=RETURN_FILE_MAX_BYTES // 1048576
                    )
                )
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


def _header_map(header: Sequence[str], file_name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        plain = normalize_text(text).replace(" ", "")
        for key, names in RETURN_HEADERS.items():
            if plain in names and key not in found:
                found[key] = index
    missing = [RETURN_HEADERS[key][0] for key in ("amount", "result") if key not in found]
    if "seq" not in found and "card_number" not in found:
        missing.insert(0, _("序号或卡号"))
    if missing:
        raise LedgerError(
            _("回盘文件“{file}”缺少列：{columns}（表头应有 序号、姓名、卡号、金额、结果、失败原因）").format(
                file=file_name, columns="、".join(missing)
            )
        )
    return found


def _cell(row: Sequence[Any], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    value = row[index]
    return value.strip() if isinstance(value, str) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return normalize_text(str(value)).strip()


def _card_cell(value: Any) -> str:
    """The card number a return file gives. A sheet that stored it as a number has lost the digits past the
    15th (Excel keeps 15): such a number is not compared, the row is matched by 序号, 姓名 and 金额."""
    if isinstance(value, float) and abs(value) >= 1e15:
        return ""
    return rules.normalize_card(_text(value))


def _read_return(
    path: Path, file_name: str, batch: PaymentBatch, limit: int
) -> tuple[list[ReturnRow], list[Problem]]:
    try:
        reading = open_list(path)
    except UnreadableFile as problem:
        raise LedgerError(f"{file_name}：{problem}") from None
    rows: list[ReturnRow] = []
    problems: list[Problem] = []
    try:
        columns = _header_map(reading.header, file_name)
        named = set(BATCH_NUMBER.findall(" ".join(_title_lines(path, reading))))
        if named and batch.number not in named:
            raise LedgerError(
                _(
                    "回盘文件“{file}”的标题写的是批次 {other}，不是本批次 {number}：请上传本批次的回盘文件"
                ).format(file=file_name, other="、".join(sorted(named)), number=batch.number)
            )
        for number, cells in reading.rows:
            if not any(_text(cell) for cell in cells):
                continue
            if any(_text(cell) in ("合计", "总计", "小计") for cell in cells[:3]):
                continue
            if len(rows) >= limit:
                problems.append(
                    Problem(
                        "too-many-rows",
                        _("文件的行数远多于批次的 {n} 笔，不像是这个批次的回盘文件").format(
                            n=limit - EXTRA_ROWS_READ
                        ),
                    )
                )
                break
            where = _("第{row}行").format(row=number)
            other = _text(_cell(cells, columns.get("batch")))
            if other and other != batch.number:
                problems.append(
                    Problem(
                        "other-batch",
                        _("{where}：批次号 {other} 不是本批次 {number}，这是另一个批次的回盘文件").format(
                            where=where, other=other, number=batch.number
                        ),
                        "batch",
                    )
                )
                continue
            seq_text = _text(_cell(cells, columns.get("seq")))
            seq: int | None = None
            if seq_text:
                if not seq_text.isdigit():
                    problems.append(
                        Problem(
                            "bad-seq", _("{where}：序号“{v}”不是整数").format(where=where, v=seq_text), "seq"
                        )
                    )
                    continue
                seq = int(seq_text)
            try:
                amount = rules.parse_yuan(_cell(cells, columns["amount"]))
            except rules.AmountError as error:
                problems.append(Problem("bad-amount", f"{where}：{error}", "amount"))
                continue
            result = _text(_cell(cells, columns["result"]))
            if result in PAID_WORDS:
                outcome = Outcome.PAID
            elif result in FAILED_WORDS:
                outcome = Outcome.FAILED
            else:
                problems.append(
                    Problem(
                        "bad-result",
                        _("{where}：结果“{v}”应为“成功”或“失败”").format(where=where, v=result)
                        if result
                        else _("{where}：结果为空（应为“成功”或“失败”）").format(where=where),
                        "result",
                    )
                )
                continue
            rows.append(
                ReturnRow(
                    row=number,
                    seq=seq,
                    name=_text(_cell(cells, columns.get("name"))),
                    card_number=_card_cell(_cell(cells, columns.get("card_number"))),
                    amount=amount,
                    outcome=outcome,
                    reason=_text(_cell(cells, columns.get("reason")))[:200],
                )
            )
    finally:
        reading.close()
    return rows, problems


def _title_lines(path: Path, reading: ListReading) -> list[str]:
    """The texts above the header (a bank's title: 代发回盘 批次号 …), which the list reader skips. The file
    has passed the upload guard when the list reader opened it."""
    if reading.header_row <= 1:
        return []
    if not reading.sheet:  # CSV: the first lines, in whichever of the two encodings reads them
        with path.open("rb") as file:
            head = b"".join(file.readline(4096) for _ in range(reading.header_row - 1))
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return [head.decode(encoding)]
            except UnicodeDecodeError:
                continue
        return []
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheet = workbook.get_sheet_by_name(reading.sheet)
        above = reading.header_row - (sheet.start[0] if sheet.start else 0) - 1
        return [
            " ".join(_text(cell) for cell in row)
            for _n, row in zip(range(above), sheet.iter_rows(), strict=False)
        ]
    finally:
        workbook.close()


def _same_card(given: str, card: str) -> bool:
    """Whether the file's card number is the line's; a bank may mask the middle (6222********3456)."""
    if "*" not in given:
        return given == card
    head, _stars, tail = given.partition("*")
    tail = tail.lstrip("*")
    return len(given) == len(card) and card.startswith(head) and card.endswith(tail)


def _match(
    rows: Sequence[ReturnRow], lines: Sequence[BatchLine], problems: list[Problem]
) -> tuple[list[tuple[ReturnRow, BatchLine]], list[ReturnRow]]:
    by_seq = {line.seq: line for line in lines}
    by_card: dict[str, list[BatchLine]] = {}
    for line in lines:
        by_card.setdefault(line.card_number, []).append(line)
    matched: list[tuple[ReturnRow, BatchLine]] = []
    unmatched: list[ReturnRow] = []
    taken: dict[int, int] = {}  # line pk → the row that settled it
    for row in rows:
        where = _("第{row}行").format(row=row.row)
        found_line: BatchLine | None
        if row.seq is not None:
            found_line = by_seq.get(row.seq)
        else:
            candidates = [
                one for card, found in by_card.items() if _same_card(row.card_number, card) for one in found
            ]
            found_line = candidates[0] if len(candidates) == 1 else None
            if len(candidates) > 1:
                problems.append(
                    Problem(
                        "ambiguous",
                        _("{where}：卡号 {card} 在批次中有多笔，回盘文件须有序号列").format(
                            where=where, card=mask_card(row.card_number)
                        ),
                    )
                )
                continue
        if found_line is None:
            unmatched.append(row)
            continue
        line = found_line
        label = _("{where}（序号 {seq}，{name}）").format(where=where, seq=line.seq, name=line.name)
        if line.pk in taken:
            problems.append(
                Problem(
                    "duplicate",
                    _("{label}与第{first}行重复：同一笔代发在回盘文件中出现两次").format(
                        label=label, first=taken[line.pk]
                    ),
                )
            )
            continue
        taken[line.pk] = row.row
        if row.card_number and not _same_card(row.card_number, line.card_number):
            problems.append(
                Problem(
                    "card-differs",
                    _("{label}：卡号 {given} 与批次中的 {card} 不符").format(
                        label=label, given=mask_card(row.card_number), card=mask_card(line.card_number)
                    ),
                    "card_number",
                )
            )
            continue
        if row.name and row.name != line.name:
            problems.append(
                Problem(
                    "name-differs",
                    _("{label}：姓名“{given}”与批次中的不符").format(label=label, given=row.name),
                    "name",
                )
            )
            continue
        if row.amount != line.amount:
            problems.append(
                Problem(
                    "amount-differs",
                    _("{label}：金额 {given} 元与批次中的 {amount} 元不符").format(
                        label=label, given=row.amount, amount=line.amount
                    ),
                    "amount",
                )
            )
            continue
        if line.outcome != Outcome.PENDING:
            problems.append(
                Problem(
                    "already-settled",
                    _("{label}已在之前的回盘中对账为“{outcome}”，不能再次对账").format(
                        label=label, outcome=line.get_outcome_display()
                    ),
                )
            )
            continue
        matched.append((row, line))
    return matched, unmatched


def _unmatched_text(row: ReturnRow) -> str:
    return _("第{row}行：序号 {seq}，{name}，卡号 {card}，{amount} 元，在本批次中没有对应的代发").format(
        row=row.row,
        seq=row.seq if row.seq is not None else "—",
        name=row.name or "—",
        card=mask_card(row.card_number) if row.card_number else "—",
        amount=row.amount,
    )


def reconcile_refusal(user: User, batch: PaymentBatch) -> str | None:
    """Why `user` may not reconcile `batch` now (None: it may) — the page asks before offering the form."""
    if not may_approve_help(user, batch.unit):
        return _("只有本单位或上级单位的审核员可以导入银行回盘文件")
    if batch.state == PaymentBatch.State.DRAFT:
        return _("批次 {number} 尚未送银行：请先下载代发文件交银行，并标记为已送银行").format(
            number=batch.number
        )
    if batch.state == PaymentBatch.State.RECONCILED:
        return _("批次 {number} 已全部对账完毕").format(number=batch.number)
    if not batch_allows(batch, "reconcile"):
        return _("批次 {number} 已作废，没有要对账的款项").format(number=batch.number)
    return None


def batch_reconcile(*, user: User, batch: PaymentBatch, file_name: str, stream: IO[bytes]) -> Reconciled:
    """Take the bank's return file for `batch` (see the module docstring): paid lines' records become paid,
    failed ones failed (back in the queue for a new batch). All or nothing; a refusal (ReturnFileRefused,
    LedgerError) is written to the history after the rollback."""
    if not may_approve_help(user, batch.unit):
        raise PermissionDenied(reconcile_refusal(user, batch))
    path, sha = _store(file_name, stream)
    try:
        with transaction.atomic():
            return _reconcile(user, batch, file_name, path, sha)
    except LedgerError as refusal:
        record_event(
            LedgerEvent.Action.REFUSED,
            user=user,
            campaign=batch.campaign,
            unit=batch.unit,
            batch=batch,
            new={"file": file_name, "sha256": sha},
            note=refusal.message,
        )
        raise
    finally:
        path.unlink(missing_ok=True)


def _reconcile(user: User, batch: PaymentBatch, file_name: str, path: Path, sha: str) -> Reconciled:
    batch = _locked(batch)
    refusal = reconcile_refusal(user, batch)
    if refusal:
        raise LedgerError(refusal)
    used = PaymentBatch.objects.filter(return_file_sha256=sha).first() or next(
        (
            event.batch
            for event in LedgerEvent.objects.filter(
                action=LedgerEvent.Action.BATCH_RECONCILED, record__isnull=True, new__sha256=sha
            ).select_related("batch")
            if event.batch is not None
        ),
        None,
    )
    if used is not None:
        raise LedgerError(
            _("回盘文件“{file}”已用于批次 {number} 的对账，不能再次导入").format(
                file=file_name, number=used.number
            )
        )
    named = set(BATCH_NUMBER.findall(file_name))
    if named and batch.number not in named:
        raise LedgerError(
            _("文件名“{file}”写的是批次 {other}，不是本批次 {number}：请上传本批次的回盘文件").format(
                file=file_name, other="、".join(sorted(named)), number=batch.number
            )
        )
    lines = list(batch.lines.select_related("record").order_by("seq"))
    rows, problems = _read_return(path, file_name, batch, len(lines) + EXTRA_ROWS_READ)
    if not rows and not problems:
        raise _refused(file_name, [Problem("empty", _("文件中没有回盘数据行"))])
    matched, unmatched = _match(rows, lines, problems)
    if rows and not matched and not any(p.code in ("duplicate", "already-settled") for p in problems):
        # Not one row is a line of this batch as sent: the file answers another batch (or another bank).
        problems.insert(
            0,
            Problem(
                "other-batch",
                _("文件中的 {n} 行没有一行与批次 {number} 的代发对应：这不是本批次的回盘文件").format(
                    n=len(rows), number=batch.number
                ),
            ),
        )
    if problems:
        raise _refused(file_name, problems)
    now = timezone.now()
    paid: list[BatchLine] = []
    failed: list[BatchLine] = []
    for row, line in matched:
        line.outcome = row.outcome
        line.reason = row.reason if row.outcome == Outcome.FAILED else ""
        (paid if row.outcome == Outcome.PAID else failed).append(line)
    BatchLine.objects.bulk_update(paid + failed, ["outcome", "reason"])
    HelpRecord.objects.filter(pk__in=[line.record_id for line in paid]).update(payment=Payment.PAID)
    HelpRecord.objects.filter(pk__in=[line.record_id for line in failed]).update(payment=Payment.FAILED)
    settled = {line.pk for line in paid + failed}
    still = sum(1 for line in lines if line.outcome == Outcome.PENDING and line.pk not in settled)
    old_state = batch.state
    batch.return_file_sha256 = sha
    if still == 0:
        batch.state = PaymentBatch.State.RECONCILED
        batch.reconciled_at = now
    batch.save(update_fields=["return_file_sha256", "state", "reconciled_at"])
    result = Reconciled(
        batch=batch,
        paid=Tally(len(paid), sum((line.amount for line in paid), Decimal("0.00"))),
        failed=Tally(len(failed), sum((line.amount for line in failed), Decimal("0.00"))),
        unmatched=[_unmatched_text(row) for row in unmatched],
        still_pending=still,
    )
    record_event(
        LedgerEvent.Action.BATCH_RECONCILED,
        user=user,
        campaign=batch.campaign,
        unit=batch.unit,
        batch=batch,
        old={"state": old_state},
        new={
            "state": batch.state,
            "file": file_name,
            "sha256": sha,
            "paid": str(result.paid.count),
            "paid_total": str(result.paid.total),
            "failed": str(result.failed.count),
            "failed_total": str(result.failed.total),
            "unmatched": str(len(unmatched)),
            "pending": str(still),
        },
        note="\n".join(result.unmatched),
    )
    _payment_events(
        user=user,
        action=LedgerEvent.Action.BATCH_RECONCILED,
        batch=batch,
        changes=[(line.record, str(Payment.IN_BATCH), {"payment": str(Payment.PAID)}) for line in paid]
        + [
            (line.record, str(Payment.IN_BATCH), {"payment": str(Payment.FAILED), "reason": line.reason})
            for line in failed
        ],
    )
    return result
