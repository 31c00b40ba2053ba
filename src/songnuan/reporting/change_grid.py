"""The reviewer's grid against last year: for each column of the comparison grid (a child's subtree, the
unit's own table, the total), last year's figure from the previous campaign's accepted tables, this year's,
and this ÷ last; a change beyond the campaign's ratio is marked as the entry page's warning would mark it.

Built from two comparison grids (`rollup.comparison_grid`, this year's and last year's for the form the form
file names), so last year is rolled up exactly as this year is, and the viewer sees last year only for
the units it sees this year (the same `visible`). A column with no counterpart last year (a unit added
since) shows blank, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, Item, ItemKind, builtin_forms
from songnuan.formkit.engine import Value, value_text
from songnuan.formkit.excel_writer import write_text
from songnuan.formkit.yearly import change, change_factor
from songnuan.orgs.models import Unit
from songnuan.reporting import rollup as rollups
from songnuan.reporting.exports import write_value, xlsx_bytes


@dataclass(frozen=True)
class ChangeCell:
    last: Value
    this: Value
    factor: Decimal | None  # this ÷ last, 2 places; None when either is blank or last is 0
    flag: str | None  # "up" / "down": beyond the ratio (as the entry page's warning)

    @property
    def last_shown(self) -> str:
        return value_text(self.last)

    @property
    def this_shown(self) -> str:
        return value_text(self.this)

    @property
    def factor_shown(self) -> str:
        return "" if self.factor is None else f"×{value_text(self.factor)}"


@dataclass(frozen=True)
class ChangeRow:
    item: Item
    cells: list[ChangeCell]


@dataclass(frozen=True)
class ChangeGrid:
    grid: rollups.Grid
    previous: Campaign
    ratio: Decimal
    rows: list[ChangeRow]

    @property
    def ratio_shown(self) -> str:
        return value_text(self.ratio)


def _key(part: rollups.RollupPart) -> tuple[str, int | None]:
    return part.kind, part.unit.pk if part.unit is not None else None


def change_grid(
    campaign: Campaign, form: Form, unit: Unit, *, visible: Callable[[Unit], bool]
) -> ChangeGrid | None:
    """The grid with last year beside this year; None when the campaign has no previous campaign."""
    previous = campaign.previous
    if previous is None:
        return None
    grid = rollups.comparison_grid(campaign, form, unit, visible=visible)
    earlier_form = builtin_forms().get(form.previous_form_code)
    before: dict[tuple[str, int | None], dict[str, Value]] = {}
    if earlier_form is not None:
        last_grid = rollups.comparison_grid(previous, earlier_form, unit, visible=visible)
        before = {_key(part): part.values for part in last_grid.columns}
    ratio = campaign.change_ratio
    rows: list[ChangeRow] = []
    for row in grid.rows:
        item = row.item
        old = form.previous_item(item.code)
        cells: list[ChangeCell] = []
        for part, this in zip(grid.columns, row.cells, strict=True):
            last = before.get(_key(part), {}).get(old) if old else None
            if item.kind is ItemKind.YES_NO:
                cells.append(ChangeCell(last, this, None, None))
            else:
                cells.append(ChangeCell(last, this, change_factor(this, last), change(this, last, ratio)))
        rows.append(ChangeRow(item, cells))
    return ChangeGrid(grid, previous, ratio, rows)


def change_grid_xlsx(table: ChangeGrid, *, now: dt.datetime | None = None) -> bytes:
    """The grid against last year as one sheet: per column 上年, 本年, 倍数; a change beyond the ratio is
    shaded."""
    return xlsx_bytes(lambda workbook: _sheet(workbook, table, timezone.localtime(now or timezone.now())))


def _sheet(workbook: Any, table: ChangeGrid, moment: dt.datetime) -> None:
    grid = table.grid
    sheet = workbook.add_worksheet(_("与上年对比"))
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
    heading = workbook.add_format({**base, "bold": True, "align": "center", "text_wrap": True})
    label = workbook.add_format({**base, "text_wrap": True})
    plain = workbook.add_format({**base, "align": "right"})
    number = workbook.add_format({**base, "num_format": "#,##0.####"})
    factor = workbook.add_format({**base, "num_format": "0.00"})
    flagged = workbook.add_format({**base, "num_format": "#,##0.####", "bold": True, "bg_color": "#FCE4D6"})
    flagged_factor = workbook.add_format({**base, "num_format": "0.00", "bold": True, "bg_color": "#FCE4D6"})
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2, 6)
    sheet.set_column(3, 2 + 3 * len(grid.columns), 10)
    write_text(sheet, 0, 0, f"{grid.form.attachment} {grid.form.title}", None)
    write_text(
        sheet,
        1,
        0,
        _(
            "{unit} 与上年对比（{previous}；只含审核通过的表；超过{ratio}倍或不到1/{ratio}的加底色）"
            "  导出时间：{time}"
        ).format(
            unit=grid.unit.name,
            previous=table.previous.title,
            ratio=table.ratio_shown,
            time=moment.strftime("%Y-%m-%d %H:%M"),
        ),
        None,
    )
    # merge_range would write its text with `write` (a unit's name could become a formula): merged blank,
    # then written as text.
    for position, text in enumerate((_("编号"), _("项目"), _("单位"))):
        sheet.merge_range(2, position, 3, position, "", heading)
        write_text(sheet, 2, position, text, heading)
    for index, column in enumerate(grid.columns):
        first = 3 + 3 * index
        sheet.merge_range(2, first, 2, first + 2, "", heading)
        write_text(sheet, 2, first, column.title, heading)
        for offset, text in enumerate((_("上年"), _("本年"), _("倍数"))):
            write_text(sheet, 3, first + offset, text, heading)
    for line, row in enumerate(table.rows, start=4):
        write_text(sheet, line, 0, row.item.code, plain)
        write_text(sheet, line, 1, row.item.label, label)
        write_text(sheet, line, 2, row.item.unit, plain)
        for index, cell in enumerate(row.cells):
            first = 3 + 3 * index
            write_value(sheet, line, first, cell.last, number)
            write_value(sheet, line, first + 1, cell.this, flagged if cell.flag else number)
            write_value(sheet, line, first + 2, cell.factor, flagged_factor if cell.flag else factor)
    sheet.freeze_panes(4, 3)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
