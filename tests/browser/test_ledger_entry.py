"""附件1 against the relief ledger on the entry page, in a real browser (issue 12: "a mismatch shows as a
warning on the entry page"):

- each item the ledger derives shows "台账：N" beside it, N as the table takes it (money in 万元);
- a typed value that differs from the ledger's is a warning (与台账不符) beside the cell, which the
  reporter explains like any other warning; a value equal to the ledger's is not;
- 从台账填入空白项 fills the blank derivable items with the ledger's values and leaves typed ones alone.

The ledger is 东宝区's of `tests/ledger/ledgerworld.py` (150,000 yuan raised: 100,000 central, 50,000
union) with two approved card payments to filed workers' households (王建国 1,000, 李秀英 600 yuan) and
one draft (not counted), and no activities (so no "台账" beside 1A: the ledger has nothing to say).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values
from tests.ledger.ledgerworld import build_ledger_world, help_input

from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = "warmth-2018"
#: What the ledger above derives for the county's 附件1 (hand-computed): households helped (2C, 2D),
#: money raised in 万元 (3A–3F), money handed out in 万元 (4A, 4B).
EXPECTED = {
    "2C": "2",
    "2D": "2",
    "2E": "0",
    "3A": "15",
    "3B": "10",
    "3C": "0",
    "3D": "5",
    "3E": "0",
    "4A": "0.16",
    "4B": "0.16",
}


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait for the server side to catch up with the page (autosave is asynchronous)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def saved(world: World) -> dict[str, Any]:
    submission = Submission.objects.filter(campaign=world.campaign, unit=world.county, form_code=FORM).first()
    return stored_values(submission) if submission is not None else {}


def explanations_of(world: World) -> dict[str, str]:
    submission = Submission.objects.get(campaign=world.campaign, unit=world.county, form_code=FORM)
    return dict(submission.explanations)


def msgs(page: Any, code: str) -> str:
    return " ".join(page.inner_text(f"#item-{code} td.msgs").split())


def entry_with_ledger(browser: Any, live_server: Any, world: World) -> Any:
    """The ledger above; the county's reporter at its 附件1."""
    ledger = build_ledger_world(world)
    ledger.approve(ledger.add(help_input(ledger.wang)))
    ledger.approve(ledger.add(help_input(ledger.li, amount=Decimal("600"), paid_on=dt.date(2018, 1, 25))))
    ledger.add(help_input(ledger.wang, item="living", amount=Decimal("300")))  # a draft: not counted
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/{FORM}/"
    return log_in(browser, live_server, "county_reporter", entry)


def fill_from_ledger(page: Any, world: World, *, typed: dict[str, str]) -> None:
    """从台账填入空白项: every blank derivable item gets the ledger's value; `typed` stays as typed."""
    page.click("#fill-from-ledger")
    for code, value in EXPECTED.items():
        assert page.locator(f"#input-{code}").input_value() == typed.get(code, value), code
    assert page.locator("#input-1A").input_value() == ""  # the ledger says nothing about it
    until(lambda: saved(world).get("3A") == 15, "the filled items to be saved")


def test_ledger_hints_mismatch_warning_and_fill(browser: Any, live_server: Any, world: World) -> None:
    page = entry_with_ledger(browser, live_server, world)

    # "台账：N" beside each derivable item the ledger says something about.
    hints = {code: page.locator(f"#item-{code} .ledger-hint") for code in EXPECTED}
    shown = {code: hint.inner_text().strip() for code, hint in hints.items() if hint.count()}
    assert shown == {code: f"台账：{value}" for code, value in EXPECTED.items()}, shown
    assert page.locator("#item-1A .ledger-hint").count() == 0  # no activities in the ledger
    assert "填报数与台账不符时给出警告" in page.inner_text(".ledger-note")

    # A typed value equal to the ledger's is no warning.
    page.fill("#input-2C", "2")
    page.fill("#input-2D", "2")
    page.locator("#input-2D").blur()
    until(lambda: saved(world).get("2D") == 2, "2C and 2D to be saved")
    assert "与台账不符" not in msgs(page, "2C") and "与台账不符" not in msgs(page, "2D")

    # A typed value that differs from the ledger: a warning beside the cell.
    page.fill("#input-4B", "0.1")
    page.locator("#input-4B").blur()
    page.wait_for_selector("#item-4B td.msgs .msg.warning")
    assert "填报 0.1，与台账不符：台账 0.16，请核实并说明" in msgs(page, "4B"), msgs(page, "4B")

    # 从台账填入空白项: the blank items get the ledger's values; the typed ones stay.
    fill_from_ledger(page, world, typed={"4B": "0.1"})
    values = saved(world)
    assert (values["3A"], values["3B"], values["3D"], values["4A"]) == (15, 10, 5, Decimal("0.16"))
    assert (values["2C"], values["4B"], values["1A"]) == (2, Decimal("0.1"), None)

    # With the table whole, the mismatch is the one thing said about 4B: a warning (核实性审核), with a box
    # for its explanation; the filled items agree with the ledger.
    page.wait_for_selector("#item-4B td.value[data-state=warning]")
    page.wait_for_selector(f"textarea[name='explain-{FORM}.4B.ledger']")
    for code in EXPECTED:
        if code != "4B":
            assert "与台账不符" not in msgs(page, code), msgs(page, code)

    # After a reload, as stored.
    page.reload()
    assert page.get_attribute("#item-4B td.value", "data-state") == "warning"
    assert "与台账不符：台账 0.16" in msgs(page, "4B")


def test_a_ledger_mismatch_is_explained(browser: Any, live_server: Any, world: World) -> None:
    """The warning's explanation is saved like any other warning's, and then nothing is left unexplained."""
    page = entry_with_ledger(browser, live_server, world)
    fill_from_ledger(page, world, typed={})
    page.fill("#input-4B", "0.1")
    page.locator("#input-4B").blur()
    page.wait_for_selector("#item-4B td.value[data-state=warning]")
    page.fill(f"textarea[name='explain-{FORM}.4B.ledger']", "含物品折价，台账中另行登记")
    until(
        lambda: explanations_of(world).get(f"{FORM}.4B.ledger") == "含物品折价，台账中另行登记",
        "the explanation to be saved",
        seconds=10,
    )
    assert "保存失败" not in page.inner_text("#save-state")
    page.reload()
    assert "还没有写说明" not in page.inner_text("#summary"), page.inner_text("#summary")
