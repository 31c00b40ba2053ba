"""Writing campaigns (songnuan.campaigns.services): create from the notice's facts, copy last year's, edit;
each refusal in Chinese on its field, and nothing written when refused.

The tree is tests/world.py's (市总 → 东宝区 → 水泥厂; 钟祥市), with an admin at the city and one at 东宝区.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.services import (
    CampaignFacts,
    campaign_copy,
    campaign_create,
    campaign_update,
    copy_draft,
    facts_of,
)
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create, unit_create
from songnuan.reporting.models import Submission

from ..world import PASSWORD, World


@pytest.fixture
def admins(world: World) -> World:
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    return world


def facts(world: World, **changes: Any) -> CampaignFacts:
    base = CampaignFacts(
        title="关于2019年元旦春节期间全市工会开展送温暖活动的通知",
        document_number="荆工办发电〔2018〕20号",
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 2, 15),
        deadline=dt.date(2019, 2, 5),
        receiving_department="市总权益保障部",
        contact_name="王芳",
        contact_phone="0724-2331234",
        contact_email="qybz@example.cn",
        form_codes=["warmth-2018"],
        addressees=[world.county, world.sibling],
        notice_text="各县（市、区）总工会：……",
    )
    return base.with_changes(changes)


def errors_of(refusal: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return refusal.value.message_dict


def test_create_writes_every_fact(admins: World) -> None:
    campaign = campaign_create(
        admins.users["city_admin"], admins.city, facts(admins, title="  关于  送温暖 ")
    )
    campaign.refresh_from_db()
    assert campaign.owner == admins.city
    assert campaign.title == "关于 送温暖"  # spaces tidied
    assert campaign.document_number == "荆工办发电〔2018〕20号"
    assert (campaign.period_start, campaign.period_end, campaign.deadline) == (
        dt.date(2019, 1, 1),
        dt.date(2019, 2, 15),
        dt.date(2019, 2, 5),
    )
    assert campaign.form_codes == ["warmth-2018"]
    assert set(campaign.addressees.all()) == {admins.county, admins.sibling}
    assert (campaign.contact_name, campaign.contact_email) == ("王芳", "qybz@example.cn")
    assert campaign.notice_text == "各县（市、区）总工会：……"


def test_a_county_admin_creates_a_campaign_for_its_own_subtree(admins: World) -> None:
    campaign = campaign_create(
        admins.users["county_admin"], admins.county, facts(admins, addressees=[admins.enterprise])
    )
    assert campaign.owner == admins.county
    assert list(campaign.addressees.all()) == [admins.enterprise]


@pytest.mark.parametrize("username", ["county_admin", "city_reviewer", "county_reviewer", "county_reporter"])
def test_only_the_owners_admin_may_create(admins: World, username: str) -> None:
    before = Campaign.objects.count()
    with pytest.raises(PermissionDenied, match="只有“荆门市总工会”的管理员"):
        campaign_create(admins.users[username], admins.city, facts(admins))
    assert Campaign.objects.count() == before


def test_the_city_admin_does_not_write_a_county_notice(admins: World) -> None:
    with pytest.raises(PermissionDenied, match="东宝区总工会"):
        campaign_create(
            admins.users["city_admin"], admins.county, facts(admins, addressees=[admins.enterprise])
        )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"deadline": dt.date(2018, 12, 31)},
            "deadline",
            "报送截止日期（2018-12-31）早于活动开始日期（2019-01-01）",
        ),
        (
            {"period_end": dt.date(2018, 12, 1)},
            "period_end",
            "活动结束日期（2018-12-01）早于开始日期（2019-01-01）",
        ),
        ({"form_codes": []}, "form_codes", "请至少选择一张统计表"),
        ({"form_codes": ["warmth-2017"]}, "form_codes", "统计表“warmth-2017”已不在表样文件中"),
        ({"addressees": []}, "addressees", "请至少选择一个主送单位"),
        ({"title": " "}, "title", "请填写通知标题"),
        ({"document_number": ""}, "document_number", "请填写文号"),
        ({"period_start": None}, "period_start", "请填写活动开始日期"),
        ({"deadline": None}, "deadline", "请填写报送截止日期"),
        ({"contact_phone": "1" * 51}, "contact_phone", "联系电话太长：最多50个字"),
    ],
)
def test_bad_facts_are_refused_on_their_field(
    admins: World, changes: dict[str, Any], field: str, message: str
) -> None:
    before = Campaign.objects.count()
    with pytest.raises(ValidationError) as refusal:
        campaign_create(admins.users["city_admin"], admins.city, facts(admins, **changes))
    assert any(message in text for text in errors_of(refusal)[field]), errors_of(refusal)
    assert Campaign.objects.count() == before


def test_every_problem_is_reported_at_once(admins: World) -> None:
    with pytest.raises(ValidationError) as refusal:
        campaign_create(
            admins.users["city_admin"],
            admins.city,
            facts(admins, deadline=dt.date(2018, 1, 1), form_codes=[], addressees=[]),
        )
    assert set(errors_of(refusal)) == {"deadline", "form_codes", "addressees"}


def test_a_document_number_used_by_the_same_owner_is_refused(admins: World) -> None:
    with pytest.raises(ValidationError) as refusal:
        campaign_create(
            admins.users["city_admin"], admins.city, facts(admins, document_number=" 荆工办发电〔2017〕18号 ")
        )
    assert errors_of(refusal)["document_number"] == [
        "文号“荆工办发电〔2017〕18号”已用于本单位的另一次活动“关于2018年元旦春节期间全市工会开展送温暖活动的通知”，请核对文号。"
    ]


def test_another_owner_may_use_the_same_document_number(admins: World) -> None:
    campaign = campaign_create(
        admins.users["county_admin"],
        admins.county,
        facts(admins, document_number="荆工办发电〔2017〕18号", addressees=[admins.enterprise]),
    )
    assert campaign.document_number == "荆工办发电〔2017〕18号"


@pytest.mark.parametrize("outside", ["sibling", "city", "county_itself"])
def test_addressees_outside_the_owners_subtree_are_refused(admins: World, outside: str) -> None:
    unit = {"sibling": admins.sibling, "city": admins.city, "county_itself": admins.county}[outside]
    with pytest.raises(ValidationError) as refusal:
        campaign_create(admins.users["county_admin"], admins.county, facts(admins, addressees=[unit]))
    assert errors_of(refusal)["addressees"] == [
        f"“{unit.name}”不是“东宝区总工会”下属的在册单位，不能作为主送单位。"
    ]


def test_a_closed_unit_is_no_addressee(admins: World) -> None:
    admins.sibling.closed_at = timezone.now()
    admins.sibling.save()
    with pytest.raises(ValidationError, match="钟祥市总工会"):
        campaign_create(admins.users["city_admin"], admins.city, facts(admins))


# --- copy --------------------------------------------------------------------------------------------------


def test_the_copy_draft_keeps_the_notice_and_moves_the_dates_a_year_on(admins: World) -> None:
    source = admins.campaign
    source.contact_name, source.contact_email, source.notice_text = "王芳", "qybz@example.cn", "旧通知"
    source.period_text = "2018年元旦春节期间"
    source.save()
    draft = copy_draft(source)
    assert draft.missing_forms == [] and draft.closed_addressees == []
    got = draft.facts
    assert got.title == source.title  # kept, for the person to change
    assert (got.document_number, got.period_text, got.notice_text) == ("", "", "")
    assert (got.period_start, got.period_end, got.deadline) == (
        dt.date(2019, 1, 1),
        dt.date(2019, 2, 15),
        dt.date(2019, 2, 5),
    )
    assert got.form_codes == ["warmth-2018", "service-centres-2017"]
    assert got.addressees == [admins.county, admins.sibling]
    assert (got.receiving_department, got.contact_name, got.contact_email) == (
        "市总权益保障部",
        "王芳",
        "qybz@example.cn",
    )


def test_copy_creates_next_years_campaign(admins: World) -> None:
    copy = campaign_copy(
        admins.users["city_admin"],
        admins.campaign,
        {"document_number": "荆工办发电〔2018〕20号", "title": "关于2019年元旦春节期间送温暖的通知"},
    )
    assert copy.pk != admins.campaign.pk and copy.owner == admins.city
    assert copy.deadline == dt.date(2019, 2, 5)
    assert set(copy.addressees.all()) == {admins.county, admins.sibling}
    assert copy.form_codes == admins.campaign.form_codes


def test_copy_without_a_new_document_number_is_refused(admins: World) -> None:
    with pytest.raises(ValidationError) as refusal:
        campaign_copy(admins.users["city_admin"], admins.campaign, {})
    assert errors_of(refusal) == {"document_number": ["请填写文号，如“荆工办发电〔2018〕20号”。"]}


def test_the_29th_of_february_becomes_the_28th(admins: World) -> None:
    source = admins.campaign
    source.period_start, source.period_end, source.deadline = (
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 29),
        dt.date(2024, 2, 29),
    )
    source.save()
    assert copy_draft(source).facts.deadline == dt.date(2025, 2, 28)


def test_copying_a_campaign_whose_forms_no_longer_exist_names_them(admins: World) -> None:
    source = admins.campaign
    source.form_codes = ["warmth-2016", "warmth-2018"]
    source.save()
    draft = copy_draft(source)
    assert draft.missing_forms == ["warmth-2016"] and draft.facts.form_codes == ["warmth-2018"]
    before = Campaign.objects.count()
    with pytest.raises(ValidationError) as refusal:
        campaign_copy(admins.users["city_admin"], source, {"document_number": "荆工办发电〔2018〕20号"})
    assert errors_of(refusal) == {
        "form_codes": ["上年活动的统计表“warmth-2016”已不在表样文件中，无法复制；请选择今年的统计表。"]
    }
    assert Campaign.objects.count() == before
    # choosing the forms anew is the way on
    copy = campaign_copy(
        admins.users["city_admin"],
        source,
        {"document_number": "荆工办发电〔2018〕20号", "form_codes": ["warmth-2018"]},
    )
    assert copy.form_codes == ["warmth-2018"]


def test_a_closed_addressee_is_not_copied(admins: World) -> None:
    admins.sibling.closed_at = timezone.now()
    admins.sibling.save()
    draft = copy_draft(admins.campaign)
    assert draft.closed_addressees == [admins.sibling] and draft.facts.addressees == [admins.county]


@pytest.mark.parametrize("username", ["county_admin", "city_reviewer"])
def test_only_the_owners_admin_may_copy(admins: World, username: str) -> None:
    with pytest.raises(PermissionDenied):
        campaign_copy(admins.users[username], admins.campaign, {"document_number": "新文号"})


# --- edit --------------------------------------------------------------------------------------------------


def started(world: World, unit_name: str, form_code: str = "warmth-2018") -> Submission:
    unit = {"county": world.county, "enterprise": world.enterprise, "sibling": world.sibling}[unit_name]
    return Submission.objects.create(campaign=world.campaign, unit=unit, form_code=form_code)


def test_edit_corrects_the_facts_and_keeps_its_own_document_number(admins: World) -> None:
    changed = facts_of(admins.campaign).with_changes({"deadline": dt.date(2018, 2, 10)})
    campaign = campaign_update(admins.users["city_admin"], admins.campaign, changed)
    campaign.refresh_from_db()
    assert campaign.deadline == dt.date(2018, 2, 10)
    assert campaign.document_number == "荆工办发电〔2017〕18号"


def test_edit_may_not_take_out_a_form_or_an_addressee_with_started_tables(admins: World) -> None:
    started(admins, "enterprise", "service-centres-2017")
    changed = facts_of(admins.campaign).with_changes(
        {"form_codes": ["warmth-2018"], "addressees": [admins.sibling], "title": "新标题"}
    )
    with pytest.raises(ValidationError) as refusal:
        campaign_update(admins.users["city_admin"], admins.campaign, changed)
    assert errors_of(refusal) == {
        "form_codes": ["统计表“service-centres-2017”已有单位开始填报，不能从活动中去掉。"],
        "addressees": ["“东宝区恒力水泥有限公司工会”已开始填报本次活动的统计表，其所属的主送单位不能去掉。"],
    }
    admins.campaign.refresh_from_db()
    assert admins.campaign.title != "新标题"
    assert set(admins.campaign.addressees.all()) == {admins.county, admins.sibling}


def test_edit_may_take_out_what_has_no_tables(admins: World) -> None:
    started(admins, "county")
    changed = facts_of(admins.campaign).with_changes(
        {"form_codes": ["warmth-2018"], "addressees": [admins.county]}
    )
    campaign = campaign_update(admins.users["city_admin"], admins.campaign, changed)
    assert list(campaign.addressees.all()) == [admins.county] and campaign.form_codes == ["warmth-2018"]


def test_only_the_owners_admin_may_edit(admins: World) -> None:
    with pytest.raises(PermissionDenied):
        campaign_update(admins.users["county_admin"], admins.campaign, facts_of(admins.campaign))


def test_an_admin_of_a_closed_unit_creates_nothing(admins: World) -> None:
    unit = unit_create(name="已撤销工会", kind="enterprise", parent=admins.county)
    user: User = account_create(username="closed_admin", password=PASSWORD, unit=unit, role="admin").user
    unit.closed_at = timezone.now()
    unit.save()
    with pytest.raises(PermissionDenied):
        campaign_create(user, unit, facts(admins, addressees=[]))
