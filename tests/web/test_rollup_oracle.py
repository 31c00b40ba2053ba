"""The SQL roll-up against the pure rule: for random tables of the world's units (some accepted, some not),
`rollup` and `rollup_by_child` give exactly what `formkit.rollup.combine` gives over the accepted tables of
each subtree — blank stays blank, counts stay int, 万元 stay Decimal (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.formkit.definitions import get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.rollup import combine_tables
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.rollup import rollup, rollup_by_child

from ..formkit.strategies import GOOD
from ..world import World

WARMTH = "warmth-2018"
FORM = get_form(WARMTH)
#: A few counts and 万元 amounts (the built-in forms have no 是/否 item).
CODES = ("1A", "2C", "2D", "3A", "3B")
STATUSES = [None, *Submission.Status.values]  # None: the unit has no table

table = st.fixed_dictionaries({code: st.one_of(st.none(), GOOD[FORM.item(code).kind]) for code in CODES})
unit_table = st.tuples(st.sampled_from(STATUSES), table)


def store(world: World, unit: Unit, status: str | None, values: Mapping[str, Value]) -> Submission | None:
    """The unit's table in `status` with `values` (the numbers; None: no table)."""
    if status is None:
        return None
    submission = Submission.objects.create(
        campaign=world.campaign, unit=unit, form_code=WARMTH, status=status
    )
    SubmissionValue.objects.bulk_create(
        SubmissionValue(submission=submission, item=code, number=Decimal(value))
        for code, value in values.items()
        if isinstance(value, int | Decimal)
    )
    return submission


def assert_same(found: Mapping[str, Value], expected: Mapping[str, Value]) -> None:
    assert found == expected
    assert {code: type(value) for code, value in found.items()} == {
        code: type(value) for code, value in expected.items()
    }


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(city=unit_table, county=unit_table, enterprise=unit_table, sibling=unit_table)
def test_sql_rollup_agrees_with_combine(
    world: World,
    city: tuple[str | None, dict[str, Value]],
    county: tuple[str | None, dict[str, Value]],
    enterprise: tuple[str | None, dict[str, Value]],
    sibling: tuple[str | None, dict[str, Value]],
) -> None:
    tables = {world.city: city, world.county: county, world.enterprise: enterprise, world.sibling: sibling}

    def oracle(*units: Unit) -> dict[str, Value]:
        accepted = [tables[unit][1] for unit in units if tables[unit][0] == Submission.Status.ACCEPTED]
        return combine_tables(FORM, accepted)

    with transaction.atomic():
        for unit, (status, values) in tables.items():
            store(world, unit, status, values)
        assert_same(rollup(world.campaign, WARMTH, world.city), oracle(*tables))
        assert_same(rollup(world.campaign, WARMTH, world.county), oracle(world.county, world.enterprise))
        assert_same(rollup(world.campaign, WARMTH, world.enterprise), oracle(world.enterprise))
        blank: dict[str, Value] = dict.fromkeys(FORM.codes)
        by_child = rollup_by_child(world.campaign, WARMTH, world.city)
        assert set(by_child) <= {world.city.pk, world.county.pk, world.sibling.pk}
        assert_same(by_child.get(world.city.pk, blank), oracle(world.city))
        assert_same(by_child.get(world.county.pk, blank), oracle(world.county, world.enterprise))
        assert_same(by_child.get(world.sibling.pk, blank), oracle(world.sibling))
        transaction.set_rollback(True)
