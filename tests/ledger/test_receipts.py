"""Money raised and passed down, and what a unit may spend of it: receipts, allocations (下拨), their
reversals, the spending limit on help records (drafts reserve money), and the totals by source, where an
allocation is raised once, where it was raised."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from songnuan.ledger.models import FundSource, HelpRecord, LedgerEvent, Receipt
from songnuan.ledger.selectors import SourceTotals, totals_by_source
from songnuan.ledger.services import (
    LedgerError,
    allocate,
    available,
    help_record_edit,
    help_record_reverse,
    receipt_add,
    receipt_reverse,
)
from songnuan.orgs.models import Unit
from tests.ledger.ledgerworld import LedgerWorld, help_input
from tests.world import World

D = Decimal
ON = dt.date(2018, 1, 3)


def source(code: str) -> FundSource:
    return FundSource.objects.get(code=code)


def left(world: World, unit: Unit, code: str) -> Decimal:
    return available(world.campaign, unit, source(code))


def raise_(world: World, unit: Unit, code: str, amount: str, user: str) -> Receipt:
    return receipt_add(
        user=world.users[user],
        campaign=world.campaign,
        unit=unit,
        source=source(code),
        amount=D(amount),
        received_on=ON,
        reference="凭证1号",
    )


def give(world: World, giver: Unit, taker: Unit, code: str, amount: str, user: str) -> Receipt:
    return allocate(
        user=world.users[user],
        campaign=world.campaign,
        giver=giver,
        taker=taker,
        source=source(code),
        amount=D(amount),
        on=ON,
        reference="荆工拨〔2018〕2号",
    )


def totals(world: World, unit: Unit, code: str, *, subtree: bool) -> SourceTotals:
    return next(t for t in totals_by_source(world.campaign, unit, subtree=subtree) if t.source.code == code)


def over_budget(ledger: LedgerWorld, **changes: Any) -> LedgerError:
    with pytest.raises(LedgerError) as refused:
        ledger.add(help_input(ledger.wang, **changes))
    assert "over-budget" in {p.code for p in refused.value.problems}
    return refused.value


# --- receipts -----------------------------------------------------------------------------------------------


def test_a_receipt_is_recorded_and_audited(world: World) -> None:
    receipt = raise_(world, world.county, "donation", "12345.67", "county_reporter")
    assert receipt.kind == Receipt.Kind.RAISED and receipt.from_unit is None
    assert left(world, world.county, "donation") == D("12345.67")
    event = LedgerEvent.objects.get(receipt=receipt)
    assert event.action == LedgerEvent.Action.RECEIPT_ADDED and event.user == world.users["county_reporter"]
    assert event.old == {} and event.new["amount"] == "12345.67" and event.new["reference"] == "凭证1号"


@pytest.mark.parametrize("amount", ["0", "-100", "10.001"])
def test_a_receipt_that_is_not_an_amount_is_refused(world: World, amount: str) -> None:
    with pytest.raises(LedgerError):
        raise_(world, world.county, "donation", amount, "county_reporter")
    assert not Receipt.objects.exists() and not LedgerEvent.objects.exists()


def test_a_receipt_too_large_for_the_ledger_is_refused_not_a_traceback(world: World) -> None:
    with pytest.raises(LedgerError):
        raise_(world, world.county, "donation", "1000000000000", "county_reporter")
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("user", ["sibling_reporter", "city_admin", "enterprise_reporter"])
def test_only_the_units_own_accounts_record_its_receipts(world: World, user: str) -> None:
    with pytest.raises(PermissionDenied):
        raise_(world, world.county, "donation", "100", user)
    assert raise_(world, world.county, "donation", "100", "county_reviewer").pk


# --- spending: at most what was raised and allocated --------------------------------------------------------


def test_spending_up_to_what_was_raised_then_refused(ledger: LedgerWorld) -> None:
    assert ledger.add(help_input(ledger.wang, item="other", source="union", amount=D("50000"))).pk
    error = over_budget(ledger, item="other", source="union", amount=D("0.01"))
    assert "工会经费" in error.message and "0.01" in error.message


def test_no_money_of_a_source_no_spending(ledger: LedgerWorld) -> None:
    over_budget(ledger, source="donation", channel=HelpRecord.Channel.CASH, cash_reason="无卡")


def test_drafts_reserve_money(ledger: LedgerWorld) -> None:
    world = ledger.world
    draft = ledger.add(help_input(ledger.wang, item="other", amount=D("60000")))
    assert draft.state == HelpRecord.State.DRAFT
    assert left(world, world.county, "central") == D("40000.00")
    assert ledger.add(help_input(ledger.li, item="other", amount=D("40000"))).pk
    over_budget(ledger, item="other", amount=D("0.01"))


def test_goods_value_is_spending_too(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang, item="other", source="union", amount=D("49000")))
    over_budget(
        ledger,
        item="other",
        source="union",
        channel=HelpRecord.Channel.GOODS,
        amount=None,
        goods_description="棉被",
        goods_value=D("1000.01"),
    )
    goods = ledger.add(
        help_input(
            ledger.li,
            item="other",
            source="union",
            channel=HelpRecord.Channel.GOODS,
            amount=None,
            goods_description="棉被",
            goods_value=D("1000"),
        )
    )
    assert goods.value == D("1000") and left(ledger.world, ledger.world.county, "union") == D("0")


def test_editing_a_draft_does_not_count_it_twice(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    draft = ledger.add(help_input(ledger.wang, item="other", source="union", amount=D("30000")))
    edited = help_record_edit(
        user=user, record=draft, data=help_input(ledger.wang, item="other", source="union", amount=D("50000"))
    )
    assert edited.amount == D("50000")
    with pytest.raises(LedgerError) as refused:
        help_record_edit(
            user=user,
            record=draft,
            data=help_input(ledger.wang, item="other", source="union", amount=D("50000.01")),
        )
    assert {p.code for p in refused.value.problems} == {"over-budget"}
    draft.refresh_from_db()
    assert draft.amount == D("50000")


def test_a_reversal_gives_the_money_back(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.approve(
        ledger.add(help_input(ledger.wang, item="other", source="union", amount=D("50000")))
    )
    over_budget(ledger, item="other", source="union", amount=D("1"))
    help_record_reverse(user=world.users["county_reviewer"], record=record, reason="发错对象")
    assert left(world, world.county, "union") == D("50000.00")
    assert ledger.add(help_input(ledger.li, item="other", source="union", amount=D("50000"))).pk


# --- allocations ------------------------------------------------------------------------------------------


@pytest.fixture
def city_money(world: World) -> World:
    """The city raised 100 yuan of donations."""
    raise_(world, world.city, "donation", "100", "city_admin")
    return world


def test_an_allocation_is_at_most_what_the_giver_has_left(city_money: World) -> None:
    world = city_money
    receipt = give(world, world.city, world.county, "donation", "60", "city_admin")
    assert receipt.kind == Receipt.Kind.ALLOCATION and receipt.unit == world.county
    assert receipt.from_unit == world.city
    assert left(world, world.city, "donation") == D("40.00")
    assert left(world, world.county, "donation") == D("60.00")
    with pytest.raises(LedgerError) as refused:
        give(world, world.city, world.county, "donation", "40.01", "city_reviewer")
    assert "40" in refused.value.message
    assert give(world, world.city, world.sibling, "donation", "40", "city_reviewer").pk
    assert left(world, world.city, "donation") == D("0")


def test_an_allocation_is_audited(city_money: World) -> None:
    world = city_money
    receipt = give(world, world.city, world.county, "donation", "60", "city_admin")
    event = LedgerEvent.objects.get(receipt=receipt)
    assert event.action == LedgerEvent.Action.ALLOCATED and event.user == world.users["city_admin"]
    assert event.unit == world.city and event.new["unit"] == world.county.name and event.new["amount"] == "60"


@pytest.mark.parametrize(
    ("user", "giver", "taker"),
    [
        ("county_reporter", "county", "city"),  # up the tree
        ("county_reporter", "county", "sibling"),  # sideways
        ("county_reporter", "county", "county"),  # to itself
        ("county_reviewer", "city", "county"),  # not an account of the giver
        ("sibling_reporter", "city", "county"),
    ],
)
def test_allocations_go_down_from_the_givers_own_accounts(
    city_money: World, user: str, giver: str, taker: str
) -> None:
    world = city_money
    raise_(world, world.county, "donation", "100", "county_reporter")
    with pytest.raises(PermissionDenied):
        give(world, getattr(world, giver), getattr(world, taker), "donation", "10", user)
    assert not Receipt.objects.filter(kind=Receipt.Kind.ALLOCATION).exists()


def test_the_taker_spends_allocated_money_the_giver_no_longer_can(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_(world, world.city, "donation", "100", "city_admin")
    give(world, world.city, world.county, "donation", "60", "city_admin")
    over_budget(ledger, item="other", source="donation", amount=D("60.01"))
    assert ledger.add(help_input(ledger.wang, item="other", source="donation", amount=D("60"))).pk
    with pytest.raises(LedgerError):
        give(world, world.city, world.county, "donation", "40.01", "city_admin")


def test_money_passed_on_down_again(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_(world, world.city, "donation", "100", "city_admin")
    give(world, world.city, world.county, "donation", "60", "city_admin")
    give(world, world.county, world.enterprise, "donation", "20", "county_reporter")
    assert left(world, world.county, "donation") == D("40.00")
    assert left(world, world.enterprise, "donation") == D("20.00")
    with pytest.raises(LedgerError):
        give(world, world.county, world.enterprise, "donation", "40.01", "county_reporter")


# --- receipt reversals --------------------------------------------------------------------------------------


def test_a_receipt_reversal_needs_a_reason(world: World) -> None:
    receipt = raise_(world, world.county, "donation", "100", "county_reporter")
    with pytest.raises(LedgerError):
        receipt_reverse(user=world.users["county_reporter"], receipt=receipt, reason="  ")
    assert Receipt.objects.count() == 1


def test_an_unspent_receipt_is_reversed_once(world: World) -> None:
    receipt = raise_(world, world.county, "donation", "100", "county_reporter")
    reversal = receipt_reverse(user=world.users["county_reporter"], receipt=receipt, reason="重复登记")
    assert reversal.amount == D("-100") and reversal.reverses == receipt and reversal.note == "重复登记"
    assert left(world, world.county, "donation") == D("0")
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.RECEIPT_REVERSED)
    assert (
        event.receipt == receipt and event.user == world.users["county_reporter"] and event.note == "重复登记"
    )
    assert event.new["amount"] == "-100"
    for again in (receipt, reversal):
        with pytest.raises(LedgerError):
            receipt_reverse(user=world.users["county_reporter"], receipt=again, reason="再冲一次")
    assert Receipt.objects.count() == 2


def test_a_receipt_already_spent_cannot_be_reversed(ledger: LedgerWorld) -> None:
    world = ledger.world
    union = Receipt.objects.get(unit=world.county, source__code="union")
    ledger.add(
        help_input(ledger.wang, item="other", source="union", amount=D("0.01"))
    )  # a draft holds it too
    with pytest.raises(LedgerError) as refused:
        receipt_reverse(user=world.users["county_reporter"], receipt=union, reason="录错")
    assert "49999.99" in refused.value.message
    assert not Receipt.objects.filter(reverses=union).exists()


def test_a_receipt_passed_on_cannot_be_reversed(city_money: World) -> None:
    world = city_money
    raised = Receipt.objects.get(unit=world.city)
    give(world, world.city, world.county, "donation", "60", "city_admin")
    with pytest.raises(LedgerError):
        receipt_reverse(user=world.users["city_admin"], receipt=raised, reason="录错")


def test_an_allocation_reversed_gives_the_money_back_to_the_giver(city_money: World) -> None:
    world = city_money
    allocation = give(world, world.city, world.county, "donation", "60", "city_admin")
    with pytest.raises(PermissionDenied):  # the taker may not cancel what it was given
        receipt_reverse(user=world.users["county_reporter"], receipt=allocation, reason="不要了")
    receipt_reverse(user=world.users["city_admin"], receipt=allocation, reason="拨错单位")
    assert left(world, world.city, "donation") == D("100.00")
    assert left(world, world.county, "donation") == D("0")
    assert totals(world, world.county, "donation", subtree=False).allocated_in == D("0")


def test_an_allocation_spent_cannot_be_reversed(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_(world, world.city, "donation", "100", "city_admin")
    allocation = give(world, world.city, world.county, "donation", "60", "city_admin")
    ledger.add(help_input(ledger.wang, item="other", source="donation", amount=D("10")))
    with pytest.raises(LedgerError):
        receipt_reverse(user=world.users["city_admin"], receipt=allocation, reason="拨错单位")
    assert left(world, world.city, "donation") == D("40.00")


# --- totals by source: raised once, where raised ------------------------------------------------------------


def test_an_allocation_is_raised_once_where_it_was_raised(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_(world, world.city, "donation", "100", "city_admin")
    give(world, world.city, world.county, "donation", "60", "city_admin")
    give(world, world.county, world.enterprise, "donation", "20", "county_reporter")

    city_tree = totals(world, world.city, "donation", subtree=True)
    assert (city_tree.raised, city_tree.allocated_in, city_tree.allocated_out) == (D("100"), D("0"), D("0"))
    assert city_tree.left == D("100")

    city = totals(world, world.city, "donation", subtree=False)
    assert (city.raised, city.allocated_in, city.allocated_out, city.left) == (
        D("100"),
        D("0"),
        D("60"),
        D("40"),
    )

    county_tree = totals(world, world.county, "donation", subtree=True)
    assert (county_tree.raised, county_tree.allocated_in, county_tree.allocated_out) == (
        D("0"),
        D("60"),
        D("0"),
    )

    county = totals(world, world.county, "donation", subtree=False)
    assert (county.raised, county.allocated_in, county.allocated_out, county.left) == (
        D("0"),
        D("60"),
        D("20"),
        D("40"),
    )

    enterprise = totals(world, world.enterprise, "donation", subtree=True)
    assert (enterprise.raised, enterprise.allocated_in, enterprise.left) == (D("0"), D("20"), D("20"))

    # money the county raised itself is raised in the city's tree too
    assert totals(world, world.city, "union", subtree=True).raised == D("50000")
    assert totals(world, world.city, "union", subtree=False).raised == D("0")


def test_totals_split_spent_and_reserved(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_(world, world.city, "donation", "100", "city_admin")
    give(world, world.city, world.county, "donation", "60", "city_admin")
    approved = ledger.approve(
        ledger.add(help_input(ledger.wang, item="other", source="donation", amount=D("10")))
    )
    ledger.add(help_input(ledger.li, item="other", source="donation", amount=D("5")))
    county = totals(world, world.county, "donation", subtree=False)
    assert (county.spent, county.reserved, county.left) == (D("10"), D("5"), D("45"))
    city_tree = totals(world, world.city, "donation", subtree=True)
    assert (city_tree.raised, city_tree.spent, city_tree.reserved, city_tree.left) == (
        D("100"),
        D("10"),
        D("5"),
        D("85"),
    )
    help_record_reverse(user=world.users["county_reviewer"], record=approved, reason="重复")
    assert totals(world, world.city, "donation", subtree=True).spent == D("0")


def test_a_reversed_receipt_is_raised_no_more(city_money: World) -> None:
    world = city_money
    receipt = Receipt.objects.get(unit=world.city)
    receipt_reverse(user=world.users["city_admin"], receipt=receipt, reason="录错")
    assert totals(world, world.city, "donation", subtree=True).raised == D("0")
