"""The household file's transition table, walked: for every state of a file (with and without a proposal
pending) and every kind of account, the file page offers an action exactly when the service carries it out,
and afterwards the file stands in the state the table names. Each action runs in a savepoint rolled back,
so all start from the same file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from songnuan.archive.models import Household, Proposal
from songnuan.archive.services import (
    ArchiveError,
    HouseholdInput,
    household_apply,
    household_close,
    household_edit,
    household_file,
    household_out_of_difficulty,
    household_propose_close,
    household_propose_out,
    household_reopen,
    household_review_yearly,
    plan_set,
    proposal_approve,
    proposal_reject,
    proposal_withdraw,
)
from songnuan.archive.transitions import (
    HOUSEHOLD_TRANSITIONS,
    Action,
    available_actions,
    state_refusal,
    target,
)
from songnuan.orgs.models import Account
from songnuan.orgs.permissions import may_decide_file, may_keep_file, may_propose_file
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World

ON = dt.date(2026, 11, 30)
PATH = Household.OutPath.EMPLOYMENT
Status = Household.Status

RUN: dict[Action, Callable[[User, Household], object]] = {
    Action.FILE: lambda u, h: household_file(user=u, household=h),
    Action.REVIEW: lambda u, h: household_review_yearly(user=u, household=h, note="仍然困难"),
    Action.OUT: lambda u, h: household_out_of_difficulty(user=u, household=h, path=PATH, on=ON),
    Action.CLOSE: lambda u, h: household_close(user=u, household=h, reason="户主迁出本市", on=ON),
    Action.PROPOSE_OUT: lambda u, h: household_propose_out(user=u, household=h, path=PATH, on=ON),
    Action.PROPOSE_CLOSE: lambda u, h: household_propose_close(
        user=u, household=h, reason="户主迁出本市", on=ON
    ),
    Action.APPROVE: lambda u, h: proposal_approve(user=u, household=h),
    Action.REJECT: lambda u, h: proposal_reject(user=u, household=h, reason="材料不全"),
    Action.WITHDRAW: lambda u, h: proposal_withdraw(user=u, household=h),
    Action.REOPEN: lambda u, h: household_reopen(user=u, household=h, reason="误登记"),
    Action.PLAN: lambda u, h: plan_set(
        user=u, household=h, contact="李红", deadline=None, measures="", path=""
    ),
    Action.EDIT: lambda u, h: household_edit(
        user=u,
        household=h,
        data=HouseholdInput(
            head_name="王建华",
            head_id_number="11010519491231002X",
            category=Household.Category.WORKER,
            monthly_income=Decimal("2400"),
        ),
    ),
}

#: The form of each action on the file page (its HTML id).
FORM_ID = {
    Action.FILE: "file-form",
    Action.REVIEW: "review-form",
    Action.OUT: "out-form",
    Action.CLOSE: "close-form",
    Action.PROPOSE_OUT: "propose-out-form",
    Action.PROPOSE_CLOSE: "propose-close-form",
    Action.APPROVE: "approve-form",
    Action.REJECT: "reject-form",
    Action.WITHDRAW: "withdraw-form",
    Action.REOPEN: "reopen-form",
    Action.PLAN: "plan-form",
    Action.EDIT: "edit-form",  # a GET form: the button to the correction page
}

#: The file's situations: how each is reached from a fresh application by the county's reporter.
SCENARIOS: dict[str, tuple[Action, ...]] = {
    "applied": (),
    "applied, closing proposed": (Action.PROPOSE_CLOSE,),
    "filed": (Action.FILE,),
    "filed, out proposed": (Action.FILE, Action.PROPOSE_OUT),
    "filed, closing proposed": (Action.FILE, Action.PROPOSE_CLOSE),
    "out": (Action.FILE, Action.OUT),
    "closed": (Action.FILE, Action.CLOSE),
    "closed before filing": (Action.CLOSE,),
}
PROPOSER_STEPS = {Action.PROPOSE_OUT, Action.PROPOSE_CLOSE}

#: Every kind of account: the unit's own reporter (keeps and proposes), the reviewer above (decides), an
#: admin above, a reviewer of the unit itself, a reporter of the unit below, of a sibling unit, and a
#: reviewer of another branch.
USERS = (
    "county_reporter",
    "city_reviewer",
    "city_admin",
    "county_reviewer",
    "enterprise_reporter",
    "sibling_reporter",
    "sibling_reviewer",
)


def with_sibling_reviewer(world: World) -> World:
    world.users["sibling_reviewer"] = account_create(
        username="sibling_reviewer", password=PASSWORD, unit=world.sibling, role=Account.Role.REVIEWER
    ).user
    return world


def household_in(world: World, scenario: str) -> Household:
    household = household_apply(
        user=world.users["county_reporter"],
        unit=world.county,
        data=HouseholdInput(
            head_name="王建国",
            head_id_number="11010519491231002X",
            category=Household.Category.WORKER,
            monthly_income=Decimal("2400"),
        ),
    )
    for step in SCENARIOS[scenario]:
        who = "county_reporter" if step in PROPOSER_STEPS else "city_reviewer"
        RUN[step](world.users[who], Household.objects.get(pk=household.pk))
    return Household.objects.get(pk=household.pk)


def offered_on_page(world: World, username: str, household: Household) -> set[Action]:
    response = world.client(username).get(reverse("archive:detail", args=[household.pk]))
    if response.status_code == 404:  # the file is out of sight: nothing offered
        return set()
    assert response.status_code == 200
    html = response.content.decode()
    return {action for action, form in FORM_ID.items() if re.search(rf'id="{form}"', html)}


def outcome(action: Action, user: User, household: Household) -> str | None:
    """The state the file stands in after `action` (None when refused); nothing of it is kept."""
    state: str | None = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                RUN[action](user, Household.objects.get(pk=household.pk))
        except (PermissionDenied, ArchiveError):
            pass
        else:
            state = Household.objects.get(pk=household.pk).status
        transaction.set_rollback(True)
    return state


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_page_offers_exactly_what_the_service_does(world: World, scenario: str, username: str) -> None:
    world = with_sibling_reviewer(world)
    household = household_in(world, scenario)
    user = world.users[username]
    pending = household.pending_proposal()
    offered = available_actions(user, household)
    assert offered_on_page(world, username, household) == offered
    done: dict[Action, str | None] = {action: outcome(action, user, household) for action in Action}
    assert {action for action, state in done.items() if state is not None} == offered
    for action in offered:
        expected = target(action, household, pending) or household.status
        assert done[action] == expected, action


def test_every_action_is_offered_somewhere(world: World) -> None:
    """The walk above is not vacuous: each action of the table is offered in some situation to someone."""
    world = with_sibling_reviewer(world)
    seen: set[Action] = set()
    for scenario in SCENARIOS:
        household = household_in(world, scenario)
        for username in USERS:
            seen |= available_actions(world.users[username], household)
        household.delete()
    assert seen == set(Action)


@pytest.mark.parametrize(
    ("scenario", "action", "to"),
    [
        ("applied", Action.FILE, Status.FILED),
        ("filed", Action.OUT, Status.OUT),
        ("filed", Action.CLOSE, Status.CLOSED),
        ("applied", Action.CLOSE, Status.CLOSED),
        ("filed, out proposed", Action.APPROVE, Status.OUT),
        ("filed, closing proposed", Action.APPROVE, Status.CLOSED),
        ("applied, closing proposed", Action.APPROVE, Status.CLOSED),
        ("out", Action.REOPEN, Status.FILED),
        ("closed", Action.REOPEN, Status.FILED),
        ("closed before filing", Action.REOPEN, Status.APPLIED),
        ("filed", Action.REVIEW, None),
        ("filed", Action.PROPOSE_OUT, None),
        ("filed, out proposed", Action.REJECT, None),
        ("filed, out proposed", Action.WITHDRAW, None),
        ("filed", Action.PLAN, None),
        ("applied", Action.EDIT, None),
        ("filed, out proposed", Action.EDIT, None),
    ],
)
def test_where_each_action_leads(world: World, scenario: str, action: Action, to: str | None) -> None:
    household = household_in(world, scenario)
    assert target(action, household, household.pending_proposal()) == to


NOT_PENDING = "这份档案没有待审核的解困脱困或注销申请"
ENDED = "这份档案已经结束，不能再注销"


@pytest.mark.parametrize(
    ("scenario", "action", "username", "message"),
    [
        ("filed", Action.FILE, "city_reviewer", "只有已申请的档案可以审核建档"),
        ("out", Action.FILE, "city_reviewer", "只有已申请的档案可以审核建档"),
        ("applied", Action.REVIEW, "city_reviewer", "只有已建档的档案需要年审"),
        ("closed", Action.REVIEW, "city_reviewer", "只有已建档的档案需要年审"),
        ("applied", Action.OUT, "city_reviewer", "只有已建档的困难职工家庭才能登记解困脱困"),
        ("out", Action.OUT, "city_reviewer", "只有已建档的困难职工家庭才能登记解困脱困"),
        ("out", Action.CLOSE, "city_reviewer", ENDED),
        ("closed", Action.CLOSE, "city_reviewer", ENDED),
        ("applied", Action.PROPOSE_OUT, "county_reporter", "只有已建档的困难职工家庭才能申请解困脱困"),
        ("closed", Action.PROPOSE_OUT, "county_reporter", "只有已建档的困难职工家庭才能申请解困脱困"),
        ("out", Action.PROPOSE_CLOSE, "county_reporter", ENDED),
        ("out", Action.APPROVE, "city_reviewer", NOT_PENDING),
        ("closed", Action.REJECT, "city_reviewer", NOT_PENDING),
        ("out", Action.WITHDRAW, "county_reporter", NOT_PENDING),
        ("applied", Action.REOPEN, "city_reviewer", "只有已解困脱困或已注销的档案可以恢复"),
        ("filed", Action.REOPEN, "city_reviewer", "只有已解困脱困或已注销的档案可以恢复"),
        ("out", Action.PLAN, "county_reporter", "这份档案已经结束，不能再修改帮扶计划"),
        ("closed", Action.PLAN, "city_reviewer", "这份档案已经结束，不能再修改帮扶计划"),
        (
            "out",
            Action.EDIT,
            "county_reporter",
            "这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案",
        ),
        (
            "closed",
            Action.EDIT,
            "city_reviewer",
            "这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案",
        ),
        (
            "closed before filing",
            Action.EDIT,
            "city_admin",
            "这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案",
        ),
    ],
)
def test_refusals_by_state(world: World, scenario: str, action: Action, username: str, message: str) -> None:
    household = household_in(world, scenario)
    assert state_refusal(action, household) == message
    with pytest.raises(ArchiveError) as refused:
        RUN[action](world.users[username], household)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("scenario", "action", "username", "message"),
    [
        # Beyond the state: the services' own refusals, which the page avoids by the table's `pending`.
        ("filed", Action.APPROVE, "city_reviewer", NOT_PENDING),
        ("filed", Action.REJECT, "city_reviewer", NOT_PENDING),
        ("filed", Action.WITHDRAW, "county_reporter", NOT_PENDING),
        (
            "filed, out proposed",
            Action.PROPOSE_CLOSE,
            "county_reporter",
            "这份档案已有待上级审核的解困脱困申请（county_reporter提出），请等待审核或先撤回",
        ),
        # The unit's own staff may only propose what the reviewer above decides.
        (
            "filed",
            Action.OUT,
            "county_reporter",
            "解困脱困须由上级工会审核确认：请提出解困脱困申请，由上级审核员同意",
        ),
        (
            "filed",
            Action.CLOSE,
            "county_reporter",
            "注销档案须由上级工会审核确认：请提出注销申请，由上级审核员同意",
        ),
    ],
)
def test_refusals_beyond_the_state(
    world: World, scenario: str, action: Action, username: str, message: str
) -> None:
    household = household_in(world, scenario)
    assert state_refusal(action, household) is None
    with pytest.raises(ArchiveError) as refused:
        RUN[action](world.users[username], household)
    assert str(refused.value) == message


def test_the_table_covers_every_action_and_state() -> None:
    assert set(HOUSEHOLD_TRANSITIONS) == set(Action)
    for transition in HOUSEHOLD_TRANSITIONS.values():
        assert transition.allowed_from <= set(Status.values)
        assert transition.to is None or transition.to in Status.values
    # Approving does what was proposed: every kind of proposal names an action of the table.
    assert set(Proposal.Kind.values) == {"out", "close"}


def test_who_is_asked_of_the_permissions_module() -> None:
    """The table names the states; who may act is a question of `orgs.permissions`, asked with the unit."""
    decides = {
        Action.FILE,
        Action.REVIEW,
        Action.OUT,
        Action.CLOSE,
        Action.APPROVE,
        Action.REJECT,
        Action.REOPEN,
    }
    proposes = {Action.PROPOSE_OUT, Action.PROPOSE_CLOSE, Action.WITHDRAW}
    keeps = {Action.PLAN, Action.EDIT}
    assert decides | proposes | keeps == set(Action)
    for action, transition in HOUSEHOLD_TRANSITIONS.items():
        expected = (
            may_decide_file
            if action in decides
            else may_propose_file
            if action in proposes
            else may_keep_file
        )
        assert transition.may is expected, action
