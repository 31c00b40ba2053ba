"""The written activity report: a Word document with macros, a web page dressed as a PDF and a .docx that
would inflate to gigabytes are refused with a Chinese message; a stored report is only ever downloaded."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse

from songnuan.orgs.models import Unit
from songnuan.reporting.models import ActivityReport
from songnuan.reporting.services import DocumentRefused, sniff_document

from ..world import World

CLEAN_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n"
)
MACRO = "含有宏（VBA 代码），为安全起见不能上传。请在 Word 或 WPS 中另存为不含宏的 .docx 或 PDF 后再上传"
DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>{extra}</Types>'
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


@pytest.fixture(autouse=True)
def fast_passwords_and_media(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def report_url(world: World, unit: Unit) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/report/"


def upload(world: World, name: str, data: bytes) -> list[str]:
    """Post `data` as the enterprise's report; the messages the page shows afterwards."""
    response = world.client("enterprise_reporter").post(
        report_url(world, world.enterprise),
        {"report": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def docx(*, main: str = DOCX_MAIN, extra_types: str = "", parts: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx: content types, the document, and any `parts` added (e.g. word/vbaProject.bin)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES.format(main=main, extra=extra_types))
        archive.writestr(
            "word/document.xml", "<w:document><w:body><w:p>送温暖活动报告</w:p></w:body></w:document>"
        )
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ole(*entries: tuple[str, int]) -> bytes:
    """A small but well-formed OLE compound file (as Word 97–2003 and WPS write .doc/.wps): the header, one
    FAT sector, one directory sector holding the root and `entries` (name, type: 1 storage, 2 stream)."""
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    assert len(header) == 512

    def entry(name: str, kind: int, child: int = no_stream, right: int = no_stream) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", no_stream, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", end, 0)
        )

    named = [("WordDocument", 2), *entries]
    directory = entry("Root Entry", 5, child=1)
    for position, (name, kind) in enumerate(named, start=1):
        directory += entry(name, kind, right=position + 1 if position < len(named) else no_stream)
    sectors = (len(directory) + 511) // 512
    directory = directory.ljust(512 * sectors, b"\0")
    chain = [*range(2, sectors + 1), end]  # the directory: sectors 1…n, one after the other
    fat = struct.pack("<I", fat_sector) + struct.pack(f"<{len(chain)}I", *chain)
    fat += struct.pack("<I", free) * (128 - 1 - len(chain))
    return header + fat + directory


# --- what is refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        docx(parts={"word/vbaProject.bin": b"\xcc\x61 VBA project"}),  # a .docm renamed to .docx
        docx(main=DOCM_MAIN),  # the content type says macro-enabled, even without the part
        docx(parts={"word/vbaData.xml": b"<wne:vbaSuppData/>"}),
        docx(extra_types='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'),
    ],
    ids=["vbaProject.bin", "macroEnabled", "vbaData.xml", "vbaProject-content-type"],
)
def test_a_docx_with_macros_is_refused(world: World, data: bytes) -> None:
    assert f"“活动报告.docx”{MACRO}" in upload(world, "活动报告.docx", data)
    assert not ActivityReport.objects.exists()


def test_an_old_doc_or_wps_with_a_macro_storage_is_refused(world: World) -> None:
    with_macros = ole(("Macros", 1), ("VBA", 1), ("PROJECT", 2))
    assert f"“活动报告.doc”{MACRO}" in upload(world, "活动报告.doc", with_macros)
    assert f"“活动报告.wps”{MACRO}" in upload(world, "活动报告.wps", ole(("_VBA_PROJECT_CUR", 1)))
    assert not ActivityReport.objects.exists()


def test_a_macro_name_in_the_text_of_a_doc_is_not_a_macro() -> None:
    # "Macros" written in the document's text (not as a directory entry) does not make it a macro file.
    text = "Macros".encode("utf-16-le") + b"\0\0"
    data = ole(("1Table", 2))
    assert len(data) % 128 == 0  # the text lands where a directory entry could start
    assert sniff_document(data + text.ljust(512, b"\0"), "报告.doc") == "doc"


def test_clean_doc_wps_and_docx_are_accepted(world: World) -> None:
    assert "已上传活动报告“报告.doc”" in upload(
        world, "报告.doc", ole(("1Table", 2), ("SummaryInformation", 2))
    )
    assert "已上传活动报告“报告.wps”" in upload(world, "报告.wps", ole(("1Table", 2)))
    assert "已上传活动报告“报告.docx”" in upload(world, "报告.docx", docx())
    assert "已上传活动报告“报告.pdf”" in upload(world, "报告.pdf", CLEAN_PDF)
    kinds = sorted(ActivityReport.objects.values_list("file_type", flat=True))
    assert kinds == ["doc", "docx", "pdf", "wps"]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n",
            "“报告.pdf”不是真正的 PDF：文件开头是网页代码（HTML），请从 Word 或 WPS 重新导出为 PDF 后上传",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n<!DOCTYPE html><p>hi</p>" + CLEAN_PDF[9:],
            "“报告.pdf”不是真正的 PDF：文件开头是网页代码（HTML），请从 Word 或 WPS 重新导出为 PDF 后上传",
        ),
        (
            b"%PDF-1.4\n<SVG onload=alert(1)>" + CLEAN_PDF[9:],
            "“报告.pdf”不是真正的 PDF：文件开头是网页代码（HTML），请从 Word 或 WPS 重新导出为 PDF 后上传",
        ),
        (
            CLEAN_PDF[: len(CLEAN_PDF) // 2],  # cut off on the way: no %%EOF at the end
            "“报告.pdf”不是完整的 PDF：找不到文件结尾（%%EOF），文件可能已损坏或没有传完，请重新导出后上传",
        ),
        (
            CLEAN_PDF + b"x" * 4096,  # something else appended after the end
            "“报告.pdf”不是完整的 PDF：找不到文件结尾（%%EOF），文件可能已损坏或没有传完，请重新导出后上传",
        ),
        (
            b"%PDF-1.4\nHello, this is plain text and no PDF at all.\n%%EOF\n",
            "“报告.pdf”不是有效的 PDF：文件中没有 PDF 的对象和交叉引用表，"
            "请从 Word 或 WPS 重新导出为 PDF 后上传",
        ),
    ],
    ids=["html-polyglot", "doctype-after-binary-comment", "svg", "truncated", "trailing-junk", "no-objects"],
)
def test_a_file_that_only_starts_like_a_pdf_is_refused(world: World, data: bytes, message: str) -> None:
    assert message in upload(world, "报告.pdf", data)
    assert not ActivityReport.objects.exists()


def test_a_docx_that_would_inflate_beyond_100_mb_is_refused_without_inflating_it(world: World) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES.format(main=DOCX_MAIN, extra=""))
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.bmp", "w", force_zip64=True) as part:
            for _chunk in range(101):
                part.write(bytes(1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # 1 MB on the wire
    messages = upload(world, "报告.docx", data)
    assert "“报告.docx”解压后超过 100 MB（或部件过多），不像是一份活动报告，请检查文件后再上传" in messages
    assert not ActivityReport.objects.exists()


def test_a_docx_of_too_many_parts_is_refused_before_they_are_listed(world: World) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES.format(main=DOCX_MAIN, extra=""))
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(5_000):
            archive.writestr(f"word/media/{number}.png", b"")
    messages = upload(world, "报告.docx", buffer.getvalue())
    assert "“报告.docx”解压后超过 100 MB（或部件过多），不像是一份活动报告，请检查文件后再上传" in messages
    assert not ActivityReport.objects.exists()


def test_refusals_are_document_refused_errors() -> None:
    with pytest.raises(DocumentRefused):
        sniff_document(docx(parts={"word/vbaProject.bin": b""}), "a.docx")
    assert sniff_document(docx(), "a.docx") == "docx"


# --- what a download is ----------------------------------------------------------------------------------


def test_a_stored_report_is_downloaded_as_an_attachment_never_rendered(world: World) -> None:
    upload(world, "报告.html", CLEAN_PDF)  # a PDF named as a web page: kept, typed by its content
    report = ActivityReport.objects.get()
    assert report.file_type == "pdf"
    response = world.client("county_reviewer").get(f"{report_url(world, world.enterprise)}{report.pk}/")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content) == CLEAN_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    # Saved under the type its content has, so no program opens the file as a web page.
    assert "filename*=utf-8''%E6%8A%A5%E5%91%8A.html.pdf" in disposition


@pytest.mark.parametrize(
    "name, data, content_type, saved_as",
    [
        (
            "报告.docx",
            docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "报告.docx",
        ),
        ("报告.doc", ole(("1Table", 2)), "application/msword", "报告.doc"),
        ("报告.DOC", ole(("1Table", 2)), "application/msword", "报告.DOC"),
        ("报告.wps", ole(("1Table", 2)), "application/vnd.ms-works", "报告.wps"),
    ],
)
def test_each_type_is_served_with_its_own_content_type(
    world: World, name: str, data: bytes, content_type: str, saved_as: str
) -> None:
    upload(world, name, data)
    report = ActivityReport.objects.get()
    response = world.client("enterprise_reporter").get(f"{report_url(world, world.enterprise)}{report.pk}/")
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert isinstance(response, FileResponse) and response.filename == saved_as
