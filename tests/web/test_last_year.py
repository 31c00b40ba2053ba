"""Comparison with last year on a unit's table: last year's ACCEPTED values of the same unit (mapped items),
shown beside the inputs, and a warning (核实性审核) beyond the campaign's ratio wherever a check runs — the
entry page, the API's check and save, submit, the import preview."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import get_form
from songnuan.formkit.engine import Value
from songnuan.formkit.excel_writer import write_form
from songnuan.orgs.models import Unit
from songnuan.reporting import services
from songnuan.reporting.last_year import check_table, last_year_values
from songnuan.reporting.models import Submission, SubmissionValue

from ..filemakers import filled_example
from ..world import World

FORM = "warmth-2018"
RULE = "warmth-2018.1A.last-year"  # filled example: 1A = 48


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def previous_campaign(world: World, ratio: str = "3") -> Campaign:
    earlier = Campaign.objects.create(
        title="2017年送温暖活动",
        document_number="荆工办发电〔2016〕1号",
        owner=world.city,
        period_start=dt.date(2017, 1, 1),
        period_end=dt.date(2017, 2, 1),
        deadline=dt.date(2017, 2, 5),
        form_codes=[FORM],
    )
    world.campaign.previous = earlier
    world.campaign.change_ratio = Decimal(ratio)
    world.campaign.save()
    return earlier


def last_year_table(
    campaign: Campaign, unit: Unit, values: dict[str, Value], status: str = Submission.Status.ACCEPTED
) -> Submission:
    submission = Submission.objects.create(campaign=campaign, unit=unit, form_code=FORM, status=status)
    SubmissionValue.objects.bulk_create(
        SubmissionValue(submission=submission, item=code, number=Decimal(value))
        for code, value in values.items()
        if value is not None
    )
    return submission


def draft(world: World, **changes: Value) -> Submission:
    user = world.users["enterprise_reporter"]
    submission = services.submission_open(
        campaign=world.campaign, unit=world.enterprise, form_code=FORM, user=user
    )
    values, header = filled_example(FORM)
    values.update(changes)
    return services.submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        values=values,
        header={"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
    ).submission


def check(world: World, values: dict[str, str]) -> dict[str, Any]:
    url = f"/api/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/check"
    response = world.client("enterprise_reporter").post(
        url, data=json.dumps({"values": values}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


# --- the selector ----------------------------------------------------------------------------------------


def test_no_previous_campaign_no_last_year(world: World) -> None:
    assert last_year_values(world.campaign, world.enterprise.pk, get_form(FORM)) is None


def test_last_year_is_the_same_units_accepted_table_in_one_query(
    world: World, django_assert_num_queries: Any
) -> None:
    earlier = previous_campaign(world)
    last_year_table(earlier, world.enterprise, {"1A": 100, "2A": None})
    last_year_table(earlier, world.sibling, {"1A": 999, "2A": 999})  # another county: never shown
    with django_assert_num_queries(1):
        last = last_year_values(world.campaign, world.enterprise.pk, get_form(FORM))
    assert last is not None and last.found
    assert last.campaign_title == "2017年送温暖活动"
    assert last.values["1A"] == 100
    assert last.values["2A"] is None
    assert last.shown("1A") == "100"
    assert last.shown("2A") == "—"  # blank stays blank, never 0
    assert last.ratio == Decimal(3)


@pytest.mark.parametrize("status", [Submission.Status.DRAFT, Submission.Status.SUBMITTED, "returned"])
def test_a_table_not_accepted_last_year_is_no_yardstick(world: World, status: str) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 1}, status)
    last = last_year_values(world.campaign, world.enterprise.pk, get_form(FORM))
    assert last is not None and not last.found and last.values == {}
    assert check_table(get_form(FORM), filled_example(FORM)[0], last).warnings == []


def test_items_are_mapped_as_the_form_file_says(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 7, "1B": 3})
    form = dataclasses.replace(get_form(FORM), previous_items=(("1A", "1B"), ("1B", "")))
    last = last_year_values(world.campaign, world.enterprise.pk, form)
    assert last is not None
    assert last.values["1A"] == 3  # this year's 1A was last year's 1B
    assert last.values["1B"] is None  # no counterpart last year


# --- the check wherever it runs --------------------------------------------------------------------------


def test_the_api_check_warns_beyond_the_ratio_and_not_at_it(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 16, "2A": None})
    values = {code: str(value) for code, value in filled_example(FORM)[0].items()}
    at_ratio = check(world, values)  # 1A = 48 = 16 × 3 exactly: no warning
    assert RULE not in [w["rule"] for w in at_ratio["warnings"]]
    beyond = check(world, {**values, "1A": "49", "2A": "999999"})  # 2A: blank last year, nothing said
    (warning,) = [w for w in beyond["warnings"] if w["rule"] == RULE]
    assert warning["severity"] == "warning" and warning["items"] == ["1A"]
    assert warning["message"] == "1A（走访企业）本年 49，超过上年（16）的3倍，请核实"
    assert not [w for w in beyond["warnings"] if w["rule"].startswith("warmth-2018.2A")]
    assert "超过上年（16）的3倍" in beyond["findings_html"]["rows"]
    assert "超过上年（16）的3倍" in beyond["findings_html"]["explanations"]


def test_a_zero_last_year_gives_no_ratio_and_no_warning(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 0})
    values = {code: str(value) for code, value in filled_example(FORM)[0].items()}
    assert RULE not in [w["rule"] for w in check(world, values)["warnings"]]


def test_the_campaigns_ratio_is_used(world: World) -> None:
    last_year_table(previous_campaign(world, ratio="1.5"), world.enterprise, {"1A": 30})
    values = {code: str(value) for code, value in filled_example(FORM)[0].items()}
    (warning,) = [w for w in check(world, values)["warnings"] if w["rule"] == RULE]
    assert warning["message"] == "1A（走访企业）本年 48，超过上年（30）的1.5倍，请核实"


def test_submit_needs_an_explanation_of_the_change(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 400})
    submission = draft(world)  # 48 < 400 ÷ 3
    user = world.users["enterprise_reporter"]
    with pytest.raises(services.ReportingError, match=RULE):
        services.submission_submit(submission=submission, user=user)
    saved = services.submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        explanations={RULE: "2018年企业关停，走访减少"},
    )
    assert RULE in [w.rule for w in saved.check.warnings]
    assert services.submission_submit(submission=saved.submission, user=user).status == "submitted"


def test_the_entry_page_shows_last_year_beside_each_input(world: World) -> None:
    client = world.client("enterprise_reporter")
    url = f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"
    draft(world)
    assert 'class="last-year"' not in client.get(url).content.decode()  # no previous campaign: no column
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 200})
    page = client.get(url).content.decode()
    assert '<th class="last-year">上年</th>' in page
    assert '<td class="last-year" data-last-year="1A">200</td>' in page
    assert '<td class="last-year" data-last-year="2A">—</td>' in page
    assert "只取审核通过的表" in page
    assert "本年数超过上年的3倍或不到上年的1/3时给出警告" in page
    assert "1A（走访企业）本年 48，不到上年（200）的1/3，请核实" in page


def test_the_entry_page_says_when_last_year_has_no_accepted_table(world: World) -> None:
    previous_campaign(world)
    page = (
        world.client("enterprise_reporter")
        .get(f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/")
        .content.decode()
    )
    assert "上年活动中本单位没有审核通过的表" in page
    assert '<td class="last-year" data-last-year="1A">—</td>' in page


def test_the_import_preview_warns_too(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 10})
    values, header = filled_example(FORM)
    buffer = io.BytesIO()
    write_form(get_form(FORM), buffer, values=values, header=header)
    response = world.client("enterprise_reporter").post(
        f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/import",
        {"table": SimpleUploadedFile("表.xlsx", buffer.getvalue())},
    )
    assert response.status_code == 200
    assert "1A（走访企业）本年 48，超过上年（10）的3倍，请核实" in response.content.decode()


def test_another_countys_reporter_sees_nothing_of_last_year(world: World) -> None:
    last_year_table(previous_campaign(world), world.enterprise, {"1A": 12345})
    client = world.client("sibling_reporter")
    page = client.get(f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/")
    assert page.status_code in (403, 404)
    assert "12345" not in page.content.decode()


# --- the reviewer's grid ---------------------------------------------------------------------------------


def grid_url(world: World, unit: Unit, xlsx: bool = False) -> str:
    tail = "grid.xlsx" if xlsx else ""
    return f"/campaigns/{world.campaign.pk}/grid/{unit.pk}/{FORM}/{tail}?change=1"


def accepted_this_year(world: World, unit: Unit, values: dict[str, Value]) -> None:
    last_year_table(world.campaign, unit, values)


def test_the_grid_shows_last_year_this_year_and_the_ratio_per_unit(world: World) -> None:
    earlier = previous_campaign(world)
    last_year_table(earlier, world.enterprise, {"1A": 10, "2A": 100})
    last_year_table(earlier, world.sibling, {"1A": 7})
    accepted_this_year(world, world.enterprise, {"1A": 48, "2A": 90})
    accepted_this_year(world, world.sibling, {"1A": 7})
    client = world.client("city_reviewer")
    plain = client.get(grid_url(world, world.city).replace("?change=1", "")).content.decode()
    assert '<a class="button" href="?change=1">与上年比较</a>' in plain
    page = client.get(grid_url(world, world.city)).content.decode()
    assert "只含两年审核通过的表" in page
    row = page[page.index('<tr data-item="1A">') :]
    row = row[: row.index("</tr>")]
    cells = [cell.split(">", 1)[1].split("</td>")[0] for cell in row.split('<td class="value')[1:]]
    # columns: 东宝区 (its enterprise), 钟祥市, 本级 (city), 合计: each 上年, 本年, 倍数
    assert cells[:6] == ["10", "48", '<span class="tag warning">×4.8</span>', "7", "7", "×1"]
    assert cells[6:9] == ["", "", ""]  # the city's own table: blank both years, not 0
    assert cells[9:12] == ["17", "55", '<span class="tag warning">×3.24</span>']


def test_the_grid_of_a_county_shows_no_other_county(world: World) -> None:
    earlier = previous_campaign(world)
    last_year_table(earlier, world.enterprise, {"1A": 10})
    last_year_table(earlier, world.sibling, {"1A": 777})
    page = world.client("county_reviewer").get(grid_url(world, world.county)).content.decode()
    assert "777" not in page and "钟祥市" not in page
    refused = world.client("county_reviewer").get(grid_url(world, world.sibling))
    assert refused.status_code == 403
    assert world.client("county_reporter").get(grid_url(world, world.county, xlsx=True)).status_code == 403


def test_the_grid_export_against_last_year(world: World) -> None:
    earlier = previous_campaign(world)
    last_year_table(earlier, world.enterprise, {"1A": 10})
    accepted_this_year(world, world.enterprise, {"1A": 48})
    response = world.client("city_reviewer").get(grid_url(world, world.city, xlsx=True))
    assert response.status_code == 200
    assert "与上年对比" in unquote(response["Content-Disposition"])
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert [sheet.cell(4, c).value for c in range(4, 7)] == ["上年", "本年", "倍数"]
    row = next(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, 1).value == "1A")
    assert [sheet.cell(row, c).value for c in range(4, 7)] == [10, 48, 4.8]


def test_without_a_previous_campaign_the_grid_has_no_switch(world: World) -> None:
    page = world.client("city_reviewer").get(grid_url(world, world.city)).content.decode()
    assert "与上年比较" not in page and "倍数" not in page


# --- the demo ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_has_last_year_and_one_explained_change() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    campaign = Campaign.objects.get(document_number="荆工办发电〔2017〕18号")
    assert campaign.previous is not None
    jingshan = Unit.objects.get(name__startswith="京山")
    submission = Submission.objects.get(campaign=campaign, unit=jingshan, form_code=FORM)
    last = last_year_values(campaign, jingshan.pk, get_form(FORM))
    assert last is not None and last.found and last.values["1A"] == 40
    check = check_table(get_form(FORM), services.stored_values(submission), last)
    assert [w.rule for w in check.warnings if w.rule.endswith(".last-year")] == [RULE]
    assert services.missing_explanations(submission, check) == []  # explained, as it was submitted
    education = Unit.objects.get(name="市教育工会")
    client = Client()
    client.force_login(User.objects.get(username="education_reporter"))
    page = client.get(f"/campaigns/{campaign.pk}/units/{education.pk}/forms/{FORM}/")
    assert '<td class="last-year" data-last-year="1A">48</td>' in page.content.decode()
