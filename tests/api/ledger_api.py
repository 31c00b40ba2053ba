"""For the ledger API tests: the ledger test world (tests/ledger/ledgerworld.py) with an admin at the county,
union money raised in every unit, and a help record (a draft, to a front-line worker not on file) in each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from songnuan.campaigns.models import Campaign
from songnuan.ledger.models import HelpRecord
from songnuan.ledger.services import HelpInput, help_record_add
from songnuan.orgs.models import Unit
from tests.ledger.ledgerworld import LedgerWorld, build_ledger_world, card, new_id_number, raise_money

from ..world import World
from .helpers import add_county_admin

#: A small valid PDF, as evidence (凭证): the upload check reads the file's first bytes.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: Who enters each unit's ledger in the tests.
ENTERER = {
    "city": "city_admin",
    "county": "county_reporter",
    "enterprise": "enterprise_reporter",
    "sibling": "sibling_reporter",
}


def unit_url(campaign: Campaign, unit: Unit, what: str) -> str:
    return f"/api/campaigns/{campaign.pk}/units/{unit.pk}/ledger/{what}"


def record_url(record: HelpRecord | int, action: str = "") -> str:
    pk = record if isinstance(record, int) else record.pk
    return f"/api/ledger/records/{pk}" + (f"/{action}" if action else "")


def person_body(**changes: Any) -> dict[str, Any]:
    """A valid JSON body: 500 yuan of union money to a front-line worker not on file, by union card."""
    body: dict[str, Any] = {
        "recipient_kind": "person",
        "name": "刘一线",
        "id_number": new_id_number(),
        "person_category": "frontline",
        "item": "visit",
        "source": "union",
        "channel": "union-card",
        "card_number": card(),
        "paid_on": "2018-01-25",
        "amount": "500.00",
        "explanation": "核实无误",
    }
    body.update(changes)
    return body


def person_input(**changes: Any) -> HelpInput:
    body = person_body(**changes)
    body["paid_on"] = dt.date.fromisoformat(body["paid_on"])
    body["amount"] = Decimal(body["amount"])
    return HelpInput(**body)


@dataclass
class LedgerApi:
    ledger: LedgerWorld
    units: dict[str, Unit]
    records: dict[str, HelpRecord]  # a draft per unit

    @property
    def world(self) -> World:
        return self.ledger.world


def build_ledger_api(world: World) -> LedgerApi:
    add_county_admin(world)
    ledger = build_ledger_world(world)
    units = {
        "city": world.city,
        "county": world.county,
        "enterprise": world.enterprise,
        "sibling": world.sibling,
    }
    records = {}
    for name, unit in units.items():
        if name != "county":  # the county's money is raised by build_ledger_world
            raise_money(world, unit, "union", "10000", user=ENTERER[name])
        records[name] = help_record_add(
            user=world.users[ENTERER[name]], campaign=world.campaign, unit=unit, data=person_input()
        )
    return LedgerApi(ledger, units, records)
