"""The rules a help record is held to when it is saved (services.check_help through help_record_add): each
rule refuses (or warns) in one case and lets the record through in the case next to it.

The world (tests/ledger/ledgerworld.py): 东宝区 (county) raised 100,000 central (bound by 依档帮扶) and
50,000 union money; 王建国 filed 2017-12-01, 李秀英 filed 2018-01-20, 张伟 closed 2018-01-10, 赵敏 never
filed; the campaign runs 2018-01-01 … 2018-02-15; payments default to 1,000 central on 2018-01-25."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from songnuan.archive.generate import luhn_complete
from songnuan.archive.idnumbers import mask_id_number
from songnuan.archive.models import Household
from songnuan.archive.services import (
    HouseholdInput,
    household_apply,
    household_file,
    household_out_of_difficulty,
)
from songnuan.ledger.models import HelpRecord, LedgerEvent
from songnuan.ledger.services import LedgerError, help_record_edit, help_record_reverse
from tests.ledger.ledgerworld import (
    CHINA,
    LedgerWorld,
    card,
    help_input,
    household,
    new_id_number,
    raise_money,
)

D = Decimal
Kind = HelpRecord.RecipientKind
Channel = HelpRecord.Channel


def refusal(ledger: LedgerWorld, data: Any, **kwargs: Any) -> LedgerError:
    """Save `data`, expect a refusal, and check that nothing but the refusal's history entry was written."""
    records, events = HelpRecord.objects.count(), LedgerEvent.objects.count()
    with pytest.raises(LedgerError) as refused:
        ledger.add(data, **kwargs)
    assert HelpRecord.objects.count() == records
    assert LedgerEvent.objects.count() == events + 1
    assert LedgerEvent.objects.latest("pk").action == LedgerEvent.Action.REFUSED
    return refused.value


def codes(error: LedgerError) -> set[str]:
    return {problem.code for problem in error.problems}


def warned(record: HelpRecord) -> set[str]:
    return {warning["code"] for warning in record.warnings}


def person(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "recipient_kind": Kind.PERSON,
        "name": "孙师傅",
        "id_number": new_id_number(),
        "person_category": HelpRecord.PersonCategory.FRONTLINE,
        "source": "union",
        "card_number": card(),
    }
    values.update(changes)
    return help_input(None, **values)


def enterprise(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "recipient_kind": Kind.ENTERPRISE,
        "name": "东宝区红星机械厂",
        "enterprise_kind": HelpRecord.EnterpriseKind.NEEDY,
        "credit_code": "91420800MA4KXXXX1X",
        "source": "union",
        "channel": Channel.GOODS,
        "amount": None,
        "goods_description": "米面油",
        "goods_value": D("2000.00"),
    }
    values.update(changes)
    return help_input(None, **values)


def bad_luhn_card() -> str:
    good = card()
    return good[:-1] + str((int(good[-1]) + 1) % 10)


# --- 依档帮扶: bound money only to a household whose file was open on the payment date -----------------


def test_bound_fund_to_a_household_filed_before_the_payment(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang))
    assert record.household == ledger.wang and record.source.code == "central"
    assert record.name == "王建国" and record.id_number == ledger.wang.head_id_number


def test_bound_fund_filed_on_the_payment_date_is_accepted_filed_a_day_later_is_not(
    ledger: LedgerWorld,
) -> None:
    assert ledger.add(help_input(ledger.li, paid_on=dt.date(2018, 1, 20))).pk
    error = refusal(ledger, help_input(ledger.li, paid_on=dt.date(2018, 1, 19)))
    assert codes(error) == {"archive-first"}
    assert "李秀英" in error.message and "2018-01-20" in error.message and "先建档、后帮扶" in error.message


def test_filing_time_of_day_is_read_in_china_time(ledger: LedgerWorld) -> None:
    # filed at 00:30 China time on 2018-01-22 (still 2018-01-21 in UTC): a payment on 2018-01-21 is too early
    late = household(ledger.world, "周一")
    late.filed_at = dt.datetime(2018, 1, 22, 0, 30, tzinfo=CHINA)
    late.save(update_fields=["filed_at"])
    assert codes(refusal(ledger, help_input(late, paid_on=dt.date(2018, 1, 21)))) == {"archive-first"}
    assert ledger.add(help_input(late, paid_on=dt.date(2018, 1, 22))).pk


def test_bound_fund_to_a_file_never_filed_is_refused_other_money_is_not(ledger: LedgerWorld) -> None:
    error = refusal(ledger, help_input(ledger.zhao))
    assert codes(error) == {"archive-first"} and "尚未审核建档" in error.message
    # an applied file is in the unit's archive: money not bound by 依档帮扶 may go to it
    assert ledger.add(help_input(ledger.zhao, source="union")).pk


@pytest.mark.parametrize(
    ("paid_on", "accepted"),
    [(dt.date(2018, 1, 9), True), (dt.date(2018, 1, 10), False), (dt.date(2018, 1, 11), False)],
)
def test_bound_fund_to_a_closed_file(ledger: LedgerWorld, paid_on: dt.date, accepted: bool) -> None:
    # 张伟's file was closed on 2018-01-10: open the day before, not on the day nor after
    data = help_input(ledger.zhang, paid_on=paid_on)
    if accepted:
        assert ledger.add(data).pk
    else:
        error = refusal(ledger, data)
        assert codes(error) == {"archive-first"} and "已注销" in error.message


@pytest.mark.parametrize(
    ("paid_on", "accepted"),
    [(dt.date(2018, 1, 14), True), (dt.date(2018, 1, 15), False), (dt.date(2018, 2, 1), False)],
)
def test_bound_fund_to_a_file_out_of_difficulty(
    ledger: LedgerWorld, paid_on: dt.date, accepted: bool
) -> None:
    out = household(ledger.world, "吴脱困")
    household_out_of_difficulty(
        user=ledger.world.users["city_reviewer"],
        household=out,
        path=Household.OutPath.EMPLOYMENT,
        on=dt.date(2018, 1, 15),
    )
    data = help_input(out, paid_on=paid_on)
    if accepted:
        assert ledger.add(data).pk
    else:
        error = refusal(ledger, data)
        assert codes(error) == {"archive-first"} and "已解困脱困" in error.message


def test_provincial_money_is_bound_too(ledger: LedgerWorld) -> None:
    raise_money(ledger.world, ledger.world.county, "provincial", "10000")
    assert codes(refusal(ledger, help_input(ledger.zhang, source="provincial"))) == {"archive-first"}
    assert ledger.add(help_input(ledger.wang, source="provincial")).pk


@pytest.mark.parametrize("make", [person, enterprise], ids=["person", "enterprise"])
def test_bound_fund_to_a_person_or_an_enterprise_is_refused(ledger: LedgerWorld, make: Any) -> None:
    error = refusal(ledger, make(source="central"))
    assert "archive-first" in codes(error) and "依档帮扶" in error.message
    assert ledger.add(make()).pk  # the same from union money


# --- 非现金: bound money never in cash; other cash with a reason ----------------------------------------


@pytest.mark.parametrize("source", ["central", "provincial"])
def test_bound_fund_in_cash_is_refused_even_with_a_reason(ledger: LedgerWorld, source: str) -> None:
    raise_money(ledger.world, ledger.world.county, "provincial", "10000")
    data = help_input(ledger.wang, source=source, channel=Channel.CASH, cash_reason="老人不便到银行")
    error = refusal(ledger, data)
    assert codes(error) == {"cash-bound"} and "现金" in error.message
    assert ledger.add(help_input(ledger.wang, source=source)).channel == Channel.UNION_CARD


def test_cash_from_other_money_needs_a_reason(ledger: LedgerWorld) -> None:
    for reason in ("", "   "):
        data = help_input(ledger.wang, source="union", channel=Channel.CASH, cash_reason=reason)
        assert codes(refusal(ledger, data)) == {"cash-reason"}
    record = ledger.add(
        help_input(ledger.wang, source="union", channel=Channel.CASH, cash_reason=" 卡已挂失 ")
    )
    assert record.channel == Channel.CASH and record.cash_reason == "卡已挂失" and record.card_number == ""


def test_a_reason_is_kept_only_for_cash(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang, cash_reason="不需要"))
    assert record.cash_reason == ""


# --- cards: the archive's card by default, checked, never shared between households ----------------------


def test_card_defaults_to_the_archive_card_and_a_given_one_is_normalised(ledger: LedgerWorld) -> None:
    assert ledger.add(help_input(ledger.wang)).card_number == ledger.wang.card_number
    number = card()
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    record = ledger.add(help_input(ledger.li, card_number=spaced, bank="农业银行"))
    assert record.card_number == number and record.bank == "农业银行" and not warned(record)


def test_card_failing_luhn_is_a_warning(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang, card_number=bad_luhn_card()))
    assert warned(record) == {"card-luhn"} and record.state == HelpRecord.State.DRAFT
    assert not warned(ledger.add(help_input(ledger.li, card_number=luhn_complete("62270000123456"))))


@pytest.mark.parametrize("number", ["6222 02AB 3456", "62220212345", "62220212345678901234"])
def test_card_that_is_not_a_card_number_is_refused(ledger: LedgerWorld, number: str) -> None:
    assert codes(refusal(ledger, help_input(ledger.wang, card_number=number))) == {"bad-card"}


def test_card_payment_without_any_card_is_refused(ledger: LedgerWorld) -> None:
    data = person(source="union", card_number="")
    assert codes(refusal(ledger, data)) == {"no-card"}
    assert ledger.add(person(card_number=card())).pk


def test_one_card_for_two_households_is_a_warning(ledger: LedgerWorld) -> None:
    first = ledger.add(help_input(ledger.wang))
    shared = ledger.add(help_input(ledger.li, card_number=ledger.wang.card_number))
    assert "card-shared" in warned(shared)
    assert not warned(first)
    own = ledger.add(help_input(ledger.li, item="other"))
    assert "card-shared" not in warned(own)


def test_the_same_card_for_the_same_household_again_is_no_sharing(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang))
    again = ledger.add(help_input(ledger.wang, item="other"))
    assert "card-shared" not in warned(again)


# --- the same recipient, item and campaign twice -----------------------------------------------------------


def test_the_same_household_item_and_campaign_twice_is_a_warning(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang))
    other_item = ledger.add(help_input(ledger.wang, item="other"))
    assert "duplicate" not in warned(other_item)
    twice = ledger.add(help_input(ledger.wang))
    assert warned(twice) == {"duplicate"}
    assert "王建国" in twice.warnings[0]["message"] and "节日慰问" in twice.warnings[0]["message"]


def test_the_same_person_twice_is_found_by_the_id_number(ledger: LedgerWorld) -> None:
    number = new_id_number()
    ledger.add(person(id_number=number))
    again = ledger.add(person(id_number=number, name="孙师傅"))
    assert "duplicate" in warned(again)
    other = ledger.add(person(card_number=card()))
    assert "duplicate" not in warned(other)


def test_a_filed_head_paid_as_a_person_then_as_the_household_is_a_duplicate_too(ledger: LedgerWorld) -> None:
    # household first, then the head by ID number as a person: found (the household's record keeps the ID)
    ledger.add(help_input(ledger.wang))
    as_person = ledger.add(person(name="王建国", id_number=ledger.wang.head_id_number))
    assert "duplicate" in warned(as_person)


def test_a_head_paid_as_a_person_first_then_as_the_household_is_a_duplicate(ledger: LedgerWorld) -> None:
    ledger.add(person(name="王建国", id_number=ledger.wang.head_id_number))
    assert "duplicate" in warned(ledger.add(help_input(ledger.wang)))


def test_a_reversed_payment_is_no_duplicate(ledger: LedgerWorld) -> None:
    first = ledger.approve(ledger.add(help_input(ledger.wang)))
    help_record_reverse(user=ledger.world.users["county_reviewer"], record=first, reason="金额录错")
    assert "duplicate" not in warned(ledger.add(help_input(ledger.wang)))


# --- caps ---------------------------------------------------------------------------------------------------


def test_visit_cap_per_payment_is_a_warning(ledger: LedgerWorld) -> None:
    assert not warned(ledger.add(help_input(ledger.wang, amount=D("3000.00"))))
    over = ledger.add(help_input(ledger.li, amount=D("3000.01")))
    assert warned(over) == {"cap-payment"} and "3000" in over.warnings[0]["message"]


def test_visit_cap_counts_money_and_goods_together(ledger: LedgerWorld) -> None:
    data = help_input(
        ledger.wang,
        amount=D("2000"),
        goods_description="米面油",
        goods_quantity=D("1"),
        goods_value=D("1000.01"),
    )
    assert "cap-payment" in warned(ledger.add(data))


def test_visit_cap_per_year_is_a_warning(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang, amount=D("3000")))
    second = ledger.add(help_input(ledger.wang, amount=D("3000")))
    assert "cap-year" not in warned(second)
    third = ledger.add(help_input(ledger.wang, amount=D("0.01")))
    assert "cap-year" in warned(third)
    assert "6000" in next(w["message"] for w in third.warnings if w["code"] == "cap-year")


def test_living_aid_per_year_is_refused_above_the_line_times_12_times_size(ledger: LedgerWorld) -> None:
    # 王建国: 低保 line 600 a month, 3 people: 21,600 a year
    data = help_input(ledger.wang, item="living", source="union", amount=D("21600.01"))
    error = refusal(ledger, data)
    assert codes(error) == {"cap-year"} and "21600" in error.message
    assert not warned(ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600"))))


def test_living_aid_per_year_adds_up_the_years_payments(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("20000")))
    assert ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("1600"))).pk
    late = help_input(ledger.wang, item="living", source="union", amount=D("0.01"))
    assert codes(refusal(ledger, late)) == {"cap-year"}


def test_a_reversed_payment_in_the_same_year_does_not_count_toward_the_cap(ledger: LedgerWorld) -> None:
    first = ledger.approve(
        ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600")))
    )
    reversal = help_record_reverse(
        user=ledger.world.users["county_reviewer"], record=first, reason="金额录错"
    )
    # the reversal dated in 2018 too (a correction made during the campaign): the two cancel
    HelpRecord.objects.filter(pk=reversal.pk).update(paid_on=dt.date(2018, 2, 1))
    assert ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600"))).pk


def test_a_payment_reversed_in_a_later_year_does_not_count_toward_its_years_cap(
    ledger: LedgerWorld, frozen_now: dt.datetime
) -> None:
    # 生活救助 for 王建国: at most 21,600 in 2018. Entered wrong, reversed (today, 2026), entered again.
    first = ledger.approve(
        ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600")))
    )
    reversal = help_record_reverse(
        user=ledger.world.users["county_reviewer"], record=first, reason="发错项目"
    )
    assert reversal.paid_on.year == 2026
    assert ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600"))).pk


def test_an_edited_draft_is_not_its_own_duplicate_nor_counted_twice_in_its_cap(ledger: LedgerWorld) -> None:
    user = ledger.world.users["county_reporter"]
    draft = ledger.add(help_input(ledger.wang, item="living", source="union", amount=D("21600")))
    edited = help_record_edit(
        user=user,
        record=draft,
        data=help_input(ledger.wang, item="living", source="union", amount=D("21600"), note="补签收表"),
    )
    assert edited.note == "补签收表" and not warned(edited)


def test_medical_aid_is_refused_above_the_out_of_pocket_cost(ledger: LedgerWorld) -> None:
    data = help_input(ledger.wang, item="medical", source="union", amount=D("5000.01"), cost_basis=D("5000"))
    assert codes(refusal(ledger, data)) == {"cap-payment"}
    record = ledger.add(
        help_input(ledger.wang, item="medical", source="union", amount=D("5000"), cost_basis=D("5000"))
    )
    assert record.cost_basis == D("5000") and not warned(record)


def test_schooling_is_refused_above_ten_months_of_the_line(ledger: LedgerWorld) -> None:
    data = help_input(ledger.wang, item="schooling", source="union", amount=D("6000.01"))
    assert codes(refusal(ledger, data)) == {"cap-payment"}
    assert not warned(ledger.add(help_input(ledger.wang, item="schooling", source="union", amount=D("6000"))))


@pytest.mark.parametrize("item", ["living", "schooling"])
def test_unknown_living_line_is_a_warning(ledger: LedgerWorld, item: str) -> None:
    unknown = household(ledger.world, "钱无线", living_line=None)
    record = ledger.add(help_input(unknown, item=item, source="union", amount=D("30000")))
    assert warned(record) == {"cap-unknown"} and "低保" in record.warnings[0]["message"]


def test_unknown_cost_is_a_warning(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang, item="medical", source="union", amount=D("800")))
    assert warned(record) == {"cap-unknown"} and "自付费用" in record.warnings[0]["message"]


# --- 实名制 and the unit's archive -----------------------------------------------------------------------


def test_name_and_id_as_on_file_are_accepted(ledger: LedgerWorld) -> None:
    data = help_input(ledger.wang, name=" 王建国 ", id_number=ledger.wang.head_id_number.lower())
    assert ledger.add(data).name == "王建国"


def test_a_name_not_on_file_is_refused(ledger: LedgerWorld) -> None:
    error = refusal(ledger, help_input(ledger.wang, name="王建军"))
    assert codes(error) == {"name-differs"} and "王建军" in error.message and "王建国" in error.message


def test_an_id_number_not_on_file_is_refused(ledger: LedgerWorld) -> None:
    error = refusal(ledger, help_input(ledger.wang, id_number=ledger.li.head_id_number))
    assert codes(error) == {"id-differs"} and "实名制" in error.message


def _as_typed(number: str, how: str) -> str:
    if how == "spaced":
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    if how == "old-15":  # the 15-digit number issued before 1999: no century, no check character
        return number[:6] + number[8:17]
    return number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))  # full-width


@pytest.mark.parametrize("how", ["spaced", "old-15", "full-width"])
def test_the_heads_id_number_typed_another_way_is_the_files(ledger: LedgerWorld, how: str) -> None:
    typed = _as_typed(ledger.wang.head_id_number, how)
    assert ledger.add(help_input(ledger.wang, id_number=typed)).id_number == ledger.wang.head_id_number


@pytest.mark.parametrize("how", ["spaced", "old-15", "full-width"])
def test_a_persons_id_number_typed_another_way_is_read_as_the_same(ledger: LedgerWorld, how: str) -> None:
    number = new_id_number()
    first = ledger.add(person(id_number=number))
    again = ledger.add(person(id_number=_as_typed(number, how)))
    assert first.id_number == again.id_number == number and "duplicate" in warned(again)


def test_a_household_of_a_unit_below_is_in_the_archive(ledger: LedgerWorld) -> None:
    below = household(ledger.world, "郑下级", unit=ledger.world.enterprise)
    assert ledger.add(help_input(below)).household == below


def test_a_household_outside_the_units_subtree_is_refused(ledger: LedgerWorld) -> None:
    world = ledger.world
    made = household_apply(
        user=world.users["sibling_reporter"],
        unit=world.sibling,
        data=HouseholdInput(
            head_name="冯邻县",
            head_id_number=new_id_number(),
            category=Household.Category.WORKER,
            household_size=2,
            minimum_living_line=D("600"),
            card_kind=Household.CardKind.UNION_CARD,
            bank="中国银行",
            card_number=card(),
        ),
    )
    sibling_file = household_file(user=world.users["city_reviewer"], household=made)
    assert codes(refusal(ledger, help_input(sibling_file))) == {"no-file", "no-card"}
    # a unit below may not pay a household of the unit above either
    raise_money(world, world.enterprise, "union", "1000", user="enterprise_reporter")
    data = help_input(ledger.wang, source="union")
    refused = refusal(ledger, data, user="enterprise_reporter", unit=world.enterprise)
    assert codes(refused) == {"no-file", "no-card"}


def test_a_household_that_does_not_exist_is_refused(ledger: LedgerWorld) -> None:
    # (no file, so no card of the archive either)
    assert codes(refusal(ledger, help_input(None))) == {"no-file", "no-card"}
    assert codes(refusal(ledger, help_input(None, household_id=10**9, card_number=card()))) == {"no-file"}


def test_a_person_needs_a_valid_id_number_and_a_category(ledger: LedgerWorld) -> None:
    number = new_id_number()
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    assert codes(refusal(ledger, person(id_number=wrong_check))) == {"bad-id"}
    assert codes(refusal(ledger, person(id_number=""))) == {"bad-id"}
    assert codes(refusal(ledger, person(person_category=""))) == {"no-category"}
    assert codes(refusal(ledger, person(name=" "))) == {"no-name"}
    record = ledger.add(person(id_number=number.lower()))
    assert record.id_number == number.upper() and record.household is None


def test_an_enterprise_needs_a_name_and_a_kind(ledger: LedgerWorld) -> None:
    assert codes(refusal(ledger, enterprise(enterprise_kind=""))) == {"no-enterprise-kind"}
    assert codes(refusal(ledger, enterprise(name=""))) == {"no-name"}
    assert codes(refusal(ledger, enterprise(credit_code="9142"))) == {"bad-credit-code"}
    record = ledger.add(enterprise())
    assert record.recipient_kind == Kind.ENTERPRISE and record.goods_value == D("2000.00")


def test_unknown_recipient_kind_is_refused(ledger: LedgerWorld) -> None:
    assert "unknown-recipient" in codes(refusal(ledger, help_input(ledger.wang, recipient_kind="alien")))


# --- the campaign's dates, the configured codes, the amounts ------------------------------------------------


@pytest.mark.parametrize(
    ("paid_on", "accepted"),
    [
        (dt.date(2017, 12, 31), False),
        (dt.date(2018, 1, 1), True),
        (dt.date(2018, 2, 15), True),
        (dt.date(2018, 2, 16), False),
    ],
)
def test_a_date_outside_the_campaign_is_refused(
    ledger: LedgerWorld, paid_on: dt.date, accepted: bool
) -> None:
    data = help_input(ledger.wang, paid_on=paid_on)
    if accepted:
        assert ledger.add(data).paid_on == paid_on
    else:
        error = refusal(ledger, data)
        assert codes(error) == {"date-outside"} and "2018-01-01" in error.message


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"item": "fireworks"}, "unknown-item"),
        ({"source": "lottery"}, "unknown-source"),
        ({"channel": "wechat"}, "unknown-channel"),
    ],
)
def test_unknown_item_source_or_channel_is_refused(
    ledger: LedgerWorld, changes: dict[str, str], code: str
) -> None:
    error = refusal(ledger, help_input(ledger.wang, **changes))
    assert code in codes(error) and next(iter(changes.values())) in error.message


def test_a_cost_too_large_for_the_ledger_is_refused_not_a_traceback(ledger: LedgerWorld) -> None:
    data = help_input(
        ledger.wang, item="medical", source="union", amount=D("100"), cost_basis=D("1000000000000")
    )
    with pytest.raises(LedgerError) as refused:
        ledger.add(data)
    assert "bad-amount" in codes(refused.value)
    assert not HelpRecord.objects.filter(household=ledger.wang).exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": None}, "no-amount"),
        ({"amount": D("0")}, "bad-amount"),
        ({"amount": D("-5")}, "bad-amount"),
        ({"amount": D("10.005")}, "bad-amount"),
        ({"amount": D("100"), "goods_value": D("-1"), "goods_description": "米"}, "bad-amount"),
    ],
)
def test_bad_amounts_are_refused(ledger: LedgerWorld, changes: dict[str, Any], code: str) -> None:
    assert code in codes(refusal(ledger, help_input(ledger.wang, **changes)))


def test_goods_need_a_description(ledger: LedgerWorld) -> None:
    data = help_input(ledger.wang, source="union", channel=Channel.GOODS, amount=None, goods_value=D("300"))
    assert codes(refusal(ledger, data)) == {"no-goods"}
    data.goods_description, data.goods_quantity = "棉被", D("2")
    record = ledger.add(data)
    assert record.amount is None and record.value == D("300.00") and record.card_number == ""


# --- a refusal in the history ------------------------------------------------------------------------------


def test_a_refused_attempt_leaves_its_values_masked_in_the_history_and_nothing_else(
    ledger: LedgerWorld,
) -> None:
    number = new_id_number()
    error = refusal(ledger, person(source="central", id_number=number, card_number=card(), amount=D("800")))
    event = LedgerEvent.objects.latest("pk")
    assert event.action == LedgerEvent.Action.REFUSED
    assert event.user == ledger.world.users["county_reporter"]
    assert event.unit == ledger.world.county and event.campaign == ledger.world.campaign
    assert event.record is None and event.old == {}
    assert event.new["id_number"] == mask_id_number(number)
    assert number not in str(event.new) and number not in event.note
    assert event.new["name"] == "孙师傅" and event.new["amount"] in ("800", "800.00")
    assert event.new["source"] == "central" and event.new["recipient_kind"] == Kind.PERSON
    assert event.note == error.message and "孙师傅" in event.note and "依档帮扶" in event.note


def test_an_accepted_record_is_in_the_history_with_its_values(ledger: LedgerWorld) -> None:
    before = LedgerEvent.objects.count()
    record = ledger.add(help_input(ledger.wang))
    assert LedgerEvent.objects.count() == before + 1
    event = LedgerEvent.objects.get(record=record)
    assert (
        event.action == LedgerEvent.Action.RECORD_ADDED
        and event.user == ledger.world.users["county_reporter"]
    )
    assert event.old == {} and event.new["name"] == "王建国" and event.new["state"] == HelpRecord.State.DRAFT
    assert event.new["amount"] in ("1000", "1000.00")
