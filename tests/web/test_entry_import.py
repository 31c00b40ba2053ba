"""Excel import on the entry page: the upload is read once for the preview; the confirm saves what the preview
showed, carried in a signed token (no file bytes in the page), as a plain versioned save."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from time_machine import TimeMachineFixture

from songnuan.formkit.definitions import get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.excel_writer import write_form
from songnuan.orgs.models import Unit
from songnuan.reporting import services
from songnuan.reporting.forms_campaign import (
    IMPORT_PREVIEW_MAX_AGE,
    PayloadError,
    previewed_import,
    sign_import,
)
from songnuan.reporting.models import Submission, SubmissionEvent, SubmissionValue
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import FROZEN_NOW, World

FORM = "warmth-2018"
HIDDEN = re.compile(r'<input type="hidden" name="(version|token)" value="([^"]*)">')
STALE = "导入确认无效：这份预览不属于这张表，或已被改动；这张表没有任何改动，请重新上传统计表"


def url(world: World, unit: Unit, action: str = "", form_code: str = FORM) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{form_code}/{action}"


def xlsx(values: dict[str, Any], header: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    write_form(get_form(FORM), buffer, values=values, header=header)
    return buffer.getvalue()


def save(
    world: World, values: dict[str, str] | None = None, header: dict[str, str | None] | None = None
) -> Submission:
    """What the entry page's autosave does, through the service (this file is about the import)."""
    user = world.users["enterprise_reporter"]
    submission = services.submission_open(
        campaign=world.campaign, unit=world.enterprise, form_code=FORM, user=user
    )
    return services.submission_save(
        submission=submission, user=user, version=submission.version, values=values, header=header
    ).submission


def preview(client: Client, world: World, data: bytes, name: str = "a.xlsx") -> tuple[str, dict[str, str]]:
    """Upload a table: the preview page and the hidden fields of its confirm form."""
    response = client.post(url(world, world.enterprise, "import"), {"table": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    page = response.content.decode()
    return page, dict(HIDDEN.findall(page))


def confirm(client: Client, world: World, fields: dict[str, str], form_code: str = FORM) -> str:
    """Post the confirm form; the page it leads back to (with its messages)."""
    response = client.post(url(world, world.enterprise, "import", form_code), fields, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def no_file_reading() -> Any:
    """The confirm step must not read any file: the reader fails if it is asked to."""
    return mock.patch(
        "songnuan.reporting.services.check_bytes", side_effect=AssertionError("the confirm read a file")
    )


# --- preview and confirm ---------------------------------------------------------------------------------


def test_import_shows_a_preview_and_applies_only_after_confirming(world: World) -> None:
    client = world.client("enterprise_reporter")
    save(world, {"1A": "10", "2A": "1260"})
    values, header = filled_example(FORM)
    page, fields = preview(client, world, xlsx(values, header), "东宝水泥.xlsx")
    assert "导入预览" in page and "确认导入" in page and "东宝水泥.xlsx" in page
    changed = re.findall(r'<tr data-item="(\w+)">', page)
    assert "1A" in changed and "2A" not in changed  # 2A is already 1260
    assert re.search(r'data-item="1A">.*?<td class="old">10</td><td class="new">48</td>', page, re.S)
    assert re.search(r'data-item="1B">.*?<td class="old">（空）</td><td class="new">9</td>', page, re.S)
    assert stored_values(Submission.objects.get())["1A"] == 10  # nothing written yet
    assert set(fields) == {"version", "token"} and fields["version"] == "2"

    response = client.post(url(world, world.enterprise, "import"), fields)
    assert response.status_code == 302 and response["Location"] == url(world, world.enterprise)
    submission = Submission.objects.get()
    assert stored_values(submission) == values
    assert submission.reporter == "王丽" and submission.report_date == dt.date(2018, 2, 3)
    assert submission.version == 3
    imported = SubmissionEvent.objects.filter(kind="import")
    assert imported.get(subject="1A").old == "10" and imported.get(subject="1A").new == "48"
    assert not imported.filter(subject="2A").exists()  # unchanged: no event
    assert "已导入，" in client.get(url(world, world.enterprise)).content.decode()


def test_the_preview_page_carries_no_file_bytes(world: World) -> None:
    values, header = filled_example(FORM)
    data = xlsx(values, header)
    page, fields = preview(world.client("enterprise_reporter"), world, data)
    assert 'name="data"' not in page
    assert len(fields["token"]) < len(data) // 4  # the parsed values, compressed: far smaller than the file
    assert base64.b64encode(data)[:64].decode() not in page


def test_the_confirm_saves_exactly_the_previewed_values_without_reading_any_file(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    values = {**values, "4A": Decimal("66.95"), "1B": None}  # a money value with cents, a blank
    _page, fields = preview(client, world, xlsx(values, header))

    with no_file_reading() as reader:
        page = confirm(client, world, fields)
    assert not reader.called
    assert "已导入，" in page
    stored = stored_values(Submission.objects.get())
    assert stored == values
    assert all(type(stored[code]) is type(value) for code, value in values.items())


def test_confirming_twice_is_a_conflict_the_second_time(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    confirm(client, world, fields)
    events = SubmissionEvent.objects.count()

    page = confirm(client, world, fields)

    assert "保存被拒绝" in page
    assert SubmissionEvent.objects.count() == events and Submission.objects.get().version == 2


# --- a confirm that cannot be trusted writes nothing -----------------------------------------------------


def assert_nothing_written(version: int = 1) -> None:
    assert not SubmissionValue.objects.exists()
    assert not SubmissionEvent.objects.exists()
    assert all(submission.version == version for submission in Submission.objects.all())


def test_a_tampered_token_is_refused_with_a_message(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    token = fields["token"]
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    for bad in (tampered, token + "x", "", "not-a-token"):
        with no_file_reading():
            page = confirm(client, world, {**fields, "token": bad})
        assert STALE in page
    assert_nothing_written()


def test_values_signed_with_another_key_are_refused(world: World) -> None:
    client = world.client("enterprise_reporter")
    submission = services.submission_open(
        campaign=world.campaign,
        unit=world.enterprise,
        form_code=FORM,
        user=world.users["enterprise_reporter"],
    )
    with override_settings(SECRET_KEY="someone-else's-key-" * 3):
        forged = sign_import(submission.pk, submission.version, {"1A": 999}, {"reporter": "冒名"})
    page = confirm(client, world, forged)
    assert STALE in page
    assert_nothing_written()


def test_an_expired_preview_is_refused_with_a_message(world: World, time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(FROZEN_NOW, tick=False)
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))

    time_machine.move_to(FROZEN_NOW + dt.timedelta(seconds=IMPORT_PREVIEW_MAX_AGE + 1), tick=False)
    page = confirm(client, world, fields)

    assert "导入预览已超过 60 分钟，已失效；这张表没有任何改动，请重新上传统计表" in page
    assert_nothing_written()


def test_a_preview_confirmed_just_in_time_is_applied(world: World, time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(FROZEN_NOW, tick=False)
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))

    time_machine.move_to(FROZEN_NOW + dt.timedelta(seconds=IMPORT_PREVIEW_MAX_AGE - 1), tick=False)
    assert "已导入，" in confirm(client, world, fields)
    assert stored_values(Submission.objects.get()) == values


def test_the_token_of_another_table_is_refused(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    assert "service-centres-2017" in world.campaign.form_codes

    page = confirm(client, world, fields, form_code="service-centres-2017")  # same unit, the other table

    assert STALE in page
    assert_nothing_written()


def test_the_token_cannot_be_moved_to_a_later_version(world: World) -> None:
    """Claiming the current version to slip past the conflict breaks the signature: refused, not saved."""
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    save(world, {"1A": "5"})

    page = confirm(client, world, {**fields, "version": str(int(fields["version"]) + 1)})

    assert STALE in page
    assert stored_values(Submission.objects.get())["1A"] == 5
    assert not SubmissionEvent.objects.filter(kind="import").exists()


@pytest.mark.parametrize("version", ["", "x", "1.0", "9" * 5000])
def test_a_version_that_is_no_number_is_refused(world: World, version: str) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    assert STALE in confirm(client, world, {**fields, "version": version})
    assert_nothing_written()


def test_import_after_someone_saved_is_a_conflict(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    save(world, {"1A": "5"})

    with no_file_reading():
        page = confirm(client, world, fields)

    assert "保存被拒绝" in page and "第 2 版" in page
    assert stored_values(Submission.objects.get())["1A"] == 5
    assert not SubmissionEvent.objects.filter(kind="import").exists()


def test_a_table_submitted_since_the_preview_cannot_be_imported(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    Submission.objects.update(status=Submission.Status.SUBMITTED)

    page = confirm(client, world, fields)

    assert "不能导入" in page
    assert_nothing_written()


def test_a_file_whose_values_would_not_fit_in_the_page_is_refused(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    with mock.patch("songnuan.reporting.forms_campaign.IMPORT_TOKEN_MAX_CHARS", 100):
        response = client.post(
            url(world, world.enterprise, "import"),
            {"table": SimpleUploadedFile("a.xlsx", xlsx(values, header))},
            follow=True,
        )
    assert "统计表中的文字太多，无法导入" in response.content.decode()
    assert_nothing_written()


# --- the token itself ------------------------------------------------------------------------------------


def test_the_token_gives_back_each_value_with_its_type() -> None:
    values: dict[str, Value] = {
        "1A": 48,
        "2A": Decimal("1260.00"),
        "3A": Decimal("1E+3"),
        "4A": "48",  # text that looks like a number stays text
        "5A": "是",
        "6A": "d:not a tag",
        "7A": None,
        "8A": "",
    }
    header = {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"}
    fields = sign_import(7, 3, values, header)
    back = previewed_import(7, fields)
    assert back.version == 3 and back.header == header
    assert back.values == values
    assert [type(v) for v in back.values.values()] == [type(v) for v in values.values()]
    assert str(back.values["2A"]) == "1260.00"
    with pytest.raises(PayloadError):
        previewed_import(8, fields)  # another submission
    with pytest.raises(PayloadError):
        previewed_import(7, {**fields, "version": "4"})  # another version


# --- the upload ------------------------------------------------------------------------------------------


def test_import_of_a_file_without_header_keeps_the_stored_date_reporter_and_phone(world: World) -> None:
    client = world.client("enterprise_reporter")
    save(world, header={"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"})
    values, _header = filled_example(FORM)
    events_before = SubmissionEvent.objects.filter(kind="header").count()

    page, fields = preview(client, world, xlsx(values, {}))  # the template's header left blank
    confirm(client, world, fields)

    assert "文件中空着的表头（填报人、电话、日期）不会清除现有内容。" in page
    assert "data-header=" not in page  # no header field is shown as changing
    submission = Submission.objects.get()
    assert stored_values(submission) == values  # the values were imported
    assert (submission.reporter, submission.phone, submission.report_date) == (
        "王丽",
        "0724-2345678",
        dt.date(2018, 2, 3),
    )
    assert SubmissionEvent.objects.filter(kind="header").count() == events_before


def test_import_replaces_each_header_field_the_file_fills_in_and_records_it(world: World) -> None:
    client = world.client("enterprise_reporter")
    save(world, header={"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"})
    values, _header = filled_example(FORM)

    page, fields = preview(client, world, xlsx(values, {"reporter": "李强", "date": "2018-02-05"}))
    confirm(client, world, fields)

    assert re.search(
        r'data-header="reporter">.*?<td class="old">王丽</td><td class="new">李强</td>', page, re.S
    )
    assert re.search(
        r'data-header="report_date">.*?2018-02-03</td><td class="new">2018-02-05</td>', page, re.S
    )
    assert 'data-header="phone"' not in page  # blank in the file: kept
    submission = Submission.objects.get()
    assert (submission.reporter, submission.phone, submission.report_date) == (
        "李强",
        "0724-2345678",
        dt.date(2018, 2, 5),
    )
    events = {e.subject: (e.old, e.new) for e in SubmissionEvent.objects.filter(kind="header").order_by("id")}
    assert events["reporter"] == ("王丽", "李强")
    assert events["report_date"] == ("2018-02-03", "2018-02-05")


def test_import_keeps_the_stored_date_when_the_file_holds_no_real_date(world: World) -> None:
    client = world.client("enterprise_reporter")
    save(world, header={"report_date": "2018-02-03"})
    values, _header = filled_example(FORM)

    page, fields = preview(client, world, xlsx(values, {"date": "2018年2月30日"}))
    confirm(client, world, fields)

    assert "文件中的日期“2018年2月30日”不是有效日期，保留现有的填报日期。" in page
    assert Submission.objects.get().report_date == dt.date(2018, 2, 3)


def test_import_of_a_file_that_is_not_a_table_says_why(world: World) -> None:
    client = world.client("enterprise_reporter")
    upload = SimpleUploadedFile("报告.xlsx", b"this is not a spreadsheet")
    response = client.post(url(world, world.enterprise, "import"), {"table": upload}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<li class="error" role="alert">[^<]*(无法|不是)', page)
    assert not SubmissionValue.objects.exists()


def test_import_refuses_an_oversize_file(world: World) -> None:
    upload = SimpleUploadedFile("大表.xlsx", b"0" * (2 * 1024 * 1024 + 1))
    response = world.client("enterprise_reporter").post(
        url(world, world.enterprise, "import"), {"table": upload}, follow=True
    )
    assert "统计表文件不能超过 2 MB" in response.content.decode()


def test_only_those_who_fill_may_import(world: World) -> None:
    values, header = filled_example(FORM)
    upload = SimpleUploadedFile("a.xlsx", xlsx(values, header))
    response = world.client("county_reviewer").post(url(world, world.enterprise, "import"), {"table": upload})
    assert response.status_code == 403 and not Submission.objects.exists()


def test_only_those_who_fill_may_confirm(world: World) -> None:
    client = world.client("enterprise_reporter")
    values, header = filled_example(FORM)
    _page, fields = preview(client, world, xlsx(values, header))
    response = world.client("county_reviewer").post(url(world, world.enterprise, "import"), fields)
    assert response.status_code == 403
    assert_nothing_written()
