"""Measuring a spreadsheet before calamine reads it, so that no upload can make the reader allocate or inflate
without bound.

calamine turns a sheet into a dense rectangle (`Range::from_sparse`): one stray cell at XFD1048576 asks
for 16,384 × 1,048,576 cells of 32 bytes (512 GiB, and the process aborts); a cell at SS20000 costs
≈ 330 MB. A .xlsx or .ods is a zip, and a member may inflate to a thousand times its size or lie about its
size. So, before calamine sees a file, this module measures it with bounded work and memory:

- .xlsx: the zip's central directory (member count, each declared size and their sum, no encryption, no
  exotic compression); then every part calamine reads (`_rels/.rels`, the workbook, its relationships, shared
  strings, styles, and each sheet the workbook lists — not the parts nothing refers to) is inflated in
  chunks with a cap: a part that inflates to more than it declares is refused. Each of those parts is checked
  for DTDs and entity declarations (`<!DOCTYPE`, `<!ENTITY`: billion laughs), for processing instructions and
  for nesting deeper than `MAX_XML_DEPTH`; each sheet for its declared `<dimension ref>` and for the cells
  that carry something (`<c r="…">`, and the positions calamine gives cells without `r`, from `<row r="…">`).
- .ods: the same for `content.xml`, counting rows and columns with `number-rows-repeated` /
  `number-columns-repeated`, where only cells that carry something count (LibreOffice ends every sheet with a
  blank row repeated ≈ 1,048,553 times: normal, and harmless).
- .xls: the compound file is walked (FAT, mini stream) to the Workbook stream, whose BIFF records give each
  sheet's DIMENSIONS and the row and column of every cell record calamine keeps.

Anything beyond the limits raises `UnreadableFile` with a Chinese message naming the file and the sheet (or
part). For the form reader (`guard_workbook`), calamine is then handed a new zip holding exactly the parts
that were checked, stored rather than deflated: calamine can read nothing the guard did not see (duplicate
names, a second format tried after the first fails), and it need not inflate again what was inflated here.
"""

from __future__ import annotations

import functools
import html
import re
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.i18n import gettext_noop


class UnreadableFile(Exception):
    """The file cannot be read as a statistical table; the message says why, in Chinese."""


#: Switched off only by bench/bench_check.py, to time the reader without the guard in the same run.
ENABLED = True

#: Deeper nesting is refused. Real spreadsheet XML nests fewer than 20 levels. A part shorter than three
#: times this cannot reach it (each level costs at least `<a>`), so normal tables are never walked for it.
MAX_XML_DEPTH = 20_000
#: Parts up to this size are checked in one piece by regular expressions; larger ones are walked tag by tag.
_FAST_PART_BYTES = 3 * MAX_XML_DEPTH
_CHUNK = 4 * 1024 * 1024
_MAX_TAG_BYTES = 1024 * 1024
#: The first bytes of an OLE compound file (.xls, and an encrypted .xlsx wrapped in one).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream name an encrypted OOXML file carries inside its OLE wrapper.
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class Limits:
    """What one kind of sheet may hold; `what` names the kind in messages (in the source language: it is
    translated where a message is made, in the language of that moment)."""

    what: str
    max_rows: int
    max_columns: int
    max_cells: int
    max_bytes: int  # the parts that are read, inflated, in all (and each member's declared size)
    max_members: int = 1000


#: A filled statistical table: the two tables of the notice have about 100 rows and 7 columns.
FORM_LIMITS = Limits(
    gettext_noop("统计表"), max_rows=2000, max_columns=50, max_cells=100_000, max_bytes=50 * 1024 * 1024
)
#: An archive list or roster, read row by row: calamine still holds the sheet as a dense rectangle of
#: 32-byte cells, so 5,000,000 cells ≈ 160 MB (200,000 households × 25 columns). Larger lists go in as CSV.
LIST_LIMITS = Limits(
    gettext_noop("名单"), max_rows=200_000, max_columns=200, max_cells=5_000_000, max_bytes=256 * 1024 * 1024
)


@dataclass
class Measured:
    """What the form reader hands calamine, and each sheet's XML (.xlsx: formula cells are found in it)."""

    data: bytes
    sheet_xml: dict[str, bytes] = field(default_factory=dict)


def _named(file: str | None) -> str:
    return _("“{file}”").format(file=file) if file else _("文件")


def _damaged(file: str | None) -> UnreadableFile:
    return UnreadableFile(
        _("{file}已损坏或不完整（可能没有传完），请在Excel或WPS中重新保存后上传").format(file=_named(file))
    )


def _not_xls(file: str | None) -> UnreadableFile:
    return UnreadableFile(
        _("无法读取{file}：它不是有效的 .xls 文件，可能已损坏或不完整").format(file=_named(file))
    )


def _too_large(file: str | None, limits: Limits, part: str) -> UnreadableFile:
    return UnreadableFile(
        _(
            "{file}解压后超过 {mb} MB（在“{part}”处），不像是一份{what}："
            "请删除多余的工作表、图片等内容后重新保存"
        ).format(file=_named(file), mb=limits.max_bytes // (1024 * 1024), part=part, what=_(limits.what))
    )


def _beyond(
    file: str | None, limits: Limits, sheet: str, row: int, column: int, *, declared: bool
) -> UnreadableFile:
    """A sheet reaching row `row`, column `column` (1-based) when the limits allow less."""
    where = _("声明的使用范围") if declared else _("有内容的单元格")
    return UnreadableFile(
        _(
            "{file}的工作表“{sheet}”{where}到了第 {row} 行、第 {column} 列（{cell}），超出了{what}的范围"
            "（最多 {max_rows} 行、{max_columns} 列）：请删除表格以外多余的行列（或复制到新文件）后重新上传"
        ).format(
            file=_named(file),
            sheet=sheet,
            where=where,
            row=row,
            column=column,
            cell=f"{_column_letters(column)}{row}",
            what=_(limits.what),
            max_rows=limits.max_rows,
            max_columns=limits.max_columns,
        )
    )


def _too_many_cells(file: str | None, limits: Limits, sheet: str, rows: int, columns: int) -> UnreadableFile:
    return UnreadableFile(
        _(
            "{file}的工作表“{sheet}”有 {rows} 行 × {columns} 列，"
            "超出了{what}的范围（最多 {cells} 个单元格）："
            "请分成几个文件，或另存为CSV后上传"
        ).format(
            file=_named(file),
            sheet=sheet,
            rows=rows,
            columns=columns,
            what=_(limits.what),
            cells=limits.max_cells,
        )
    )


def _column_letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


# --- where the bytes come from: the upload in memory, or a file on disk ------------------------------------


class _Source:
    size: int

    def read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError


class _BytesSource(_Source):
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset : offset + length]


class _FileSource(_Source):
    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.size = size

    def read(self, offset: int, length: int) -> bytes:
        self.handle.seek(offset)
        return self.handle.read(length)


# --- the zip container -------------------------------------------------------------------------------------


class _Member(NamedTuple):
    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")


def _zip_members(source: _Source, file: str | None, limits: Limits) -> dict[str, _Member]:
    """The central directory by lower-cased name (as calamine looks parts up), sizes checked as declared."""
    tail_length = min(source.size, 65535 + _EOCD.size)
    tail = source.read(source.size - tail_length, tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise _damaged(file)
    _sig, _disk, _cd_disk, _on_disk, count, cd_size, cd_offset, _comment = _EOCD.unpack_from(tail, at)
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise UnreadableFile(
            _("{file}使用了不支持的压缩格式（ZIP64），请在Excel或WPS中重新保存后上传").format(
                file=_named(file)
            )
        )
    if count > limits.max_members:
        raise UnreadableFile(
            _("{file}包含 {n} 个部件，超过上限 {limit} 个，不像是一份{what}").format(
                file=_named(file), n=count, limit=limits.max_members, what=_(limits.what)
            )
        )
    if cd_offset + cd_size > source.size:
        raise _damaged(file)
    directory = source.read(cd_offset, cd_size)
    members: dict[str, _Member] = {}
    declared = 0
    position = 0
    for _index in range(count):
        if position + _CENTRAL.size > len(directory):
            raise _damaged(file)
        fields = _CENTRAL.unpack_from(directory, position)
        sig, flags, method, crc, compressed, size = fields[0], fields[3], fields[4], *fields[7:10]
        name_length, extra_length, comment_length, offset = fields[10], fields[11], fields[12], fields[16]
        if sig != 0x02014B50:
            raise _damaged(file)
        raw_name = directory[position + _CENTRAL.size : position + _CENTRAL.size + name_length]
        position += _CENTRAL.size + name_length + extra_length + comment_length
        if raw_name.isascii():  # cp437 and UTF-8 agree on ASCII; the cp437 codec is slow
            name = raw_name.decode("ascii")
        else:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if 0xFFFFFFFF in (compressed, size, offset):
            raise UnreadableFile(
                _("{file}使用了不支持的压缩格式（ZIP64），请在Excel或WPS中重新保存后上传").format(
                    file=_named(file)
                )
            )
        if flags & 0x1:
            raise UnreadableFile(
                _("文件设置了打开密码，无法读取。请在Excel或WPS中取消密码（文件→信息→保护工作簿）后重新上传")
            )
        declared += size
        if size > limits.max_bytes or declared > limits.max_bytes:
            raise _too_large(file, limits, name)
        if raw_name.isascii():  # the same key, without the round trip (cp437 and UTF-8 agree on ASCII)
            key = raw_name.replace(b"\\", b"/").lower().decode("ascii")
        else:
            key = _ascii_lower(name.replace("\\", "/"))
        if key in members:  # which of the two would calamine read? Neither: no honest writer does this.
            raise _damaged(file)
        members[key] = _Member(name, flags, method, crc, compressed, size, offset)
    return members


def _ascii_lower(text: str) -> str:
    if text.isascii():  # the same, without the round trip
        return text.lower()
    return text.encode("utf-8", "surrogateescape").lower().decode("utf-8", "replace")


def _data_start(source: _Source, member: _Member, file: str | None, budget: list[int] | None) -> int:
    """Where the member's compressed bytes begin (after its local header), its size taken from the budget."""
    if member.method not in (0, 8):
        raise UnreadableFile(
            _("{file}中的“{part}”使用了不支持的压缩方式，请在Excel或WPS中重新保存后上传").format(
                file=_named(file), part=member.name
            )
        )
    head = source.read(member.offset, 30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise _damaged(file)
    name_length, extra_length = struct.unpack_from("<HH", head, 26)
    start: int = member.offset + 30 + name_length + extra_length
    if start + member.compressed > source.size:
        raise _damaged(file)
    if budget is not None:  # None: the caller counts this member against the budget itself
        budget[0] -= member.size
        if budget[0] < 0:
            raise _damaged(file)  # sizes were summed before: only a member read twice gets here
    return start


def _lies(file: str | None, member: _Member) -> UnreadableFile:
    return UnreadableFile(
        _("{file}中的“{part}”解压后比它声明的大小更大（压缩炸弹或文件损坏），不予读取").format(
            file=_named(file), part=member.name
        )
    )


def _inflate(source: _Source, member: _Member, file: str | None, budget: list[int] | None) -> Iterator[bytes]:
    """The member's content in chunks; refused when it inflates beyond its declared size or the budget."""
    start = _data_start(source, member, file, budget)
    if member.method == 0:
        if member.compressed != member.size:
            raise _damaged(file)
        for at in range(0, member.size, _CHUNK):
            yield source.read(start + at, min(_CHUNK, member.size - at))
        return
    inflater = zlib.decompressobj(-15)
    produced = 0
    for at in range(0, member.compressed, _CHUNK):
        pending = source.read(start + at, min(_CHUNK, member.compressed - at))
        while pending and not inflater.eof:
            try:
                out = inflater.decompress(pending, min(_CHUNK, member.size - produced + 1))
            except zlib.error:
                raise _damaged(file) from None
            produced += len(out)
            if produced > member.size:  # the member lies about its size: a zip bomb, or damage
                raise _lies(file, member)
            if out:
                yield out
            pending = inflater.unconsumed_tail
            if not out and pending:
                raise _damaged(file)
        if inflater.eof:
            break
    if not inflater.eof or produced != member.size:
        raise _damaged(file)


def _whole(source: _Source, member: _Member, file: str | None, budget: list[int]) -> bytes:
    """The member's content in one piece (small members in one call, larger ones streamed)."""
    if member.method != 8 or member.size > _CHUNK:
        return b"".join(_inflate(source, member, file, budget))
    start = _data_start(source, member, file, budget)
    inflater = zlib.decompressobj(-15)
    try:
        content = inflater.decompress(source.read(start, member.compressed), member.size + 1)
    except zlib.error:
        raise _damaged(file) from None
    if len(content) > member.size:
        raise _lies(file, member)
    if not inflater.eof or len(content) != member.size:
        raise _damaged(file)
    return content


# --- XML: declarations, depth, and the tags that matter ----------------------------------------------------

_TAG = re.compile(rb"<(/?)([^\s/>!?<]+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>")
_ATTRIBUTE = re.compile(rb"([^\s=/]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"([A-Za-z]*)([0-9]+)")
_DECLARATION = re.compile(rb"<[!?]")


def _attributes(raw: bytes) -> dict[bytes, bytes]:
    """Attributes by local name (the last of duplicates wins, as in calamine)."""
    found: dict[bytes, bytes] = {}
    for name, double, single in _ATTRIBUTE.findall(raw):
        found[name.rpartition(b":")[2]] = double if double or not single else single
    return found


def _all_values(raw: bytes, local: bytes) -> list[bytes]:
    return [d or s for n, d, s in _ATTRIBUTE.findall(raw) if n.rpartition(b":")[2] == local]


class _XmlWalker:
    """Walks an XML part tag by tag, in chunks: refuses declarations and depth; subclasses read the tags."""

    def __init__(self, file: str | None, part: str) -> None:
        self.file = file
        self.part = part
        self.carry = b""
        self.depth = 0
        self.started = False

    def refuse_declaration(self) -> UnreadableFile:
        return UnreadableFile(
            _(
                "{file}的“{part}”含有DTD、实体声明、注释或处理指令（<!DOCTYPE、<!ENTITY 等），"
                "Excel、WPS和LibreOffice保存的表格里没有这些，出于安全原因不予读取"
            ).format(file=_named(self.file), part=self.part)
        )

    def malformed(self) -> UnreadableFile:
        return UnreadableFile(
            _("{file}的“{part}”格式错误（可能已损坏），请在Excel或WPS中重新保存后上传").format(
                file=_named(self.file), part=self.part
            )
        )

    def too_deep(self) -> UnreadableFile:
        return UnreadableFile(
            _("{file}的“{part}”嵌套超过 {limit} 层，不像是Excel或WPS保存的表格，不予读取").format(
                file=_named(self.file), part=self.part, limit=MAX_XML_DEPTH
            )
        )

    def start(self, buffer: bytes, final: bool) -> int | None:
        """Where the markup begins: after a BOM and the XML declaration; None: wait for more bytes."""
        head = buffer[:4]
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
            raise UnreadableFile(
                _("{file}的“{part}”不是UTF-8编码，Excel和WPS不会这样保存，请重新保存后上传").format(
                    file=_named(self.file), part=self.part
                )
            )
        position = 3 if buffer.startswith(b"\xef\xbb\xbf") else 0
        if buffer.startswith(b"<?", position):
            end = buffer.find(b"?>", position)
            if end < 0:
                if final or len(buffer) > _MAX_TAG_BYTES:
                    raise self.malformed()
                return None
            position = end + 2
        return position

    def feed(self, chunk: bytes, final: bool = False) -> None:
        buffer = self.carry + chunk if self.carry else chunk
        position = 0
        if not self.started:
            begun = self.start(buffer, final)
            if begun is None:
                self.carry = buffer
                return
            position, self.started = begun, True
        find, match, tag, tags = buffer.find, _TAG.match, self.tag, self.has_tags
        depth = self.depth
        while True:
            opening = find(b"<", position)
            if opening < 0:
                self.carry = b""
                break
            found = match(buffer, opening)
            if found is None:
                follower = buffer[opening + 1 : opening + 2]
                if follower in (b"!", b"?"):
                    raise self.refuse_declaration()
                if final or len(buffer) - opening > _MAX_TAG_BYTES:
                    raise self.malformed()
                self.carry = buffer[opening:]  # a tag cut by the chunk's end: read it with the next chunk
                break
            closing, name, attributes = found.groups()
            position = found.end()
            if closing:
                depth -= 1
                if depth < 0:
                    raise self.malformed()
            elif not attributes.endswith(b"/"):
                depth += 1
                if depth > MAX_XML_DEPTH:
                    raise self.too_deep()
            if tags:
                tag(bool(closing), name, attributes)
        self.depth = depth
        if final:
            self.finish()

    has_tags = False  # subclasses that read tags set this and override `tag`

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        """One tag (`attributes` ends with "/" when the element is empty)."""

    def finish(self) -> None:
        if self.carry.strip():
            raise self.malformed()


class _SheetWalker(_XmlWalker):
    """A worksheet part: `<dimension ref>` and the last row and column that carry a cell with content."""

    def __init__(self, file: str | None, part: str, sheet: str, limits: Limits) -> None:
        super().__init__(file, part)
        self.sheet = sheet
        self.limits = limits
        self.row = 0  # calamine's position for cells without `r` (0-based)
        self.column = 0
        self.last_row = -1
        self.last_column = -1

    def parse_ref(self, value: bytes, *, need_column: bool) -> tuple[int, int]:
        found = _REF.fullmatch(value.strip())
        if found is None or int(found.group(2)) < 1 or (need_column and not found.group(1)):
            raise self.malformed()
        return int(found.group(2)) - 1, _column_number(found.group(1)) - 1

    def reach(self, row: int, column: int, *, declared: bool = False) -> None:
        """A cell with content at (row, column), 0-based: within the limits, and so the rectangle to it."""
        _check_extent(self.file, self.limits, self.sheet, row, column, declared=declared)
        if row > self.last_row or column > self.last_column:
            self.last_row, self.last_column = max(row, self.last_row), max(column, self.last_column)
            _check_area(self.file, self.limits, self.sheet, self.last_row, self.last_column)

    has_tags = True

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        local = name.rpartition(b":")[2]
        if local == b"c":
            if closing:
                return
            refs = _all_values(attributes, b"r")
            if refs:  # duplicates: the largest, whichever calamine keeps
                cells = [self.parse_ref(ref, need_column=True) for ref in refs]
                row, column = max(r for r, _c in cells), max(c for _r, c in cells)
                self.column = column
            else:
                row, column = self.row, self.column
            if not attributes.endswith(b"/"):  # `<c …/>` carries nothing: calamine keeps no cell for it
                self.reach(row, column)
            self.column += 1
        elif local == b"row":
            if closing:
                self.row += 1
                self.column = 0
                return
            refs = _all_values(attributes, b"r")
            if refs:
                self.row = max(self.parse_ref(ref, need_column=False)[0] for ref in refs)
            if attributes.endswith(b"/"):
                self.row += 1
                self.column = 0
        elif local == b"dimension" and not closing:
            value = _attributes(attributes).get(b"ref")
            if value:
                corner = value.split(b":")[-1]
                row, column = self.parse_ref(corner, need_column=False)
                _check_extent(self.file, self.limits, self.sheet, row, max(column, 0), declared=True)
                _check_area(self.file, self.limits, self.sheet, row, max(column, 0))


def _fast_sheet_check(xml: bytes, limits: Limits) -> bool:
    """True when a small sheet is plainly fine: every `<c>` starts with a small `r` and has no other, nothing
    else odd. False only means "not sure": the tag-by-tag walk then decides exactly.

    The tests, each a C-speed pass (the regular expression stops only at `<c`, ≈ 700 times in a filled table):

    - every `<c` followed by whitespace, `/` or `>` (every unprefixed cell tag, wherever it is) is
      `<c r="REF"` with REF within the rows and columns, then only attributes written ` name="value"` with
      a lower-case name without `r` (Excel writes `s`, `t`, `cm`, `vm`, `ph`) and a value without
      `"`, `<` or `>`, then `>` or `/>`: so the tag ends where any XML reader ends it, holds no second `r`
      (calamine keeps the last, or refuses a duplicate, depending on its version), and the cell is at REF.
      Cells are counted whether or not they carry something (over-counting only sends a sheet to the
      walk). As every cell has `r`, rows (`<row r>`) place nothing and need no test.
    - no prefixed cell tag (`<x:c`), found as `:c` then whitespace, `/` or `>`;
    - no `<!` (DTD, entity, comment, CDATA) and no `<?` after the XML declaration; no NUL byte (UTF-16);
    - `dimension` appears at most once, as `<dimension ref="…"/>` (checked by `_check_sheet`);
    - the limits' rows × columns are within their cells, so a sheet within the rows and columns is within
      the cells too (otherwise the real extent must be found: not here).
    """
    if limits.max_rows * limits.max_columns > limits.max_cells:
        return False
    start = _markup_start(xml)
    if start < 0 or b"\x00" in xml:
        return False
    if not (_lacks(xml, b"<!", start) and _lacks(xml, b"<?", start)):
        return False
    if _cell_pattern(limits).search(xml, start) is not None:
        return False
    if _PREFIXED_CELL.search(xml, start) is not None:  # (`bytes.find(b":c")` is slower: `c` is everywhere)
        return False
    first = xml.find(b"dimension", start)
    if first < 0:
        return True
    found = _DIMENSION_TAG.match(xml, first - 1)
    return found is not None and xml.find(b"dimension", found.end()) < 0


def _markup_start(xml: bytes) -> int:
    """Where the markup starts after `<?xml …?>` (0 without one); −1 when the declaration never ends."""
    if not xml.startswith(b"<?xml"):
        return 0
    end = xml.find(b"?>")
    return end + 2 if end >= 0 else -1


#: `<dimension ref="…"/>` as Excel, WPS and LibreOffice write it: nothing else in the tag.
_DIMENSION_TAG = re.compile(rb'<dimension ref="[^"<>]*"\s*/?>')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_CELL_PATTERNS: dict[tuple[int, int], re.Pattern[bytes]] = {}


def _cell_pattern(limits: Limits) -> re.Pattern[bytes]:
    """Finds a cell tag that is not `<c r="REF" name="value"…>` with REF within the limits (see above)."""
    key = (limits.max_rows, limits.max_columns)
    cached = _CELL_PATTERNS.get(key)
    if cached is None:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        column = _at_most(_column_letters(limits.max_columns), letters, "A")
        row = _at_most(str(limits.max_rows), "0123456789", "1")
        plain = rf"""r="{column}{row}"(?: [a-qs-z]++="[^"<>]*+["])*+/?>"""
        cached = _CELL_PATTERNS[key] = re.compile(rf"<c(?:[\t\n\r\f\v/>]| (?!{plain}))".encode())
    return cached


_FAST: dict[Limits, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}


def _at_most(bound: str, alphabet: str, first: str) -> str:
    """A regular expression for the strings of `alphabet` that count at most `bound` (no leading zero)."""
    rest = f"[{alphabet[0]}-{alphabet[-1]}]"
    shorter = f"[{first}-{alphabet[-1]}]{rest}{{0,{len(bound) - 2}}}" if len(bound) > 1 else None
    same: list[str] = []
    for position, character in enumerate(bound):
        low = first if position == 0 else alphabet[0]
        if character > low:
            upper = alphabet[alphabet.index(character) - 1]
            tail = f"{rest}{{{len(bound) - position - 1}}}" if position < len(bound) - 1 else ""
            same.append(f"{bound[:position]}[{low}-{upper}]{tail}")
    same.append(bound)
    return "(?:" + "|".join(([shorter] if shorter else []) + same) + ")"


def _fast_patterns(limits: Limits) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    cached = _FAST.get(limits)
    if cached is None:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        column = _at_most(_column_letters(limits.max_columns), letters, "A")
        row = _at_most(str(limits.max_rows), "0123456789", "1")
        plain = r"""(?:\s+(?!r\s*=)[\w:.-]+="[^"<>]*")*\s*/?>"""  # more attributes, none another r
        odd = (
            rf"""<(?:[!?]|c(?=[\s/>])(?!\s+r="{column}{row}"{plain})|row(?=[\s/>])(?!\s+r="{row}"{plain}))"""
        )
        cached = _FAST[limits] = (re.compile(odd.encode()), re.compile(rb":(?:c|row)[\s/>]"))
    return cached


def _check_sheet(xml: bytes, file: str | None, part: str, sheet: str, limits: Limits) -> None:
    """A worksheet held whole (the form reader): quick tests, then the walk when they are not conclusive."""
    if len(xml) <= _FAST_PART_BYTES and _fast_sheet_check(xml, limits):
        found = _DIMENSION_TAG.search(xml)  # the only one, if any (see `_fast_sheet_check`)
        if found:
            walker = _SheetWalker(file, part, sheet, limits)
            walker.tag(False, b"dimension", found.group(0))
        return
    if len(xml) > _FAST_PART_BYTES and _quick(iter((xml,)), limits):
        return
    walker = _SheetWalker(file, part, sheet, limits)
    walker.feed(xml, final=True)


_CELL_COLUMNS = re.compile(rb'<c r="([A-Z]+)')
_CELL_ROWS = re.compile(rb'<c r="[A-Z]+([0-9]+)')
_MARKS = bytes.maketrans(b"\x01", b"\x02")
_NOT_MARKS = bytes(byte for byte in range(256) if byte not in b"<\x01\x02")


def _quick(chunks: Iterator[bytes], limits: Limits | None) -> bool:
    """True when a large part passes quick tests made at C speed, chunk by chunk; False: walk it tag by tag.

    The tests: no declaration; for a sheet, every `<c>` and `<row>` starts with a plain, small `r` (as in
    `_fast_sheet_check`), the rectangle to the last cell is within the cells, and the declared dimension is
    within the limits; and the nesting depth, found by deleting innermost element pairs (`<`…`</…>` or
    `<…/>`) over and over: a round per level, so at most 64 rounds, and what is left open is carried on to
    the next chunk. Anything unusual only sends the part to the walk, which decides exactly.
    """
    odd, prefixed = _fast_patterns(limits) if limits else (_DECLARATION, None)
    carry = opens = b""
    first = True
    last_row = last_column = 0
    for chunk in _then_none(chunks):
        if chunk is None:
            body, carry = carry, b""
        else:
            buffer = carry + chunk if carry else chunk
            cut = buffer.rfind(b"<")
            body, carry = (buffer[:cut], buffer[cut:]) if cut >= 0 else (buffer, b"")
            if len(carry) > _MAX_TAG_BYTES:
                return False
        if b"\x01" in body or b"\x02" in body:
            return False
        start = 0
        if first and body:
            first = False
            if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:
                return False
            start = 3 if body.startswith(b"\xef\xbb\xbf") else 0
            if body.startswith(b"<?", start):
                start = body.find(b"?>", start) + 2
                if start < 2:
                    return False
            if limits is not None and (found := _DIMENSION.search(body, start, start + 4096)):
                corner = found.group(0).rsplit(b":", 1)[-1].strip(b'"').split(b'"')[-1]
                ref = _REF.fullmatch(corner)
                if ref is None or int(ref.group(2)) > limits.max_rows:
                    return False
                if _column_number(ref.group(1)) > limits.max_columns:
                    return False
        if odd.search(body, start) or (prefixed is not None and prefixed.search(body)):
            return False
        if limits is not None:
            columns = set(_CELL_COLUMNS.findall(body, start))
            if columns:
                last_column = max(last_column, *(_column_number(letters) for letters in columns))
                last_row = max(last_row, *map(int, _CELL_ROWS.findall(body, start)))
                if last_row * last_column > limits.max_cells:
                    return False
        marks = body[start:].replace(b"</", b"\x02").replace(b"/>", b"\x01").translate(_MARKS, _NOT_MARKS)
        left = opens + marks
        for _round in range(64):
            reduced = left.replace(b"<\x02", b"")
            if len(reduced) == len(left):
                break
            left = reduced
        else:
            return False
        if b"\x02" in left or len(left) > MAX_XML_DEPTH:
            return False
        opens = left
    return not opens


def _then_none(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


def _walk_quickly(
    chunks: Callable[[], Iterator[bytes]], walker: Callable[[], _XmlWalker], limits: Limits | None
) -> None:
    """The quick tests over a part streamed; when they are not conclusive, the walk over it streamed again."""
    if not _quick(chunks(), limits):
        _walk(chunks(), walker())


_DIMENSION = re.compile(rb"""<dimension\s+ref="[^"]*\"""")


def _check_xml(xml: bytes, file: str | None, part: str) -> None:
    """Any other part held whole: no declarations; depth only when the part is long enough to go deep."""
    start = 0
    if xml.startswith(b"<?xml"):
        start = xml.find(b"?>") + 2
    if len(xml) <= _FAST_PART_BYTES and start >= 2 and _lacks(xml, b"<!", 0) and _lacks(xml, b"<?", start):
        return
    if len(xml) > _FAST_PART_BYTES and _quick(iter((xml,)), None):
        return
    _XmlWalker(file, part).feed(xml, final=True)


def _lacks(xml: bytes, mark: bytes, start: int) -> bool:
    """`mark` (`<!` or `<?`) is not in `xml` from `start`: its second byte, rare, is looked for first (memchr;
    `bytes.find` of the pair stops at every `<`, ten times slower)."""
    return xml.find(mark[1:], start) < 0 or xml.find(mark, start) < 0


def _walk(chunks: Iterator[bytes], walker: _XmlWalker) -> None:
    for chunk in chunks:
        walker.feed(chunk)
    walker.feed(b"", final=True)


# --- .xlsx ------------------------------------------------------------------------------------------------

_RELATIONSHIP = re.compile(rb"<(?:[^\s/>:]+:)?Relationship\s((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>")
_SHEET = re.compile(rb"<(?:[^\s/>:]+:)?sheet\s((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>")


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class _Package:
    """The parts of one zip that calamine will read, found the way calamine finds them."""

    def __init__(self, source: _Source, file: str | None, limits: Limits, *, keep: bool) -> None:
        self.source = source
        self.file = file
        self.limits = limits
        self.keep = keep  # hold every part read (to hand calamine a new zip), or only those parsed here
        self.members = _zip_members(source, file, limits)
        self.budget = [limits.max_bytes]
        self.read: dict[str, tuple[_Member, bytes]] = {}  # parts held whole, by their name in the zip

    def member(self, path: str) -> _Member | None:
        return self.members.get(_ascii_lower(path))

    def whole(self, member: _Member) -> bytes:
        if member.name in self.read:
            return self.read[member.name][1]
        data = _whole(self.source, member, self.file, self.budget)
        self.read[member.name] = (member, data)
        return data

    def xml(self, path: str, *, required: bool, parsed: bool = True) -> bytes | None:
        """A part calamine opens, checked; its content when `parsed` (or kept), else it is only streamed."""
        member = self.member(path)
        if member is None:
            if required:
                raise _damaged(self.file)
            return None
        if not (parsed or self.keep) and member.size > _FAST_PART_BYTES:
            _walk_quickly(
                functools.partial(_inflate, self.source, member, self.file, None),
                functools.partial(_XmlWalker, self.file, member.name),
                None,
            )
            self.budget[0] -= member.size
            return None
        xml = self.whole(member)
        _check_xml(xml, self.file, member.name)
        return xml

    def xlsx_sheets(self) -> list[tuple[str, _Member]]:
        """(sheet name, part) for every sheet the workbook lists, after checking the parts calamine opens."""
        package_rels = self.xml("_rels/.rels", required=True)
        assert package_rels is not None
        base = None
        for found in _RELATIONSHIP.finditer(package_rels):
            attributes = _attributes(found.group(1))
            if attributes.get(b"Type", b"").endswith(b"/relationships/officeDocument"):
                base = html.unescape(_text(attributes.get(b"Target", b"")))
        if base is None:
            raise _damaged(self.file)
        base = base[: base.rfind("/") + 1].removeprefix("/") if "/" in base else ""
        rels = self.xml(f"{base}_rels/workbook.xml.rels", required=True)
        assert rels is not None
        targets: dict[bytes, str] = {}
        for found in _RELATIONSHIP.finditer(rels):
            attributes = _attributes(found.group(1))
            if b"Id" in attributes:
                targets[attributes[b"Id"]] = _text(attributes.get(b"Target", b""))
        self.xml(f"{base}sharedStrings.xml", required=False, parsed=False)
        self.xml(f"{base}styles.xml", required=False, parsed=False)
        workbook = self.xml(f"{base}workbook.xml", required=False) or b""
        sheets: list[tuple[str, _Member]] = []
        for found in _SHEET.finditer(workbook):
            attributes = _attributes(found.group(1))
            name = html.unescape(_text(attributes.get(b"name", b"")))
            target = targets.get(attributes.get(b"id", b""))
            if target is None:
                continue  # calamine refuses the workbook
            if "\\" in target:  # calamine and the zip library might resolve it differently
                raise _damaged(self.file)
            member = self.member(target[1:] if target.startswith("/") else f"{base}{target}")
            if member is not None:
                sheets.append((name, member))
        return sheets

    def ods_parts(self) -> tuple[_Member, _Member | None, _Member]:
        mimetype, content = self.member("mimetype"), self.member("content.xml")
        if mimetype is None or content is None:
            raise _damaged(self.file)
        manifest = self.member("META-INF/manifest.xml")
        if manifest is not None:
            self.xml(manifest.name, required=True, parsed=False)
        if mimetype.size > 1024:
            raise _damaged(self.file)
        self.whole(mimetype)
        return mimetype, manifest, content


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_OUT = struct.Struct("<IHHHHHHIIIHHHHHII")


def _stored_zip(parts: Mapping[str, tuple[_Member, bytes]]) -> bytes:
    """A zip of these parts, stored (not deflated), each with the CRC its writer gave it."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, (member, data) in parts.items():
        encoded = name.encode("utf-8")
        size = len(data)
        out += (
            _LOCAL.pack(0x04034B50, 20, 0x800, 0, 0, 0x21, member.crc, size, size, len(encoded), 0),
            encoded,
            data,
        )
        central += (
            _CENTRAL_OUT.pack(
                0x02014B50,
                20,
                20,
                0x800,
                0,
                0,
                0x21,
                member.crc,
                size,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            ),
            encoded,
        )
        offset += _LOCAL.size + len(encoded) + size
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), offset, 0)
    return b"".join(out) + directory + end


# --- .ods -------------------------------------------------------------------------------------------------


class _OdsWalker(_XmlWalker):
    """content.xml: per table, the last row and column that carry something, repeats counted."""

    def __init__(self, file: str | None, part: str, limits: Limits) -> None:
        super().__init__(file, part)
        self.limits = limits
        self.sheet = ""
        self.row = 0
        self.row_repeat = 1
        self.column = 0
        self.row_last_column = -1
        self.last_row = -1
        self.last_column = -1

    def repeat(self, attributes: bytes, name: bytes) -> int:
        value = _attributes(attributes).get(name)
        if value is None:
            return 1
        if not value.strip().isdigit():
            raise self.malformed()
        return max(int(value), 1)

    has_tags = True

    def tag(self, closing: bool, name: bytes, attributes: bytes) -> None:
        local = name.rpartition(b":")[2]
        empty = attributes.endswith(b"/")
        if local in (b"table-cell", b"covered-table-cell"):
            if closing:
                return
            repeat = self.repeat(attributes, b"number-columns-repeated")
            if not empty or b"value-type" in attributes or b"formula" in attributes:
                self.row_last_column = self.column + repeat - 1
                _check_extent(self.file, self.limits, self.sheet, self.row, self.row_last_column)
            self.column += repeat
        elif local == b"table-row":
            if not closing:
                self.row_repeat = self.repeat(attributes, b"number-rows-repeated")
                self.column = 0
                self.row_last_column = -1
            if closing or empty:
                self.end_row()
        elif local == b"table" and not closing:
            self.sheet = html.unescape(_text(_attributes(attributes).get(b"name", b"")))
            self.row = 0
            self.last_row = self.last_column = -1

    def end_row(self) -> None:
        if self.row_last_column >= 0:
            self.last_row = self.row + self.row_repeat - 1
            self.last_column = max(self.last_column, self.row_last_column)
            _check_extent(self.file, self.limits, self.sheet, self.last_row, self.row_last_column)
            _check_area(self.file, self.limits, self.sheet, self.last_row, self.last_column)
        self.row += self.row_repeat
        self.row_repeat = 1
        self.row_last_column = -1


# --- .xls (BIFF8 in an OLE compound file) ----------------------------------------------------------------


def _cfb_workbook_stream(source: _Source, file: str | None, limits: Limits) -> bytes:
    """The Workbook stream of an OLE compound file, read by following its FAT (or mini FAT) chain."""
    header = source.read(0, 512)
    if len(header) < 512 or not header.startswith(OLE_MAGIC):
        raise _not_xls(file)
    shift, mini_shift = struct.unpack_from("<HH", header, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise _not_xls(file)
    sector_size = 1 << shift
    sectors = max((source.size - 512) // sector_size + 1, 1)
    fat_count, first_directory = struct.unpack_from("<II", header, 0x2C)
    cutoff, first_mini_fat, _mini_fat_count, first_difat, _difat_count = struct.unpack_from(
        "<IIIII", header, 0x38
    )
    if fat_count > sectors:
        raise _not_xls(file)
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
    next_difat, seen = first_difat, 0
    while next_difat < 0xFFFFFFFA and len(fat_sectors) < fat_count:
        seen += 1
        if seen > sectors or next_difat >= sectors:
            raise _not_xls(file)
        values = struct.unpack(
            f"<{sector_size // 4}I", source.read(512 + next_difat * sector_size, sector_size)
        )
        fat_sectors.extend(s for s in values[:-1] if s < 0xFFFFFFFA)
        next_difat = values[-1]
    fat: list[int] = []
    for sector in fat_sectors[:fat_count]:
        if sector >= sectors:
            raise _not_xls(file)
        block = source.read(512 + sector * sector_size, sector_size)
        if len(block) < sector_size:
            raise _not_xls(file)
        fat.extend(struct.unpack(f"<{sector_size // 4}I", block))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        found: list[int] = []
        current = start
        while current < 0xFFFFFFFA:
            if current >= len(table) or len(found) > limit:
                raise _not_xls(file)
            found.append(current)
            current = table[current]
        return found

    def read_chain(start: int, size: int) -> bytes:
        sector_list = chain(start, fat, sectors)
        if len(sector_list) * sector_size < size:
            raise _not_xls(file)
        return b"".join(source.read(512 + s * sector_size, sector_size) for s in sector_list)[:size]

    directory = read_chain(
        first_directory, min(len(chain(first_directory, fat, sectors)) * sector_size, 1 << 24)
    )
    entries: list[tuple[str, int, int, int]] = []
    for at in range(0, len(directory) - 127, 128):
        name_length = struct.unpack_from("<H", directory, at + 0x40)[0]
        name = directory[at : at + max(min(name_length, 64) - 2, 0)].decode("utf-16-le", "replace")
        kind = directory[at + 0x42]
        start, size = struct.unpack_from("<IQ", directory, at + 0x74)
        if shift == 9:
            size &= 0xFFFFFFFF
        entries.append((name, kind, start, size))
    if not entries:
        raise _not_xls(file)
    candidates = [e for e in entries if e[1] == 2 and e[0].lower() in ("workbook", "book")]
    if len(candidates) != 1:
        raise _not_xls(file)
    _name, _kind, start, size = candidates[0]
    if size > limits.max_bytes:
        raise _too_large(file, limits, "Workbook")
    if size > source.size * 64:
        raise _not_xls(file)
    if size >= cutoff:
        return read_chain(start, size)
    root_start, root_size = entries[0][2], entries[0][3]
    if root_size > source.size:
        raise _not_xls(file)
    mini_stream = read_chain(root_start, root_size)
    mini_fat_bytes = read_chain(first_mini_fat, len(chain(first_mini_fat, fat, sectors)) * sector_size)
    mini_fat = list(
        struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes[: len(mini_fat_bytes) // 4 * 4])
    )
    pieces = [mini_stream[s * 64 : s * 64 + 64] for s in chain(start, mini_fat, len(mini_fat))]
    data = b"".join(pieces)
    if len(data) < size:
        raise _not_xls(file)
    return data[:size]


#: BIFF records that calamine turns into a cell: (row, column) are their first four bytes.
_CELL_RECORDS = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})


def _check_biff(stream: bytes, file: str | None, limits: Limits) -> None:
    """Every sheet's DIMENSIONS and the furthest cell record, as calamine would read them."""
    sheets: list[tuple[int, str]] = []
    position, size = 0, len(stream)
    unpack = struct.unpack_from
    while position + 4 <= size:
        kind, length = unpack("<HH", stream, position)
        data = stream[position + 4 : position + 4 + length]
        position += 4 + length
        if kind == 0x0085 and len(data) >= 8:  # BoundSheet8: where the sheet's records start, and its name
            count, flags = data[6], data[7]
            raw = data[8 : 8 + (count * 2 if flags & 1 else count)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
            sheets.append((unpack("<I", data, 0)[0], name))
        elif kind == 0x000A:
            break
    for start, name in sheets:
        position, nested, seen_bof = start, 0, False
        last_row = last_column = -1
        while position + 4 <= size:
            kind, length = unpack("<HH", stream, position)
            at = position + 4
            position = at + length
            if nested:
                nested += 1 if kind == 0x0809 else -1 if kind == 0x000A else 0
                continue
            if kind == 0x0809:
                if seen_bof:
                    nested = 1
                seen_bof = True
            elif kind == 0x000A:
                break
            elif kind in _CELL_RECORDS and length >= 4:
                row, column = unpack("<HH", stream, at)
                if row > last_row or column > last_column:
                    _check_extent(file, limits, name, row, column)
                    last_row, last_column = max(row, last_row), max(column, last_column)
                    _check_area(file, limits, name, last_row, last_column)
            elif kind == 0x00BD and length >= 6:  # MulRk: one row, several columns
                row, first = unpack("<HH", stream, at)
                final = max(first + (length - 6) // 6 - 1, unpack("<H", stream, at + length - 2)[0])
                _check_extent(file, limits, name, row, final)
                last_row, last_column = max(row, last_row), max(final, last_column)
                _check_area(file, limits, name, last_row, last_column)
            elif kind == 0x0200 and length in (10, 14):  # Dimensions: calamine reserves rows × columns
                if length == 14:
                    first_row, end_row, _first_column, end_column = unpack("<IIHH", stream, at)
                else:
                    first_row, end_row, _first_column, end_column = unpack("<HHHH", stream, at)
                _check_extent(file, limits, name, end_row - 1, end_column - 1, declared=True)
                if max(end_row - first_row, 1) * max(end_column, 1) > limits.max_cells:
                    raise _too_many_cells(file, limits, name, end_row, end_column)


def _check_extent(
    file: str | None, limits: Limits, sheet: str, row: int, column: int, *, declared: bool = False
) -> None:
    """A cell (0-based) that carries something, or the declared corner, within the rows and columns."""
    if row >= limits.max_rows or column >= limits.max_columns:
        raise _beyond(file, limits, sheet, row + 1, column + 1, declared=declared)


def _check_area(file: str | None, limits: Limits, sheet: str, last_row: int, last_column: int) -> None:
    """The rectangle calamine allocates, from A1 to the last row and column, within the cells."""
    if (last_row + 1) * (last_column + 1) > limits.max_cells:
        raise _too_many_cells(file, limits, sheet, last_row + 1, last_column + 1)


# --- the two entry points ---------------------------------------------------------------------------------


def guard_workbook(data: bytes, *, file: str | None, limits: Limits = FORM_LIMITS) -> Measured:
    """Measure an upload held in memory; what calamine should read instead, and each sheet's XML."""
    if not ENABLED:
        return Measured(data)
    source = _BytesSource(data)
    try:
        if data.startswith(OLE_MAGIC):
            _check_biff(_cfb_workbook_stream(source, file, limits), file, limits)
            return Measured(data)
        package = _Package(source, file, limits, keep=True)
        if package.member("_rels/.rels") is None and package.member("mimetype") is not None:
            _mimetype, _manifest, content = package.ods_parts()
            _OdsWalker(file, content.name, limits).feed(package.whole(content), final=True)
            return Measured(_stored_zip(package.read))
        sheet_xml: dict[str, bytes] = {}
        for name, member in package.xlsx_sheets():
            xml = package.whole(member)
            _check_sheet(xml, file, member.name, name, limits)
            sheet_xml[name] = xml
        return Measured(_stored_zip(package.read), sheet_xml)
    except (struct.error, IndexError, ValueError, OverflowError):  # damage the checks above did not foresee
        raise _not_xls(file) if data.startswith(OLE_MAGIC) else _damaged(file) from None


def guard_file(path: str | Path, *, file: str | None, limits: Limits = LIST_LIMITS) -> None:
    """Measure a spreadsheet on disk (the list reader), streaming: nothing is held whole but small parts."""
    if not ENABLED:
        return
    path = Path(path)
    with path.open("rb") as handle:
        source = _FileSource(handle, path.stat().st_size)
        start = source.read(0, 8)
        try:
            if start.startswith(OLE_MAGIC):
                _check_biff(_cfb_workbook_stream(source, file, limits), file, limits)
                return
            package = _Package(source, file, limits, keep=False)
            if path.suffix.lower() == ".ods":
                _mimetype, _manifest, content = package.ods_parts()
                _walk(_inflate(source, content, file, package.budget), _OdsWalker(file, content.name, limits))
                return
            for name, member in package.xlsx_sheets():
                _walk_quickly(
                    functools.partial(_inflate, source, member, file, None),
                    functools.partial(_SheetWalker, file, member.name, name, limits),
                    limits,
                )
                package.budget[0] -= member.size
                if package.budget[0] < 0:
                    raise _too_large(file, limits, member.name)
        except (struct.error, IndexError, ValueError, OverflowError):
            raise _not_xls(file) if start.startswith(OLE_MAGIC) else _damaged(file) from None
