"""抽查统计：rates, confidence intervals, call outcomes and the verdict on each household (pure Python).

Rates and bounds are Decimals rounded to 4 places (half up); a rate of nothing is None, which the page shows
as “—”, never a division error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from statistics import NormalDist
from typing import Literal, get_args

from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.i18n import gettext_noop

FOUR_PLACES = Decimal("0.0001")

#: A household is called at most this many times before it counts as not reached.
MAX_ATTEMPTS = 3


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to 4 places; None when whole is 0 (no rate, not a zero rate)."""
    if not 0 <= part <= whole:
        raise ValueError(_("比率的分子应在0与分母之间，这里是{part}/{whole}").format(part=part, whole=whole))
    if whole == 0:
        return None
    return _rounded(Decimal(part) / Decimal(whole))


def wilson(successes: int, n: int, confidence: Decimal = Decimal("0.95")) -> tuple[Decimal, Decimal] | None:
    """The Wilson score interval of a proportion, to 4 places; None when n is 0.

    Unlike the normal (Wald) interval it stays inside [0, 1] and is sound for small n and for rates near 0 or
    1: its lower bound is exactly 0 at 0 successes and its upper bound exactly 1 at n.
    """
    if not 0 <= successes <= n:
        raise ValueError(_("成功数应在0与样本数之间，这里是{s}/{n}").format(s=successes, n=n))
    if not confidence.is_finite() or not Decimal(0) < confidence < Decimal(1):
        raise ValueError(_("置信水平应在0到1之间（不含0和1），这里是“{value}”").format(value=confidence))
    if n == 0:
        return None
    z = Decimal(NormalDist().inv_cdf(1 - float(1 - confidence) / 2))
    with localcontext() as context:
        context.prec = 40
        observed = Decimal(successes) / n
        z2 = z * z
        denominator = 1 + z2 / n
        centre = (observed + z2 / (2 * n)) / denominator
        half_width = z / denominator * (observed * (1 - observed) / n + z2 / (4 * n * n)).sqrt()
        lower = Decimal(0) if successes == 0 else max(Decimal(0), centre - half_width)
        upper = Decimal(1) if successes == n else min(Decimal(1), centre + half_width)
    return _rounded(lower), _rounded(upper)


# --- calls ----------------------------------------------------------------------------------------


class Disposition(StrEnum):
    """The outcome of one call attempt."""

    SELF = "self"
    FAMILY = "family"
    NO_ANSWER = "no-answer"
    OFF = "off"
    INVALID = "invalid"
    REFUSED = "refused"

    def label(self) -> str:
        return _(_DISPOSITION_LABELS[self])

    @property
    def reached(self) -> bool:
        """The household answered: the person helped or a family member."""
        return self in (Disposition.SELF, Disposition.FAMILY)

    @property
    def contact(self) -> bool:
        """Someone of the household was on the line, whether or not they answered the questions."""
        return self.reached or self is Disposition.REFUSED


_DISPOSITION_LABELS = {
    Disposition.SELF: gettext_noop("接通本人"),
    Disposition.FAMILY: gettext_noop("接通家属"),
    Disposition.NO_ANSWER: gettext_noop("无人接听"),
    Disposition.OFF: gettext_noop("关机/停机"),
    Disposition.INVALID: gettext_noop("空号/错号"),
    Disposition.REFUSED: gettext_noop("拒访"),
}


def _checked(attempts: Sequence[Disposition]) -> Sequence[Disposition]:
    if len(attempts) > MAX_ATTEMPTS:
        raise ValueError(
            _("每户最多拨打{most}次，这里有{count}次").format(most=MAX_ATTEMPTS, count=len(attempts))
        )
    return attempts


def household_outcome(attempts: Sequence[Disposition]) -> Disposition | None:
    """The household's outcome over its attempts: reached (本人 before 家属) if any attempt reached it, else
    refused if anyone refused, else the last attempt's outcome; None when it was never called."""
    _checked(attempts)
    for outcome in (Disposition.SELF, Disposition.FAMILY, Disposition.REFUSED):
        if outcome in attempts:
            return outcome
    return attempts[-1] if attempts else None


@dataclass(frozen=True)
class CallCounts:
    """Households by outcome: `attempted` were called at least once; `contacted` had someone on the line
    (reached or refused); `reached` answered (本人 or 家属)."""

    attempted: int
    contacted: int
    reached: int


def count_calls(households_attempts: Iterable[Sequence[Disposition]]) -> CallCounts:
    attempted = contacted = reached = 0
    for attempts in households_attempts:
        outcome = household_outcome(attempts)
        if outcome is None:
            continue
        attempted += 1
        contacted += outcome.contact
        reached += outcome.reached
    return CallCounts(attempted=attempted, contacted=contacted, reached=reached)


def contact_rate(households_attempts: Iterable[Sequence[Disposition]]) -> Decimal | None:
    """接触率 (AAPOR's contact rate in spirit): households where someone came on the line (reached or
    refused) / households called at least once. Households not yet called are left out; numbers found empty
    or wrong (空号/错号) stay in the denominator: the ledger's phone number is part of what is checked."""
    counts = count_calls(households_attempts)
    return rate(counts.contacted, counts.attempted)


def cooperation_rate(households_attempts: Iterable[Sequence[Disposition]]) -> Decimal | None:
    """合作率 (AAPOR COOP1 in spirit): households that answered (本人 or 家属) / households contacted
    (answered or refused)."""
    counts = count_calls(households_attempts)
    return rate(counts.reached, counts.contacted)


def response_rate(households_attempts: Iterable[Sequence[Disposition]], sampled: int) -> Decimal | None:
    """应答率 (AAPOR RR1 in spirit): households that answered (本人 or 家属) / households sampled, including
    those never called (`sampled` counts the sample, replacements that were called included)."""
    counts = count_calls(households_attempts)
    if counts.attempted > sampled:
        raise ValueError(
            _("拨打户数（{attempted}）多于抽中户数（{sampled}）").format(
                attempted=counts.attempted, sampled=sampled
            )
        )
    return rate(counts.reached, sampled)


# --- verdicts -------------------------------------------------------------------------------------

Channel = Literal["card", "bank", "cash", "goods"]
CHANNELS: frozenset[str] = frozenset(get_args(Channel))
#: Channels that leave a trace in a bank: a household saying it got cash contradicts a ledger of only these.
TRACEABLE_CHANNELS: frozenset[str] = frozenset({"card", "bank"})

_CHANNEL_LABELS = {
    "card": gettext_noop("工会卡"),
    "bank": gettext_noop("银行转账"),
    "cash": gettext_noop("现金"),
    "goods": gettext_noop("实物"),
}


def channel_label(channel: Channel) -> str:
    return _(_CHANNEL_LABELS[channel])


def _check_channels(channels: Iterable[str]) -> None:
    unknown = sorted(set(channels) - CHANNELS)
    if unknown:
        raise ValueError(_("未知的发放方式：{names}").format(names="、".join(unknown)))


@dataclass(frozen=True)
class Answers:
    """What the household said on the phone; None is “does not know / not asked”, never “no”."""

    received: bool | None = None
    amount: Decimal | None = None
    how: Channel | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.amount is not None and (not self.amount.is_finite() or self.amount < 0):
            raise ValueError(_("金额应为非负数，这里是“{value}”").format(value=self.amount))
        if self.how is not None:
            _check_channels([self.how])


@dataclass(frozen=True)
class LedgerFacts:
    """What the ledger says was paid to the household in the campaign: the approved total and its channels."""

    total: Decimal
    channels: frozenset[Channel]

    def __post_init__(self) -> None:
        _check_channels(self.channels)


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    AMOUNT_DIFFERS = "amount-differs"
    DENIES = "denies"
    CASH = "cash"
    NOT_REACHED = "not-reached"

    def label(self) -> str:
        return _(_VERDICT_LABELS[self])


_VERDICT_LABELS = {
    Verdict.CONFIRMED: gettext_noop("核实无误"),
    Verdict.AMOUNT_DIFFERS: gettext_noop("金额不符"),
    Verdict.DENIES: gettext_noop("否认收到"),
    Verdict.CASH: gettext_noop("现金发放"),
    Verdict.NOT_REACHED: gettext_noop("未联系上"),
}


def verdict(answers: Answers | None, ledger: LedgerFacts, tolerance: Decimal = Decimal("0")) -> Verdict:
    """The verdict on one household, the first rule that applies:

    1. no answers (not reached, or refused) → 未联系上;
    2. says it received nothing → 否认收到;
    3. says it was paid in cash while the ledger paid by card or bank only → 现金发放;
    4. names an amount differing from the ledger's total by more than `tolerance` → 金额不符;
    5. otherwise → 核实无误. An amount not remembered (None) or `received` unknown is no discrepancy.
    """
    if not tolerance.is_finite() or tolerance < 0:
        raise ValueError(_("容差应为非负数，这里是“{value}”").format(value=tolerance))
    if answers is None:
        return Verdict.NOT_REACHED
    if answers.received is False:
        return Verdict.DENIES
    if answers.how == "cash" and ledger.channels and ledger.channels <= TRACEABLE_CHANNELS:
        return Verdict.CASH
    if answers.amount is not None and abs(answers.amount - ledger.total) > tolerance:
        return Verdict.AMOUNT_DIFFERS
    return Verdict.CONFIRMED
