"""A ledger on top of the test world (tests/world.py): filed households, money raised, a helper to build
help inputs. Shared by every ledger test module; tests add what they need on top.

    东宝区总工会 (county): households 王建国 (filed 2017-12-01, open), 李秀英 (filed 2018-01-20,
        open), 张伟 (filed 2017-06-01, closed 2018-01-10), 赵敏 (applied, never filed); raised 100,000
        central, 50,000 union; county_reporter enters, county_reviewer approves.
    The campaign runs 2018-01-01 … 2018-02-15.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from songnuan.archive.generate import luhn_complete, valid_id_number
from songnuan.archive.models import Household
from songnuan.archive.services import HouseholdInput, household_apply, household_close, household_file
from songnuan.ledger.models import FundSource, HelpRecord
from songnuan.ledger.services import HelpInput, help_record_add, help_record_approve, receipt_add
from songnuan.orgs.models import Unit
from tests.world import World

CHINA = ZoneInfo("Asia/Shanghai")
_ids = random.Random(2018)


def new_id_number() -> str:
    return valid_id_number(_ids, _ids.randrange(1000))


def card() -> str:
    return luhn_complete(f"622{_ids.randrange(10**15):015d}")


def household(
    world: World,
    name: str,
    *,
    unit: Unit | None = None,
    filed_on: dt.date | None = dt.date(2017, 12, 1),
    closed_on: dt.date | None = None,
    living_line: Decimal | None = Decimal("600"),
    size: int = 3,
    category: str = Household.Category.WORKER,
) -> Household:
    """A household of `unit` (the county), filed on `filed_on` (None: only applied), closed on `closed_on`."""
    unit = unit or world.county
    reporter = "county_reporter" if unit == world.county else "enterprise_reporter"
    made = household_apply(
        user=world.users[reporter],
        unit=unit,
        data=HouseholdInput(
            head_name=name,
            head_id_number=new_id_number(),
            category=category,
            household_size=size,
            minimum_living_line=living_line,
            card_kind=Household.CardKind.UNION_CARD,
            bank="中国工商银行",
            card_number=card(),
        ),
    )
    if filed_on is not None:
        made = household_file(user=world.users["city_reviewer"], household=made)
        made.filed_at = dt.datetime.combine(filed_on, dt.time(10), tzinfo=CHINA)
        made.save(update_fields=["filed_at"])
    if closed_on is not None:
        made = household_close(user=world.users["city_reviewer"], household=made, reason="死亡", on=closed_on)
    return made


def raise_money(world: World, unit: Unit, source: str, amount: str, user: str = "county_reporter") -> None:
    receipt_add(
        user=world.users[user],
        campaign=world.campaign,
        unit=unit,
        source=FundSource.objects.get(code=source),
        amount=Decimal(amount),
        received_on=dt.date(2018, 1, 2),
        reference="荆工财〔2018〕1号",
    )


def help_input(target: Household | None = None, **changes: Any) -> HelpInput:
    """A valid central-fund card payment of 1,000 yuan to `target` on 2018-01-25, with `changes`."""
    values: dict[str, Any] = {
        "recipient_kind": HelpRecord.RecipientKind.HOUSEHOLD,
        "household_id": target.pk if target else None,
        "item": "visit",
        "source": "central",
        "channel": HelpRecord.Channel.UNION_CARD,
        "paid_on": dt.date(2018, 1, 25),
        "amount": Decimal("1000.00"),
    }
    values.update(changes)
    return HelpInput(**values)


@dataclass
class LedgerWorld:
    world: World
    wang: Household  # filed 2017-12-01, open
    li: Household  # filed 2018-01-20, open
    zhang: Household  # filed 2017-06-01, closed 2018-01-10
    zhao: Household  # applied, never filed

    def add(self, data: HelpInput, user: str = "county_reporter", unit: Unit | None = None) -> HelpRecord:
        return help_record_add(
            user=self.world.users[user],
            campaign=self.world.campaign,
            unit=unit or self.world.county,
            data=data,
        )

    def approve(self, record: HelpRecord, user: str = "county_reviewer") -> HelpRecord:
        return help_record_approve(user=self.world.users[user], record=record)


def build_ledger_world(world: World) -> LedgerWorld:
    ledger = LedgerWorld(
        world,
        wang=household(world, "王建国"),
        li=household(world, "李秀英", filed_on=dt.date(2018, 1, 20)),
        zhang=household(world, "张伟", filed_on=dt.date(2017, 6, 1), closed_on=dt.date(2018, 1, 10)),
        zhao=household(world, "赵敏", filed_on=None),
    )
    raise_money(world, world.county, "central", "100000")
    raise_money(world, world.county, "union", "50000")
    return ledger
