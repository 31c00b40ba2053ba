"""Issue 12's ledger, walked in a real browser through the pages only (the starting world is the ledger's
test world, `tests/ledger/ledgerworld.py`: 东宝区 has 王建国 filed 2017-12-01, 李秀英 filed 2018-01-20,
100,000 yuan of central money and 50,000 of union money raised):

1. the county's reporter records a payment the rules refuse — central money to 李秀英 on 2018-01-15, before
   her file was filed (先建档、后帮扶), then central money to 王建国 in cash (非现金) — each refusal shown
   beside its field and nothing saved; then the valid card payment to 王建国;
2. imports a roster (.xlsx made here: three good rows, one for 赵敏, whose file was never filed): confirms the
   columns, waits for the background import to end, sees 3 created and 1 rejected;
3. the county's reviewer approves the four drafts on their record pages (preparer ≠ approver);
4. makes a bank batch, downloads its file (the full-number permission granted), marks it sent, uploads the
   bank's return file (every row 成功 but one 失败) and sees 3 paid, 1 failed — the failed payment back in
   the queue;
5. the 公示 lists the approved payments with names masked, its toolbar hidden in print, and prints to A4.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission

from songnuan.archive.models import Household
from songnuan.ledger.models import BatchLine, HelpRecord, PaymentBatch
from tests.ledger.ledgerworld import LedgerWorld, build_ledger_world, household

from ..processes import task_worker
from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILED_REASON = "账户已冻结"
#: A4 in PDF points (1/72 inch): the @page size of publicity.css.
A4_POINTS = (595.28, 841.89)


@pytest.fixture(autouse=True)
def fast_passwords_and_import_dir(settings: Any, tmp_path: Path, live_server: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = True  # imports queued for the task worker, as in production
    with task_worker(tmp_path / "worker.log"):
        yield


class Dialogs:
    """Accepts every confirmation (data-confirm) the page asks, keeping the questions."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("dialog", self.answer)

    def answer(self, dialog: Any) -> None:
        self.seen.append(dialog.message)
        dialog.accept()


def messages_text(page: Any) -> str:
    return " ".join(page.locator("ul.messages").inner_text().split())


def errors_of(page: Any, field: str) -> str:
    return " ".join(page.locator(f".field-{field} .errorlist").inner_text().split())


def records_path(ledger: LedgerWorld) -> str:
    world = ledger.world
    return f"/ledger/{world.campaign.pk}/{world.county.pk}/records/"


# --- 1. a reporter's payments: two refused, one saved ---


def fill_payment(page: Any, who: str, *, paid_on: str, channel: str, amount: str = "1000") -> None:
    """The record form for a household of the archive, found by name; central money, 节日慰问."""
    page.get_by_label("查找档案").fill(who)
    with page.expect_navigation():
        page.click("#find-household")
    page.locator("#household-choices").get_by_label(re.compile(who)).check()
    page.get_by_label("帮扶项目").select_option(label="节日慰问")
    page.get_by_label("资金来源").select_option(label="中央财政帮扶资金（依档帮扶）")
    page.get_by_label("发放金额（元）").fill(amount)
    page.get_by_label("发放日期").fill(paid_on)
    page.get_by_label("发放方式").select_option(channel)


def save_refused(page: Any) -> None:
    with page.expect_navigation():
        page.click("#save-record")
    assert "发放记录不能保存，请按提示修改" in page.inner_text("#form-errors")


def reporter_records_payments(browser: Any, live_server: Any, ledger: LedgerWorld) -> Any:
    world = ledger.world
    page = log_in(browser, live_server, "county_reporter", f"/ledger/{world.campaign.pk}/{world.county.pk}/")
    page.click("#nav-record-new")
    page.wait_for_url(f"{live_server.url}{records_path(ledger)}new/")
    assert page.get_by_role("heading", level=1).inner_text() == "东宝区总工会 · 录入发放记录"

    # 先建档、后帮扶: 李秀英's file was filed on 2018-01-20, the payment is dated 2018-01-15.
    fill_payment(page, "李秀英", paid_on="2018-01-15", channel=HelpRecord.Channel.UNION_CARD)
    save_refused(page)
    refusal = " ".join(page.locator("#household-part .errorlist").inner_text().split())
    assert refusal == "李秀英的档案 2018-01-20 才建档，晚于发放日期 2018-01-15：须先建档、后帮扶", refusal

    # 非现金: central money in cash is refused whoever gets it.
    page.goto(f"{live_server.url}{records_path(ledger)}new/")
    fill_payment(page, "王建国", paid_on="2018-01-25", channel=HelpRecord.Channel.CASH)
    page.get_by_label("现金发放原因").fill("老人不会用卡")
    save_refused(page)
    assert errors_of(page, "channel") == "中央和省级帮扶资金不得以现金发放，须通过阳光5·1卡或银行卡"
    assert HelpRecord.objects.count() == 0

    # The same payment on the union card (the archive's card number) is saved, waiting for review.
    page.get_by_label("发放方式").select_option(HelpRecord.Channel.UNION_CARD)
    assert not page.get_by_label("现金发放原因").is_visible()  # only for cash
    with page.expect_navigation():
        page.click("#save-record")
    page.wait_for_url(re.compile(r"/ledger/records/\d+/$"))
    assert "已录入“王建国”的发放记录，待审核" in messages_text(page)
    assert "待审核" in page.inner_text("#status-banner")
    saved = HelpRecord.objects.get()
    assert (saved.household, saved.amount, saved.state) == (ledger.wang, Decimal("1000.00"), "draft")
    assert saved.card_number == ledger.wang.card_number
    # The cash reason typed for the refused cash attempt (hidden since, but still in the form) is not
    # kept on a card payment.
    assert saved.cash_reason == "", saved.cash_reason
    # The card number is masked for a reporter without the full-number permission.
    assert ledger.wang.card_number not in page.inner_text("#card-number")

    # Both refused attempts are in the unit's history.
    page.click("#nav-history")
    page.click("#only-refused")
    history = page.inner_text("main")
    assert "须先建档、后帮扶" in history and "不得以现金发放" in history, history
    return page


# --- 2. a roster, imported ---


def roster_file(tmp_path: Path, people: list[Household], unfiled: Household) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["序号", "姓名", "身份证号", "帮扶项目", "资金来源", "金额（元）", "发放方式", "卡号", "发放日期"]
    )
    for n, person in enumerate([*people, unfiled], start=1):
        sheet.append(
            [
                n,
                person.head_name,
                person.head_id_number,
                "节日慰问",
                "中央财政帮扶资金",
                "500",
                "银行卡",
                person.card_number,
                "2018-01-26",
            ]
        )
    path = tmp_path / "东宝区春节慰问花名册.xlsx"
    book.save(path)
    return path


def reporter_imports_roster(page: Any, live_server: Any, ledger: LedgerWorld, tmp_path: Path) -> None:
    world = ledger.world
    people = [household(world, name) for name in ("刘德明", "陈国华", "周小红")]
    path = roster_file(tmp_path, people, ledger.zhao)
    page.goto(f"{live_server.url}{records_path(ledger)}")
    page.click("#nav-roster")
    page.wait_for_url(f"{live_server.url}/ledger/{world.campaign.pk}/{world.county.pk}/roster/")
    page.set_input_files("#roster-form input[type=file]", str(path))
    with page.expect_navigation():
        page.click("#roster-form button[type=submit]")
    page.wait_for_selector("#mapping-form")
    # The columns guessed from the headers (the first column, 序号, is not one of the roster's).
    assert page.locator("#id_name").input_value() == "1"
    assert page.locator("#id_id_number").input_value() == "2"
    assert page.locator("#id_paid_on").input_value() == "8"
    page.click("#mapping-form button[type=submit]")
    page.wait_for_selector("#import-done", timeout=60_000)
    counts = {
        name: page.inner_text(f"#count-{name}").strip()
        for name in ("rows", "created", "existing", "rejected", "warnings")
    }
    assert counts == {"rows": "4", "created": "3", "existing": "0", "rejected": "1", "warnings": "0"}, counts
    assert page.locator("#rejected-link").count() == 1
    drafts = HelpRecord.objects.filter(state=HelpRecord.State.DRAFT)
    assert sorted(drafts.values_list("name", flat=True)) == sorted(["王建国", *(p.head_name for p in people)])


# --- 3. approved by the reviewer ---


def reviewer_approves(browser: Any, live_server: Any, ledger: LedgerWorld) -> Any:
    reviewer = ledger.world.users["county_reviewer"]
    # The bank file carries full card and ID numbers: only with the permission.
    reviewer.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    page = log_in(browser, live_server, "county_reviewer", records_path(ledger))
    dialogs = Dialogs(page)
    for record in HelpRecord.objects.filter(state=HelpRecord.State.DRAFT).order_by("pk"):
        page.goto(f"{live_server.url}/ledger/records/{record.pk}/")
        assert page.locator("#approve-refusal").count() == 0, page.inner_text("#approve-refusal")
        with page.expect_navigation():
            page.click("#approve-form button[type=submit]")
        assert f"已审核“{record.name}”的发放记录" in messages_text(page)
        assert dialogs.seen[-1] == (
            f"确定审核通过“{record.name}”的这条发放记录吗？审核后不能修改或删除，只能冲销。"
        )
    assert not HelpRecord.objects.exclude(state=HelpRecord.State.APPROVED).exists()
    assert set(HelpRecord.objects.values_list("approved_by", flat=True)) == {reviewer.pk}
    return page


# --- 4. a bank batch, sent and reconciled ---


def cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def return_file(export: Path, tmp_path: Path, failing: str) -> Path:
    """The bank's return file for the exported rows: 成功 for each, 失败 for `failing`'s."""
    rows = list(openpyxl.load_workbook(export).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    head = [cell_text(c) for c in rows[0]]
    assert head == ["序号", "姓名", "身份证号", "卡号", "开户行", "金额", "用途"], head
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "姓名", "卡号", "金额", "结果", "失败原因"])
    for row in rows[1:]:
        seq, name, _id, card, _bank, amount, _purpose = row
        failed = name == failing
        sheet.append(
            [
                seq,
                name,
                cell_text(card),
                amount,
                "失败" if failed else "成功",
                FAILED_REASON if failed else "",
            ]
        )
    path = tmp_path / "回盘.xlsx"
    book.save(path)
    return path


def reviewer_batches_and_reconciles(page: Any, live_server: Any, ledger: LedgerWorld, tmp_path: Path) -> None:
    world = ledger.world
    page.goto(f"{live_server.url}{records_path(ledger)}")
    page.click("#nav-batches")
    page.wait_for_url(f"{live_server.url}/ledger/{world.campaign.pk}/{world.county.pk}/batches/")
    assert "4 笔，合计 2500.00 元" in page.inner_text("#queue")
    page.get_by_label("银行文件格式").select_option(label="通用格式")
    with page.expect_navigation():
        page.click("#batch-create-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ledger/batches/\d+/$"))
    batch = PaymentBatch.objects.get()
    assert f"已生成代发批次 {batch.number}" in messages_text(page)
    assert page.inner_text("#issued td.number >> nth=0") == "4"

    with page.expect_download() as download:
        page.locator("#downloads").get_by_role("link", name="下载代发文件（Excel）").click()
    export = tmp_path / "代发.xlsx"
    download.value.save_as(export)

    with page.expect_navigation():
        page.click("#send-form button[type=submit]")
    assert f"批次 {batch.number} 已标记为送银行" in messages_text(page)
    assert page.get_attribute("#batch-state", "data-state") == PaymentBatch.State.SENT

    page.set_input_files("#reconcile-form input[type=file]", str(return_file(export, tmp_path, "陈国华")))
    with page.expect_navigation():
        page.click("#reconcile-form button[type=submit]")
    assert page.locator("#reconcile-errors").count() == 0, page.inner_text("#reconcile-errors")
    text = messages_text(page)
    assert "回盘已对账：成功 3 笔 2000.00 元，失败 1 笔 500.00 元" in text, text
    assert "失败的款项已回到待发放队列" in text, text
    assert [page.inner_text(f"#{row} td.number >> nth=0") for row in ("paid", "failed", "pending")] == [
        "3",
        "1",
        "0",
    ]
    failed = page.locator("#batch-lines tr.outcome-failed")
    assert failed.count() == 1 and "陈国华" in failed.inner_text() and FAILED_REASON in failed.inner_text()
    assert BatchLine.objects.filter(outcome=BatchLine.Outcome.PAID).count() == 3
    assert HelpRecord.objects.get(name="陈国华").payment == HelpRecord.Payment.FAILED

    # The failed payment waits for the next batch.
    page.click("#back-to-list")
    assert "1 笔，合计 500.00 元" in page.inner_text("#queue")


# --- 5. the 公示 ---


def publicity_prints(reporter: Any, live_server: Any, ledger: LedgerWorld) -> None:
    world = ledger.world
    page = reporter
    page.goto(f"{live_server.url}{records_path(ledger)}")
    page.click("#nav-publicity")
    page.wait_for_url(f"{live_server.url}/ledger/{world.campaign.pk}/{world.county.pk}/publicity/")
    rows = page.locator("table.publicity tbody tr")
    assert rows.count() == 4
    names = sorted(rows.locator("td.name").all_inner_texts())
    assert names == sorted(["王*国", "刘*明", "陈*华", "周*红"]), names
    html = page.content()
    for full in ("王建国", "刘德明", "陈国华", "周小红"):
        assert full not in html
    for record in HelpRecord.objects.all():
        assert record.id_number not in html and record.card_number not in html
    assert "合计 4 笔" in page.inner_text("table.publicity tfoot")

    assert page.locator(".toolbar").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    assert page.locator("table.publicity").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    boxes = [[float(n) for n in box.split()[2:]] for box in re.findall(rb"/MediaBox \[([\d. ]+)\]", pdf)]
    # Chromium rounds the page to whole CSS pixels: A4 portrait within a point.
    assert boxes and all(abs(w - A4_POINTS[0]) < 1 and abs(h - A4_POINTS[1]) < 1 for w, h in boxes), boxes


def test_ledger_journey(browser: Any, live_server: Any, world: World, tmp_path: Path) -> None:
    ledger = build_ledger_world(world)
    reporter = reporter_records_payments(browser, live_server, ledger)
    reporter_imports_roster(reporter, live_server, ledger, tmp_path)
    reviewer = reviewer_approves(browser, live_server, ledger)
    reviewer_batches_and_reconciles(reviewer, live_server, ledger, tmp_path)
    publicity_prints(reporter, live_server, ledger)
