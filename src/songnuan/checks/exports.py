"""The call sheet as a spreadsheet (`formkit.excel_writer.ListWriter`: text stays text, never a formula), for
the callers who work from a printed or Excel list."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.checks.models import SpotCheck
from songnuan.checks.selectors import SheetLine
from songnuan.checks.stats import Disposition
from songnuan.formkit.excel_writer import ListWriter

SHEET_HEADER = (
    "序号",
    "单位（分层）",
    "户主姓名",
    "身份证号",
    "手机号",
    "档案所在单位",
    "帮扶记录（项目、金额、日期、方式、发放单位）",
    "已拨打",
)
_SHEET_WIDTHS = (6, 20, 10, 22, 14, 20, 60, 24)


def sheet_filename(check: SpotCheck) -> str:
    return _("{title}核查表.xlsx").format(title=check.title)


def _payments(line: SheetLine) -> str:
    return "；".join(
        "、".join(
            part
            for part in (
                payment.item,
                f"{payment.amount}元" if payment.amount is not None else "",
                f"物品折价{payment.goods_value}元" if payment.goods_value is not None else "",
                payment.paid_on,
                payment.channel,
                payment.unit,
                _("冲销") if payment.reversal else "",
            )
            if part
        )
        for payment in line.payments
    )


def sheet_xlsx(check: SpotCheck, lines: Sequence[SheetLine]) -> bytes:
    buffer = io.BytesIO()
    moment = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    writer = ListWriter(
        buffer,
        title=_("{title} 核查表（导出于 {moment}）").format(title=check.title, moment=moment),
        header=[_(text) for text in SHEET_HEADER],
        widths=_SHEET_WIDTHS,
        sheet_name=_("核查表"),
    )
    for seq, line in enumerate(lines, start=1):
        writer.write(
            [
                seq,
                line.sampled.stratum.unit.name,
                line.name,
                line.masked_id,
                line.phone,
                line.unit,
                _payments(line),
                "；".join(Disposition(a.disposition).label() for a in line.attempts),
            ]
        )
    writer.close()
    return buffer.getvalue()
