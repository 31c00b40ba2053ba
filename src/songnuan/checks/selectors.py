"""Every read of a spot check: the checks a unit may see, a check's results by stratum and overall, and the
call sheets. The callers' full phone numbers are read here only for `call_sheet`, whose views the service
`sheets_viewed` logs; everything else shows numbers masked."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from songnuan.archive.idnumbers import mask_id_number
from songnuan.campaigns.models import Campaign
from songnuan.checks import stats
from songnuan.checks.models import CallAttempt, SampledHousehold, SpotCheck
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import User, account_of, may_see_spot_check


def checks_visible_to(user: User, campaign: Campaign) -> QuerySet[SpotCheck]:
    """The campaign's checks run by the user's unit or a unit below it (what `may_see_spot_check` allows)."""
    account = account_of(user)
    if account is None:
        return SpotCheck.objects.none()
    found = SpotCheck.objects.filter(campaign=campaign, unit__path__startswith=account.unit.path)
    return found.select_related("unit").order_by("-drawn_at", "-pk")


@dataclass
class StratumResult:
    """One line of the results: a stratum (its unit), or the whole check (`unit` the checking unit)."""

    unit: Unit
    size: int = 0  # households in the frame
    sampled: int = 0  # in the sample (replacements included)
    attempted: int = 0
    contacted: int = 0  # someone on the line (reached or refused)
    reached: int = 0  # the household itself or its family
    interviewed: int = 0  # answers given: a verdict other than 未联系上
    verdicts: Counter[str] = field(default_factory=Counter)
    satisfaction: Counter[str] = field(default_factory=Counter)

    @property
    def confirmed(self) -> int:
        return self.verdicts[stats.Verdict.CONFIRMED]

    @property
    def discrepancies(self) -> int:
        return sum(
            self.verdicts[v] for v in (stats.Verdict.AMOUNT_DIFFERS, stats.Verdict.DENIES, stats.Verdict.CASH)
        )

    @property
    def contact_rate(self) -> Decimal | None:
        return stats.rate(self.contacted, self.attempted)

    @property
    def confirmed_rate(self) -> Decimal | None:
        """Confirmed among the households interviewed (None — shown “—” — when none was)."""
        return stats.rate(self.confirmed, self.interviewed)

    @property
    def interval(self) -> tuple[Decimal, Decimal] | None:
        return stats.wilson(self.confirmed, self.interviewed)

    def add(self, other: StratumResult) -> None:
        for name in ("size", "sampled", "attempted", "contacted", "reached", "interviewed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.verdicts.update(other.verdicts)
        self.satisfaction.update(other.satisfaction)


@dataclass
class Results:
    check: SpotCheck
    strata: list[StratumResult]
    overall: StratumResult

    def ranked(self) -> list[StratumResult]:
        """Units by their confirmed rate, best first; units with nobody interviewed last."""
        return sorted(
            self.strata,
            key=lambda s: (s.confirmed_rate is None, -(s.confirmed_rate or 0), s.unit.path),
        )


def results(check: SpotCheck) -> Results:
    """Per stratum and overall: sampled, attempted, contacted, reached, interviewed, verdicts, satisfaction.
    Three queries whatever the sample's size."""
    strata = {s.pk: s for s in check.strata.select_related("unit")}
    lines = {pk: StratumResult(unit=s.unit, size=s.size) for pk, s in strata.items()}
    attempts: dict[int, list[stats.Disposition]] = defaultdict(list)
    for sampled_id, disposition in (
        CallAttempt.objects.filter(sampled__spot_check=check, sampled__in_sample=True)
        .order_by("sampled_id", "number")
        .values_list("sampled_id", "disposition")
    ):
        attempts[sampled_id].append(stats.Disposition(disposition))
    for pk, stratum_id, verdict, satisfaction, interviewed in SampledHousehold.objects.filter(
        spot_check=check, in_sample=True
    ).values_list("pk", "stratum_id", "verdict", "satisfaction", "interviewed"):
        line = lines[stratum_id]
        line.sampled += 1
        called = attempts.get(pk, [])
        if called:
            line.attempted += 1
            line.contacted += any(d.contact for d in called)
            line.reached += any(d.reached for d in called)
        if verdict:
            line.verdicts[verdict] += 1
        if interviewed:
            line.interviewed += 1
            if satisfaction:
                line.satisfaction[satisfaction] += 1
    overall = StratumResult(unit=check.unit)
    ordered = sorted(lines.values(), key=lambda line: line.unit.path)
    for line in ordered:
        overall.add(line)
    return Results(check=check, strata=ordered, overall=overall)


# --- call sheets -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    item: str
    amount: Decimal | None
    goods_value: Decimal | None
    paid_on: str
    channel: str
    unit: str
    reversal: bool


@dataclass
class SheetLine:
    sampled: SampledHousehold
    name: str
    masked_id: str
    phone: str  # in full: the callers need it (each view of a sheet is logged)
    unit: str
    attempts: list[CallAttempt]
    payments: list[Payment]


def call_sheet(check: SpotCheck, stratum_units: Iterable[int] | None = None) -> list[SheetLine]:
    """The households of the sample (in stratum and draw order) with their masked ID, full phone, calls so far
    and the help records the campaign paid them from the checking unit's subtree. The caller has asked
    `may_call_households` and logs the view (`services.sheets_viewed`)."""
    sampled = (
        SampledHousehold.objects.filter(spot_check=check, in_sample=True)
        .select_related("household", "household__unit", "stratum__unit")
        .order_by("stratum__unit__path", "position")
    )
    if stratum_units is not None:
        sampled = sampled.filter(stratum__unit__in=list(stratum_units))
    rows = list(sampled)
    by_household: dict[int, list[Payment]] = defaultdict(list)
    records = (
        HelpRecord.objects.filter(
            campaign_id=check.campaign_id,
            household_id__in=[row.household_id for row in rows],
            state=HelpRecord.State.APPROVED,
            unit__path__startswith=check.unit.path,
        )
        .select_related("item", "unit")
        .order_by("paid_on", "pk")
    )
    for record in records:
        assert record.household_id is not None
        by_household[record.household_id].append(
            Payment(
                item=record.item.name,
                amount=record.amount,
                goods_value=record.goods_value,
                paid_on=record.paid_on.isoformat(),
                channel=record.get_channel_display(),
                unit=record.unit.name,
                reversal=record.reverses_id is not None,
            )
        )
    attempts: dict[int, list[CallAttempt]] = defaultdict(list)
    for attempt in CallAttempt.objects.filter(sampled__in=rows).order_by("sampled_id", "number"):
        attempts[attempt.sampled_id].append(attempt)
    return [
        SheetLine(
            sampled=row,
            name=row.household.head_name,
            masked_id=mask_id_number(row.household.head_id_number),
            phone=row.household.phone,
            unit=row.household.unit.name,
            attempts=attempts.get(row.pk, []),
            payments=by_household.get(row.household_id, []),
        )
        for row in rows
    ]


def visible(user: User, check: SpotCheck) -> bool:
    return may_see_spot_check(user, check.unit)
