"""Makers of filled tables as people produce them: the official template, or a hand-made sheet in
.xlsx (openpyxl), .xls (xlwt) or .ods, with the table anywhere on the sheet and cells typed any way."""

from __future__ import annotations

import io
import struct
import tomllib
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
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


# --- hostile files (issue 8): each is the official template, or a tiny file, with one thing added ----------


def official_template(code: str = "warmth-2018") -> bytes:
    """The blank official template as the application writes it (a ~10 KB .xlsx)."""
    from songnuan.formkit.excel_writer import write_form

    buffer = io.BytesIO()
    write_form(get_form(code), buffer)
    return buffer.getvalue()


def rezip(data: bytes, change: Mapping[str, bytes | None], add: Mapping[str, bytes] | None = None) -> bytes:
    """The zip `data` with some members replaced (None: removed) and others added, deflated."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = change.get(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info.filename, content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def sheet_xml(data: bytes, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(part)


def template_with_cell(ref: str, code: str = "warmth-2018") -> bytes:
    """The official template with one more cell, `ref`, holding "x" (the issue's 10 KB server killer)."""
    data = official_template(code)
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()
    xml = sheet_xml(data).replace(b"</sheetData>", cell + b"</sheetData>")
    return rezip(data, {"xl/worksheets/sheet1.xml": xml})


def _deflated(content: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(content) + packer.flush()


def raw_zip(out: BinaryIO, members: Sequence[tuple[str, int, int, Sequence[bytes]]]) -> None:
    """A deflated zip written by hand: (name, crc, declared size, deflated pieces) per member.

    zipfile always tells the truth about sizes; a hostile file need not.
    """
    directory = b""
    for name, crc, size, pieces in members:
        encoded, offset = name.encode(), out.tell()
        sizes = (crc, sum(len(piece) for piece in pieces), size)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, *sizes, len(encoded), 0))
        out.write(encoded)
        for piece in pieces:
            out.write(piece)
        directory += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                *sizes,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(directory)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0)
    )


def _template_members() -> list[tuple[str, int, int, Sequence[bytes]]]:
    with zipfile.ZipFile(io.BytesIO(official_template())) as source:
        return [
            (info.filename, zlib.crc32(content), len(content), [_deflated(content)])
            for info in source.infolist()
            for content in [source.read(info.filename)]
        ]


def template_with_big_part(path: Path, size: int = 1 << 30, declared: int | None = None) -> Path:
    """The template plus an unreferenced `xl/worksheets/sheet99.xml` of `size` spaces (≈ 1 MB on disk),
    declaring its true size or `declared`.

    Each MiB of spaces is deflated once and repeated (a full flush makes the pieces independent), so the
    file is written streamed in well under a second.
    """
    block = b" " * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    ending = packer.flush()
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    pieces = [piece] * (size // len(block)) + [ending]
    with path.open("wb") as out:
        part = ("xl/worksheets/sheet99.xml", crc, size if declared is None else declared, pieces)
        raw_zip(out, [*_template_members(), part])
    return path


def template_with_lying_sheet(padding: int = 60 << 20) -> bytes:
    """The template whose sheet1.xml inflates to `padding` bytes more than its headers say (a zip bomb)."""
    members = []
    for name, crc, size, pieces in _template_members():
        if name == "xl/worksheets/sheet1.xml":
            content = sheet_xml(official_template()).replace(
                b"</worksheet>", b" " * padding + b"</worksheet>"
            )
            crc, pieces = zlib.crc32(content), [_deflated(content)]
        members.append((name, crc, size, pieces))
    out = io.BytesIO()
    raw_zip(out, members)
    return out.getvalue()


def template_with_xml(
    before_sheet_data: bytes = b"",
    prolog: bytes = b"",
    cell_text: bytes | None = None,
    after_sheet_data: bytes = b"",
) -> bytes:
    """The template with raw XML put into sheet1.xml: after the XML declaration, around the rows."""
    data = official_template()
    xml = sheet_xml(data)
    declaration_end = xml.index(b"?>") + 2
    xml = xml[:declaration_end] + prolog + xml[declaration_end:]
    xml = xml.replace(b"<sheetData>", before_sheet_data + b"<sheetData>")
    if cell_text is not None:
        after_sheet_data += (
            b'<row r="200"><c r="A200" t="inlineStr"><is><t>' + cell_text + b"</t></is></c></row>"
        )
    xml = xml.replace(b"</sheetData>", after_sheet_data + b"</sheetData>")
    return rezip(data, {"xl/worksheets/sheet1.xml": xml})


BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1 if n > 1 else "") + ";") * 10}">'.encode()
        for n in range(1, 10)
    )
    + b"]>"
)


def template_with_external_link(url: str) -> bytes:
    """The template whose cell G5 is `=[1]Sheet1!A1` from an external workbook at `url` (saved value 7)."""
    data = official_template()
    xml = sheet_xml(data).replace(
        b"</sheetData>", b'<row r="150"><c r="G150"><f>[1]Sheet1!A1</f><v>7</v></c></row></sheetData>'
    )
    workbook = sheet_xml(data, "xl/workbook.xml").replace(
        b"</workbook>",
        b'<externalReferences><externalReference r:id="rIdX1"/></externalReferences></workbook>',
    )
    if b'xmlns:r="' not in workbook:
        workbook = workbook.replace(
            b"<workbook ",
            b'<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ',
            1,
        )
    rels = sheet_xml(data, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
    )
    link = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        b'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>7</v></cell></row></sheetData>'
        b"</sheetDataSet></externalBook></externalLink>"
    )
    link_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLinkPath" Target="' + url.encode() + b'" TargetMode="External"/></Relationships>'
    )
    return rezip(
        data,
        {"xl/worksheets/sheet1.xml": xml, "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels},
        {
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
        },
    )


def xls_with_far_cell(path: Path) -> Path:
    """A filled 附件1 as .xls (xlwt) with one more cell at the last row and column BIFF8 has (65536, IV)."""
    import xlwt

    values, header = filled_example("warmth-2018")
    rows = table_rows(get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header)
    workbook = xlwt.Workbook(encoding="utf-8")
    worksheet = workbook.add_sheet("附件1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                worksheet.write(r, c, value)
    worksheet.write(65535, 255, "x")
    workbook.save(str(path))
    return path


def ods_with(path: Path, rows: Rows, tail: str = "", sheet: str = "Sheet1") -> Path:
    """write_ods, with raw table XML added after the rows (repeated rows, far cells)."""
    write_ods(path, rows, sheet)
    with zipfile.ZipFile(path) as archive:
        content = archive.read("content.xml").decode()
    content = content.replace("</table:table>", tail + "</table:table>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
            zipfile.ZIP_DEFLATED,
        )
    return path


# --- tables laid out unlike the template (issue 11, item 7) ------------------------------------------------

#: The columns a hand-made table may have, in any order: 编号 (on a group's first row), the printed letter,
#: the 项目 label, the 计量单位 and the value column.
LAYOUT_COLUMNS = ("编号", "字母", "项目", "单位", "合计")


def layout_rows(
    form: Form,
    values: Mapping[str, Cell],
    header: Mapping[str, str] | None = None,
    *,
    columns: Sequence[str] = ("编号", "字母", "项目", "合计"),
    letter_in_label: str | None = None,
    value_title: str | None = "合计",
    items: slice = slice(None),
    title: bool = True,
    headings: bool = True,
) -> Rows:
    """A hand-made table with the columns in `columns` (any order, any subset of LAYOUT_COLUMNS).

    `letter_in_label`: the letter written inside the label cell, e.g. "（{letter}）", "{letter} " or
    "{letter}、" (then a 字母 column, if asked for, stays empty). `value_title`: the heading of the value
    column (None: no heading in that cell). `items`: only these items (a table split over sheets);
    `title`/`headings`: whether the title and header line, and the column headings, are written above.
    """
    header = header or {}
    rows: Rows = []
    if title:
        rows.append([f"{form.attachment}："])
        rows.append([form.title])
        rows.append(
            [
                "填报单位：{unit}    填报人：{reporter}    电话：{phone}    {date}".format(
                    unit=header.get("unit", ""),
                    reporter=header.get("reporter", ""),
                    phone=header.get("phone", ""),
                    date=_chinese_date(header.get("date")),
                )
            ]
        )
    if headings:
        titles = {"编号": "编号", "字母": None, "项目": "项目", "单位": "计量单位", "合计": value_title}
        rows.append([titles[column] for column in columns])
    chosen = form.items[items]
    first_of_group = {group[0].code for _number, group in form.groups()}
    for item in chosen:
        printed = form.printed_letter(item)
        label = item.label + (f"        {item.formula}" if item.formula else "")
        if letter_in_label and item.letter:
            label = letter_in_label.format(letter=item.letter) + label
            printed = ""
        cells: dict[str, Cell] = {
            "编号": int(item.number) if item.code in first_of_group else None,
            "字母": printed or None,
            "项目": label,
            "单位": item.unit,
            "合计": values.get(item.code),
        }
        rows.append([cells[column] for column in columns])
    return rows


def xlsx_bytes(sheets: Sequence[tuple[str, Rows]]) -> bytes:
    """A workbook with these sheets (name, rows), written by openpyxl into memory."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for position, (name, rows) in enumerate(sheets):
        worksheet = workbook.active if position == 0 else workbook.create_sheet()
        assert worksheet is not None
        worksheet.title = name
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    worksheet.cell(row=r, column=c, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
