"""The list reader: a list (花名册, the archive's import) from .xlsx, .xls, .ods or .csv, one record per row
under a header, streamed so that a list of 200,000 rows never sits in memory as Python objects.

Spreadsheets are measured by `upload_guard` (at most 200,000 × 200 and 5,000,000 cells) before calamine opens
them; CSV is read as UTF-8, or GB 18030 as Excel and WPS save it on Chinese Windows. Anything it cannot read
raises `UnreadableFile` with a Chinese message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine

from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.upload_guard import ENCRYPTED_MARK, LIST_LIMITS, OLE_MAGIC, UnreadableFile, guard_file
from songnuan.formkit.values import normalize_text

__all__ = ["ListReading", "UnreadableFile", "open_list"]

_CSV_SNIFF_BYTES = 65536
_LIST_HEADER_SEARCH_ROWS = 20


@dataclass
class ListReading:
    """A list's header and its rows, read lazily: `rows` yields (row number as Excel shows it, cells).

    CSV is streamed from disk; spreadsheets are held by calamine (in Rust, a fraction of the Python size)
    and handed over one row at a time. `fraction_read()` drives a progress bar.
    """

    sheet: str
    header_row: int  # as Excel shows it (1-based)
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    total_rows: int | None
    fraction_read: Callable[[], float]
    close: Callable[[], None]


def open_list(path: str | Path) -> ListReading:
    """Open an .xlsx/.xls/.ods/.csv list; UnreadableFile with a Chinese message if it cannot be read."""
    path = Path(path)
    try:
        with path.open("rb") as probe:
            start = probe.read(8)
    except OSError:
        raise UnreadableFile(_("文件不存在或无法读取")) from None
    if not start:
        raise UnreadableFile(_("文件是空的（0 字节）"))
    if start.startswith(b"PK\x03\x04") or start.startswith(OLE_MAGIC):
        return _open_spreadsheet_list(path)
    return _open_csv_list(path)


def _first_header(rows: Iterator[list[Any]]) -> tuple[int, list[str]]:
    """The first row with at least three filled cells (titles, one merged cell, and blank rows come first)."""
    for index, row in enumerate(rows):
        texts = [normalize_text(str(cell)) if cell not in (None, "") else "" for cell in row]
        if sum(1 for text in texts if text) >= 3:
            return index, texts
        if index >= _LIST_HEADER_SEARCH_ROWS:
            break
    raise UnreadableFile(_("前{n}行中找不到表头（至少三列有列名的一行）").format(n=_LIST_HEADER_SEARCH_ROWS))


def _open_spreadsheet_list(path: Path) -> ListReading:
    with path.open("rb") as probe:
        start = probe.read(65536)
    if start.startswith(OLE_MAGIC) and ENCRYPTED_MARK in start:
        raise UnreadableFile(
            _("文件设置了打开密码，无法读取。请在Excel或WPS中取消密码（文件→信息→保护工作簿）后重新上传")
        )
    guard_file(path, file=None, limits=LIST_LIMITS)  # the caller names the file
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
    except python_calamine.PasswordError:
        raise UnreadableFile(_("文件设置了打开密码，无法读取。请取消密码后重新上传")) from None
    except Exception:  # calamine raises several types for damaged files; the user needs one answer
        raise UnreadableFile(_("文件已损坏或不完整，请在Excel或WPS中重新保存后上传")) from None
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception:
            raise UnreadableFile(_("工作表“{sheet}”已损坏，无法读取").format(sheet=name)) from None
        if sheet.height == 0:
            continue
        cells: Iterator[list[Any]] = iter(sheet.iter_rows())
        try:
            header_index, header = _first_header(cells)
        except UnreadableFile:
            continue
        return _sheet_list(workbook, sheet, cells, header_index, header)
    raise UnreadableFile(_("文件中没有找到带表头的工作表"))


def _sheet_list(
    workbook: python_calamine.CalamineWorkbook,
    sheet: python_calamine.CalamineSheet,
    cells: Iterator[list[Any]],
    header_index: int,
    header: list[str],
) -> ListReading:
    offset = sheet.start[0] if sheet.start else 0
    first = offset + header_index + 2  # the row number Excel shows for the first record
    total = max(sheet.height - header_index - 1, 0)
    done = 0

    def rows() -> Iterator[tuple[int, list[Any]]]:
        nonlocal done
        for number, row in enumerate(cells, start=first):
            done += 1
            yield number, row

    def fraction_read() -> float:
        return done / total if total else 1.0

    return ListReading(
        sheet=sheet.name,
        header_row=first - 1,
        header=header,
        rows=rows(),
        total_rows=total,
        fraction_read=fraction_read,
        close=workbook.close,
    )


def _open_csv_list(path: Path) -> ListReading:
    with path.open("rb") as probe:
        sample = probe.read(_CSV_SNIFF_BYTES)
    if b"\x00" in sample:
        raise UnreadableFile(_("不是电子表格文件：只能读取 .xlsx、.xls、.ods 或 .csv 文件"))
    encoding = "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as problem:
        if problem.start < len(sample) - 4:  # not just a character cut at the end of the sample
            encoding = "gb18030"  # Excel and WPS on Chinese Windows save CSV in GBK
    binary = path.open("rb")
    size = path.stat().st_size or 1
    text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text)

    def lines() -> Iterator[list[Any]]:
        try:
            yield from reader
        except UnicodeDecodeError:
            raise UnreadableFile(
                _("CSV文件第{n}行附近有无法识别的文字编码，请用Excel另存为“CSV UTF-8”后上传").format(
                    n=reader.line_num + 1
                )
            ) from None
        except csv.Error as problem:
            raise UnreadableFile(
                _("CSV文件第{n}行格式有误：{p}").format(n=reader.line_num, p=problem)
            ) from None

    source = lines()
    try:
        header_index, header = _first_header(source)
    except UnreadableFile:
        binary.close()
        raise

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for row in source:
                yield reader.line_num, row
        finally:
            binary.close()

    return ListReading(
        sheet="",
        header_row=header_index + 1,
        header=header,
        rows=rows(),
        total_rows=None,
        fraction_read=lambda: min(binary.tell() / size, 1.0) if not binary.closed else 1.0,
        close=binary.close,
    )
