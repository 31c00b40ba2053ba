"""The ledger's lists as spreadsheets (`formkit.excel_writer.ListWriter`: text stays text, never a formula).
The caller says how each personal number is shown (`selectors.shown_*`): the list is never fuller than the
page."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.formkit.excel_writer import ListWriter
from songnuan.ledger.models import HelpRecord, Receipt

RECORD_HEADER = (
    "序号",
    "发放单位",
    "对象类型",
    "姓名或企业名称",
    "身份证号",
    "人员类别或企业类型",
    "帮扶项目",
    "资金来源",
    "金额（元）",
    "物品",
    "数量",
    "物品折价（元）",
    "发放方式",
    "卡号",
    "开户行",
    "发放日期",
    "状态",
    "代发状态",
    "提醒",
    "情况说明",
    "冲销",
    "录入人",
    "审核人",
    "备注",
)
_RECORD_WIDTHS = (6, 24, 14, 16, 22, 16, 12, 20, 12, 12, 8, 12, 16, 24, 16, 12, 8, 10, 30, 30, 14, 10, 10, 20)

RECEIPT_HEADER = (
    "序号",
    "类型",
    "单位",
    "下拨单位",
    "资金来源",
    "金额（元）",
    "到账日期",
    "文件或凭证号",
    "备注",
    "冲销",
    "录入人",
)
_RECEIPT_WIDTHS = (6, 10, 24, 24, 24, 14, 12, 20, 24, 16, 10)


def _who(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "get_username", lambda: "")())


def _reversal_note(reverses_id: int | None) -> str:
    return _("冲销第 {pk} 号").format(pk=reverses_id) if reverses_id else ""


def records_xlsx(
    records: Iterable[HelpRecord],
    *,
    title: str,
    id_number: Callable[[HelpRecord], str],
    card_number: Callable[[HelpRecord], str],
) -> bytes:
    buffer = io.BytesIO()
    moment = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    writer = ListWriter(
        buffer,
        title=_("{title}（导出于 {moment}）").format(title=title, moment=moment),
        header=[_(text) for text in RECORD_HEADER],
        widths=_RECORD_WIDTHS,
        sheet_name=_("帮扶发放记录"),
    )
    for seq, record in enumerate(records, start=1):
        kind = record.get_person_category_display() or record.get_enterprise_kind_display()
        writer.write(
            [
                seq,
                record.unit.name,
                record.get_recipient_kind_display(),
                record.name,
                id_number(record),
                kind,
                record.item.name,
                record.source.name,
                record.amount,
                record.goods_description,
                record.goods_quantity,
                record.goods_value,
                record.get_channel_display() + (f"（{record.cash_reason}）" if record.cash_reason else ""),
                card_number(record),
                record.bank,
                record.paid_on,
                record.get_state_display(),
                record.get_payment_display() if record.payment else "",
                "；".join(str(w.get("message", "")) for w in record.warnings or []),
                record.explanation,
                _reversal_note(record.reverses_id),
                _who(record.entered_by),
                _who(record.approved_by),
                record.note,
            ]
        )
    writer.close()
    return buffer.getvalue()


def receipts_xlsx(receipts: Iterable[Receipt], *, title: str) -> bytes:
    buffer = io.BytesIO()
    moment = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    writer = ListWriter(
        buffer,
        title=_("{title}（导出于 {moment}）").format(title=title, moment=moment),
        header=[_(text) for text in RECEIPT_HEADER],
        widths=_RECEIPT_WIDTHS,
        sheet_name=_("筹集和下拨资金"),
    )
    for seq, receipt in enumerate(receipts, start=1):
        writer.write(
            [
                seq,
                receipt.get_kind_display(),
                receipt.unit.name,
                receipt.from_unit.name if receipt.from_unit else "",
                receipt.source.name,
                receipt.amount,
                receipt.received_on,
                receipt.reference,
                receipt.note,
                _reversal_note(receipt.reverses_id),
                _who(receipt.entered_by),
            ]
        )
    writer.close()
    return buffer.getvalue()
