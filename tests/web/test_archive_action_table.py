"""The archive's one table of actions on a file (`songnuan.archive.views.HOUSEHOLD_ACTIONS`): it covers the
transition table, each form's fields are its service's keyword arguments, and every action keeps its address
and URL name."""

from __future__ import annotations

import inspect

import pytest
from django.urls import resolve, reverse

from songnuan.archive.transitions import HOUSEHOLD_TRANSITIONS, Action
from songnuan.archive.views import HOUSEHOLD_ACTIONS, action_url_name, household_action

from ..world import World

#: Every action's URL name and address, as the templates and the bookmarks know them.
ADDRESSES = {
    "file": "/archive/7/file/",
    "review": "/archive/7/review/",
    "out": "/archive/7/out/",
    "close": "/archive/7/close/",
    "propose-out": "/archive/7/propose-out/",
    "propose-close": "/archive/7/propose-close/",
    "approve": "/archive/7/proposal/approve/",
    "reject": "/archive/7/proposal/reject/",
    "withdraw": "/archive/7/proposal/withdraw/",
    "reopen": "/archive/7/reopen/",
    "plan": "/archive/7/plan/",
}


def test_the_table_posts_the_transition_table_actions_at_their_addresses() -> None:
    assert set(HOUSEHOLD_ACTIONS) <= set(HOUSEHOLD_TRANSITIONS)
    assert {action_url_name(action) for action in HOUSEHOLD_ACTIONS} == set(ADDRESSES)


@pytest.mark.parametrize("action", list(HOUSEHOLD_ACTIONS))
def test_the_form_fields_are_the_service_keyword_arguments(action: Action) -> None:
    taken = HOUSEHOLD_ACTIONS[action]
    parameters = inspect.signature(taken.service).parameters
    assert all(parameter.kind == inspect.Parameter.KEYWORD_ONLY for parameter in parameters.values())
    fields = set(taken.form.base_fields) if taken.form is not None else set()
    assert set(parameters) == {"user", "household"} | fields


@pytest.mark.parametrize("action", list(HOUSEHOLD_ACTIONS))
def test_every_action_keeps_its_address_and_name(action: Action) -> None:
    name = action_url_name(action)
    address = reverse(f"archive:{name}", args=[7])
    assert address == ADDRESSES[name]
    match = resolve(address)
    assert match.func is household_action
    assert match.kwargs == {"pk": 7, "action": action}
    assert match.url_name == name


@pytest.mark.django_db
def test_an_action_answers_only_a_post(world: World) -> None:
    client = world.client("county_reviewer")
    for address in ADDRESSES.values():
        assert client.get(address).status_code == 405
