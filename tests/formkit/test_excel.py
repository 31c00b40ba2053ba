"""Reading filled tables as people really fill them, the round trip from the template, and bad files."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.formkit.checking import Status, TableReport, check_bytes, check_paths
from songnuan.formkit.cli import main
from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.excel_writer import write_form

from ..filemakers import (
    Cell,
    Rows,
    cell_of,
    fill_template,
    filled_example,
    table_rows,
    write_ods,
    write_xls,
    write_xlsx,
)

CODES = ["warmth-2018", "service-centres-2017"]
Writer = Callable[[Path, Rows], Path]
WRITERS: dict[str, Writer] = {
    "xlsx": lambda p, rows: write_xlsx(p, rows),
    "xls": lambda p, rows: write_xls(p, rows),
    "ods": lambda p, rows: write_ods(p, rows),
}


def label_of(row: Sequence[object]) -> str:
    return str(row[-2]) if len(row) > 2 else ""


def only(reports: list[TableReport]) -> TableReport:
    assert len(reports) == 1, reports
    return reports[0]


def rules_of(report: TableReport) -> set[str]:
    return {v.rule for v in report.errors + report.warnings}


# --- the round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_template_filled_with_valid_values_passes(tmp_path: Path, code: str) -> None:
    template = tmp_path / "template.xlsx"
    assert main(["template", code, "-o", str(template)]) == 0
    values, _header = filled_example(code)
    report = only(check_paths([fill_template(template, values, tmp_path / "filled.xlsx")]))
    assert report.form is not None and report.form.code == code
    assert report.status is Status.OK, [v.message for v in report.errors]
    assert not report.warnings
    assert report.values == values


def test_round_trip_finds_exactly_the_planted_errors(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    assert main(["template", "warmth-2018", "-o", str(template)]) == 0
    values: dict[str, object] = dict(filled_example("warmth-2018")[0])
    values["3A"] = values["3A"] + Decimal(1)  # type: ignore[operator]  # 3A ≠ 3B+…+3F
    values["8C"] = -2  # negative
    values["6B"] = "约20"  # not a number
    values["1B"] = values["1A"] + 1  # type: ignore[operator]  # “其中” larger than its parent
    values["4A"] = values["3A"] + Decimal(3)  # type: ignore[operator]  # disbursed more than raised (warning)
    values["4B"] = values["4B"] + Decimal(3)  # type: ignore[operator]  # keep 4A's parts consistent
    values["11A"] = 0  # stations 0 but service given (two warnings)
    report = only(check_paths([fill_template(template, values, tmp_path / "planted.xlsx")]))
    assert {v.rule for v in report.errors} == {
        "warmth-2018.3A.sum",
        "warmth-2018.8C.non-negative",
        "warmth-2018.8A.sum",  # 8C is unusable, so 8A no longer adds up
        "warmth-2018.6B.number",
        "warmth-2018.1B.of-which",
    }
    assert {v.rule for v in report.warnings} == {
        "warmth-2018.4A.within-raised",
        "warmth-2018.11B.stations",
        "warmth-2018.11C.stations",
    }
    order = get_form("warmth-2018").codes
    assert [v.items[0] for v in report.errors] == sorted((v.items[0] for v in report.errors), key=order.index)
    number_error = next(v for v in report.errors if v.rule == "warmth-2018.6B.number")
    assert "约20" in number_error.message and number_error.cell and number_error.cell.startswith("附件1!G")


# --- how people really fill tables ----------------------------------------------------------------------


def typed_like_people(code: str) -> tuple[dict[str, object], dict[str, Value]]:
    """Cells as people type them (text numbers, full-width digits, separators, Y/N) and what they mean."""
    values, _ = filled_example(code)
    cells: dict[str, object] = {}
    for position, item in enumerate(get_form(code).items):
        value = values[item.code]
        if item.kind is ItemKind.YES_NO:
            cells[item.code] = {"是": "Y", "否": "N"}[str(value)] if position % 2 else value
        elif position % 5 == 1:
            cells[item.code] = f" {value} "  # number stored as text with stray spaces
        elif position % 5 == 2 and isinstance(value, int):
            cells[item.code] = str(value).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif position % 5 == 3 and isinstance(value, int) and value >= 1000:
            cells[item.code] = f"{value:,}"
        else:
            cells[item.code] = cell_of(value)
    return cells, values


@pytest.mark.parametrize("extension", ["xlsx", "xls", "ods"])
@pytest.mark.parametrize("code", CODES)
def test_hand_made_tables_in_every_format(tmp_path: Path, code: str, extension: str) -> None:
    cells, expected = typed_like_people(code)
    _values, header = filled_example(code)
    form = get_form(code)
    rows = table_rows(
        form,
        cells,  # type: ignore[arg-type]
        header,
        top=2,  # the table does not start at A1
        left=1,
        blank_row_after=[form.items[3].code, form.items[10].code],  # blank rows inserted
        extra_blank_column=True,  # a blank column inserted
    )
    path = WRITERS[extension](tmp_path / f"table.{extension}", rows)
    report = only(check_paths([path]))
    assert report.form is not None and report.form.code == code
    assert report.values == expected
    assert report.status is Status.OK, [v.message for v in report.errors]
    assert report.header.unit == header["unit"]
    assert report.header.reporter == header["reporter"]
    assert report.header.phone == header["phone"]
    assert report.header.date == header["date"]


def test_header_in_separate_cells(tmp_path: Path) -> None:
    values, header = filled_example("warmth-2018")
    rows = table_rows(
        get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header, header_on_one_line=False
    )
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    assert (report.header.unit, report.header.reporter, report.header.date) == (
        header["unit"],
        header["reporter"],
        header["date"],
    )


def test_table_recognised_by_rows_when_the_title_is_gone(tmp_path: Path) -> None:
    values, header = filled_example("service-centres-2017")
    rows = table_rows(get_form("service-centres-2017"), {k: cell_of(v) for k, v in values.items()}, header)
    rows = [row for row in rows if "2017年度职工服务中心工作统计表" not in row]
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    assert report.form is not None and report.form.code == "service-centres-2017"
    assert report.status is Status.OK


def test_both_tables_in_one_workbook_give_two_reports(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for index, code in enumerate(CODES):
        values, header = filled_example(code)
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = get_form(code).attachment
        for row in table_rows(get_form(code), {k: cell_of(v) for k, v in values.items()}, header):
            sheet.append(row)
    workbook.save(tmp_path / "both.xlsx")
    reports = check_paths([tmp_path / "both.xlsx"])
    assert [(r.form.code if r.form else None, r.sheet, r.status) for r in reports] == [
        ("warmth-2018", "附件1", Status.OK),
        ("service-centres-2017", "附件2", Status.OK),
    ]


def test_blank_cells_stay_blank_and_blank_rules_are_skipped(tmp_path: Path) -> None:
    rows = table_rows(get_form("warmth-2018"), {}, {})
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    assert report.status is Status.OK
    assert set(report.values.values()) == {None}


def test_filled_part_with_blank_total_is_an_error(tmp_path: Path) -> None:
    rows = table_rows(get_form("warmth-2018"), {"3B": 12.5}, {})
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    assert rules_of(report) == {"warmth-2018.3A.sum"}
    assert "未填" in report.errors[0].message


# --- bad cells: an error on that item, the rest still checked --------------------------------------------


@pytest.mark.parametrize(
    ("code", "cell", "rule", "fragment"),
    [
        ("1A", "约20", "warmth-2018.1A.number", "约20"),
        ("1A", -3, "warmth-2018.1A.non-negative", "负数"),
        ("1A", 12.5, "warmth-2018.1A.integer", "整数"),
        ("3B", 1.23456, "warmth-2018.3B.decimals", "4位小数"),
        ("3B", "十万", "warmth-2018.3B.number", "十万"),
    ],
)
def test_bad_cell_is_an_item_error_naming_the_cell(
    tmp_path: Path, code: str, cell: Cell, rule: str, fragment: str
) -> None:
    values, header = filled_example("warmth-2018")
    cells: dict[str, Cell] = {k: cell_of(v) for k, v in values.items()}
    cells[code] = cell
    planted = cells["8A"]
    assert isinstance(planted, int)
    cells["8A"] = planted + 1  # an unrelated planted error must still be found
    report = only(
        check_paths([write_xlsx(tmp_path / "t.xlsx", table_rows(get_form("warmth-2018"), cells, header))])
    )
    bad = next(v for v in report.errors if v.rule == rule)
    assert fragment in bad.message
    assert bad.cell and bad.cell.startswith("Sheet1!")
    assert "warmth-2018.8A.sum" in rules_of(report)


def test_formula_without_a_saved_result_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    values, header = filled_example("warmth-2018")
    rows = table_rows(get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header)
    row = next(
        r for r, cells in enumerate(rows, start=1) if len(cells) > 2 and str(cells[-2]).startswith("走访企业")
    )
    path = write_xlsx(tmp_path / "t.xlsx", rows, formulas={f"D{row}": f"=D{row + 1}+10"})
    report = only(check_paths([path]))
    (error,) = [v for v in report.errors if v.rule == "warmth-2018.1A.formula"]
    assert f"Sheet1!D{row}" in error.message and "公式" in error.message
    assert report.values["1A"] is None
    # Only the formula error: 1A is unknown, not blank, so no second "合计未填" about the same cell (issue 8).
    assert [v.rule for v in report.errors if "1A" in v.items] == ["warmth-2018.1A.formula"]
    assert not [v for v in report.errors + report.warnings if "未填" in v.message]


def test_formula_with_a_saved_result_is_read_as_its_result(tmp_path: Path) -> None:
    """Excel and WPS save each formula's result; people sum with formulas, and that result is the value."""
    import xlsxwriter

    values, header = filled_example("warmth-2018")
    rows = table_rows(get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header)
    row = next(r for r, cells in enumerate(rows) if label_of(cells).startswith("慰问困难家庭总数"))
    path = tmp_path / "f.xlsx"
    workbook = xlsxwriter.Workbook(path)
    worksheet = workbook.add_worksheet()
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            if value is not None and (r, c) != (row, 3):
                worksheet.write(r, c, value)
    worksheet.write_formula(row, 3, f"=SUM(D{row + 2}:D{row + 4})", None, values["2C"])
    workbook.close()
    report = only(check_paths([path]))
    assert report.status is Status.OK and not report.warnings
    assert report.values["2C"] == values["2C"]


def test_deleted_row_is_an_error(tmp_path: Path) -> None:
    values, header = filled_example("warmth-2018")
    rows = table_rows(get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header)
    rows = [
        r for r in rows if not (len(r) > 2 and isinstance(r[-2], str) and r[-2].startswith("中央级新闻媒体"))
    ]
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    assert "warmth-2018.5A.missing-row" in rules_of(report)


# --- bad files: a Chinese message, status unreadable (exit 2), never a traceback --------------------------


def unreadable(data: bytes, name: str = "x.xlsx") -> str:
    report = only(check_bytes(data, file=name))
    assert report.status is Status.UNREADABLE and report.form is None
    assert report.message
    return report.message


def valid_xlsx() -> bytes:
    values, header = filled_example("warmth-2018")
    buffer = io.BytesIO()
    write_form(get_form("warmth-2018"), buffer, values=values, header=header)
    return buffer.getvalue()


def test_not_a_spreadsheet() -> None:
    assert "不是电子表格文件" in unreadable("这是一份活动报告".encode(), "报告.xlsx")
    assert "不是电子表格文件" in unreadable(b"%PDF-1.7 ...", "报告.pdf")


def test_empty_file() -> None:
    assert "空的" in unreadable(b"")


def test_truncated_xlsx() -> None:
    data = valid_xlsx()
    assert "损坏或不完整" in unreadable(data[: len(data) // 2])


def test_corrupt_xls() -> None:
    assert "xls" in unreadable(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "x.xls")


def test_password_protected_xlsx(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-untyped]

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(valid_xlsx())).encrypt("123456", encrypted)
    assert "密码" in unreadable(encrypted.getvalue())


def test_unknown_table(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "other.xlsx", [["职工花名册"], ["姓名", "年龄"], ["张三", 40]])
    assert "无法识别是哪张统计表" in unreadable(path.read_bytes())


def test_missing_file_and_directory(tmp_path: Path) -> None:
    reports = check_paths([tmp_path / "nope.xlsx", tmp_path])
    assert [r.status for r in reports] == [Status.UNREADABLE, Status.UNREADABLE]
    assert "不存在" in str(reports[0].message) and "文件夹" in str(reports[1].message)


def test_unreadable_exit_code_and_message_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "坏文件.xlsx"
    path.write_bytes(valid_xlsx()[:300])
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    assert "坏文件.xlsx" in out.out and "损坏" in out.out and "Traceback" not in out.out + out.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=20000), flip=st.integers(min_value=0, max_value=20000))
def test_damaged_files_never_raise(cut: int, flip: int) -> None:
    data = bytearray(valid_xlsx())
    if flip < len(data):
        data[flip] ^= 0xFF
    for report in check_bytes(bytes(data[: max(cut, 1)] if cut < len(data) else data), file="x.xlsx"):
        assert report.status in (Status.OK, Status.INVALID, Status.UNREADABLE)
