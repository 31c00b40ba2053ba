"""Hostile spreadsheets (issue 8): each is refused with a Chinese message naming the file and the sheet (or
read, where nothing in it can hurt), in a child process whose peak memory stays under 200 MB.

The reads run in a child (`python -c`) with its address space capped (RLIMIT_AS), so that a regression makes
an allocation fail there instead of taking this machine's memory; the child prints its peak RSS (VmHWM).
"""

from __future__ import annotations

import http.server
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from songnuan.formkit import upload_guard
from songnuan.formkit.checking import Status, check_bytes
from songnuan.formkit.definitions import get_form
from songnuan.formkit.list_reader import UnreadableFile, open_list
from songnuan.formkit.upload_guard import FORM_LIMITS, Limits, guard_workbook

from ..filemakers import (
    BILLION_LAUGHS,
    cell_of,
    filled_example,
    ods_with,
    official_template,
    raw_zip,
    rezip,
    sheet_xml,
    table_rows,
    template_with_big_part,
    template_with_cell,
    template_with_external_link,
    template_with_lying_sheet,
    template_with_xml,
    write_xlsx,
    xls_with_far_cell,
)

PEAK_MB = 200
DEEP = b"<a>" * 200_000 + b"</a>" * 200_000
ADDRESS_SPACE = 2 << 30

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[4]), int(sys.argv[4])))
from pathlib import Path
from songnuan.formkit import upload_guard
from songnuan.formkit.checking import check_bytes
from songnuan.formkit.list_reader import UnreadableFile, open_list
reader, path, guard = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "on"
upload_guard.ENABLED = guard
if reader == "form":
    outcome = [[r.status.value, r.message, r.sheet] for r in check_bytes(path.read_bytes(), file=path.name)]
else:
    try:
        reading = open_list(path)
        outcome = [["read", None, reading.sheet]]
        sum(1 for _row in reading.rows)
        reading.close()
    except UnreadableFile as problem:
        outcome = [["unreadable", str(problem), None]]
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and exec.
status = Path("/proc/self/status").read_text()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"outcome": outcome, "peak_mb": peak}, ensure_ascii=False))
"""


def read_in_child(path: Path, reader: str = "form", guard: bool = True) -> tuple[list[Any], float]:
    """(status, message, sheet) per report, and the child's peak RSS in MB."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, reader, str(path), "on" if guard else "off", str(ADDRESS_SPACE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["outcome"], result["peak_mb"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every hostile file, built once (the 1 GiB part streamed to disk, ≈ 1 MB)."""
    folder = tmp_path_factory.mktemp("hostile")
    built: dict[str, bytes] = {
        "xfd.xlsx": template_with_cell("XFD1048576"),
        "ss20000.xlsx": template_with_cell("SS20000"),
        "lying.xlsx": template_with_lying_sheet(),
        "laughs.xlsx": template_with_xml(prolog=BILLION_LAUGHS, cell_text=b"&lol9;"),
        "deep.xlsx": template_with_xml(
            before_sheet_data=b"<extLst>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</extLst>"
        ),
    }
    paths = {name: folder / name for name in built}
    for name, data in built.items():
        paths[name].write_bytes(data)
    paths["big-part.xlsx"] = template_with_big_part(folder / "big-part.xlsx")
    paths["far.xls"] = xls_with_far_cell(folder / "far.xls")
    far_row = (
        '<table:table-row table:number-rows-repeated="300000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row>"
    )
    paths["far.ods"] = ods_with(folder / "far.ods", [["花名册"]], far_row, sheet="名册")
    wide = (
        '<table:table-row table:number-rows-repeated="1000">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="string">'
        "<text:p>x</text:p>"
        "</table:table-cell></table:table-row>"
    )
    paths["wide.ods"] = ods_with(folder / "wide.ods", [["花名册"]], wide, sheet="名册")
    return paths


def assert_refused(outcome: list[Any], *fragments: str) -> str:
    ((status, message, _sheet),) = outcome
    assert status == "unreadable", outcome
    for fragment in fragments:
        assert fragment in message, message
    return str(message)


# --- the files, through the form reader (/check/, the table import) and the list reader (archive) ---


@pytest.mark.parametrize(("name", "cell"), [("xfd.xlsx", "XFD1048576"), ("ss20000.xlsx", "SS20000")])
def test_a_far_cell_in_the_official_template_is_refused_naming_file_sheet_and_cell(
    files: dict[str, Path], name: str, cell: str
) -> None:
    outcome, peak = read_in_child(files[name])
    assert_refused(outcome, f"“{name}”", "工作表“附件1”", cell, "最多 2000 行、50 列")
    assert peak < PEAK_MB
    outcome, peak = read_in_child(files[name], reader="list")
    assert_refused(outcome, "工作表“附件1”", cell, "名单")
    assert peak < PEAK_MB


def test_without_the_guard_the_xfd_cell_kills_the_reader(files: dict[str, Path]) -> None:
    """The old behaviour, shown only in a child whose address space is capped: calamine's allocation of
    the dense 16,384 × 1,048,576 range fails and the process aborts (it took `make run` down)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "form", str(files["xfd.xlsx"]), "off", str(ADDRESS_SPACE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "memory allocation" in done.stderr and "failed" in done.stderr


def test_an_unreferenced_1_gib_part_is_refused_by_its_declared_size(files: dict[str, Path]) -> None:
    assert files["big-part.xlsx"].stat().st_size < 2 << 20
    outcome, peak = read_in_child(files["big-part.xlsx"])
    assert_refused(outcome, "“big-part.xlsx”", "50 MB", "xl/worksheets/sheet99.xml")
    assert peak < PEAK_MB
    outcome, peak = read_in_child(files["big-part.xlsx"], reader="list")
    assert_refused(outcome, "256 MB", "sheet99.xml")
    assert peak < PEAK_MB


def test_an_unreferenced_part_that_hides_its_size_is_never_inflated(tmp_path: Path) -> None:
    """Declared 100 bytes, really 1 GiB: nothing refers to it, so nothing reads it (the formula-cell scan
    once inflated every worksheet part whole: 1 GiB in memory), and the table is checked as usual."""
    path = template_with_big_part(tmp_path / "hidden.xlsx", declared=100)
    outcome, peak = read_in_child(path)
    assert [status for status, _m, _s in outcome] == ["ok"]
    assert peak < PEAK_MB


def test_a_part_that_inflates_beyond_its_declared_size_is_refused(files: dict[str, Path]) -> None:
    outcome, peak = read_in_child(files["lying.xlsx"])
    assert_refused(outcome, "“lying.xlsx”", "xl/worksheets/sheet1.xml", "比它声明的大小更大")
    assert peak < PEAK_MB


@pytest.mark.parametrize(("name", "fragment"), [("laughs.xlsx", "<!DOCTYPE"), ("deep.xlsx", "嵌套超过")])
def test_billion_laughs_and_deep_nesting_are_refused(
    files: dict[str, Path], name: str, fragment: str
) -> None:
    outcome, peak = read_in_child(files[name])
    assert_refused(outcome, f"“{name}”", "xl/worksheets/sheet1.xml", fragment)
    assert peak < PEAK_MB


def test_xls_whose_sheet_reaches_row_65536_column_256_is_refused(files: dict[str, Path]) -> None:
    outcome, peak = read_in_child(files["far.xls"])
    assert_refused(outcome, "“far.xls”", "工作表“附件1”", "IV65536")
    assert peak < PEAK_MB
    outcome, peak = read_in_child(files["far.xls"], reader="list")
    assert_refused(outcome, "工作表“附件1”", "IV65536", "最多 200000 行、200 列")
    assert peak < PEAK_MB


@pytest.mark.parametrize(("name", "cell"), [("far.ods", "A300002"), ("wide.ods", "XFD2")])
def test_ods_counts_repeated_rows_and_columns_that_carry_content(
    files: dict[str, Path], name: str, cell: str
) -> None:
    outcome, peak = read_in_child(files[name])
    assert_refused(outcome, f"“{name}”", "工作表“名册”", cell)
    assert peak < PEAK_MB
    outcome, peak = read_in_child(files[name], reader="list")
    assert_refused(outcome, "工作表“名册”")
    assert peak < PEAK_MB


def test_libreoffice_blank_rows_repeated_to_the_last_row_are_normal(tmp_path: Path) -> None:
    """LibreOffice ends each sheet with an empty row repeated ≈ 1,048,553 times, columns repeated 1,024."""
    values, header = filled_example("warmth-2018")
    rows = table_rows(get_form("warmth-2018"), {k: cell_of(v) for k, v in values.items()}, header)
    tail = (
        '<table:table-row table:number-rows-repeated="1048476">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    path = ods_with(tmp_path / "libreoffice.ods", rows, tail)
    (report,) = check_bytes(path.read_bytes(), file=path.name)
    assert report.status is Status.OK, report.message


# --- an external link: read, and nothing is fetched ---------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request made to it."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/evil.xlsx", requests
    server.shutdown()


def test_an_external_link_is_read_as_saved_and_never_fetched(
    tmp_path: Path, listener: tuple[str, list[str]]
) -> None:
    """Read, not refused: a formula's saved result is what Excel showed (and what we read); the link is a
    part no reader opens (calamine reads only the workbook, its relationships, strings, styles and
    sheets; the guard inflates no other part), so there is nothing to fetch and no reason to refuse."""
    url, requests = listener
    path = tmp_path / "external.xlsx"
    path.write_bytes(template_with_external_link(url))
    outcome, peak = read_in_child(path)
    assert [status for status, _m, _s in outcome] == ["ok"]
    assert peak < PEAK_MB
    outcome, _peak = read_in_child(path, reader="list")
    assert outcome[0][0] in ("read", "unreadable")  # a blank template has no list header; nothing fetched
    assert requests == []


# --- the exact edges, and the tricks that would slip past a careless scan -----------------------------------


@pytest.mark.parametrize(
    ("cell", "refused"),
    [("AX2000", False), ("AY2000", True), ("AX2001", True), ("A99999", True), ("ZZ1", True)],
)
def test_the_form_limit_is_2000_rows_by_50_columns(cell: str, refused: bool) -> None:
    data = template_with_cell(cell)
    if refused:
        with pytest.raises(UnreadableFile, match=cell):
            guard_workbook(data, file="t.xlsx")
    else:
        guard_workbook(data, file="t.xlsx")


@pytest.mark.parametrize(
    "row",
    [
        '<row r="1048576"><c t="inlineStr"><is><t>x</t></is></c></row>',  # no r: placed by its row
        '<row r="3"><c t="inlineStr" r="XFD3"><is><t>x</t></is></c></row>',  # r not first
        '<row r="3"><c r="A3" r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>',  # r twice
        '<row r="3"><c r="xfd3" t="inlineStr"><is><t>x</t></is></c></row>',  # lower case
        "<row r='3'><c r='XFD3' t='inlineStr'><is><t>x</t></is></c></row>",  # single quotes
        '<row r="3"><x:c xmlns:x="urn:x" r="XFD3"><x:v>1</x:v></x:c></row>',  # a namespace prefix
        '<row r="3"><c r="A3" s="1" x=">" t="n"><v>1</v></c><c r="XFD3"><v>1</v></c></row>',  # > in a value
        '<row r="3">' + "<c><v>1</v></c>" * 60 + "</row>",  # sixty cells without r: column BH
        "<row><c><v>1</v></c></row>" * 2100,  # rows without r count on from the last one
    ],
)
def test_every_way_of_writing_a_far_cell_is_measured(row: str) -> None:
    data = template_with_xml(cell_text=None, after_sheet_data=row.encode())
    with pytest.raises(UnreadableFile, match="超出了统计表的范围"):
        guard_workbook(data, file="t.xlsx")


def test_empty_styled_cells_far_away_are_not_content() -> None:
    """`<c r="Z9999" s="1"/>` carries nothing; calamine keeps no cell for it, so it costs nothing."""
    data = template_with_xml(after_sheet_data=b'<row r="9999"><c r="Z9999" s="1"/></row>')
    guard_workbook(data, file="t.xlsx")


def test_a_declared_dimension_beyond_the_limits_is_refused() -> None:
    data = official_template()
    xml = sheet_xml(data).replace(b'<dimension ref="A1:G', b'<dimension ref="A1:G5000" old="A1:G', 1)
    with pytest.raises(UnreadableFile, match=r"声明的使用范围.*G5000"):
        guard_workbook(rezip(data, {"xl/worksheets/sheet1.xml": xml}), file="t.xlsx")


def test_too_many_members_and_zip_tricks_are_refused() -> None:
    import io
    import zlib

    members = [(f"x/{n}.xml", zlib.crc32(b""), 0, [b"\x03\x00"]) for n in range(1001)]
    out = io.BytesIO()
    raw_zip(out, members)
    with pytest.raises(UnreadableFile, match="1001 个部件"):
        guard_workbook(out.getvalue(), file="t.xlsx")
    twice = io.BytesIO()
    raw_zip(twice, [("_rels/.rels", 0, 0, [b"\x03\x00"]), ("_RELS/.rels", 0, 0, [b"\x03\x00"])])
    with pytest.raises(UnreadableFile, match="损坏"):
        guard_workbook(twice.getvalue(), file="t.xlsx")


def test_the_list_limits_allow_a_real_roster(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["姓名", "身份证号码", "单位", "电话"]]
    rows += [[f"张{n}", f"42080219800101{n:04d}", "东宝区", "13800000000"] for n in range(3000)]
    reading = open_list(write_xlsx(tmp_path / "roster.xlsx", rows))
    assert sum(1 for _row in reading.rows) == 3000
    reading.close()


def test_the_official_template_and_the_filled_tables_pass_the_fast_path() -> None:
    """Normal tables never need the tag-by-tag walk: the one-regex test is conclusive for them."""
    assert upload_guard._fast_sheet_check(
        __import__("zipfile")
        .ZipFile(__import__("io").BytesIO(official_template()))
        .read("xl/worksheets/sheet1.xml"),
        FORM_LIMITS,
    )


def test_limits_are_a_parameter() -> None:
    tiny = Limits("表", max_rows=10, max_columns=5, max_cells=50, max_bytes=1 << 20)
    with pytest.raises(UnreadableFile, match="最多 10 行、5 列"):
        guard_workbook(official_template(), file="t.xlsx", limits=tiny)


# --- the fast path: it says "fine" only when the walk would; anything unusual goes to the walk -------------


def with_sheet(xml: bytes) -> bytes:
    return rezip(official_template(), {"xl/worksheets/sheet1.xml": xml})


@pytest.mark.parametrize(
    "row",
    [
        b'<row r="3"><c r="A3" r="B3"><v>1</v></c></row>',  # r twice
        b'<row r="3"><c r="A3" x:r="B3" xmlns:x="urn:x"><v>1</v></c></row>',  # a prefixed r
        b'<row r="3"><c r="A3" s=">" r="B3"><v>1</v></c></row>',  # a > in a value, then a second r
        b'<row r="3"><c r="A3" r ="B3"><v>1</v></c></row>',  # a second r written with a space
        b'<row r="3"><c r="A3" R="B3"><v>1</v></c></row>',  # an attribute the fast path does not know
        b'<row r="3"><c\tr="A3"><v>1</v></c></row>',  # a tab after the name
        b"<row r='3'><c r='A3'><v>1</v></c></row>",  # single quotes
        b'<row r="3"><c r="A03"><v>1</v></c></row>',  # a leading zero
        b'<row r="3"><c r="A3" s="1"><v>1</v></c><c><v>2</v></c></row>',  # a cell without r
        b'<row r="3"><x:c xmlns:x="urn:x" r="A3"><x:v>1</x:v></x:c></row>',  # a prefixed cell
        b'<row r="3"><c r="A3"><v>1</v></c></row><!-- a comment -->',  # a comment
        b'<row r="3"><c r="A3"><v>1</v></c></row><?pi x?>',  # a processing instruction
    ],
)
def test_the_fast_path_leaves_every_unusual_cell_tag_to_the_walk(row: bytes) -> None:
    """Each is harmless here (B3 at most), so only the fast path's answer tells: "not sure", never "fine"."""
    xml = sheet_xml(official_template()).replace(b"</sheetData>", row + b"</sheetData>")
    assert not upload_guard._fast_sheet_check(xml, FORM_LIMITS)


TEMPLATE_DIMENSION = b'<dimension ref="A1:G60"/>'  # as the template writes it


@pytest.mark.parametrize(
    "written",
    [
        b"<dimension ref='A1:G5000'/>",  # single quotes
        b'<dimension ref="A1:G5000"/>' + TEMPLATE_DIMENSION,  # two, the far one first
        TEMPLATE_DIMENSION + b'<dimension ref="A1:G5000"/>',  # two, the far one second
        b'<dimension ref="A1:G60" ref="A1:G5000"/>',  # ref twice
        b'<x:dimension xmlns:x="urn:x" ref="A1:G5000"/>',  # a prefix
        b'<sheetPr codeName="' + b"x" * 5000 + b'"/><dimension ref="A1:G5000"/>',  # after 4 KB
    ],
)
def test_every_declared_dimension_is_measured_wherever_and_however_written(written: bytes) -> None:
    """The fast path once looked at the first `<dimension ref="…"` within 4 KB only."""
    xml = sheet_xml(official_template())
    assert TEMPLATE_DIMENSION in xml
    with pytest.raises(UnreadableFile, match=r"声明的使用范围.*G5000"):
        guard_workbook(with_sheet(xml.replace(TEMPLATE_DIMENSION, written, 1)), file="t.xlsx")


def test_a_utf16_sheet_is_refused_not_waved_through() -> None:
    """In UTF-16 no `<c r=` is visible byte by byte: the fast path must not call such a sheet fine."""
    text = sheet_xml(official_template()).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("</sheetData>", '<row r="9000"><c r="A9000"><v>1</v></c></row></sheetData>')
    with pytest.raises(UnreadableFile, match="不是UTF-8编码"):
        guard_workbook(with_sheet(text.encode("utf-16")), file="t.xlsx")


def test_limits_whose_rows_and_columns_exceed_their_cells_measure_the_real_rectangle() -> None:
    """With the list limits (200,000 rows, 200 columns, 5,000,000 cells) two cells within the rows and
    columns can still span 40 million cells: a small sheet must not be waved through on its extent alone."""
    far = b'<row r="199999"><c r="GQ199999"><v>1</v></c></row>'
    xml = sheet_xml(official_template()).replace(b"</sheetData>", far + b"</sheetData>")
    with pytest.raises(UnreadableFile, match="5000000 个单元格"):
        guard_workbook(with_sheet(xml), file="t.xlsx", limits=upload_guard.LIST_LIMITS)


def test_the_fast_path_never_calls_fine_what_the_walk_refuses() -> None:
    """Cell tags written many ways (seeded, so the same every run): whenever the fast path says "fine",
    the tag-by-tag walk over the same sheet refuses nothing."""
    rng = random.Random(8)
    base = sheet_xml(official_template())
    references = ["A1", "G100", "AX2000", "AY1", "A2001", "ZZ9", "A0", "A01", "a5", "", "B"]
    extras = [' s="1"', ' t="n"', ' s=">"', " s='1'", ' r="XFD9"', ' x:r="XFD9"', ' cm="1"', "\t", " "]
    firsts = ['r="{}"', "r='{}'", 's="1" r="{}"', "", 'r ="{}"']
    ends = [">", "/>", " >", " />"]
    said_fine = 0
    for _round in range(1000):
        cells = []
        for _cell in range(rng.randint(1, 3)):
            first = rng.choices(firsts, weights=[8, 1, 1, 1, 1])[0]
            attributes = first.format(rng.choices(references, weights=[4, 4, 4] + [1] * 8)[0])
            attributes += "".join(rng.choices(extras, k=rng.choices([0, 1, 2], weights=[6, 2, 1])[0]))
            end = rng.choices(ends, weights=[4, 4, 1, 1])[0]
            cells.append(f"<c {attributes}{end}" + ("" if end.endswith("/>") else "<v>1</v></c>"))
        row = f'<row r="{rng.randint(1, 2100)}">{"".join(cells)}</row>'.encode()
        xml = base.replace(b"</sheetData>", row + b"</sheetData>")
        if not upload_guard._fast_sheet_check(xml, FORM_LIMITS):
            continue
        said_fine += 1
        walker = upload_guard._SheetWalker("t.xlsx", "sheet1.xml", "附件1", FORM_LIMITS)
        walker.feed(xml, final=True)  # raises if the walk would refuse
    assert said_fine > 50  # the fast path is still the common one
