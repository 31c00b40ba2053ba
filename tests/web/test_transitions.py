"""The transition table of a submitted table, walked: in every state, for every kind of user, the entry page
offers an action exactly when the service carries it out, and the table then stands where the table says —
for an enterprise's table, a county's own table, and the table of the campaign's owner (the city), which has
nobody above it and is reviewed by the city's own reviewer or admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from songnuan.reporting.models import Submission
from songnuan.reporting.services import (
    ReportingError,
    submission_accept,
    submission_return,
    submission_save,
    submission_submit,
    submission_unlock,
)
from songnuan.reporting.transitions import SUBMISSION_TRANSITIONS, Action, available_actions

from ..world import World
from .test_workflow_services import FORM, draft

Status = Submission.Status
User = Any

RUN: dict[Action, Callable[[Submission, User], object]] = {
    Action.SAVE: lambda s, u: submission_save(submission=s, user=u, version=s.version, values={"1A": "49"}),
    Action.SUBMIT: lambda s, u: submission_submit(submission=s, user=u),
    Action.RETURN: lambda s, u: submission_return(submission=s, user=u, comment="请核对3A"),
    Action.ACCEPT: lambda s, u: submission_accept(submission=s, user=u),
    Action.UNLOCK: lambda s, u: submission_unlock(submission=s, user=u, reason="数字有误"),
}
#: What shows on the entry page that the action is offered.
ON_PAGE = {
    Action.SAVE: 'id="input-1A"',
    Action.SUBMIT: 'id="submit-form"',
    Action.RETURN: 'id="return-form"',
    Action.ACCEPT: 'id="accept-form"',
    Action.UNLOCK: 'id="unlock-form"',
}
#: The enterprise union's own reporter, the reviewers above it, an admin above it, and two who are neither.
USERS = ["enterprise_reporter", "county_reviewer", "city_admin", "county_reporter", "sibling_reporter"]
#: Per table walked: who fills it, who reviews it in `table_in`, and the users the walk tries.
TABLES = {
    "enterprise": ("enterprise_reporter", "county_reviewer", USERS),
    # A county's own table goes up to the city: its own reviewer may not decide it.
    "county": ("county_reporter", "city_reviewer", ["county_reporter", "county_reviewer", "city_reviewer"]),
    # The campaign's owner: its own admin fills it, its own reviewer and admin decide it; nobody below may.
    "owner": (
        "city_admin",
        "city_reviewer",
        ["city_admin", "city_reviewer", "county_reviewer", "county_reporter", "enterprise_reporter"],
    ),
}
WALK = [(table, username) for table, (_filler, _reviewer, users) in TABLES.items() for username in users]


def table_in(world: World, status: str, table: str = "enterprise") -> Submission:
    """The table's unit's table (valid, every warning explained) in the given state."""
    filler, reviewer_name, _users = TABLES[table]
    submission = draft(world, filler)
    reviewer = world.users[reviewer_name]
    if status != Status.DRAFT:
        submission = submission_submit(submission=submission, user=world.users[filler])
    if status == Status.RETURNED:
        submission = submission_return(submission=submission, user=reviewer, comment="改")
    elif status == Status.ACCEPTED:
        submission = submission_accept(submission=submission, user=reviewer)
    assert submission.status == status
    return submission


def test_every_state_and_action_is_in_the_table() -> None:
    assert set(SUBMISSION_TRANSITIONS) == set(Action) == set(RUN) == set(ON_PAGE)
    reachable = {t.to for t in SUBMISSION_TRANSITIONS.values() if t.to} | {Status.DRAFT}
    assert reachable == set(Status.values)


@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize(("table", "username"), WALK)
def test_the_page_offers_exactly_what_the_service_does(
    world: World, status: str, table: str, username: str
) -> None:
    submission = table_in(world, status, table)
    user = world.users[username]
    url = f"/campaigns/{world.campaign.pk}/units/{submission.unit_id}/forms/{FORM}/"
    response = world.client(username).get(url)
    page = response.content.decode() if response.status_code == 200 else ""
    offered = {action for action in Action if ON_PAGE[action] in page}
    assert offered == available_actions(user, submission)
    for action in Action:
        fresh = Submission.objects.get(pk=submission.pk)
        try:
            with transaction.atomic():
                RUN[action](fresh, user)
                done = Submission.objects.get(pk=submission.pk)
                transaction.set_rollback(True)  # each action from the same starting state
        except (PermissionDenied, ReportingError):
            assert action not in offered, f"{action} offered to {username} on a {status} table, but refused"
            continue
        assert action in offered, f"{action} hidden from {username} on a {status} table, but carried out"
        assert done.status == (SUBMISSION_TRANSITIONS[action].to or status)


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (Status.SUBMITTED, Action.SAVE, "这张表已报送，不能修改"),
        (Status.ACCEPTED, Action.SUBMIT, "这张表审核通过，不能再报送"),
        (Status.DRAFT, Action.RETURN, "只能退回已报送的表，这张表草稿"),
        (Status.RETURNED, Action.ACCEPT, "只能审核通过已报送的表，这张表已退回"),
        (Status.SUBMITTED, Action.UNLOCK, "只有审核通过的表才需要解锁"),
    ],
)
def test_a_refusal_by_state_says_why(world: World, status: str, action: Action, message: str) -> None:
    submission = table_in(world, status)
    who = "enterprise_reporter" if action in (Action.SAVE, Action.SUBMIT) else "county_reviewer"
    with pytest.raises(ReportingError) as refused:
        RUN[action](submission, world.users[who])
    assert str(refused.value) == message


@pytest.mark.parametrize("status", Status.values)
def test_the_campaign_list_words_its_links_by_the_table(world: World, status: str) -> None:
    """填报 for the unit's own reporter while it may save; 审核 for the reviewer above while it may decide."""
    submission = table_in(world, status)
    home = f"/campaigns/{world.campaign.pk}/"

    def link_word(username: str) -> str:
        page = world.client(username).get(home).content.decode()
        section = page[page.index(f'id="unit-{submission.unit_id}"') :]
        link = section[
            section.index(f'href="/campaigns/{world.campaign.pk}/units/{submission.unit_id}/forms/{FORM}/"') :
        ]
        return link[link.index(">") + 1 : link.index("</a>")]

    reporter, reviewer = world.users["enterprise_reporter"], world.users["county_reviewer"]
    assert link_word("enterprise_reporter") == (
        "填报" if Action.SAVE in available_actions(reporter, submission) else "查看"
    )
    assert link_word("county_reviewer") == (
        "审核" if Action.ACCEPT in available_actions(reviewer, submission) else "查看"
    )
    assert link_word("county_reviewer") == ("审核" if status == Status.SUBMITTED else "查看")
    assert link_word("enterprise_reporter") == (
        "填报" if status in (Status.DRAFT, Status.RETURNED) else "查看"
    )


#: Who may decide (return, accept, unlock) each table: those above its unit, and for the campaign's owner
#: its own reviewer and admin — the only unit that reviews its own tables.
DECIDERS = {
    "enterprise": {"county_reviewer", "city_admin", "city_reviewer"},
    "county": {"city_admin", "city_reviewer"},
    "owner": {"city_admin", "city_reviewer"},
}


@pytest.mark.parametrize("table", TABLES)
def test_who_decides_each_table(world: World, table: str) -> None:
    submission = table_in(world, Status.SUBMITTED, table)
    deciders = {
        name
        for name, user in world.users.items()
        if {Action.RETURN, Action.ACCEPT} <= available_actions(user, submission)
    }
    assert deciders == DECIDERS[table]


def test_a_county_reviewer_cannot_accept_its_own_county_table(world: World) -> None:
    submission = table_in(world, Status.SUBMITTED, "county")
    with pytest.raises(PermissionDenied):
        submission_accept(submission=submission, user=world.users["county_reviewer"])
    response = world.client("county_reviewer").post(
        reverse("campaign:accept", args=[world.campaign.pk, world.county.pk, FORM])
    )
    assert response.status_code == 403
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED


def test_in_a_campaign_of_the_county_the_county_decides_its_own_table(world: World) -> None:
    """The rule follows the campaign's owner, not the city: in a county's own campaign the county is the
    top, and its reviewer accepts the county's own table."""
    world.campaign.owner = world.county
    world.campaign.save(update_fields=["owner"])
    submission = table_in(world, Status.SUBMITTED, "county")
    accepted = submission_accept(submission=submission, user=world.users["county_reviewer"])
    assert accepted.status == Status.ACCEPTED
