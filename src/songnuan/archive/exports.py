"""The archive as a spreadsheet: the files a user may see, ID, phone and card numbers masked unless asked for.

The columns are the import's own, so an exported list can be corrected and imported again. A second sheet,
家庭成员, lists every member of those files (one row each, with its file's number, unit and head), masked the
same way. The birth date
would give a masked ID number back (see `idnumbers.mask_id_number`), so the masked list has the birth year in
its place (column 出生年份); the list with full numbers has the date (出生日期).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from itertools import islice

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year
from songnuan.archive.importing import FIELDS
from songnuan.archive.models import Household, Member
from songnuan.archive.selectors import members_by_household
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


MEMBER_HEADER = (
    gettext_noop("档案编号"),
    gettext_noop("建档单位"),
    gettext_noop("户主姓名"),
    gettext_noop("户主身份证号"),
    gettext_noop("成员姓名"),
    gettext_noop("与户主关系"),
    gettext_noop("身份证号"),
    gettext_noop("月收入（元）"),
    gettext_noop("健康状况"),
    gettext_noop("就读学校或工作单位"),
)
_MEMBER_WIDTHS = (10, 24, 10, 22, 10, 10, 22, 12, 12, 24)
_MEMBER_BATCH = 1000  # files whose members are read in one query


def export_header(*, full_numbers: bool) -> tuple[str, ...]:
    """The header row: 出生年份 instead of 出生日期 when the numbers are masked."""
    if full_numbers:
        return EXPORT_HEADER
    return tuple("出生年份" if text == "出生日期" else text for text in EXPORT_HEADER)


def households_xlsx(households: Iterable[Household], *, full_numbers: bool) -> bytes:
    """The list as .xlsx, and its members on a second sheet; `full_numbers` only for users allowed to see
    them (the caller logs the view)."""
    buffer = io.BytesIO()
    moment = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    writer = ListWriter(
        buffer,
        title=_("困难职工档案（导出于 {moment}）").format(moment=moment),
        header=[_(text) for text in export_header(full_numbers=full_numbers)],
        widths=_WIDTHS,
        sheet_name=_("困难职工档案"),
    )
    # The files in the list's order (their ids only), so the members follow the same order.
    listed: list[_Head] = []
    for household in households:
        listed.append(_Head(household))
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
    writer.add_sheet(
        title=_("家庭成员（导出于 {moment}）").format(moment=moment),
        header=[_(text) for text in MEMBER_HEADER],
        widths=_MEMBER_WIDTHS,
        sheet_name=_("家庭成员"),
    )
    for head, member in _members(listed):
        writer.write(
            [
                head.pk,
                head.unit_name,
                head.head_name,
                head.head_id_number if full_numbers else mask_id_number(head.head_id_number),
                member.name,
                member.relation,
                member.id_number if full_numbers else mask_id_number(member.id_number),
                member.monthly_income,
                member.health,
                member.school_or_employer,
            ]
        )
    writer.close()
    return buffer.getvalue()


class _Head:
    """What the members sheet repeats of a file: kept instead of the whole file while the list is written."""

    __slots__ = ("head_id_number", "head_name", "pk", "unit_name")

    def __init__(self, household: Household) -> None:
        self.pk = household.pk
        self.unit_name = household.unit.name
        self.head_name = household.head_name
        self.head_id_number = household.head_id_number


def _members(heads: list[_Head]) -> Iterator[tuple[_Head, Member]]:
    """Each file's members (in the order they were registered), the files in the list's order."""
    it = iter(heads)
    while batch := list(islice(it, _MEMBER_BATCH)):
        found = members_by_household([head.pk for head in batch])
        for head in batch:
            for member in found.get(head.pk, []):
                yield head, member


#: How to fill each column of the blank register (a note on its heading and a row of the 填写说明 sheet).
_TEMPLATE_HINTS = {
    "unit": gettext_noop("单位全称，与系统中的单位名称一致；不填时导入到上传时选择的单位（须可为其建档）"),
    "head_name": gettext_noop("户主的姓名"),
    "head_id_number": gettext_noop("18位居民身份证号（15位旧号码也可）；出生日期和性别由号码得出"),
    "category": gettext_noop("困难职工、困难农民工或困难劳模"),
    "phone": gettext_noop("11位手机号"),
    "employer": gettext_noop("户主的工作单位"),
    "employer_kind": gettext_noop("如国有企业、民营企业、机关事业单位"),
    "difficulty_type": gettext_noop("如深度困难、相对困难、意外致困"),
    "main_cause": gettext_noop("如本人患大病、子女教育、单亲家庭"),
    "monthly_income": gettext_noop("全家每月收入合计，单位元；不知道请留空，不要填0"),
    "household_size": gettext_noop("含户主的家庭人口数"),
    "minimum_living_line": gettext_noop("当地城乡低保标准，元/人·月"),
    "card_kind": gettext_noop("阳光5·1卡或银行卡"),
    "bank": gettext_noop("开户银行"),
    "bank_branch": gettext_noop("开户网点"),
    "card_number": gettext_noop("发放卡的卡号"),
    "filed_on": gettext_noop("已建档的家庭填建档日期，如2017-12-01"),
}
_TEXT_FIELDS = {"head_id_number", "phone", "card_number"}


def import_template_xlsx() -> bytes:
    """The blank register for the import: the headings the importer recognises (each with a note on how to
    fill it), the ID, phone and card columns formatted as text, and a sheet 填写说明; no personal data."""
    buffer = io.BytesIO()
    required = _("（必填）")
    header = [field.label for field in FIELDS]  # untranslated: the words the importer recognises
    notes = {
        index: _(_TEMPLATE_HINTS[field.name]) + (required if field.required else "")
        for index, field in enumerate(FIELDS)
    }
    writer = ListWriter(
        buffer,
        title=_("困难职工档案花名册（导入模板）：第二行为表头，从第三行起每行一户，表头不要改动"),
        header=header,
        widths=[max(10, 2 * len(text) + 4) for text in header],
        sheet_name=_("花名册"),
        comments=notes,
        text_columns=[index for index, field in enumerate(FIELDS) if field.name in _TEXT_FIELDS],
    )
    writer.add_sheet(
        title=_("填写说明"),
        header=[_("列"), _("是否必填"), _("填写说明")],
        widths=(20, 10, 70),
        sheet_name=_("填写说明"),
    )
    for field in FIELDS:
        writer.write(
            [field.label, _("必填") if field.required else _("选填"), _(_TEMPLATE_HINTS[field.name])]
        )
    writer.close()
    return buffer.getvalue()
