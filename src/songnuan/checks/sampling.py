"""抽样：the sample of helped households that the national federation phones (pure Python, no Django).

The frame is a mapping from a stratum key (a unit id, any hashable value that sorts) to the ids of the
households in that stratum. Each stratum's ids are treated as SORTED and de-duplicated, so a sample never
depends on the order the database returned them.

A sample must be reproducible from what is recorded with it (the frame's digest, the allocation and the seed),
by anyone, years later. Each stratum therefore has its own seeded random order of its sorted ids: the sample
is the first `taken` ids of that order, and the replacements for numbers that cannot be reached are the ids
that follow, in the same order. The order is a lazy Fisher–Yates shuffle: its first k ids cost O(k), whatever
the stratum's size, and they are the same whatever k is asked for (the prefix property; `random.sample`
does not have it, its algorithm changes with k).
"""

from __future__ import annotations

import hashlib
import math
import operator
import random
import re
import secrets
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import islice
from statistics import NormalDist
from typing import Any, NamedTuple, Protocol

from songnuan.formkit.i18n import gettext as _


class StratumKey(Protocol):
    """A stratum key: hashable and sortable (a unit id, a code), so that strata are taken in a fixed order."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __hash__(self) -> int: ...


#: A seed is what a person types, reads aloud or prints on a report: at most 18 digits (below 2**63).
SEED_DIGITS = 18
_SMALLEST_SEED = 10**17  # of SEED_DIGITS digits
_SEED_TEXT = re.compile(rf"[0-9]{{1,{SEED_DIGITS}}}")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


class SamplingError(ValueError):
    """A sampling request that cannot be carried out; the message is for the user (Chinese)."""


# --- the frame ------------------------------------------------------------------------------------


def sorted_ids(ids: Sequence[int]) -> Sequence[int]:
    """A stratum's ids sorted and de-duplicated: the ids themselves, not a copy, when they already are (the
    frame's are: one pass to see it, where sorting a national frame's five million ids again took 0.3 s)."""
    if all(map(operator.lt, ids, islice(ids, 1, None))):
        return ids
    return sorted(set(ids))


def frame_digest[K: StratumKey](frame: Mapping[K, Sequence[int]]) -> str:
    """SHA-256 (hex) of the frame: its strata in key order, each with its sorted, de-duplicated ids.

    Stable across runs and machines: each stratum contributes the length and bytes of `repr(key)` (UTF-8), its
    number of ids and the ids as signed 64-bit little-endian integers (database primary keys fit).
    """
    digest = hashlib.sha256()
    for key in sorted(frame):
        name = repr(key).encode()
        ids = array("q", sorted_ids(frame[key]))
        if sys.byteorder != "little":
            ids.byteswap()
        digest.update(len(name).to_bytes(8, "little") + name + len(ids).to_bytes(8, "little"))
        digest.update(ids.tobytes())
    return digest.hexdigest()


def stratum_sizes[K: StratumKey](frame: Mapping[K, Sequence[int]]) -> dict[K, int]:
    """The number of distinct households in each stratum (what the allocations take)."""
    return {key: len(set(ids)) for key, ids in frame.items()}


# --- sample sizes ---------------------------------------------------------------------------------


def z_value(confidence: Decimal) -> Decimal:
    """The two-sided normal quantile for `confidence` (1.96 for 95%); confidence must lie in (0, 1)."""
    if not confidence.is_finite() or not Decimal(0) < confidence < Decimal(1):
        raise SamplingError(_("置信水平应在0到1之间（不含0和1），这里是“{value}”").format(value=confidence))
    return Decimal(NormalDist().inv_cdf(1 - float(1 - confidence) / 2))


def sample_size(
    population: int, margin: Decimal, confidence: Decimal, proportion: Decimal = Decimal("0.5")
) -> int:
    """The sample that estimates a proportion within ±`margin` at `confidence` in `population` households.

    n0 = z² p(1−p) / e², with the finite population correction n = n0 / (1 + (n0 − 1) / N), rounded up and
    never more than N (0 when N is 0). p = 0.5 (the default) is the most cautious guess of the proportion.
    """
    if population < 0:
        raise SamplingError(_("总体户数不能为负数，这里是“{value}”").format(value=population))
    if not margin.is_finite() or not Decimal(0) < margin <= Decimal("0.5"):
        raise SamplingError(_("允许误差应大于0且不超过0.5，这里是“{value}”").format(value=margin))
    if not proportion.is_finite() or not Decimal(0) < proportion < Decimal(1):
        raise SamplingError(_("预估比例应在0到1之间（不含0和1），这里是“{value}”").format(value=proportion))
    z = z_value(confidence)
    if population == 0:
        return 0
    # Decimal from here on: a float n of 80.00000000001 would round up to 81.
    with localcontext() as context:
        context.prec = 40
        infinite = z * z * proportion * (1 - proportion) / (margin * margin)
        corrected = infinite / (1 + (infinite - 1) / population)
        return min(population, math.ceil(corrected))


# --- allocation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StratumPlan:
    """What to draw in one stratum: `wanted` is what the rule asked, `taken` what the stratum can give.

    `short` says the stratum is smaller than its allocation: all of it is taken, and the page says so.
    """

    size: int
    wanted: int
    taken: int = field(init=False)
    short: bool = field(init=False)

    def __post_init__(self) -> None:
        if self.size < 0 or self.wanted < 0:
            raise SamplingError(_("户数不能为负数"))
        object.__setattr__(self, "taken", min(self.wanted, self.size))
        object.__setattr__(self, "short", self.wanted > self.size)


class PlanSummary[K: StratumKey](NamedTuple):
    taken: int
    short: list[K]  # the strata smaller than their allocation, in key order
    population: int


def _check_count(value: int, what: str) -> None:
    if value < 0:
        raise SamplingError(_("{what}不能为负数，这里是“{value}”").format(what=what, value=value))


def allocate_fixed[K: StratumKey](sizes: Mapping[K, int], per_stratum: int) -> dict[K, StratumPlan]:
    """The same number of households in every stratum."""
    _check_count(per_stratum, _("每个单位抽取户数"))
    return {key: StratumPlan(size=sizes[key], wanted=per_stratum) for key in sorted(sizes)}


def allocate_proportional[K: StratumKey](
    sizes: Mapping[K, int], total: int, minimum: int = 0
) -> dict[K, StratumPlan]:
    """`total` households shared out in proportion to the strata's sizes, at least `minimum` in each.

    A stratum smaller than `minimum` gives all it has (its plan is `short`). The takes sum exactly to
    min(total, population): a stratum whose proportional share falls below its minimum is held at the minimum
    and the rest is shared proportionally among the others (repeated until no share falls below), then rounded
    by the largest-remainder method (equal remainders: the smaller key first).

    When the minimums alone (each capped at its stratum's size) exceed `total`, every stratum gets its minimum
    and the takes sum to more than `total`: `plan_summary(plans).taken` shows by how much.
    """
    _check_count(total, _("抽取总户数"))
    _check_count(minimum, _("每个单位最少抽取户数"))
    keys = sorted(sizes)
    for key in keys:
        _check_count(sizes[key], _("单位户数"))
    target = min(total, sum(sizes[key] for key in keys))
    floors = {key: min(minimum, sizes[key]) for key in keys}
    if sum(floors.values()) >= target:
        return {key: StratumPlan(size=sizes[key], wanted=minimum) for key in keys}

    held: set[K] = set()
    while True:
        # The share rate falls each round (a held stratum's minimum exceeds its share), so every free share
        # stays within its stratum's size, and at least one stratum stays free.
        remaining = target - sum(floors[key] for key in held)
        free = [key for key in keys if key not in held]
        free_size = sum(sizes[key] for key in free)
        shares = {key: Fraction(remaining * sizes[key], free_size) for key in free}
        below = [key for key in free if shares[key] < floors[key]]
        if not below:
            break
        held.update(below)

    takes = {key: floors[key] for key in held} | {key: math.floor(shares[key]) for key in free}
    leftover = target - sum(takes.values())
    rank = {key: index for index, key in enumerate(keys)}
    by_remainder = sorted(free, key=lambda key: (takes[key] - shares[key], rank[key]))
    for key in by_remainder[:leftover]:
        takes[key] += 1
    return {key: StratumPlan(size=sizes[key], wanted=max(minimum, takes[key])) for key in keys}


def allocate_by_margin[K: StratumKey](
    sizes: Mapping[K, int],
    margin: Decimal,
    confidence: Decimal,
    minimum: int = 0,
    proportion: Decimal = Decimal("0.5"),
) -> dict[K, StratumPlan]:
    """Each stratum its own `sample_size`, so that each unit's own rate has that margin; at least
    `minimum`."""
    _check_count(minimum, _("每个单位最少抽取户数"))
    return {
        key: StratumPlan(
            size=sizes[key], wanted=max(minimum, sample_size(sizes[key], margin, confidence, proportion))
        )
        for key in sorted(sizes)
    }


def plan_summary[K: StratumKey](plans: Mapping[K, StratumPlan]) -> PlanSummary[K]:
    """The households to phone in all, the strata smaller than their allocation, and the population."""
    return PlanSummary(
        taken=sum(plan.taken for plan in plans.values()),
        short=sorted(key for key, plan in plans.items() if plan.short),
        population=sum(plan.size for plan in plans.values()),
    )


# --- seeds ----------------------------------------------------------------------------------------


def parse_seed(text: str) -> int:
    """A seed as a person typed it: 1 to 18 digits (full-width ０-９ too), spaces around allowed."""
    digits = text.strip().translate(_FULL_WIDTH_DIGITS)
    if not _SEED_TEXT.fullmatch(digits):
        raise SamplingError(
            _("随机种子应为数字（1至{n}位），这里是“{value}”").format(n=SEED_DIGITS, value=text)
        )
    return int(digits)


def new_seed() -> int:
    """A fresh unpredictable seed, always 18 digits (so that every seed reads the same way on a report)."""
    return _SMALLEST_SEED + secrets.randbelow(9 * _SMALLEST_SEED)


# --- drawing --------------------------------------------------------------------------------------


def _generator(seed: int, key: object) -> random.Random:
    # Seeding from bytes is stable across Python versions (version-2 seeding). The key enters by its repr:
    # unit 5 and unit "5" have different orders, so a stratum key must keep its type from draw to redraw.
    return random.Random(hashlib.sha256(f"{seed}:{key!r}".encode()).digest())


def _below(generator: random.Random, bound: int) -> int:
    """A uniform integer in [0, bound) by rejection from getrandbits: our own, so that a change in how
    `randrange` draws could never change a recorded sample."""
    bits = bound.bit_length()
    while True:
        candidate = generator.getrandbits(bits)
        if candidate < bound:
            return candidate


def _order(size: int, seed: int, key: object) -> Iterator[int]:
    """Positions 0 … size−1 in the stratum's seeded random order, lazily: a Fisher–Yates shuffle that keeps
    only the positions it has moved (a sparse dict), so the first k cost O(k)."""
    generator = _generator(seed, key)
    moved: dict[int, int] = {}
    for position in range(size):
        chosen = position + _below(generator, size - position)
        value = moved.get(chosen, chosen)
        current = moved.pop(position, position)  # position is never visited again: forget it
        if chosen != position:
            moved[chosen] = current
        yield value


@dataclass(frozen=True)
class Sample[K: StratumKey]:
    """The households drawn: per stratum, their ids in draw order (the order in which to phone them), and the
    first replacements (`reserve` of them, fewer at the stratum's end) that follow in the same order."""

    seed: int
    drawn: Mapping[K, tuple[int, ...]]
    reserves: Mapping[K, tuple[int, ...]]

    def ids(self) -> list[int]:
        """Every drawn id, stratum by stratum in key order, each stratum in draw order."""
        return [i for key in sorted(self.drawn) for i in self.drawn[key]]

    def next_replacements(
        self, frame: Mapping[K, Sequence[int]], key: K, count: int, used: int = 0
    ) -> list[int]:
        """The next `count` replacements in stratum `key`, after the `used` ones already handed out."""
        return replacements(frame, key, self.seed, len(self.drawn.get(key, ())) + used, count)


def draw[K: StratumKey](
    frame: Mapping[K, Sequence[int]], plans: Mapping[K, StratumPlan], seed: int, reserve: int = 0
) -> Sample[K]:
    """A stratified simple random sample without replacement, reproducible from the frame and the seed.

    In each stratum of `plans` (strata of the frame without a plan are not drawn), the first `taken` ids of
    the stratum's seeded order of its sorted, de-duplicated ids. A plan whose size no longer matches the frame
    is refused: the frame changed since the allocation was made. `reserve` replacements per stratum come with
    it.
    """
    _refuse_empty(frame)
    return _draw({key: sorted_ids(frame.get(key, ())) for key in plans}, plans, seed, reserve)


def draw_sorted[K: StratumKey](
    frame: Mapping[K, Sequence[int]], plans: Mapping[K, StratumPlan], seed: int, reserve: int = 0
) -> Sample[K]:
    """`draw` for a frame whose every stratum is already sorted ascending with no repeats (not checked).

    Nothing is copied: a stratum's ids are only read at the positions drawn.
    """
    _refuse_empty(frame)
    return _draw(frame, plans, seed, reserve)


def _refuse_empty(frame: Mapping[Any, Sequence[int]]) -> None:
    if not any(len(ids) for ids in frame.values()):
        raise SamplingError(_("抽样框为空，没有可抽取的户"))


def _draw[K: StratumKey](
    frame: Mapping[K, Sequence[int]], plans: Mapping[K, StratumPlan], seed: int, reserve: int
) -> Sample[K]:
    _check_count(reserve, _("替补户数"))
    drawn: dict[K, tuple[int, ...]] = {}
    reserves: dict[K, tuple[int, ...]] = {}
    for key in sorted(plans):
        plan = plans[key]
        ids = frame.get(key, ())
        if plan.size != len(ids):
            raise SamplingError(
                _("单位“{key}”的户数已变化（抽样方案{planned}户，现有{now}户），请重新制定抽样方案").format(
                    key=key, planned=plan.size, now=len(ids)
                )
            )
        order = _order(len(ids), seed, key)
        drawn[key] = tuple(ids[position] for position in islice(order, plan.taken))
        reserves[key] = tuple(ids[position] for position in islice(order, reserve))
    return Sample(seed=seed, drawn=drawn, reserves=reserves)


def replacements[K: StratumKey](
    frame: Mapping[K, Sequence[int]], key: K, seed: int, already: int, count: int
) -> list[int]:
    """The ids at positions already … already+count−1 of stratum `key`'s seeded order (fewer at its end).

    `already` is how many ids of the order have been handed out: the sample's `taken` plus the replacements
    already used. They never repeat a sampled id or an earlier replacement.
    """
    _check_count(already, _("已抽取户数"))
    _check_count(count, _("替补户数"))
    ids = sorted_ids(frame.get(key, ()))
    return [ids[position] for position in islice(_order(len(ids), seed, key), already, already + count)]
