"""The spot check's statistics: rates, Wilson intervals, call outcomes and verdicts (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songnuan.checks.stats import (
    MAX_ATTEMPTS,
    Answers,
    Disposition,
    LedgerFacts,
    Verdict,
    channel_label,
    contact_rate,
    cooperation_rate,
    count_calls,
    household_outcome,
    rate,
    response_rate,
    verdict,
    wilson,
)

D = Decimal


# --- rates and intervals --------------------------------------------------------------------------


def test_rate() -> None:
    assert rate(1, 3) == D("0.3333")
    assert rate(2, 3) == D("0.6667")
    assert rate(0, 5) == D("0.0000")
    assert rate(5, 5) == D("1.0000")
    assert rate(1, 8) == D("0.1250")
    assert rate(1, 16) == D("0.0625")
    assert rate(1, 32) == D("0.0313")  # half up: 0.03125


def test_rate_of_nothing_is_none() -> None:
    assert rate(0, 0) is None


@pytest.mark.parametrize(("part", "whole"), [(-1, 3), (4, 3), (1, -1)])
def test_rate_refuses_impossible_counts(part: int, whole: int) -> None:
    with pytest.raises(ValueError, match="比率"):
        rate(part, whole)


@pytest.mark.parametrize(
    ("successes", "n", "lower", "upper"),
    [
        (0, 10, "0", "0.2775"),
        (10, 10, "0.7225", "1"),
        (5, 10, "0.2366", "0.7634"),
        (81, 100, "0.7222", "0.8749"),
        (1, 1, "0.2065", "1"),
        (0, 1, "0", "0.7935"),
    ],
)
def test_wilson_known_values(successes: int, n: int, lower: str, upper: str) -> None:
    assert wilson(successes, n) == (D(lower), D(upper))


def test_wilson_bounds_are_exact_at_the_ends() -> None:
    low, _high = wilson(0, 10_000) or (None, None)
    _low, high = wilson(10_000, 10_000) or (None, None)
    assert (low, high) == (D(0), D(1))
    assert str(low) == "0.0000" and str(high) == "1.0000"


def test_wilson_other_confidence() -> None:
    interval_95 = wilson(81, 100)
    interval_99 = wilson(81, 100, D("0.99"))
    assert interval_95 is not None and interval_99 is not None
    assert interval_99[0] < interval_95[0] and interval_95[1] < interval_99[1]
    assert interval_99 == (D("0.6910"), D("0.8905"))  # z = 2.5758


def test_wilson_of_nothing_is_none() -> None:
    assert wilson(0, 0) is None


@pytest.mark.parametrize(("successes", "n", "confidence"), [(-1, 3, "0.95"), (4, 3, "0.95"), (1, 3, "1")])
def test_wilson_refuses_impossible_input(successes: int, n: int, confidence: str) -> None:
    with pytest.raises(ValueError):
        wilson(successes, n, D(confidence))


@given(n=st.integers(1, 5000), data=st.data())
def test_wilson_contains_the_observed_rate(n: int, data: st.DataObject) -> None:
    successes = data.draw(st.integers(0, n))
    interval = wilson(successes, n)
    assert interval is not None
    lower, upper = interval
    observed = D(successes) / n
    assert D(0) <= lower <= observed.quantize(D("0.0001")) <= upper <= D(1)


# --- calls ----------------------------------------------------------------------------------------

S, F, N, OFF, INV, R = (
    Disposition.SELF,
    Disposition.FAMILY,
    Disposition.NO_ANSWER,
    Disposition.OFF,
    Disposition.INVALID,
    Disposition.REFUSED,
)


def test_disposition_values_and_labels() -> None:
    assert [d.value for d in Disposition] == ["self", "family", "no-answer", "off", "invalid", "refused"]
    assert [d.label() for d in Disposition] == [
        "接通本人",
        "接通家属",
        "无人接听",
        "关机/停机",
        "空号/错号",
        "拒访",
    ]
    assert [d for d in Disposition if d.reached] == [S, F]
    assert [d for d in Disposition if d.contact] == [S, F, R]


def test_labels_are_translated_when_shown(marked_translator: None) -> None:
    assert Disposition.REFUSED.label() == "[译]拒访"
    assert Verdict.CASH.label() == "[译]现金发放"
    assert channel_label("bank") == "[译]银行转账"


@pytest.mark.parametrize(
    ("attempts", "outcome"),
    [
        ((), None),
        ((N,), N),
        ((N, OFF), OFF),
        ((N, N, F), F),
        ((F, S), S),
        ((R, F), F),
        ((N, R, N), R),
        ((INV,), INV),
    ],
)
def test_household_outcome(attempts: tuple[Disposition, ...], outcome: Disposition | None) -> None:
    assert household_outcome(attempts) == outcome


def test_at_most_three_attempts() -> None:
    assert MAX_ATTEMPTS == 3
    with pytest.raises(ValueError, match="最多拨打3次"):
        household_outcome((N, N, N, S))


HOUSEHOLDS = [
    (S,),  # reached
    (N, F),  # reached at the second call
    (R,),  # contacted, refused
    (N, N, N),  # not contacted
    (INV,),  # not contacted: the number is wrong
    (),  # in the sample, never called yet
]


def test_call_counts_and_rates() -> None:
    counts = count_calls(HOUSEHOLDS)
    assert (counts.attempted, counts.contacted, counts.reached) == (5, 3, 2)
    assert contact_rate(HOUSEHOLDS) == D("0.6000")
    assert cooperation_rate(HOUSEHOLDS) == D("0.6667")
    assert response_rate(HOUSEHOLDS, sampled=6) == D("0.3333")
    assert contact_rate(iter(HOUSEHOLDS)) == D("0.6000")  # one pass over a generator is enough


def test_rates_of_no_calls_are_none() -> None:
    assert contact_rate([]) is None
    assert contact_rate([(), ()]) is None
    assert cooperation_rate([(N,), (OFF,)]) is None
    assert response_rate([], sampled=0) is None


def test_response_rate_refuses_more_calls_than_households() -> None:
    with pytest.raises(ValueError, match="多于抽中户数"):
        response_rate(HOUSEHOLDS, sampled=4)


# --- verdicts -------------------------------------------------------------------------------------

BY_CARD = LedgerFacts(total=D("500.00"), channels=frozenset({"card"}))
CARD_AND_CASH = LedgerFacts(total=D("500.00"), channels=frozenset({"card", "cash"}))


def test_verdict_values_and_labels() -> None:
    assert [v.value for v in Verdict] == ["confirmed", "amount-differs", "denies", "cash", "not-reached"]
    assert [v.label() for v in Verdict] == ["核实无误", "金额不符", "否认收到", "现金发放", "未联系上"]


def test_no_answers_is_not_reached() -> None:
    assert verdict(None, BY_CARD) is Verdict.NOT_REACHED
    assert verdict(Answers(), BY_CARD) is not Verdict.NOT_REACHED


def test_denies() -> None:
    assert verdict(Answers(received=False), BY_CARD) is Verdict.DENIES
    assert (
        verdict(Answers(received=False, how="cash", amount=D("1")), BY_CARD) is Verdict.DENIES
    )  # first rule
    assert verdict(Answers(received=True), BY_CARD) is Verdict.CONFIRMED
    assert verdict(Answers(received=None), BY_CARD) is Verdict.CONFIRMED  # not remembered is not a denial


def test_cash_against_a_card_or_bank_ledger() -> None:
    assert verdict(Answers(received=True, how="cash"), BY_CARD) is Verdict.CASH
    bank_and_card = LedgerFacts(total=D("500"), channels=frozenset({"bank", "card"}))
    assert verdict(Answers(received=True, how="cash", amount=D("300")), bank_and_card) is Verdict.CASH
    assert verdict(Answers(received=True, how="cash"), CARD_AND_CASH) is Verdict.CONFIRMED
    assert verdict(Answers(received=True, how="card"), BY_CARD) is Verdict.CONFIRMED
    no_channels = LedgerFacts(total=D("0"), channels=frozenset())
    assert verdict(Answers(received=True, how="cash"), no_channels) is Verdict.CONFIRMED


def test_amount_differs() -> None:
    assert verdict(Answers(received=True, amount=D("300")), BY_CARD) is Verdict.AMOUNT_DIFFERS
    assert verdict(Answers(received=True, amount=D("500")), BY_CARD) is Verdict.CONFIRMED
    assert verdict(Answers(received=True, amount=D("500.0")), BY_CARD) is Verdict.CONFIRMED
    assert verdict(Answers(received=True, amount=None), BY_CARD) is Verdict.CONFIRMED  # not remembered


def test_amount_tolerance() -> None:
    answers = Answers(received=True, amount=D("480"))
    assert verdict(answers, BY_CARD, tolerance=D("20")) is Verdict.CONFIRMED
    assert verdict(answers, BY_CARD, tolerance=D("19.99")) is Verdict.AMOUNT_DIFFERS
    with pytest.raises(ValueError, match="容差"):
        verdict(answers, BY_CARD, tolerance=D("-1"))


def test_answers_and_ledger_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="金额"):
        Answers(amount=D("-5"))
    with pytest.raises(ValueError, match="未知的发放方式"):
        Answers(how="wechat")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="未知的发放方式"):
        LedgerFacts(total=D("1"), channels=frozenset({"alipay"}))  # type: ignore[arg-type]
