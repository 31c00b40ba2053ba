"""The one Excel reader: filled statistical tables from .xlsx, .xls or .ods, as people really fill them.

It finds the table by its title (or, failing that, by its rows), wherever it starts on the sheet and whatever
blank rows or columns were inserted, matches each row to an item by its label and 编号/letter, reads the
header line (填报单位, 填报人, 电话, date) and returns typed values with the cell each came from.
Any file it cannot read raises `UnreadableFile` with a Chinese message; it never lets a traceback out.
Every file is measured by `upload_guard` before calamine sees it (form sheets at most 2,000 × 50, the parts
read at most 50 / 256 MB inflated). Lists (花名册) have their own reader, `list_reader`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
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


@dataclass
class Header:
    unit: str | None = None
    reporter: str | None = None
    phone: str | None = None
    date: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"unit": self.unit, "reporter": self.reporter, "phone": self.phone, "date": self.date}


class CellNames(Mapping[str, str]):
    """Item code → "Sheet!G12", formatted only when asked (most cells are never shown)."""

    def __init__(self, sheet: str, codes: Sequence[str], rows: Sequence[int | None], column: int) -> None:
        self.sheet = sheet
        self.column = column
        self.rows = {code: row for code, row in zip(codes, rows, strict=True) if row is not None}

    def __getitem__(self, code: str) -> str:
        return cell_name(self.sheet, self.rows[code], self.column)

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
    present = {label_key(value) for row in rows for value in row if isinstance(value, str) and value.strip()}
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
    located = _find_header_row(rows)
    if located is None:
        raise UnreadableFile(
            _("工作表“{sheet}”中找不到表头（“编号”“项目”“合计”那一行），无法确定数值在哪一列").format(
                sheet=sheet
            )
        )
    header_row, value_column = located
    found_at = _match_rows(rows, form, header_row, value_column)
    found = len(found_at) - found_at.count(None)
    if found < len(form.items) / 2:
        raise UnreadableFile(
            _("工作表“{sheet}”只找到{n}个项目行（共{total}个），表格结构与“{title}”不符").format(
                sheet=sheet, n=found, total=len(form.items), title=form.title
            )
        )
    cells = CellNames(sheet, form.codes, found_at, value_column)
    values: dict[str, Value] = {}
    problems: list[Violation] = []
    count, money = ItemKind.COUNT, ItemKind.MONEY
    c = value_column
    for item, r in zip(form.items, found_at, strict=True):
        if r is None:
            values[item.code] = None
            problems.append(_missing_row(form, item))
            continue
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
    return TableReading(file, sheet, form, _read_header(rows, header_row), values, cells, problems)


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
    """Every recognised table in a workbook (usually one); raises UnreadableFile when there is none."""
    workbook, sheet_xml = _open_workbook(data, file)
    candidates = {form_code: forms[form_code]} if form_code else forms
    formulas = functools.cache(lambda: _xlsx_formula_cells(sheet_xml))
    readings: list[TableReading] = []
    first_problem: UnreadableFile | None = None
    try:
        sheets = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
    except Exception:
        sheets = list(workbook.sheet_names)
    for name in sheets:
        rows = _sheet_rows(workbook, name)
        if not rows:
            continue
        form = identify_form(rows, candidates)
        if form is None:
            continue
        try:
            sheet_formulas = functools.partial(_formulas_of_sheet, formulas, name)
            readings.append(read_table(rows, form, file=file, sheet=name, formulas=sheet_formulas))
        except UnreadableFile as problem:
            first_problem = first_problem or problem
    if readings:
        return readings
    if first_problem:
        raise first_problem
    if form_code:
        raise UnreadableFile(
            _("文件中没有找到表“{title}”（{code}）").format(title=forms[form_code].title, code=form_code)
        )
    raise UnreadableFile(
        _(
            "无法识别是哪张统计表：文件中没有找到表名（{titles}），也没有足够的项目行。请使用本系统下载的空白表样填写"
        ).format(titles="、".join(f"“{f.title}”" for f in forms.values()))
    )
