"""The data-entry page in a real browser: live checks beside the cells, autosave, explanations, an edit
conflict, and unsaved edits kept in localStorage across a closed tab."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

from ..world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARNING = "warmth-2018.4A.within-raised"
SAVED = "document.getElementById('save-state').textContent.indexOf('已保存') >= 0"
# The page's local copy of unsaved edits (there is one submission in these tests), or {} if none.
DRAFT = "(JSON.parse(Object.values(localStorage)[0] || '{}'))"


def explanations_of(submission: Submission) -> dict[str, str]:
    submission.refresh_from_db()
    return dict(submission.explanations)


def until(page: Any, condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait (in the browser's own clock) until `condition` holds, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the page did not get there in time"
        page.wait_for_timeout(50)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_live_check_autosave_conflict_and_local_copy(page: Any, live_server: Any, world: World) -> None:
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page.goto(f"{live_server.url}/login/?next={entry}")
    page.fill("input[name=username]", "county_reporter")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}{entry}")

    # A sum that does not add up: marked beside the cell without reloading, and saved.
    page.fill("#input-2C", "5")
    page.fill("#input-2D", "1")
    page.wait_for_selector("#item-2C td.value[data-state=error]")
    assert "应等于分项之和" in page.inner_text("#item-2C td.msgs")
    assert "错误 1 个" in page.inner_text("#summary")
    page.wait_for_function(SAVED)
    submission = Submission.objects.get(unit=world.county)
    assert stored_values(submission)["2C"] == 5

    # Fixed on leaving the field; then a warning asks for an explanation, which is saved too.
    page.fill("#input-2C", "1")
    page.locator("#input-2C").blur()
    page.wait_for_selector("#item-2C td.value:not([data-state])")
    page.fill("#input-3A", "5")
    page.fill("#input-3D", "5")
    page.fill("#input-4A", "10")
    area = f"textarea[name='explain-{WARNING}']"
    page.wait_for_selector(area)
    assert page.get_attribute("#item-4A td.value", "data-state") == "warning"
    page.fill(area, "含上年结转")
    # "已保存" may still show from the save before; wait for the explanation itself to reach the database.
    until(page, lambda: explanations_of(submission) == {WARNING: "含上年结转"})

    # Someone else saves first: the page shows both versions and overwrites nothing until told.
    other = Client()
    other.force_login(world.users["county_reporter"])
    response = other.put(
        f"/api{entry[:-1]}",  # the API's table, where the page saves too
        data=json.dumps({"version": submission.version, "values": {"1A": "77", "5A": "3"}}),
        content_type="application/json",
    )
    assert response.status_code == 200
    page.fill("#input-1A", "66")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "保存被拒绝" in page.inner_text("#conflict")
    assert page.inner_text("#conflict tbody tr").split("\t")[1:] == ["77", "66"]
    assert stored_values(Submission.objects.get(pk=submission.pk))["1A"] == 77
    page.click("#conflict button[data-action=mine]")
    page.wait_for_function(SAVED)
    values = stored_values(Submission.objects.get(pk=submission.pk))
    assert (values["1A"], values["5A"]) == (66, 3)
    assert page.input_value("#input-5A") == "3"  # their other change is taken over

    # Offline, then the tab is closed: the edit is kept in localStorage and saved when the page is back.
    # The API refused at the route as well: the browser's offline switch alone let a save through now and
    # then on a loaded machine, and the test is of the local copy, not of the emulation.
    page.context.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(True)
    page.fill("#input-1B", "4")
    page.wait_for_function("document.getElementById('save-state').classList.contains('error')")
    page.wait_for_function(f"{DRAFT}.values?.['1B'] === '4'")
    page.close()
    assert stored_values(Submission.objects.get(pk=submission.pk)).get("1B") != 4  # kept locally only
    page.context.unroute("**/api/**")
    page = page.context.new_page()
    page.context.set_offline(False)
    # Another page of the site first: the copy outlived the closed tab (the entry page would take it).
    page.goto(f"{live_server.url}/")
    draft = page.evaluate(DRAFT)
    assert draft["values"] == {"1B": "4"}, draft
    page.goto(f"{live_server.url}{entry}")
    page.wait_for_selector("#notice:not([hidden])")
    assert page.input_value("#input-1B") == "4"
    page.wait_for_function(SAVED)
    assert stored_values(Submission.objects.get(pk=submission.pk))["1B"] == 4
    assert page.evaluate("Object.keys(localStorage).length") == 0


def test_typing_an_explanation_survives_the_swaps_and_a_server_error(
    page: Any, live_server: Any, world: World
) -> None:
    """The findings are swapped in after every pause in typing; the box being typed in stays the same element
    (text, focus and caret kept). A save that meets a server error is tried again, not given up."""
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page.goto(f"{live_server.url}/login/?next={entry}")
    page.fill("input[name=username]", "county_reporter")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}{entry}")
    submission = Submission.objects.get(unit=world.county)

    failures: list[str] = []

    def first_save_fails(route: Any) -> None:
        if route.request.method == "PUT" and not failures:
            failures.append(route.request.url)
            route.fulfill(status=500, content_type="text/html", body="<h1>Server Error</h1>")
        else:
            route.continue_()

    page.route(f"**/api{entry[:-1]}", first_save_fails)
    page.fill("#input-3A", "5")
    page.fill("#input-4A", "10")
    area = f"textarea[name='explain-{WARNING}']"
    page.wait_for_selector(area)
    page.evaluate(f"document.querySelector(\"{area}\").dataset.marker = 'typed-in'")
    page.click(area)
    # Slower than the 400 ms pause: each character is checked and saved, and the findings swapped in.
    page.keyboard.type("含上年", delay=700)
    page.wait_for_timeout(1000)
    page.keyboard.type("结转", delay=700)
    assert page.evaluate("document.activeElement.dataset.marker") == "typed-in"
    assert page.evaluate("document.activeElement.selectionStart") == len("含上年结转")
    assert page.input_value(area) == "含上年结转"
    until(page, lambda: explanations_of(submission) == {WARNING: "含上年结转"})
    assert failures  # the first save met the error, and a later one got through
    values = stored_values(Submission.objects.get(pk=submission.pk))
    assert (values["3A"], values["4A"]) == (Decimal(5), Decimal(10))
    assert page.input_value("#input-4A") == "10"
    page.wait_for_function("!document.querySelector('.explain.missing')")
    assert "还没有写说明" not in page.inner_text("#summary")


def test_an_answer_arriving_while_an_explanation_is_typed_leaves_the_focus_there(
    page: Any, live_server: Any, world: World
) -> None:
    """Each answer of …/check and …/save redraws the explanation boxes; the box being typed in stays put, so
    its textarea keeps the focus and what is typed next is not lost (moving it, even to the same place, blurs
    it: the next keystrokes, or the text of a fill, would go nowhere)."""
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page.goto(f"{live_server.url}/login/?next={entry}")
    page.fill("input[name=username]", "county_reporter")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}{entry}")
    page.fill("#input-3A", "5")
    page.fill("#input-3D", "5")
    page.fill("#input-4A", "10")
    area = f"textarea[name='explain-{WARNING}']"
    page.wait_for_selector(area)
    page.wait_for_function(SAVED)

    page.focus(area)
    # Another change is saved while the explanation has the focus (as when the person pauses while typing).
    page.evaluate(
        "() => { const input = document.getElementById('input-1A'); input.value = '7';"
        " input.dispatchEvent(new Event('input', { bubbles: true })); }"
    )
    page.wait_for_function(SAVED)
    assert page.evaluate("document.activeElement.name") == f"explain-{WARNING}"
    page.keyboard.type("含上年结转")
    submission = Submission.objects.get(unit=world.county)
    until(page, lambda: explanations_of(submission) == {WARNING: "含上年结转"})
    assert stored_values(submission)["1A"] == 7
