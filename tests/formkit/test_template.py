"""The blank template: the official layout, A4 print setup, and an input column Excel guards."""

from __future__ import annotations

import io

import openpyxl
import pytest

from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.formkit.excel_writer import VALUE_COLUMN, write_form


def template(code: str) -> openpyxl.worksheet.worksheet.Worksheet:
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
    # one page wide (fitToWidth defaults to 1 in the file format), as many pages tall as needed
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
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
