"""What may happen to a submitted table in each state, and who may do it: the one table that the services'
guards and the pages' buttons both read.

    草稿/已退回 ──报送──▶ 已报送 ──通过──▶ 已通过 ──解锁──▶ 已退回
        ▲  (保存)            └────退回────▶ 已退回

Who: the unit's own staff save and submit (`can_fill`); a reviewer or admin above the unit returns, accepts
and unlocks (`may_review_table`) — and for the tables of the campaign's owner (the unit that sent the
notice, with nobody above it in the campaign) a reviewer or admin of that unit itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from songnuan.orgs.permissions import User, can_fill, may_review_table
from songnuan.reporting.models import Submission

Status = Submission.Status


class Action(StrEnum):
    SAVE = "save"
    SUBMIT = "submit"
    RETURN = "return"
    ACCEPT = "accept"
    UNLOCK = "unlock"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to: str | None  # None: the state stays (a save)
    may: Callable[[User, Submission], bool]
    refused: Promise  # why the state does not allow it (lazily translated); {status}: the table's state


def fills(user: User, submission: Submission) -> bool:
    """The unit's own staff: saves and submits."""
    return can_fill(user, submission.unit)


def reviews(user: User, submission: Submission) -> bool:
    """A reviewer or admin above the unit, or of the campaign's owner for the owner's own tables: returns,
    accepts, unlocks. Reads `submission.campaign` (select it with the submission)."""
    return may_review_table(user, submission.unit, submission.campaign.owner_id)


SUBMISSION_TRANSITIONS: dict[Action, Transition] = {
    Action.SAVE: Transition(
        frozenset({Status.DRAFT, Status.RETURNED}), None, fills, _("这张表{status}，不能修改")
    ),
    Action.SUBMIT: Transition(
        frozenset({Status.DRAFT, Status.RETURNED}),
        Status.SUBMITTED,
        fills,
        _("这张表{status}，不能再报送"),
    ),
    Action.RETURN: Transition(
        frozenset({Status.SUBMITTED}), Status.RETURNED, reviews, _("只能退回已报送的表，这张表{status}")
    ),
    Action.ACCEPT: Transition(
        frozenset({Status.SUBMITTED}),
        Status.ACCEPTED,
        reviews,
        _("只能审核通过已报送的表，这张表{status}"),
    ),
    Action.UNLOCK: Transition(
        frozenset({Status.ACCEPTED}), Status.RETURNED, reviews, _("只有审核通过的表才需要解锁")
    ),
}


def may_act(action: Action, user: User, submission: Submission) -> bool:
    """Whether `user` is one who may take `action` on this unit's table (whatever its state)."""
    return SUBMISSION_TRANSITIONS[action].may(user, submission)


def check_permission(action: Action, user: User, submission: Submission) -> None:
    if not may_act(action, user, submission):
        raise PermissionDenied


def state_allows(action: Action, submission: Submission) -> bool:
    """Whether the table's state allows `action` (whoever asks): e.g. SAVE — is the table still editable?"""
    return submission.status in SUBMISSION_TRANSITIONS[action].allowed_from


def state_refusal(action: Action, submission: Submission) -> str | None:
    """Why the table's state does not allow `action` (a Chinese sentence), or None when it does."""
    if state_allows(action, submission):
        return None
    return str(SUBMISSION_TRANSITIONS[action].refused).format(status=submission.get_status_display())


def available_actions(user: User, submission: Submission | None) -> frozenset[Action]:
    """The actions the page offers `user` on this table now (none before the table exists)."""
    if submission is None:
        return frozenset()
    return frozenset(
        action
        for action, transition in SUBMISSION_TRANSITIONS.items()
        if submission.status in transition.allowed_from and transition.may(user, submission)
    )
