"""The demo city's checks (抽查与自查) of the 2018 campaign: a phone spot check by the city over its counties,
finished and published, with its rectification tasks in every state, and a self-check of the city's ledger
with one finding answered.

Everything goes through the checks' services (the check's history shows each call and answer) but for one
grant: `city_reviewer` gets the callers' permission, as the city's admin would give it on the admin site. The
calls' outcomes are drawn with a fixed seed from a fixed mix, so the demo is the same on every machine; the
demo ledger needs nothing planted for the self-check: its payments carry no evidence (签收表、照片), which the
self-check lists.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.utils import timezone

from songnuan.campaigns.models import Campaign
from songnuan.checks import rectification, selfcheck, services
from songnuan.checks.models import Finding, RectificationTask, SampledHousehold, SelfCheck, SpotCheck
from songnuan.checks.stats import Disposition, Verdict
from songnuan.orgs.models import Account, Unit

CITY = "荆门市总工会"
#: Draws the check, publishes it and decides the units' answers.
ORGANISER = "city_admin"
#: Makes the calls: the city's reviewer, who may already see full ID and phone numbers.
CALLER = "city_reviewer"
SEED = 20180301
PER_STRATUM = 8
#: Days the units are given to answer the bulletin.
DAYS_TO_RECTIFY = 30
#: Sampled households never called before publishing: the bulletin counts them as not interviewed.
UNCALLED = 2

#: What happened on the phone, besides the plain 核实无误 most households give.
CONFIRMED = "confirmed"
SPECIAL_OUTCOMES = (
    "amount-differs",
    "amount-differs",
    "denies",
    "denies",
    "cash",
    "no-answer-replaced",
    "no-answer-replaced",
    "refused",
    "off-then-family",
    "invalid-replaced",
)


@dataclass(frozen=True)
class DemoChecks:
    """What the loader made (None: it was there already)."""

    spot_check: SpotCheck | None
    self_check: SelfCheck | None

    def message(self) -> str:
        parts = []
        if self.spot_check is not None:
            tasks = rectification.task_counts(self.spot_check)
            parts.append(
                f"已完成电话抽查“{self.spot_check.title}”并发布通报，整改任务 {sum(tasks.values())} 项"
                f"（待整改 {tasks['open']}、已通过 {tasks['accepted']}、已退回 {tasks['returned']}）"
            )
        if self.self_check is not None:
            parts.append(f"已完成市总工会自查，发现问题 {self.self_check.findings.count()} 条")
        return "；".join(parts) + "。" if parts else "演示抽查和自查已存在，未重复载入。"


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _staff_of(unit: Unit, otherwise: User) -> User:
    """Who answers for `unit`: its first account (the one that enters its ledger); `otherwise` (the city,
    which may answer for the units below it) when it has none."""
    account = Account.objects.filter(unit=unit).select_related("user").order_by("pk").first()
    return otherwise if account is None else account.user


def _grant_caller_permission() -> User:
    user = _user(CALLER)
    user.user_permissions.add(
        Permission.objects.get(codename="call_households", content_type__app_label="checks")
    )
    return _user(CALLER)  # permissions are cached on the object: a fresh one sees the grant


class _Calls:
    """The calls of the demo, spread over the week before today, one after another."""

    def __init__(self, caller: User) -> None:
        self.caller = caller
        self.at = timezone.now() - dt.timedelta(days=7)

    def call(self, sampled: SampledHousehold, *outcomes: Disposition) -> SampledHousehold:
        for outcome in outcomes:
            self.at += dt.timedelta(minutes=7)
            services.call_record(user=self.caller, sampled=sampled, disposition=outcome, at=self.at)
        sampled.refresh_from_db()
        return sampled

    def answer(self, sampled: SampledHousehold, outcome: str, rng: random.Random) -> None:
        """The answers a household reached on the phone gives for `outcome` (the verdict follows from them
        and the ledger)."""
        total = services.ledger_facts(sampled).total
        satisfaction = rng.choice(
            [SampledHousehold.Satisfaction.SATISFIED] * 4 + [SampledHousehold.Satisfaction.FAIRLY]
        )
        data = services.AnswersInput(
            received=True,
            amount=total,
            how=SampledHousehold.How.CARD,
            received_on="2018年春节前",
            brought_by="单位工会",
            knows_contact=rng.random() < 0.8,
            satisfaction=satisfaction,
        )
        if outcome == "amount-differs":
            said = (total / 2).quantize(Decimal("0.01"))
            data = services.AnswersInput(
                received=True,
                amount=said,
                how=SampledHousehold.How.CARD,
                received_on="2018年1月",
                brought_by="社区",
                knows_contact=True,
                satisfaction=SampledHousehold.Satisfaction.FAIRLY,
                note=f"户主称卡上只到账{said}元",
            )
        elif outcome == "denies":
            data = services.AnswersInput(
                received=False,
                knows_contact=False,
                satisfaction=SampledHousehold.Satisfaction.UNSATISFIED,
                note="户主称今年没有收到工会的帮扶款",
            )
        elif outcome == "cash":
            data = services.AnswersInput(
                received=True,
                amount=total,
                how=SampledHousehold.How.CASH,
                received_on="2018年1月底",
                brought_by="单位工会主席上门送达",
                knows_contact=True,
                satisfaction=SampledHousehold.Satisfaction.SATISFIED,
                note="现金当面发放，签了字",
            )
        services.answers_save(user=self.caller, sampled=sampled, data=data, version=sampled.version)

    def reach_and_answer(
        self,
        sampled: SampledHousehold,
        outcome: str,
        rng: random.Random,
        *before: Disposition,
        reached: Disposition = Disposition.SELF,
    ) -> None:
        self.answer(self.call(sampled, *before, reached), outcome, rng)


def _call_the_sample(check: SpotCheck, caller: User, organiser: User, rng: random.Random) -> None:
    """Most of the sample called (all but `UNCALLED`), the special outcomes spread over it by the seed, the
    rest confirming the ledger; unreachable households replaced from the reserve (the replacements
    confirm)."""
    sample = list(
        SampledHousehold.objects.filter(spot_check=check, in_sample=True).order_by(
            "stratum__unit__path", "position"
        )
    )
    called = sample[: len(sample) - UNCALLED]
    outcomes = list(SPECIAL_OUTCOMES[: len(called)])
    outcomes += [CONFIRMED] * (len(called) - len(outcomes))
    rng.shuffle(outcomes)
    calls = _Calls(caller)
    for sampled, outcome in zip(called, outcomes, strict=True):
        if outcome in ("no-answer-replaced", "invalid-replaced"):
            unreachable = (
                (Disposition.NO_ANSWER,) * 3 if outcome == "no-answer-replaced" else (Disposition.INVALID,)
            )
            calls.call(sampled, *unreachable)
            try:
                replacement = services.replacement_draw(user=organiser, sampled=sampled)
            except services.CheckError:
                continue  # the stratum's reserve ran out: the household stays 未联系上
            calls.reach_and_answer(replacement, CONFIRMED, rng)
        elif outcome == "refused":
            calls.call(sampled, Disposition.REFUSED)
        elif outcome == "off-then-family":
            calls.reach_and_answer(sampled, CONFIRMED, rng, Disposition.OFF, reached=Disposition.FAMILY)
        elif outcome == "amount-differs":  # a family member remembers half of it
            calls.reach_and_answer(sampled, outcome, rng, reached=Disposition.FAMILY)
        else:
            calls.reach_and_answer(sampled, outcome, rng)


#: The accepted answer, fitting the task's problem.
TASK_ANSWERS = {
    Verdict.DENIES: (
        "经核实，帮扶款已于2018年1月发放至户主工会卡，户主不知卡内到账；已陪同户主查询到账记录并当面说明。"
    ),
    Verdict.AMOUNT_DIFFERS: "经核实，系录入台账时金额有误，已按实际发放金额更正台账，并向受助户当面说明。",
    Verdict.CASH: "经核实，该笔款项因户主银行卡挂失改为现金发放，已补录发放方式并附受助户签收表。",
}


def _rectify(check: SpotCheck, organiser: User) -> None:
    """One task answered and accepted, one answered and returned; the rest wait for their units."""
    tasks = list(RectificationTask.objects.filter(spot_check=check).select_related("unit").order_by("pk"))
    if tasks:
        first = rectification.task_answer(
            user=_staff_of(tasks[0].unit, organiser),
            task=tasks[0],
            answer=TASK_ANSWERS[Verdict(tasks[0].verdict)],
            evidence=None,
        )
        rectification.task_accept(user=organiser, task=first)
    if len(tasks) > 1:
        second = rectification.task_answer(
            user=_staff_of(tasks[1].unit, organiser),
            task=tasks[1],
            answer="已电话联系受助户，户主表示记不清楚。",
            evidence=None,
        )
        rectification.task_return(
            user=organiser,
            task=second,
            reason="答复未说明款项是否实际到账，请调取银行代发回单或签收表后重新答复。",
        )


def _spot_check(campaign: Campaign, city: Unit) -> SpotCheck:
    organiser, caller = _user(ORGANISER), _grant_caller_permission()
    rng = random.Random(SEED)
    check = services.spot_check_draw(
        user=organiser,
        request=services.DrawRequest(
            campaign=campaign,
            unit=city,
            title="2018年元旦春节送温暖资金发放电话抽查",
            document_number="荆工办发〔2018〕9号",
            allocation=SpotCheck.Allocation.FIXED,
            per_stratum=PER_STRATUM,
            seed=SEED,
        ),
    )
    _call_the_sample(check, caller, organiser, rng)
    rectification.spot_check_publish(
        user=organiser, spot_check=check, deadline=timezone.localdate() + dt.timedelta(days=DAYS_TO_RECTIFY)
    )
    _rectify(check, organiser)
    check.refresh_from_db()
    return check


#: The finding the demo answers, by rule (the first rule of this order the self-check found), and how.
FINDING_ANSWERS = (
    ("cash-no-reason", Finding.State.CORRECTED, "已补录现金发放原因，并附受助人签收表。"),
    ("no-evidence", Finding.State.EXPLAINED, "签收表纸质件由单位工会留存，扫描件正在整理，本周内补传。"),
)


def _self_check(campaign: Campaign, city: Unit) -> SelfCheck:
    organiser = _user(ORGANISER)
    check = selfcheck.self_check_run(user=organiser, campaign=campaign, unit=city)
    for code, state, answer in FINDING_ANSWERS:
        finding = check.findings.filter(code=code).select_related("unit").order_by("pk").first()
        if finding is not None:
            selfcheck.finding_answer(
                user=_staff_of(finding.unit, organiser), finding=finding, state=state, answer=answer
            )
            break
    return check


@transaction.atomic
def load_demo_checks(document_number: str) -> DemoChecks:
    """The city's spot check and self-check of the campaign of `document_number` (the 2018 demo campaign),
    each unless the city has one already (a second `seed_demo` adds nothing)."""
    campaign = Campaign.objects.get(document_number=document_number)
    city = Unit.objects.get(name=CITY, parent=None)
    spot_check = None
    if not SpotCheck.objects.filter(campaign=campaign, unit=city).exists():
        spot_check = _spot_check(campaign, city)
    self_check = None
    if not SelfCheck.objects.filter(campaign=campaign, unit=city).exists():
        self_check = _self_check(campaign, city)
    return DemoChecks(spot_check, self_check)
