"""The demo city's relief ledger (帮扶台账) for the 2018 campaign: money raised and passed down, a few hundred
payments under the money rules (some attempts refused, visible in the history), approvals by a second person.

Everything goes through the ledger's services, so the history shows how each figure got there. The archive's
demo files are filed "today"; a payment of January 2018 needs a file filed before it (依档帮扶), so the
households paid here are given a filing date in 2017 first — but for a few filed in late January 2018, whose
earlier attempts the rule refuses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction

from songnuan.archive.models import Household
from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import get_form
from songnuan.ledger import activities, batches, services
from songnuan.ledger.models import Activity, FundSource, HelpRecord
from songnuan.orgs.models import Account, Unit
from songnuan.reporting.last_year import ledger_values
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.services import stored_values

CHINA = ZoneInfo("Asia/Shanghai")
#: Filed on this day, after the first payments of the campaign: their early attempts are refused.
LATE_FILING = dt.date(2018, 1, 20)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _money(campaign: Campaign, units: dict[str, Unit]) -> None:
    """The city raises central, provincial and union money and donations, and passes part of it down; the
    units below raise union money of their own."""
    sources = {source.code: source for source in FundSource.objects.all()}
    city, admin = units["city"], _user("city_admin")
    for code, amount, reference in (
        ("central", "400000", "全总财〔2017〕56号"),
        ("provincial", "120000", "鄂工财〔2017〕31号"),
        ("union", "200000", "荆工财〔2017〕12号"),
        ("donation", "60000", "市慈善总会捐赠"),
    ):
        services.receipt_add(
            user=admin,
            campaign=campaign,
            unit=city,
            source=sources[code],
            amount=Decimal(amount),
            received_on=dt.date(2018, 1, 3),
            reference=reference,
        )
    for key, central, union in (
        ("dongbao", "130000", "60000"),
        ("zhongxiang", "70000", "40000"),
        ("education", "50000", "30000"),
    ):
        for code, amount in (("central", central), ("union", union)):
            services.allocate(
                user=admin,
                campaign=campaign,
                giver=city,
                taker=units[key],
                source=sources[code],
                amount=Decimal(amount),
                on=dt.date(2018, 1, 5),
                reference="荆工财〔2018〕2号",
            )
    services.allocate(
        user=_user("dongbao_reporter"),
        campaign=campaign,
        giver=units["dongbao"],
        taker=units["dongbao-cement"],
        source=sources["central"],
        amount=Decimal("50000"),
        on=dt.date(2018, 1, 8),
        reference="东工〔2018〕1号",
    )
    for key, username, amount in (
        ("dongbao-cement", "cement_reporter", "40000"),
        ("education", "education_reporter", "12000"),
        ("zhongxiang", "zhongxiang_reporter", "25000"),
    ):
        services.receipt_add(
            user=_user(username),
            campaign=campaign,
            unit=units[key],
            source=sources["union"],
            amount=Decimal(amount),
            received_on=dt.date(2018, 1, 6),
            reference="本级工会经费",
        )


def _filing_dates(rng: random.Random, households: list[Household]) -> list[Household]:
    """Give the demo's filed households a filing date in 2017 (a few in late January 2018): the ones filed
    late."""
    late = []
    for household in households:
        if rng.random() < 0.03:
            filed_on = LATE_FILING
            late.append(household)
        else:
            filed_on = dt.date(2017, 1, 1) + dt.timedelta(days=rng.randrange(330))
        household.filed_at = dt.datetime.combine(filed_on, dt.time(9, 30), tzinfo=CHINA)
    Household.objects.bulk_update(households, ["filed_at"])
    return late


def _payment(
    rng: random.Random, household: Household, *, source: str, paid_on: dt.date, item: str = "visit"
) -> services.HelpInput:
    amount = Decimal(rng.choice((500, 800, 1000, 1000, 1200, 1500, 2000)))
    return services.HelpInput(
        recipient_kind=HelpRecord.RecipientKind.HOUSEHOLD,
        household_id=household.pk,
        item=item,
        source=source,
        channel=HelpRecord.Channel.UNION_CARD,
        paid_on=paid_on,
        amount=amount,
    )


@transaction.atomic
def load_demo_ledger(campaign: Campaign, seed: int = 2018) -> int:
    """The ledger of `campaign` (the 2018 demo campaign); returns the number of help records."""
    rng = random.Random(seed)
    units = {
        key: Unit.objects.get(name=name)
        for key, name in (
            ("city", "荆门市总工会"),
            ("dongbao", "东宝区总工会"),
            ("zhongxiang", "钟祥市总工会"),
        )
    }
    reporters = {
        account.unit_id: account.user
        for account in Account.objects.filter(role=Account.Role.REPORTER).select_related("user", "unit")
    }
    for account in Account.objects.filter(role=Account.Role.REPORTER).select_related("unit"):
        key = {
            "cement_reporter": "dongbao-cement",
            "education_reporter": "education",
        }.get(account.user.username)
        if key:
            units[key] = account.unit
    _money(campaign, units)
    approver = _user("city_reviewer")
    filed = list(
        Household.objects.filter(
            status__in=[Household.Status.FILED, Household.Status.OUT, Household.Status.CLOSED]
        )
        .exclude(filed_at=None)
        .order_by("pk")
    )
    late = set(_filing_dates(rng, filed))
    records = 0
    for household in filed:
        reporter = reporters.get(household.unit_id)
        if reporter is None:
            continue
        source = "central" if rng.random() < 0.7 else "union"
        paid_on = dt.date(2018, 1, 10) + dt.timedelta(days=rng.randrange(30))
        if household in late:
            # Tried before the file existed: refused (the history keeps the attempt), paid after filing.
            with contextlib.suppress(services.LedgerError):
                services.help_record_add(
                    user=reporter,
                    campaign=campaign,
                    unit=household.unit,
                    data=_payment(rng, household, source="central", paid_on=dt.date(2018, 1, 12)),
                )
            paid_on = dt.date(2018, 1, 28)
        try:
            record = services.help_record_add(
                user=reporter,
                campaign=campaign,
                unit=household.unit,
                data=_payment(rng, household, source=source, paid_on=paid_on),
            )
        except services.LedgerError:
            continue  # the unit's money ran out: the refusal is in its history
        records += 1
        if rng.random() < 0.9:
            services.help_record_approve(user=approver, record=record)
        if rng.random() < 0.12:  # schooling help for a child, from union money
            try:
                extra = services.help_record_add(
                    user=reporter,
                    campaign=campaign,
                    unit=household.unit,
                    data=_payment(rng, household, source="union", paid_on=paid_on, item="schooling"),
                )
            except services.LedgerError:
                continue
            records += 1
            services.help_record_approve(user=approver, record=extra)
    _cash_and_goods(campaign, units, reporters, approver)
    return records


def _cash_and_goods(
    campaign: Campaign, units: dict[str, Unit], reporters: dict[int, User], approver: User
) -> None:
    """A cash payment from union money with its reason, goods to an enterprise, and a refused attempt to pay
    central money in cash."""
    county = units["dongbao"]
    reporter = reporters[county.pk]
    household = Household.objects.filter(unit=county, status=Household.Status.FILED).order_by("pk").first()
    if household is None:
        return
    attempts = [
        services.HelpInput(
            recipient_kind=HelpRecord.RecipientKind.HOUSEHOLD,
            household_id=household.pk,
            item="visit",
            source="central",
            channel=HelpRecord.Channel.CASH,
            paid_on=dt.date(2018, 2, 2),
            amount=Decimal("800"),
        ),
        services.HelpInput(
            recipient_kind=HelpRecord.RecipientKind.HOUSEHOLD,
            household_id=household.pk,
            item="living",
            source="union",
            channel=HelpRecord.Channel.CASH,
            cash_reason="户主住院，家属无银行卡，经单位集体研究现场发放并签收",
            paid_on=dt.date(2018, 2, 2),
            amount=Decimal("600"),
        ),
        services.HelpInput(
            recipient_kind=HelpRecord.RecipientKind.ENTERPRISE,
            name="东宝区荆楚纺织有限公司",
            credit_code="91420802MA4KXXXX1T",
            enterprise_kind=HelpRecord.EnterpriseKind.CAPACITY_CUT,
            item="visit",
            source="union",
            channel=HelpRecord.Channel.GOODS,
            goods_description="棉被、食用油、大米",
            goods_quantity=Decimal("120"),
            goods_value=Decimal("9600"),
            paid_on=dt.date(2018, 1, 30),
        ),
    ]
    for data in attempts:
        try:
            record = services.help_record_add(user=reporter, campaign=campaign, unit=county, data=data)
        except services.LedgerError:
            continue
        services.help_record_approve(user=approver, record=record)


def _activity(user: User, campaign: Campaign, unit: Unit, kind: str, on: dt.date, **fields: Any) -> None:
    activities.activity_add(
        user=user, campaign=campaign, unit=unit, data=activities.ActivityInput(kind=kind, on=on, **fields)
    )


@transaction.atomic
def load_demo_activities(campaign: Campaign) -> None:
    """What the city and 东宝区 did besides paying: visits, a 联帮促 team and its visits, services, migrant
    workers' trips home, tickets and windows, an employer's subsidy, outdoor workers' stations and their
    services, media reports."""
    city, county = Unit.objects.get(name="荆门市总工会"), Unit.objects.get(name="东宝区总工会")
    admin, reporter = _user("city_admin"), _user("dongbao_reporter")
    K = Activity.Kind
    day = dt.date(2018, 1, 18)
    households = list(
        Household.objects.filter(unit__path__startswith=county.path, status=Household.Status.FILED)[:4]
    )
    team = activities.team_create(
        user=admin,
        campaign=campaign,
        unit=city,
        data=activities.TeamInput(
            name="市总第一联帮促工作组",
            leader="市总工会党组书记",
            members="权益保障部、财务部各1人",
            linked_places="东宝区",
            linked_enterprises="荆门石化总厂、东宝区荆楚纺织有限公司",
            household_ids=[h.pk for h in households],
        ),
    )
    for household in households:
        _activity(
            admin,
            campaign,
            city,
            K.VISIT_HOUSEHOLD,
            day,
            people=1,
            household_id=household.pk,
            team_id=team.pk,
        )
    _activity(
        admin,
        campaign,
        city,
        K.VISIT_ENTERPRISE,
        day,
        subkind="capacity-cut",
        quantity=3,
        place="荆门石化总厂等",
    )
    _activity(
        admin, campaign, city, K.VISIT_FRONTLINE, dt.date(2018, 2, 8), people=320, place="环卫、公交一线"
    )
    _activity(admin, campaign, city, K.VISIT_TALENT, dt.date(2018, 2, 9), people=45, title="看望工匠劳模")
    _activity(
        admin,
        campaign,
        city,
        K.MEDIA,
        dt.date(2018, 1, 20),
        subkind="provincial",
        place="湖北日报",
        title="荆门工会送温暖到一线",
        link="https://example.org/hbrb/2018/0120",
    )
    _activity(
        admin,
        campaign,
        city,
        K.MEDIA,
        dt.date(2018, 1, 22),
        subkind="local",
        place="荆门日报",
        title="联帮促工作组走进困难家庭",
    )
    _activity(
        admin,
        campaign,
        city,
        K.MEDIA,
        dt.date(2018, 2, 1),
        subkind="exhibition",
        place="市工人文化宫",
        title="维护职工权益工作成果展",
    )
    station = activities.station_register(
        user=reporter,
        unit=county,
        data=activities.StationInput(
            name="东宝区象山户外劳动者驿站",
            address="象山大道1号",
            opened_on=dt.date(2017, 6, 1),
            operator="东宝区环卫处",
        ),
    )
    activities.station_register(
        user=reporter,
        unit=county,
        data=activities.StationInput(
            name="东宝区龙泉户外劳动者驿站", address="龙泉北路18号", opened_on=dt.date(2017, 9, 1)
        ),
    )
    _activity(
        reporter,
        campaign,
        county,
        K.STATION_SERVICE,
        dt.date(2018, 1, 25),
        station_id=station.pk,
        people=860,
        amount=Decimal("4300"),
    )
    _activity(
        reporter,
        campaign,
        county,
        K.RETURN_TRIP,
        dt.date(2018, 2, 10),
        subkind="coach",
        quantity=6,
        people=270,
        place="东宝区—恩施",
    )
    _activity(
        reporter,
        campaign,
        county,
        K.RETURN_TRIP,
        dt.date(2018, 2, 11),
        subkind="carriage",
        quantity=2,
        people=236,
        place="荆门—重庆北",
    )
    _activity(reporter, campaign, county, K.TICKETS, dt.date(2018, 2, 5), quantity=140)
    _activity(
        reporter,
        campaign,
        county,
        K.TICKET_WINDOW,
        dt.date(2018, 1, 26),
        place="东宝区职工服务中心",
        quantity=1,
    )
    _activity(
        reporter,
        campaign,
        county,
        K.EMPLOYER_SUBSIDY,
        dt.date(2018, 2, 6),
        amount=Decimal("36000"),
        people=120,
        place="东宝区恒力水泥有限公司",
    )
    _activity(
        reporter,
        campaign,
        county,
        K.SERVICE,
        dt.date(2018, 1, 30),
        subkind="health",
        people=210,
        title="免费体检",
    )
    _activity(reporter, campaign, county, K.POLICY, dt.date(2018, 1, 16), people=85, title="送政策到户")
    _activity(
        reporter,
        campaign,
        county,
        K.WAGES,
        dt.date(2018, 1, 24),
        people=32,
        amount=Decimal("268000"),
        place="某建筑工地",
    )


def load_demo_batch(campaign: Campaign) -> None:
    """东宝区's approved card payments sent to the bank in one batch, the bank's answer taken with one
    failure (a closed card) — which waits in the queue for the next batch."""
    county = Unit.objects.get(name="东宝区总工会")
    reviewer = _user("city_reviewer")
    batch = batches.batch_create(user=reviewer, campaign=campaign, unit=county, bank_format="standard")
    batches.batch_mark_sent(user=reviewer, batch=batch)
    rows = ["序号,姓名,卡号,金额,结果,失败原因"]
    for position, line in enumerate(batch.lines.order_by("seq")):
        failed = position == 2
        rows.append(
            f"{line.seq},{line.name},{line.card_number},{line.amount},"
            f"{'失败' if failed else '成功'},{'账户已销户' if failed else ''}"
        )
    answer = ("\r\n".join(rows) + "\r\n").encode("gbk")
    batches.batch_reconcile(
        user=reviewer, batch=batch, file_name=f"{batch.number}-回盘.csv", stream=io.BytesIO(answer)
    )


#: The one demo table whose figure differs from its ledger, so that the 与台账不符 warning is there to see:
#: 市教育工会's draft of 附件1 types 0.5 万元 more money handed out (4A) than its ledger holds.
LEDGER_DIFFERENCE = ("市教育工会", "warmth-2018", "4A", Decimal("0.5"))


#: Why a demo table hands out more than it raised (rule 4A.within-raised): the money passed down from above
#: counts as raised where it was raised (the city), and is handed out here.
SPENT_MORE_THAN_RAISED = "发放款物含市总工会下拨的帮扶资金，下拨资金计入市总的筹集总额，经核实无误"
_SUM_RULE = re.compile(r"(\w+) = (\w+(?: \+ \w+)*)")


def align_demo_tables(campaign: Campaign) -> int:
    """The demo's tables state what their units' ledgers derive, item by item wherever a unit keeps records of
    the kind (and last year's tables of those units the same figures, so the comparison with last year stays
    quiet) — an accepted table contradicting its own ledger would teach the wrong thing — but for
    `LEDGER_DIFFERENCE`. A total the ledger cannot derive becomes the sum of its parts again (its sum rule),
    and a table that now hands out more than it raised carries the unit's explanation. Returns the number of
    tables changed."""
    changed = 0
    for submission in Submission.objects.filter(campaign=campaign).select_related("unit"):
        form = get_form(submission.form_code)
        derived = {
            code: v for code, v in ledger_values(campaign, submission.unit, form).items() if v is not None
        }
        if not derived:
            continue  # a unit without a ledger: the ledger says nothing of its table
        unit_name, form_code, code, more = LEDGER_DIFFERENCE
        if (submission.unit.name, submission.form_code) == (unit_name, form_code) and code in derived:
            derived[code] = Decimal(derived[code]) + more
        tables = [submission]
        if campaign.previous_id is not None:
            tables += Submission.objects.filter(
                campaign_id=campaign.previous_id, unit=submission.unit, form_code=submission.form_code
            )
        for table in tables:
            values = {**stored_values(table), **derived}
            for rule in form.rules:  # in the file's order: a total's parts come before the totals made of it
                matched = _SUM_RULE.fullmatch(rule.check)
                if matched and form.item(matched[1]).derivation is None:
                    parts = [values.get(part) for part in matched[2].split(" + ")]
                    values[matched[1]] = sum((Decimal(v) for v in parts if v is not None), Decimal(0))
            for item, value in values.items():
                if value is not None and not isinstance(value, str):
                    SubmissionValue.objects.update_or_create(
                        submission=table, item=item, defaults={"number": Decimal(value), "text": ""}
                    )
            spent, raised = values.get("4A"), values.get("3A")
            if isinstance(spent, int | Decimal) and isinstance(raised, int | Decimal) and spent > raised:
                table.explanations = {
                    **table.explanations,
                    form.full_rule_id("4A.within-raised"): SPENT_MORE_THAN_RAISED,
                }
                table.save(update_fields=["explanations"])
            changed += 1
    return changed
