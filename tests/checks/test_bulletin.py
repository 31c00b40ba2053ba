"""The bulletin (通报) of a spot check: its numbers from the results, the ranking (a unit nobody was
interviewed in last, “—”), the problems with masked names and nothing else personal, the demands, and the
same bulletin as .xlsx (text stays text), .docx and the printable page with its SVG chart."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import docx
import openpyxl
import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import RequestFactory
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from songnuan.archive.models import Household
from songnuan.checks import stats
from songnuan.checks.bulletin import (
    Bulletin,
    bulletin,
    bulletin_docx,
    bulletin_filename,
    bulletin_xlsx,
    chart,
)
from songnuan.checks.models import SampledHousehold, SpotCheck
from songnuan.checks.services import AnswersInput, answers_save, call_record, spot_check_draw
from songnuan.ledger.rules import mask_name
from songnuan.orgs.models import Unit
from tests.checks.checksworld import caller, request
from tests.world import World

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ISSUED = dt.date(2018, 2, 10)
DEADLINE = dt.date(2018, 2, 28)


def drawn(world: World) -> SpotCheck:
    """Three strata (level 2): the county's own households, the enterprise below it, the sibling county;
    two households each."""
    Household.objects.update(phone=PHONE)
    return spot_check_draw(
        user=world.users["city_reviewer"],
        request=request(world, level=2, per_stratum=2, document_number="荆工办〔2018〕3号"),
    )


def sample(check: SpotCheck, unit: Unit) -> list[SampledHousehold]:
    return list(
        SampledHousehold.objects.filter(spot_check=check, stratum__unit=unit, in_sample=True)
        .select_related("household")
        .order_by("position")
    )


def interview(user: User, sampled: SampledHousehold, disposition: str, answers: AnswersInput) -> None:
    call_record(user=user, sampled=sampled, disposition=disposition)
    sampled.refresh_from_db()
    answers_save(user=user, sampled=sampled, data=answers, version=sampled.version)


def called(world: World, check: SpotCheck) -> None:
    """County: 核实无误 and 金额不符; enterprise: 否认收到 and 现金发放; sibling: not reached and refused."""
    user = caller(world)
    county, enterprise, sibling = (sample(check, u) for u in (world.county, world.enterprise, world.sibling))
    interview(
        user,
        county[0],
        "self",
        AnswersInput(received=True, amount=Decimal("800.00"), how="card", satisfaction="satisfied"),
    )
    interview(
        user,
        county[1],
        "self",
        AnswersInput(received=True, amount=Decimal("500.00"), how="card", satisfaction="fairly"),
    )
    interview(user, enterprise[0], "family", AnswersInput(received=False, satisfaction="unsatisfied"))
    interview(user, enterprise[1], "self", AnswersInput(received=True, amount=Decimal("800.00"), how="cash"))
    for _ in range(stats.MAX_ATTEMPTS):
        call_record(user=user, sampled=sibling[0], disposition="no-answer")
    call_record(user=user, sampled=sibling[1], disposition="refused")


@pytest.fixture
def check(world: World, helped: Any) -> SpotCheck:
    found = drawn(world)
    called(world, found)
    return found


def personal_numbers(check: SpotCheck) -> list[str]:
    ids = SampledHousehold.objects.filter(spot_check=check).values_list(
        "household__head_id_number", flat=True
    )
    return [PHONE, *ids]


def text_of(made: Bulletin) -> str:
    return "\n".join(
        [
            made.title,
            made.document_number,
            made.addressees,
            made.summary,
            made.table_note,
            made.problems_text,
            *(p.line for p in made.problems),
            *made.demands,
            *made.closing,
            *(str(cell) for row in [*made.rows, made.total] for cell in row.cells()),
        ]
    )


def xlsx_cells(content: bytes) -> dict[str, list[list[Any]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: [[cell for cell in row] for row in sheet.iter_rows()] for sheet in workbook}


def docx_text(content: bytes) -> tuple[Any, str]:
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return document, "\n".join([*(p.text for p in document.paragraphs), *cells])


def page(world: World, check: SpotCheck, made: Bulletin) -> str:
    http = RequestFactory().get(f"/checks/{check.pk}/bulletin/")
    http.user = world.users["city_admin"]
    return render_to_string(
        "checks/bulletin.html", {"check": check, "bulletin": made, "bars": chart(made)}, request=http
    )


def test_the_numbers_the_ranking_and_the_summary(world: World, check: SpotCheck) -> None:
    made = bulletin(check, issued_on=ISSUED, deadline=DEADLINE)
    assert made.title == "关于2018年送温暖电话抽查情况的通报"
    assert made.document_number == "荆工办〔2018〕3号" and made.issuing_unit == "荆门市总工会"
    assert made.date_text == "2018年2月10日" and made.closing == ["荆门市总工会", "2018年2月10日"]
    names = [world.county.name, world.enterprise.name, world.sibling.name]
    assert made.addressees == "、".join(sorted(names, key=lambda n: Unit.objects.get(name=n).path))
    assert [row.unit for row in made.rows] == names  # 50%, 0%, then nobody interviewed
    assert [row.rank for row in made.rows] == [1, 2, None]
    assert [row.confirmed_rate_text for row in made.rows] == ["50.00%", "0.00%", "—"]
    assert made.rows[2].cells()[0] == "—" and made.rows[2].interval_text == "—"
    assert made.rows[2].contact_rate_text == "50.00%"  # the refusal answered the phone
    total = made.total
    assert (total.sampled, total.attempted, total.reached, total.interviewed) == (6, 6, 4, 4)
    assert (total.confirmed, total.discrepancies, total.confirmed_rate) == (1, 3, Decimal("0.2500"))
    assert made.verdict_counts == {
        "confirmed": 1,
        "amount-differs": 1,
        "denies": 1,
        "cash": 1,
        "not-reached": 2,
    }
    bounds = stats.wilson(1, 4)
    assert bounds is not None
    for part in (
        "为了解《关于2018年元旦春节期间全市工会开展送温暖活动的通知》落实情况，荆门市总工会于",
        "抽样框共14户",
        "抽取6户",
        "已拨打6户",
        "接通4户",
        "有人接听5户，接触率83.33%",
        "完成访问4户，其中核实无误1户，核实率25.00%",
        f"95%置信区间{bounds[0] * 100:.2f}%–{bounds[1] * 100:.2f}%",
        "发现问题3户，其中金额不符1户、否认收到1户、现金发放1户",
        "满意1户、基本满意1户、不满意1户，满意率（含基本满意）66.67%",
    ):
        assert part in made.summary, part
    assert bulletin_filename(made, "docx") == "关于2018年送温暖电话抽查情况的通报.docx"


def test_the_problems_name_households_masked_and_the_demands(world: World, check: SpotCheck) -> None:
    made = bulletin(check, issued_on=ISSUED, deadline=DEADLINE)
    county, enterprise = sample(check, world.county), sample(check, world.enterprise)
    expected = [
        (world.county.name, county[1], "金额不符"),
        (world.enterprise.name, enterprise[0], "否认收到"),
        (world.enterprise.name, enterprise[1], "现金发放"),
    ]
    assert [(p.unit, p.name, p.verdict_label) for p in made.problems] == [
        (unit, mask_name(s.household.head_name), label) for unit, s, label in expected
    ]
    assert all("*" in p.name for p in made.problems)
    differs, denies, cash = made.problems
    assert (differs.ledger_amount, differs.said_amount) == (Decimal("800.00"), Decimal("500.00"))
    assert "台账记载发放800.00元（工会卡），受助户反映收到500.00元，发放方式为工会卡" in differs.line
    assert "受助户反映未收到帮扶" in denies.line
    assert "受助户反映收到800.00元，发放方式为现金" in cash.line
    text = text_of(made)
    for sampled in (*county, *enterprise):
        assert sampled.household.head_name not in text  # only ever masked
    assert made.demands[0].startswith("（一）对存在问题的单位限期整改。")
    assert f"{world.county.name}、{world.enterprise.name}要高度重视" in made.demands[0]
    assert world.sibling.name not in made.demands[0]
    assert "于2018年2月28日前将整改情况书面报送荆门市总工会" in made.demands[1]
    undated = bulletin(check, issued_on=ISSUED)
    assert "整改完成后及时将整改情况书面报送荆门市总工会" in undated.demands[1]


def test_no_id_or_phone_number_anywhere(world: World, check: SpotCheck) -> None:
    made = bulletin(check, issued_on=ISSUED, deadline=DEADLINE)
    workbook = xlsx_cells(bulletin_xlsx(made))
    in_workbook = "\n".join(
        str(cell.value)
        for rows in workbook.values()
        for row in rows
        for cell in row
        if cell.value is not None
    )
    _, in_document = docx_text(bulletin_docx(made))
    outputs = {
        "data": text_of(made),
        "xlsx": in_workbook,
        "docx": in_document,
        "page": page(world, check, made),
    }
    for kind, output in outputs.items():
        for number in personal_numbers(check):
            assert number not in output, kind
        if kind != "page":  # the page holds a CSRF token, which may have digits in a row
            assert not re.search(r"\d{11,}", output), kind


def test_a_bulletin_before_anyone_is_reached(world: World, helped: Any) -> None:
    check = drawn(world)
    made = bulletin(check, issued_on=ISSUED)
    assert [row.confirmed_rate_text for row in made.rows] == ["—", "—", "—"]
    assert [row.contact_rate_text for row in made.rows] == ["—", "—", "—"]
    assert all(row.rank is None for row in made.rows)
    assert made.total.confirmed_rate_text == "—" and made.total.interval_text == "—"
    assert "接触率—" in made.summary and "尚无完成访问的受助户，核实率为“—”" in made.summary
    assert "0%" not in made.summary and "满意率" not in made.summary
    assert "未发现金额不符、否认收到、现金发放等问题" in made.summary
    assert made.problems == [] and "未发现" in made.problems_text
    assert made.demands[0].startswith("（一）本次抽查未发现")
    bars = chart(made)
    assert [(bar.width, bar.has_rate, bar.value) for bar in bars] == [(0, False, "—")] * 3
    workbook = xlsx_cells(bulletin_xlsx(made))
    assert [c.value for c in workbook["各单位抽查情况"][-1]][-2:] == ["—", "—"]
    _, text = docx_text(bulletin_docx(made))
    assert made.title in text
    html = page(world, check, made)
    assert "<svg" in html and "<rect" not in html


def test_the_xlsx_holds_the_table_and_text_stays_text(world: World, check: SpotCheck) -> None:
    Unit.objects.filter(pk=world.enterprise.pk).update(name="=1+1")
    planted = sample(check, world.enterprise)[0].household
    Household.objects.filter(pk=planted.pk).update(head_name="=HYPERLINK(1)")
    made = bulletin(check, issued_on=ISSUED)
    workbook = xlsx_cells(bulletin_xlsx(made))
    assert list(workbook) == ["各单位抽查情况", "发现的问题", "通报正文"]
    table = workbook["各单位抽查情况"]
    assert table[0][0].value == "关于2018年送温暖电话抽查情况的通报（荆工办〔2018〕3号）"
    assert table[1][0].value == "名次" and table[1][-1].value == "95%置信区间"
    assert [[c.value for c in row][:2] for row in table[2:]] == [
        [1, world.county.name],
        [2, "=1+1"],
        ["—", world.sibling.name],
        [None, "合计"],
    ]
    assert [c.value for c in table[2]][3:] == [2, 2, 2, "100.00%", 2, 1, 1, "50.00%", table[2][-1].value]
    assert table[3][1].data_type == "s"
    problems = workbook["发现的问题"]
    assert [[c.value for c in row][:4] for row in problems[2:]] == [
        [1, world.county.name, made.problems[0].name, "金额不符"],
        [2, "=1+1", mask_name("=HYPERLINK(1)"), "否认收到"],
        [3, "=1+1", made.problems[2].name, "现金发放"],
    ]
    every_cell = [cell for rows in workbook.values() for row in rows for cell in row]
    assert not [cell.coordinate for cell in every_cell if cell.data_type == "f"]
    text = [row[0].value for row in workbook["通报正文"][2:]]
    assert text[0] == "荆工办〔2018〕3号" and made.summary in text and text[-2:] == made.closing


def test_the_docx_is_a_bulletin(world: World, check: SpotCheck) -> None:
    made = bulletin(check, issued_on=ISSUED, deadline=DEADLINE)
    document, text = docx_text(bulletin_docx(made))
    paragraphs = [p for p in document.paragraphs if p.text]
    assert [p.text for p in paragraphs[:2]] == ["荆工办〔2018〕3号", made.title]
    title = paragraphs[1]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].bold
    fonts = title.runs[0]._element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    section = document.sections[0]
    assert (section.page_width.mm, section.page_height.mm) == pytest.approx((210, 297), abs=0.5)
    (table,) = document.tables
    assert [cell.text for cell in table.rows[0].cells][:2] == ["名次", "单位"]
    assert [row.cells[1].text for row in table.rows[1:]] == [
        world.county.name,
        world.enterprise.name,
        world.sibling.name,
        "合计",
    ]
    assert table.rows[3].cells[-2].text == "—"
    for part in (made.summary, *(p.line for p in made.problems), *made.demands, "二、发现的问题"):
        assert part in text
    assert [p.text for p in paragraphs[-2:]] == made.closing
    assert paragraphs[-1].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_the_printable_page_and_its_chart(world: World, check: SpotCheck) -> None:
    made = bulletin(check, issued_on=ISSUED)
    bars = chart(made)
    assert [(bar.unit, bar.value, bar.has_rate) for bar in bars] == [
        (world.county.name, "50.00%", True),
        (world.enterprise.name, "0.00%", True),
        (world.sibling.name, "—", False),
    ]
    assert bars[0].width == 180 and bars[1].width == 0 and bars[0].x == bars[1].x
    assert bars[1].y - bars[0].y == bars[2].y - bars[1].y > bars[0].height
    assert bars.height > bars[-1].y + bars[-1].height and bars.width >= bars[0].value_x
    html = page(world, check, made)
    assert html.count("<svg") == 1 and html.count("<rect") == 2
    assert f'width="{bars[0].width}"' in html
    assert made.title in html and "荆工办〔2018〕3号" in html and "window.print()" in html
    assert made.problems[0].line in html and "—" in html
    assert "style=" not in html and "<style" not in html
