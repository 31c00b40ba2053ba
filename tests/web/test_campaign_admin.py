"""The campaign-writing pages (/campaigns/new/, /campaigns/<id>/copy/, /campaigns/<id>/edit/): a permission
matrix (reporter/reviewer/admin of 东宝区 × a campaign owned by its own unit, a unit below, a sibling, the
city above), the links on the campaign list and home, each refusal beside its field, nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World

ROLES = ("county_reporter", "county_reviewer", "county_admin")
RELATIONS = ("own", "below", "sibling", "above")


@pytest.fixture
def county(world: World) -> World:
    """The world with an admin of the county and a campaign owned by each of the four units."""
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    return world


def owner_of(world: World, relation: str) -> Unit:
    return {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        relation
    ]


def campaign_of(world: World, relation: str) -> Campaign:
    if relation == "above":
        return world.campaign
    owner = owner_of(world, relation)
    campaign = Campaign.objects.create(
        title=f"{owner.name}送温暖活动",
        document_number=f"{owner.name}〔2017〕1号",
        owner=owner,
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 2, 15),
        deadline=dt.date(2018, 2, 5),
        form_codes=["warmth-2018"],
    )
    below = {"own": [world.enterprise]}.get(relation, [])
    campaign.addressees.set(below)
    return campaign


def post_data(**changes: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "document_number": "荆工办发电〔2018〕20号",
        "title": "关于2019年元旦春节期间全市工会开展送温暖活动的通知",
        "period_start": "2019-01-01",
        "period_end": "2019-02-15",
        "period_text": "2019年元旦春节期间",
        "deadline": "2019-02-05",
        "receiving_department": "市总权益保障部",
        "contact_name": "王芳",
        "contact_phone": "0724-2331234",
        "contact_email": "qybz@example.cn",
        "form_codes": ["warmth-2018"],
        "addressees": [],
        "notice_text": "各县（市、区）总工会：……",
    }
    data.update(changes)
    return data


def field_errors(html: str, name: str) -> list[str]:
    """The messages shown beside field `name` (in the block its input names with aria-describedby)."""
    block = re.search(rf'<div class="errors" id="id_{name}_error">(.*?)</div>', html, re.S)
    return re.findall(r'<p class="msg error" role="alert">([^<]*)</p>', block.group(1)) if block else []


# --- the permission matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_new_is_for_an_admin_of_its_own_unit(county: World, role: str) -> None:
    client = county.client(role)
    before = Campaign.objects.count()
    got = client.get("/campaigns/new/")
    posted = client.post("/campaigns/new/", post_data(addressees=[str(county.enterprise.pk)]))
    if role == "county_admin":
        assert got.status_code == 200
        assert posted.status_code == 302
        assert Campaign.objects.get(document_number="荆工办发电〔2018〕20号").owner == county.county
    else:
        assert (got.status_code, posted.status_code) == (403, 403)
        assert Campaign.objects.count() == before


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_copy_and_edit_only_the_own_units_campaigns_as_admin(county: World, role: str, relation: str) -> None:
    campaign = campaign_of(county, relation)
    client = county.client(role)
    allowed = role == "county_admin" and relation == "own"
    before = Campaign.objects.count()
    for url in (f"/campaigns/{campaign.pk}/copy/", f"/campaigns/{campaign.pk}/edit/"):
        assert client.get(url).status_code == (200 if allowed else 403), url
        response = client.post(
            url, post_data(document_number=f"新文号{url}", addressees=[str(county.enterprise.pk)])
        )
        assert response.status_code == (302 if allowed else 403), (url, response.status_code)
    if allowed:
        assert Campaign.objects.count() == before + 1  # the copy; the edit changed the campaign itself
    else:
        assert Campaign.objects.count() == before
        campaign.refresh_from_db()
        assert not campaign.document_number.startswith("新文号")


def test_the_city_admin_copies_the_city_campaign(county: World) -> None:
    client = county.client("city_admin")
    assert client.get(f"/campaigns/{county.campaign.pk}/copy/").status_code == 200
    own_of_county = campaign_of(county, "own")
    # the city admin is above the county, yet never writes a county's notice
    assert client.get(f"/campaigns/{own_of_county.pk}/copy/").status_code == 403
    assert client.get(f"/campaigns/{own_of_county.pk}/edit/").status_code == 403


def test_a_refusal_of_the_rule_says_why(county: World) -> None:
    response = county.client("county_admin").get(f"/campaigns/{county.campaign.pk}/copy/")
    assert response.status_code == 403
    assert (
        "只有“荆门市总工会”的管理员可以新建、复制或修改该单位发出的送温暖活动。" in response.content.decode()
    )


def test_an_unknown_campaign_is_404(county: World) -> None:
    assert county.client("city_admin").get("/campaigns/999999/copy/").status_code == 404


# --- links on the campaign pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "shown"),
    [("city_admin", True), ("county_admin", True), ("city_reviewer", False), ("county_reporter", False)],
)
def test_the_list_offers_new_to_admins(county: World, username: str, shown: bool) -> None:
    html = county.client(username).get("/campaigns/").content.decode()
    assert ('href="/campaigns/new/"' in html) is shown
    assert ("新建活动" in html) is shown


@pytest.mark.parametrize(
    ("username", "shown"),
    [("city_admin", True), ("county_admin", False), ("city_reviewer", False), ("county_reviewer", False)],
)
def test_the_home_offers_copy_to_the_owners_admin(county: World, username: str, shown: bool) -> None:
    html = county.client(username).get(f"/campaigns/{county.campaign.pk}/").content.decode()
    assert (f'href="/campaigns/{county.campaign.pk}/copy/"' in html) is shown
    assert ("复制为新活动" in html) is shown


# --- the page itself ---------------------------------------------------------------------------------------


def test_new_offers_the_form_files_and_the_units_below(county: World) -> None:
    html = county.client("city_admin").get("/campaigns/new/").content.decode()
    assert 'value="warmth-2018"' in html and 'value="service-centres-2017"' in html
    assert "附件1《2018年各地工会送温暖统计表》" in html
    for unit in (county.county, county.enterprise, county.sibling):
        assert f'value="{unit.pk}"' in html, unit.name
    assert f'name="addressees" value="{county.city.pk}"' not in html
    assert "发文单位：荆门市总工会" in html


def test_new_creates_the_campaign_and_opens_its_home(county: World) -> None:
    client = county.client("city_admin")
    data = post_data(addressees=[str(county.county.pk), str(county.sibling.pk)])
    response = client.post("/campaigns/new/", data, follow=True)
    campaign = Campaign.objects.get(document_number="荆工办发电〔2018〕20号")
    assert response.redirect_chain[-1][0] == f"/campaigns/{campaign.pk}/"
    html = response.content.decode()
    assert "已新建送温暖活动" in html and "2019年元旦春节期间" in html
    assert set(campaign.addressees.all()) == {county.county, county.sibling}
    assert campaign.period_text == "2019年元旦春节期间" and campaign.contact_email == "qybz@example.cn"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"deadline": "2018-12-20"},
            "deadline",
            "报送截止日期（2018-12-20）早于活动开始日期（2019-01-01）。",
        ),
        (
            {"period_end": "2018-12-31"},
            "period_end",
            "活动结束日期（2018-12-31）早于开始日期（2019-01-01）。",
        ),
        ({"form_codes": []}, "form_codes", "请至少选择一张统计表。"),
        ({"addressees": []}, "addressees", "请至少选择一个主送单位。"),
        (
            {"document_number": "荆工办发电〔2017〕18号"},
            "document_number",
            "文号“荆工办发电〔2017〕18号”已用于本单位的另一次活动“关于2018年元旦春节期间全市工会开展送温暖活动的通知”，请核对文号。",
        ),
    ],
)
def test_each_refusal_is_beside_its_field(
    county: World, changes: dict[str, str | list[str]], field: str, message: str
) -> None:
    client = county.client("city_admin")
    before = Campaign.objects.count()
    data = post_data(addressees=[str(county.county.pk)])
    data.update(changes)
    response = client.post("/campaigns/new/", data)
    assert response.status_code == 200
    assert field_errors(response.content.decode(), field) == [message]
    assert Campaign.objects.count() == before


def test_an_addressee_outside_the_subtree_is_refused(county: World) -> None:
    response = county.client("county_admin").post(
        "/campaigns/new/", post_data(addressees=[str(county.sibling.pk)])
    )
    assert response.status_code == 200 and field_errors(response.content.decode(), "addressees")
    assert not Campaign.objects.filter(owner=county.county).exists()


def test_a_date_that_is_no_date_is_refused(county: World) -> None:
    response = county.client("city_admin").post(
        "/campaigns/new/", post_data(deadline="2019-02-30", addressees=[str(county.county.pk)])
    )
    assert response.status_code == 200 and field_errors(response.content.decode(), "deadline")


def test_copy_starts_from_last_year(county: World) -> None:
    html = county.client("city_admin").get(f"/campaigns/{county.campaign.pk}/copy/").content.decode()
    assert 'value="2019-02-05"' in html and 'value="2019-01-01"' in html  # a year on
    assert re.search(r'name="document_number"(?![^>]*value=)', html)  # 文号 left blank
    assert re.search(rf'value="{county.county.pk}"[^>]*checked', html)
    assert re.search(r'value="warmth-2018"[^>]*checked', html)
    assert "已顺延一年" in html


def test_copy_names_the_forms_no_longer_in_the_form_files(county: World) -> None:
    county.campaign.form_codes = ["warmth-2016", "warmth-2018"]
    county.campaign.save()
    client = county.client("city_admin")
    html = client.get(f"/campaigns/{county.campaign.pk}/copy/").content.decode()
    assert "上年活动的统计表“warmth-2016”已不在表样文件中，未带入" in html
    assert 'value="warmth-2016"' not in html
    response = client.post(
        f"/campaigns/{county.campaign.pk}/copy/",
        post_data(addressees=[str(county.county.pk)], form_codes=["warmth-2018"]),
    )
    assert response.status_code == 302
    assert Campaign.objects.get(document_number="荆工办发电〔2018〕20号").form_codes == ["warmth-2018"]


def test_edit_shows_and_saves_the_facts(county: World) -> None:
    client = county.client("city_admin")
    url = f"/campaigns/{county.campaign.pk}/edit/"
    html = client.get(url).content.decode()
    assert 'value="荆工办发电〔2017〕18号"' in html and 'value="2018-02-05"' in html
    data = post_data(
        document_number="荆工办发电〔2017〕18号",
        deadline="2018-02-10",
        period_start="2018-01-01",
        period_end="2018-02-15",
        addressees=[str(county.county.pk), str(county.sibling.pk)],
    )
    assert client.post(url, data).status_code == 302
    county.campaign.refresh_from_db()
    assert county.campaign.deadline == dt.date(2018, 2, 10)
    assert Campaign.objects.count() == 1


def test_new_is_not_taken_for_a_campaign_id(county: World) -> None:
    # /campaigns/new/ is this app's page, not the reporting app's campaign home
    response = county.client("city_admin").get("/campaigns/new/")
    assert response.templates[0].name == "campaigns/form.html"


def test_anonymous_visitors_are_sent_to_log_in(county: World) -> None:
    for url in (
        "/campaigns/new/",
        f"/campaigns/{county.campaign.pk}/copy/",
        f"/campaigns/{county.campaign.pk}/edit/",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
