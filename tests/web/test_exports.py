"""Downloads and print views of the reviewer's side, and who may open each URL (the permission matrix)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from songnuan.formkit.checking import check_bytes
from songnuan.formkit.definitions import get_form
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.permissions import can_see_rollup
from songnuan.orgs.services import account_create
from songnuan.reporting.rollup import rollup

from ..filemakers import filled_example
from ..world import PASSWORD, World
from .test_rollup import COUNTY, ENTERPRISE, SIBLING, printed_values, put_table, url

WARMTH, CENTRES = "warmth-2018", "service-centres-2017"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATIC = Path(__file__).parents[2] / "src/songnuan/reporting/static"


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def example(world: World) -> None:
    """The county's own 附件1 and 附件2: the full valid examples, accepted, with the header filled in."""
    for code in (WARMTH, CENTRES):
        values, header = filled_example(code)
        put_table(
            world,
            world.county,
            values,
            code=code,
            reporter=header["reporter"],
            phone=header["phone"],
            report_date=dt.date.fromisoformat(header["date"]),
        )


# --- the unit's own table in the official layout ---------------------------------------------------------


@pytest.mark.parametrize("code", [WARMTH, CENTRES])
def test_export_reads_back_with_the_same_values_and_header(world: World, example: None, code: str) -> None:
    response = world.client("city_reviewer").get(url(world, "export", world.county, code))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    form = get_form(code)
    name = f"{form.attachment}_{form.title}_东宝区总工会.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(name)}"
    (report,) = check_bytes(response.content, file="export.xlsx")
    values, header = filled_example(code)
    assert report.form is not None and report.form.code == code
    assert report.values == values
    assert report.status == "ok"
    assert report.header.unit == "东宝区总工会"
    assert (report.header.reporter, report.header.phone, report.header.date) == (
        header["reporter"],
        header["phone"],
        header["date"],
    )


def test_export_of_a_partly_filled_table_keeps_blanks_blank(world: World) -> None:
    put_table(world, world.enterprise, ENTERPRISE, status="draft")
    response = world.client("enterprise_reporter").get(url(world, "export", world.enterprise))
    (report,) = check_bytes(response.content, file="export.xlsx")
    assert report.values["1A"] == 4 and report.values["3A"] == Decimal("2.25")
    assert report.values["5A"] is None and report.values["3B"] is None
    assert report.header.unit == "东宝区恒力水泥有限公司工会" and report.header.reporter is None


def test_export_without_a_table_is_404(world: World) -> None:
    assert world.client("city_reviewer").get(url(world, "export", world.sibling)).status_code == 404
    assert world.client("city_reviewer").get(url(world, "print", world.sibling)).status_code == 404


# --- the roll-up in the official layout, and the comparison grid -----------------------------------------


@pytest.fixture
def rolled(world: World) -> None:
    put_table(world, world.county, COUNTY)
    put_table(world, world.enterprise, ENTERPRISE)
    put_table(world, world.sibling, SIBLING)
    put_table(world, world.city, {"1A": 5})


def test_rollup_xlsx_reads_back_as_the_rollup(world: World, rolled: None, frozen_now: dt.datetime) -> None:
    response = world.client("county_reviewer").get(url(world, "rollup-xlsx", world.county))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert quote("东宝区总工会（汇总）.xlsx", safe="") in response["Content-Disposition"]
    (report,) = check_bytes(response.content, file="rollup.xlsx")
    assert report.header.unit == "东宝区总工会（汇总）"
    assert report.header.reporter == "李红" and report.header.phone == "0724-2345678"
    assert report.header.date == "2026-12-02"  # China's date at 00:30 there, though UTC is still on the 1st
    expected = rollup(world.campaign, WARMTH, world.county)
    assert report.values == expected
    assert (
        report.values["1A"] == 14 and report.values["3A"] == Decimal("12.75") and report.values["5A"] is None
    )


def test_grid_xlsx_has_the_right_numbers_and_layout(world: World, rolled: None) -> None:
    response = world.client("city_reviewer").get(url(world, "grid-xlsx", world.city))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "filename*=utf-8''" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row[0] == "编号")
    assert rows[heading][1:] == (
        "项目",
        "单位",
        "东宝区总工会",
        "钟祥市总工会",
        "荆门市总工会（本级）",
        "合计",
    )
    assert rows[heading + 1][3:] == ("2/2 张", "1/1 张", "1/1 张", "4/4 张")
    by_code = {row[0]: row for row in rows[heading + 2 :]}
    assert by_code["1A"][2:] == ("家", 14, 7, 5, 26)
    assert by_code["3A"][3:] == (12.75, 1, None, 13.75)
    assert by_code["5A"][3:] == (None, None, None, None)  # blank, not 0
    assert len(by_code) == len(get_form(WARMTH).items)
    assert sheet.freeze_panes == f"D{heading + 3}"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    money = sheet.cell(row=heading + 3 + list(by_code).index("3A"), column=4)
    assert money.value == 12.75 and money.number_format == "#,##0.00##"


# --- print views -----------------------------------------------------------------------------------------


def test_print_view_of_a_table_is_a_standalone_a4_page(world: World, example: None) -> None:
    response = world.client("county_reporter").get(url(world, "print", world.county))
    assert response.status_code == 200
    page = response.content.decode()
    form = get_form(WARMTH)
    assert "/static/reporting/print.css" in page and "<style>" not in page
    assert "@page { size: A4; margin: 15mm }" in (STATIC / "reporting/print.css").read_text(encoding="utf-8")
    assert form.title in page and "附件1：" in page
    assert "东宝区总工会" in page and "王丽" in page and "0724-2345678" in page and "2018年2月3日" in page
    assert "单位盖章" in page and "负责人签字" in page
    assert 'class="site"' not in page and "site.css" not in page  # no site navigation
    values, _header = filled_example(WARMTH)
    shown = printed_values(page)
    assert shown["1A"] == "48" and shown["3A"] == "66.91" and shown["11C"] == "12.35"
    assert len(shown) == len(values)


def test_print_view_of_a_rollup(world: World, rolled: None) -> None:
    page = world.client("city_admin").get(url(world, "rollup-print", world.city)).content.decode()
    assert "/static/reporting/print.css" in page and get_form(WARMTH).title in page
    assert "荆门市总工会（汇总）" in page and "单位盖章" in page and "负责人签字" in page
    shown = printed_values(page)
    assert shown["1A"] == "26" and shown["3A"] == "13.75" and shown["5A"] == ""
    assert "含审核通过的表 4 张（应报 4 张）" in page


# --- who may open what -----------------------------------------------------------------------------------

#: What shows the units below a unit (names, states, sums): roll-up, drill-down, grid and their downloads.
ROLLUP_URLS = ["rollup", "drill-down", "rollup-xlsx", "rollup-print", "grid", "grid-xlsx"]
#: A unit's own table: its reporter downloads and prints it for the stamp.
TABLE_URLS = ["export", "print"]
UNIT_URLS = ROLLUP_URLS + TABLE_URLS

# role (the account's unit: the county, except where named) × target unit → status of the roll-up URLs, of
# the own-table URLs. A reporter never sees a roll-up, not even of its own unit (it names and sums the units
# below).
MATRIX = [
    ("reporter", "own", 403, 200),
    ("reporter", "below", 403, 403),
    ("reporter", "sibling", 403, 403),
    ("reporter", "above", 403, 403),
    ("reviewer", "own", 200, 200),
    ("reviewer", "below", 200, 200),
    ("reviewer", "sibling", 403, 403),
    ("reviewer", "above", 403, 403),
    ("admin", "own", 200, 200),
    ("admin", "below", 200, 200),
    ("admin", "sibling", 403, 403),
    ("admin", "above", 403, 403),
    ("enterprise reporter", "own", 403, 200),  # a unit with nothing below: still not a reporter's page
    ("enterprise reporter", "above", 403, 403),
    ("city reviewer", "own", 200, 200),
    ("city reviewer", "below", 200, 200),
    ("city reviewer", "two below", 200, 200),
    ("city admin", "below", 200, 200),
    ("city admin", "two below", 200, 200),
]

USERS = {
    "reporter": "county_reporter",
    "reviewer": "county_reviewer",
    "admin": "county_admin",
    "enterprise reporter": "enterprise_reporter",
    "city reviewer": "city_reviewer",
    "city admin": "city_admin",
}


def target_of(world: World, role: str, target: str) -> Unit:
    if role.startswith("city"):
        return {"own": world.city, "below": world.county, "two below": world.enterprise}[target]
    if role == "enterprise reporter":
        return {"own": world.enterprise, "above": world.county}[target]
    return {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        target
    ]


def address(world: World, name: str, unit: Unit) -> str:
    """The URL of `name` for `unit`; the drill-down is the roll-up page asked for one item's parts."""
    if name == "drill-down":
        return url(world, "rollup", unit) + "?item=1A"
    return url(world, name, unit)


@pytest.fixture
def everyone(world: World) -> World:
    """Every unit has an accepted 附件1 (so the own-table downloads exist), and the county has an admin."""
    for unit in (world.city, world.county, world.enterprise, world.sibling):
        put_table(world, unit, {"1A": 1})
    account = account_create(username="county_admin", password=PASSWORD, unit=world.county, role="admin")
    world.users["county_admin"] = account.user
    return world


@pytest.mark.parametrize("name", UNIT_URLS)
@pytest.mark.parametrize(("role", "target", "rollup_status", "table_status"), MATRIX)
def test_permission_matrix(
    everyone: World, name: str, role: str, target: str, rollup_status: int, table_status: int
) -> None:
    unit = target_of(everyone, role, target)
    response = everyone.client(USERS[role]).get(address(everyone, name, unit))
    assert response.status_code == (rollup_status if name in ROLLUP_URLS else table_status)
    if response.status_code == 403:
        # The page's own text: the site header of the Chinese 403 page names the account's own unit.
        shown = response.content.decode(errors="replace").split("<main>")[-1]
        own = everyone.users[USERS[role]].account.unit  # named in the page's account bar
        below = [u.name for u in (everyone.county, everyone.enterprise) if u.is_below(unit) and u != own]
        assert not any(below_name in shown for below_name in below)  # no unit below is named


def test_the_pages_and_the_api_follow_can_see_rollup_for_every_account_and_unit(everyone: World) -> None:
    """One rule for the roll-up, asked by the pages and the API alike."""
    units = (everyone.city, everyone.county, everyone.enterprise, everyone.sibling)
    for username, user in everyone.users.items():
        client = everyone.client(username)
        for unit in units:
            allowed = can_see_rollup(user, unit)
            api = client.get(f"/api/campaigns/{everyone.campaign.pk}/rollup/{unit.pk}/{WARMTH}")
            assert api.status_code == (200 if allowed else 403), (username, unit.name)
            for name in ROLLUP_URLS:
                page = client.get(address(everyone, name, unit))
                assert page.status_code == (200 if allowed else 403), (username, unit.name, name)


def test_no_reporter_may_see_a_rollup(everyone: World) -> None:
    units = (everyone.city, everyone.county, everyone.enterprise, everyone.sibling)
    reporters = Account.objects.filter(role=Account.Role.REPORTER).select_related("user")
    assert reporters.count() == 3
    assert not any(can_see_rollup(account.user, unit) for account in reporters for unit in units)


@pytest.mark.parametrize(
    ("role", "status"),
    [("reporter", 403), ("reviewer", 200), ("admin", 200), ("enterprise reporter", 403), ("city admin", 200)],
)
def test_permission_matrix_dashboard(everyone: World, role: str, status: int) -> None:
    response = everyone.client(USERS[role]).get(reverse("review:dashboard", args=[everyone.campaign.pk]))
    assert response.status_code == status


def test_a_user_without_an_account_gets_403_everywhere(everyone: World) -> None:
    client = Client()
    client.force_login(User.objects.create_user("stranger", password=PASSWORD))
    assert client.get(reverse("review:dashboard", args=[everyone.campaign.pk])).status_code == 403
    for name in UNIT_URLS:
        assert client.get(address(everyone, name, everyone.county)).status_code == 403, name


@override_settings(LOGIN_URL="/accounts/login/")
def test_anonymous_is_sent_to_log_in(everyone: World) -> None:
    urls = [reverse("review:dashboard", args=[everyone.campaign.pk])]
    urls += [address(everyone, name, everyone.county) for name in UNIT_URLS]
    for each in urls:
        response = Client().get(each)
        assert response.status_code == 302, each
        assert response["Location"].startswith("/accounts/login/?next="), each


def test_unknown_objects_are_404(everyone: World) -> None:
    client = everyone.client("city_admin")
    campaign, county = everyone.campaign.pk, everyone.county.pk
    for name in ROLLUP_URLS[:1] + ROLLUP_URLS[2:] + TABLE_URLS:  # the drill-down is the roll-up's URL
        assert client.get(reverse(f"review:{name}", args=[campaign + 99, county, WARMTH])).status_code == 404
        assert client.get(reverse(f"review:{name}", args=[campaign, county + 99, WARMTH])).status_code == 404
        assert client.get(reverse(f"review:{name}", args=[campaign, county, "nope-1999"])).status_code == 404


def test_a_form_the_campaign_does_not_ask_for_is_404(everyone: World) -> None:
    everyone.campaign.form_codes = [WARMTH]
    everyone.campaign.save()
    client = everyone.client("city_admin")
    assert client.get(url(everyone, "rollup", everyone.county, CENTRES)).status_code == 404
    assert client.get(url(everyone, "rollup", everyone.county, WARMTH)).status_code == 200


def test_account_roles_are_the_three_of_the_matrix() -> None:
    assert {role.value for role in Account.Role} == {"reporter", "reviewer", "admin"}
