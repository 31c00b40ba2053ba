"""Bank payment batches (批量代发): making a batch of approved card payments, the bank file (.xlsx, CSV in
GBK, per bank format), sending, reconciling the bank's return file (the round trip with a retry), every bad
return file, and who may see and do what."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from songnuan.archive.models import PersonalDataView
from songnuan.ledger import batches
from songnuan.ledger.models import BatchLine, HelpRecord, LedgerEvent, PaymentBatch
from songnuan.ledger.services import LedgerError
from tests.filemakers import write_xls, xlsx_bytes
from tests.ledger.ledgerworld import LedgerWorld, card, help_input, new_id_number
from tests.world import World

pytestmark = pytest.mark.django_db

Payment = HelpRecord.Payment
HEADER = ["序号", "姓名", "卡号", "金额", "结果", "失败原因"]


def grant_personal_data(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))


def _user(world: World, name: str) -> User:
    # A fresh instance: Django caches permissions on the user object.
    return User.objects.get(username=world.users[name].username)


def person_payment(ledger: LedgerWorld, name: str, amount: str = "500.00") -> HelpRecord:
    """An approved bank-card payment from union money to a front-line worker not on file."""
    record = ledger.add(
        help_input(
            recipient_kind=HelpRecord.RecipientKind.PERSON,
            name=name,
            id_number=new_id_number(),
            person_category=HelpRecord.PersonCategory.FRONTLINE,
            source="union",
            channel=HelpRecord.Channel.BANK_CARD,
            card_number=card(),
            bank="中国建设银行",
            amount=Decimal(amount),
        )
    )
    return ledger.approve(record)


@pytest.fixture
def queued(ledger: LedgerWorld) -> list[HelpRecord]:
    """Four approved card payments of the county: 王建国 1,000 and 李秀英 1,000 (central, union card), 孙强
    500 and 周丽 800 (union, bank card)."""
    records = [
        ledger.approve(ledger.add(help_input(ledger.wang))),
        ledger.approve(ledger.add(help_input(ledger.li))),
        person_payment(ledger, "孙强"),
        person_payment(ledger, "周丽", "800.00"),
    ]
    assert all(r.payment == Payment.QUEUED for r in records)
    return records


def make_batch(world: World, user: str = "county_reviewer", bank_format: str = "standard") -> PaymentBatch:
    return batches.batch_create(
        user=world.users[user], campaign=world.campaign, unit=world.county, bank_format=bank_format
    )


def sent_batch(world: World) -> PaymentBatch:
    batch = make_batch(world)
    return batches.batch_mark_sent(user=world.users["county_reviewer"], batch=batch)


def return_rows(batch: PaymentBatch, failures: dict[int, str] | None = None) -> list[list[Any]]:
    """The bank's answer to every line: 成功, or 失败 with the reason for the sequence numbers given."""
    failures = failures or {}
    rows: list[list[Any]] = [HEADER]
    for line in batch.lines.order_by("seq"):
        reason = failures.get(line.seq)
        rows.append(
            [
                line.seq,
                line.name,
                line.card_number,
                float(line.amount),
                "失败" if reason else "成功",
                reason or "",
            ]
        )
    return rows


def reconcile(
    world: World, batch: PaymentBatch, rows: Sequence[Sequence[Any]], name: str = "回盘.xlsx"
) -> batches.Reconciled:
    data = as_file(rows, name)
    return batches.batch_reconcile(
        user=world.users["county_reviewer"], batch=batch, file_name=name, stream=io.BytesIO(data)
    )


def as_file(rows: Sequence[Sequence[Any]], name: str, tmp: Path | None = None) -> bytes:
    if name.endswith(".csv"):
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue().encode("gbk")
    if name.endswith(".xls"):
        assert tmp is not None
        return write_xls(tmp / name, [list(r) for r in rows]).read_bytes()
    return xlsx_bytes([("Sheet1", [list(r) for r in rows])])


def states(records: Sequence[HelpRecord]) -> list[str]:
    return [HelpRecord.objects.get(pk=r.pk).payment for r in records]


# --- making a batch --------------------------------------------------------------------------------------


def test_batch_takes_the_queue_and_writes_events(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    assert [line.name for line in batch.lines.order_by("seq")] == ["王建国", "李秀英", "孙强", "周丽"]
    assert [line.seq for line in batch.lines.order_by("seq")] == [1, 2, 3, 4]
    assert states(queued) == [Payment.IN_BATCH] * 4
    line = batch.lines.get(seq=1)
    assert line.card_number == queued[0].card_number and line.amount == Decimal("1000.00")
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_CREATED, batch=batch, record=None)
    assert event.user == world.users["county_reviewer"]
    assert event.new["lines"] == "4" and event.new["total"] == "3300.00"
    per_record = LedgerEvent.objects.filter(action=LedgerEvent.Action.BATCH_CREATED, record=queued[2])
    assert per_record.get().old == {"payment": "queued"}
    assert batches.queue_summary(world.campaign, world.county).count == 0
    with pytest.raises(LedgerError, match="没有待发放"):
        make_batch(world)


def test_drafts_goods_cash_and_reversed_records_stay_out(ledger: LedgerWorld, world: World) -> None:
    draft = ledger.add(help_input(ledger.wang))
    goods = ledger.approve(
        ledger.add(
            help_input(
                ledger.li,
                source="union",
                channel=HelpRecord.Channel.GOODS,
                amount=None,
                goods_description="米面油",
                goods_value=Decimal("300"),
            )
        )
    )
    reversed_one = person_payment(ledger, "孙强")
    from songnuan.ledger.services import help_record_reverse

    help_record_reverse(user=world.users["county_reviewer"], record=reversed_one, reason="重复录入")
    with pytest.raises(LedgerError, match="没有待发放"):
        make_batch(world)
    assert states([draft, goods]) == ["", ""]


def test_unknown_bank_format_is_refused(world: World, queued: list[HelpRecord]) -> None:
    with pytest.raises(LedgerError, match="银行文件格式"):
        make_batch(world, bank_format="nonesuch")
    assert not PaymentBatch.objects.exists()


@pytest.mark.parametrize("who", ["county_reporter", "enterprise_reporter", "sibling_reporter"])
def test_only_reviewers_of_the_unit_or_above_make_batches(
    world: World, queued: list[HelpRecord], who: str
) -> None:
    with pytest.raises(PermissionDenied):
        make_batch(world, user=who)
    assert states(queued) == [Payment.QUEUED] * 4


def test_a_reviewer_above_may_make_and_send(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world, user="city_reviewer")
    batches.batch_mark_sent(user=world.users["city_reviewer"], batch=batch)
    assert PaymentBatch.objects.get().state == PaymentBatch.State.SENT


def test_mark_sent_once(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_SENT, batch=batch)
    assert event.old == {"state": "draft"} and event.new == {"state": "sent"}
    with pytest.raises(LedgerError, match="已于"):
        batches.batch_mark_sent(user=world.users["county_reviewer"], batch=batch)
    with pytest.raises(PermissionDenied):
        batches.batch_mark_sent(user=world.users["county_reporter"], batch=batch)


# --- cancelling a batch not yet sent ---------------------------------------------------------------------


def test_a_draft_batch_is_cancelled_and_its_payments_go_back_as_they_were(
    world: World, queued: list[HelpRecord]
) -> None:
    first = sent_batch(world)
    reconcile(world, first, return_rows(first, {3: "账户已销户"}))  # 孙强's payment failed
    assert states(queued) == [Payment.PAID, Payment.PAID, Payment.FAILED, Payment.PAID]
    retry = make_batch(world)
    assert states(queued)[2] == Payment.IN_BATCH
    cancelled = batches.batch_cancel(
        user=world.users["county_reviewer"], batch=retry, reason="金额有误，重做"
    )
    assert cancelled.state == PaymentBatch.State.CANCELLED
    assert states(queued)[2] == Payment.FAILED  # back to the queue as it was: failed by the first batch
    assert cancelled.lines.count() == 1  # the lines stay, for the history
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_CANCELLED, batch=cancelled, record=None)
    assert event.old == {"state": "draft"} and event.note == "金额有误，重做"
    per_record = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_CANCELLED, record=queued[2])
    assert per_record.old == {"payment": Payment.IN_BATCH} and per_record.new["payment"] == Payment.FAILED
    # The payment is batched again; the cancelled batch is neither sent, nor exported, nor reconciled.
    again = make_batch(world)
    assert [line.record_id for line in again.lines.all()] == [queued[2].pk]
    with pytest.raises(LedgerError, match="已作废"):
        batches.batch_mark_sent(user=world.users["county_reviewer"], batch=cancelled)
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    reviewer = _user(world, "county_reviewer")
    with pytest.raises(PermissionDenied, match="已作废"):
        batches.batch_export_xlsx(user=reviewer, batch=cancelled)
    with pytest.raises(LedgerError, match="已作废"):
        reconcile(world, cancelled, return_rows(cancelled))


def test_a_never_failed_payment_goes_back_queued(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    batches.batch_cancel(user=world.users["city_reviewer"], batch=batch, reason="重新分批")
    assert states(queued) == [Payment.QUEUED] * 4
    assert batches.queue_summary(world.campaign, world.county).count == 4


def test_only_a_draft_with_a_reason_by_a_manager_is_cancelled(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    with pytest.raises(LedgerError, match="原因"):
        batches.batch_cancel(user=world.users["county_reviewer"], batch=batch, reason="  ")
    with pytest.raises(PermissionDenied):
        batches.batch_cancel(user=world.users["county_reporter"], batch=batch, reason="错了")
    batch = batches.batch_mark_sent(user=world.users["county_reviewer"], batch=batch)
    with pytest.raises(LedgerError, match="不能作废"):  # at the bank: only its return file settles it
        batches.batch_cancel(user=world.users["county_reviewer"], batch=batch, reason="错了")
    assert PaymentBatch.objects.get().state == PaymentBatch.State.SENT
    assert states(queued) == [Payment.IN_BATCH] * 4
    assert not LedgerEvent.objects.filter(action=LedgerEvent.Action.BATCH_CANCELLED).exists()


def test_the_page_cancels_a_draft_and_then_offers_nothing(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    client = world.client("county_reviewer")
    url = reverse("ledger:batch-detail", args=[batch.pk])
    assert 'id="cancel-form"' in client.get(url).content.decode()
    assert 'id="cancel-form"' not in world.client("county_reporter").get(url).content.decode()
    response = client.post(reverse("ledger:batch-cancel", args=[batch.pk]), {"reason": ""}, follow=True)
    assert "作废批次须写明原因" in response.content.decode()
    response = client.post(reverse("ledger:batch-cancel", args=[batch.pk]), {"reason": "重做"}, follow=True)
    page = response.content.decode()
    assert "已回到待发放队列" in page and 'data-state="cancelled"' in page
    for offered in ('id="cancel-form"', 'id="send-form"', 'id="reconcile-form"', 'id="downloads"'):
        assert offered not in page
    assert states(queued) == [Payment.QUEUED] * 4


# --- the bank file ---------------------------------------------------------------------------------------


def test_export_xlsx_has_the_format_columns_and_full_numbers(world: World, queued: list[HelpRecord]) -> None:
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    reviewer = _user(world, "county_reviewer")
    batch = make_batch(world)
    data = batches.batch_export_xlsx(user=reviewer, batch=batch)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["序号", "姓名", "身份证号", "卡号", "开户行", "金额", "用途"]
    assert rows[1][0] == 1 and rows[1][1] == "王建国"
    assert rows[1][2] == ledger_id(queued[0]) and rows[1][3] == queued[0].card_number
    assert rows[1][5] == 1000 and rows[1][6] == "送温暖慰问金"
    assert len(rows) == 5
    # the two households' full numbers went out: logged as the archive logs an export
    assert PersonalDataView.objects.filter(user=reviewer, via=PersonalDataView.Via.EXPORT).count() == 2


def ledger_id(record: HelpRecord) -> str:
    return HelpRecord.objects.get(pk=record.pk).id_number


def test_export_csv_gbk_short_format_and_no_formulas(world: World, queued: list[HelpRecord]) -> None:
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    reviewer = _user(world, "county_reviewer")
    HelpRecord.objects.filter(pk=queued[2].pk).update(name='=HYPERLINK("http://x")')
    batch = batches.batch_create(
        user=reviewer, campaign=world.campaign, unit=world.county, bank_format="short", purpose="@SUM(1)"
    )
    data = batches.batch_export_csv(user=reviewer, batch=batch)
    text = data.decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["序号", "卡号", "姓名", "金额", "用途"]
    assert rows[1] == ["1", queued[0].card_number, "王建国", "1000.00", "'@SUM(1)"]
    assert rows[3][2] == '\'=HYPERLINK("http://x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_export_csv_refuses_a_name_gbk_cannot_write(world: World, queued: list[HelpRecord]) -> None:
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    reviewer = _user(world, "county_reviewer")
    HelpRecord.objects.filter(pk=queued[2].pk).update(name="孙𠮷")
    batch = make_batch(world)
    with pytest.raises(LedgerError, match="第3行姓名“孙𠮷”中的“𠮷”无法写入GBK"):
        batches.batch_export_csv(user=reviewer, batch=batch)
    assert not PersonalDataView.objects.exists()  # nothing went out
    assert batches.batch_export_xlsx(user=reviewer, batch=batch)


def test_export_needs_personal_data_permission(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    with pytest.raises(PermissionDenied, match="完整的卡号"):
        batches.batch_export_xlsx(user=world.users["county_reviewer"], batch=batch)
    reporter = _user(world, "county_reporter")
    grant_personal_data(reporter)
    with pytest.raises(PermissionDenied, match="审核员"):
        batches.batch_export_csv(user=_user(world, "county_reporter"), batch=batch)


def test_lines_are_masked_without_the_permission(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    shown = batches.batch_lines_shown(world.users["county_reviewer"], batch)
    assert "*" in shown[0].card_number and shown[0].card_number != queued[0].card_number
    assert "*" in shown[0].id_number
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    full = batches.batch_lines_shown(_user(world, "county_reviewer"), batch)
    assert full[0].card_number == queued[0].card_number


# --- the round trip ---------------------------------------------------------------------------------------


def test_round_trip_with_failures_retried_in_a_new_batch(world: World, queued: list[HelpRecord]) -> None:
    reviewer = _user(world, "county_reviewer")
    grant_personal_data(reviewer)
    reviewer = _user(world, "county_reviewer")
    batch = make_batch(world)
    exported = openpyxl.load_workbook(
        io.BytesIO(batches.batch_export_xlsx(user=reviewer, batch=batch))
    ).active
    assert exported is not None
    batch = batches.batch_mark_sent(user=reviewer, batch=batch)
    # The bank answers from the file it was given: 孙强's card was closed.
    answer: list[list[Any]] = [HEADER]
    for seq, name, _id, card_number, _bank, amount, _purpose in list(exported.iter_rows(values_only=True))[
        1:
    ]:
        failed = name == "孙强"
        answer.append(
            [seq, name, card_number, amount, "失败" if failed else "成功", "账户已销户" if failed else ""]
        )
    done = reconcile(world, batch, answer)
    assert (done.paid.count, done.paid.total) == (3, Decimal("2800.00"))
    assert (done.failed.count, done.failed.total) == (1, Decimal("500.00"))
    assert done.unmatched == [] and done.still_pending == 0
    assert states(queued) == [Payment.PAID, Payment.PAID, Payment.FAILED, Payment.PAID]
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.RECONCILED and batch.reconciled_at is not None
    assert batch.lines.get(seq=3).reason == "账户已销户"
    summary = batches.batch_summary(batch)
    assert (summary.issued.count, summary.issued.total) == (4, Decimal("3300.00"))
    assert (summary.sent.count, summary.paid.count, summary.failed.count) == (4, 3, 1)
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_RECONCILED, batch=batch, record=None)
    assert event.old == {"state": "sent"} and event.new["state"] == "reconciled"
    assert event.new["failed"] == "1" and event.user == reviewer
    failed_event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_RECONCILED, record=queued[2])
    assert failed_event.old == {"payment": "in-batch"} and failed_event.new["payment"] == "failed"

    # The failure, its card corrected, goes again in a new batch, and is paid.
    assert batches.queue_summary(world.campaign, world.county).count == 1
    retry = make_batch(world)
    assert [line.name for line in retry.lines.all()] == ["孙强"]
    assert retry.number != batch.number
    assert states([queued[2]]) == [Payment.IN_BATCH]
    retry = batches.batch_mark_sent(user=reviewer, batch=retry)
    done = reconcile(world, retry, return_rows(retry), name="retry.csv")
    assert done.paid.count == 1
    assert states(queued) == [Payment.PAID] * 4
    assert PaymentBatch.objects.get(pk=retry.pk).state == PaymentBatch.State.RECONCILED
    assert batches.queue_summary(world.campaign, world.county).count == 0


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".csv"])
def test_return_file_formats(world: World, queued: list[HelpRecord], suffix: str, tmp_path: Path) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch, {2: "户名不符"})
    name = f"回盘{suffix}"
    done = batches.batch_reconcile(
        user=world.users["county_reviewer"],
        batch=batch,
        file_name=name,
        stream=io.BytesIO(as_file(rows, name, tmp_path)),
    )
    assert (done.paid.count, done.failed.count) == (3, 1)


def test_a_file_naming_only_some_lines_leaves_the_rest_with_the_bank(
    world: World, queued: list[HelpRecord]
) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    done = reconcile(world, batch, rows[:3])
    assert done.still_pending == 2
    assert PaymentBatch.objects.get(pk=batch.pk).state == PaymentBatch.State.SENT
    done = reconcile(world, batch, [HEADER, *rows[3:]], name="回盘2.xlsx")
    assert done.still_pending == 0
    assert PaymentBatch.objects.get(pk=batch.pk).state == PaymentBatch.State.RECONCILED


def test_unmatched_rows_are_reported(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = [*return_rows(batch), [9, "钱多多", card(), 100, "成功", ""]]
    done = reconcile(world, batch, rows)
    assert done.paid.count == 4
    assert len(done.unmatched) == 1 and "第6行" in done.unmatched[0] and "钱多多" in done.unmatched[0]
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.BATCH_RECONCILED, batch=batch, record=None)
    assert "钱多多" in event.note and event.new["unmatched"] == "1"


def test_a_card_number_excel_made_a_number_is_not_compared(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    for row in rows[1:]:
        row[2] = float(row[2])  # 6.222e18: the last digits are gone
    assert reconcile(world, batch, rows).paid.count == 4


def test_a_bank_masked_card_number_still_matches(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    for row in rows[1:]:
        row[2] = row[2][:6] + "*" * (len(row[2]) - 10) + row[2][-4:]
    assert reconcile(world, batch, rows).paid.count == 4


# --- bad return files: refused whole, nothing marked ----------------------------------------------------


def assert_nothing_marked(batch: PaymentBatch, records: Sequence[HelpRecord]) -> None:
    assert states(records) == [Payment.IN_BATCH] * len(records)
    assert set(BatchLine.objects.filter(batch=batch).values_list("outcome", flat=True)) == {"pending"}
    assert PaymentBatch.objects.get(pk=batch.pk).state == PaymentBatch.State.SENT
    assert not LedgerEvent.objects.filter(action=LedgerEvent.Action.BATCH_RECONCILED).exists()


def refused(world: World, batch: PaymentBatch, rows: Sequence[Sequence[Any]], match: str, **kw: Any) -> None:
    with pytest.raises(LedgerError, match=match):
        reconcile(world, batch, rows, **kw)
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.REFUSED, batch=batch).exists()


def test_duplicated_row_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    refused(world, batch, [*rows, rows[2]], "第6行（序号 2，李秀英）与第3行重复")
    assert_nothing_marked(batch, queued)


def test_amount_differing_from_the_line_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    rows[3][3] = 5000
    refused(world, batch, rows, "金额 5000.00 元与批次中的 500.00 元不符")
    assert_nothing_marked(batch, queued)


def test_card_or_name_differing_from_the_line_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    rows[1][2] = card()
    rows[2][1] = "李秀"
    with pytest.raises(batches.ReturnFileRefused) as caught:
        reconcile(world, batch, rows)
    codes = [p.code for p in caught.value.problems]
    assert codes == ["card-differs", "name-differs"]
    assert_nothing_marked(batch, queued)


def test_a_file_for_another_batch_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    stranger: list[list[Any]] = [
        HEADER,
        [1, "钱多多", card(), 100, "成功", ""],
        [2, "孙小", card(), 200, "失败", "无此账户"],
    ]
    refused(world, batch, [[*r] for r in stranger], "没有一行与批次")
    assert_nothing_marked(batch, queued)


def test_a_batch_number_column_naming_another_batch_is_refused(
    world: World, queued: list[HelpRecord]
) -> None:
    batch = sent_batch(world)
    rows = [[*row, "批次号" if n == 0 else "DF20180101-1-9"] for n, row in enumerate(return_rows(batch))]
    refused(world, batch, rows, "批次号 DF20180101-1-9 不是本批次")
    assert_nothing_marked(batch, queued)
    good = [[*row, "批次号" if n == 0 else batch.number] for n, row in enumerate(return_rows(batch))]
    assert reconcile(world, batch, good).paid.count == 4


def test_a_file_name_naming_another_batch_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    refused(world, batch, return_rows(batch), "不是本批次", name="回盘_DF20180101-99-1.xlsx")
    assert_nothing_marked(batch, queued)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_title_naming_another_batch_is_refused(world: World, queued: list[HelpRecord], suffix: str) -> None:
    batch = sent_batch(world)
    title: list[Any] = ["代发回盘 批次号：DF20180101-1-9"]
    refused(world, batch, [title, *return_rows(batch)], "标题写的是批次 DF20180101-1-9", name=f"r{suffix}")
    assert_nothing_marked(batch, queued)
    own: list[Any] = [f"代发回盘 批次号：{batch.number}"]
    assert reconcile(world, batch, [own, *return_rows(batch)], name=f"own{suffix}").paid.count == 4


def test_the_same_file_twice_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    data = as_file(return_rows(batch)[:3], "回盘.xlsx")
    reviewer = world.users["county_reviewer"]
    batches.batch_reconcile(user=reviewer, batch=batch, file_name="回盘.xlsx", stream=io.BytesIO(data))
    with pytest.raises(LedgerError, match="已用于批次"):
        batches.batch_reconcile(user=reviewer, batch=batch, file_name="回盘(1).xlsx", stream=io.BytesIO(data))
    assert states(queued) == [Payment.PAID, Payment.PAID, Payment.IN_BATCH, Payment.IN_BATCH]


def test_a_second_reconciliation_of_a_reconciled_batch_is_refused(
    world: World, queued: list[HelpRecord]
) -> None:
    batch = sent_batch(world)
    reconcile(world, batch, return_rows(batch))
    with pytest.raises(LedgerError, match="已全部对账"):
        reconcile(world, batch, return_rows(batch, {1: "x"}), name="其他.xlsx")
    assert states(queued) == [Payment.PAID] * 4


def test_a_row_already_settled_is_refused(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    reconcile(world, batch, rows[:3])
    refused(world, batch, [HEADER, rows[2], rows[3]], "已在之前的回盘中对账", name="again.xlsx")
    assert states(queued)[2:] == [Payment.IN_BATCH, Payment.IN_BATCH]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((4, "处理中"), "结果“处理中”应为“成功”或“失败”"),
        ((4, None), "结果为空"),
        ((3, "一千"), "金额“一千”不是数字"),
        ((3, -5), "金额应大于零"),
        ((0, "第一"), "序号“第一”不是整数"),
    ],
)
def test_bad_cells_are_refused(
    world: World, queued: list[HelpRecord], change: tuple[int, Any], message: str
) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    column, value = change
    rows[2][column] = value
    refused(world, batch, rows, message)
    assert_nothing_marked(batch, queued)


def test_missing_columns_unreadable_too_large_and_wrong_type(
    world: World, queued: list[HelpRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = sent_batch(world)
    rows = [[c for i, c in enumerate(r) if i != 4] for r in return_rows(batch)]
    refused(world, batch, rows, "缺少列：结果")
    with pytest.raises(LedgerError, match="已损坏"):
        batches.batch_reconcile(
            user=world.users["county_reviewer"],
            batch=batch,
            file_name="回盘.xlsx",
            stream=io.BytesIO(b"PK\x03\x04 not a zip at all"),
        )
    with pytest.raises(LedgerError, match="不是银行回盘文件"):
        batches.batch_reconcile(
            user=world.users["county_reviewer"], batch=batch, file_name="回盘.pdf", stream=io.BytesIO(b"x")
        )
    monkeypatch.setattr(batches, "RETURN_FILE_MAX_BYTES", 10)
    with pytest.raises(LedgerError, match="太大"):
        reconcile(world, batch, return_rows(batch))
    with pytest.raises(LedgerError, match="空"):
        batches.batch_reconcile(
            user=world.users["county_reviewer"], batch=batch, file_name="回盘.csv", stream=io.BytesIO(b"")
        )
    assert_nothing_marked(batch, queued)


def test_a_draft_batch_cannot_be_reconciled_and_reporters_may_not(
    world: World, queued: list[HelpRecord]
) -> None:
    batch = make_batch(world)
    with pytest.raises(LedgerError, match="尚未送银行"):
        reconcile(world, batch, return_rows(batch))
    batches.batch_mark_sent(user=world.users["county_reviewer"], batch=batch)
    with pytest.raises(PermissionDenied):
        batches.batch_reconcile(
            user=world.users["county_reporter"],
            batch=batch,
            file_name="回盘.xlsx",
            stream=io.BytesIO(as_file(return_rows(batch), "回盘.xlsx")),
        )
    assert states(queued) == [Payment.IN_BATCH] * 4


# --- pages ------------------------------------------------------------------------------------------------


def test_pages_round_trip(world: World, queued: list[HelpRecord]) -> None:
    grant_personal_data(world.users["county_reviewer"])
    client = world.client("county_reviewer")
    list_url = reverse("ledger:batch-list", args=[world.campaign.pk, world.county.pk])
    page = client.get(list_url)
    assert page.status_code == 200 and "4 笔" in page.content.decode()
    response = client.post(list_url, {"bank_format": "standard", "purpose": "春节慰问金"})
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "ledger:batch-detail", args=[batch.pk]
    )
    text = client.get(response["Location"]).content.decode()
    assert batch.number in text and queued[0].card_number in text  # full numbers: the permission
    xlsx = client.get(reverse("ledger:batch-export-xlsx", args=[batch.pk]))
    assert xlsx.status_code == 200 and xlsx["Cache-Control"] == "no-store"
    csv_file = client.get(reverse("ledger:batch-export-csv", args=[batch.pk]))
    assert "春节慰问金" in csv_file.content.decode("gbk")
    assert client.post(reverse("ledger:batch-send", args=[batch.pk])).status_code == 302
    upload = io.BytesIO(as_file(return_rows(batch, {1: "账户冻结"}), "x.xlsx"))
    upload.name = "回盘.xlsx"
    response = client.post(reverse("ledger:batch-reconcile", args=[batch.pk]), {"file": upload})
    assert response.status_code == 302
    text = client.get(response["Location"]).content.decode()
    assert "成功 3 笔 2300.00 元，失败 1 笔 1000.00 元" in text and "账户冻结" in text
    summary = text[
        text.index('id="batch-summary"') : text.index("</table>", text.index('id="batch-summary"'))
    ]
    for row_id, count, total in (
        ("issued", 4, "3300.00"),
        ("sent", 4, "3300.00"),
        ("paid", 3, "2300.00"),
        ("failed", 1, "1000.00"),
    ):
        assert f'<tr id="{row_id}">' in summary
        row = summary[summary.index(f'<tr id="{row_id}">') :].split("</tr>")[0]
        assert f">{count}<" in row and f">{total}<" in row
    bad = io.BytesIO(as_file(return_rows(batch), "y.xlsx"))
    bad.name = "again.xlsx"
    response = client.post(reverse("ledger:batch-reconcile", args=[batch.pk]), {"file": bad})
    assert response.status_code == 400 and "已全部对账" in response.content.decode()


def test_reconcile_page_shows_the_refusal(world: World, queued: list[HelpRecord]) -> None:
    batch = sent_batch(world)
    rows = return_rows(batch)
    rows[1][3] = 1
    upload = io.BytesIO(as_file(rows, "x.xlsx"))
    upload.name = "回盘.xlsx"
    response = world.client("county_reviewer").post(
        reverse("ledger:batch-reconcile", args=[batch.pk]), {"file": upload}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "没有任何记录被标记" in text and "与批次中的 1000.00 元不符" in text
    assert_nothing_marked(batch, queued)


def test_masked_page_and_refused_download_message(world: World, queued: list[HelpRecord]) -> None:
    batch = make_batch(world)
    client = world.client("county_reviewer")
    page = client.get(reverse("ledger:batch-detail", args=[batch.pk])).content.decode()
    assert queued[0].card_number not in page and "查看完整身份信息" in page
    response = client.get(reverse("ledger:batch-export-xlsx", args=[batch.pk]))
    assert response.status_code == 403 and "完整的卡号" in response.content.decode()


VIEWERS = {"county_reporter", "county_reviewer", "city_reviewer"}
MANAGERS = {"county_reviewer", "city_reviewer"}


@pytest.mark.parametrize(
    "who", ["county_reporter", "county_reviewer", "city_reviewer", "sibling_reporter", None]
)
def test_permission_matrix(world: World, queued: list[HelpRecord], who: str | None) -> None:
    for name in ("county_reviewer", "city_reviewer", "county_reporter", "sibling_reporter"):
        grant_personal_data(world.users[name])  # the matrix is about the unit roles, not the permission
    batch = make_batch(world)
    client = world.client(who) if who else Client()
    list_url = reverse("ledger:batch-list", args=[world.campaign.pk, world.county.pk])
    pages = {
        "list": client.get(list_url).status_code,
        "detail": client.get(reverse("ledger:batch-detail", args=[batch.pk])).status_code,
        "xlsx": client.get(reverse("ledger:batch-export-xlsx", args=[batch.pk])).status_code,
        "csv": client.get(reverse("ledger:batch-export-csv", args=[batch.pk])).status_code,
        "create": client.post(list_url, {"bank_format": "standard"}).status_code,
        "send": client.post(reverse("ledger:batch-send", args=[batch.pk])).status_code,
        # sent by a manager just before: refused with a message (302), the batch stays sent
        "cancel": client.post(reverse("ledger:batch-cancel", args=[batch.pk]), {"reason": "x"}).status_code,
    }
    upload = io.BytesIO(as_file(return_rows(batch), "x.xlsx"))
    upload.name = "回盘.xlsx"
    pages["reconcile"] = client.post(
        reverse("ledger:batch-reconcile", args=[batch.pk]), {"file": upload}
    ).status_code
    if who is None:
        assert set(pages.values()) == {302}  # to the login page
        assert PaymentBatch.objects.get().state == PaymentBatch.State.DRAFT
        return
    sees = who in VIEWERS
    manages = who in MANAGERS
    hidden = 404  # a batch of a unit the user does not see is not told to exist
    assert pages["list"] == (200 if sees else 403)
    assert pages["detail"] == (200 if sees else hidden)
    assert pages["xlsx"] == pages["csv"] == (200 if manages else 403 if sees else hidden)
    # create: the queue is empty by now, so a manager's post comes back with the form's refusal (400)
    assert pages["create"] == (400 if manages else 403)
    assert pages["send"] == (302 if manages else 403 if sees else hidden)
    assert pages["cancel"] == (302 if manages else 403 if sees else hidden)
    # reconcile: sent by the manager just before; the file is this batch's answer
    assert pages["reconcile"] == (302 if manages else 403 if sees else hidden)
    state = PaymentBatch.objects.get().state
    assert state == (PaymentBatch.State.RECONCILED if manages else PaymentBatch.State.DRAFT)
    assert states(queued) == ([Payment.PAID] * 4 if manages else [Payment.IN_BATCH] * 4)


def test_the_list_offers_the_form_only_to_managers(world: World, queued: list[HelpRecord]) -> None:
    url = reverse("ledger:batch-list", args=[world.campaign.pk, world.county.pk])
    assert "batch-create-form" in world.client("county_reviewer").get(url).content.decode()
    assert "batch-create-form" not in world.client("county_reporter").get(url).content.decode()
