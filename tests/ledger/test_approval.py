"""Draft → approved → reversed: who may approve (a reviewer of the unit or above, not who entered it), what
approval checks again, what it does to card payments, what may still change (drafts only), how a correction
is made (a reversal with a reason), and the history every step leaves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from songnuan.archive.services import household_close
from songnuan.ledger.models import HelpRecord, LedgerEvent
from songnuan.ledger.services import (
    ARISEN_AT_APPROVAL,
    LedgerError,
    approve_refusal,
    help_record_approve,
    help_record_delete,
    help_record_edit,
    help_record_reverse,
)
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create
from tests.ledger.ledgerworld import LedgerWorld, help_input, household, raise_money
from tests.world import PASSWORD

D = Decimal
State = HelpRecord.State
Payment = HelpRecord.Payment
Channel = HelpRecord.Channel
Action = LedgerEvent.Action


def extra_user(name: str, unit: Unit, role: str) -> User:
    return account_create(username=name, password=PASSWORD, unit=unit, role=role).user


def reverse(
    ledger: LedgerWorld, record: HelpRecord, reason: str = "金额录错", user: str = "county_reviewer"
) -> Any:
    return help_record_reverse(user=ledger.world.users[user], record=record, reason=reason)


def actions(record: HelpRecord) -> list[str]:
    return list(LedgerEvent.objects.filter(record=record).order_by("pk").values_list("action", flat=True))


# --- who approves ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reviewer", ["county_reviewer", "city_reviewer", "city_admin"])
def test_a_reviewer_or_admin_of_the_unit_or_above_approves(ledger: LedgerWorld, reviewer: str) -> None:
    draft = ledger.add(help_input(ledger.wang))
    record = ledger.approve(draft, user=reviewer)
    record.refresh_from_db()
    assert record.state == State.APPROVED and record.approved_by == ledger.world.users[reviewer]
    assert record.approved_at is not None and record.entered_by == ledger.world.users["county_reporter"]


@pytest.mark.parametrize("reporter", ["county_reporter", "enterprise_reporter", "sibling_reporter"])
def test_a_reporter_may_not_approve(ledger: LedgerWorld, reporter: str) -> None:
    draft = ledger.add(help_input(ledger.wang))
    with pytest.raises(PermissionDenied):
        ledger.approve(draft, user=reporter)
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and draft.approved_by is None


@pytest.mark.parametrize(
    ("unit", "role"), [("sibling", Account.Role.REVIEWER), ("enterprise", Account.Role.ADMIN)]
)
def test_a_reviewer_of_a_sibling_or_a_unit_below_may_not_approve(
    ledger: LedgerWorld, unit: str, role: str
) -> None:
    outsider = extra_user("outsider", getattr(ledger.world, unit), role)
    draft = ledger.add(help_input(ledger.wang))
    with pytest.raises(PermissionDenied):
        help_record_approve(user=outsider, record=draft)
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_a_unit_below_is_approved_from_above(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_money(world, world.enterprise, "union", "1000", user="enterprise_reporter")
    worker = household(world, "钱厂工", unit=world.enterprise)
    draft = ledger.add(help_input(worker, source="union"), user="enterprise_reporter", unit=world.enterprise)
    assert ledger.approve(draft, user="county_reviewer").state == State.APPROVED


def test_who_entered_a_record_may_not_approve_it(ledger: LedgerWorld) -> None:
    # the county's reviewer enters a record of its own unit: another reviewer must approve it
    draft = ledger.add(help_input(ledger.wang), user="county_reviewer")
    with pytest.raises(LedgerError) as refused:
        ledger.approve(draft, user="county_reviewer")
    assert "录入人不能审核" in refused.value.message
    assert ledger.approve(draft, user="city_reviewer").state == State.APPROVED


def test_an_admin_who_entered_a_record_may_not_approve_it(ledger: LedgerWorld) -> None:
    world = ledger.world
    raise_money(world, world.city, "union", "5000", user="city_admin")
    draft = ledger.add(help_input(ledger.wang, source="union"), user="city_admin", unit=world.city)
    with pytest.raises(LedgerError):
        ledger.approve(draft, user="city_admin")
    draft.refresh_from_db()
    assert draft.state == State.DRAFT
    assert ledger.approve(draft, user="city_reviewer").approved_by == world.users["city_reviewer"]


def test_only_a_draft_is_approved(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    with pytest.raises(LedgerError) as refused:
        ledger.approve(record, user="city_reviewer")
    assert "已审核" in refused.value.message
    record.refresh_from_db()
    assert record.approved_by == ledger.world.users["county_reviewer"]
    assert actions(record).count(Action.RECORD_APPROVED) == 1


# --- what approval checks again, and does -------------------------------------------------------------------


def test_approval_checks_the_rules_again(ledger: LedgerWorld) -> None:
    draft = ledger.add(help_input(ledger.wang))  # paid 2018-01-25, 王建国's file open then
    household_close(
        user=ledger.world.users["city_reviewer"],
        household=ledger.wang,
        reason="死亡",
        on=dt.date(2018, 1, 20),
    )
    with pytest.raises(LedgerError) as refused:
        ledger.approve(draft)
    assert "archive-first" in {p.code for p in refused.value.problems} and "王建国" in refused.value.message
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and draft.payment == Payment.NONE
    assert not LedgerEvent.objects.filter(record=draft, action=Action.RECORD_APPROVED).exists()


def test_approval_of_a_file_closed_after_the_payment_still_passes(ledger: LedgerWorld) -> None:
    draft = ledger.add(help_input(ledger.wang))
    household_close(
        user=ledger.world.users["city_reviewer"],
        household=ledger.wang,
        reason="迁出",
        on=dt.date(2018, 1, 26),
    )
    assert ledger.approve(draft).state == State.APPROVED


def test_a_warning_needs_an_explanation_before_approval(ledger: LedgerWorld) -> None:
    ledger.approve(ledger.add(help_input(ledger.wang)))
    twice = ledger.add(help_input(ledger.wang))
    assert [w["code"] for w in twice.warnings] == ["duplicate"] and twice.state == State.DRAFT
    with pytest.raises(LedgerError) as refused:
        ledger.approve(twice)
    assert "情况说明" in refused.value.message
    explained = help_record_edit(
        user=ledger.world.users["county_reporter"],
        record=twice,
        data=help_input(ledger.wang, explanation="春节前后各慰问一次，经主席办公会同意"),
    )
    assert explained.warnings and explained.explanation.startswith("春节前后")
    assert ledger.approve(explained).state == State.APPROVED


def test_a_warning_arisen_since_saving_stops_the_approval_until_explained(ledger: LedgerWorld) -> None:
    first = ledger.add(help_input(ledger.wang))
    assert first.warnings == []
    second = ledger.add(help_input(ledger.wang, explanation="春节前后各慰问一次"))  # the duplicate, explained
    assert [w["code"] for w in second.warnings] == ["duplicate"]
    with pytest.raises(LedgerError, match="审核时发现新的提醒") as refused:
        ledger.approve(first)  # saved before the second existed: the duplicate arose since
    assert [p.code for p in refused.value.problems] == ["duplicate"]
    first.refresh_from_db()
    assert first.state == State.DRAFT and [w["code"] for w in first.warnings] == ["duplicate"]  # kept
    event = LedgerEvent.objects.filter(record=first, action=LedgerEvent.Action.RECORD_EDITED).get()
    assert "重复发放" in event.new["warnings"] and "审核时发现" in event.note
    reviewer = ledger.world.users["city_reviewer"]
    assert "情况说明" in (approve_refusal(reviewer, first) or "")
    # An explanation written earlier for other warnings would not do either: the enterer writes it anew.
    explained = help_record_edit(
        user=ledger.world.users["county_reporter"],
        record=first,
        data=help_input(ledger.wang, explanation="两次慰问对象相同，经主席办公会同意"),
    )
    assert approve_refusal(reviewer, explained) is None
    assert ledger.approve(explained).state == State.APPROVED


def test_an_earlier_explanation_does_not_cover_a_warning_arisen_at_approval(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang, explanation="为上一条提醒写的说明"))
    record.warnings = [{"code": "duplicate", "message": "是否重复发放？", ARISEN_AT_APPROVAL: True}]
    record.save(update_fields=["warnings"])
    refusal = approve_refusal(ledger.world.users["city_reviewer"], record)
    assert refusal is not None and "审核时发现新的提醒" in refusal
    with pytest.raises(LedgerError, match="审核时发现新的提醒"):
        ledger.approve(record)


@pytest.mark.parametrize(
    ("changes", "payment"),
    [
        ({}, Payment.QUEUED),
        ({"channel": Channel.BANK_CARD}, Payment.QUEUED),
        ({"source": "union", "channel": Channel.CASH, "cash_reason": "卡已挂失"}, Payment.NONE),
        (
            {
                "source": "union",
                "channel": Channel.GOODS,
                "amount": None,
                "goods_description": "米面油",
                "goods_value": D("300"),
            },
            Payment.NONE,
        ),
    ],
)
def test_card_payments_wait_for_the_bank_after_approval(
    ledger: LedgerWorld, changes: dict[str, Any], payment: str
) -> None:
    draft = ledger.add(help_input(ledger.wang, **changes))
    assert draft.payment == Payment.NONE  # a draft is never queued
    assert ledger.approve(draft).payment == payment


# --- drafts change, approved records do not -----------------------------------------------------------------


def test_a_draft_is_edited_with_old_and_new_in_the_history(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    draft = ledger.add(help_input(ledger.wang))
    edited = help_record_edit(
        user=user, record=draft, data=help_input(ledger.wang, amount=D("1200.00"), note="加发")
    )
    assert edited.amount == D("1200.00")
    event = LedgerEvent.objects.get(record=draft, action=Action.RECORD_EDITED)
    assert event.user == user
    assert event.old == {"amount": "1000.00", "note": ""} and event.new == {
        "amount": "1200.00",
        "note": "加发",
    }


def test_a_refused_edit_changes_nothing_and_is_in_the_history(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    draft = ledger.add(help_input(ledger.wang))
    with pytest.raises(LedgerError):
        help_record_edit(user=user, record=draft, data=help_input(ledger.wang, channel=Channel.CASH))
    draft.refresh_from_db()
    assert draft.channel == Channel.UNION_CARD
    event = LedgerEvent.objects.latest("pk")
    assert event.action == Action.REFUSED and event.record == draft and event.user == user
    assert event.new["channel"] == Channel.CASH and "现金" in event.note
    assert actions(draft) == [Action.RECORD_ADDED, Action.REFUSED]


def test_a_draft_is_deleted_and_the_history_keeps_what_it_held(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    draft = ledger.add(help_input(ledger.wang, note="误录"))
    pk = draft.pk
    help_record_delete(user=user, record=draft)
    assert not HelpRecord.objects.filter(pk=pk).exists()
    event = LedgerEvent.objects.get(action=Action.RECORD_DELETED)
    assert event.user == user and event.unit == ledger.world.county and event.record is None
    assert event.old["name"] == "王建国" and event.old["amount"] == "1000.00" and event.old["note"] == "误录"
    assert event.old["state"] == State.DRAFT and event.new == {}


@pytest.mark.parametrize("user", ["sibling_reporter", "city_reviewer", "enterprise_reporter"])
def test_only_the_units_own_accounts_change_its_drafts(ledger: LedgerWorld, user: str) -> None:
    draft = ledger.add(help_input(ledger.wang))
    with pytest.raises(PermissionDenied):
        help_record_edit(
            user=ledger.world.users[user], record=draft, data=help_input(ledger.wang, amount=D("1"))
        )
    with pytest.raises(PermissionDenied):
        help_record_delete(user=ledger.world.users[user], record=draft)
    draft.refresh_from_db()
    assert draft.amount == D("1000.00")


def test_an_approved_record_is_neither_edited_nor_deleted(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    events = LedgerEvent.objects.count()
    with pytest.raises(LedgerError) as refused:
        help_record_edit(user=user, record=record, data=help_input(ledger.wang, amount=D("1")))
    assert "冲销" in refused.value.message
    with pytest.raises(LedgerError):
        help_record_delete(user=user, record=record)
    record.refresh_from_db()
    assert record.amount == D("1000.00") and record.state == State.APPROVED
    assert LedgerEvent.objects.count() == events


# --- reversals --------------------------------------------------------------------------------------------


def test_a_reversal_negates_the_record_and_both_are_in_the_history(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.approve(
        ledger.add(
            help_input(
                ledger.wang,
                source="union",
                amount=D("500"),
                goods_description="米面油",
                goods_quantity=D("2"),
                goods_value=D("180.50"),
            )
        )
    )
    reversal = reverse(ledger, record, reason=" 发放对象有误 ")
    assert reversal.reverses == record and reversal.state == State.APPROVED
    assert (reversal.amount, reversal.goods_value, reversal.goods_quantity) == (
        D("-500"),
        D("-180.50"),
        D("-2"),
    )
    assert reversal.value == -record.value
    assert (reversal.household, reversal.item, reversal.source) == (
        record.household,
        record.item,
        record.source,
    )
    assert reversal.note == "发放对象有误" and reversal.approved_by == world.users["county_reviewer"]
    record.refresh_from_db()
    assert record.state == State.APPROVED and record.payment == Payment.NONE  # it left the bank queue
    # Marked in the same write, so what stands is a plain filter: neither the record nor its reversal.
    assert record.is_reversed and not reversal.is_reversed
    assert not HelpRecord.objects.filter(HelpRecord.standing(), pk__in=[record.pk, reversal.pk]).exists()

    reversed_event = LedgerEvent.objects.get(record=record, action=Action.RECORD_REVERSED)
    assert reversed_event.user == world.users["county_reviewer"] and reversed_event.note == "发放对象有误"
    assert reversed_event.old == {"payment": Payment.QUEUED} and reversed_event.new["reversal"] == str(
        reversal.pk
    )
    added = LedgerEvent.objects.get(record=reversal)
    assert added.action == Action.RECORD_ADDED and added.new["amount"].startswith("-500")
    assert "发放对象有误" in added.note


def test_a_reversal_needs_a_reason(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    for reason in ("", "  "):
        with pytest.raises(LedgerError):
            reverse(ledger, record, reason=reason)
    assert not HelpRecord.objects.filter(reverses=record).exists()


def test_only_an_approved_record_is_reversed(ledger: LedgerWorld) -> None:
    draft = ledger.add(help_input(ledger.wang))
    with pytest.raises(LedgerError) as refused:
        reverse(ledger, draft)
    assert "待审核" in refused.value.message


def test_a_record_is_reversed_once_and_a_reversal_never(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    reversal = reverse(ledger, record)
    with pytest.raises(LedgerError):
        reverse(ledger, record, user="city_reviewer")
    with pytest.raises(LedgerError):
        reverse(ledger, reversal)
    assert HelpRecord.objects.count() == 2


def test_a_reporter_may_not_reverse(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    with pytest.raises(PermissionDenied):
        reverse(ledger, record, user="county_reporter")
    # the reviewer above may
    assert reverse(ledger, record, user="city_reviewer").pk


def test_a_payment_with_the_bank_is_not_reversed_until_the_bank_answers(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    HelpRecord.objects.filter(pk=record.pk).update(payment=Payment.IN_BATCH)
    with pytest.raises(LedgerError) as refused:
        reverse(ledger, record)
    assert "银行" in refused.value.message
    HelpRecord.objects.filter(pk=record.pk).update(payment=Payment.PAID)
    assert reverse(ledger, record).amount == D("-1000.00")
    record.refresh_from_db()
    assert record.payment == Payment.PAID  # paid money stays paid: the reversal is the correction


def test_a_failed_payment_reversed_leaves_the_queue(ledger: LedgerWorld) -> None:
    record = ledger.approve(ledger.add(help_input(ledger.wang)))
    HelpRecord.objects.filter(pk=record.pk).update(payment=Payment.FAILED)
    reversal = reverse(ledger, record)
    record.refresh_from_db()
    assert record.payment == Payment.NONE and reversal.payment == Payment.NONE


# --- the history of every write ---------------------------------------------------------------------------


def test_every_write_leaves_an_event_with_its_user(ledger: LedgerWorld) -> None:
    users = ledger.world.users
    draft = ledger.add(help_input(ledger.wang))
    help_record_edit(
        user=users["county_reporter"], record=draft, data=help_input(ledger.wang, amount=D("800.00"))
    )
    approved = ledger.approve(draft)
    reversal = reverse(ledger, approved)
    assert actions(draft) == [
        Action.RECORD_ADDED,
        Action.RECORD_EDITED,
        Action.RECORD_APPROVED,
        Action.RECORD_REVERSED,
    ]
    assert actions(reversal) == [Action.RECORD_ADDED]
    by_action = {e.action: e for e in LedgerEvent.objects.filter(record=draft)}
    assert by_action[Action.RECORD_ADDED].user == users["county_reporter"]
    assert by_action[Action.RECORD_EDITED].user == users["county_reporter"]
    assert by_action[Action.RECORD_APPROVED].user == users["county_reviewer"]
    assert by_action[Action.RECORD_REVERSED].user == users["county_reviewer"]
    approved_event = by_action[Action.RECORD_APPROVED]
    assert approved_event.old == {"state": State.DRAFT, "payment": ""}
    assert approved_event.new == {"state": State.APPROVED, "payment": Payment.QUEUED}
    assert all(
        e.campaign == ledger.world.campaign and e.unit == ledger.world.county for e in by_action.values()
    )
