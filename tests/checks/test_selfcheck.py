"""The self-check (自查, `songnuan.checks.selfcheck`): each rule with a record that breaks it and one that
does not, one ledger with planted breaches that the scan finds exactly, who may run and answer, and the
answers refused. Breaches the services would refuse are written with `HelpRecord.objects.create`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from songnuan.archive.idnumbers import mask_id_number
from songnuan.archive.models import Household, Plan
from songnuan.campaigns.models import Campaign
from songnuan.checks import selfcheck
from songnuan.checks.models import Finding, SelfCheck, SelfCheckEvent
from songnuan.checks.selfcheck import Breach, Scope, SelfCheckError
from songnuan.ledger.models import BatchLine, FundSource, HelpItem, HelpRecord, PaymentBatch
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from tests.ledger.ledgerworld import CHINA, LedgerWorld, build_ledger_world, household, new_id_number
from tests.world import World

EVIDENCE = "ledger/evidence/2018/签收表.jpg"
CARD = "6222020200112233445"


@pytest.fixture
def ledger(world: World) -> LedgerWorld:
    return build_ledger_world(world)


def record(ledger: LedgerWorld, target: Household | None = None, **fields: Any) -> HelpRecord:
    """An approved card payment of 800 yuan of 生活救助 from central money to `target` on 2018-01-25, with
    evidence, written directly (the services would refuse most breaches), changed by `fields`."""
    world = ledger.world
    values: dict[str, Any] = {
        "campaign": world.campaign,
        "unit": world.county,
        "recipient_kind": HelpRecord.RecipientKind.HOUSEHOLD,
        "household": target,
        "name": target.head_name if target else "",
        "id_number": target.head_id_number if target else "",
        "item": HelpItem.objects.get(code=fields.pop("item", "living")),
        "source": FundSource.objects.get(code=fields.pop("source", "central")),
        "amount": Decimal("800.00"),
        "channel": HelpRecord.Channel.UNION_CARD,
        "paid_on": dt.date(2018, 1, 25),
        "state": HelpRecord.State.APPROVED,
        "entered_by": world.users["county_reporter"],
        "approved_by": world.users["county_reviewer"],
        "evidence": EVIDENCE,
    }
    values.update(fields)
    return HelpRecord.objects.create(**values)


def person(ledger: LedgerWorld, name: str = "刘洋", **fields: Any) -> HelpRecord:
    values: dict[str, Any] = {
        "recipient_kind": HelpRecord.RecipientKind.PERSON,
        "name": name,
        "id_number": new_id_number(),
        "person_category": HelpRecord.PersonCategory.FRONTLINE,
    }
    values.update(fields)
    return record(ledger, None, **values)


def reversal(ledger: LedgerWorld, original: HelpRecord) -> HelpRecord:
    return record(
        ledger,
        original.household,
        name=original.name,
        id_number=original.id_number,
        recipient_kind=original.recipient_kind,
        source=original.source.code,
        item=original.item.code,
        amount=-(original.amount or Decimal(0)),
        reverses=original,
        paid_on=dt.date(2018, 2, 1),
    )


def plan(target: Household, **changes: Any) -> Plan:
    values: dict[str, Any] = {
        "contact": "东宝区总工会 李红",
        "deadline": dt.date(2019, 12, 31),
        "measures": "推荐公益性岗位",
        "path": Household.OutPath.EMPLOYMENT,
    }
    values.update(changes)
    made, _created = Plan.objects.update_or_create(household=target, defaults=values)
    return made


def found(
    family: Callable[[Scope], list[Breach]], ledger: LedgerWorld, unit: Unit | None = None
) -> set[tuple[str, tuple[tuple[str, int], ...]]]:
    breaches = family(Scope(ledger.world.campaign, unit or ledger.world.county))
    return {(breach.code, breach.record_ids) for breach in breaches}


def helps(*records: HelpRecord) -> tuple[tuple[str, int], ...]:
    return tuple(("help", r.pk) for r in records)


def files(*households: Household) -> tuple[tuple[str, int], ...]:
    return tuple(("household", h.pk) for h in households)


# --- the rules as data --------------------------------------------------------------------------------------


def test_the_rules_are_read_from_the_data_file() -> None:
    rules = selfcheck.configured_rules()
    assert len(rules) == 14
    assert all(code == code.lower() and " " not in code for code in rules)
    assert rules["phone-shared"].thresholds == {"households": 3}
    assert rules["review-stale"].thresholds == {"days": 365}
    assert rules["bound-unfiled"].title == "中央和省级帮扶资金发给未建档对象"
    family_codes = {code for _family, codes in selfcheck.FAMILIES for code in codes}
    assert family_codes == set(rules)


# --- 依档帮扶 -----------------------------------------------------------------------------------------------


def test_bound_money_to_a_person_or_an_unfiled_household_is_found(ledger: LedgerWorld) -> None:
    to_person = person(ledger)
    to_applicant = record(ledger, ledger.zhao)
    person(ledger, "陈静", source="union")  # union money may go to anyone
    record(ledger, ledger.wang)  # filed 2017-12-01
    assert found(selfcheck.scan_archive_first, ledger) == {
        ("bound-unfiled", helps(to_person)),
        ("bound-unfiled", helps(to_applicant)),
    }


def test_bound_money_before_the_filing_is_found_by_the_date_in_china(ledger: LedgerWorld) -> None:
    # Filed at 00:30 on 20 January in China: still 19 January in UTC.
    ledger.li.filed_at = dt.datetime(2018, 1, 20, 0, 30, tzinfo=CHINA)
    ledger.li.save(update_fields=["filed_at"])
    early = record(ledger, ledger.li, paid_on=dt.date(2018, 1, 19))
    record(ledger, ledger.li, paid_on=dt.date(2018, 1, 20), item="visit")  # the filing day itself is fine
    breaches = selfcheck.scan_archive_first(Scope(ledger.world.campaign, ledger.world.county))
    assert [(b.code, b.record_ids) for b in breaches] == [("bound-filed-late", helps(early))]
    message = breaches[0].message
    assert "2018-01-20" in message and "李秀英" in message and f"发放记录 {early.pk}" in message
    assert ledger.li.head_id_number not in message
    assert mask_id_number(ledger.li.head_id_number) in message


def test_bound_money_on_or_after_the_file_ended_is_found(ledger: LedgerWorld) -> None:
    on_the_day = record(ledger, ledger.zhang, paid_on=dt.date(2018, 1, 10))  # closed 2018-01-10
    record(ledger, ledger.zhang, paid_on=dt.date(2018, 1, 9), item="visit")
    record(ledger, ledger.zhang, paid_on=dt.date(2018, 1, 12), source="union", item="other")
    assert found(selfcheck.scan_archive_first, ledger) == {("bound-file-ended", helps(on_the_day))}


# --- cash ---------------------------------------------------------------------------------------------------


def test_cash_from_a_bound_source_and_cash_without_a_reason_are_found(ledger: LedgerWorld) -> None:
    cash = HelpRecord.Channel.CASH
    bound = record(ledger, ledger.wang, channel=cash, cash_reason="行动不便")
    no_reason = record(ledger, ledger.wang, source="union", item="visit", channel=cash)
    blank_reason = record(ledger, ledger.wang, source="union", item="other", channel=cash, cash_reason="  ")
    record(ledger, ledger.wang, source="union", item="legal", channel=cash, cash_reason="无银行卡")
    record(ledger, ledger.wang, item="medical", cost_basis=Decimal(900))  # a card payment
    assert found(selfcheck.scan_cash, ledger) == {
        ("cash-bound", helps(bound)),
        ("cash-no-reason", helps(no_reason)),
        ("cash-no-reason", helps(blank_reason)),
    }


# --- repeats ------------------------------------------------------------------------------------------------


def test_the_same_household_helped_twice_for_one_item_is_one_finding(ledger: LedgerWorld) -> None:
    first = record(ledger, ledger.wang)
    second = record(ledger, ledger.wang, paid_on=dt.date(2018, 2, 1), unit=ledger.world.enterprise)
    record(ledger, ledger.wang, item="visit")  # another item
    record(ledger, ledger.li)
    record(ledger, ledger.li, state=HelpRecord.State.DRAFT)  # a draft does not count
    reversal(ledger, record(ledger, ledger.zhao, source="union"))
    record(ledger, ledger.zhao, source="union")  # paid again after the first was reversed: fine
    breaches = selfcheck.scan_repeats(Scope(ledger.world.campaign, ledger.world.county))
    assert [(b.code, b.record_ids) for b in breaches] == [
        ("repeat-item", files(ledger.wang) + helps(first, second))
    ]
    assert breaches[0].unit_id == ledger.world.county.pk  # the county and the enterprise below it


# --- caps ---------------------------------------------------------------------------------------------------


def test_payments_over_the_per_payment_caps_are_found(ledger: LedgerWorld) -> None:
    over_fixed = record(ledger, ledger.wang, item="visit", source="union", amount=Decimal("3000.01"))
    record(ledger, ledger.li, item="visit", source="union", amount=Decimal("3000.00"))
    # 子女助学: the 低保 line × 10 (600 × 10); 医疗救助: the out-of-pocket cost.
    over_line = record(ledger, ledger.li, item="schooling", amount=Decimal("6000.50"))
    record(ledger, ledger.wang, item="schooling", amount=Decimal("6000.00"))
    over_cost = record(ledger, ledger.wang, item="medical", amount=Decimal("1200"), cost_basis=Decimal(1000))
    record(ledger, ledger.li, item="medical", amount=Decimal("1000"), cost_basis=Decimal(1000))
    goods = record(ledger, ledger.zhao, item="visit", source="union", amount=None, goods_value=Decimal(3100))
    enterprise = record(
        ledger,
        None,
        recipient_kind=HelpRecord.RecipientKind.ENTERPRISE,
        name="东宝区某困难企业",
        enterprise_kind=HelpRecord.EnterpriseKind.NEEDY,
        item="visit",
        source="union",
        amount=Decimal(5000),
    )
    assert enterprise.pk
    breaches = selfcheck.scan_caps(Scope(ledger.world.campaign, ledger.world.county))
    assert {(b.code, b.record_ids) for b in breaches} == {
        ("cap-payment", helps(over_fixed)),
        ("cap-payment", helps(over_line)),
        ("cap-payment", helps(over_cost)),
        ("cap-payment", helps(goods)),
    }
    assert any("3000" in b.message and "节日慰问" in b.message for b in breaches)


def test_a_households_yearly_total_over_the_cap_is_found_across_campaigns(ledger: LedgerWorld) -> None:
    world = ledger.world
    summer = Campaign.objects.create(
        title="2018年夏送清凉",
        owner=world.city,
        period_start=dt.date(2018, 6, 1),
        period_end=dt.date(2018, 8, 31),
        deadline=dt.date(2018, 9, 10),
    )
    visit = {"item": "visit", "source": "union"}
    record(ledger, ledger.wang, campaign=summer, paid_on=dt.date(2018, 7, 1), amount=Decimal(3000), **visit)
    ours = record(ledger, ledger.wang, amount=Decimal("3000.01"), paid_on=dt.date(2018, 1, 2), **visit)
    # 李秀英: 3,000 this January and 3,000 in the previous year's campaign-free December: two years.
    record(ledger, ledger.li, amount=Decimal(3000), **visit)
    record(ledger, ledger.li, campaign=summer, paid_on=dt.date(2017, 12, 20), amount=Decimal(3000), **visit)
    # 生活救助: the 低保 line × 12 × the household's size (600 × 12 × 3 = 21,600) a year.
    living = record(ledger, ledger.zhao, source="union", amount=Decimal("21600.01"))
    record(ledger, ledger.zhang, source="union", amount=Decimal("21600.00"))
    reversal(ledger, record(ledger, ledger.zhang, source="union", item="visit", amount=Decimal(2000)))
    # 张伟 is over the 慰问 cap by the summer's payments alone: this campaign paid him none of it (its one was
    # reversed), so the finding is not this campaign's.
    record(ledger, ledger.zhang, campaign=summer, paid_on=dt.date(2018, 7, 1), amount=Decimal(3001), **visit)
    breaches = selfcheck.scan_caps(Scope(world.campaign, world.county))
    assert {(b.code, b.record_ids) for b in breaches} == {
        ("cap-payment", helps(ours)),
        ("cap-year", files(ledger.wang) + helps(ours)),
        ("cap-year", files(ledger.zhao) + helps(living)),
    }
    year = next(b for b in breaches if b.code == "cap-year" and ("household", ledger.wang.pk) in b.record_ids)
    assert "6000.01" in year.message and "6000" in year.message


# --- cards and phones ---------------------------------------------------------------------------------------


def test_one_card_for_several_households_is_found(ledger: LedgerWorld) -> None:
    wang = record(ledger, ledger.wang, card_number=CARD)
    li = record(ledger, ledger.li, card_number=CARD, unit=ledger.world.enterprise)
    record(ledger, ledger.zhao, card_number="6222020200112233452")
    record(ledger, ledger.zhao, card_number="6222020200112233452", item="visit")  # the same household
    breaches = selfcheck.scan_cards(Scope(ledger.world.campaign, ledger.world.county))
    assert [(b.code, b.record_ids) for b in breaches] == [
        ("card-shared", files(ledger.wang, ledger.li) + helps(wang, li))
    ]
    assert CARD not in breaches[0].message and CARD[-4:] in breaches[0].message


def test_one_phone_on_three_helped_households_is_found(ledger: LedgerWorld) -> None:
    world = ledger.world
    for target in (ledger.wang, ledger.li, ledger.zhao, ledger.zhang):
        record(ledger, target)
    Household.objects.filter(pk__in=[ledger.wang.pk, ledger.li.pk, ledger.zhao.pk]).update(
        phone="13800001111"
    )
    below = household(world, "孙丽", unit=world.enterprise)  # on file, not helped in the campaign
    Household.objects.filter(pk__in=[ledger.zhang.pk, below.pk]).update(phone="13900002222")
    breaches = selfcheck.scan_phones(Scope(world.campaign, world.county))
    assert [(b.code, b.record_ids) for b in breaches] == [
        ("phone-shared", files(ledger.wang, ledger.li, ledger.zhao))
    ]
    assert "13800001111" not in breaches[0].message and "1111" in breaches[0].message
    Household.objects.filter(pk=ledger.zhao.pk).update(phone="")
    assert found(selfcheck.scan_phones, ledger) == set()


def test_a_phone_shared_by_files_the_campaign_did_not_help_is_not_the_campaigns_finding(
    ledger: LedgerWorld,
) -> None:
    """The rule reads the campaign's records, never the whole archive: three files with one phone, only one
    of them helped, are not a finding of this campaign's self-check."""
    record(ledger, ledger.wang)
    Household.objects.filter(pk__in=[ledger.wang.pk, ledger.li.pk, ledger.zhao.pk]).update(
        phone="13800001111"
    )
    assert found(selfcheck.scan_phones, ledger) == set()
    reversal(ledger, record(ledger, ledger.li))
    record(ledger, ledger.zhao)
    assert found(selfcheck.scan_phones, ledger) == set()  # li's payment was reversed: two helped


# --- evidence and the bank ----------------------------------------------------------------------------------


def test_records_without_evidence_are_found(ledger: LedgerWorld) -> None:
    bare = record(ledger, ledger.wang, evidence="")
    record(ledger, ledger.li)
    record(ledger, ledger.li, item="visit", evidence="", state=HelpRecord.State.DRAFT)
    assert found(selfcheck.scan_evidence, ledger) == {("no-evidence", helps(bare))}


def batch(
    ledger: LedgerWorld, state: str = PaymentBatch.State.RECONCILED, number: str = "DB-1"
) -> PaymentBatch:
    world = ledger.world
    return PaymentBatch.objects.create(
        campaign=world.campaign,
        unit=world.county,
        number=number,
        state=state,
        created_by=world.users["county_reviewer"],
    )


def line(of: PaymentBatch, paid: HelpRecord, amount: str, outcome: str = BatchLine.Outcome.PAID) -> BatchLine:
    return BatchLine.objects.create(
        batch=of,
        record=paid,
        seq=of.lines.count() + 1,
        name=paid.name,
        card_number=CARD,
        amount=Decimal(amount),
        outcome=outcome,
    )


def test_a_bank_line_paid_with_another_amount_is_found(ledger: LedgerWorld) -> None:
    reconciled = batch(ledger)
    differs = record(ledger, ledger.wang, card_number=CARD)
    line(reconciled, differs, "700.00")
    line(reconciled, record(ledger, ledger.li, card_number=CARD), "800.00")
    line(
        reconciled,
        record(ledger, ledger.zhao, source="union", card_number=CARD),
        "750.00",
        BatchLine.Outcome.FAILED,
    )
    line(
        batch(ledger, PaymentBatch.State.CANCELLED, "DB-2"), record(ledger, ledger.wang, item="visit"), "1.00"
    )
    breaches = selfcheck.scan_bank(Scope(ledger.world.campaign, ledger.world.county))
    assert [(b.code, b.record_ids) for b in breaches] == [("bank-amount-differs", helps(differs))]
    assert "DB-1" in breaches[0].message and "700.00" in breaches[0].message


# --- the files of the households helped ---------------------------------------------------------------------


def test_a_household_not_reviewed_in_the_year_before_its_payment_is_found(ledger: LedgerWorld) -> None:
    Household.objects.filter(pk=ledger.wang.pk).update(
        last_reviewed_at=dt.datetime(2016, 12, 1, 10, tzinfo=CHINA)
    )
    # 358 days before the payment: within the year, though before the campaign's end less a year.
    Household.objects.filter(pk=ledger.li.pk).update(
        last_reviewed_at=dt.datetime(2017, 2, 1, 10, tzinfo=CHINA)
    )
    # Never reviewed: the filing counts.
    Household.objects.filter(pk=ledger.zhao.pk).update(
        status=Household.Status.FILED,
        filed_at=dt.datetime(2016, 6, 1, 10, tzinfo=CHINA),
        last_reviewed_at=None,
    )
    for target in (ledger.wang, ledger.li, ledger.zhao):
        plan(target)
    stale = record(ledger, ledger.wang, source="union")
    record(ledger, ledger.li, source="union")
    never = record(ledger, ledger.zhao, source="union")
    record(ledger, ledger.zhang, source="union", item="visit")  # closed: no longer reviewed
    breaches = selfcheck.scan_files(Scope(ledger.world.campaign, ledger.world.county))
    assert {(b.code, b.record_ids) for b in breaches} == {
        ("review-stale", files(ledger.wang) + helps(stale)),
        ("review-stale", files(ledger.zhao) + helps(never)),
    }


@pytest.mark.parametrize(
    ("part", "blank", "named"),
    [("contact", "", "联系人"), ("deadline", None, "期限"), ("measures", "", "措施"), ("path", "", "路径")],
)
def test_a_filed_household_helped_without_a_complete_plan_is_found(
    ledger: LedgerWorld, part: str, blank: Any, named: str
) -> None:
    plan(ledger.wang)
    plan(ledger.li, **{part: blank})
    paid_wang = record(ledger, ledger.wang, source="union")
    paid_li = record(ledger, ledger.li, source="union")
    below = household(ledger.world, "孙丽", unit=ledger.world.enterprise)
    paid_below = record(ledger, below, source="union", unit=ledger.world.enterprise)
    record(ledger, ledger.zhao, source="union")  # applied, not filed
    breaches = selfcheck.scan_files(Scope(ledger.world.campaign, ledger.world.county))
    assert paid_wang.pk
    assert {(b.code, b.record_ids, b.unit_id) for b in breaches} == {
        ("no-plan", files(ledger.li) + helps(paid_li), ledger.world.county.pk),
        ("no-plan", files(below) + helps(paid_below), ledger.world.enterprise.pk),
    }
    li = next(b for b in breaches if ("household", ledger.li.pk) in b.record_ids)
    assert named in li.message
    assert not any(other in li.message for other in ("联系人", "期限", "措施", "路径") if other != named)


# --- one ledger, every breach planted -----------------------------------------------------------------------


def test_the_scan_finds_exactly_the_planted_breaches(ledger: LedgerWorld) -> None:
    world = ledger.world
    below = household(world, "孙丽", unit=world.enterprise)
    for target in (ledger.wang, ledger.li, below):
        plan(target)
    Household.objects.filter(pk__in=[ledger.wang.pk, ledger.li.pk, ledger.zhao.pk]).update(
        phone="13800001111"
    )

    # Breaches.
    to_person = person(ledger)
    before_filing = record(ledger, ledger.li, paid_on=dt.date(2018, 1, 15))
    after_closing = record(ledger, ledger.zhang, paid_on=dt.date(2018, 1, 12))
    cash_bound = record(ledger, below, unit=world.enterprise, channel=HelpRecord.Channel.CASH)
    cash_no_reason = record(
        ledger, ledger.wang, source="union", item="other", channel=HelpRecord.Channel.CASH
    )
    first, second = record(ledger, ledger.wang), record(ledger, ledger.wang, paid_on=dt.date(2018, 2, 2))
    over_cap = record(
        ledger, ledger.wang, item="visit", source="union", amount=Decimal(3500), card_number=CARD
    )
    bare = record(
        ledger, ledger.li, item="visit", source="union", amount=Decimal(500), evidence="", card_number=CARD
    )
    line(batch(ledger), first, "700.00")
    record(ledger, ledger.zhao, source="union", item="other")  # the third helped household with that phone

    # Not breaches: a draft, a reversed payment and its reversal, another county's breach.
    person(ledger, "周强", state=HelpRecord.State.DRAFT)
    reversal(ledger, record(ledger, ledger.zhao))
    person(ledger, "吴刚", unit=world.sibling)
    line(batch(ledger, number="DB-2"), second, "800.00")

    check = selfcheck.self_check_run(
        user=world.users["county_reporter"], campaign=world.campaign, unit=world.county
    )
    stored = {(f.code, tuple((r["kind"], r["id"]) for r in f.records)) for f in check.findings.all()}
    assert stored == {
        ("bound-unfiled", helps(to_person)),
        ("bound-filed-late", helps(before_filing)),
        ("bound-file-ended", helps(after_closing)),
        ("cash-bound", helps(cash_bound)),
        ("cash-no-reason", helps(cash_no_reason)),
        ("repeat-item", files(ledger.wang) + helps(first, second)),
        ("cap-payment", helps(over_cap)),
        ("card-shared", files(ledger.wang, ledger.li) + helps(over_cap, bare)),
        ("phone-shared", files(ledger.wang, ledger.li, ledger.zhao)),
        ("no-evidence", helps(bare)),
        ("bank-amount-differs", helps(first)),
    }
    assert check.findings.get(code="cash-bound").unit_id == world.enterprise.pk
    assert check.summary["bound-unfiled"] == 1
    assert check.summary["review-stale"] == 0
    assert sum(v for k, v in check.summary.items() if k != "thresholds") == 11
    assert check.summary["thresholds"]["phone-shared"] == {"households": 3}
    assert check.summary["thresholds"]["review-stale"] == {"days": 365}
    assert check.summary["thresholds"]["caps"]["visit"] == {
        "basis": "fixed",
        "per_payment": "3000.00",
        "per_year": "6000.00",
    }
    identities = [h.head_id_number for h in (ledger.wang, ledger.li, ledger.zhao, ledger.zhang, below)]
    for finding in check.findings.all():
        assert not any(number in finding.message for number in identities)
        assert "13800001111" not in finding.message and CARD not in finding.message

    # The city's scan of its whole tree finds the sibling county's breach too.
    city = selfcheck.self_check_run(
        user=world.users["city_reviewer"], campaign=world.campaign, unit=world.city
    )
    assert city.summary["bound-unfiled"] == 2


def test_the_scan_asks_as_many_queries_for_many_records_as_for_a_few(ledger: LedgerWorld) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            selfcheck.scan(ledger.world.campaign, ledger.world.county)
        return len(captured)

    # A few records, one household helped twice (so each rule's second query — the records of what it found,
    # 500 households a query — runs in both cases).
    for target in (ledger.wang, ledger.li, ledger.wang):
        record(
            ledger, target, evidence="", channel=HelpRecord.Channel.CASH, item="visit", amount=Decimal(9000)
        )
    few = queries()
    for target in (ledger.wang, ledger.li, ledger.zhang, ledger.zhao) * 5:
        record(
            ledger, target, evidence="", channel=HelpRecord.Channel.CASH, item="visit", amount=Decimal(9000)
        )
        person(ledger, evidence="", channel=HelpRecord.Channel.CASH)
    assert queries() == few


# --- who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "unit", "allowed"),
    [
        ("county_reporter", "county", True),
        ("county_reviewer", "county", True),
        ("city_reviewer", "county", True),
        ("city_admin", "enterprise", True),
        ("enterprise_reporter", "enterprise", True),
        ("enterprise_reporter", "county", False),
        ("county_reporter", "enterprise", False),  # a reporter sees its own unit only
        ("sibling_reporter", "county", False),
        ("county_reviewer", "city", False),
    ],
)
def test_who_may_run_a_self_check(ledger: LedgerWorld, username: str, unit: str, allowed: bool) -> None:
    world = ledger.world
    target: Unit = getattr(world, unit)
    if allowed:
        check = selfcheck.self_check_run(user=world.users[username], campaign=world.campaign, unit=target)
        assert check.unit == target and check.run_by == world.users[username]
    else:
        with pytest.raises(PermissionDenied):
            selfcheck.self_check_run(user=world.users[username], campaign=world.campaign, unit=target)
        assert not SelfCheck.objects.exists()


def _one_finding(ledger: LedgerWorld) -> Finding:
    record(ledger, ledger.wang, evidence="")
    plan(ledger.wang)
    world = ledger.world
    check = selfcheck.self_check_run(
        user=world.users["county_reviewer"], campaign=world.campaign, unit=world.county
    )
    return check.findings.get()


@pytest.mark.parametrize("username", ["county_reporter", "county_reviewer", "city_admin"])
def test_the_unit_and_the_reviewers_above_answer_a_finding(ledger: LedgerWorld, username: str) -> None:
    finding = _one_finding(ledger)
    user = ledger.world.users[username]
    answered = selfcheck.finding_answer(
        user=user, finding=finding, state="explained", answer="  签收表已补传  "
    )
    assert (answered.state, answered.answer, answered.answered_by) == ("explained", "签收表已补传", user)
    assert answered.answered_at is not None
    summary = selfcheck.latest_summary(ledger.world.campaign, ledger.world.county)
    assert summary is not None and summary.open == 0 and summary.total == 1


def test_a_run_and_every_answer_leave_an_audit_row_and_a_second_answer_keeps_the_first(
    ledger: LedgerWorld,
) -> None:
    finding = _one_finding(ledger)
    world = ledger.world
    run = SelfCheckEvent.objects.get(self_check=finding.self_check)
    assert (run.action, run.user, run.new["findings"]) == (
        SelfCheckEvent.Action.RUN,
        world.users["county_reviewer"],
        "1",
    )
    selfcheck.finding_answer(
        user=world.users["county_reporter"], finding=finding, state="explained", answer="签收表在档案室"
    )
    selfcheck.finding_answer(
        user=world.users["city_admin"], finding=finding, state="corrected", answer="签收表已补传"
    )
    answers = list(finding.events.order_by("at", "pk"))
    assert [(e.user.username, e.old, e.new) for e in answers] == [
        (
            "county_reporter",
            {"state": "open", "answer": ""},
            {"state": "explained", "answer": "签收表在档案室"},
        ),
        (
            "city_admin",
            {"state": "explained", "answer": "签收表在档案室"},
            {"state": "corrected", "answer": "签收表已补传"},
        ),
    ]
    assert all(e.action == SelfCheckEvent.Action.ANSWERED and e.at is not None for e in answers)
    page = (
        world.client("county_reporter")
        .get(f"/checks/self/{world.campaign.pk}/{world.county.pk}/")
        .content.decode()
    )
    history = page[page.index('<details class="history">') :]
    assert "答复 2 次" in history
    assert history.index("签收表在档案室") < history.index("签收表已补传")  # oldest first


@pytest.mark.parametrize("username", ["sibling_reporter", "enterprise_reporter"])
def test_others_may_not_answer_a_finding(ledger: LedgerWorld, username: str) -> None:
    finding = _one_finding(ledger)
    with pytest.raises(PermissionDenied):
        selfcheck.finding_answer(
            user=ledger.world.users[username], finding=finding, state="corrected", answer="已改"
        )
    assert Finding.objects.get(pk=finding.pk).state == Finding.State.OPEN
    assert not finding.events.exists()


@pytest.mark.parametrize(
    ("state", "answer"), [("corrected", ""), ("explained", " \n "), ("open", "已改"), ("x", "已改")]
)
def test_a_blank_answer_or_an_unknown_state_is_refused(ledger: LedgerWorld, state: str, answer: str) -> None:
    finding = _one_finding(ledger)
    with pytest.raises(SelfCheckError) as refused:
        selfcheck.finding_answer(
            user=ledger.world.users["county_reporter"], finding=finding, state=state, answer=answer
        )
    assert refused.value.message and all(ord(c) > 127 or not c.isalpha() for c in refused.value.message)
    assert Finding.objects.get(pk=finding.pk).state == Finding.State.OPEN


def test_the_latest_summary_shows_the_last_run_with_the_rules_titles(ledger: LedgerWorld) -> None:
    world = ledger.world
    assert selfcheck.latest_summary(world.campaign, world.county) is None
    _one_finding(ledger)
    record(ledger, ledger.li, evidence="", item="visit")
    plan(ledger.li)
    selfcheck.self_check_run(user=world.users["county_reporter"], campaign=world.campaign, unit=world.county)
    summary = selfcheck.latest_summary(world.campaign, world.county)
    assert summary is not None
    assert summary.open == 2 and summary.total == 2
    assert ("no-evidence", "发放记录没有凭证", 2) in summary.counts
    assert [code for code, _title, _count in summary.counts] == list(selfcheck.configured_rules())
    assert summary.thresholds["phone-shared"] == {"households": 3}


# --- the root and another tree ------------------------------------------------------------------------------


def test_the_roots_scan_reads_every_unit_and_keeps_out_of_another_tree(ledger: LedgerWorld) -> None:
    """The one root's scan reads the campaign with no condition on units (so the database reads its records in
    order); once another root shares the system, the first root's scan keeps to its own tree."""
    world = ledger.world
    inside = person(ledger, unit=world.enterprise)  # bound money to a person: a breach
    assert Scope(world.campaign, world.city).whole_tree
    assert not Scope(world.campaign, world.county).whole_tree
    assert found(selfcheck.scan_archive_first, ledger, world.city) == {("bound-unfiled", helps(inside))}

    other = unit_create(name="宜昌市总工会", kind=Unit.Kind.CITY)
    outside = person(ledger, "郑明", unit=other)
    assert not Scope(world.campaign, world.city).whole_tree
    assert found(selfcheck.scan_archive_first, ledger, world.city) == {("bound-unfiled", helps(inside))}
    assert found(selfcheck.scan_archive_first, ledger, other) == {("bound-unfiled", helps(outside))}
