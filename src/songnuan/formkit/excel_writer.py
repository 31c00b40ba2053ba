"""The one Excel writer: a form in the official layout, blank (the template) or filled (an export).

Layout, as the notice prints it: 附件N, the title, the header line (填报单位 / 填报人 / 电话 / 年 月 日), the
notes, then the table 编号 | 项目 (letters by level, label, printed formula) | 合计. A4 portrait, one page
wide, headings repeated on every page. The sheet is protected so only the 合计 column and the header
values can be typed in, and Excel refuses wrong types there (non-negative whole numbers and amounts, 是/否).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter

from songnuan.formkit.definitions import Form, ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.i18n import gettext as _

VALUE_COLUMN = 6  # G
LABEL_FIRST, LABEL_LAST = 3, 5  # D:F, merged
_WIDTHS = (6, 5, 5, 46, 12, 12, 16)
_FONT = "宋体"


def write_form(
    form: Form,
    target: str | Path | IO[bytes],
    *,
    values: Mapping[str, Value] | None = None,
    header: Mapping[str, str | None] | None = None,
) -> None:
    """Write `form` to `target` (a path or a binary file object) as .xlsx."""
    workbook = xlsxwriter.Workbook(
        target if not isinstance(target, Path) else str(target), {"in_memory": True}
    )
    try:
        _write_sheet(workbook, form, values or {}, header or {})
    finally:
        workbook.close()


def _formats(workbook: Any) -> dict[str, Any]:
    base = {"font_name": _FONT, "font_size": 11, "valign": "vcenter"}
    cell = {**base, "border": 1}

    def fmt(**options: Any) -> Any:
        return workbook.add_format({**base, **options})

    return {
        "attachment": fmt(bold=True, font_size=12),
        "title": fmt(bold=True, font_size=16, align="center"),
        "label": fmt(align="right"),
        "field": fmt(bottom=1, locked=False),
        "date": fmt(bottom=1, locked=False, num_format='yyyy"年"m"月"d"日"', align="center"),
        "note": fmt(text_wrap=True, font_size=10),
        "heading": workbook.add_format({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
        "number": workbook.add_format({**cell, "align": "center"}),
        "letter": workbook.add_format({**cell, "align": "center"}),
        "text": workbook.add_format({**cell, "text_wrap": True}),
        "count": workbook.add_format({**cell, "locked": False, "num_format": "0"}),
        "money": workbook.add_format({**cell, "locked": False, "num_format": "0.00##"}),
        "yes-no": workbook.add_format({**cell, "locked": False, "align": "center"}),
        **{
            f"text{level}": workbook.add_format({**cell, "text_wrap": True, "indent": level})
            for level in (1, 2, 3)
        },
    }


def _write_sheet(
    workbook: Any, form: Form, values: Mapping[str, Value], header: Mapping[str, str | None]
) -> None:
    sheet = workbook.add_worksheet(form.attachment or form.code[:31])
    f = _formats(workbook)
    for column, width in enumerate(_WIDTHS):
        sheet.set_column(column, column, width)

    row = 0
    if form.attachment:
        sheet.write(row, 0, f"{form.attachment}：", f["attachment"])
        row += 1
    sheet.set_row(row, 32)
    sheet.merge_range(row, 0, row, VALUE_COLUMN, form.title, f["title"])
    row += 1

    # The header line, as label | value pairs on two rows so each value has its own cell to type in.
    sheet.merge_range(row, 0, row, 1, _("填报单位："), f["label"])
    sheet.merge_range(row, 2, row, 3, header.get("unit") or "", f["field"])
    sheet.write(row, 4, _("填报人："), f["label"])
    sheet.merge_range(row, 5, row, 6, header.get("reporter") or "", f["field"])
    row += 1
    sheet.merge_range(row, 0, row, 1, _("电话："), f["label"])
    sheet.merge_range(row, 2, row, 3, header.get("phone") or "", f["field"])
    sheet.write(row, 4, _("填报日期："), f["label"])
    date_text = header.get("date")
    if date_text:
        try:
            sheet.merge_range(row, 5, row, 6, "", f["date"])
            sheet.write_datetime(row, 5, dt.datetime.fromisoformat(date_text), f["date"])
        except ValueError:
            sheet.write(row, 5, date_text, f["date"])
    else:
        sheet.merge_range(row, 5, row, 6, _("    年    月    日"), f["date"])
    row += 1

    if form.notes:
        for position, note in enumerate(form.notes):
            text = f"{_('说明：') if position == 0 else '　　　'}{note}"
            sheet.merge_range(row, 0, row, VALUE_COLUMN, text, f["note"])
            row += 1

    heading_row = row
    sheet.write(row, 0, _("编号"), f["heading"])
    sheet.merge_range(row, 1, row, LABEL_LAST, _("项    目"), f["heading"])
    sheet.write(row, VALUE_COLUMN, _("合计"), f["heading"])
    row += 1
    first_data_row = row

    for number, items in form.groups():
        group_first = row
        for item in items:
            letter = form.printed_letter(item)
            sheet.write_blank(row, 1, None, f["letter"])
            sheet.write_blank(row, 2, None, f["letter"])
            if letter:
                sheet.write(row, 1 if item.level == 0 else 2, letter, f["letter"])
            label = item.label + (f"    {item.formula}" if item.formula else "")
            label_format = f["text"] if item.level < 2 else f[f"text{min(item.level, 3)}"]
            sheet.merge_range(row, LABEL_FIRST, row, LABEL_LAST, label, label_format)
            if len(label) > 30:
                sheet.set_row(row, 30 if len(label) < 60 else 45)
            _write_value(sheet, row, item.kind, values.get(item.code), f)
            _validate(sheet, row, item.kind, item.code)
            row += 1
        if row - group_first > 1:
            sheet.merge_range(group_first, 0, row - 1, 0, int(number), f["number"])
        else:
            sheet.write_number(group_first, 0, int(number), f["number"])

    sheet.freeze_panes(first_data_row, 0)
    sheet.repeat_rows(heading_row)
    sheet.print_area(0, 0, row - 1, VALUE_COLUMN)
    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.7)
    sheet.set_footer(_("&C第 &P 页，共 &N 页"))
    sheet.protect("", {"format_columns": True, "format_rows": True})
    sheet.activate()


def _write_value(sheet: Any, row: int, kind: ItemKind, value: Value, f: Mapping[str, Any]) -> None:
    style = f[kind.value]
    if value is None:
        sheet.write_blank(row, VALUE_COLUMN, None, style)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        # An .xlsx cell stores a double; values here have at most 4 decimals and so survive the trip exactly.
        sheet.write_number(row, VALUE_COLUMN, float(value), style)
    else:
        sheet.write_string(row, VALUE_COLUMN, str(value), style)


def _validate(sheet: Any, row: int, kind: ItemKind, code: str) -> None:
    if kind is ItemKind.YES_NO:
        sheet.data_validation(
            row,
            VALUE_COLUMN,
            row,
            VALUE_COLUMN,
            {
                "validate": "list",
                "source": ["是", "否"],
                "error_title": _("输入有误"),
                "error_message": _("{code} 只能选“是”或“否”").format(code=code),
            },
        )
        return
    whole = kind is ItemKind.COUNT
    sheet.data_validation(
        row,
        VALUE_COLUMN,
        row,
        VALUE_COLUMN,
        {
            "validate": "integer" if whole else "decimal",
            "criteria": ">=",
            "value": 0,
            "error_title": _("输入有误"),
            "error_message": (
                _("{code} 应填不小于0的整数")
                if whole
                else _("{code} 以万元为单位，应填不小于0的数（最多4位小数）")
            ).format(code=code),
        },
    )


class ListWriter:
    """A plain list — a title, a header, one record per row — streamed to .xlsx in constant memory.

    Text stays text (an 18-digit ID number written as a number would lose its last digits in Excel);
    Decimal and dates are written as numbers and dates. Landscape A4, header repeated on every page.
    """

    def __init__(
        self,
        target: str | Path | IO[bytes],
        *,
        title: str,
        header: Sequence[str],
        widths: Sequence[int] | None = None,
        sheet_name: str | None = None,
    ) -> None:
        streamed = isinstance(target, str | Path)
        self._workbook = xlsxwriter.Workbook(
            str(target) if streamed else target,
            {"constant_memory": True} if streamed else {"in_memory": True},
        )
        self._sheet = self._workbook.add_worksheet(sheet_name or _("名单"))
        title_format = self._workbook.add_format({"bold": True, "font_size": 14, "font_name": _FONT})
        head_format = self._workbook.add_format(
            {"bold": True, "border": 1, "bg_color": "#EEEEEE", "font_name": _FONT, "text_wrap": True}
        )
        self._text = self._workbook.add_format({"num_format": "@", "font_name": _FONT})
        self._money = self._workbook.add_format({"num_format": "#,##0.00", "font_name": _FONT})
        self._date = self._workbook.add_format({"num_format": "yyyy-mm-dd", "font_name": _FONT})
        sheet = self._sheet
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(1)
        for column, width in enumerate(widths or [14] * len(header)):
            sheet.set_column(column, column, width)
        sheet.write_string(0, 0, title, title_format)
        for column, text in enumerate(header):
            sheet.write_string(1, column, text, head_format)
        sheet.freeze_panes(2, 0)
        self._row = 2

    def write(self, cells: Sequence[Any]) -> None:
        sheet, row = self._sheet, self._row
        for column, value in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(row, column, _("是") if value else _("否"), self._text)
            elif isinstance(value, int):
                sheet.write_number(row, column, value)
            elif isinstance(value, Decimal | float):
                sheet.write_number(row, column, float(value), self._money)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row, column, value.replace(tzinfo=None), self._date)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, column, value, self._date)
            else:
                sheet.write_string(row, column, str(value), self._text)
        self._row += 1

    def close(self) -> None:
        self._workbook.close()
