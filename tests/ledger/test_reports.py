"""The ledger's roll-up and 公示 (songnuan.ledger.reports) against sums worked out by hand.

The tree of tests/world.py with this ledger (campaign 2018):

    荆门市总工会 (city)    raised 100,000 central and 20,000 union; allocated 40,000 central to the county;
                           gave 300 yuan of goods to 李四海 (a front-line worker), 5,000 to an enterprise,
                           200 in cash to 王五 (all union money)
    ├── 东宝区总工会 (county)  allocated 10,000 central on to the enterprise union; paid 张三明 1,000
    │                         (stands), 王芳 2,000 (approved, then reversed), 王芳 500 (a draft)
    │   └── 水泥厂工会 (enterprise)  paid 钱多多 800
    └── 钟祥市总工会 (sibling)  nothing
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from songnuan.archive.models import Household
from songnuan.ledger import reports
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord
from songnuan.ledger.services import allocate, help_record_reverse
from songnuan.orgs.services import unit_create
from tests.ledger.ledgerworld import (
    LedgerWorld,
    card,
    help_input,
    household,
    new_id_number,
    raise_money,
)
from tests.world import World


@dataclass
class ReportsWorld:
    world: World
    ledger: LedgerWorld
    zhang: Household  # 张三明, county, 1,000 central stands
    wang: Household  # 王芳, county: 2,000 reversed, 500 draft
    qian: Household  # 钱多多, enterprise, 800 central
    person_id: str  # 李四海's ID number
    enterprise_card: str  # the enterprise's bank card


def _source(code: str) -> FundSource:
    return FundSource.objects.get(code=code)


def build_reports_world(world: World) -> ReportsWorld:
    users = world.users
    campaign = world.campaign
    raise_money(world, world.city, "central", "100000", user="city_admin")
    raise_money(world, world.city, "union", "20000", user="city_admin")
    on = dt.date(2018, 1, 3)
    allocate(
        user=users["city_admin"],
        campaign=campaign,
        giver=world.city,
        taker=world.county,
        source=_source("central"),
        amount=Decimal("40000"),
        on=on,
    )
    allocate(
        user=users["county_reporter"],
        campaign=campaign,
        giver=world.county,
        taker=world.enterprise,
        source=_source("central"),
        amount=Decimal("10000"),
        on=on,
    )
    zhang = household(world, "张三明")
    wang = household(world, "王芳")
    qian = household(world, "钱多多", unit=world.enterprise)
    ledger = LedgerWorld(world, wang=wang, li=zhang, zhang=zhang, zhao=qian)

    ledger.approve(ledger.add(help_input(zhang)))
    wrong = ledger.approve(ledger.add(help_input(wang, amount=Decimal("2000"))))
    help_record_reverse(user=users["county_reviewer"], record=wrong, reason="重复录入")
    ledger.add(help_input(wang, item="living", amount=Decimal("500")))  # a draft: never counted

    ledger.approve(
        ledger.add(help_input(qian, amount=Decimal("800")), user="enterprise_reporter", unit=world.enterprise)
    )

    person_id = new_id_number()
    enterprise_card = card()
    city_entries = [
        help_input(
            recipient_kind=HelpRecord.RecipientKind.PERSON,
            name="李四海",
            id_number=person_id,
            person_category=HelpRecord.PersonCategory.FRONTLINE,
            source="union",
            channel=HelpRecord.Channel.GOODS,
            amount=None,
            goods_description="大米",
            goods_quantity=Decimal("2"),
            goods_value=Decimal("300"),
            paid_on=dt.date(2018, 1, 20),
        ),
        help_input(
            recipient_kind=HelpRecord.RecipientKind.ENTERPRISE,
            name="荆门恒达化工有限公司",
            enterprise_kind=HelpRecord.EnterpriseKind.NEEDY,
            item="other",
            source="union",
            channel=HelpRecord.Channel.BANK_CARD,
            card_number=enterprise_card,
            amount=Decimal("5000"),
            paid_on=dt.date(2018, 1, 10),
        ),
        help_input(
            recipient_kind=HelpRecord.RecipientKind.PERSON,
            name="王五",
            id_number=new_id_number(),
            person_category=HelpRecord.PersonCategory.MIGRANT,
            source="union",
            channel=HelpRecord.Channel.CASH,
            cash_reason="本人无银行卡",
            amount=Decimal("200"),
            paid_on=dt.date(2018, 1, 15),
        ),
    ]
    for entry in city_entries:
        ledger.approve(ledger.add(entry, user="city_admin", unit=world.city), user="city_reviewer")
    return ReportsWorld(world, ledger, zhang, wang, qian, person_id, enterprise_card)


@pytest.fixture
def rw(world: World) -> ReportsWorld:
    return build_reports_world(world)


def _rows(table: reports.Rollup) -> dict[str, reports.RollupRow]:
    found = {row.unit.name if row.kind == "child" else row.kind: row for row in table.rows}
    found["total"] = table.total
    return found


def _source_id(code: str) -> int:
    return _source(code).pk


def test_city_rollup_equals_the_sums_by_hand(rw: ReportsWorld) -> None:
    w = rw.world
    table = reports.rollup(w.campaign, w.city)
    assert [row.kind for row in table.rows] == ["child", "child", "own"]
    rows = _rows(table)
    county, sibling, own, total = rows[w.county.name], rows[w.sibling.name], rows["own"], rows["total"]
    central, union = _source_id("central"), _source_id("union")

    # Money raised counts once, where it was raised; the allocation is money coming into the county.
    assert total.raised == {central: Decimal("100000.00"), union: Decimal("20000.00")}
    assert own.raised == total.raised
    assert county.raised_total == 0 and county.allocated_in_total == Decimal("40000.00")
    assert county.allocated_in == {central: Decimal("40000.00")}  # the county's 10,000 on is inside it
    assert total.allocated_in_total == 0 and own.allocated_in_total == 0

    # Help: the reversed 2,000 and its reversal cancel out, the draft is not counted.
    assert (county.records, county.households, county.persons, county.enterprises) == (2, 2, 0, 0)
    assert (county.amount, county.goods_value, county.cash) == (Decimal("1800.00"), Decimal(0), 0)
    assert (own.records, own.households, own.persons, own.enterprises) == (3, 0, 2, 1)
    assert (own.amount, own.goods_value, own.cash) == (Decimal("5200.00"), Decimal("300.00"), 1)
    assert (sibling.records, sibling.amount, sibling.raised_total) == (0, Decimal(0), Decimal(0))
    assert (total.records, total.households, total.persons, total.enterprises) == (5, 2, 2, 1)
    assert (total.amount, total.goods_value, total.value, total.cash) == (
        Decimal("7000.00"),
        Decimal("300.00"),
        Decimal("7300.00"),
        1,
    )

    visit, other = HelpItem.objects.get(code="visit").pk, HelpItem.objects.get(code="other").pk
    assert county.by_item == {visit: Decimal("1800.00")}
    assert own.by_item == {visit: Decimal("500.00"), other: Decimal("5000.00")}
    assert total.by_item == {visit: Decimal("2300.00"), other: Decimal("5000.00")}
    # Every column but 上级下拨 adds up.
    assert sum((r.amount for r in table.rows), Decimal(0)) == total.amount
    assert sum((r.raised_total for r in table.rows), Decimal(0)) == total.raised_total


def test_drilling_into_the_county(rw: ReportsWorld) -> None:
    w = rw.world
    table = reports.rollup(w.campaign, w.county)
    rows = _rows(table)
    enterprise, own, total = rows[w.enterprise.name], rows["own"], rows["total"]
    central = _source_id("central")
    assert enterprise.allocated_in == {central: Decimal("10000.00")}
    assert own.allocated_in == {central: Decimal("40000.00")}
    # From above the county only: the county's allocation to its enterprise stays inside.
    assert total.allocated_in == {central: Decimal("40000.00")} and total.raised_total == 0
    assert (enterprise.records, enterprise.amount) == (1, Decimal("800.00"))
    assert (own.records, own.amount, own.households) == (1, Decimal("1000.00"), 1)
    assert (total.records, total.amount) == (2, Decimal("1800.00"))
    assert [a.pk for a in table.ancestors] == [w.city.pk]


def test_a_child_the_campaign_does_not_concern_shows_only_with_figures(rw: ReportsWorld) -> None:
    w = rw.world
    outside = unit_create(name="市直机关工会", kind=w.county.Kind.ORGANS, parent=w.city)
    names = [row.unit.name for row in reports.rollup(w.campaign, w.city).rows if row.kind == "child"]
    assert names == [w.county.name, w.sibling.name]
    assert outside.name not in names


def test_a_leaf_has_its_own_row_only(rw: ReportsWorld) -> None:
    table = reports.rollup(rw.world.campaign, rw.world.enterprise)
    assert [row.kind for row in table.rows] == ["own"]
    assert table.total.amount == table.rows[0].amount == Decimal("800.00")


def test_the_rollup_takes_the_same_few_queries_however_big_the_tree(rw: ReportsWorld) -> None:
    w = rw.world
    with CaptureQueriesContext(connection) as small:
        reports.rollup(w.campaign, w.city)
    for n in range(5):
        unit = unit_create(name=f"新增企业工会{n}", kind=w.county.Kind.ENTERPRISE, parent=w.sibling)
        unit_create(name=f"下属工会{n}", kind=w.county.Kind.ENTERPRISE, parent=unit)
    with CaptureQueriesContext(connection) as big:
        reports.rollup(w.campaign, w.city)
    assert len(big) == len(small) <= 12


def test_publicity_masks_names_and_leaves_out_what_does_not_stand(rw: ReportsWorld) -> None:
    w = rw.world
    notice = reports.publicity(w.campaign, w.city, subtree=True)
    names = [line.name for line in notice.lines]
    # By unit (tree order), then date: the city's three, then the county's, then the enterprise's.
    assert names == ["荆门恒达化工有限公司", "王*", "李*海", "张*明", "钱*多"]
    assert [line.unit for line in notice.lines] == [w.city.name] * 3 + [w.county.name, w.enterprise.name]
    assert notice.amount == Decimal("7000.00") and notice.goods_value == Decimal("300.00")
    assert notice.title == "荆门市总工会2018年送温暖帮扶资金发放公示"

    own = reports.publicity(w.campaign, w.county)
    assert [line.name for line in own.lines] == ["张*明"]  # 王芳's reversed 2,000 and draft left out

    households = reports.publicity(w.campaign, w.city, subtree=True, households_only=True)
    assert [line.name for line in households.lines] == ["张*明", "钱*多"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("张三明", "张*明"), ("王五", "王*"), ("欧阳小明", "欧**明"), ("李", "李")],
)
def test_mask_name(name: str, shown: str) -> None:
    record = HelpRecord(name=name, recipient_kind=HelpRecord.RecipientKind.PERSON)
    assert reports.shown_name(record) == shown


def _cells(data: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def test_publicity_xlsx_has_no_numbers_and_text_as_text(rw: ReportsWorld) -> None:
    w = rw.world
    notice = reports.publicity(w.campaign, w.city, subtree=True)
    rows = _cells(reports.publicity_xlsx(notice))
    text = "\n".join(str(cell) for row in rows for cell in row if cell is not None)
    for secret in _secrets(rw):
        assert secret not in text
    assert rows[0][0] == notice.title
    assert [row[1] for row in rows[2:7]] == ["荆门恒达化工有限公司", "王*", "李*海", "张*明", "钱*多"]
    assert rows[7][0] == "合计" and rows[7][3] == 7000


def _secrets(rw: ReportsWorld) -> list[str]:
    """Every ID and card number of the ledger, and their tails (a masked one shows the last four)."""
    found = [rw.person_id, rw.enterprise_card]
    for record in HelpRecord.objects.all():
        found += [record.id_number, record.card_number]
    for household_ in (rw.zhang, rw.wang, rw.qian):
        found += [household_.head_id_number, household_.card_number]
    numbers = [n for n in found if n]
    return numbers + [n[-6:] for n in numbers]


def test_rollup_xlsx_matches_the_page(rw: ReportsWorld) -> None:
    w = rw.world
    table = reports.rollup(w.campaign, w.city)
    book = load_workbook(io.BytesIO(reports.rollup_xlsx(table)))
    assert book.sheetnames == ["资金筹集", "帮扶发放", "按帮扶项目"]
    raised = [list(r) for r in book["资金筹集"].iter_rows(min_row=3, values_only=True)]
    assert [r[0] for r in raised] == [w.county.name, w.sibling.name, "荆门市总工会（本级）", "合计（全辖）"]
    assert raised[0][-1] == 40000 and raised[0][-2] == 0  # allocated in; nothing raised
    assert raised[3][-2] == 120000 and raised[3][-1] == 0
    help_rows = [list(r) for r in book["帮扶发放"].iter_rows(min_row=3, values_only=True)]
    assert help_rows[3][1:] == [5, 2, 2, 1, 7000, 300, 7300, 1]


def test_publicity_xlsx_writes_a_formula_like_name_as_text(rw: ReportsWorld) -> None:
    w = rw.world
    rw.ledger.approve(
        rw.ledger.add(
            help_input(
                recipient_kind=HelpRecord.RecipientKind.ENTERPRISE,
                name='=HYPERLINK("http://example.com","点击")',
                enterprise_kind=HelpRecord.EnterpriseKind.OTHER,
                item="other",
                source="union",
                channel=HelpRecord.Channel.GOODS,
                amount=None,
                goods_description="=1+2",
                goods_value=Decimal("100"),
            ),
            user="city_admin",
            unit=w.city,
        ),
        user="city_reviewer",
    )
    data = reports.publicity_xlsx(reports.publicity(w.campaign, w.city))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    formula_like = [
        cell for row in sheet.iter_rows() for cell in row if str(cell.value or "").startswith("=")
    ]
    assert {cell.value for cell in formula_like} == {'=HYPERLINK("http://example.com","点击")', "=1+2"}
    assert all(cell.data_type == "s" for cell in formula_like)
