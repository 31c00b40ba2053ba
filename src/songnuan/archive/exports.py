"""The archive as a spreadsheet: the files a user may see, ID, phone and card numbers masked unless asked for.

The columns are the import's own, so an exported list can be corrected and imported again. The birth date
would give a masked ID number back (see `idnumbers.mask_id_number`), so the masked list has the birth year in
its place (column 出生年份); the list with full numbers has the date (出生日期).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year
from songnuan.archive.models import Household
from songnuan.formkit.excel_writer import ListWriter

EXPORT_HEADER = (
    "建档单位",
    "户主姓名",
    "身份证号",
    "性别",
    "出生日期",  # 出生年份 in the masked list
    "类别",
    "困难类型",
    "主要致困原因",
    "手机号",
    "工作单位",
    "家庭人口",
    "家庭月收入（元）",
    "人均月收入（元）",
    "当地低保标准（元）",
    "发放卡类型",
    "开户银行",
    "卡号",
    "状态",
    "建档日期",
    "最近年审",
)
_WIDTHS = (24, 10, 22, 6, 12, 12, 10, 14, 14, 20, 8, 14, 14, 14, 12, 16, 24, 10, 12, 12)


def export_header(*, full_numbers: bool) -> tuple[str, ...]:
    """The header row: 出生年份 instead of 出生日期 when the numbers are masked."""
    if full_numbers:
        return EXPORT_HEADER
    return tuple("出生年份" if text == "出生日期" else text for text in EXPORT_HEADER)


def households_xlsx(households: Iterable[Household], *, full_numbers: bool) -> bytes:
    """The list as .xlsx; `full_numbers` only for users allowed to see them (the caller logs the view)."""
    buffer = io.BytesIO()
    writer = ListWriter(
        buffer,
        title=_("困难职工档案（导出于 {moment}）").format(
            moment=timezone.localtime().strftime("%Y-%m-%d %H:%M")
        ),
        header=[_(text) for text in export_header(full_numbers=full_numbers)],
        widths=_WIDTHS,
        sheet_name=_("困难职工档案"),
    )
    for household in households:
        writer.write(
            [
                household.unit.name,
                household.head_name,
                household.head_id_number if full_numbers else mask_id_number(household.head_id_number),
                household.head_sex,
                household.head_birth_date if full_numbers else shown_birth_year(household.head_birth_date),
                household.get_category_display(),
                household.difficulty_type,
                household.main_cause,
                household.phone if full_numbers else mask_phone(household.phone),
                household.employer,
                household.household_size,
                household.monthly_income,
                household.income_per_person,
                household.minimum_living_line,
                household.get_card_kind_display(),
                household.bank,
                household.card_number if full_numbers else mask_card(household.card_number),
                household.get_status_display(),
                timezone.localtime(household.filed_at).date() if household.filed_at else None,
                timezone.localtime(household.last_reviewed_at).date() if household.last_reviewed_at else None,
            ]
        )
    writer.close()
    return buffer.getvalue()
