"""The campaign fields of issue 11 on the create/edit/copy pages: 填报口径 (本级/全辖) as radio buttons with
its explanation, 上一年活动 among the owner's earlier campaigns, the warning ratio, and the notice file (a
hostile upload: size first, extension and content must agree) with its download (a permission matrix)."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.campaigns import services
from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World
from .test_campaign_admin import campaign_of, field_errors, post_data

ROLES = ("county_reporter", "county_reviewer", "county_admin", "sibling_reporter", "enterprise_reporter")
RELATIONS = ("own", "below", "sibling", "above")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _zip(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path / "media"


@pytest.fixture
def county(world: World) -> World:
    """The world with an admin of the county (as in test_campaign_admin)."""
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    return world


def admin(world: World) -> Client:
    return world.client("county_admin")


def own_campaign(world: World) -> Campaign:
    return campaign_of(world, "own")


# --- the page shows the new fields ------------------------------------------------------------------------


def test_the_new_page_offers_scope_previous_ratio_and_file(county: World) -> None:
    earlier = own_campaign(county)
    page = admin(county).get("/campaigns/new/").content.decode()
    assert 'type="radio" name="reporting_scope" value="own_level"' in page
    assert 'value="whole_area"' in page and "各单位只填本单位自身的数" in page and "下级的表只供核对" in page
    assert f'<option value="{earlier.pk}">' in page  # the county's own earlier campaign
    assert f'<option value="{county.campaign.pk}">' not in page  # not the city's
    assert 'name="change_ratio"' in page and 'value="3"' in page
    assert 'type="file" name="notice_file"' in page and 'enctype="multipart/form-data"' in page


def test_the_edit_page_offers_neither_the_campaign_itself_nor_a_later_one(county: World) -> None:
    campaign = own_campaign(county)
    later = services.campaign_copy(
        county.users["county_admin"], campaign, {"document_number": "东〔2019〕1号"}
    )
    page = admin(county).get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert f'<option value="{campaign.pk}"' not in page and f'<option value="{later.pk}"' not in page
    page = admin(county).get(f"/campaigns/{later.pk}/edit/").content.decode()
    assert f'<option value="{campaign.pk}" selected>' in page


def test_new_saves_scope_previous_ratio_and_the_file(county: World, media: Path) -> None:
    earlier = own_campaign(county)
    data = post_data(
        addressees=[str(county.enterprise.pk)],
        reporting_scope="whole_area",
        previous=str(earlier.pk),
        change_ratio="2.5",
    )
    data["notice_file"] = SimpleUploadedFile("关于送温暖的通知.pdf", PDF, "application/pdf")  # type: ignore[assignment]
    response = admin(county).post("/campaigns/new/", data)
    assert response.status_code == 302
    campaign = Campaign.objects.get(document_number="荆工办发电〔2018〕20号")
    assert campaign.reporting_scope == ReportingScope.WHOLE_AREA and campaign.previous == earlier
    assert campaign.change_ratio == Decimal("2.50")
    stored = Path(campaign.notice_file.path)
    assert stored.is_relative_to(media) and stored.read_bytes() == PDF and stored.name.endswith(".pdf")
    home = admin(county).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/notice-file/"' in home and "下载通知文件" in home


@pytest.mark.parametrize("ratio", ["1", "0.5", "-3", "abc", "2.555", "NaN", "Infinity", "1e9", "10000"])
def test_a_bad_ratio_is_refused_beside_its_field(county: World, ratio: str) -> None:
    response = admin(county).post(
        "/campaigns/new/", post_data(addressees=[str(county.enterprise.pk)], change_ratio=ratio)
    )
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "change_ratio") == [
        "警告倍数须是大于1的数，最多两位小数，如 3 或 2.5。"
    ]
    assert not Campaign.objects.filter(document_number="荆工办发电〔2018〕20号").exists()


def test_a_later_campaign_or_another_owners_is_no_previous(county: World) -> None:
    actor = county.users["county_admin"]
    later = own_campaign(county)  # starts 2018-01-01
    facts = services.CampaignFacts(
        title="t",
        document_number="东〔2017〕9号",
        period_start=later.period_start,
        period_end=later.period_end,
        deadline=later.deadline,
        form_codes=["warmth-2018"],
        addressees=[county.enterprise],
        previous=later,
    )
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(actor, county.county, facts)
    assert "不早于本次活动，不能作为上一年活动" in str(refused.value.message_dict["previous"])
    with pytest.raises(ValidationError) as refused:
        services.campaign_create(actor, county.county, facts.with_changes({"previous": county.campaign}))
    assert "须是“东宝区总工会”自己发出的活动" in str(refused.value.message_dict["previous"])
    with pytest.raises(ValidationError) as refused:
        services.campaign_update(actor, later, services.facts_of(later).with_changes({"previous": later}))
    assert "不能是本次活动自己" in str(refused.value.message_dict["previous"])


def test_a_deadline_before_the_start_is_refused(county: World) -> None:
    response = admin(county).post(
        "/campaigns/new/", post_data(addressees=[str(county.enterprise.pk)], deadline="2018-12-20")
    )
    assert field_errors(response.content.decode(), "deadline") == [
        "报送截止日期（2018-12-20）早于活动开始日期（2019-01-01）。"
    ]
    assert not Campaign.objects.filter(document_number="荆工办发电〔2018〕20号").exists()


# --- copying -------------------------------------------------------------------------------------------


def test_a_copy_points_to_its_source_and_keeps_scope_and_ratio_not_the_file(county: World) -> None:
    source = own_campaign(county)
    source.reporting_scope = ReportingScope.WHOLE_AREA
    source.change_ratio = Decimal("4.5")
    source.notice_file.save("old.pdf", SimpleUploadedFile("old.pdf", PDF), save=True)
    page = admin(county).get(f"/campaigns/{source.pk}/copy/").content.decode()
    assert f'<option value="{source.pk}" selected>' in page and 'value="4.50"' in page
    copy = services.campaign_copy(county.users["county_admin"], source, {"document_number": "东〔2019〕1号"})
    assert copy.previous == source and copy.reporting_scope == ReportingScope.WHOLE_AREA
    assert copy.change_ratio == Decimal("4.5") and not copy.notice_file


def test_copying_a_campaign_whose_forms_are_gone_names_them(county: World) -> None:
    source = own_campaign(county)
    Campaign.objects.filter(pk=source.pk).update(form_codes=["warmth-2016"])
    client = admin(county)
    page = client.get(f"/campaigns/{source.pk}/copy/").content.decode()
    assert "上年活动的统计表“warmth-2016”已不在表样文件中" in page
    with pytest.raises(ValidationError) as refused:
        services.campaign_copy(
            county.users["county_admin"],
            Campaign.objects.get(pk=source.pk),
            {"document_number": "东〔2019〕1号"},
        )
    assert "无法复制" in str(refused.value.message_dict["form_codes"])
    assert not Campaign.objects.filter(document_number="东〔2019〕1号").exists()


# --- the notice file: a hostile upload ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("通知.exe", b"MZ\x90\x00", "“通知.exe”的类型不能上传"),
        ("通知.html", b"<html><script>", "“通知.html”的类型不能上传"),
        ("通知.pdf", b"<html><script>alert(1)</script>", "“通知.pdf”的内容不是 .pdf 文件"),
        ("通知.docx", _zip("xl/workbook.xml"), "“通知.docx”的内容不是 .docx 文件"),
        ("通知.ofd", _zip("word/document.xml"), "“通知.ofd”的内容不是 .ofd 文件"),
        ("通知.png", PDF, "“通知.png”的内容不是 .png 文件"),
        ("通知.doc", PNG, "“通知.doc”的内容不是 .doc 文件"),
        ("空.pdf", b"", "“空.pdf”是空文件"),
    ],
)
def test_a_bad_notice_file_is_refused_naming_it(
    county: World, name: str, content: bytes, message: str
) -> None:
    data = post_data(addressees=[str(county.enterprise.pk)])
    data["notice_file"] = SimpleUploadedFile(name, content)  # type: ignore[assignment]
    response = admin(county).post("/campaigns/new/", data)
    errors = field_errors(response.content.decode(), "notice_file")
    assert len(errors) == 1 and message in errors[0], errors
    assert not Campaign.objects.filter(document_number="荆工办发电〔2018〕20号").exists()


class _Huge(SimpleUploadedFile):
    def chunks(self, chunk_size: int | None = None) -> Any:
        raise AssertionError("a file over the limit must not be read")


def test_an_oversized_notice_file_is_refused_before_it_is_read(county: World) -> None:
    huge = _Huge("大通知.pdf", PDF)
    huge.size = services.NOTICE_MAX_BYTES + 1
    assert (
        services.notice_file_refusal(huge)
        == "通知文件“大通知.pdf”超过 20 MB，不能上传；请压缩或只上传通知正文。"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.pdf", PDF),
        ("a.docx", _zip("word/document.xml")),
        ("a.ofd", _zip("OFD.xml")),
        ("a.png", PNG),
        ("a.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
        ("a.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
    ],
)
def test_each_allowed_kind_is_accepted(name: str, content: bytes) -> None:
    assert services.notice_file_refusal(SimpleUploadedFile(name, content)) is None


def test_editing_without_a_file_keeps_the_file(county: World) -> None:
    campaign = own_campaign(county)
    campaign.notice_file.save("keep.pdf", SimpleUploadedFile("keep.pdf", PDF), save=True)
    facts = services.facts_of(campaign)
    services.campaign_update(county.users["county_admin"], campaign, facts.with_changes({"title": "新标题"}))
    campaign.refresh_from_db()
    assert campaign.title == "新标题" and str(campaign.notice_file.name).endswith(".pdf")


# --- the download: the permission matrix ---------------------------------------------------------------


def _visible(role: str, relation: str) -> bool:
    """Who sees the campaign's home page sees its notice (campaigns_visible_to)."""
    return {
        "own": role != "sibling_reporter",  # the county's campaign, addressed to its enterprise
        "below": role
        in ("county_reviewer", "county_admin", "enterprise_reporter"),  # a reporter sees its unit
        "sibling": role == "sibling_reporter",
        "above": True,  # the city's, addressed to both counties
    }[relation]


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_the_notice_file_download_matrix(county: World, role: str, relation: str) -> None:
    campaign = campaign_of(county, relation)
    campaign.notice_file.save('通知"; x=.pdf', SimpleUploadedFile("n.pdf", PDF), save=True)
    client = county.client(role)
    home = client.get(f"/campaigns/{campaign.pk}/")
    response = client.get(f"/campaigns/{campaign.pk}/notice-file/")
    assert (home.status_code == 200) == _visible(role, relation), home.status_code
    if _visible(role, relation):
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;") and '"; x=' not in disposition
        assert response["Content-Type"] == "application/pdf"
        assert client.post(f"/campaigns/{campaign.pk}/notice-file/").status_code == 405
    else:
        assert response.status_code == 403
        assert "不能下载它的通知文件" in response.content.decode()


def test_no_file_is_a_404_and_an_anonymous_visitor_is_sent_to_log_in(county: World) -> None:
    campaign = own_campaign(county)
    assert admin(county).get(f"/campaigns/{campaign.pk}/notice-file/").status_code == 404
    response = Client().get(f"/campaigns/{campaign.pk}/notice-file/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_roles_are_real(county: World) -> None:
    assert county.users["county_admin"].account.role == Account.Role.ADMIN


@pytest.mark.django_db(transaction=True)
def test_a_new_notice_file_replaces_the_old_one_in_storage(county: World) -> None:
    campaign = own_campaign(county)
    services.campaign_update(
        county.users["county_admin"],
        campaign,
        services.facts_of(campaign).with_changes({"notice_file": SimpleUploadedFile("a.pdf", PDF)}),
    )
    campaign.refresh_from_db()
    old = Path(campaign.notice_file.path)
    services.campaign_update(
        county.users["county_admin"],
        campaign,
        services.facts_of(campaign).with_changes({"notice_file": SimpleUploadedFile("b.png", PNG)}),
    )
    campaign.refresh_from_db()
    assert not old.exists() and Path(campaign.notice_file.path).read_bytes() == PNG
