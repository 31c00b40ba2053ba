"""Every write of a spot check: the draw (with its reserve), replacements, calls and answers. Each asks
`orgs.permissions`, runs in one transaction and writes a `CheckEvent`; a refusal is a `CheckError` with a
Chinese message naming what is wrong (nothing written)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.bulk import column_adapter, insert_rows
from songnuan.campaigns.models import Campaign
from songnuan.checks import sampling, stats
from songnuan.checks.frames import Frame, campaign_frame
from songnuan.checks.models import CallAttempt, CheckEvent, SampledHousehold, SpotCheck, Stratum
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_call_households, may_run_spot_check

#: The ledger's channels as the phone questions name them.
LEDGER_CHANNELS: Mapping[str, stats.Channel] = {
    HelpRecord.Channel.UNION_CARD: "card",
    HelpRecord.Channel.BANK_CARD: "bank",
    HelpRecord.Channel.CASH: "cash",
    HelpRecord.Channel.GOODS: "goods",
}
#: Dispositions after which a household is replaced at once: the number is not the household's.
REPLACE_AT_ONCE = frozenset({stats.Disposition.INVALID})


class CheckError(Exception):
    """A refused step; `message` is for the user (Chinese), `field` the form field it concerns, if any."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class DrawRequest:
    """What the checking unit asks for (from the page or the API; numbers already parsed)."""

    campaign: Campaign
    unit: Unit
    title: str
    allocation: str
    level: int = 1
    bound_only: bool = True
    document_number: str = ""
    per_stratum: int | None = None
    total: int | None = None
    minimum: int = 0
    margin: Decimal | None = None
    confidence: Decimal | None = None
    seed: int | None = None  # None: a new one (`sampling.new_seed`)


@dataclass(frozen=True)
class Plan:
    """The frame and what each stratum would take: the size calculator's answer, shown before drawing."""

    frame: Frame
    strata: dict[int, sampling.StratumPlan]

    @property
    def taken(self) -> int:
        return sum(plan.taken for plan in self.strata.values())

    @property
    def short(self) -> list[Unit]:
        return [self.frame.units[key] for key, plan in sorted(self.strata.items()) if plan.short]


def _required(value: object, message: str, field: str) -> None:
    if value is None:
        raise CheckError(message, field)


def plan(request: DrawRequest) -> Plan:
    """The frame and the allocation the request gives (nothing written). CheckError when it cannot be drawn:
    an empty frame, a missing or impossible parameter."""
    if not 1 <= request.level <= 10:
        raise CheckError(_("分层级数应为1至10"), "level")
    frame = campaign_frame(
        campaign_id=request.campaign.pk, unit=request.unit, bound_only=request.bound_only, level=request.level
    )
    if not frame.size:
        raise CheckError(
            _("抽样框为空：{unit}在本次活动中还没有已审核的{what}发放记录").format(
                unit=request.unit.name, what=_("中央和省级帮扶资金") if request.bound_only else ""
            )
        )
    sizes = {key: len(ids) for key, ids in frame.strata.items()}
    try:
        if request.allocation == SpotCheck.Allocation.FIXED:
            _required(request.per_stratum, _("请填写每个单位抽取户数"), "per_stratum")
            assert request.per_stratum is not None
            strata = sampling.allocate_fixed(sizes, request.per_stratum)
        elif request.allocation == SpotCheck.Allocation.PROPORTIONAL:
            _required(request.total, _("请填写抽取总户数"), "total")
            assert request.total is not None
            strata = sampling.allocate_proportional(sizes, request.total, request.minimum)
        elif request.allocation == SpotCheck.Allocation.MARGIN:
            _required(request.margin, _("请填写允许误差"), "margin")
            _required(request.confidence, _("请填写置信水平"), "confidence")
            assert request.margin is not None and request.confidence is not None
            strata = sampling.allocate_by_margin(sizes, request.margin, request.confidence, request.minimum)
        else:
            raise CheckError(_("请选择样本分配方式"), "allocation")
    except sampling.SamplingError as problem:
        raise CheckError(str(problem)) from None
    return Plan(frame, strata)


def reserve_size(taken: int, size: int) -> int:
    """Replacements drawn with the sample, in the same seeded order: half the sample (at least 2), as far as
    the stratum has households left."""
    return min(size - taken, max(2, math.ceil(taken / 2))) if taken else 0


def record_event(
    action: str,
    *,
    user: User,
    spot_check: SpotCheck,
    sampled: SampledHousehold | None = None,
    old: dict[str, str] | None = None,
    new: dict[str, str] | None = None,
    note: str = "",
) -> CheckEvent:
    """One line of a check's history (every write of the app writes one): who, what, old and new."""
    return CheckEvent.objects.create(
        action=action,
        user=user,
        spot_check=spot_check,
        sampled=sampled,
        old=old or {},
        new=new or {},
        note=note,
    )


@transaction.atomic
def spot_check_draw(*, user: User, request: DrawRequest) -> SpotCheck:
    """Draw the sample (and its reserve) and keep what reproduces it: the frame's size and digest, each
    stratum's plan, the seed."""
    if not may_run_spot_check(user, request.unit):
        raise PermissionDenied(_("只有{unit}的审核员或管理员可以组织抽查").format(unit=request.unit.name))
    if not request.title.strip():
        raise CheckError(_("请填写抽查标题"), "title")
    planned = plan(request)
    seed = request.seed if request.seed is not None else sampling.new_seed()
    frame = planned.frame
    reserves = {key: reserve_size(p.taken, p.size) for key, p in planned.strata.items()}
    with_reserve = {
        key: sampling.StratumPlan(size=p.size, wanted=p.taken + reserves[key])
        for key, p in planned.strata.items()
    }
    drawn = sampling.draw_sorted(frame.strata, with_reserve, seed)
    check = SpotCheck.objects.create(
        campaign=request.campaign,
        unit=request.unit,
        title=request.title.strip(),
        document_number=request.document_number.strip(),
        bound_only=request.bound_only,
        stratum_level=request.level,
        allocation=request.allocation,
        per_stratum=request.per_stratum,
        total=request.total,
        minimum=request.minimum,
        margin=request.margin,
        confidence=request.confidence,
        seed=seed,
        frame_size=frame.size,
        frame_digest=sampling.frame_digest(frame.strata),
        drawn_by=user,
    )
    Stratum.objects.bulk_create(
        [
            Stratum(
                spot_check=check,
                unit=frame.units[key],
                size=stratum_plan.size,
                wanted=stratum_plan.wanted,
                taken=stratum_plan.taken,
            )
            for key, stratum_plan in sorted(planned.strata.items())
        ]
    )
    stratum_ids = {stratum.unit_id: stratum.pk for stratum in Stratum.objects.filter(spot_check=check)}
    # Written raw (one COPY or executemany): a national sample is tens of thousands of rows, which
    # `bulk_create` would turn into objects and adapt value by value (BENCHMARKS.md, issue 13).
    blank = _blank_sample_row()
    insert_rows(
        SampledHousehold,
        SAMPLE_COLUMNS,
        [
            (check.pk, stratum_ids[key], household_id, position, position < stratum_plan.taken, *blank)
            for key, stratum_plan in sorted(planned.strata.items())
            for position, household_id in enumerate(drawn.drawn.get(key, ()))
        ],
    )

    record_event(
        CheckEvent.Action.DRAWN,
        user=user,
        spot_check=check,
        new={
            "seed": str(seed),
            "frame_size": str(frame.size),
            "frame_digest": check.frame_digest,
            "taken": str(planned.taken),
            "strata": str(len(planned.strata)),
        },
        note="；".join(
            _("{unit}只有{size}户，全部抽取").format(unit=unit.name, size=planned.strata[unit.pk].size)
            for unit in planned.short
        ),
    )
    return check


def _blank_sample_row() -> tuple[object, ...]:
    """The answers' columns of a household just drawn, as the database takes them."""
    now = timezone.now()
    adapt = column_adapter(SampledHousehold, "updated_at")
    return (None, None, None, "", "", "", None, "", "", False, "", 0, adapt(now) if adapt else now)


def _locked(sampled: SampledHousehold) -> SampledHousehold:
    return (
        SampledHousehold.objects.select_for_update(of=("self",))
        .select_related("spot_check__unit", "household", "stratum")
        .get(pk=sampled.pk)
    )


def _may_call(user: User, sampled: SampledHousehold) -> None:
    unit = sampled.spot_check.unit
    if not may_call_households(user, unit):
        raise PermissionDenied(_("只有{unit}的核查员可以记录核查结果").format(unit=unit.name))
    if sampled.spot_check.state != SpotCheck.State.CALLING:
        raise CheckError(_("抽查已通报，不能再修改核查结果"))
    if not sampled.in_sample:
        raise CheckError(
            _("{name}户不在样本中（是备用户，尚未替补）").format(name=sampled.household.head_name)
        )


def attempts_of(sampled: SampledHousehold) -> list[stats.Disposition]:
    return [
        stats.Disposition(d)
        for d in sampled.attempts.order_by("number").values_list("disposition", flat=True)
    ]


@transaction.atomic
def call_record(
    *, user: User, sampled: SampledHousehold, disposition: str, at: dt.datetime | None = None
) -> CallAttempt:
    """One call to a sampled household: at most `stats.MAX_ATTEMPTS`; after the last unanswered one, or a
    number that is not the household's, the verdict is 未联系上."""
    sampled = _locked(sampled)
    _may_call(user, sampled)
    try:
        outcome = stats.Disposition(disposition)
    except ValueError:
        raise CheckError(_("没有“{value}”这种拨打结果").format(value=disposition), "disposition") from None
    earlier = attempts_of(sampled)
    if len(earlier) >= stats.MAX_ATTEMPTS:
        raise CheckError(
            _("{name}户已拨打{most}次，不能再记录拨打结果").format(
                name=sampled.household.head_name, most=stats.MAX_ATTEMPTS
            ),
            "disposition",
        )
    if any(d.reached for d in earlier):
        raise CheckError(_("{name}户已经接通，请填写访问答案").format(name=sampled.household.head_name))
    try:
        with transaction.atomic():
            attempt = CallAttempt.objects.create(
                sampled=sampled,
                number=len(earlier) + 1,
                at=at or timezone.now(),
                disposition=outcome,
                caller=user,
            )
    except IntegrityError:  # another caller recorded the same attempt a moment ago
        raise CheckError(_("另一位核查员刚刚记录了这一户的拨打结果，请刷新后再试")) from None
    attempts = [*earlier, outcome]
    given_up = (
        outcome in REPLACE_AT_ONCE
        or outcome == stats.Disposition.REFUSED
        or (len(attempts) == stats.MAX_ATTEMPTS and not outcome.reached)
    )
    if given_up:
        sampled.verdict = stats.Verdict.NOT_REACHED
        sampled.version += 1
        sampled.save(update_fields=["verdict", "version", "updated_at"])
    record_event(
        CheckEvent.Action.CALLED,
        user=user,
        spot_check=sampled.spot_check,
        sampled=sampled,
        new={"number": str(attempt.number), "disposition": outcome.label()},
    )
    return attempt


def replaceable(attempts: list[stats.Disposition]) -> bool:
    """Whether a household may be replaced: its number is wrong, or every allowed call went unanswered. A
    refusal is a result, not a reason to call someone else (that would bias the sample)."""
    if any(d in REPLACE_AT_ONCE for d in attempts):
        return True
    return len(attempts) >= stats.MAX_ATTEMPTS and not any(d.contact for d in attempts)


@transaction.atomic
def replacement_draw(*, user: User, sampled: SampledHousehold) -> SampledHousehold:
    """Put the stratum's next reserve household (the seeded order's next) in place of one that cannot be
    reached."""
    sampled = _locked(sampled)
    check = sampled.spot_check
    if not may_run_spot_check(user, check.unit) and not may_call_households(user, check.unit):
        raise PermissionDenied(_("只有{unit}的核查员或审核员可以抽取替补户").format(unit=check.unit.name))
    if check.state != SpotCheck.State.CALLING:
        raise CheckError(_("抽查已通报，不能再抽取替补户"))
    if SampledHousehold.objects.filter(replaces=sampled).exists():
        raise CheckError(_("{name}户已有替补户").format(name=sampled.household.head_name))
    if not sampled.in_sample or not replaceable(attempts_of(sampled)):
        raise CheckError(
            _("只有空号/错号，或拨打{most}次仍未接通的户才能替补").format(most=stats.MAX_ATTEMPTS)
        )
    reserve = (
        SampledHousehold.objects.select_for_update()
        .filter(stratum=sampled.stratum, in_sample=False)
        .order_by("position")
        .first()
    )
    if reserve is None:
        raise CheckError(_("{unit}的备用户已用完").format(unit=sampled.stratum.unit.name))
    reserve.in_sample, reserve.replaces = True, sampled
    reserve.version += 1
    reserve.save(update_fields=["in_sample", "replaces", "version", "updated_at"])
    record_event(
        CheckEvent.Action.REPLACED,
        user=user,
        spot_check=check,
        sampled=reserve,
        new={"replaces": str(sampled.pk), "position": str(reserve.position)},
    )
    return reserve


def ledger_facts(sampled: SampledHousehold) -> stats.LedgerFacts:
    """What the ledger paid the household in the check's campaign, from the checking unit's subtree: the
    standing approved money, and the channels used."""
    check = sampled.spot_check
    records = HelpRecord.objects.filter(
        campaign_id=check.campaign_id,
        household_id=sampled.household_id,
        state=HelpRecord.State.APPROVED,
        unit__path__startswith=check.unit.path,
    )
    standing = records.filter(HelpRecord.standing())
    total = records.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")  # reversals net out
    channels = frozenset(LEDGER_CHANNELS[c] for c in standing.values_list("channel", flat=True).distinct())
    return stats.LedgerFacts(total=total, channels=channels)


@dataclass(frozen=True)
class AnswersInput:
    received: bool | None = None
    amount: Decimal | None = None
    how: str = ""
    received_on: str = ""
    brought_by: str = ""
    knows_contact: bool | None = None
    satisfaction: str = ""
    note: str = ""


ANSWER_FIELDS = (
    "received",
    "amount",
    "how",
    "received_on",
    "brought_by",
    "knows_contact",
    "satisfaction",
    "note",
)


#: The columns of a drawn household's row: the five that vary, then the answers and the rest, all blank.
SAMPLE_COLUMNS = (
    "spot_check_id",
    "stratum_id",
    "household_id",
    "position",
    "in_sample",
    "replaces_id",
    *ANSWER_FIELDS,
    "interviewed",
    "verdict",
    "version",
    "updated_at",
)


def _answers_text(sampled: SampledHousehold) -> dict[str, str]:
    return {
        name: "" if getattr(sampled, name) is None else str(getattr(sampled, name)) for name in ANSWER_FIELDS
    }


@transaction.atomic
def answers_save(
    *, user: User, sampled: SampledHousehold, data: AnswersInput, version: int
) -> SampledHousehold:
    """The interview's answers and its verdict. `version` is the one the caller's form was read at: a save
    since then by someone else is refused (no lost update), with nothing written."""
    sampled = _locked(sampled)
    _may_call(user, sampled)
    if sampled.version != version:
        raise CheckError(
            _("{name}户的核查结果已被其他核查员修改，请刷新后再填").format(name=sampled.household.head_name)
        )
    if not any(stats.Disposition(d).reached for d in attempts_of(sampled)):
        raise CheckError(_("请先记录接通本人或家属的拨打结果，再填写访问答案"), "received")
    if data.how and data.how not in SampledHousehold.How.values:
        raise CheckError(_("没有“{value}”这种发放方式").format(value=data.how), "how")
    if data.satisfaction and data.satisfaction not in SampledHousehold.Satisfaction.values:
        raise CheckError(_("没有“{value}”这种满意度").format(value=data.satisfaction), "satisfaction")
    if data.amount is not None and (
        not data.amount.is_finite() or data.amount < 0 or data.amount != data.amount.quantize(Decimal("0.01"))
    ):
        raise CheckError(_("金额应为非负数，最多两位小数"), "amount")
    before = _answers_text(sampled)
    for name in ANSWER_FIELDS:
        value = getattr(data, name)
        setattr(sampled, name, value.strip() if isinstance(value, str) else value)
    answers = stats.Answers(
        received=data.received,
        amount=data.amount,
        how=data.how or None,  # type: ignore[arg-type]  # checked against the choices above
        note=data.note,
    )
    sampled.verdict = stats.verdict(answers, ledger_facts(sampled))
    sampled.interviewed = True
    sampled.version += 1
    sampled.save()
    after = _answers_text(sampled)
    record_event(
        CheckEvent.Action.ANSWERED,
        user=user,
        spot_check=sampled.spot_check,
        sampled=sampled,
        old={k: v for k, v in before.items() if v != after[k]},
        new={
            **{k: v for k, v in after.items() if v != before[k]},
            "verdict": stats.Verdict(sampled.verdict).label(),
        },
    )
    return sampled


def sheets_viewed(*, user: User, spot_check: SpotCheck, how: str) -> None:
    """Log a look at the call sheets (full phone numbers): the page, the print or the .xlsx (`how`)."""
    if not may_call_households(user, spot_check.unit):
        raise PermissionDenied(_("只有{unit}的核查员可以查看核查表").format(unit=spot_check.unit.name))
    record_event(CheckEvent.Action.SHEETS_VIEWED, user=user, spot_check=spot_check, note=how)
