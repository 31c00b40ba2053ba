"""Filled tables laid out unlike the template (issue 11, item 7): the reader finds them by their item labels.

Each layout is a real .xlsx (openpyxl or XlsxWriter) read end to end by `check_bytes`/`check_paths`, and the
values read are compared with the values written, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.formkit.checking import Status, TableReport, check_bytes, check_paths
from songnuan.formkit.definitions import Form, get_form
from songnuan.formkit.engine import Value

from ..filemakers import (
    LAYOUT_COLUMNS,
    Cell,
    Rows,
    cell_of,
    filled_example,
    layout_rows,
    write_xlsx,
    xlsx_bytes,
)

CODES = ["warmth-2018", "service-centres-2017"]


def example(code: str) -> tuple[Form, dict[str, Cell], dict[str, Value], dict[str, str]]:
    """The form, its filled example as cells, the typed values expected back, and the header."""
    values, header = filled_example(code)
    return get_form(code), {k: cell_of(v) for k, v in values.items()}, values, header


def only(reports: list[TableReport]) -> TableReport:
    assert len(reports) == 1, [(r.sheet, r.status, r.message) for r in reports]
    return reports[0]


def read_ok(report: TableReport, code: str, expected: dict[str, Value]) -> None:
    assert report.status is Status.OK, report.message or [v.message for v in report.errors]
    assert report.form is not None and report.form.code == code
    assert report.values == expected


def unreadable(data: bytes) -> str:
    report = only(check_bytes(data, file="t.xlsx"))
    assert report.status is Status.UNREADABLE and report.message, report
    return report.message


def row_of(rows: Rows, text: str) -> int:
    """The 1-based sheet row whose cells include one starting with `text`."""
    return next(r for r, row in enumerate(rows, start=1) if any(str(v).startswith(text) for v in row if v))


# --- (a) the item letter written inside the label cell ----------------------------------------------------


@pytest.mark.parametrize("written", ["（{letter}）", "{letter} ", "{letter}、", "({letter})", "{letter}．"])
@pytest.mark.parametrize("code", CODES)
def test_letter_inside_the_label_cell(tmp_path: Path, code: str, written: str) -> None:
    form, cells, expected, header = example(code)
    rows = layout_rows(form, cells, header, columns=("编号", "项目", "合计"), letter_in_label=written)
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    read_ok(report, code, expected)
    assert (report.header.unit, report.header.reporter, report.header.date) == (
        header["unit"],
        header["reporter"],
        header["date"],
    )
    label = written.format(letter="B") + form.item("1B").label
    assert report.cells["1B"] == f"Sheet1!C{row_of(rows, label)}"


def test_letter_in_the_label_chooses_among_repeated_labels() -> None:
    """附件2 prints 帮扶款物（万元） four times (9B, 9D, 9F, 9H): the letter says which one a row is."""
    form, cells, expected, header = example("service-centres-2017")
    rows = layout_rows(form, cells, header, columns=("项目", "合计"), letter_in_label="（{letter}）")
    # 9F's row is missing: the next 帮扶款物 row, written (H), must still be 9H, not taken for 9F.
    rows = [row for row in rows if row[0] != "（F）" + form.item("9F").label]
    report = only(check_bytes(xlsx_bytes([("附件2", rows)]), file="t.xlsx"))
    assert report.values["9H"] == expected["9H"]
    assert report.values["9F"] is None
    assert "service-centres-2017.9F.missing-row" in {v.rule for v in report.errors}


# --- (b) no 编号 column -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "value_title"),
    [
        (("字母", "项目", "合计"), "合计"),
        (("项目", "合计"), "数量"),
        (("项目", "单位", "合计"), None),
        (("字母", "项目", "单位", "合计"), "本期"),
    ],
)
@pytest.mark.parametrize("code", CODES)
def test_no_number_column(code: str, columns: tuple[str, ...], value_title: str | None) -> None:
    form, cells, expected, header = example(code)
    rows = layout_rows(form, cells, header, columns=columns, value_title=value_title)
    read_ok(only(check_bytes(xlsx_bytes([("Sheet1", rows)]), file="t.xlsx")), code, expected)


# --- (c) columns in another order ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns",
    [
        ("合计", "单位", "字母", "项目"),  # 合计 before 单位, the label last
        ("单位", "合计", "编号", "字母", "项目"),
        ("项目", "合计", "单位", "编号", "字母"),
        ("编号", "合计", "项目", "字母"),
    ],
)
@pytest.mark.parametrize("code", CODES)
def test_columns_in_another_order(tmp_path: Path, code: str, columns: tuple[str, ...]) -> None:
    form, cells, expected, header = example(code)
    rows = layout_rows(form, cells, header, columns=columns)
    report = only(check_paths([write_xlsx(tmp_path / "t.xlsx", rows)]))
    read_ok(report, code, expected)
    assert report.header.phone == header["phone"]
    value_column = "ABCDE"[columns.index("合计")]
    assert report.cells[form.items[-1].code] == f"Sheet1!{value_column}{len(rows)}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.sampled_from(CODES),
    columns=st.permutations(LAYOUT_COLUMNS).flatmap(
        lambda order: st.integers(min_value=2, max_value=len(order)).map(
            lambda keep: tuple(c for c in order if c in ("项目", "合计") or order.index(c) < keep)
        )
    ),
    letter_in_label=st.sampled_from([None, "（{letter}）", "{letter}、"]),
    value_title=st.sampled_from(["合计", "数值", "金额", "本期", None]),
)
def test_any_column_order_reads_the_same_values(
    code: str, columns: tuple[str, ...], letter_in_label: str | None, value_title: str | None
) -> None:
    form, cells, expected, header = example(code)
    rows = layout_rows(
        form, cells, header, columns=columns, letter_in_label=letter_in_label, value_title=value_title
    )
    read_ok(only(check_bytes(xlsx_bytes([("Sheet1", rows)]), file="t.xlsx")), code, expected)


# --- (d) one table split over two sheets -----------------------------------------------------------------


def xlsxwriter_bytes(path: Path, sheets: Sequence[tuple[str, Rows]]) -> bytes:
    """The same workbook written by XlsxWriter (what the application and many tools use)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path)
    for name, rows in sheets:
        worksheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    worksheet.write(r, c, value)
    workbook.close()
    return path.read_bytes()


@pytest.mark.parametrize("headings_again", [True, False])
@pytest.mark.parametrize("share", [1 / 3, 2 / 3])
@pytest.mark.parametrize("code", CODES)
def test_one_table_split_over_two_sheets(
    tmp_path: Path, code: str, share: float, headings_again: bool
) -> None:
    form, cells, expected, header = example(code)
    cut = int(len(form.items) * share)
    first = layout_rows(form, cells, header, items=slice(None, cut))
    rest = layout_rows(form, cells, items=slice(cut, None), title=False, headings=headings_again)
    data = xlsxwriter_bytes(tmp_path / "t.xlsx", [("第1页", first), ("第2页", rest)])
    report = only(check_bytes(data, file="t.xlsx"))
    read_ok(report, code, expected)
    assert report.sheet == "第1页、第2页"
    assert report.header.unit == header["unit"]
    assert report.cells[form.items[0].code].startswith("第1页!D")
    assert report.cells[form.items[-1].code] == f"第2页!D{len(rest)}"


def test_both_forms_each_split_over_two_sheets_give_two_tables() -> None:
    sheets: list[tuple[str, Rows]] = []
    expected: dict[str, dict[str, Value]] = {}
    for code in CODES:
        form, cells, values, header = example(code)
        cut = len(form.items) // 2
        sheets.append((form.attachment, layout_rows(form, cells, header, items=slice(None, cut))))
        sheets.append((form.attachment + "续", layout_rows(form, cells, items=slice(cut, None), title=False)))
        expected[code] = values
    reports = check_bytes(xlsx_bytes(sheets), file="t.xlsx")
    assert [(r.form.code if r.form else None, r.sheet, r.status) for r in reports] == [
        ("warmth-2018", "附件1、附件1续", Status.OK),
        ("service-centres-2017", "附件2、附件2续", Status.OK),
    ]
    assert [r.values for r in reports] == [expected[code] for code in CODES]


def test_two_whole_copies_of_one_form_stay_two_tables() -> None:
    """A table lacking a row is not continued by a second copy of the form (e.g. another unit's)."""
    form, cells, expected, header = example("warmth-2018")
    whole = layout_rows(form, cells, header)
    lacking = [row for row in whole if form.item("5A").label not in row]
    other = layout_rows(form, cells, title=False)
    reports = check_bytes(xlsx_bytes([("甲", lacking), ("乙", other)]), file="t.xlsx")
    assert [(r.sheet, r.status) for r in reports] == [("甲", Status.INVALID), ("乙", Status.OK)]
    assert "warmth-2018.5A.missing-row" in {v.rule for v in reports[0].errors}
    assert reports[1].values == expected


def test_a_split_table_is_still_measured_by_the_upload_guard() -> None:
    """The second sheet is read under the same caps as any sheet: a cell beyond 2,000 rows is refused."""
    form, cells, _expected, header = example("warmth-2018")
    rest = layout_rows(form, cells, items=slice(20, None), title=False)
    rest += [[] for _ in range(2001 - len(rest))] + [["x"]]
    message = unreadable(
        xlsx_bytes([("第1页", layout_rows(form, cells, header, items=slice(None, 20))), ("第2页", rest)])
    )
    assert "2000" in message and "第2页" in message


# --- (e) the value column titled differently, or not at all ---------------------------------------------


@pytest.mark.parametrize(
    "value_title",
    ["数值", "数量", "金额", "合计数", "本期", "本期数", "金额（万元）", "2018年", "荆门市", None],
)
@pytest.mark.parametrize("code", CODES)
def test_value_column_titled_otherwise(code: str, value_title: str | None) -> None:
    form, cells, expected, header = example(code)
    rows = layout_rows(
        form, cells, header, columns=("编号", "字母", "项目", "单位", "合计"), value_title=value_title
    )
    read_ok(only(check_bytes(xlsx_bytes([("Sheet1", rows)]), file="t.xlsx")), code, expected)


def test_untitled_value_column_of_a_sparse_table_is_not_the_number_column() -> None:
    """Only three items filled: the 编号 column holds more numbers, but they are the 编号s themselves."""
    form = get_form("service-centres-2017")
    filled: dict[str, Cell] = {"1A": 12, "5A": 8.5, "6B": "否"}
    rows = layout_rows(form, filled, {}, columns=("编号", "字母", "项目", "合计"), value_title="2018年度")
    report = only(check_bytes(xlsx_bytes([("Sheet1", rows)]), file="t.xlsx"))
    read = {code: value for code, value in report.values.items() if value is not None}
    assert {code: str(value) for code, value in read.items()} == {"1A": "12", "5A": "8.5", "6B": "否"}


@pytest.mark.parametrize("heading", ["行次", None])
def test_a_line_number_column_is_not_the_value_column(heading: str | None) -> None:
    form, cells, expected, header = example("warmth-2018")
    rows = layout_rows(form, cells, header, columns=("项目", "合计"), value_title="本年")
    first_item = 4  # 附件1：, the title, the header line, then the headings
    numbered = [
        [heading if r == first_item - 1 else (r - first_item + 1 if r >= first_item else None), *row]
        for r, row in enumerate(rows)
    ]
    read_ok(only(check_bytes(xlsx_bytes([("Sheet1", numbered)]), file="t.xlsx")), "warmth-2018", expected)


# --- where the table still cannot be found: what was looked for ------------------------------------------


def test_too_few_labels_names_the_sheet_and_the_labels_not_found() -> None:
    form, cells, _expected, header = example("warmth-2018")
    rows = layout_rows(form, cells, header, columns=("项目", "合计"))
    kept = {form.items[0].label, form.items[1].label}
    renamed = [
        [
            f"第{r}项" if isinstance(v, str) and c == 0 and v not in kept and r > 3 else v
            for c, v in enumerate(row)
        ]
        for r, row in enumerate(rows)
    ]
    message = unreadable(xlsx_bytes([("附件1", renamed)]))
    assert "工作表“附件1”只找到2个项目行（共55个）" in message
    assert "没有找到：2A“慰问一线职工(人)”" in message
    assert "等53项" in message


def test_no_label_at_all_names_what_was_looked_for() -> None:
    form = get_form("service-centres-2017")
    rows: Rows = [[form.title], ["填报单位：东宝区总工会"], ["甲", "乙"], ["一", 1], ["二", 2]]
    message = unreadable(xlsx_bytes([("我的表", rows)]))
    assert "工作表“我的表”中找不到“2017年度职工服务中心工作统计表”的项目行" in message
    assert "“县级以上困难职工帮扶中心（个）”" in message


def test_labels_without_any_value_column_say_so() -> None:
    form = get_form("warmth-2018")
    rows = layout_rows(form, {}, {}, columns=("字母", "项目", "合计"), value_title="2018年")
    message = unreadable(xlsx_bytes([("Sheet1", rows)]))
    assert "工作表“Sheet1”中找到了“2018年各地工会送温暖统计表”的55个项目行" in message
    assert "找不到填写数值的列" in message and "“合计”" in message
