"""Searching the archive: by name (characters or pinyin initials), ID number or its last digits, phone;
filters; only within the unit tree; the hints beside 附件1 2C–2F."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songnuan.archive.models import Household
from songnuan.archive.searchkeys import name_initials, prefix_end
from songnuan.archive.selectors import HouseholdSearch, archive_hints, search_households
from songnuan.archive.services import HouseholdInput, MemberInput, household_apply, household_file
from songnuan.formkit.definitions import ARCHIVE_CATEGORIES, get_form
from songnuan.orgs.models import Unit

from ..world import World

WANG = "11010519491231002X"
SPOUSE = "440524188001010014"
SHAN = "420802198001010018"


def file(world: World, unit: Unit, name: str, number: str, **extra: object) -> Household:
    reporter = {world.county.pk: "county_reporter", world.sibling.pk: "sibling_reporter"}[unit.pk]
    household = household_apply(
        user=world.users[reporter],
        unit=unit,
        data=HouseholdInput(head_name=name, head_id_number=number, category="worker", **extra),  # type: ignore[arg-type]
    )
    return household_file(user=world.users["city_reviewer"], household=household)


@pytest.fixture
def filed(world: World) -> dict[str, Household]:
    return {
        "wang": file(
            world,
            world.county,
            "王建国",
            WANG,
            phone="13807241234",
            members=[MemberInput(name="李秀英", relation="配偶", id_number=SPOUSE)],
        ),
        "shan": file(world, world.sibling, "单田芳", SHAN, phone="15907240000"),
    }


def found(world: World, text: str, user: str = "city_reviewer", **filters: object) -> list[str]:
    search = HouseholdSearch(text=text, **filters)  # type: ignore[arg-type]
    return [household.head_name for household in search_households(world.users[user], search)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("王", ["王建国"]),
        ("王建国", ["王建国"]),
        ("王建军", []),
        ("建国", []),  # names are searched from the start, the way people say them
        ("wjg", ["王建国"]),
        ("WJ", ["王建国"]),
        ("stf", ["单田芳"]),  # 单 as a surname is Shàn
        (WANG, ["王建国"]),
        (WANG.lower(), ["王建国"]),
        ("110105491231002", ["王建国"]),  # the old 15-digit number of the same person
        (SPOUSE, ["王建国"]),  # a member's number finds the household
        ("002X", ["王建国"]),
        ("1231002x", ["王建国"]),
        ("0018", ["单田芳"]),
        ("13807241234", ["王建国"]),
        ("138", ["王建国"]),  # the start of a phone number (as far as the mask shows it: test_masking.py)
        ("１３８０７２４１２３４", ["王建国"]),  # full-width digits from a Chinese input method
        ("9999", []),
    ],
)
def test_search_reads_the_text_as_what_it_looks_like(
    world: World, filed: dict[str, Household], text: str, names: list[str]
) -> None:
    assert found(world, text) == names


def test_search_stays_inside_the_unit_tree(world: World, filed: dict[str, Household]) -> None:
    assert found(world, "", "county_reviewer") == ["王建国"]
    assert found(world, "stf", "county_reviewer") == []
    assert found(world, SHAN, "county_reporter") == []
    assert found(world, "", "enterprise_reporter") == []
    assert sorted(found(world, "")) == ["单田芳", "王建国"]


def test_filters_by_unit_category_and_status(world: World, filed: dict[str, Household]) -> None:
    assert found(world, "", unit=world.sibling) == ["单田芳"]
    assert found(world, "", category="migrant") == []
    assert found(world, "", status=Household.Status.FILED, unit=world.city) == ["单田芳", "王建国"]
    assert found(world, "w", status=Household.Status.APPLIED) == []


def test_name_initials() -> None:
    assert name_initials("张三丰") == "zsf"
    assert name_initials("买买提·艾力") == "mmtal"
    assert name_initials("曾 国藩") == "zgf"
    assert name_initials("") == ""


@given(st.text(min_size=1, max_size=6))
def test_a_prefix_range_holds_exactly_the_strings_that_start_with_the_prefix(prefix: str) -> None:
    end = prefix_end(prefix) if ord(prefix[-1]) < 0x10FFFF else None
    if end is None:
        return
    for suffix in ("", "a", "王", "\U0010ffff"):
        assert prefix <= prefix + suffix < end


def test_hints_beside_2c_to_2f_count_filed_households_of_the_unit_and_below(
    world: World, filed: dict[str, Household]
) -> None:
    household_apply(  # applied, not yet filed: not counted
        user=world.users["county_reporter"],
        unit=world.county,
        data=HouseholdInput(head_name="刘洋", head_id_number="420802198001010034", category="migrant"),
    )
    assert archive_hints("warmth-2018", world.city) == {
        "2C": "档案在册 2 户",
        "2D": "档案在册 2 户",
        "2E": "档案在册 0 户",
        "2F": "档案在册 0 户",
    }
    assert archive_hints("warmth-2018", world.county)["2C"] == "档案在册 1 户"
    assert archive_hints("service-centres-2017", world.city) == {}


def test_the_entry_page_shows_the_hints(world: World, filed: dict[str, Household]) -> None:
    client = world.client("county_reporter")
    page = client.get(
        f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    ).content.decode()
    assert page.count("档案在册") == 4 and "档案在册 1 户" in page


def test_income_per_person_is_derived(world: World) -> None:
    household = household_apply(
        user=world.users["county_reporter"],
        unit=world.county,
        data=HouseholdInput(
            head_name="王建国",
            head_id_number=WANG,
            category="worker",
            monthly_income=Decimal("1000"),
            household_size=3,
        ),
    )
    assert household.income_per_person == Decimal("333.33")


def test_the_form_files_archive_categories_are_the_archives_own() -> None:
    """`archive_category` in a form file names a category of the archive (or all of it), and the warmth
    table's household counts 2C–2F are the ones that carry it."""
    assert set(ARCHIVE_CATEGORIES) == {"all", *Household.Category.values}
    carrying = {i.code: i.archive_category for i in get_form("warmth-2018").items if i.archive_category}
    assert carrying == {"2C": "all", "2D": "worker", "2E": "migrant", "2F": "model-worker"}
