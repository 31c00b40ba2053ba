"""依档帮扶 as a property: for any filing date and time (or none), any end of the file (out of difficulty or
closed, or none) and any payment date in the campaign, a payment from a bound fund (central) is accepted by
`help_record_add` exactly when the file was open on the payment date: filed on or before it (in China's
calendar) and not ended on or before it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from songnuan.archive.models import Household
from songnuan.archive.services import household_close, household_out_of_difficulty
from songnuan.ledger.models import HelpRecord, LedgerEvent
from songnuan.ledger.services import LedgerError
from tests.ledger.ledgerworld import CHINA, LedgerWorld, help_input, household, raise_money

CAMPAIGN_START, CAMPAIGN_END = dt.date(2018, 1, 1), dt.date(2018, 2, 15)

filing_days = st.none() | st.dates(dt.date(2017, 12, 20), CAMPAIGN_END)
filing_times = st.times(dt.time(0, 0), dt.time(23, 59))
endings = st.none() | st.tuples(st.sampled_from(["out", "closed"]), st.integers(0, 40))
payment_days = st.dates(CAMPAIGN_START, CAMPAIGN_END)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filed=filing_days, at=filing_times, ending=endings, paid_on=payment_days)
# the edges: filed on the payment day (at midnight and just before the next), ended on it or the day after
@example(filed=dt.date(2018, 1, 20), at=dt.time(0, 0), ending=None, paid_on=dt.date(2018, 1, 20))
@example(filed=dt.date(2018, 1, 20), at=dt.time(23, 59), ending=None, paid_on=dt.date(2018, 1, 20))
@example(filed=dt.date(2018, 1, 21), at=dt.time(0, 0), ending=None, paid_on=dt.date(2018, 1, 20))
@example(filed=dt.date(2018, 1, 10), at=dt.time(9, 0), ending=("closed", 10), paid_on=dt.date(2018, 1, 20))
@example(filed=dt.date(2018, 1, 10), at=dt.time(9, 0), ending=("out", 11), paid_on=dt.date(2018, 1, 20))
@example(filed=dt.date(2018, 1, 10), at=dt.time(9, 0), ending=("out", 0), paid_on=dt.date(2018, 1, 10))
@example(filed=None, at=dt.time(9, 0), ending=None, paid_on=dt.date(2018, 1, 20))
def test_a_bound_payment_is_accepted_exactly_when_the_file_was_open(
    ledger: LedgerWorld,
    filed: dt.date | None,
    at: dt.time,
    ending: tuple[str, int] | None,
    paid_on: dt.date,
) -> None:
    world = ledger.world
    reviewer = world.users["city_reviewer"]
    # every example in a transaction rolled back: the world stays as the fixture built it
    with transaction.atomic():
        target = household(world, "韩测试", filed_on=filed)
        if filed is not None:
            target.filed_at = dt.datetime.combine(filed, at, tzinfo=CHINA)
            target.save(update_fields=["filed_at"])
        ended_on = None
        if filed is not None and ending is not None:
            how, days = ending
            ended_on = filed + dt.timedelta(days=days)
            if how == "out":
                household_out_of_difficulty(
                    user=reviewer, household=target, path=Household.OutPath.EMPLOYMENT, on=ended_on
                )
            else:
                household_close(user=reviewer, household=target, reason="死亡", on=ended_on)

        expected = filed is not None and filed <= paid_on and (ended_on is None or paid_on < ended_on)
        data = help_input(target, item="other", paid_on=paid_on, amount=Decimal("100"))
        try:
            record = ledger.add(data)
        except LedgerError as refused:
            assert not expected, f"refused although the file was open: {refused.message}"
            assert {p.code for p in refused.problems} == {"archive-first"}
            assert not HelpRecord.objects.filter(household=target).exists()
            assert LedgerEvent.objects.latest("pk").action == LedgerEvent.Action.REFUSED
        else:
            assert expected, "accepted although the file was not open on the payment date"
            assert record.household == target and record.source.code == "central"
            # the same payment from money not bound by 依档帮扶 is never refused for the file's dates
            assert ledger.add(help_input(target, item="other", source="union", paid_on=paid_on)).pk
        transaction.set_rollback(True)


@pytest.mark.parametrize("source", ["union", "donation"])
def test_money_not_bound_ignores_the_files_dates(ledger: LedgerWorld, source: str) -> None:
    raise_money(ledger.world, ledger.world.county, "donation", "1000")
    # 赵敏 never filed, 张伟 closed before the payment: both take money that 依档帮扶 does not bind
    for target in (ledger.zhao, ledger.zhang):
        assert ledger.add(help_input(target, source=source, item="other", amount=Decimal("10"))).pk
