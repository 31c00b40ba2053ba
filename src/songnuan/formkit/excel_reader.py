"""The one Excel reader: filled statistical tables from .xlsx, .xls or .ods, as people really fill them.

It finds the table by its title (or, failing that, by its rows), wherever it starts on the sheet and whatever
blank rows or columns were inserted, matches each row to an item by its label and 编号/letter, reads the
header line (填报单位, 填报人, 电话, date) and returns typed values with the cell each came from.
Tables laid out unlike the template are found by their item labels (`_locate_by_labels`): the letter written
inside the label cell, no 编号 column, columns in any order, the value column titled otherwise (or not at all:
then it is the column holding numbers on the item rows), and one table split over consecutive sheets.
Any file it cannot read raises `UnreadableFile` with a Chinese message; it never lets a traceback out.
Every file is measured by `upload_guard` before calamine sees it (form sheets at most 2,000 × 50, the parts
read at most 50 / 256 MB inflated). Lists (花名册) have their own reader, `list_reader`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from songnuan.formkit.definitions import Form, Item, ItemKind, Severity
from songnuan.formkit.engine import Value, Violation
from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.upload_guard import (
    ENCRYPTED_MARK,
    FORM_LIMITS,
    OLE_MAGIC,
    UnreadableFile,
    guard_workbook,
)
from songnuan.formkit.values import DATE_TEXT, decimal_from_float, normalize_text, parse_value

__all__ = ["UnreadableFile"]  # raised by the guard, which measures every file before calamine reads it

MAX_FILE_BYTES = 20 * 1024 * 1024
_HEADER_SEARCH_ROWS = 40
_TITLE_FAST_ROWS = 10
_PRINTED_FORMULA = re.compile(r"[A-Z]=[A-Z](?:\+[A-Z])+$")
_LETTER = re.compile(r"^\(?([A-Z])\)?$")
_HEADER_LABEL = re.compile(r"(填报单位|填报人|联系电话|电话|填报日期|日期)\s*[:：]?")
_HEADER_ATTRIBUTES = {"填报单位": "unit", "填报人": "reporter", "联系电话": "phone", "电话": "phone"}
#: A letter (and 编号) written before the label in the label cell, as normalize_text leaves it:
#: “（B）其中省级” → "(B)其中省级", “B 其中” → "B其中", “B、其中”, “1A 走访企业”, “1.A、走访企业”.
_LABEL_PREFIX = re.compile(r"(?:\d{1,2}[、.,:]?)?\(?([A-Za-z])\)?[、.,:]?")
_TRAILING_UNIT = re.compile(r"\([^()]*\)$")
#: Headings of the value column, best first: the template's 合计, then what people write instead.
_VALUE_TITLE_RANK = {
    title: rank
    for rank, title in enumerate(
        (
            "合计",
            "合计数",
            "总计",
            "数值",
            "本期",
            "本期数",
            "本年",
            "本年数",
            "本年累计",
            "填报数",
            "实际数",
            "完成数",
            "数量",
            "金额",
            "数据",
            "数字",
            "数",
        )
    )
}
#: Headings of columns that are never the value column.
_NOT_VALUE_TITLES = frozenset(
    {
        "编号",
        "序号",
        "行次",
        "栏次",
        "代码",
        "项目",
        "项目名称",
        "指标",
        "指标名称",
        "名称",
        "单位",
        "计量单位",
        "字母",
        "备注",
        "说明",
    }
)
_VALUE_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_YES_NO_TEXT = frozenset({"是", "否", "Y", "N", "YES", "NO", "√", "×", "有", "无"})
_HEADING_ROWS = 3  # column headings may take up to three rows (merged cells) above the first item
_MISSING_SHOWN = 5  # the missing items named in a message, at most


@dataclass
class Header:
    unit: str | None = None
    reporter: str | None = None
    phone: str | None = None
    date: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"unit": self.unit, "reporter": self.reporter, "phone": self.phone, "date": self.date}


class CellNames(Mapping[str, str]):
    """Item code → "Sheet!G12", formatted only when asked (most cells are never shown).

    `places` are the (sheet, value column) of each part of the table (one, unless the table was split over
    sheets); `parts` gives the place of each item's row (all 0 when the table is on one sheet).
    """

    def __init__(
        self,
        places: Sequence[tuple[str, int]],
        codes: Sequence[str],
        rows: Sequence[int | None],
        parts: Sequence[int] | None = None,
    ) -> None:
        self.places = places
        self.rows = {code: row for code, row in zip(codes, rows, strict=True) if row is not None}
        self.parts = (
            {code: part for code, part in zip(codes, parts, strict=True) if part} if parts is not None else {}
        )

    def __getitem__(self, code: str) -> str:
        sheet, column = self.places[self.parts.get(code, 0)]
        return cell_name(sheet, self.rows[code], column)

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class TableReading:
    """One recognised table on one sheet: typed values by item code, and where each was read."""

    file: str
    sheet: str
    form: Form
    header: Header
    values: dict[str, Value]
    cells: Mapping[str, str]
    problems: list[Violation] = field(default_factory=list)


@dataclass(frozen=True)
class _FormIndex:
    """What matching a sheet to a form needs, computed once per form rather than once per file."""

    written: tuple[frozenset[str], ...]  # per item: its label as printed, and as our template writes it
    by_label: dict[str, tuple[int, ...]]  # the label exactly as our template writes it → item positions
    by_key: dict[str, tuple[int, ...]]  # label_key(label) → item positions (duplicates: in printed order)
    keys: frozenset[str]


_INDEXES: dict[int, tuple[Form, _FormIndex]] = {}


def _form_index(form: Form) -> _FormIndex:
    cached = _INDEXES.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    by_label: dict[str, list[int]] = {}
    by_key: dict[str, list[int]] = {}
    written: list[frozenset[str]] = []
    for item in form.items:
        texts = frozenset({item.label, f"{item.label}    {item.formula}" if item.formula else item.label})
        written.append(texts)
        for text in texts:
            by_label.setdefault(text, []).append(item.index)
        by_key.setdefault(label_key(item.label), []).append(item.index)
    index = _FormIndex(
        tuple(written),
        {k: tuple(v) for k, v in by_label.items()},
        {k: tuple(v) for k, v in by_key.items()},
        frozenset(by_key),
    )
    _INDEXES[id(form)] = (form, index)
    return index


def label_key(text: str) -> str:
    """A label compared the way a person would: no spaces, full/half-width alike, printed formula dropped."""
    key = normalize_text(text)
    return _PRINTED_FORMULA.sub("", key)


def column_letter(column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_name(sheet: str, row: int, column: int) -> str:
    return f"{sheet}!{column_letter(column)}{row + 1}"


# --- opening the file ------------------------------------------------------------------------------------


def read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(
                _("文件太大（{mb:.1f} MB），统计表文件不应超过 {limit} MB").format(
                    mb=size / 1048576, limit=MAX_FILE_BYTES // 1048576
                )
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(_("文件不存在")) from None
    except IsADirectoryError:
        raise UnreadableFile(_("这是一个文件夹，不是文件")) from None
    except PermissionError:
        raise UnreadableFile(_("没有读取该文件的权限")) from None


def _open_workbook(
    data: bytes, file: str | None = None
) -> tuple[python_calamine.CalamineWorkbook, dict[str, bytes]]:
    """calamine's workbook, opened on what the guard measured; and each sheet's XML (.xlsx)."""
    if not data:
        raise UnreadableFile(_("文件是空的（0 字节）"))
    if data.startswith(OLE_MAGIC) and ENCRYPTED_MARK in data[:65536] + data[-65536:]:
        raise UnreadableFile(
            _("文件设置了打开密码，无法读取。请在Excel或WPS中取消密码（文件→信息→保护工作簿）后重新上传")
        )
    if not (data.startswith(b"PK\x03\x04") or data.startswith(OLE_MAGIC)):
        raise UnreadableFile(_("不是电子表格文件：只能读取Excel或WPS保存的 .xlsx、.xls 或 .ods 文件"))
    measured = guard_workbook(data, file=file, limits=FORM_LIMITS)
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(measured.data)), measured.sheet_xml
    except python_calamine.PasswordError:
        raise UnreadableFile(_("文件设置了打开密码，无法读取。请取消密码后重新上传")) from None
    except Exception:  # calamine raises several types for damaged files; the user needs one answer
        if data.startswith(b"PK\x03\x04"):
            raise UnreadableFile(
                _("文件已损坏或不完整（可能没有传完），请在Excel或WPS中重新保存后上传")
            ) from None
        raise UnreadableFile(_("无法读取该文件：它不是有效的 .xls 文件，可能已损坏或不完整")) from None


def _sheet_rows(workbook: python_calamine.CalamineWorkbook, name: str) -> list[list[Any]]:
    try:
        rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception:  # a damaged sheet inside an otherwise readable file
        raise UnreadableFile(_("工作表“{sheet}”已损坏，无法读取").format(sheet=name)) from None
    return rows


def _xlsx_formula_cells(sheet_xml: Mapping[str, bytes]) -> dict[str, set[tuple[int, int]]]:
    """Cells holding a formula, by sheet name (xlsx only; xls and ods give their saved results).

    The sheets' XML is what the guard already inflated (with its cap) for the sheets that are read: nothing
    is unzipped again, and a part no sheet refers to is never inflated. Asked only when an item's cell is
    empty.
    """
    found: dict[str, set[tuple[int, int]]] = {}
    for name, xml in sheet_xml.items():
        # A formula is an <f> element; data validations' <formula1> are not formulas.
        if b"<f>" in xml or b"<f " in xml:
            cells = found.setdefault(name, set())
            for match in _FORMULA_CELL.finditer(xml):
                cells.add((int(match.group(2)) - 1, _column_index(match.group(1).decode())))
    return found


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*>\s*<f[\s>/]')


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


# --- recognising the table -------------------------------------------------------------------------------


def _text_cells(rows: Sequence[Sequence[Any]], limit: int) -> list[tuple[int, int, str]]:
    return [
        (r, c, normalize_text(value))
        for r, row in enumerate(rows[:limit])
        for c, value in enumerate(row)
        if isinstance(value, str) and value.strip()
    ]


def identify_form(rows: Sequence[Sequence[Any]], forms: Mapping[str, Form]) -> Form | None:
    """The form whose title is on the sheet; failing that, the one most of whose labels are there."""
    return _form_by_title(rows, forms) or _form_by_labels(rows, forms)


def _form_by_title(rows: Sequence[Sequence[Any]], forms: Mapping[str, Form]) -> Form | None:
    for row in rows[:_TITLE_FAST_ROWS]:
        for value in row:
            if value.__class__ is str and value:
                for form in forms.values():
                    if form.title in value:
                        return form
    top = _text_cells(rows, _HEADER_SEARCH_ROWS)
    for form in forms.values():
        title = normalize_text(form.title)
        if any(title in text for _r, _c, text in top):
            return form
    return None


def _form_by_labels(rows: Sequence[Sequence[Any]], forms: Mapping[str, Form]) -> Form | None:
    """The form at least half of whose labels are on the sheet (a letter before a label is ignored)."""
    present = {label_key(value) for row in rows for value in row if isinstance(value, str) and value.strip()}
    for key in list(present):
        prefix = _LABEL_PREFIX.match(key)
        if prefix and prefix.end() < len(key):
            present.add(key[prefix.end() :])
    best: tuple[float, Form | None] = (0.0, None)
    for form in forms.values():
        keys = _form_index(form).keys
        share = len(keys & present) / len(keys)
        if share > best[0]:
            best = (share, form)
    return best[1] if best[0] >= 0.5 else None


def _find_header_row(rows: Sequence[Sequence[Any]]) -> tuple[int, int] | None:
    """(row, column of 合计) of the table's column headings."""
    for r, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if "合计" in row and (
            "编号" in row or "项目" in row
        ):  # as our template writes it: no need to normalise
            return r, row.index("合计")
    for r, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        texts = {c: normalize_text(v) for c, v in enumerate(row) if isinstance(v, str)}
        total = [c for c, t in texts.items() if t in ("合计", "合计数", "数值", "本期数")]
        if total and any(t in ("项目", "编号", "项目名称", "指标名称") for t in texts.values()):
            return r, total[0]
    return None


def _row_parts(row: Sequence[Any], value_column: int) -> tuple[str | None, str | None, str | None]:
    """(编号, letter, label) from the cells left of the value column."""
    number = letter = label = None
    for value in row[:value_column]:
        if value is None or value == "":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if number is None and float(value).is_integer() and 0 < value < 100:
                number = str(int(value))
            continue
        text = normalize_text(str(value))
        if not text:
            continue
        if number is None and label is None and text.isdigit() and len(text) <= 2:
            number = text
        elif letter is None and label is None and _LETTER.match(text):
            letter = _LETTER.match(text).group(1)  # type: ignore[union-attr]
        elif label is None:
            label = str(value)
    return number, letter, label


def _read_header(rows: Sequence[Sequence[Any]], before: int) -> Header:
    """填报单位, 填报人, 电话 and the date: typed after the labels on one line, or in cells of their own."""
    header = Header()
    for row in rows[:before]:
        texts = [v for v in row if v.__class__ is str and v]
        line = " ".join(texts)
        if not ("填报" in line or "电话" in line or "日期" in line or "日" in line):
            continue
        if "说明" in line or "截至" in line:  # 附件2's notes carry a date that is not the reporting date
            continue
        dates = [v for v in row if isinstance(v, dt.date)]  # a date typed into a cell of its own
        if dates:
            line += " " + " ".join(d.strftime("%Y年%m月%d日") for d in dates)
        line = line.replace("\u3000", " ")
        date = DATE_TEXT.search(line)
        pieces = _HEADER_LABEL.split(line)
        # pieces: [before, label, text, label, text, …]; a text ends where the date begins
        for label, text in zip(pieces[1::2], pieces[2::2], strict=True):
            attribute = _HEADER_ATTRIBUTES.get(label)
            if attribute is None or getattr(header, attribute) is not None:
                continue
            if date and date.group(0) in text:
                text = text[: text.index(date.group(0))]
            text = text.strip(" _:：")
            if text:
                setattr(header, attribute, text)
        if date and header.date is None:
            try:
                header.date = dt.date(*(int(g) for g in date.groups())).isoformat()
            except ValueError:
                header.date = date.group(0)
    return header


@dataclass
class _Part:
    """One sheet's share of a table: its rows and the column its values are in."""

    sheet: str
    rows: Sequence[Sequence[Any]]
    column: int
    formulas: Callable[[], set[tuple[int, int]]]


@dataclass
class _Table:
    """A table located on one sheet, or on several consecutive ones: the row (and part) of each item."""

    form: Form
    parts: list[_Part]
    found_at: list[int | None]
    part_at: list[int]
    header_before: int  # the header line (填报单位 …) is above this row of the first part
    order: int  # the position of its first sheet in the workbook

    @property
    def found(self) -> int:
        return len(self.found_at) - self.found_at.count(None)

    @property
    def sheets(self) -> str:
        return "、".join(part.sheet for part in self.parts)


def read_table(
    rows: Sequence[Sequence[Any]],
    form: Form,
    *,
    file: str,
    sheet: str,
    formulas: Callable[[], set[tuple[int, int]]] = set,
) -> TableReading:
    """Match the sheet's rows to the form's items and read each item's value.

    `formulas` gives the sheet's formula cells; it is asked only when an item's cell is empty, since only
    there can a formula hide (one saved without its result reads as empty).
    """
    table = _locate(rows, form, sheet, formulas)
    _refuse_if_too_few(table)
    return _read_values(table, file)


def _refuse_if_too_few(table: _Table) -> None:
    form = table.form
    if table.found >= len(form.items) / 2:
        return
    missing = [item for item, r in zip(form.items, table.found_at, strict=True) if r is None]
    shown = "、".join(f"{item.code}“{item.label}”" for item in missing[:_MISSING_SHOWN])
    if len(missing) > _MISSING_SHOWN:
        shown = _("{shown}等{n}项").format(shown=shown, n=len(missing))
    raise UnreadableFile(
        _(
            "工作表“{sheet}”只找到{n}个项目行（共{total}个），表格结构与“{title}”不符。"
            "按项目名称查找，没有找到：{missing}"
        ).format(sheet=table.sheets, n=table.found, total=len(form.items), title=form.title, missing=shown)
    )


def _read_values(table: _Table, file: str) -> TableReading:
    form = table.form
    parts = table.parts
    first = parts[0]
    cells = CellNames(
        [(part.sheet, part.column) for part in parts],
        form.codes,
        table.found_at,
        table.part_at if len(parts) > 1 else None,
    )
    values: dict[str, Value] = {}
    problems: list[Violation] = []
    count, money = ItemKind.COUNT, ItemKind.MONEY
    rows, c, formulas = first.rows, first.column, first.formulas
    single = len(parts) == 1
    for item, r, p in zip(form.items, table.found_at, table.part_at, strict=True):
        if r is None:
            values[item.code] = None
            problems.append(_missing_row(form, item))
            continue
        if not single:
            rows, c, formulas = parts[p].rows, parts[p].column, parts[p].formulas
        row = rows[r]
        raw = row[c] if c < len(row) else None
        if raw.__class__ is float:  # the common cases first, without parse_value's general path
            if item.kind is count and raw.is_integer():
                values[item.code] = int(raw)
                continue
            if item.kind is money:
                values[item.code] = decimal_from_float(raw).normalize()
                continue
        if raw is None or raw == "":
            values[item.code] = None
            if (r, c) in formulas():
                problems.append(_formula_without_result(form, item, cells[item.code]))
        else:
            values[item.code] = parse_value(item, raw)
    header = _read_header(first.rows, table.header_before)
    sheet = first.sheet if single else table.sheets
    return TableReading(file, sheet, form, header, values, cells, problems)


def _locate(
    rows: Sequence[Sequence[Any]],
    form: Form,
    sheet: str,
    formulas: Callable[[], set[tuple[int, int]]] = set,
    order: int = 0,
) -> _Table:
    """Where the form's items are on the sheet: as the template lays them out (the fast path), else by labels.

    Raises UnreadableFile naming what was looked for when no item label, or no value column, is found.
    """
    n = len(form.items)
    located = _find_header_row(rows)
    fast: _Table | None = None
    if located is not None:
        header_row, value_column = located
        found_at = _match_rows(rows, form, header_row, value_column)
        fast = _Table(
            form, [_Part(sheet, rows, value_column, formulas)], found_at, [0] * n, header_row, order
        )
        if fast.found == n:
            return fast
    by_labels = _locate_by_labels(rows, form)
    if by_labels is not None and (fast is None or by_labels.found > fast.found):
        if by_labels.column is None:
            if by_labels.found < n / 2:  # too few rows: say which labels were not found
                _refuse_if_too_few(
                    _Table(form, [_Part(sheet, rows, 0, formulas)], by_labels.found_at, [], 0, 0)
                )
            raise UnreadableFile(_no_value_column(sheet, form, by_labels.found))
        part = _Part(sheet, rows, by_labels.column, formulas)
        return _Table(form, [part], by_labels.found_at, [0] * n, by_labels.header_before, order)
    if fast is not None:
        return fast
    raise UnreadableFile(_no_labels(sheet, form, range(n)))


@dataclass
class _ByLabels:
    found_at: list[int | None]
    column: int | None  # the value column, when one was found
    header_before: int

    @property
    def found(self) -> int:
        return len(self.found_at) - self.found_at.count(None)


def _locate_by_labels(
    rows: Sequence[Sequence[Any]],
    form: Form,
    default_column: int | None = None,
    wanted: Container[int] | None = None,
) -> _ByLabels | None:
    """Find the items by their labels wherever they are on the sheet, then the column holding their values.

    A label cell matches when its text is an item's label as printed (spaces, full/half width, the printed
    formula and a leading letter such as “（B）”, “B ” or “B、” do not matter). Rows are matched in printed
    order, so repeated labels (行政编制（人） three times) go to the right item; a letter in the label cell
    chooses among repeated labels. The value column is the one headed 合计 (or 数值, 数量, 金额, 本期 …)
    above the first item row; failing a heading, the column holding the most numbers on the item rows
    (leaving out the label cells and a 编号 or 行次 column); failing that, `default_column`.
    Only the items at the positions in `wanted` are looked for, when given. None when no item label is on
    the sheet.
    """
    index = _form_index(form)
    items = form.items
    found_at: list[int | None] = [None] * len(items)
    label_at: dict[int, int] = {}  # row → its label's column
    pointer = 0
    for r, row in enumerate(rows):
        if pointer >= len(items):
            break
        for c, value in enumerate(row):
            if value.__class__ is not str or not value:
                continue
            positions, letter = _label_positions(index, value)
            if not positions:
                continue
            later = [
                j
                for j in positions
                if j >= pointer and found_at[j] is None and (wanted is None or j in wanted)
            ]
            if not later:
                continue
            found = next((j for j in later if items[j].letter == letter), later[0]) if letter else later[0]
            found_at[found] = r
            label_at[r] = c
            pointer = found + 1
            break
    if not label_at:
        return None
    first = min(label_at)
    columns = set(label_at.values())
    headings = _headings_above(rows, first)
    column = _titled_value_column(headings, columns)
    if column is None:
        column = _numeric_value_column(rows, form, found_at, columns, headings)
    if column is None:
        column = default_column
    header_before = min((r for r, _c, _t in headings), default=first)
    return _ByLabels(found_at, column, header_before)


def _label_positions(index: _FormIndex, value: str) -> tuple[tuple[int, ...], str | None]:
    """The items a cell's text is the label of, and the letter written before the label (if any)."""
    positions = index.by_label.get(value)
    if positions:
        return positions, None
    key = label_key(value)
    positions = index.by_key.get(key)
    if positions:
        return positions, None
    prefix = _LABEL_PREFIX.match(key)
    if prefix and prefix.end() < len(key):
        positions = index.by_key.get(key[prefix.end() :])
        if positions:
            return positions, prefix.group(1).upper()
    return (), None


def _heading_text(text: str) -> str:
    """A column heading compared without spaces, width or a trailing unit: “金额（万元）” is 金额."""
    return _TRAILING_UNIT.sub("", normalize_text(text))


def _headings_above(rows: Sequence[Sequence[Any]], first: int) -> list[tuple[int, int, str]]:
    """(row, column, heading) of the column headings: the rows just above the first item that hold a
    heading this reader knows (合计, 编号, 项目, 单位 …); a row of column numbers (甲 乙 1 2) is passed over.
    """
    headings: list[tuple[int, int, str]] = []
    looked = 0
    for r in range(first - 1, -1, -1):
        if looked == _HEADING_ROWS:
            break
        cells = [(r, c, _heading_text(v)) for c, v in enumerate(rows[r]) if v.__class__ is str and v.strip()]
        if not cells:
            continue
        looked += 1
        if any(t in _VALUE_TITLE_RANK or t in _NOT_VALUE_TITLES for _r, _c, t in cells):
            headings.extend(cells)
    return headings


def _titled_value_column(headings: Sequence[tuple[int, int, str]], label_columns: set[int]) -> int | None:
    titled = [
        (_VALUE_TITLE_RANK[t], c)
        for _r, c, t in headings
        if t in _VALUE_TITLE_RANK and c not in label_columns
    ]
    return min(titled)[1] if titled else None


def _numeric_value_column(
    rows: Sequence[Sequence[Any]],
    form: Form,
    found_at: Sequence[int | None],
    label_columns: set[int],
    headings: Sequence[tuple[int, int, str]],
) -> int | None:
    """The column holding the most numbers (or 是/否) on the item rows; not a 编号, 行次 or unit column."""
    excluded = label_columns | {c for _r, c, t in headings if t in _NOT_VALUE_TITLES}
    numbers: dict[int, list[tuple[object, str]]] = {}  # column → (value, the row's 编号)
    for item, r in zip(form.items, found_at, strict=True):
        if r is None:
            continue
        for c, value in enumerate(rows[r]):
            if c not in excluded and _looks_like_value(value, item):
                numbers.setdefault(c, []).append((value, item.number))
    counted = [(len(found), -c) for c, found in numbers.items() if not _is_numbering(found)]
    return -max(counted)[1] if counted else None


def _looks_like_value(value: object, item: Item) -> bool:
    if value is None or value == "":
        return False
    if value.__class__ is float or value.__class__ is int or value.__class__ is bool:
        return True
    if not isinstance(value, str):
        return False
    text = normalize_text(value)
    if item.unit and text.endswith(item.unit) and len(text) > len(item.unit):
        text = text[: -len(item.unit)]
    return bool(_VALUE_TEXT.fullmatch(text.replace(",", ""))) or text.upper() in _YES_NO_TEXT


def _is_numbering(found: Sequence[tuple[object, str]]) -> bool:
    """A 编号 column (each number is its row's 编号) or a 行次 column (1, 2, 3 … down the rows)."""
    whole = [int(v) for v, _n in found if isinstance(v, int | float) and float(v).is_integer()]
    if len(whole) < len(found):
        return False
    if all(w == int(number) for w, (_v, number) in zip(whole, found, strict=True) if number.isdigit()):
        return True
    return len(whole) >= 3 and whole == list(range(whole[0], whole[0] + len(whole))) and whole[0] <= 1


def _continue_table(
    table: _Table, rows: Sequence[Sequence[Any]], sheet: str, formulas: Callable[[], set[tuple[int, int]]]
) -> bool:
    """Add this sheet to `table` when it holds (some of) the rows the table lacks and none it has."""
    form = table.form
    missing = {i for i, r in enumerate(table.found_at) if r is None}
    lacking = {label_key(form.items[i].label) for i in missing}
    had = {label_key(item.label) for item in form.items if item.index not in missing} - lacking
    if _has_label(rows, had):
        return False  # rows the table already has: another copy of the table, not its continuation
    by_labels = _locate_by_labels(rows, form, default_column=table.parts[-1].column, wanted=missing)
    if by_labels is None or by_labels.column is None:
        return False
    added = [i for i, r in enumerate(by_labels.found_at) if r is not None]
    part = len(table.parts)
    table.parts.append(_Part(sheet, rows, by_labels.column, formulas))
    for i in added:
        table.found_at[i] = by_labels.found_at[i]
        table.part_at[i] = part
    return True


def _has_label(rows: Sequence[Sequence[Any]], keys: Container[str]) -> bool:
    for row in rows:
        for value in row:
            if value.__class__ is str and value:
                key = label_key(value)
                if key in keys:
                    return True
                prefix = _LABEL_PREFIX.match(key)
                if prefix and key[prefix.end() :] in keys:
                    return True
    return False


def _no_labels(sheet: str, form: Form, looked_for: Sequence[int]) -> str:
    examples = "、".join(f"“{form.items[i].label}”" for i in list(looked_for)[:3])
    return _(
        "工作表“{sheet}”中找不到“{title}”的项目行：没有“编号”“项目”“合计”那一行表头，"
        "也没有一个单元格写着表中的项目名称（如{examples}）"
    ).format(sheet=sheet, title=form.title, examples=examples)


def _no_value_column(sheet: str, form: Form, found: int) -> str:
    return _(
        "工作表“{sheet}”中找到了“{title}”的{n}个项目行，但找不到填写数值的列："
        "没有标题为“合计”（或“数值”“数量”“金额”“本期”）的列，项目行上也没有填写数字的列"
    ).format(sheet=sheet, title=form.title, n=found)


def _match_rows(
    rows: Sequence[Sequence[Any]], form: Form, header_row: int, value_column: int
) -> list[int | None]:
    """The sheet row of each item (None where it is missing).

    Rows are matched in order by label, so inserted blank rows, notes and repeated labels (运送农民工（人次）
    five times) are handled; a row whose label was edited is matched by its 编号 and letter instead.
    """
    items = form.items
    index = _form_index(form)
    label_column = _label_column(rows, header_row, value_column, index)
    found_at: list[int | None] = [None] * len(items)
    pointer = 0
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        found = None
        label = row[label_column] if label_column is not None and label_column < len(row) else None
        if label.__class__ is str and label:
            if pointer < len(items) and label in index.written[pointer]:
                found = pointer  # the usual case: the next row is the next item, as printed
            else:
                candidates = index.by_label.get(label) or index.by_key.get(label_key(label), ())
                found = next((j for j in candidates if j >= pointer and found_at[j] is None), None)
        if found is None:
            found = _match_slowly(row, form, index, value_column, pointer, found_at)
        if found is None:
            continue
        found_at[found] = r
        pointer = found + 1
    return found_at


def _match_slowly(
    row: Sequence[Any],
    form: Form,
    index: _FormIndex,
    value_column: int,
    pointer: int,
    found_at: Sequence[int | None],
) -> int | None:
    """A row whose label is not where the others are, or was edited: look at every cell of it."""
    number, letter, label = _row_parts(row, value_column)
    if not label:
        return None
    candidates = index.by_key.get(label_key(label), ())
    found = next((j for j in candidates if j >= pointer and found_at[j] is None), None)
    if found is None and letter:
        number = number or (form.items[pointer - 1].number if pointer else None)
        code = f"{number}{letter}"
        if form.has_item(code) and found_at[form.item(code).index] is None:
            found = form.item(code).index
    return found


def _label_column(
    rows: Sequence[Sequence[Any]], header_row: int, value_column: int, index: _FormIndex
) -> int | None:
    """The column most item labels are in, judged from the first rows below the headings."""
    votes: dict[int, int] = {}
    for row in rows[header_row + 1 : header_row + 16]:
        for column, value in enumerate(row[:value_column]):
            if (
                value.__class__ is str
                and value
                and (value in index.by_label or label_key(value) in index.by_key)
            ):
                votes[column] = votes.get(column, 0) + 1
                break
    return max(votes, key=votes.__getitem__) if votes else None


def _missing_row(form: Form, item: Item) -> Violation:
    return Violation(
        form.full_rule_id(f"{item.code}.missing-row"),
        Severity.ERROR,
        (item.code,),
        _("表中找不到项目 {code}（{label}）所在的行：请不要删除或改动表样中的行").format(
            code=item.code, label=item.label
        ),
    )


def _formula_without_result(form: Form, item: Item, cell: str) -> Violation:
    return Violation(
        form.full_rule_id(f"{item.code}.formula"),
        Severity.ERROR,
        (item.code,),
        _(
            "单元格 {cell}（{code} {name}）是公式，但文件里没有保存计算结果，无法知道它的值："
            "请在Excel或WPS中打开、保存后重新上传，或直接填写数值"
        ).format(cell=cell, code=item.code, name=item.name),
    )


def _formulas_of_sheet(
    workbook_formulas: Callable[[], dict[str, set[tuple[int, int]]]], sheet: str
) -> set[tuple[int, int]]:
    return workbook_formulas().get(sheet, set())


def read_workbook(
    data: bytes, *, file: str, forms: Mapping[str, Form], form_code: str | None = None
) -> list[TableReading]:
    """Every recognised table in a workbook (usually one); raises UnreadableFile when there is none.

    A table that lacks rows is continued on the next sheet that holds (only) rows it lacks and no other
    form's title: one table split over two sheets is read as one table.
    """
    workbook, sheet_xml = _open_workbook(data, file)
    candidates = {form_code: forms[form_code]} if form_code else forms
    formulas = functools.cache(lambda: _xlsx_formula_cells(sheet_xml))
    tables: list[_Table] = []
    problems: list[tuple[int, UnreadableFile]] = []
    try:
        sheets = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    except Exception:
        sheets = list(workbook.sheet_names)
    for order, name in enumerate(sheets):
        rows = _sheet_rows(workbook, name)
        if not rows:
            continue
        sheet_formulas = functools.partial(_formulas_of_sheet, formulas, name)
        titled = _form_by_title(rows, candidates)
        last = tables[-1] if tables else None
        if (
            last is not None
            and last.found < len(last.form.items)
            and (titled is None or titled is last.form)
            and _continue_table(last, rows, name, sheet_formulas)
        ):
            continue
        form = titled or _form_by_labels(rows, candidates)
        if form is None:
            continue
        try:
            tables.append(_locate(rows, form, name, sheet_formulas, order))
        except UnreadableFile as problem:
            problems.append((order, problem))
    readings: list[TableReading] = []
    for table in tables:
        try:
            _refuse_if_too_few(table)
        except UnreadableFile as problem:
            problems.append((table.order, problem))
            continue
        readings.append(_read_values(table, file))
    if readings:
        return readings
    if problems:
        raise min(problems, key=lambda found: found[0])[1]
    if form_code:
        raise UnreadableFile(
            _("文件中没有找到表“{title}”（{code}）").format(title=forms[form_code].title, code=form_code)
        )
    raise UnreadableFile(
        _(
            "无法识别是哪张统计表：文件中没有找到表名（{titles}），也没有足够的项目行。请使用本系统下载的空白表样填写"
        ).format(titles="、".join(f"“{f.title}”" for f in forms.values()))
    )
