"""The ledger's core path end to end: a payment recorded, refused by the money rules, approved, reversed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from songnuan.ledger.models import FundSource, HelpRecord, LedgerEvent
from songnuan.ledger.services import LedgerError, available, help_record_reverse
from tests.ledger.ledgerworld import LedgerWorld, help_input


def test_a_payment_is_recorded_approved_and_reversed(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang))
    assert record.state == HelpRecord.State.DRAFT and record.card_number == ledger.wang.card_number
    record = ledger.approve(record)
    assert record.state == HelpRecord.State.APPROVED and record.payment == HelpRecord.Payment.QUEUED
    central = FundSource.objects.get(code="central")
    assert available(ledger.world.campaign, ledger.world.county, central) == Decimal("99000.00")
    reversal = help_record_reverse(
        user=ledger.world.users["county_reviewer"], record=record, reason="重复录入"
    )
    assert reversal.amount == Decimal("-1000.00")
    assert available(ledger.world.campaign, ledger.world.county, central) == Decimal("100000.00")


@pytest.mark.parametrize(
    ("who", "changes", "code"),
    [
        ("li", {}, "archive-first"),  # filed 2018-01-20, paid 2018-01-25: fine — see the next case
        ("li", {"paid_on": dt.date(2018, 1, 19)}, "archive-first"),
        ("zhang", {}, "archive-first"),
        ("zhao", {}, "archive-first"),
        ("wang", {"channel": HelpRecord.Channel.CASH}, "cash-bound"),
        ("wang", {"amount": Decimal("200000")}, "over-budget"),
    ],
)
def test_refusals(ledger: LedgerWorld, who: str, changes: dict[str, object], code: str) -> None:
    target = getattr(ledger, who)
    if who == "li" and not changes:
        assert ledger.add(help_input(target)).pk
        return
    with pytest.raises(LedgerError) as refused:
        ledger.add(help_input(target, **changes))
    assert code in {p.code for p in refused.value.problems}
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.REFUSED).count() == 1
