"""A small union tree with every role, for the workflow and permission tests.

    市总 (city)                 city_admin (admin), city_reviewer (reviewer)
    ├── 东宝区总工会 (county)    county_reviewer (reviewer), county_reporter (reporter)
    │   └── 水泥厂工会 (enterprise) enterprise_reporter (reporter)
    └── 钟祥市总工会 (sibling)    sibling_reporter (reporter)

Permission tests check each role against its own unit, a unit below, a sibling and a unit above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create, unit_create

PASSWORD = "a-long-test-pass-phrase"

#: Where the `frozen_now` fixture stops the clock: 00:30 on 2 December 2026 in China, still 1 December (16:30)
#: in UTC: just after Shanghai's midnight, so a date taken in UTC instead of China time comes out a day early.
#: Given in China time on purpose: time-machine then sets the process's time zone to it, as Django does
#: from TIME_ZONE (travelling to a UTC time would switch the process to UTC, which production never does).
FROZEN_NOW = dt.datetime(2026, 12, 2, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
FROZEN_TODAY = dt.date(2026, 12, 2)  # the date in China at FROZEN_NOW


@dataclass
class World:
    city: Unit
    county: Unit
    enterprise: Unit
    sibling: Unit
    campaign: Campaign
    users: dict[str, User]

    def client(self, username: str) -> Client:
        client = Client()
        client.force_login(self.users[username])
        return client


def build_world() -> World:
    city = unit_create(name="荆门市总工会", kind=Unit.Kind.CITY)
    county = unit_create(
        name="东宝区总工会",
        kind=Unit.Kind.COUNTY,
        parent=city,
        contact_name="李红",
        contact_phone="0724-2345678",
    )
    enterprise = unit_create(name="东宝区恒力水泥有限公司工会", kind=Unit.Kind.ENTERPRISE, parent=county)
    sibling = unit_create(
        name="钟祥市总工会",
        kind=Unit.Kind.COUNTY,
        parent=city,
        contact_name="赵敏",
        contact_phone="0724-4221234",
    )
    roles = {
        "city_admin": (city, Account.Role.ADMIN),
        "city_reviewer": (city, Account.Role.REVIEWER),
        "county_reviewer": (county, Account.Role.REVIEWER),
        "county_reporter": (county, Account.Role.REPORTER),
        "enterprise_reporter": (enterprise, Account.Role.REPORTER),
        "sibling_reporter": (sibling, Account.Role.REPORTER),
    }
    users = {
        name: account_create(username=name, password=PASSWORD, unit=unit, role=role).user
        for name, (unit, role) in roles.items()
    }
    campaign = Campaign.objects.create(
        title="关于2018年元旦春节期间全市工会开展送温暖活动的通知",
        document_number="荆工办发电〔2017〕18号",
        owner=city,
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 2, 15),
        deadline=dt.date(2018, 2, 5),
        receiving_department="市总权益保障部",
        form_codes=["warmth-2018", "service-centres-2017"],
    )
    campaign.addressees.set([county, sibling])
    return World(city, county, enterprise, sibling, campaign, users)
