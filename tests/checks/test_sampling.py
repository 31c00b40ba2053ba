"""The spot check's sample: sizes, allocations and a reproducible stratified draw (no database)."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from songnuan.checks.sampling import (
    SamplingError,
    StratumPlan,
    allocate_by_margin,
    allocate_fixed,
    allocate_proportional,
    draw,
    draw_sorted,
    frame_digest,
    new_seed,
    parse_seed,
    plan_summary,
    replacements,
    sample_size,
    stratum_sizes,
)

D = Decimal
HUGE = 10**12


# --- sample sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "margin", "expected"),
    [
        (HUGE, "0.05", 385),
        (10_000, "0.05", 370),
        (1_000, "0.05", 278),
        (100, "0.05", 80),
        (HUGE, "0.03", 1068),
    ],
)
def test_sample_size_matches_the_textbook(population: int, margin: str, expected: int) -> None:
    assert sample_size(population, D(margin), D("0.95")) == expected


def test_sample_size_other_confidence_and_proportion() -> None:
    # z(99%) = 2.5758: 2.5758² × 0.25 / 0.05² = 663.5 → 664.
    # p = 0.1 at 95%: 3.8415 × 0.09 / 0.0025 = 138.3 → 139.
    assert sample_size(HUGE, D("0.05"), D("0.99")) == 664
    assert sample_size(HUGE, D("0.05"), D("0.95"), proportion=D("0.1")) == 139


@pytest.mark.parametrize("population", [0, 1, 2, 5, 30])
def test_sample_size_never_exceeds_the_population(population: int) -> None:
    size = sample_size(population, D("0.01"), D("0.99"))
    assert size == population  # so strict a margin needs everyone in a small population


def test_sample_size_grows_with_the_population() -> None:
    sizes = [sample_size(n, D("0.05"), D("0.95")) for n in (10, 100, 1000, 10_000, HUGE)]
    assert sizes == sorted(sizes)


@pytest.mark.parametrize(
    ("margin", "confidence", "proportion", "fragment"),
    [
        ("0", "0.95", "0.5", "允许误差"),
        ("-0.05", "0.95", "0.5", "允许误差"),
        ("0.6", "0.95", "0.5", "允许误差"),
        ("NaN", "0.95", "0.5", "允许误差"),
        ("0.05", "0", "0.5", "置信水平"),
        ("0.05", "1", "0.5", "置信水平"),
        ("0.05", "95", "0.5", "置信水平"),
        ("0.05", "0.95", "0", "预估比例"),
        ("0.05", "0.95", "1", "预估比例"),
    ],
)
def test_sample_size_refuses_what_makes_no_sense(
    margin: str, confidence: str, proportion: str, fragment: str
) -> None:
    with pytest.raises(SamplingError, match=fragment):
        sample_size(1000, D(margin), D(confidence), D(proportion))


def test_sample_size_accepts_the_largest_margin() -> None:
    assert sample_size(HUGE, D("0.5"), D("0.95")) == 4  # 3.8415 × 0.25 / 0.25


def test_sample_size_refuses_a_negative_population() -> None:
    with pytest.raises(SamplingError, match="总体户数"):
        sample_size(-1, D("0.05"), D("0.95"))


def test_sampling_error_is_a_value_error_translated_when_raised(marked_translator: None) -> None:
    with pytest.raises(ValueError, match=r"^\[译\]允许误差"):
        sample_size(10, D("0.7"), D("0.95"))


# --- allocation -----------------------------------------------------------------------------------


def test_stratum_plan_takes_what_there_is_and_says_so() -> None:
    assert (StratumPlan(size=10, wanted=4).taken, StratumPlan(size=10, wanted=4).short) == (4, False)
    assert (StratumPlan(size=10, wanted=10).taken, StratumPlan(size=10, wanted=10).short) == (10, False)
    assert (StratumPlan(size=3, wanted=4).taken, StratumPlan(size=3, wanted=4).short) == (3, True)
    with pytest.raises(SamplingError):
        StratumPlan(size=-1, wanted=0)


def test_allocate_fixed() -> None:
    plans = allocate_fixed({"b": 10, "a": 2, "c": 0}, 5)
    assert list(plans) == ["a", "b", "c"]
    assert {key: (plan.taken, plan.short) for key, plan in plans.items()} == {
        "a": (2, True),
        "b": (5, False),
        "c": (0, True),
    }
    assert plan_summary(plans) == (7, ["a", "c"], 12)
    with pytest.raises(SamplingError, match="不能为负数"):
        allocate_fixed({"a": 1}, -1)


def test_allocate_proportional_shares_by_size() -> None:
    plans = allocate_proportional({1: 100, 2: 300, 3: 600}, 100)
    assert {key: plan.taken for key, plan in plans.items()} == {1: 10, 2: 30, 3: 60}


def test_allocate_proportional_largest_remainder_and_ties_by_key() -> None:
    # Quotas 3⅓ each: one household left over, and the remainders tie → the smallest key gets it.
    plans = allocate_proportional({"乙": 10, "甲": 10, "丙": 10}, 10)
    takes = {key: plan.taken for key, plan in plans.items()}
    assert sum(takes.values()) == 10
    assert takes[min(takes)] == 4
    # Quotas 1.6, 2.4 and 6.0: the largest remainder (.6) gets the one left over.
    by_number = allocate_proportional({1: 4, 2: 6, 3: 15}, 10)
    assert {key: plan.taken for key, plan in by_number.items()} == {1: 2, 2: 2, 3: 6}


def test_allocate_proportional_holds_small_strata_at_the_minimum() -> None:
    plans = allocate_proportional({1: 10, 2: 20, 3: 3, 4: 1000}, 100, minimum=5)
    assert {key: (plan.wanted, plan.taken, plan.short) for key, plan in plans.items()} == {
        1: (5, 5, False),
        2: (5, 5, False),
        3: (5, 3, True),  # smaller than its minimum: all three, and said so
        4: (87, 87, False),
    }
    assert plan_summary(plans) == (100, [3], 1033)


def test_allocate_proportional_when_the_minimums_exceed_the_total() -> None:
    plans = allocate_proportional({1: 50, 2: 50, 3: 2}, 10, minimum=5)
    assert {key: plan.taken for key, plan in plans.items()} == {1: 5, 2: 5, 3: 2}
    assert plan_summary(plans).taken == 12  # more than the 10 asked: the page says so


def test_allocate_proportional_never_more_than_the_population() -> None:
    plans = allocate_proportional({1: 3, 2: 7}, 500)
    assert {key: (plan.taken, plan.short) for key, plan in plans.items()} == {1: (3, False), 2: (7, False)}


@pytest.mark.parametrize(("total", "minimum"), [(-1, 0), (10, -1)])
def test_allocate_proportional_refuses_negative_numbers(total: int, minimum: int) -> None:
    with pytest.raises(SamplingError, match="不能为负数"):
        allocate_proportional({1: 10}, total, minimum)


sizes_strategy = st.dictionaries(st.integers(0, 30), st.integers(0, 60), max_size=12)


@given(sizes=sizes_strategy, total=st.integers(0, 800), minimum=st.integers(0, 12))
def test_allocate_proportional_properties(sizes: dict[int, int], total: int, minimum: int) -> None:
    plans = allocate_proportional(sizes, total, minimum)
    assert list(plans) == sorted(sizes)
    floors = {key: min(minimum, size) for key, size in sizes.items()}
    target = min(total, sum(sizes.values()))
    for key, plan in plans.items():
        assert plan.size == sizes[key]
        assert floors[key] <= plan.taken <= plan.size
        assert plan.short == (plan.wanted > plan.size) == (minimum > plan.size)
    taken = sum(plan.taken for plan in plans.values())
    if sum(floors.values()) <= target:
        assert taken == target
    else:
        assert {key: plan.taken for key, plan in plans.items()} == floors
    assert plan_summary(plans).taken == taken


@given(sizes=sizes_strategy, total=st.integers(0, 800))
def test_allocate_proportional_stays_within_one_of_the_exact_quota(sizes: dict[int, int], total: int) -> None:
    population = sum(sizes.values())
    assume(population > 0)
    target = min(total, population)
    for key, plan in allocate_proportional(sizes, total).items():
        assert abs(plan.taken * population - target * sizes[key]) < population


@given(sizes=sizes_strategy, total=st.integers(0, 800), minimum=st.integers(0, 12))
def test_allocate_proportional_ignores_the_order_of_the_strata(
    sizes: dict[int, int], total: int, minimum: int
) -> None:
    reversed_sizes = dict(reversed(list(sizes.items())))
    assert allocate_proportional(sizes, total, minimum) == allocate_proportional(
        reversed_sizes, total, minimum
    )


def test_allocate_by_margin() -> None:
    plans = allocate_by_margin({1: 100, 2: 1000, 3: 0, 4: 3}, D("0.05"), D("0.95"), minimum=5)
    assert {key: (plan.wanted, plan.taken, plan.short) for key, plan in plans.items()} == {
        1: (80, 80, False),
        2: (278, 278, False),
        3: (5, 0, True),
        4: (5, 3, True),
    }


# --- the frame and the draw -----------------------------------------------------------------------

FRAME = {1: list(range(1000)), 2: [5, 3, 9]}


def test_frame_digest_ignores_order_and_repeats() -> None:
    shuffled = {2: [9, 3, 5, 3], 1: list(reversed(range(1000)))}
    assert frame_digest(shuffled) == frame_digest(FRAME)
    assert frame_digest(FRAME) == "a228ac3824e009be3a52b6739a44db88971185786cdb1b968eb7e74e703d634c"  # stable


def test_frame_digest_sees_every_difference() -> None:
    frames: list[dict[Any, list[int]]] = [
        FRAME,
        {1: list(range(1000)), 2: [5, 3]},
        {1: list(range(1000)), 3: [5, 3, 9]},
        {1: list(range(1000)), 2: [5, 3, 9], 4: []},
        {1: [5, 3, 9]},
        {"1": [5, 3, 9]},  # the key's type counts
        {},
    ]
    assert len({frame_digest(frame) for frame in frames}) == 7


def test_stratum_sizes_count_distinct_households() -> None:
    assert stratum_sizes({1: [3, 3, 1], 2: []}) == {1: 2, 2: 0}


def test_the_draw_is_pinned() -> None:
    """A recorded sample must be drawn again identically, on any machine and Python version."""
    sample = draw(FRAME, allocate_fixed({1: 1000, 2: 3}, 5), 20261203)
    assert sample.drawn == {1: (557, 944, 737, 546, 680), 2: (5, 3, 9)}
    assert sample.ids() == [557, 944, 737, 546, 680, 5, 3, 9]


def test_same_seed_same_sample_whatever_the_input_order() -> None:
    plans = allocate_fixed({1: 1000, 2: 3}, 20)
    shuffled_ids = list(range(1000)) * 2
    random.Random(7).shuffle(shuffled_ids)
    other_order = {2: [9, 5, 3], 1: shuffled_ids}
    assert draw(other_order, plans, 99) == draw(FRAME, plans, 99)
    assert draw(other_order, plans, 99, reserve=5) == draw(FRAME, plans, 99, reserve=5)


def test_another_seed_another_sample() -> None:
    plans = allocate_fixed({1: 1000}, 20)
    samples = {draw(FRAME, plans, seed).drawn[1] for seed in range(10)}
    assert len(samples) == 10


def test_strata_have_their_own_orders() -> None:
    frame = {1: list(range(100)), 2: list(range(100))}
    sample = draw(frame, allocate_fixed({1: 100, 2: 100}, 10), 5)
    assert sample.drawn[1] != sample.drawn[2]


def test_draw_sorted_trusts_the_caller_and_agrees_with_draw() -> None:
    frame = {1: range(0, 3000, 3), 2: range(10)}
    plans = allocate_fixed({1: 1000, 2: 10}, 7)
    assert draw_sorted(frame, plans, 11, reserve=3) == draw(frame, plans, 11, reserve=3)


def test_a_whole_stratum_is_a_permutation_of_it() -> None:
    sample = draw(FRAME, allocate_fixed({1: 1000}, 1000), 3)
    assert sorted(sample.drawn[1]) == list(range(1000))


@pytest.mark.parametrize("frame", [{}, {1: [], 2: []}])
def test_an_empty_frame_is_refused(frame: dict[int, list[int]]) -> None:
    with pytest.raises(SamplingError, match="抽样框为空"):
        draw(frame, allocate_fixed({key: 0 for key in frame}, 3), 1)
    with pytest.raises(SamplingError, match="抽样框为空"):
        draw_sorted(frame, {}, 1)


def test_a_stratum_with_nothing_to_take_draws_nothing() -> None:
    plans = {1: StratumPlan(size=1000, wanted=0), 2: StratumPlan(size=3, wanted=2)}
    sample = draw(FRAME, plans, 1)
    assert sample.drawn[1] == ()
    assert len(sample.drawn[2]) == 2


def test_strata_without_a_plan_are_not_drawn() -> None:
    sample = draw(FRAME, {2: StratumPlan(size=3, wanted=1)}, 1)
    assert list(sample.drawn) == [2]


def test_a_frame_that_changed_since_the_plan_is_refused() -> None:
    with pytest.raises(SamplingError, match="户数已变化"):
        draw(FRAME, {2: StratumPlan(size=4, wanted=1)}, 1)
    with pytest.raises(SamplingError, match="户数已变化"):
        draw(FRAME, {3: StratumPlan(size=4, wanted=1)}, 1)


def test_the_draw_is_uniform() -> None:
    """Over many seeds each household is first in line about equally often (a fixed set of seeds: no luck)."""
    frame = {1: list(range(10))}
    plans = allocate_fixed({1: 10}, 2)
    firsts = Counter(draw(frame, plans, seed).drawn[1][0] for seed in range(4000))
    seconds = Counter(draw(frame, plans, seed).drawn[1][1] for seed in range(4000))
    assert set(firsts) == set(seconds) == set(range(10))
    assert all(320 <= count <= 480 for count in [*firsts.values(), *seconds.values()])


@given(
    size=st.integers(1, 300),
    first=st.integers(0, 300),
    more=st.integers(0, 300),
    seed=st.integers(0, 10**18 - 1),
    key=st.one_of(st.integers(), st.text(max_size=5)),
)
def test_the_order_has_the_prefix_property(
    size: int, first: int, more: int, seed: int, key: int | str
) -> None:
    ids = list(range(7, 7 + 3 * size, 3))
    frame = {key: ids}
    small = draw(frame, {key: StratumPlan(size=size, wanted=first)}, seed).drawn[key]
    large = draw(frame, {key: StratumPlan(size=size, wanted=first + more)}, seed).drawn[key]
    assert large[: len(small)] == small
    assert len(small) == min(first, size)
    assert len(set(large)) == len(large)
    assert set(large) <= set(ids)
    # Replacements continue the same order: after the sample, never repeating it or one another.
    following = replacements(frame, key, seed, len(small), more)
    assert tuple(following) == large[len(small) :]
    assert not set(following) & set(small)


def test_replacements_follow_the_sample_and_run_out_at_the_end() -> None:
    plans = allocate_fixed({1: 1000, 2: 3}, 2)
    sample = draw(FRAME, plans, 42, reserve=4)
    whole = draw(FRAME, allocate_fixed({1: 1000, 2: 3}, 1000), 42).drawn
    assert sample.reserves == {1: whole[1][2:6], 2: whole[2][2:]}
    assert sample.next_replacements(FRAME, 1, 3) == list(whole[1][2:5])
    assert sample.next_replacements(FRAME, 1, 3, used=3) == list(whole[1][5:8])
    assert sample.next_replacements(FRAME, 2, 5) == list(whole[2][2:])
    assert replacements(FRAME, 2, 42, 3, 5) == []
    assert replacements({2: [9, 9, 3, 5]}, 2, 42, 0, 3) == list(whole[2])
    with pytest.raises(SamplingError):
        replacements(FRAME, 1, 42, -1, 3)


# --- seeds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seed"),
    [
        ("42", 42),
        ("  42\t", 42),
        ("　20261203　", 20261203),  # full-width spaces
        ("２０２６", 2026),
        ("0", 0),
        ("007", 7),
        ("9" * 18, 10**18 - 1),
    ],
)
def test_parse_seed_accepts_digits(text: str, seed: int) -> None:
    assert parse_seed(text) == seed


@pytest.mark.parametrize(
    "text", ["abc", "", "   ", "1" * 19, "-5", "3.14", "+5", "1e5", "12 34", "٣", "42abc"]
)
def test_parse_seed_refuses_anything_else(text: str) -> None:
    with pytest.raises(SamplingError) as raised:
        parse_seed(text)
    assert str(raised.value) == f"随机种子应为数字（1至18位），这里是“{text}”"


def test_new_seeds_are_fresh_18_digit_seeds_that_parse_back() -> None:
    seeds = [new_seed() for _ in range(20)]
    assert len(set(seeds)) == 20
    for seed in seeds:
        assert len(str(seed)) == 18
        assert parse_seed(str(seed)) == seed
