"""The activities' pages, downloads and forms: who may see and enter them (every page, download and POST
against the unit's reporter, a reviewer above, a sibling and an anonymous visitor), the forms' messages, and
the Excel lists writing what people typed as text."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from songnuan.ledger.activities import (
    ActivityInput,
    StationInput,
    TeamInput,
    activity_add,
    station_register,
    team_create,
)
from songnuan.ledger.models import Activity, LedgerEvent, Station, Team
from tests.ledger.ledgerworld import LedgerWorld

K = Activity.Kind


class Things:
    def __init__(self, ledger: LedgerWorld) -> None:
        world = ledger.world
        user = world.users["county_reporter"]
        self.c, self.u = world.campaign.pk, world.county.pk
        self.station = station_register(
            user=user,
            unit=world.county,
            data=StationInput(name="象山站", address="象山大道", opened_on=dt.date(2017, 1, 1)),
        )
        self.team = team_create(
            user=user, campaign=world.campaign, unit=world.county, data=TeamInput(name="第一组", leader="刘")
        )
        self.activity = activity_add(
            user=user,
            campaign=world.campaign,
            unit=world.county,
            data=ActivityInput(
                kind=K.MEDIA, on=dt.date(2018, 1, 20), subkind="central", place="工人日报", title="=1+1"
            ),
        )


@pytest.fixture
def things(ledger: LedgerWorld) -> Things:
    return Things(ledger)


def _see_pages(t: Things) -> list[str]:
    c, u = t.c, t.u
    return [
        reverse("ledger:activities", args=[c, u]),
        *(reverse("ledger:activity-list", args=[c, u, kind]) for kind in K.values),
        *(reverse("ledger:activity-export", args=[c, u, kind]) for kind in K.values),
        reverse("ledger:activity-import-template", args=[c, u, "media"]),
        reverse("ledger:team-list", args=[c, u]),
        reverse("ledger:team-export", args=[c, u]),
        reverse("ledger:team-detail", args=[c, u, t.team.pk]),
        reverse("ledger:station-list", args=[u]),
        reverse("ledger:station-export", args=[u]),
    ]


def _enter_pages(t: Things) -> list[str]:
    c, u = t.c, t.u
    return [
        *(reverse("ledger:activity-add", args=[c, u, kind]) for kind in K.values),
        reverse("ledger:activity-edit", args=[c, u, t.activity.pk]),
        *(
            reverse("ledger:activity-import", args=[c, u, code])
            for code in ("media", "return-trip", "visits")
        ),
        reverse("ledger:team-new", args=[c, u]),
        reverse("ledger:team-edit", args=[c, u, t.team.pk]),
        reverse("ledger:station-new", args=[u]),
        reverse("ledger:station-edit", args=[u, t.station.pk]),
    ]


def _posts(t: Things) -> list[tuple[str, dict[str, Any]]]:
    """Every POST, each with data that the unit's reporter may save."""
    c, u = t.c, t.u
    return [
        (
            reverse("ledger:activity-add", args=[c, u, K.VISIT_FRONTLINE]),
            {"on": "2018-01-21", "people": "30", "place": "环卫所"},
        ),
        (
            reverse("ledger:activity-edit", args=[c, u, t.activity.pk]),
            {"on": "2018-01-20", "subkind": "central", "place": "工人日报", "title": "改过的标题"},
        ),
        (
            reverse("ledger:activity-import", args=[c, u, "media"]),
            {
                "file": SimpleUploadedFile(
                    "m.csv", "级别,媒体,日期,标题\n省级,湖北日报,2018-01-22,标题\n".encode()
                )
            },
        ),
        (reverse("ledger:team-new", args=[c, u]), {"name": "第二组", "leader": "陈"}),
        (reverse("ledger:team-edit", args=[c, u, t.team.pk]), {"name": "第一组", "leader": "王"}),
        (
            reverse("ledger:station-new", args=[u]),
            {"name": "月亮湖站", "address": "月亮湖", "opened_on": "2018-01-05"},
        ),
        (
            reverse("ledger:station-edit", args=[u, t.station.pk]),
            {"name": "象山驿站", "address": "象山大道", "opened_on": "2017-01-01"},
        ),
        (reverse("ledger:station-close", args=[u, t.station.pk]), {"closed_on": "2018-03-01"}),
        (reverse("ledger:activity-delete", args=[c, u, t.activity.pk]), {}),
    ]


def _state() -> tuple[Any, ...]:
    return (
        list(Activity.objects.order_by("pk").values_list("pk", "title")),
        list(Team.objects.order_by("pk").values_list("name", "leader")),
        list(Station.objects.order_by("pk").values_list("name", "closed_on")),
        LedgerEvent.objects.count(),
    )


def test_the_units_reporter_sees_and_enters_everything(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("county_reporter")
    for url in _see_pages(things) + _enter_pages(things):
        assert client.get(url).status_code == 200, url
    for url, data in _posts(things):
        response = client.post(url, data)
        assert response.status_code in (200, 302), url
        if response.status_code == 200:  # the import shows its outcome on its page
            assert "导入 1 条" in response.content.decode(), url
    assert not Activity.objects.filter(pk=things.activity.pk).exists()  # the last POST deleted it
    assert Team.objects.filter(name="第二组").exists() and Team.objects.get(pk=things.team.pk).leader == "王"
    assert Station.objects.get(pk=things.station.pk).closed_on == dt.date(2018, 3, 1)
    assert Activity.objects.filter(kind=K.VISIT_FRONTLINE, people=30).exists()
    assert Activity.objects.filter(kind=K.MEDIA, place="湖北日报").exists()


def test_a_reviewer_above_sees_but_may_not_enter(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("city_reviewer")
    for url in _see_pages(things):
        assert client.get(url).status_code == 200, url
    for url in _enter_pages(things):
        assert client.get(url).status_code == 403, url
    before = _state()
    for url, data in _posts(things):
        assert client.post(url, data).status_code == 403, url
    assert _state() == before


@pytest.mark.parametrize("user", ["sibling_reporter", "enterprise_reporter"])
def test_a_unit_out_of_sight_is_not_found(ledger: LedgerWorld, things: Things, user: str) -> None:
    client = ledger.world.client(user)
    for url in _see_pages(things) + _enter_pages(things):
        assert client.get(url).status_code == 404, url
    before = _state()
    for url, data in _posts(things):
        assert client.post(url, data).status_code == 404, url
    assert _state() == before


def test_anonymous_visitors_go_to_the_login(ledger: LedgerWorld, things: Things) -> None:
    client = Client()
    login = reverse("login")
    for url in _see_pages(things) + _enter_pages(things):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    before = _state()
    for url, data in _posts(things):
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    assert _state() == before


def test_unknown_kinds_lists_and_records_are_not_found(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("county_reporter")
    c, u = things.c, things.u
    assert client.get(reverse("ledger:activity-list", args=[c, u, "picnic"])).status_code == 404
    assert client.get(reverse("ledger:activity-import", args=[c, u, "stations"])).status_code == 404
    # a record is reached through its own unit only
    sibling = ledger.world.sibling.pk
    assert (
        ledger.world.client("sibling_reporter")
        .get(reverse("ledger:activity-edit", args=[c, sibling, things.activity.pk]))
        .status_code
        == 404
    )


def test_the_form_shows_the_rules_messages(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("county_reporter")
    url = reverse("ledger:activity-add", args=[things.c, things.u, K.RETURN_TRIP])
    response = client.post(url, {"on": "2018-03-01", "subkind": "coach", "quantity": "0", "people": "40"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "不在活动期间" in page and "大于零的整数" in page
    response = client.post(
        url, {"on": "2018-02-01", "subkind": "coach", "quantity": "2", "people": "40", "amount": "12.345"}
    )
    assert "两位小数" in response.content.decode()
    assert not Activity.objects.filter(kind=K.RETURN_TRIP).exists()
    response = client.post(
        url, {"on": "2018-02-01", "subkind": "coach", "quantity": "2", "people": "40", "amount": "1,200.50"}
    )
    assert response.status_code == 302
    assert Activity.objects.get(kind=K.RETURN_TRIP).amount == Decimal("1200.50")


def test_a_team_visit_is_recorded_from_the_team_page(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("county_reporter")
    c, u, team = things.c, things.u, things.team
    page = client.get(reverse("ledger:team-detail", args=[c, u, team.pk])).content.decode()
    add = reverse("ledger:activity-add", args=[c, u, K.VISIT_HOUSEHOLD]) + f"?team={team.pk}"
    assert add.replace("&", "&amp;") in page or add in page
    response = client.post(
        add, {"on": "2018-01-25", "household_id": str(ledger.wang.pk), "team_id": str(team.pk)}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "ledger:team-detail", args=[c, u, team.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert "走访困难家庭" in page and ledger.wang.head_name in page


def _cells(data: bytes) -> list[list[Any]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(0).to_python()


def test_exports_write_typed_text_as_text(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("city_reviewer")
    response = client.get(reverse("ledger:activity-export", args=[things.c, things.u, K.MEDIA]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _cells(response.content)
    assert rows[1][:5] == ["单位", "日期", "级别", "标题", "媒体或展示场所"]
    assert rows[2][0] == "东宝区总工会" and rows[2][3] == "=1+1"  # a string, never a formula
    assert rows[2][2] == "中央级新闻媒体"
    stations = _cells(client.get(reverse("ledger:station-export", args=[things.u])).content)
    assert stations[2][0] == "象山站"
    teams = _cells(client.get(reverse("ledger:team-export", args=[things.c, things.u])).content)
    assert teams[2][:2] == ["第一组", "刘"]


def test_the_list_filters_and_totals(ledger: LedgerWorld, things: Things) -> None:
    world = ledger.world
    add: Callable[..., Activity] = lambda **kw: activity_add(  # noqa: E731
        user=world.users["county_reporter"],
        campaign=world.campaign,
        unit=world.county,
        data=ActivityInput(kind=K.RETURN_TRIP, **kw),
    )
    add(on=dt.date(2018, 1, 20), subkind="coach", quantity=2, people=80)
    add(on=dt.date(2018, 2, 2), subkind="train", quantity=1, people=900)
    client = world.client("county_reporter")
    url = reverse("ledger:activity-list", args=[things.c, things.u, K.RETURN_TRIP])
    page = client.get(url).content.decode()
    assert "共 2 条" in page and "980" in page
    page = client.get(url, {"subkind": "train"}).content.decode()
    assert "共 1 条" in page and "900" in page
    page = client.get(url, {"start": "2018-01-01", "end": "2018-01-31"}).content.decode()
    assert "共 1 条" in page
    exported = _cells(
        client.get(
            reverse("ledger:activity-export", args=[things.c, things.u, K.RETURN_TRIP]), {"subkind": "coach"}
        ).content
    )
    assert len(exported) == 3 and exported[2][2] == "汽车"


def test_the_import_page_lists_each_bad_row(ledger: LedgerWorld, things: Things) -> None:
    client = ledger.world.client("county_reporter")
    url = reverse("ledger:activity-import", args=[things.c, things.u, "return-trip"])
    text = "交通工具,数量,运送人数,日期\n汽车,2,90,2018-02-01\n火箭,1,10,2018-02-01\n汽车,2,90,2019-02-01\n"
    response = client.post(url, {"file": SimpleUploadedFile("trips.csv", text.encode())})
    page = response.content.decode()
    assert response.status_code == 200
    assert "导入 1 条，退回 2 行" in page
    assert "第3行A列“交通工具”" in page and "火箭" in page and "第4行D列“日期”" in page
    assert Activity.objects.filter(kind=K.RETURN_TRIP).count() == 1
    # a file without the needed columns: refused whole, the reason on the page
    response = client.post(url, {"file": SimpleUploadedFile("x.csv", "甲,乙,丙\n1,2,3\n".encode())})
    assert "找不到这些列" in response.content.decode()
    assert Activity.objects.filter(kind=K.RETURN_TRIP).count() == 1
