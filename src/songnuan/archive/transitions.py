"""What may happen to a household's file (困难职工档案) in each state, and who may do it: the one table that
the services' guards and the file page's buttons both read. Who may is asked of `songnuan.orgs.permissions`
(`may_decide_file`, `may_propose_file`, `may_keep_file`) with the file's unit.

    已申请 ──建档──▶ 已建档 ──解困脱困──▶ 已解困脱困 ──恢复──▶ 已建档
       │  (计划, 修改)  │ (年审, 计划, 修改)
       └────注销────────┴────注销──────▶ 已注销 ──恢复──▶ 已建档 (已申请 if it was never filed)

The unit's own staff keep the file (correct its details and members while it is open) and its 四明确
plan, and may only *propose* to take it out of difficulty or to close it (one proposal pending at a time,
which they may withdraw); a reviewer above the unit (the one who files it) decides: files, reviews yearly,
approves or rejects a proposal, takes it out of difficulty or closes it directly, and reopens a file ended
by mistake. The reviewers above may correct an open file too.

Conditions beyond the state and the person (a reason written, a path chosen, no ID number filed elsewhere
since) stay in the services; whether a proposal must be pending is in the table, because the page needs it
to offer the right buttons, but the services keep their own, more telling refusals for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import EllipsisType

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from songnuan.archive.models import Household, Proposal
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import User, may_decide_file, may_keep_file, may_propose_file

Status = Household.Status
OPEN = frozenset({Status.APPLIED, Status.FILED})
ENDED = frozenset({Status.OUT, Status.CLOSED})


# --- the table -------------------------------------------------------------------------------------------


class Action(StrEnum):
    FILE = "file"  # 审核建档
    REVIEW = "review"  # 年审
    OUT = "out"  # 解困脱困 (a reviewer above, directly)
    CLOSE = "close"  # 注销 (a reviewer above, directly)
    PROPOSE_OUT = "propose_out"  # 申请解困脱困 (the unit's own staff)
    PROPOSE_CLOSE = "propose_close"  # 申请注销 (the unit's own staff)
    APPROVE = "approve"  # 同意 the pending proposal
    REJECT = "reject"  # 退回 the pending proposal
    WITHDRAW = "withdraw"  # 撤回 the pending proposal
    REOPEN = "reopen"  # 恢复档案
    PLAN = "plan"  # 四明确
    EDIT = "edit"  # 修改档案: correct the file's details and its members


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to: str | None  # None: the state stays (see `target` for the two that depend on the file)
    may: Callable[[User, Unit], bool]  # who, asked with the file's unit
    refused: Promise  # why the state does not allow it (lazily translated)
    pending: bool | None = None  # True: a proposal must be pending; False: none may be; None: either


NO_PENDING = _("这份档案没有待审核的解困脱困或注销申请")
ENDED_NO_CLOSE = _("这份档案已经结束，不能再注销")

HOUSEHOLD_TRANSITIONS: dict[Action, Transition] = {
    Action.FILE: Transition(
        frozenset({Status.APPLIED}), Status.FILED, may_decide_file, _("只有已申请的档案可以审核建档")
    ),
    Action.REVIEW: Transition(
        frozenset({Status.FILED}), None, may_decide_file, _("只有已建档的档案需要年审")
    ),
    Action.OUT: Transition(
        frozenset({Status.FILED}), Status.OUT, may_decide_file, _("只有已建档的困难职工家庭才能登记解困脱困")
    ),
    Action.CLOSE: Transition(OPEN, Status.CLOSED, may_decide_file, ENDED_NO_CLOSE),
    Action.PROPOSE_OUT: Transition(
        frozenset({Status.FILED}),
        None,
        may_propose_file,
        _("只有已建档的困难职工家庭才能申请解困脱困"),
        pending=False,
    ),
    Action.PROPOSE_CLOSE: Transition(OPEN, None, may_propose_file, ENDED_NO_CLOSE, pending=False),
    # Approving does what was proposed: OUT's or CLOSE's state and refusal (see `target`, `proposed`).
    Action.APPROVE: Transition(OPEN, None, may_decide_file, NO_PENDING, pending=True),
    Action.REJECT: Transition(OPEN, None, may_decide_file, NO_PENDING, pending=True),
    Action.WITHDRAW: Transition(OPEN, None, may_propose_file, NO_PENDING, pending=True),
    # Back to filed, or to applied for a file closed before it was ever filed.
    Action.REOPEN: Transition(
        ENDED, Status.FILED, may_decide_file, _("只有已解困脱困或已注销的档案可以恢复")
    ),
    Action.PLAN: Transition(OPEN, None, may_keep_file, _("这份档案已经结束，不能再修改帮扶计划")),
    # An ended file is a record of what was: its ID numbers are free again (another unit may have filed
    # them since), so a correction could not be checked against one household, one file. A file ended
    # by mistake is reopened by the reviewer above (REOPEN claims its numbers again), then corrected.
    Action.EDIT: Transition(
        OPEN, None, may_keep_file, _("这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案")
    ),
}

PROPOSED: dict[str, Action] = {Proposal.Kind.OUT: Action.OUT, Proposal.Kind.CLOSE: Action.CLOSE}


def proposed(proposal: Proposal) -> Action:
    """The action a proposal asks the reviewer above to take."""
    return PROPOSED[proposal.kind]


def target(action: Action, household: Household, pending: Proposal | None = None) -> str | None:
    """The state `action` leads this file to (None: it stays), `pending` being the proposal waiting."""
    if action == Action.APPROVE and pending is not None:
        return HOUSEHOLD_TRANSITIONS[proposed(pending)].to
    if action == Action.REOPEN and household.filed_at is None:
        return Status.APPLIED
    return HOUSEHOLD_TRANSITIONS[action].to


def may_act(action: Action, user: User, household: Household) -> bool:
    """Whether `user` is one who may take `action` on this file (whatever its state)."""
    return HOUSEHOLD_TRANSITIONS[action].may(user, household.unit)


def check_permission(action: Action, user: User, household: Household) -> None:
    if not may_act(action, user, household):
        raise PermissionDenied


def state_refusal(action: Action, household: Household) -> str | None:
    """Why the file's state does not allow `action` (a Chinese sentence), or None when it does."""
    if household.status in HOUSEHOLD_TRANSITIONS[action].allowed_from:
        return None
    return str(HOUSEHOLD_TRANSITIONS[action].refused)


def allows(action: Action, user: User, household: Household, pending: Proposal | None) -> bool:
    """Whether the page offers `action` to `user` on this file now, `pending` being the proposal waiting."""
    transition = HOUSEHOLD_TRANSITIONS[action]
    return (
        household.status in transition.allowed_from
        and (transition.pending is None or transition.pending == (pending is not None))
        and transition.may(user, household.unit)
    )


def pending_of(household: Household) -> Proposal | None:
    """The proposal waiting for the reviewer above (only an open file can have one)."""
    return household.pending_proposal() if household.status in OPEN else None


def available_actions(
    user: User, household: Household, pending: Proposal | EllipsisType | None = ...
) -> frozenset[Action]:
    """The actions the page offers `user` on this file now. `pending`: the file's pending proposal if the
    caller has it already (the page shows it), else it is looked up."""
    waiting = pending_of(household) if isinstance(pending, EllipsisType) else pending
    return frozenset(action for action in HOUSEHOLD_TRANSITIONS if allows(action, user, household, waiting))
