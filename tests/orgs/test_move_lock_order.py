"""A unit's move and the writers beside it take their locks in one order — the campaign, then the units — so
that on PostgreSQL they wait for each other in turn and never in a cycle (a deadlock, which PostgreSQL ends
by failing one of them: a reporter's payment or an administrator's move refused with a server error).

The writer here holds its campaign (KEY SHARE, as `ledger.totals.changed` and `reporting.branch_totals`
take it) and then wants a unit of the moved branch FOR UPDATE; the move starts in between. When the move
locked the branch's units first and its campaigns only after (as it did), the two waited for each other.
SQLite writes one transaction at a time: there is nothing to order there."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from songnuan.campaigns.services import lock_campaign, lock_unit_in_campaign
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_move
from songnuan.reporting import branch_totals

from ..world import World

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only"),
]

#: Long enough for the move to reach its first lock while the writer waits; the assertions do not depend on
#: it (in the right order both finish whatever the timing), only the chance of catching the wrong order.
HEAD_START = 0.5


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported to the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _race_a_move(world: World, writer: Callable[[threading.Event, threading.Event], None]) -> None:
    """`writer(holding, move_started)` in one thread, the move of 东宝区总工会 (with the enterprise below it)
    under 钟祥市总工会 in another, begun once the writer holds its first lock; both must finish."""
    holding, move_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def mover() -> None:
        holding.wait(10)
        move_started.set()
        unit_move(world.users["city_admin"], world.county, world.sibling)

    threads = [_in_thread(lambda: writer(holding, move_started), errors), _in_thread(mover, errors)]
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def test_a_move_and_a_writer_holding_its_campaign_both_finish(world: World) -> None:
    campaign = world.campaign
    branch_totals.build(campaign.pk, campaign.form_codes[0])  # kept rows: a move locks this campaign

    def writer(holding: threading.Event, move_started: threading.Event) -> None:
        with transaction.atomic():
            lock_campaign(campaign.pk, exclusive=False)
            holding.set()
            move_started.wait(10)
            time.sleep(HEAD_START)
            list(Unit.objects.select_for_update().filter(pk=world.enterprise.pk).values_list("pk"))

    _race_a_move(world, writer)
    world.enterprise.refresh_from_db()
    assert world.enterprise.path.startswith(Unit.objects.get(pk=world.sibling.pk).path)


def test_a_move_and_a_ledger_writer_holding_its_unit_both_finish(world: World) -> None:
    """A payment's writer locks its unit to check the remainder (`lock_unit_in_campaign`), and then keeps the
    ledger's totals (`ledger.totals.changed`: the campaign, then the units). Its unit lock takes the campaign
    first: taken the other way round, a move that holds the campaign and waits for the unit would wait for a
    writer waiting for the campaign."""
    from songnuan.ledger import totals

    campaign = world.campaign
    branch_totals.build(campaign.pk, campaign.form_codes[0])

    def writer(holding: threading.Event, move_started: threading.Event) -> None:
        with transaction.atomic():
            lock_unit_in_campaign(campaign.pk, world.enterprise.pk)
            holding.set()
            move_started.wait(10)
            time.sleep(HEAD_START)
            totals.changed(campaign.pk, [world.enterprise.pk])

    _race_a_move(world, writer)
