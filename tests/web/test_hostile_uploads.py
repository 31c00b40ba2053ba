"""Hostile uploads through the web (issue 8): the anonymous check page, the table import on the entry page and
the archive import. Each gets a Chinese message naming the file (and the sheet), nothing is written, and the
server answers the next request. (Peak memory of the same reads is asserted in tests/formkit.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.archive.models import Household, ImportJob
from songnuan.reporting import catalogue
from songnuan.reporting.models import SubmissionEvent, SubmissionValue

from ..filemakers import (
    BILLION_LAUGHS,
    official_template,
    template_with_cell,
    template_with_lying_sheet,
    template_with_xml,
    xls_with_far_cell,
)
from ..world import World


def far_xls() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return xls_with_far_cell(Path(folder) / "far.xls").read_bytes()


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "东宝区.xlsx": (lambda: template_with_cell("XFD1048576"), "工作表“附件1”有内容的单元格到了第 1048576 行"),
    "钟祥市.xlsx": (lambda: template_with_cell("SS20000"), "工作表“附件1”有内容的单元格到了第 20000 行"),
    "炸弹.xlsx": (template_with_lying_sheet, "比它声明的大小更大"),
    "笑声.xlsx": (lambda: template_with_xml(prolog=BILLION_LAUGHS, cell_text=b"&lol9;"), "<!DOCTYPE"),
    "深.xlsx": (
        lambda: template_with_xml(
            before_sheet_data=b"<extLst>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</extLst>"
        ),
        "嵌套超过",
    ),
    "京山县.xls": (far_xls, "工作表“附件1”声明的使用范围到了第 65536 行"),
}


@pytest.fixture(scope="module")
def hostile() -> dict[str, tuple[bytes, str]]:
    return {name: (make(), fragment) for name, (make, fragment) in HOSTILE.items()}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_check_refuses_each_hostile_file_and_answers_the_next_request(
    client: Client, hostile: dict[str, tuple[bytes, str]], name: str
) -> None:
    data, fragment = hostile[name]
    response = client.post("/check/", {"tables": [SimpleUploadedFile(name, data)]})
    assert response.status_code == 200
    (table,) = response.context["checked"]
    assert table.report.status == "unreadable"
    assert f"“{name}”" in table.report.message and fragment in table.report.message
    assert fragment.replace("<", "&lt;") in response.content.decode()
    assert client.get("/check/").status_code == 200


def multipart(name: str, size: int) -> tuple[bytes, str]:
    boundary = "hostileboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="tables"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return (
        head + b"\0" * size + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def test_a_100_mb_upload_is_refused_by_its_size_before_it_is_read(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the upload was read")

    monkeypatch.setattr(catalogue, "uploads_check", never)
    body, content_type = multipart("大文件.xlsx", 100 * 1024 * 1024)
    response = client.generic("POST", "/check/", body, content_type=content_type)
    assert response.status_code == 413
    assert "一次上传的文件总共不能超过 20 MB" in response.content.decode()
    assert client.get("/check/").status_code == 200


def test_check_limits_each_file_and_the_number_of_files(client: Client) -> None:
    big = SimpleUploadedFile("大表.xlsx", b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024))
    response = client.post("/check/", {"tables": [big]})
    assert response.status_code == 413
    assert "“大表.xlsx”太大" in response.content.decode()
    blank = official_template()
    many = [SimpleUploadedFile(f"{n}.xlsx", blank) for n in range(21)]
    response = client.post("/check/", {"tables": many})
    assert response.status_code == 400
    assert "一次最多检查 20 个文件" in response.content.decode()


def test_check_limits_the_files_per_minute_of_one_address(client: Client) -> None:
    blank = official_template()
    for _round in range(2):
        files = [SimpleUploadedFile(f"{n}.xlsx", blank) for n in range(15)]
        response = client.post("/check/", {"tables": files})
        assert response.status_code == 200 and len(response.context["checked"]) == 15
    response = client.post("/check/", {"tables": [SimpleUploadedFile("one-more.xlsx", blank)]})
    assert response.status_code == 429
    assert "每分钟最多检查 30 个文件" in response.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert other.post("/check/", {"tables": [SimpleUploadedFile("a.xlsx", blank)]}).status_code == 200


def test_behind_a_proxy_the_check_counts_each_client_apart(settings: Any) -> None:
    # Every request arrives from the proxy's address; the client's is the entry the proxy appended.
    settings.BEHIND_PROXY = True
    blank = official_template()
    first = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    files = [SimpleUploadedFile(f"{n}.xlsx", blank) for n in range(20)]
    assert first.post("/check/", {"tables": files}).status_code == 200
    files = [SimpleUploadedFile(f"{n}.xlsx", blank) for n in range(11)]
    assert first.post("/check/", {"tables": files}).status_code == 429
    second = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert second.post("/check/", {"tables": [SimpleUploadedFile("a.xlsx", blank)]}).status_code == 200


@pytest.mark.django_db
def test_the_operator_can_require_login_for_the_check(client: Client, settings: Any) -> None:
    assert client.get("/check/").status_code == 200
    settings.SONGNUAN_CHECK_REQUIRES_LOGIN = True
    response = client.get("/check/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.post("/check/", {}).status_code == 302
    client.force_login(User.objects.create_user("reader", password="a-long-pass-phrase"))
    assert client.get("/check/").status_code == 200


def test_the_table_import_refuses_a_hostile_file_and_writes_nothing(
    world: World, hostile: dict[str, tuple[bytes, str]]
) -> None:
    client = world.client("enterprise_reporter")
    address = f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/warmth-2018/"
    for name in ("东宝区.xlsx", "炸弹.xlsx", "京山县.xls"):
        data, fragment = hostile[name]
        response = client.post(address + "import", {"table": SimpleUploadedFile(name, data)}, follow=True)
        page = response.content.decode()
        assert response.status_code == 200
        assert fragment in page and f"“{name}”" in page
    assert not SubmissionValue.objects.exists()
    assert not SubmissionEvent.objects.filter(kind=SubmissionEvent.Kind.IMPORT).exists()
    assert client.get(address).status_code == 200


def test_the_archive_import_refuses_a_hostile_file_and_keeps_nothing(
    world: World, hostile: dict[str, tuple[bytes, str]], settings: Any, tmp_path: Path
) -> None:
    settings.SONGNUAN_IMPORT_DIR = tmp_path
    client = world.client("county_reviewer")
    for name in ("东宝区.xlsx", "京山县.xls"):
        data, fragment = hostile[name]
        upload = SimpleUploadedFile(name, data)
        response = client.post("/archive/import/", {"file": upload, "unit": world.county.pk})
        assert response.status_code == 400
        page = response.content.decode()
        assert name in page and fragment.split("有内容")[0].split("声明")[0] in page
    assert not ImportJob.objects.exists() and not Household.objects.exists()
    assert list(tmp_path.iterdir()) == []
    assert client.get("/archive/import/").status_code == 200
