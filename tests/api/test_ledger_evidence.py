"""A help record's evidence (凭证: signed roster, photo) through the ledger API: uploaded to a draft as the
record form's file is (the same check, the same rules: a refused file changes nothing), downloaded back as
the record page's link gives it (an attachment, never shown in place, not cached), to whoever sees the
record; an approved record takes no file (409), a record not seen is a 404, anonymous a 401. (Who may do
what, role by role, is in test_ledger_permissions.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.ledger.models import HelpRecord, LedgerEvent
from songnuan.ledger.services import help_record_approve

from ..world import World
from .helpers import data_of, schema_problems
from .ledger_api import PDF, LedgerApi, build_ledger_api, record_url

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
UPLOAD = "/api/ledger/records/{record_id}/evidence"


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(world: World) -> LedgerApi:
    return build_ledger_api(world)


@pytest.fixture
def spec(api: LedgerApi) -> dict[str, Any]:
    data: dict[str, Any] = data_of(Client().get("/api/openapi.json"))
    return data


def upload(client: Client, record: HelpRecord, name: str, content: bytes, **extra: Any) -> Any:
    return client.post(
        record_url(record, "evidence"), {"evidence": SimpleUploadedFile(name, content)}, **extra
    )


def fits(spec: dict[str, Any], method: str, response: Any) -> list[str]:
    answer = spec["paths"][UPLOAD][method]["responses"][str(response.status_code)]
    return schema_problems(spec, answer["content"]["application/json"]["schema"], data_of(response))


def content_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_pdf_uploaded_comes_back_identical_as_an_attachment(api: LedgerApi, spec: dict[str, Any]) -> None:
    record = api.records["county"]  # a draft entered by county_reporter
    client = api.world.client("county_reporter")
    assert data_of(client.get(record_url(record)))["evidence"] is False
    missing = client.get(record_url(record, "evidence"))
    assert missing.status_code == 404 and data_of(missing) == {"message": "这条发放记录没有凭证文件"}

    response = upload(client, record, "签收表.pdf", PDF)

    assert response.status_code == 200, data_of(response)
    data = data_of(response)
    assert (data["id"], data["state"], data["evidence"], data["amount"]) == (
        record.pk,
        "draft",
        True,
        "500.00",
    )
    assert data["history"][-1]["action"] == LedgerEvent.Action.RECORD_EDITED
    assert fits(spec, "post", response) == []
    assert data_of(client.get(record_url(record)))["evidence"] is True

    for reader in ("county_reporter", "county_reviewer", "city_admin"):  # whoever sees the record
        download = api.world.client(reader).get(record_url(record, "evidence"))
        assert download.status_code == 200
        assert content_of(download) == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment;")
        assert quote(f"凭证_{record.pk}_{record.name}.pdf") in download["Content-Disposition"]
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert download["Cache-Control"] == "no-store"
        assert download["Content-Type"] in spec["paths"][UPLOAD]["get"]["responses"]["200"]["content"]

    # The page's link gives the very same file, the same way.
    page = client.get(f"/ledger/records/{record.pk}/evidence/")
    assert page.status_code == 200 and content_of(page) == PDF
    assert page["Content-Disposition"] == download["Content-Disposition"]

    replaced = upload(client, record, "照片.png", PNG)  # a second upload replaces the first
    assert replaced.status_code == 200 and data_of(replaced)["evidence"] is True
    again = client.get(record_url(record, "evidence"))
    assert again["Content-Type"] == "image/png" and content_of(again) == PNG


def _unchanged(record: HelpRecord) -> tuple[str, str, str, int]:
    fresh = HelpRecord.objects.get(pk=record.pk)
    edits = LedgerEvent.objects.filter(record=record, action=LedgerEvent.Action.RECORD_EDITED).count()
    return fresh.state, str(fresh.amount), fresh.evidence.name or "", edits


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("签收表.pdf", b"not a pdf at all", "凭证文件：通知文件“签收表.pdf”的内容不是 .pdf 文件"),
        ("签收表.exe", b"MZ\x90\x00", "凭证文件：通知文件“签收表.exe”的类型不能上传"),
        ("空.pdf", b"", "凭证文件：通知文件“空.pdf”是空文件"),
    ],
)
def test_a_refused_file_is_a_400_and_changes_nothing(
    api: LedgerApi, spec: dict[str, Any], name: str, content: bytes, message: str
) -> None:
    record = api.records["county"]
    before = _unchanged(record)
    response = upload(api.world.client("county_reporter"), record, name, content)
    assert response.status_code == 400
    assert data_of(response)["message"].startswith(message)
    assert fits(spec, "post", response) == []
    assert _unchanged(record) == before and before[2] == ""


def test_a_file_too_large_is_refused(api: LedgerApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("songnuan.campaigns.services.NOTICE_MAX_BYTES", len(PDF) - 1)
    record = api.records["county"]
    before = _unchanged(record)
    response = upload(api.world.client("county_reporter"), record, "签收表.pdf", PDF)
    assert response.status_code == 400 and "超过" in data_of(response)["message"]
    assert _unchanged(record) == before


def test_no_file_is_a_400_in_chinese(api: LedgerApi) -> None:
    client = api.world.client("county_reporter")
    response = client.post(record_url(api.records["county"], "evidence"), {"other": "x"})
    assert response.status_code == 400 and data_of(response) == {"message": "请求中应有字段 evidence"}


def test_an_approved_record_takes_no_file(api: LedgerApi, spec: dict[str, Any]) -> None:
    record = help_record_approve(user=api.world.users["county_reviewer"], record=api.records["county"])
    before = _unchanged(record)
    for content in (PDF, b"not a pdf at all"):  # the record's state is answered before the file is read
        response = upload(api.world.client("county_reporter"), record, "签收表.pdf", content)
        assert response.status_code == 409
        assert "已审核" in data_of(response)["message"]
        assert fits(spec, "post", response) == []
    assert _unchanged(record) == before


def test_a_reviewer_above_may_read_but_not_upload(api: LedgerApi) -> None:
    record = api.records["enterprise"]  # below the county
    before = _unchanged(record)
    response = upload(api.world.client("county_reviewer"), record, "签收表.png", b"not a png")
    assert response.status_code == 403 and _unchanged(record) == before  # not a 400: the file is not read


def test_a_siblings_record_does_not_exist(api: LedgerApi) -> None:
    record = api.records["sibling"]
    record.evidence.save("roster.pdf", SimpleUploadedFile("roster.pdf", PDF), save=True)
    client = api.world.client("county_reviewer")
    for response in (client.get(record_url(record, "evidence")), upload(client, record, "签收表.pdf", PDF)):
        assert response.status_code == 404 and data_of(response) == {"message": "没有这条发放记录"}
    assert HelpRecord.objects.get(pk=record.pk).evidence.name == record.evidence.name


def test_anonymous_is_401(api: LedgerApi) -> None:
    record = api.records["county"]
    record.evidence.save("roster.pdf", SimpleUploadedFile("roster.pdf", PDF), save=True)
    for client in (Client(), Client(enforce_csrf_checks=True)):
        for response in (
            client.get(record_url(record, "evidence")),
            upload(client, record, "签收表.pdf", PDF),
        ):
            assert response.status_code == 401 and data_of(response) == {"message": "请先登录"}


def test_an_upload_needs_the_csrf_token(api: LedgerApi) -> None:
    record = api.records["county"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(api.world.users["county_reporter"])
    token = data_of(client.get("/api/me"))["csrf_token"]
    refused = upload(client, record, "签收表.pdf", PDF)
    assert refused.status_code == 403 and data_of(refused)["message"].startswith("CSRF 校验失败")
    assert not HelpRecord.objects.get(pk=record.pk).evidence
    done = upload(client, record, "签收表.pdf", PDF, HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 200 and data_of(done)["evidence"] is True
