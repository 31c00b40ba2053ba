"""The maintained roll-up totals (`reporting.branch_totals`) against the flat GROUP BY they replace: through
random trees, random accepts, unlocks and unit moves (a property), through the real services, and the
`rollup_totals` command that verifies and rebuilds them."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.definitions import get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.rollup import combine_tables
from songnuan.orgs.models import Unit
from songnuan.orgs.services import count_units_below, unit_create, unit_move, units_below_wrong
from songnuan.reporting import branch_totals
from songnuan.reporting.models import BranchTotals, BranchTotalsBuild, Submission, SubmissionValue
from songnuan.reporting.rollup import accepted_below, flat_rollup, rollup, rollup_by_child, rollup_page
from songnuan.reporting.services import stored_values, submission_accept, submission_unlock

from ..formkit.strategies import GOOD
from ..world import World
from .test_rollup_oracle import store
from .test_workflow_services import submitted

WARMTH = "warmth-2018"
FORM = get_form(WARMTH)
CODES = ("1A", "2C", "3A", "3B")
BLANK: dict[str, Value] = dict.fromkeys(FORM.codes)

table = st.fixed_dictionaries({code: st.one_of(st.none(), GOOD[FORM.item(code).kind]) for code in CODES})
#: Extra units: each under one of the units made before it (0–3 are the world's city, county, enterprise,
#: sibling).
tree = st.lists(st.integers(min_value=0, max_value=20), min_size=0, max_size=5)
operation = st.tuples(st.sampled_from(["accept", "unlock", "move"]), st.integers(0, 50), st.integers(0, 50))


def submitted_table(world: World, unit: Unit, values: Mapping[str, Value]) -> Submission:
    submission = store(world, unit, Submission.Status.SUBMITTED, values)
    assert submission is not None
    return submission


def move_status(submission: Submission, status: str) -> None:
    """What the services' transitions do to the totals (`services._review`), without the form's rules:
    random values seldom add up, and the services refuse to accept a table with errors."""
    old = submission.status
    submission.status = status
    submission.save()
    accepted = Submission.Status.ACCEPTED
    if (old == accepted) != (status == accepted):
        branch_totals.table_moved(submission, accepted=status == accepted)


def accepted_tables_below(world: World, unit: Unit) -> dict[str, Value]:
    """What `accepted_below` must say, by the pure rule: the accepted tables below the unit combined."""
    below = Submission.objects.filter(
        campaign=world.campaign,
        form_code=WARMTH,
        status=Submission.Status.ACCEPTED,
        unit__path__startswith=unit.path,
    ).exclude(unit=unit)
    return combine_tables(FORM, [stored_values(submission) for submission in below])


def assert_agrees(world: World, units: list[Unit]) -> None:
    for unit in units:
        unit.refresh_from_db()
    for unit in units:
        assert rollup(world.campaign, WARMTH, unit) == flat_rollup(world.campaign, WARMTH, unit), unit.name
        assert accepted_below(world.campaign, WARMTH, unit) == accepted_tables_below(world, unit), unit.name
        by_child = rollup_by_child(world.campaign, WARMTH, unit)
        for child in [u for u in units if u.parent_id == unit.pk]:
            assert by_child.get(child.pk, BLANK) == flat_rollup(world.campaign, WARMTH, child), child.name
    assert branch_totals.verify(world.campaign) == []
    assert units_below_wrong() == {}
    for unit in units:
        page = rollup_page(world.campaign, FORM, unit, visible=lambda _unit: True)
        subtree = Submission.objects.filter(
            campaign=world.campaign, form_code=WARMTH, unit__path__startswith=unit.path
        )
        assert page.expected == Unit.objects.filter(path__startswith=unit.path).count(), unit.name
        assert page.accepted == subtree.filter(status=Submission.Status.ACCEPTED).count(), unit.name
        assert page.pending_count == page.expected - page.accepted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parents=tree,
    tables=st.lists(table, min_size=10, max_size=10),
    operations=st.lists(operation, max_size=12),
)
def test_maintained_totals_equal_the_flat_group_by_through_accepts_unlocks_and_moves(
    world: World,
    parents: list[int],
    tables: list[dict[str, Value]],
    operations: list[tuple[str, int, int]],
) -> None:
    admin = world.users["city_admin"]
    with transaction.atomic():
        units = [world.city, world.county, world.enterprise, world.sibling]
        for unit in units:  # an earlier example may have moved one, and rolled the move back
            unit.refresh_from_db()
        for number, parent in enumerate(parents):
            units.append(
                unit_create(
                    name=f"工会{number}", kind=Unit.Kind.ENTERPRISE, parent=units[parent % len(units)]
                )
            )
        submissions = [
            submitted_table(world, unit, values) for unit, values in zip(units, tables, strict=False)
        ]
        branch_totals.build(world.campaign.pk, WARMTH)  # from here on every change is kept, not rebuilt
        built = BranchTotalsBuild.objects.get(campaign=world.campaign, form_code=WARMTH).built_at
        for kind, first, second in operations:
            submission = submissions[first % len(submissions)]
            if kind == "accept":
                move_status(submission, Submission.Status.ACCEPTED)
            elif kind == "unlock" and submission.status == Submission.Status.ACCEPTED:
                move_status(submission, Submission.Status.RETURNED)
            elif kind == "move":
                moved = units[1 + first % (len(units) - 1)]  # never the city, the root
                target = units[second % len(units)]
                moved.refresh_from_db()
                target.refresh_from_db()
                if not target.is_within(moved) and moved.parent_id != target.pk:
                    unit_move(admin, moved, target)
        assert BranchTotalsBuild.objects.get(campaign=world.campaign, form_code=WARMTH).built_at == built
        assert_agrees(world, units)
        transaction.set_rollback(True)


# --- through the services -------------------------------------------------------------------------------


def test_an_accept_adds_the_table_to_every_branch_above_and_an_unlock_takes_it_out(world: World) -> None:
    submission = submitted(world)
    assert rollup(world.campaign, WARMTH, world.city)["1A"] is None  # built here, with nothing accepted
    submission_accept(submission=submission, user=world.users["county_reviewer"])
    for unit in (world.enterprise, world.county, world.city):
        assert rollup(world.campaign, WARMTH, unit)["1A"] == 48
        assert BranchTotals.objects.get(campaign=world.campaign, form_code=WARMTH, unit=unit).tables == 1
    assert rollup(world.campaign, WARMTH, world.sibling)["1A"] is None
    assert accepted_below(world.campaign, WARMTH, world.county)["1A"] == 48
    assert accepted_below(world.campaign, WARMTH, world.enterprise)["1A"] is None

    submission_unlock(submission=submission, user=world.users["county_reviewer"], reason="数字有误")
    for unit in (world.enterprise, world.county, world.city):
        assert rollup(world.campaign, WARMTH, unit) == BLANK  # blank again, not 0
        assert BranchTotals.objects.get(campaign=world.campaign, form_code=WARMTH, unit=unit).tables == 0
    assert branch_totals.verify(world.campaign) == []


def test_a_unit_moved_takes_its_accepted_tables_to_its_new_units_above(world: World) -> None:
    submission_accept(submission=submitted(world), user=world.users["county_reviewer"])
    assert rollup(world.campaign, WARMTH, world.county)["1A"] == 48
    unit_move(world.users["city_admin"], world.enterprise, world.sibling)
    assert rollup(world.campaign, WARMTH, world.county)["1A"] is None
    assert rollup(world.campaign, WARMTH, world.sibling)["1A"] == 48
    assert rollup(world.campaign, WARMTH, world.city)["1A"] == 48  # above both: unchanged
    assert branch_totals.verify(world.campaign) == []


def test_a_campaign_of_whole_areas_reads_the_units_own_tables(world: World) -> None:
    world.campaign.reporting_scope = ReportingScope.WHOLE_AREA
    world.campaign.save()
    submission_accept(submission=submitted(world), user=world.users["county_reviewer"])
    assert rollup(world.campaign, WARMTH, world.enterprise)["1A"] == 48
    assert rollup(world.campaign, WARMTH, world.county)["1A"] is None  # its own table: none accepted
    assert accepted_below(world.campaign, WARMTH, world.county)["1A"] == 48  # the children's own tables
    assert accepted_below(world.campaign, WARMTH, world.city)["1A"] is None  # a grandchild: not added


# --- the command --------------------------------------------------------------------------------------------


def test_the_command_finds_a_planted_difference_and_rebuild_mends_it(world: World) -> None:
    submission_accept(submission=submitted(world), user=world.users["county_reviewer"])
    assert rollup(world.campaign, WARMTH, world.city)["1A"] == 48
    out = io.StringIO()
    call_command("rollup_totals", stdout=out)
    assert "agree" in out.getvalue()

    row = BranchTotals.objects.get(campaign=world.campaign, form_code=WARMTH, unit=world.county)
    row.values["1A"][0] = "50"
    row.tables = 3
    row.save()
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("rollup_totals", stdout=out)
    assert f"unit {world.county.pk} item 1A" in out.getvalue()
    assert f"unit {world.county.pk} tables" in out.getvalue()
    assert rollup(world.campaign, WARMTH, world.county)["1A"] == 50  # what is kept is what is read

    call_command("rollup_totals", "--rebuild", stdout=io.StringIO())
    call_command("rollup_totals", stdout=io.StringIO())
    assert rollup(world.campaign, WARMTH, world.county)["1A"] == 48


def test_the_command_names_a_campaign_that_does_not_exist(world: World) -> None:
    with pytest.raises(CommandError, match="no campaign 999"):
        call_command("rollup_totals", "--campaign", "999", stdout=io.StringIO())


def test_the_rollup_page_reads_no_value_of_the_tables_below(world: World) -> None:
    """The totals, the drill-down and the counts come from the kept rows and the units' index: a page at the
    root of the country must not add up the hundreds of millions of values below it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    submission_accept(submission=submitted(world), user=world.users["county_reviewer"])
    client = world.client("city_reviewer")
    for name in ("rollup", "grid"):
        page = reverse(f"review:{name}", args=[world.campaign.pk, world.city.pk, WARMTH])
        client.get(page)  # the first read builds the kept rows (from the values, once)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        values = SubmissionValue._meta.db_table
        assert not [query["sql"] for query in queries if values in query["sql"]], name


# --- the count of units below each unit -----------------------------------------------------------------


def test_each_unit_counts_the_units_below_it_through_adds_moves_and_removals(world: World) -> None:
    """The roll-up counts the tables it expects from these counts: they follow every change of the tree."""

    def below(*units: Unit) -> list[int]:
        return [Unit.objects.get(pk=unit.pk).units_below for unit in units]

    assert below(world.city, world.county, world.enterprise, world.sibling) == [3, 1, 0, 0]
    leaf = unit_create(name="新企业工会", kind=Unit.Kind.ENTERPRISE, parent=world.enterprise)
    assert below(world.city, world.county, world.enterprise) == [4, 2, 1]
    unit_move(world.users["city_admin"], world.enterprise, world.sibling)  # with the leaf below it
    assert below(world.city, world.county, world.sibling, world.enterprise) == [4, 0, 2, 1]
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.user = world.users["city_admin"]
    leaf.refresh_from_db()  # as the admin reads it: below the moved enterprise now
    site._registry[Unit].delete_model(request, leaf)
    assert below(world.city, world.sibling, world.enterprise) == [3, 1, 0]
    assert units_below_wrong() == {}


def test_a_wrong_count_is_found_by_the_command_and_mended_by_rebuild(world: World) -> None:
    Unit.objects.filter(pk=world.county.pk).update(units_below=7)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("rollup_totals", stdout=out)
    assert f"unit {world.county.pk}: keeps 7 unit(s) below it, the paths say 1" in out.getvalue()
    call_command("rollup_totals", "--rebuild", stdout=io.StringIO())
    assert Unit.objects.get(pk=world.county.pk).units_below == 1
    assert count_units_below() == 0
