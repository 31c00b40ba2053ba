"""Importing a payment roster (发放花名册): every bad row named with its reasons, the good rows in as drafts,
nothing half-written, and the same file twice creates nothing new."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import python_calamine
import xlsxwriter
from django.core.exceptions import PermissionDenied

from songnuan.archive import bulk
from songnuan.archive.generate import luhn_complete
from songnuan.archive.idnumbers import check_character
from songnuan.archive.models import Household
from songnuan.ledger import roster
from songnuan.ledger.models import HelpRecord, LedgerEvent, RosterImport
from songnuan.ledger.roster_jobs import (
    ImportRefused,
    MappingError,
    earlier_roster_imports,
    roster_job_run,
    roster_job_start,
    roster_progress,
)
from tests.ledger.ledgerworld import (
    LedgerWorld,
    card,
    help_input,
    household,
    new_id_number,
    raise_money,
)

HEADER = [
    "序号",
    "姓名",
    "身份证号",
    "帮扶项目",
    "资金来源",
    "金额（元）",
    "发放方式",
    "卡号",
    "发放日期",
    "所属工会",
    "备注",
]


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def row(
    target: Household | None = None,
    *,
    name: str = "",
    id_number: str = "",
    item: str = "节日慰问",
    source: str = "中央财政",
    amount: Any = "1000",
    channel: str = "阳光5·1卡",
    card_number: str = "",
    paid_on: Any = "2018-01-25",
    unit: str = "",
    note: str = "",
) -> list[Any]:
    """A roster row: by default a central-fund card payment of 1,000 yuan to `target` on 2018-01-25."""
    if target is None and not card_number and channel in ("阳光5·1卡", "银行卡"):
        card_number = card()  # a person not on file has no card in the archive
    return [
        0,
        name or (target.head_name if target else ""),
        id_number or (target.head_id_number if target else ""),
        item,
        source,
        amount,
        channel,
        card_number,
        paid_on,
        unit,
        note,
    ]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["东宝区总工会2018年春节送温暖发放花名册"])
        writer.writerow(HEADER)
        for number, cells in enumerate(rows, start=1):
            writer.writerow([number, *cells[1:]])
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("花名册")
    sheet.write_row(0, 0, HEADER)
    for number, cells in enumerate(rows, start=1):
        for column, value in enumerate(cells):
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            elif value is not None:
                sheet.write(number, column, value)
    workbook.close()
    return path


def run_import(ledger: LedgerWorld, path: Path, user: str = "county_reporter") -> RosterImport:
    world = ledger.world
    with path.open("rb") as stream:
        job = roster_job_start(
            user=world.users[user],
            campaign=world.campaign,
            unit=world.county,
            file_name=path.name,
            stream=stream,
        )
    roster_job_run(user=world.users[user], job=job, mapping=job.mapping)
    job.refresh_from_db()
    return job


def rejected_rows(job: RosterImport) -> dict[int, str]:
    """Row number in the uploaded file → reason, read back from the rejected-rows workbook."""
    if not job.rejected_file:
        return {}
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(bytes(job.rejected_file)))
    rows = workbook.get_sheet_by_index(0).to_python()
    assert rows[1][:2] == ["原文件行号", "退回原因"]
    return {int(cast(float, r[0])): str(r[1]) for r in rows[2:]}


def test_the_usual_headers_and_their_synonyms_are_recognised() -> None:
    assert roster.guess_mapping(HEADER) == {
        "name": 1,
        "id_number": 2,
        "item": 3,
        "source": 4,
        "amount": 5,
        "channel": 6,
        "card_number": 7,
        "paid_on": 8,
        "unit": 9,
        "note": 10,
    }
    other = ["职工姓名", "身份证号码", "项目", "来源", "慰问金", "发放形式", "银行卡号", "日期", "说明"]
    assert roster.guess_mapping(other) == {
        "name": 0,
        "id_number": 1,
        "item": 2,
        "source": 3,
        "amount": 4,
        "channel": 5,
        "card_number": 6,
        "paid_on": 7,
        "note": 8,
    }
    assert (
        roster.guess_mapping(
            ["姓名", "身份证号", "帮扶项目", "资金来源", "发放金额", "发放方式", "账号", "发放日期"]
        )["amount"]
        == 4
    )


def test_good_rows_go_in_as_drafts_with_their_job_row_and_key(ledger: LedgerWorld, tmp_path: Path) -> None:
    worker = new_id_number()
    rows = [
        row(ledger.wang),
        row(
            ledger.li,
            item="生活救助",
            source="工会经费",
            amount="1,200.50元",
            channel="银行卡",
            card_number=card(),
        ),
        row(name="孙一线", id_number=worker, source="工会经费", channel="现金", note="农民工"),
        row(
            name="周物资", id_number=new_id_number(), source="工会", channel="实物", amount=300, note="米面油"
        ),
    ]
    job = run_import(ledger, write_csv(tmp_path / "a.csv", rows))
    assert (job.state, job.rows_done, job.created, job.rejected, job.existing) == ("done", 4, 4, 0, 0), (
        job.error,
        rejected_rows(job),
    )
    records = {r.import_row: r for r in HelpRecord.objects.filter(import_job=job)}
    wang = records[3]  # the title, the header, then the first record on line 3
    assert (wang.recipient_kind, wang.household, wang.state) == ("household", ledger.wang, "draft")
    assert (wang.item.code, wang.source.code, wang.channel) == ("visit", "central", "union-card")
    assert wang.amount == Decimal("1000.00") and wang.paid_on == dt.date(2018, 1, 25)
    assert wang.card_number == ledger.wang.card_number  # the archive's card when the row gives none
    assert len(wang.import_key) == 64 and wang.entered_by == ledger.world.users["county_reporter"]
    assert records[4].amount == Decimal("1200.50") and records[4].item.code == "living"
    person = records[5]
    assert (person.recipient_kind, person.id_number, person.person_category) == ("person", worker, "migrant")
    assert (person.channel, person.cash_reason, person.note) == ("cash", "农民工", "农民工")
    goods = records[6]
    assert (goods.amount, goods.goods_value, goods.goods_description) == (None, Decimal("300.00"), "米面油")
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.ROSTER_IMPORTED)
    assert event.new["created"] == "4" and event.unit == ledger.world.county and "a.csv" in event.note
    assert not Path(job.stored_path).exists()


def test_every_kind_of_bad_row_is_refused_with_its_reason(ledger: LedgerWorld, tmp_path: Path) -> None:
    world = ledger.world
    late = household(world, "晚建档", filed_on=dt.date(2018, 1, 30))
    luhn_fails = "6222021234567890"
    rows = [
        row(name="陌生人", id_number=new_id_number()),  # 3: not on file, central money
        row(late),  # 4: filed 2018-01-30, paid 01-25
        row(ledger.zhang),  # 5: closed 2018-01-10
        row(ledger.zhao),  # 6: applied, never filed
        row(ledger.wang, channel="现金", note="老人不便"),  # 7: cash from a bound fund
        row(ledger.wang, amount="三千"),  # 8
        row(ledger.wang, amount="-100"),  # 9
        row(ledger.wang, amount="0"),  # 10
        row(ledger.wang, amount="100.123"),  # 11
        row(ledger.wang, item="发红包"),  # 12
        row(ledger.wang, source="彩票公益金"),  # 13
        row(ledger.wang, channel="支付宝"),  # 14
        row(ledger.li, card_number=luhn_fails),  # 15: a warning only: in, with the warning
        row(ledger.wang, paid_on="2018-03-01"),  # 16: after the campaign
        row(name="错校验", id_number="110105194912310021", source="工会经费"),  # 17: wrong check digit
        row(ledger.wang, unit="钟祥市总工会"),  # 18: a unit this reporter may not write
        row(ledger.wang),  # 19: good
        row(ledger.wang, amount="500"),  # 20: the same person and item again in the file
        row(ledger.wang, name="王建军"),  # 21: the name is not the file's
    ]
    job = run_import(ledger, write_csv(tmp_path / "bad.csv", rows))
    reasons = rejected_rows(job)
    assert (job.created, job.rejected, job.warnings) == (2, 17, 1), reasons
    assert "不是建档困难职工" in reasons[3] and "依档帮扶" in reasons[3]
    assert "2018-01-30 才建档，晚于发放日期 2018-01-25" in reasons[4]
    assert "2018-01-10 已注销" in reasons[5]
    assert "尚未审核建档" in reasons[6]
    assert "不得以现金发放" in reasons[7]
    assert "三千" in reasons[8] and "不是数字" in reasons[8]
    assert "应大于零" in reasons[9] and "应大于零" in reasons[10]
    assert "最多两位小数" in reasons[11]
    assert "发红包" in reasons[12] and "帮扶项目" in reasons[12]
    assert "彩票公益金" in reasons[13] and "资金来源" in reasons[13]
    assert "支付宝" in reasons[14] and "发放方式" in reasons[14]
    assert "不在活动期间" in reasons[16]
    assert "校验位" in reasons[17]
    assert "钟祥市总工会" in reasons[18] and "不能为" in reasons[18]
    assert "与本文件第19行重复" in reasons[20]
    assert "王建军" in reasons[21] and "实名制" in reasons[21]
    flagged = HelpRecord.objects.get(import_row=15)
    assert [w["code"] for w in flagged.warnings] == ["card-luhn"] and flagged.state == "draft"
    assert set(HelpRecord.objects.values_list("import_row", flat=True)) == {15, 19}


def test_several_reasons_of_one_row_are_all_named(ledger: LedgerWorld, tmp_path: Path) -> None:
    job = run_import(
        ledger, write_csv(tmp_path / "a.csv", [row(ledger.wang, amount="x", item="?", paid_on="")])
    )
    reason = rejected_rows(job)[3]
    assert "金额" in reason and "帮扶项目" in reason and "发放日期" in reason


def test_money_beyond_what_the_unit_has_and_warnings_the_services_give(
    ledger: LedgerWorld, tmp_path: Path
) -> None:
    ledger.add(help_input(ledger.wang))
    shared_card = card()
    rows = [
        row(ledger.wang),  # 3: a 节日慰问 in this campaign already: a warning
        row(ledger.li, amount="5000", item="节日慰问"),  # 4: over the 3,000 per visit: a warning
        row(name="甲", id_number=new_id_number(), source="工会经费", card_number=shared_card),  # 5
        row(
            name="乙", id_number=new_id_number(), source="工会经费", card_number=shared_card
        ),  # 6: card shared
        row(name="丙", id_number=new_id_number(), source="工会经费", amount="49999"),  # 7: over 50,000 left
    ]
    job = run_import(ledger, write_csv(tmp_path / "a.csv", rows))
    reasons = rejected_rows(job)
    assert (job.created, job.rejected, job.warnings) == (4, 1, 3), reasons
    assert "可用" in reasons[7] and "超出" in reasons[7]
    codes = {r.import_row: [w["code"] for w in r.warnings] for r in HelpRecord.objects.filter(import_job=job)}
    assert codes[3] == ["duplicate"] and codes[4] == ["cap-payment"] and codes[6] == ["card-shared"]
    assert codes[5] == []


def test_a_refusing_cap_rejects_the_row(ledger: LedgerWorld, tmp_path: Path) -> None:
    # 生活救助: per household per year at most the 低保 line × 12 × size = 600 × 12 × 3 = 21,600
    rows = [
        row(ledger.wang, item="生活救助", amount="20000"),
        row(ledger.li, item="生活救助", amount="21601"),
    ]
    job = run_import(ledger, write_csv(tmp_path / "a.csv", rows))
    assert (job.created, job.rejected) == (1, 1)
    assert "每户（人）每年不超过 21600.00 元" in rejected_rows(job)[4]


def test_importing_the_same_file_again_creates_nothing_new(ledger: LedgerWorld, tmp_path: Path) -> None:
    rows = [row(ledger.wang), row(ledger.li, source="工会经费"), row(ledger.zhang)]
    path = write_csv(tmp_path / "a.csv", rows)
    first = run_import(ledger, path)
    again = run_import(ledger, path)
    assert (first.created, first.rejected) == (2, 1)
    assert (again.created, again.existing, again.rejected) == (0, 2, 1)
    assert HelpRecord.objects.count() == 2
    assert earlier_roster_imports(again) == [first]
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.ROSTER_IMPORTED).count() == 2


def test_an_xlsx_with_numbers_and_dates_and_a_gbk_csv(ledger: LedgerWorld, tmp_path: Path) -> None:
    rows = [row(ledger.wang, amount=800.5, paid_on=None), row(ledger.li, source="工会经费", amount=600)]
    workbook = write_xlsx(tmp_path / "a.xlsx", rows)
    job = run_import(ledger, workbook)
    assert (job.created, job.rejected) == (1, 1)  # the first has no date
    assert "发放日期" in rejected_rows(job)[2]
    gbk = run_import(
        ledger, write_csv(tmp_path / "gbk.csv", [row(ledger.wang, note="春节慰问")], encoding="gbk")
    )
    assert (gbk.created, gbk.rejected) == (1, 0)
    assert HelpRecord.objects.get(import_job=gbk).note == "春节慰问"


def test_a_failure_half_way_leaves_nothing_written(
    ledger: LedgerWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster, "BATCH_ROWS", 2)
    calls = {"n": 0}

    def insert_then_fail(model: Any, columns: Any, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        bulk.insert_rows(model, columns, rows)

    monkeypatch.setattr(roster, "insert_rows", insert_then_fail)
    rows = [row(name=f"人{i}", id_number=new_id_number(), source="工会经费") for i in range(5)]
    job = run_import(ledger, write_csv(tmp_path / "a.csv", rows))
    assert job.state == "failed" and "没有导入任何数据" in job.error
    assert HelpRecord.objects.count() == 0
    assert not LedgerEvent.objects.filter(action=LedgerEvent.Action.ROSTER_IMPORTED).exists()


def test_progress_is_reported_per_batch(
    ledger: LedgerWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster, "BATCH_ROWS", 3)
    seen: list[int] = []
    real = roster.roster_import

    def spy(**arguments: Any) -> Any:
        report = arguments["progress"]

        def progress(rows: int, fraction: float) -> None:
            seen.append(rows)
            report(rows, fraction)

        return real(**(arguments | {"progress": progress}))

    monkeypatch.setattr(roster, "roster_import", spy)
    rows = [row(name=f"人{i}", id_number=new_id_number(), source="工会经费") for i in range(7)]
    job = run_import(ledger, write_csv(tmp_path / "a.csv", rows))
    assert seen == [3, 6, 7]
    assert roster_progress(job)["created"] == 7


def test_unreadable_uploads_bad_mappings_and_units_are_refused(ledger: LedgerWorld, tmp_path: Path) -> None:
    world = ledger.world
    user = world.users["county_reporter"]
    with pytest.raises(ImportRefused, match="不是可导入的文件"):
        roster_job_start(
            user=user, campaign=world.campaign, unit=world.county, file_name="a.txt", stream=io.BytesIO(b"x")
        )
    with pytest.raises(PermissionDenied):  # a reviewer above records nothing for the county
        roster_job_start(
            user=world.users["city_reviewer"],
            campaign=world.campaign,
            unit=world.county,
            file_name="a.csv",
            stream=io.BytesIO(b"a,b,c\n"),
        )
    path = write_csv(tmp_path / "a.csv", [row(ledger.wang)])
    with path.open("rb") as stream:
        job = roster_job_start(
            user=user, campaign=world.campaign, unit=world.county, file_name="a.csv", stream=stream
        )
    mapping = dict(job.mapping)
    del mapping["amount"]
    with pytest.raises(MappingError, match="金额"):
        roster_job_run(user=user, job=job, mapping=mapping)
    assert HelpRecord.objects.count() == 0


def test_a_hundred_thousand_rows_with_a_thousand_bad_ones(ledger: LedgerWorld, tmp_path: Path) -> None:
    """Correctness at size (the speed is measured in bench/bench_roster.py)."""
    raise_money(ledger.world, ledger.world.county, "union", "100000000")
    rows = []
    for index in range(100_000):
        # distinct valid numbers, made directly (generating 100,000 whole households would take longer)
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=index // 1000)
        first17 = f"420802{birth:%Y%m%d}{index % 1000:03d}"
        number = first17 + check_character(first17)
        if index % 100 == 0:  # every hundredth row gets a wrong check digit
            number = number[:17] + ("0" if number[17] != "0" else "1")
        rows.append(
            row(
                name=f"职工{index}",
                id_number=number,
                source="工会经费",
                card_number=luhn_complete(f"622{index:015d}"),
            )
        )
    job = run_import(ledger, write_csv(tmp_path / "big.csv", rows))
    assert (job.created, job.rejected) == (99_000, 1_000), job.error
    assert HelpRecord.objects.filter(import_job=job, state="draft").count() == 99_000
    reasons = rejected_rows(job)
    assert len(reasons) == 1_000 and all("校验位" in reason for reason in reasons.values())
