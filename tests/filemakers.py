"""Makers of filled tables as people produce them: the official template, or a hand-made sheet in
.xlsx (openpyxl), .xls (xlwt) or .ods, with the table anywhere on the sheet and cells typed any way."""

from __future__ import annotations

import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from songnuan.formkit.definitions import Form, ItemKind, get_form
from songnuan.formkit.engine import Value

DATA = Path(__file__).parents[1] / "src/songnuan/formkit/examples"
Cell = str | int | float | bool | None
Rows = list[list[Cell]]


def filled_example(code: str) -> tuple[dict[str, Value], dict[str, str]]:
    """The valid filled example of a built-in form: (typed values, header)."""
    data = tomllib.loads((DATA / f"filled-{code}.toml").read_text(encoding="utf-8"))
    form = get_form(code)
    values: dict[str, Value] = {}
    for item in form.items:
        raw = data["values"][item.code]
        values[item.code] = Decimal(raw) if item.kind is ItemKind.MONEY else raw
    return values, {k: str(v) for k, v in data["header"].items()}


def cell_of(value: Value) -> Cell:
    if isinstance(value, Decimal):
        return float(value)
    return value


def table_rows(
    form: Form,
    values: Mapping[str, Cell],
    header: Mapping[str, str] | None = None,
    *,
    top: int = 0,
    left: int = 0,
    blank_row_after: Sequence[str] = (),
    extra_blank_column: bool = False,
    header_on_one_line: bool = True,
) -> Rows:
    """A sheet laid out by hand the way the notice prints it: title, header line, 编号|letter|项目|合计."""
    header = header or {}
    pad: list[Cell] = [None] * left
    gap: list[Cell] = [None] if extra_blank_column else []
    rows: Rows = [[] for _ in range(top)]
    rows.append([*pad, f"{form.attachment}："])
    rows.append([*pad, None, None, form.title])
    if header_on_one_line:
        rows.append(
            [
                *pad,
                "填报单位：{unit}    填报人：{reporter}    电话：{phone}    {date}".format(
                    unit=header.get("unit", ""),
                    reporter=header.get("reporter", ""),
                    phone=header.get("phone", ""),
                    date=_chinese_date(header.get("date")),
                ),
            ]
        )
    else:
        rows.append([*pad, "填报单位：", header.get("unit"), "填报人：", header.get("reporter")])
        rows.append([*pad, "电话：", header.get("phone"), "日期：", _chinese_date(header.get("date"))])
    for note in form.notes:
        rows.append([*pad, note])
    rows.append([*pad, "编号", *gap, "项目", None, "合计"])
    for number, items in form.groups():
        for position, item in enumerate(items):
            label = item.label + (f"        {item.formula}" if item.formula else "")
            rows.append(
                [
                    *pad,
                    int(number) if position == 0 else None,
                    *gap,
                    form.printed_letter(item),
                    label,
                    values.get(item.code),
                ]
            )
            if item.code in blank_row_after:
                rows.append([])
    return rows


def _chinese_date(iso: str | None) -> str:
    if not iso:
        return "    年  月  日"
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"


def write_xlsx(
    path: Path, rows: Rows, sheet: str = "Sheet1", formulas: Mapping[str, str] | None = None
) -> Path:
    """Write rows with openpyxl (formula cells written without a saved result, as openpyxl does)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                worksheet.cell(row=r, column=c, value=value)
    for ref, formula in (formulas or {}).items():
        worksheet[ref] = formula
    workbook.save(path)
    return path


def write_xls(path: Path, rows: Rows, sheet: str = "Sheet1") -> Path:
    import xlwt  # type: ignore[import-untyped]

    workbook = xlwt.Workbook(encoding="utf-8")
    worksheet = workbook.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    workbook.save(str(path))
    return path


_ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_cell(value: Cell) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        return f'<table:table-cell office:value-type="boolean" office:boolean-value="{str(value).lower()}"/>'
    if isinstance(value, int | float):
        kind = f'office:value-type="float" office:value="{value}"'
        return f"<table:table-cell {kind}><text:p>{value}</text:p></table:table-cell>"
    text = escape(str(value))
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def write_ods(path: Path, rows: Rows, sheet: str = "Sheet1") -> Path:
    """A minimal but valid OpenDocument spreadsheet (what WPS/LibreOffice save as .ods)."""
    body: list[str] = []
    for row in rows:
        cells = "".join(_ods_cell(value) for value in row) or "<table:table-cell/>"
        body.append(f"<table:table-row>{cells}</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {_ODS_NAMESPACES} office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">'
        + "".join(body)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    entry = '<manifest:file-entry manifest:full-path="{}" manifest:media-type="{}"/>'
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        + entry.format("/", "application/vnd.oasis.opendocument.spreadsheet")
        + entry.format("content.xml", "text/xml")
        + "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def fill_template(template: Path, values: Mapping[str, Any], target: Path) -> Path:
    """Type values into the downloaded template's 合计 column with openpyxl, as a person would in Excel."""
    import openpyxl

    from songnuan.formkit.excel_reader import label_key

    workbook = openpyxl.load_workbook(template)
    worksheet = workbook.active
    assert worksheet is not None
    form = next(f for f in _forms() if f.title == worksheet["A2"].value)
    keys = [label_key(item.label) for item in form.items]
    position = 0
    for row in worksheet.iter_rows(min_row=1):
        label = row[3].value
        if isinstance(label, str) and position < len(keys) and label_key(label) == keys[position]:
            value = values.get(form.items[position].code)
            row[6].value = float(value) if isinstance(value, Decimal) else value
            position += 1
    assert position == len(keys), f"template rows not all found ({position}/{len(keys)})"
    workbook.save(target)
    return target


def _forms() -> list[Form]:
    from songnuan.formkit.definitions import builtin_forms

    return list(builtin_forms().values())
