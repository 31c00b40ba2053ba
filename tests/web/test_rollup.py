"""The roll-up page: sums of accepted tables only, blank stays blank, the rules checked again on the totals,
the drill-down into the children, and the comparison grid."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest
from django.test import override_settings

from songnuan.formkit.definitions import get_form
from songnuan.formkit.engine import Value, compiled
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.rollup import comparison_grid, rollup, rollup_page

from ..world import World

WARMTH = "warmth-2018"


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    """The world creates six accounts; the real password hasher would make every test take seconds."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def put_table(
    world: World,
    unit: Unit,
    values: Mapping[str, object],
    *,
    code: str = WARMTH,
    status: str = Submission.Status.ACCEPTED,
    reporter: str = "",
    phone: str = "",
    report_date: dt.date | None = None,
    submitted_at: dt.datetime | None = None,
    late: bool = False,
    explanations: Mapping[str, str] | None = None,
) -> Submission:
    """A unit's table stored directly (as the workflow would have left it); values are typed or strings of
    numbers, None for blank (no row)."""
    submission = Submission.objects.create(
        campaign=world.campaign,
        unit=unit,
        form_code=code,
        status=status,
        reporter=reporter,
        phone=phone,
        report_date=report_date,
        submitted_at=submitted_at,
        late=late,
        explanations=dict(explanations or {}),
    )
    rows = []
    for item, value in values.items():
        if value is None:
            continue
        if value in ("是", "否"):
            rows.append(SubmissionValue(submission=submission, item=item, text=str(value)))
        else:
            rows.append(SubmissionValue(submission=submission, item=item, number=Decimal(str(value))))
    SubmissionValue.objects.bulk_create(rows)
    return submission


def printed_values(page: str) -> dict[str, str]:
    """Item code → the value shown in the printed table of a page ("" for blank)."""
    found: dict[str, str] = {}
    for code, cell in re.findall(r'<tr id="item-(\w+)".*?<td class="value[^"]*"[^>]*>(.*?)</td>', page, re.S):
        found[code] = html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
    return found


# County (own table) and its enterprise and the sibling county accepted; a second enterprise only submitted.
COUNTY = {"1A": 10, "1B": 2, "2C": 5, "2D": 3, "2E": 2, "3A": "10.5", "3B": "4.5", "3C": "6", "11A": 1}
ENTERPRISE = {"1A": 4, "1B": 1, "2C": 2, "2D": 2, "3A": "2.25", "3D": "2.25"}
SIBLING = {"1A": 7, "2C": 1, "2F": 1, "3A": "1", "3E": "1"}
PENDING = {"1A": 1000, "3A": "500", "3B": "500"}


@pytest.fixture
def filled(world: World) -> Unit:
    """The world's tables as above; returns the second enterprise (submitted, not accepted)."""
    put_table(world, world.county, COUNTY)
    put_table(world, world.enterprise, ENTERPRISE)
    put_table(world, world.sibling, SIBLING)
    pending = unit_create(name="东宝区第二企业工会", kind=Unit.Kind.ENTERPRISE, parent=world.county)
    put_table(world, pending, PENDING, status=Submission.Status.SUBMITTED)
    return pending


CITY_TOTALS: dict[str, Value] = {
    "1A": 21,
    "1B": 3,
    "2C": 8,
    "2D": 5,
    "2E": 2,
    "2F": 1,
    "3A": Decimal("13.75"),
    "3B": Decimal("4.5"),
    "3C": Decimal("6"),
    "3D": Decimal("2.25"),
    "3E": Decimal("1"),
    "11A": 1,
}


def url(world: World, name: str, unit: Unit, code: str = WARMTH) -> str:
    from django.urls import reverse

    return reverse(f"review:{name}", args=[world.campaign.pk, unit.pk, code])


def test_rollup_is_the_sum_of_accepted_tables_only_and_blank_stays_blank(world: World, filled: Unit) -> None:
    page = rollup_page(
        world.campaign, get_form(WARMTH), world.city, visible=lambda unit: True, item_code=None
    )
    expected = {code: CITY_TOTALS.get(code) for code in get_form(WARMTH).codes}
    assert page.values == expected
    assert page.values["5A"] is None  # nobody filled it: blank, not 0
    assert page.accepted == 3 and page.expected == 5  # city, county, enterprise, second enterprise, sibling
    assert {t.unit.name for t in page.pending} == {"荆门市总工会", "东宝区第二企业工会"}

    shown = printed_values(
        world.client("city_reviewer").get(url(world, "rollup", world.city)).content.decode()
    )
    assert shown["1A"] == "21" and shown["3A"] == "13.75" and shown["3B"] == "4.5"
    assert shown["5A"] == "" and shown["10A"] == ""
    assert "1000" not in shown.values()


def test_rollup_of_a_county_holds_its_subtree_only(world: World, filled: Unit) -> None:
    values = rollup(world.campaign, WARMTH, world.county)
    assert values["1A"] == 14 and values["3A"] == Decimal("12.75") and values["2F"] is None
    page = world.client("county_reviewer").get(url(world, "rollup", world.county)).content.decode()
    assert 'data-accepted="2" data-expected="3"' in page
    assert "东宝区第二企业工会（已报送待审核）" in page


def test_the_pending_tables_named_are_capped_and_their_count_is_all_of_them(
    world: World, filled: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's or the country's roll-up cannot name every table it still waits for: it names the
    first few, says how many there are, and points to the dashboard's full list."""
    monkeypatch.setattr("songnuan.reporting.rollup.PENDING_SHOWN", 1)
    for number in range(3):
        unit_create(name=f"东宝区未报企业工会{number}", kind=Unit.Kind.ENTERPRISE, parent=world.county)
    page = rollup_page(world.campaign, get_form(WARMTH), world.city, visible=lambda unit: True)
    assert page.accepted == 3 and page.expected == 8 and page.pending_count == 5
    assert [t.unit.name for t in page.pending] == ["荆门市总工会"]  # the first by path: the city itself
    body = world.client("city_reviewer").get(url(world, "rollup", world.city)).content.decode()
    assert "尚有 5 张未纳入汇总" in body and "以上为前 1 张" in body
    from django.urls import reverse

    assert f'href="{reverse("review:dashboard", args=[world.campaign.pk])}">全部报送进度' in body


def test_rules_checked_again_on_consistent_totals_find_nothing(world: World, filled: Unit) -> None:
    page = rollup_page(world.campaign, get_form(WARMTH), world.city, visible=lambda unit: True)
    assert page.result.errors == [] and page.result.warnings == []
    body = world.client("city_reviewer").get(url(world, "rollup", world.city)).content.decode()
    assert "汇总数据全部审核规则通过" in body


def test_a_warning_on_the_totals_is_shown(world: World) -> None:
    # 7C (追讨欠薪金额) without any 7B (人数): a warning the county explained, and so it was accepted.
    put_table(world, world.county, {"7B": 0, "7C": "5"}, explanations={"warmth-2018.7C.persons": "说明"})
    put_table(world, world.enterprise, {"7B": 0})
    form = get_form(WARMTH)
    page = rollup_page(world.campaign, form, world.county, visible=lambda unit: True)
    assert [w.rule for w in page.result.warnings] == ["warmth-2018.7C.persons"]
    body = world.client("county_reviewer").get(url(world, "rollup", world.county)).content.decode()
    message = form.rule("7C.persons").message
    assert message is not None and message in body
    assert 'class="tag warning"' in body


def test_rounding_differences_that_add_up_are_an_error_on_the_totals(world: World) -> None:
    # Each table is off by 0.05 万元 over five parts: a rounding difference (warning) each, 0.10 in the sum.
    table = {"3A": "10.05", "3B": "2", "3C": "2", "3D": "2", "3E": "2", "3F": "2"}
    form = get_form(WARMTH)
    one = compiled(form).validate(
        {code: Decimal(table[code]) if code in table else None for code in form.codes}
    )
    assert not one.errors and [w.rule for w in one.warnings] == ["warmth-2018.3A.sum.rounding"]
    put_table(world, world.county, table)
    put_table(world, world.enterprise, table)
    page = rollup_page(world.campaign, form, world.county, visible=lambda unit: True)
    assert [e.rule for e in page.result.errors] == ["warmth-2018.3A.sum"]
    body = world.client("county_reviewer").get(url(world, "rollup", world.county)).content.decode()
    assert 'class="tag error"' in body and "warmth-2018.3A.sum" in body


def test_drilldown_children_and_own_table_add_up_to_the_total(world: World, filled: Unit) -> None:
    put_table(world, world.city, {"1A": 5, "3A": "0.25", "3B": "0.25"})
    form = get_form(WARMTH)
    for code in form.codes:
        page = rollup_page(world.campaign, form, world.city, visible=lambda u: True, item_code=code)
        assert page.drilldown is not None and page.drilldown.adds_up, code
    page = rollup_page(world.campaign, form, world.city, visible=lambda u: True, item_code="1A")
    assert page.drilldown is not None
    lines = {part.title: value for part, value in page.drilldown.lines}
    assert lines == {"东宝区总工会": 14, "钟祥市总工会": 7, "荆门市总工会（本级）": 5}
    assert page.drilldown.total == 26 == page.drilldown.parts_sum

    body = world.client("city_reviewer").get(url(world, "rollup", world.city) + "?item=3A").content.decode()
    assert 'id="drill"' in body and 'data-item="3A"' in body
    drill = body[body.index('id="drill"') : body.index("</section>", body.index('id="drill"'))]
    assert url(world, "rollup", world.county) + "?item=3A#drill" in drill
    assert ">12.75<" in drill and ">1<" in drill and ">0.25<" in drill and ">14<" in drill
    assert '<a href="?item=3A#drill">14</a>' in body  # each total links to its drill-down


def test_drilldown_of_a_blank_item_is_blank_everywhere(world: World, filled: Unit) -> None:
    form = get_form(WARMTH)
    page = rollup_page(world.campaign, form, world.city, visible=lambda u: True, item_code="5A")
    assert page.drilldown is not None
    assert page.drilldown.total is None and page.drilldown.parts_sum is None
    assert all(value is None for _part, value in page.drilldown.lines)


@pytest.mark.parametrize("name", ["county_reporter", "enterprise_reporter"])
def test_a_reporter_gets_no_rollup_or_drilldown_even_of_its_own_unit(
    world: World, filled: Unit, name: str
) -> None:
    unit = world.users[name].account.unit
    for address in (
        url(world, "rollup", unit),
        url(world, "rollup", unit) + "?item=1A",
        url(world, "grid", unit),
    ):
        response = world.client(name).get(address)
        assert response.status_code == 403, address
        assert "水泥" not in response.content.decode() or unit == world.enterprise  # no child named
        assert 'id="drill"' not in response.content.decode()


def test_children_a_viewer_may_not_open_are_shown_only_together(world: World, filled: Unit) -> None:
    """Kept for a viewer whose rule hides some children: the lines still add up to the total."""
    page = rollup_page(
        world.campaign, get_form(WARMTH), world.county, visible=lambda u: u == world.county, item_code="1A"
    )
    assert page.drilldown is not None and page.drilldown.adds_up
    lines = {part.title: value for part, value in page.drilldown.lines}
    assert lines == {"东宝区总工会（本级）": 10, "其他下级单位（2个，合计）": 4}
    assert not any("水泥" in title for title in lines)


def test_drilldown_with_an_unknown_item_shows_no_panel(world: World, filled: Unit) -> None:
    response = world.client("city_reviewer").get(url(world, "rollup", world.city) + "?item=99Z")
    assert response.status_code == 200 and 'id="drill"' not in response.content.decode()


def test_grid_has_children_own_table_and_total_as_columns(world: World, filled: Unit) -> None:
    grid = comparison_grid(world.campaign, get_form(WARMTH), world.city, visible=lambda u: True)
    assert [c.title for c in grid.columns] == ["东宝区总工会", "钟祥市总工会", "荆门市总工会（本级）", "合计"]
    assert [(c.accepted, c.expected) for c in grid.columns] == [(2, 3), (1, 1), (0, 1), (3, 5)]
    rows = {row.item.code: row.cells for row in grid.rows}
    assert rows["1A"] == [14, 7, None, 21]
    assert rows["3A"] == [Decimal("12.75"), Decimal("1"), None, Decimal("13.75")]
    assert rows["5A"] == [None, None, None, None]

    body = world.client("city_reviewer").get(url(world, "grid", world.city)).content.decode()
    row_1a = re.search(r'<tr data-item="1A">(.*?)</tr>', body, re.S)
    assert row_1a is not None
    cells = re.findall(r'<td class="value[^"]*">(.*?)</td>', row_1a.group(1))
    assert cells == ["14", "7", "", "21"]
    assert url(world, "grid", world.county) in body


def test_rollup_and_grid_pages_of_the_second_form_work_too(world: World) -> None:
    client = world.client("city_admin")
    for name in ("rollup", "grid"):
        response = client.get(url(world, name, world.city, "service-centres-2017"))
        assert response.status_code == 200
        assert get_form("service-centres-2017").title in response.content.decode()
