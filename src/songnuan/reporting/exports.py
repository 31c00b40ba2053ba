"""Downloads for the reviewer's side, as bytes: a unit's table or a roll-up in the official layout, and the
comparison grid. Pure functions — no request, no response; the views add the HTTP around them."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.formkit.definitions import Form
from songnuan.formkit.engine import Value
from songnuan.formkit.excel_writer import merge_text, new_workbook, write_form, write_text
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission
from songnuan.reporting.printing import rollup_unit_name
from songnuan.reporting.rollup import Grid


def _safe(text: str) -> str:
    """A piece of a file name: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("_") or "_"


# --- the official layout ---------------------------------------------------------------------------------


def submission_header(submission: Submission) -> dict[str, str | None]:
    """填报单位 / 填报人 / 电话 / date of a unit's own table, for the written file."""
    return {
        "unit": submission.unit.name,
        "reporter": submission.reporter or None,
        "phone": submission.phone or None,
        "date": submission.report_date.isoformat() if submission.report_date else None,
    }


def rollup_header(unit: Unit, today: dt.date) -> dict[str, str | None]:
    """The header of a roll-up: the unit marked （汇总）, its contact, the day it was made."""
    return {
        "unit": rollup_unit_name(unit),
        "reporter": unit.contact_name or None,
        "phone": unit.contact_phone or None,
        "date": today.isoformat(),
    }


def form_xlsx(
    form: Form, values: Mapping[str, Value], header: Mapping[str, str | None], *, content: str = ""
) -> bytes:
    """The table in the official layout; `content` (what the figures contain, 本级 or 全辖) is written as
    the last line of the notes above the table, where the reader of the file skips it."""
    buffer = io.BytesIO()
    if content:
        form = replace(form, notes=(*form.notes, content))
    write_form(form, buffer, values=values, header=header)
    return buffer.getvalue()


def form_filename(form: Form, unit_name: str) -> str:
    """The name of a table's file: 附件1_2018年各地工会送温暖统计表_东宝区总工会.xlsx."""
    return _safe(f"{form.attachment}_{form.title}_{unit_name}") + ".xlsx"


# --- the comparison grid ---------------------------------------------------------------------------------

_GRID_FIRST_VALUE_COLUMN = 3  # A 编号, B 项目, C 单位, then one column per part
#: The item-name column, in Excel's character widths (a Chinese character takes two): about 26 characters, so
#: that most item names take one or two lines, not four or five.
_GRID_LABEL_WIDTH = 52
_GRID_LINE_HEIGHT = 14  # points, a line of 10-point 宋体


def _label_lines(label: str) -> int:
    """How many lines an item name wraps to in the item-name column (wide characters count two)."""
    width = sum(2 if ord(character) > 0x2E7F else 1 for character in label)
    return max(1, -(-width // (_GRID_LABEL_WIDTH - 2)))


def grid_filename(grid: Grid) -> str:
    return (
        _safe(_("{attachment}_汇总对比_{unit}").format(attachment=grid.form.attachment, unit=grid.unit.name))
        + ".xlsx"
    )


def grid_xlsx(grid: Grid, *, now: dt.datetime | None = None) -> bytes:
    """The comparison grid as one sheet: a title, header rows (the units, then how many tables each holds),
    items as rows with their numbers formatted by kind, panes frozen at the first value, A4 landscape."""
    return xlsx_bytes(lambda workbook: _grid_sheet(workbook, grid, timezone.localtime(now or timezone.now())))


def xlsx_bytes(fill: Callable[[Any], None]) -> bytes:
    """A workbook written in memory by `fill` (given the workbook), closed even when `fill` fails."""
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    try:
        fill(workbook)
    finally:
        workbook.close()
    return buffer.getvalue()


def _grid_formats(workbook: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
    formats = {
        "title": {"font_name": "宋体", "bold": True, "font_size": 14},
        "subtitle": {"font_name": "宋体", "font_size": 10, "font_color": "#555555"},
        "heading": {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"},
        "count-heading": {**base, "align": "center", "font_color": "#555555", "bg_color": "#F2F2F2"},
        "code": {**base, "align": "center"},
        "label": {**base, "text_wrap": True},
        "unit": {**base, "align": "center"},
        "count": {**base, "num_format": "#,##0"},
        "money": {**base, "num_format": "#,##0.00##"},
        "yes-no": {**base, "align": "center"},
        "total-count": {**base, "num_format": "#,##0", "bold": True, "bg_color": "#FDF2E9"},
        "total-money": {**base, "num_format": "#,##0.00##", "bold": True, "bg_color": "#FDF2E9"},
        "total-yes-no": {**base, "align": "center", "bold": True, "bg_color": "#FDF2E9"},
        "level": {"font_name": "宋体", "font_size": 9, "align": "center", "font_color": "#555555"},
        **{
            f"discrepancy-{kind}": {
                **base,
                "num_format": number,
                "bg_color": "#F8D7DA",
                "font_color": "#9C0006",
            }
            for kind, number in (("count", "#,##0"), ("money", "#,##0.00##"), ("yes-no", "@"))
        },
    }
    return {name: workbook.add_format(options) for name, options in formats.items()}


def _grid_sheet(workbook: Any, grid: Grid, moment: dt.datetime) -> None:
    sheet = workbook.add_worksheet(_("汇总对比"))
    f = _grid_formats(workbook)
    last_column = _GRID_FIRST_VALUE_COLUMN + len(grid.columns) - 1
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, _GRID_LABEL_WIDTH)
    sheet.set_column(2, 2, 6)
    sheet.set_column(_GRID_FIRST_VALUE_COLUMN, last_column, 11)

    write_text(sheet, 0, 0, f"{grid.form.attachment} {grid.form.title}", f["title"])
    write_text(
        sheet,
        1,
        0,
        _("{unit} 汇总对比（只含审核通过的表）  {campaign}  导出时间：{time}").format(
            unit=grid.unit.name, campaign=grid.campaign.title, time=moment.strftime("%Y-%m-%d %H:%M")
        )
        + "  "
        + _("填报口径：{scope}").format(scope=grid.scope),
        f["subtitle"],
    )
    heading, counts = 3, 4
    # Row 2, just above each column's title: what its figures contain (本级 / 全辖（含下级） / 供核对).
    write_text(sheet, 2, 2, _("口径："), f["level"])
    for offset, column in enumerate(grid.columns):
        write_text(sheet, 2, _GRID_FIRST_VALUE_COLUMN + offset, column.level, f["level"])
    sheet.set_row(heading, 45)
    merge_text(sheet, heading, 0, counts, 0, _("编号"), f["heading"])
    merge_text(sheet, heading, 1, counts, 1, _("项目"), f["heading"])
    merge_text(sheet, heading, 2, counts, 2, _("单位"), f["heading"])
    for offset, column in enumerate(grid.columns):
        position = _GRID_FIRST_VALUE_COLUMN + offset
        write_text(sheet, heading, position, column.title, f["heading"])
        write_text(
            sheet,
            counts,
            position,
            _("{accepted}/{expected} 张").format(accepted=column.accepted, expected=column.expected),
            f["count-heading"],
        )

    row = counts + 1
    for grid_row in grid.rows:
        item = grid_row.item
        write_text(sheet, row, 0, item.code, f["code"])
        write_text(sheet, row, 1, item.label, f["label"])
        if (lines := _label_lines(item.label)) > 1:
            sheet.set_row(row, lines * _GRID_LINE_HEIGHT + 2)  # the whole name shows, in Excel as in print
        write_text(sheet, row, 2, item.unit, f["unit"])
        for offset, (column, value) in enumerate(zip(grid.columns, grid_row.cells, strict=True)):
            style = f[("total-" if column.kind == "total" else "") + item.kind.value]
            if column.kind == "below" and grid_row.discrepancy:
                style = f["discrepancy-" + item.kind.value]
            write_value(sheet, row, _GRID_FIRST_VALUE_COLUMN + offset, value, style)
        row += 1

    if grid.whole_area:
        write_text(
            sheet,
            row + 1,
            1,
            _("标红：下级合计大于本单位报送的全辖数，请核对。下级的表只供核对，不计入合计。"),
            f["subtitle"],
        )
        row += 2
    sheet.freeze_panes(counts + 1, _GRID_FIRST_VALUE_COLUMN)
    sheet.repeat_rows(heading, counts)
    sheet.repeat_columns(0, 2)
    sheet.print_area(0, 0, row - 1, last_column)
    sheet.set_paper(9)  # A4
    # Landscape, one page wide and as many pages tall as the rows need (never squeezed onto one page), the
    # heading rows and the item columns repeated on every page.
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_footer(_("&C第 &P 页，共 &N 页"))
    sheet.activate()


def write_value(sheet: Any, row: int, column: int, value: Value, style: Any) -> None:
    """A figure of a grid: a number as a number, blank as an empty cell (never 0), anything else as text."""
    if value is None:
        sheet.write_blank(row, column, None, style)  # blank stays blank, never 0
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        sheet.write_number(row, column, float(value), style)  # at most 4 decimals: exact in a double
    else:
        write_text(sheet, row, column, str(value), style)
