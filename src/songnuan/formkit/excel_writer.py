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
from songnuan.formkit.i18n import gettext_noop

#: Every workbook of the project is made with these options: a string that looks like a formula or an address
#: is never turned into one, whatever method writes it (the belt; `write_text` is the braces).
SAFE_WORKBOOK_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

#: The media type of every workbook written here (downloads name it).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUE_COLUMN = 6  # G
LABEL_FIRST, LABEL_LAST = 3, 5  # D:F, merged
_WIDTHS = (6, 5, 5, 46, 12, 12, 16)
_FONT = "宋体"


def new_workbook(target: str | Path | IO[bytes], *, constant_memory: bool = False) -> Any:
    """An XlsxWriter workbook with the safe options: the only way this project makes one."""
    options: dict[str, bool] = {**SAFE_WORKBOOK_OPTIONS}
    options["constant_memory" if constant_memory else "in_memory"] = True
    return xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, options)


def write_text(sheet: Any, row: int, column: int, text: str, cell_format: Any = None) -> None:
    """Write `text` as text, exactly as it is — never a formula, an address or a number.

    Everything a person typed (a unit's name, a reporter, a phone number, a household's fields), and the
    labels of the forms too, goes through here: `write` would make `=HYPERLINK(…)` a live formula.
    `write_string` alone is not enough either: XlsxWriter copies a string that starts with `<r>` and ends with
    `</r>` into the file as raw XML (its rich-string marker), so such a text could add cells — formulas
    included — to the sheet. That one shape is written as a rich string instead, whose pieces are escaped.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        if cell_format is None:
            sheet.write_rich_string(row, column, text[:1], text[1:2], text[2:])
        else:
            sheet.write_rich_string(row, column, text[:1], cell_format, text[1:], cell_format)
    else:
        sheet.write_string(row, column, text, cell_format)


def merge_text(
    sheet: Any,
    first_row: int,
    first_column: int,
    last_row: int,
    last_column: int,
    text: str,
    cell_format: Any,
) -> None:
    """Merge a range and write `text` into it as text (`merge_range` writes its data as `write` would)."""
    sheet.merge_range(first_row, first_column, last_row, last_column, "", cell_format)
    write_text(sheet, first_row, first_column, text, cell_format)


def write_form(
    form: Form,
    target: str | Path | IO[bytes],
    *,
    values: Mapping[str, Value] | None = None,
    header: Mapping[str, str | None] | None = None,
) -> None:
    """Write `form` to `target` (a path or a binary file object) as .xlsx."""
    workbook = new_workbook(target)
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
        write_text(sheet, row, 0, f"{form.attachment}：", f["attachment"])
        row += 1
    sheet.set_row(row, 32)
    merge_text(sheet, row, 0, row, VALUE_COLUMN, form.title, f["title"])
    row += 1

    # The header line, as label | value pairs on two rows so each value has its own cell to type in.
    # The labels and headings below are what the reader searches for: the official table is Chinese in every
    # interface language (marked for the catalogue only, never translated).
    merge_text(sheet, row, 0, row, 1, gettext_noop("填报单位："), f["label"])
    merge_text(sheet, row, 2, row, 3, header.get("unit") or "", f["field"])
    write_text(sheet, row, 4, gettext_noop("填报人："), f["label"])
    merge_text(sheet, row, 5, row, 6, header.get("reporter") or "", f["field"])
    row += 1
    merge_text(sheet, row, 0, row, 1, gettext_noop("电话："), f["label"])
    merge_text(sheet, row, 2, row, 3, header.get("phone") or "", f["field"])
    write_text(sheet, row, 4, gettext_noop("填报日期："), f["label"])
    date_text = header.get("date")
    sheet.merge_range(row, 5, row, 6, "", f["date"])
    if date_text:
        try:
            sheet.write_datetime(row, 5, dt.datetime.fromisoformat(date_text), f["date"])
        except ValueError:  # not a date: kept as the text it is
            write_text(sheet, row, 5, date_text, f["date"])
    else:
        write_text(sheet, row, 5, gettext_noop("    年    月    日"), f["date"])
    row += 1

    if form.notes:
        for position, note in enumerate(form.notes):
            text = f"{gettext_noop('说明：') if position == 0 else '　　　'}{note}"
            merge_text(sheet, row, 0, row, VALUE_COLUMN, text, f["note"])
            row += 1

    heading_row = row
    write_text(sheet, row, 0, gettext_noop("编号"), f["heading"])
    merge_text(sheet, row, 1, row, LABEL_LAST, gettext_noop("项    目"), f["heading"])
    write_text(sheet, row, VALUE_COLUMN, gettext_noop("合计"), f["heading"])
    row += 1
    first_data_row = row

    groups: list[tuple[int, float]] = []  # (first row, printed height): where a page may break
    for number, items in form.groups():
        group_first = row
        group_height = 0.0
        for item in items:
            letter = form.printed_letter(item)
            sheet.write_blank(row, 1, None, f["letter"])
            sheet.write_blank(row, 2, None, f["letter"])
            if letter:
                write_text(sheet, row, 1 if item.level == 0 else 2, letter, f["letter"])
            label = item.label + (f"    {item.formula}" if item.formula else "")
            label_format = f["text"] if item.level < 2 else f[f"text{min(item.level, 3)}"]
            merge_text(sheet, row, LABEL_FIRST, row, LABEL_LAST, label, label_format)
            set_height = None if len(label) <= 30 else 30 if len(label) < 60 else 45
            if set_height is not None:
                sheet.set_row(row, set_height)
            group_height += _printed_height(label, set_height)
            _write_value(sheet, row, item.kind, values.get(item.code), f)
            _validate(sheet, row, item.kind, item.code)
            row += 1
        if row - group_first > 1:
            sheet.merge_range(group_first, 0, row - 1, 0, "", f["number"])
        sheet.write_number(group_first, 0, int(number), f["number"])
        groups.append((group_first, group_height))

    sheet.freeze_panes(first_data_row, 0)
    sheet.repeat_rows(heading_row)
    sheet.print_area(0, 0, row - 1, VALUE_COLUMN)
    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    _break_between_groups(sheet, form, groups)
    sheet.center_horizontally()
    sheet.set_margins(**_MARGINS)
    sheet.set_footer(_("&C第 &P 页，共 &N 页"))
    sheet.protect("", {"format_columns": True, "format_rows": True})
    sheet.activate()


# --- page breaks between groups -------------------------------------------------------------------------
# Excel's own page breaks fall anywhere, cutting a group's merged 编号 cell (附件2's group 10 has 13 rows).
# So the sheet is printed at the zoom that makes it one page wide (what fit-to-width would choose;
# fit-to-page would make Excel ignore manual breaks) with a manual break before each group that would not
# fit on the page. Row heights are estimated generously (Excel and WPS grow a wrapped row to its lines),
# and a tenth of each page is left free, so that Excel's own breaks never come first.

_MARGINS = {"left": 0.6, "right": 0.6, "top": 0.7, "bottom": 0.7}  # inches
_A4_POINTS = (595.3, 841.9)
_LINE_POINTS = 16.5  # one line of 11 pt 宋体 with its padding
_LABEL_UNITS = 44  # what one line of the label column (width 46) holds: a Chinese character takes 2


def print_scale() -> int:
    """The zoom (percent) that makes the table one page wide: Excel's column width w is 7w + 5 pixels."""
    pixels = sum(int(width * 7 + 5) for width in _WIDTHS)
    printable = _A4_POINTS[0] - 72 * (_MARGINS["left"] + _MARGINS["right"])
    return min(100, int(100 * printable / (pixels * 0.75)))


def _printed_height(text: str, set_height: float | None = None, units_per_line: int = _LABEL_UNITS) -> float:
    units = sum(2 if ord(character) >= 0x2E80 else 1 for character in text)
    lines = max(1, -(-units // units_per_line))
    return max(set_height or 0.0, lines * _LINE_POINTS)


def page_rows() -> float:
    """The height (points, at 100%) the rows of one printed page may take, a tenth kept free."""
    printable = _A4_POINTS[1] - 72 * (_MARGINS["top"] + _MARGINS["bottom"])
    return 0.9 * printable * 100 / print_scale()


def _break_between_groups(sheet: Any, form: Form, groups: Sequence[tuple[int, float]]) -> None:
    heading = _LINE_POINTS
    full_width = 2 * sum(_WIDTHS)  # a note spans the whole table, in 10 pt
    used = 32 + 3 * _LINE_POINTS + heading  # 附件N, the title, the header line, the heading
    used += sum(_printed_height(note, units_per_line=full_width) for note in form.notes)
    limit = page_rows()
    breaks = []
    for first_row, height in groups:
        if used + height > limit and used > heading:
            breaks.append(first_row)  # XlsxWriter breaks above this (0-based) row
            used = heading  # the heading is repeated at the top of each page
        used += height
    sheet.set_print_scale(print_scale())
    sheet.set_h_pagebreaks(breaks)


def _write_value(sheet: Any, row: int, kind: ItemKind, value: Value, f: Mapping[str, Any]) -> None:
    style = f[kind.value]
    if value is None:
        sheet.write_blank(row, VALUE_COLUMN, None, style)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        # An .xlsx cell stores a double; values here have at most 4 decimals and so survive the trip exactly.
        sheet.write_number(row, VALUE_COLUMN, float(value), style)
    else:
        write_text(sheet, row, VALUE_COLUMN, str(value), style)


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
    A workbook may hold several lists (a household list and its members): `add_sheet` starts the next one,
    and `write` then fills it; each sheet is written top to bottom, as constant memory requires.
    """

    def __init__(
        self,
        target: str | Path | IO[bytes],
        *,
        title: str,
        header: Sequence[str],
        widths: Sequence[int] | None = None,
        sheet_name: str | None = None,
        comments: Mapping[int, str] | None = None,
        text_columns: Sequence[int] = (),
    ) -> None:
        self._workbook = new_workbook(target, constant_memory=isinstance(target, str | Path))
        self._title_format = self._workbook.add_format({"bold": True, "font_size": 14, "font_name": _FONT})
        self._head_format = self._workbook.add_format(
            {"bold": True, "border": 1, "bg_color": "#EEEEEE", "font_name": _FONT, "text_wrap": True}
        )
        self._text = self._workbook.add_format({"num_format": "@", "font_name": _FONT})
        self._money = self._workbook.add_format({"num_format": "#,##0.00", "font_name": _FONT})
        self._date = self._workbook.add_format({"num_format": "yyyy-mm-dd", "font_name": _FONT})
        self._sheets = 0
        self.add_sheet(
            title=title,
            header=header,
            widths=widths,
            sheet_name=sheet_name,
            comments=comments,
            text_columns=text_columns,
        )

    def add_sheet(
        self,
        *,
        title: str,
        header: Sequence[str],
        widths: Sequence[int] | None = None,
        sheet_name: str | None = None,
        comments: Mapping[int, str] | None = None,
        text_columns: Sequence[int] = (),
    ) -> None:
        """Start another list on a sheet of its own; the rows written from now on go there.

        `comments`: a note on a header cell, by column (how to fill the column of a blank template).
        `text_columns`: columns formatted as text before anything is typed in them, so that an ID or card
        number typed into the blank sheet keeps all its digits.
        """
        self._sheets += 1
        default_name = gettext_noop("名单") if self._sheets == 1 else f"{gettext_noop('名单')}{self._sheets}"
        sheet = self._sheet = self._workbook.add_worksheet(sheet_name or default_name)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(1)
        for column, width in enumerate(widths or [14] * len(header)):
            sheet.set_column(column, column, width, self._text if column in text_columns else None)
        write_text(sheet, 0, 0, title, self._title_format)
        for column, text in enumerate(header):
            write_text(sheet, 1, column, text, self._head_format)
        for column, note in (comments or {}).items():
            # A comment is stored as plain text (never read as a formula), so no write_text needed.
            sheet.write_comment(1, column, note, {"x_scale": 2, "y_scale": 1.5})
        sheet.freeze_panes(2, 0)
        self._row = 2

    def write(self, cells: Sequence[Any]) -> None:
        sheet, row = self._sheet, self._row
        for column, value in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                # 是/否 are values the list reader reads back, in whatever language the list was written.
                write_text(
                    sheet, row, column, gettext_noop("是") if value else gettext_noop("否"), self._text
                )
            elif isinstance(value, int):
                sheet.write_number(row, column, value)
            elif isinstance(value, Decimal | float):
                sheet.write_number(row, column, float(value), self._money)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row, column, value.replace(tzinfo=None), self._date)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row, column, value, self._date)
            else:
                write_text(sheet, row, column, str(value), self._text)
        self._row += 1

    def close(self) -> None:
        self._workbook.close()
