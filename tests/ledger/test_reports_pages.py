"""The roll-up and 公示 pages and downloads: who may open them, the drill-down, and that the 公示 shows no
ID or card number anywhere (the ledger of tests/ledger/test_reports.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from songnuan.formkit.excel_writer import XLSX
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from tests.ledger.test_reports import ReportsWorld, _secrets, build_reports_world
from tests.world import World

PAGES = ["rollup", "rollup-export", "publicity", "publicity-export"]


@pytest.fixture
def rw(world: World) -> ReportsWorld:
    return build_reports_world(world)


def _url(world: World, name: str, unit: str = "county") -> str:
    return reverse(f"ledger:{name}", args=[world.campaign.pk, getattr(world, unit).pk])


# Of the county's ledger: its reporter sees the 公示, not the roll-up (which names the units below); a
# reviewer of the unit or above sees both; a sibling and a unit below are refused as on every ledger page
# of a unit out of sight (403, `views.campaign_unit`).
MATRIX = {
    "county_reporter": {"rollup": 403, "rollup-export": 403, "publicity": 200, "publicity-export": 200},
    "county_reviewer": dict.fromkeys(PAGES, 200),
    "city_reviewer": dict.fromkeys(PAGES, 200),
    "city_admin": dict.fromkeys(PAGES, 200),
    "sibling_reporter": dict.fromkeys(PAGES, 403),
    "enterprise_reporter": dict.fromkeys(PAGES, 403),
}


@pytest.mark.parametrize("who", sorted(MATRIX))
@pytest.mark.parametrize("page", PAGES)
def test_permission_matrix(rw: ReportsWorld, who: str, page: str) -> None:
    response = rw.world.client(who).get(_url(rw.world, page))
    assert response.status_code == MATRIX[who][page]
    if response.status_code == 200 and page.endswith("export"):
        assert response["Content-Type"] == XLSX


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_log_in(rw: ReportsWorld, page: str) -> None:
    response = Client().get(_url(rw.world, page))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_unknown_campaign_or_unit_is_404(rw: ReportsWorld) -> None:
    client = rw.world.client("city_reviewer")
    assert client.get(reverse("ledger:rollup", args=[999999, rw.world.city.pk])).status_code == 404
    assert client.get(reverse("ledger:publicity", args=[rw.world.campaign.pk, 999999])).status_code == 404
    outside = unit_create(name="市直机关工会", kind=Unit.Kind.ORGANS, parent=rw.world.city)
    for name in PAGES:  # a unit the campaign does not concern
        assert (
            client.get(reverse(f"ledger:{name}", args=[rw.world.campaign.pk, outside.pk])).status_code == 404
        )


def test_a_reporter_may_not_post_its_subtree(rw: ReportsWorld) -> None:
    client = rw.world.client("county_reporter")
    assert client.get(_url(rw.world, "publicity") + "?subtree=1").status_code == 403
    assert client.get(_url(rw.world, "publicity-export") + "?subtree=1").status_code == 403


def test_rollup_page_drills_down(rw: ReportsWorld) -> None:
    w = rw.world
    html = w.client("city_reviewer").get(_url(w, "rollup", "city")).content.decode()
    assert f'href="{_url(w, "rollup", "county")}"' in html
    assert f'href="{_url(w, "rollup", "sibling")}"' in html
    assert "荆门市总工会（本级）" in html and "合计（全辖）" in html
    plain = html.replace(",", "")  # grouping follows the language's number format
    assert '<td class="number allocated-in">40000.00</td>' in plain
    assert '<td class="number raised-total">120000.00</td>' in plain
    county = w.client("city_reviewer").get(_url(w, "rollup", "county")).content.decode()
    assert f'href="{_url(w, "rollup", "enterprise")}"' in county
    assert f'href="{_url(w, "rollup", "city")}"' in county  # the way back up
    # A reviewer of the county has no way up to the city's roll-up.
    own = w.client("county_reviewer").get(_url(w, "rollup", "county")).content.decode()
    assert f'href="{_url(w, "rollup", "city")}"' not in own


def test_publicity_page_masks_names_and_shows_no_numbers(rw: ReportsWorld) -> None:
    w = rw.world
    response = w.client("city_reviewer").get(_url(w, "publicity", "city") + "?subtree=1")
    html = response.content.decode()
    for secret in _secrets(rw):
        assert secret not in html
    for shown in ("张*明", "王*", "李*海", "钱*多", "荆门恒达化工有限公司"):
        assert f'<td class="name">{shown}</td>' in html
    for hidden in ("张三明", "王芳", "李四海", "钱多多"):
        assert hidden not in html
    assert "荆门市总工会2018年送温暖帮扶资金发放公示" in html
    assert "ledger/publicity.css" in html
    css = (Path(__file__).parents[2] / "src/songnuan/ledger/static/ledger/publicity.css").read_text()
    assert "@page { size: A4 portrait" in css and "table-header-group" in css


def test_publicity_of_a_unit_leaves_out_reversed_records_and_names_its_phone(rw: ReportsWorld) -> None:
    w = rw.world
    html = w.client("county_reporter").get(_url(w, "publicity")).content.decode()
    assert html.count('<td class="name">') == 1 and '<td class="name">张*明</td>' in html
    assert "2000.00" not in html.replace(",", "") and "500.00" not in html  # reversed, draft
    assert '<span class="phone">0724-2345678</span>' in html
    assert "东宝区总工会2018年送温暖帮扶资金发放公示" in html


def test_publicity_download_follows_the_options(rw: ReportsWorld) -> None:
    w = rw.world
    response = w.client("city_admin").get(_url(w, "publicity-export", "city") + "?subtree=1&households=1")
    book = load_workbook(io.BytesIO(response.content))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert [row[1] for row in rows[2:4]] == ["张*明", "钱*多"] and rows[4][0] == "合计"
    text = "\n".join(str(cell) for row in rows for cell in row if cell is not None)
    for secret in _secrets(rw):
        assert secret not in text
    assert "attachment" in response["Content-Disposition"]
