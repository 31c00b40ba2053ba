"""The SQL roll-up against the pure rule in both reporting scopes, for random tables of the world's units
(some accepted, some not). OWN_LEVEL: a unit's whole area is `combine` over the accepted tables of its
subtree, `accepted_below` over the ones below it. WHOLE_AREA: a unit's figure is its own accepted table
alone, a child's part the child's own table, and `accepted_below` the children's tables only. A discrepancy
is exactly "the children add up to more than the reported figure", blank never taken for 0."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.definitions import ItemKind
from songnuan.formkit.engine import Value
from songnuan.formkit.rollup import combine, combine_tables
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission
from songnuan.reporting.rollup import (
    Levels,
    accepted_below,
    entry_levels,
    exceeds,
    rollup,
    rollup_by_child,
    rollup_page,
)

from ..formkit.strategies import GOOD
from ..world import World
from .test_rollup_oracle import FORM, WARMTH, assert_same, store, unit_table


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scope=st.sampled_from(list(ReportingScope)),
    city=unit_table,
    county=unit_table,
    enterprise=unit_table,
    sibling=unit_table,
)
def test_sql_levels_agree_with_combine(
    world: World,
    scope: ReportingScope,
    city: tuple[str | None, dict[str, Value]],
    county: tuple[str | None, dict[str, Value]],
    enterprise: tuple[str | None, dict[str, Value]],
    sibling: tuple[str | None, dict[str, Value]],
) -> None:
    tables = {world.city: city, world.county: county, world.enterprise: enterprise, world.sibling: sibling}
    whole = scope == ReportingScope.WHOLE_AREA

    def oracle(*units: Unit) -> dict[str, Value]:
        accepted = [tables[unit][1] for unit in units if tables[unit][0] == Submission.Status.ACCEPTED]
        return combine_tables(FORM, accepted)

    with transaction.atomic():
        world.campaign.reporting_scope = scope
        world.campaign.save(update_fields=["reporting_scope"])
        for unit, (status, values) in tables.items():
            store(world, unit, status, values)
        campaign = world.campaign
        if whole:
            expected_city = oracle(world.city)
            expected_county = oracle(world.county)
            below_city = oracle(world.county, world.sibling)
        else:
            expected_city = oracle(*tables)
            expected_county = oracle(world.county, world.enterprise)
            below_city = oracle(world.county, world.enterprise, world.sibling)
        assert_same(rollup(campaign, WARMTH, world.city), expected_city)
        assert_same(rollup(campaign, WARMTH, world.county), expected_county)
        assert_same(rollup(campaign, WARMTH, world.enterprise), oracle(world.enterprise))
        assert_same(accepted_below(campaign, WARMTH, world.city), below_city)
        assert_same(accepted_below(campaign, WARMTH, world.county), oracle(world.enterprise))
        assert_same(accepted_below(campaign, WARMTH, world.enterprise), oracle())

        blank: dict[str, Value] = dict.fromkeys(FORM.codes)
        by_child = rollup_by_child(campaign, WARMTH, world.city)
        assert set(by_child) <= {world.city.pk, world.county.pk, world.sibling.pk}
        assert_same(by_child.get(world.city.pk, blank), oracle(world.city))
        assert_same(by_child.get(world.county.pk, blank), expected_county)
        assert_same(by_child.get(world.sibling.pk, blank), oracle(world.sibling))

        page = rollup_page(campaign, FORM, world.city, visible=lambda unit: True)
        assert_same(page.levels.own, oracle(world.city))
        assert_same(page.levels.area, expected_city)
        assert_same(page.levels.below, below_city)
        assert page.levels.discrepancies == (
            {code for code in FORM.codes if exceeds(below_city[code], expected_city[code])}
            if whole
            else set()
        )
        if not whole:  # 全辖 = 本级 + below, item by item
            assert_same(combine_tables(FORM, [page.levels.own, page.levels.below]), page.levels.area)

        typed = county[1]
        levels = entry_levels(campaign, FORM, world.county, typed)
        own = {code: typed.get(code) for code in FORM.codes}
        assert_same(levels.below, oracle(world.enterprise))
        assert_same(levels.area, own if whole else combine_tables(FORM, [own, oracle(world.enterprise)]))
        transaction.set_rollback(True)


numbers = st.one_of(st.none(), GOOD[ItemKind.COUNT], GOOD[ItemKind.MONEY])


@given(below=numbers, reported=numbers)
def test_a_discrepancy_is_more_below_than_reported_and_blank_is_never_one(
    below: Value, reported: Value
) -> None:
    expected = below is not None and reported is not None and Decimal(str(below)) > Decimal(str(reported))
    assert exceeds(below, reported) is expected
    assert not exceeds(below, None) and not exceeds(None, reported)
    assert not exceeds("是", reported) and not exceeds(below, "否")


@given(parts=st.lists(st.one_of(st.none(), GOOD[ItemKind.COUNT]), max_size=5), reported=numbers)
def test_levels_mark_exactly_the_items_whose_children_exceed(parts: list[Value], reported: Value) -> None:
    below = combine(parts, ItemKind.COUNT)
    for whole in (True, False):
        levels = Levels(whole, {"1A": reported}, {"1A": below}, {"1A": reported}, has_below=bool(parts))
        assert levels.discrepancies == ({"1A"} if whole and exceeds(below, reported) else set())
