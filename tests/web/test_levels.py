"""Levels made explicit (本级 / 全辖), in both reporting scopes of a campaign.

OWN_LEVEL (the default): a unit enters its own level (本级); its whole area (全辖) is its own table plus the
accepted tables below, shown beside it on the entry page, the roll-up, the grid, the print and the export.
WHOLE_AREA: each unit reports its whole area; the children's tables are shown beside it for comparison, never
added, and a child total above the parent's figure is marked to check. Blank stays blank; a unit never sees
a number from outside its own subtree.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse

from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.checking import check_bytes
from songnuan.formkit.definitions import get_form
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from songnuan.reporting.models import Submission
from songnuan.reporting.rollup import (
    accepted_below,
    comparison_grid,
    entry_levels,
    rollup,
    rollup_by_child,
    rollup_page,
)

from ..world import World
from .test_rollup import printed_values, put_table, url

WARMTH = "warmth-2018"
FORM = get_form(WARMTH)


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def whole_area(world: World) -> None:
    world.campaign.reporting_scope = ReportingScope.WHOLE_AREA
    world.campaign.save(update_fields=["reporting_scope"])


def entry_url(world: World, unit: Unit) -> str:
    return reverse("campaign:entry", args=[world.campaign.pk, unit.pk, WARMTH])


def scope_cells(page: str) -> dict[str, str]:
    """Item code → the read-only level cell of the entry page ("" for blank)."""
    return {
        code: html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for code, cell in re.findall(
            r'<td class="scope[^"]*" data-scope-item="(\w+)"[^>]*>(.*?)</td>', page, re.S
        )
    }


def level_cells(page: str) -> dict[str, str]:
    """Item code → the column printed beside the value in a roll-up's printed table."""
    found: dict[str, str] = {}
    for code, cell in re.findall(
        r'<tr id="item-(\w+)".*?<td class="level-column[^"]*"[^>]*>(.*?)</td>', page, re.S
    ):
        found[code] = html.unescape(re.sub(r"<[^>]+>|请核对", "", cell)).strip()
    return found


# --- OWN_LEVEL ---------------------------------------------------------------------------------------------


@pytest.fixture
def own_level(world: World) -> None:
    """本级 tables: the county 10, its enterprise 4 (accepted), the sibling 1000, the city 5; a second
    enterprise under the county only submitted (not in any 全辖)."""
    put_table(world, world.county, {"1A": 10, "3A": "10.5"})
    put_table(world, world.enterprise, {"1A": 4, "3A": "2.25", "3D": "2.25"})
    put_table(world, world.sibling, {"1A": 1000, "3A": "500"})
    put_table(world, world.city, {"1A": 5})
    pending = unit_create(name="东宝区第二水泥厂工会", kind=Unit.Kind.ENTERPRISE, parent=world.county)
    put_table(world, pending, {"1A": 77}, status=Submission.Status.SUBMITTED)


def test_own_level_rollup_shows_own_and_whole_area(world: World, own_level: None) -> None:
    page = rollup_page(world.campaign, FORM, world.county, visible=lambda unit: True)
    assert page.levels.own["1A"] == 10 and page.levels.area["1A"] == 14 and page.levels.below["1A"] == 4
    assert page.levels.own["3D"] is None and page.levels.area["3D"] == Decimal("2.25")
    assert page.levels.area["5A"] is None and page.levels.own["5A"] is None  # blank, not 0
    assert page.levels.discrepancies == set()
    response = world.client("county_reviewer").get(url(world, "rollup", world.county))
    text = response.content.decode()
    assert "全辖（含下级已审核的表）" in text and "其中：本级" in text
    assert str(ReportingScope.OWN_LEVEL.label) in text
    assert printed_values(text)["1A"] == "14" and level_cells(text)["1A"] == "10"
    assert printed_values(text)["5A"] == "" and level_cells(text)["5A"] == ""


def test_own_level_grid_labels_each_column(world: World, own_level: None) -> None:
    grid = comparison_grid(world.campaign, FORM, world.city, visible=lambda unit: True)
    assert [(c.kind, c.level) for c in grid.columns] == [
        ("child", "全辖（含下级）"),
        ("child", "全辖（含下级）"),
        ("own", "本级"),
        ("total", "全辖（含下级）"),
    ]
    row = next(r for r in grid.rows if r.item.code == "1A")
    assert row.cells == [14, 1000, 5, 1019] and not row.discrepancy
    text = world.client("city_reviewer").get(url(world, "grid", world.city)).content.decode()
    assert (
        '<small class="level">本级</small>' in text and '<small class="level">全辖（含下级）</small>' in text
    )


def test_own_level_entry_page_shows_whole_area_beside_the_input(world: World, own_level: None) -> None:
    Submission.objects.filter(unit=world.county).update(status=Submission.Status.DRAFT)
    text = world.client("county_reporter").get(entry_url(world, world.county)).content.decode()
    assert '<th class="value scope-input">本级</th>' in text
    assert '<th class="scope">全辖（含下级已审核的表）</th>' in text
    assert "保存后更新" in text and str(ReportingScope.OWN_LEVEL.label) in text
    cells = scope_cells(text)
    # 10 typed here + 4 of the accepted enterprise; the submitted enterprise's 77 and the sibling's 1000
    # (outside the county's subtree) are in no figure the county sees.
    assert cells["1A"] == "14" and cells["3A"] == "12.75" and cells["3D"] == "2.25" and cells["5A"] == ""
    assert "1000" not in "".join(cells.values()) and "1014" not in text and "91" not in cells["1A"]


def test_a_leaf_sees_its_own_level_only(world: World, own_level: None) -> None:
    Submission.objects.filter(unit=world.enterprise).update(status=Submission.Status.DRAFT)
    text = world.client("enterprise_reporter").get(entry_url(world, world.enterprise)).content.decode()
    assert '<th class="value scope-input">本级</th>' in text
    assert 'class="scope"' not in text and "全辖（含下级已审核的表）" not in text
    assert str(ReportingScope.OWN_LEVEL.label) in text  # the explanation is there all the same


def test_own_level_print_and_export_say_what_they_hold(world: World, own_level: None) -> None:
    client = world.client("county_reviewer")
    own = client.get(url(world, "print", world.county)).content.decode()
    assert "本表口径：本级" in own and '<th class="value">本级</th>' in own and "level-column" not in own
    area = client.get(url(world, "rollup-print", world.county)).content.decode()
    assert "本表口径：全辖（含下级）" in area and "全辖（含下级已审核的表）" in area
    assert printed_values(area)["1A"] == "14" and level_cells(area)["1A"] == "10"

    exported = client.get(url(world, "export", world.county)).content
    assert "本表口径：本级——只含本单位自身的数，不含下级" in sheet_text(exported)
    (report,) = check_bytes(exported, file="own.xlsx")
    assert report.values["1A"] == 10 and report.values["5A"] is None  # the note does not disturb the reader
    rolled = client.get(url(world, "rollup-xlsx", world.county)).content
    assert "本表口径：全辖（含下级）" in sheet_text(rolled)
    (report,) = check_bytes(rolled, file="rollup.xlsx")
    assert report.values == rollup(world.campaign, WARMTH, world.county) and report.values["1A"] == 14


def sheet_text(content: bytes) -> str:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return "\n".join(
        str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
    )


def test_grid_export_has_a_level_row(world: World, own_level: None) -> None:
    content = world.client("city_reviewer").get(url(world, "grid-xlsx", world.city)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row[0] == "编号")
    assert rows[heading - 1][2:] == ("口径：", "全辖（含下级）", "全辖（含下级）", "本级", "全辖（含下级）")
    assert "填报口径：" in str(rows[1][0])


# --- WHOLE_AREA --------------------------------------------------------------------------------------------


@pytest.fixture
def reported_whole_areas(world: World) -> None:
    """Whole-area tables: the county says 12 families, its enterprise alone 14 (more than the county's whole
    area: a discrepancy); money fits (10 ≥ 2.25). The city reports 30, the sibling 7."""
    whole_area(world)
    put_table(world, world.county, {"1A": 12, "3A": "10"})
    put_table(world, world.enterprise, {"1A": 14, "3A": "2.25", "3D": "1"})
    put_table(world, world.sibling, {"1A": 7})
    put_table(world, world.city, {"1A": 30})


def test_whole_area_figure_is_the_units_own_table(world: World, reported_whole_areas: None) -> None:
    assert rollup(world.campaign, WARMTH, world.city)["1A"] == 30
    assert rollup(world.campaign, WARMTH, world.county)["1A"] == 12
    assert rollup(world.campaign, WARMTH, world.county)["3D"] is None  # the enterprise's 3D is not added
    by_child = rollup_by_child(world.campaign, WARMTH, world.city)
    assert {unit: values["1A"] for unit, values in by_child.items()} == {
        world.city.pk: 30,
        world.county.pk: 12,  # the county's own whole area, not 12 + 14
        world.sibling.pk: 7,
    }
    assert accepted_below(world.campaign, WARMTH, world.city)["1A"] == 19  # children only, for comparison


def test_whole_area_grid_compares_and_marks_discrepancies(world: World, reported_whole_areas: None) -> None:
    grid = comparison_grid(world.campaign, FORM, world.county, visible=lambda unit: True)
    assert [(c.kind, c.level) for c in grid.columns] == [
        ("child", "全辖（报送数）"),
        ("below", "供核对，不相加"),
        ("total", "全辖（报送数）"),
    ]
    by_code = {row.item.code: row for row in grid.rows}
    assert by_code["1A"].cells == [14, 14, 12] and by_code["1A"].discrepancy
    assert by_code["3A"].cells == [Decimal("2.25"), Decimal("2.25"), Decimal("10")]
    assert not by_code["3A"].discrepancy
    assert by_code["3D"].cells == [Decimal("1"), Decimal("1"), None] and not by_code["3D"].discrepancy
    assert by_code["5A"].cells == [None, None, None] and not by_code["5A"].discrepancy  # blank, not 0
    text = world.client("county_reviewer").get(url(world, "grid", world.county)).content.decode()
    row = re.search(r'<tr data-item="1A".*?</tr>', text, re.S)
    assert row is not None and "请核对" in row.group(0)
    other = re.search(r'<tr data-item="3A".*?</tr>', text, re.S)
    assert other is not None and "请核对" not in other.group(0)
    assert str(ReportingScope.WHOLE_AREA.label) in text

    content = world.client("county_reviewer").get(url(world, "grid-xlsx", world.county)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    heading = next(i for i, r in enumerate(rows) if r[0] == "编号")
    assert rows[heading][3:6] == (
        "东宝区恒力水泥有限公司工会",
        "下级合计",
        "东宝区总工会（全辖，本单位报送）",
    )
    one_a = next(i for i, r in enumerate(rows) if r[0] == "1A")
    assert rows[one_a][3:6] == (14, 14, 12)
    assert sheet.cell(row=one_a + 1, column=5).fill.fgColor.rgb.endswith("F8D7DA")  # marked to check
    assert any("标红" in str(r[1]) for r in rows)


def test_whole_area_rollup_page_and_drilldown(world: World, reported_whole_areas: None) -> None:
    page = rollup_page(world.campaign, FORM, world.county, visible=lambda unit: True, item_code="1A")
    assert page.levels.whole_area and page.levels.discrepancies == {"1A"}
    assert page.accepted == 2 and page.expected == 2  # the county and its enterprise
    drill = page.drilldown
    assert (
        drill is not None and drill.total == 12 and drill.parts_sum == 14 and drill.exceeds and drill.adds_up
    )
    assert [part.kind for part, _value in drill.lines] == ["child"]
    text = (
        world.client("county_reviewer").get(url(world, "rollup", world.county) + "?item=1A").content.decode()
    )
    assert "下级合计 14 大于本单位报送的全辖数 12，请核对" in text
    assert printed_values(text)["1A"] == "12" and level_cells(text)["1A"] == "14"
    assert level_cells(text)["5A"] == "" and printed_values(text)["5A"] == ""
    assert "全辖（本单位报送）" in text and "下级合计（供核对）" in text

    city = rollup_page(world.campaign, FORM, world.city, visible=lambda unit: True, item_code="1A")
    assert city.values["1A"] == 30 and city.levels.below["1A"] == 19 and not city.levels.discrepancies
    assert city.accepted == 3 and city.expected == 3  # the city and its two counties; the enterprise not


def test_whole_area_entry_page_labels_the_input_and_shows_children_to_check(
    world: World, reported_whole_areas: None
) -> None:
    Submission.objects.filter(unit=world.county).update(status=Submission.Status.DRAFT)
    text = world.client("county_reporter").get(entry_url(world, world.county)).content.decode()
    assert (
        '<th class="value scope-input">全辖</th>' in text
        and '<th class="scope">下级合计（供核对）</th>' in text
    )
    assert str(ReportingScope.WHOLE_AREA.label) in text and "保存后更新" not in text
    cells = scope_cells(text)
    assert cells["1A"] == "14" and cells["3A"] == "2.25" and cells["5A"] == ""
    assert re.search(r'<td class="scope discrepancy" data-scope-item="1A"', text)
    assert not re.search(r'<td class="scope discrepancy" data-scope-item="3A"', text)
    levels = entry_levels(world.campaign, FORM, world.county, {"1A": 12})
    assert levels.area["1A"] == 12 and levels.below["1A"] == 14 and levels.discrepancies == {"1A"}


def test_whole_area_print_and_export_say_what_they_hold(world: World, reported_whole_areas: None) -> None:
    client = world.client("county_reviewer")
    own = client.get(url(world, "print", world.county)).content.decode()
    assert "本表口径：全辖（含下级）" in own and '<th class="value">全辖（含下级）</th>' in own
    area = client.get(url(world, "rollup-print", world.county)).content.decode()
    assert "本表口径：全辖（本单位报送的全辖数" in area and "下级的表只供核对，未相加" in area
    assert printed_values(area)["1A"] == "12" and level_cells(area)["1A"] == "14"
    exported = client.get(url(world, "export", world.county)).content
    assert "本表口径：全辖（含下级）——本单位及所属下级的合计数" in sheet_text(exported)
    rolled = client.get(url(world, "rollup-xlsx", world.county)).content
    (report,) = check_bytes(rolled, file="rollup.xlsx")
    assert report.values["1A"] == 12 and report.values["3D"] is None


# --- permissions follow the tree ---------------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(ReportingScope))
def test_no_unit_sees_numbers_outside_its_subtree(world: World, scope: ReportingScope) -> None:
    world.campaign.reporting_scope = scope
    world.campaign.save(update_fields=["reporting_scope"])
    put_table(world, world.county, {"1A": 10}, status=Submission.Status.DRAFT)
    put_table(world, world.enterprise, {"1A": 4})
    put_table(world, world.sibling, {"1A": 1000})
    put_table(world, world.city, {"1A": 500})
    county = world.client("county_reporter").get(entry_url(world, world.county)).content.decode()
    assert set(scope_cells(county).values()) <= {"", "4", "14"}  # the enterprise below, never sibling or city
    assert "1000" not in county and "500" not in county
    # A reporter sees no roll-up, not even of its own unit; no one sees a sibling's or a parent's.
    assert world.client("county_reporter").get(url(world, "rollup", world.county)).status_code == 403
    assert world.client("county_reviewer").get(url(world, "rollup", world.city)).status_code == 403
    assert world.client("county_reviewer").get(url(world, "grid", world.sibling)).status_code == 403
    assert world.client("enterprise_reporter").get(entry_url(world, world.county)).status_code in (403, 404)
    assert world.client("sibling_reporter").get(entry_url(world, world.county)).status_code in (403, 404)
    leaf = world.client("enterprise_reporter").get(entry_url(world, world.enterprise)).content.decode()
    assert scope_cells(leaf) == {} and "1000" not in leaf and "500" not in leaf


# --- the API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(ReportingScope))
def test_the_api_rollup_says_what_its_values_hold(world: World, scope: ReportingScope) -> None:
    from ..api.helpers import data_of, rollup_url

    world.campaign.reporting_scope = scope
    world.campaign.save(update_fields=["reporting_scope"])
    put_table(world, world.county, {"1A": 12})
    put_table(world, world.enterprise, {"1A": 14})
    data = data_of(world.client("county_reviewer").get(rollup_url(world.campaign, world.county)))
    assert data["reporting_scope"] == scope.value
    if scope == ReportingScope.WHOLE_AREA:
        assert data["values"]["1A"] == 12 and data["accepted_units"] == 1
        assert data["content"].startswith("本表口径：全辖（本单位报送的全辖数")
    else:
        assert data["values"]["1A"] == 26 and data["accepted_units"] == 2
        assert data["content"].startswith("本表口径：全辖（含下级）")
    assert data["values"]["5A"] is None


# --- the demo ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_county_shows_own_level_and_whole_area() -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from songnuan.campaigns.models import Campaign

    call_command("seed_demo", stdout=io.StringIO())
    campaign = Campaign.objects.get(document_number="荆工办发电〔2017〕18号")
    county = Unit.objects.get(name="东宝区总工会")
    levels = entry_levels(campaign, FORM, county, {"1A": 12})
    assert levels.has_below and not levels.whole_area
    below = levels.below["1A"]
    assert isinstance(below, int) and below > 0 and levels.area["1A"] == 12 + below  # 本级 + accepted below
    reporter = User.objects.filter(account__unit=county, account__role="reporter").first()
    assert reporter is not None
    client = Client()
    client.force_login(reporter)
    text = client.get(reverse("campaign:entry", args=[campaign.pk, county.pk, WARMTH])).content.decode()
    assert '<th class="value scope-input">本级</th>' in text and "全辖（含下级已审核的表）" in text
    assert str(ReportingScope.OWN_LEVEL.label) in text
