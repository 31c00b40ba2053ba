"""What the archive pages ask before they show a button or a choice: read-only, no writes.

The services decide again when the button is pressed; these answers only keep the pages from offering what
the services would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from songnuan.archive.models import Household, Proposal
from songnuan.archive.transitions import Action, allows, available_actions, pending_of
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    may_see_personal_data,
    may_start_import,
    units_to_open_files_in,
    units_visible_to,
)


def units_to_file_in(user: User | AnonymousUser) -> list[Unit]:
    """The units whose files the user may open (its own as a reporter or admin, those below as a reviewer)."""
    return units_to_open_files_in(user)


def may_import(user: User | AnonymousUser) -> bool:
    """Whether the user may import into any unit (`may_start_import`): the import page's template too."""
    if not isinstance(user, User):
        return False
    unit = units_visible_to(user).order_by("path").first()
    return unit is not None and may_start_import(user, unit)


@dataclass(frozen=True)
class HouseholdActions:
    """Which of a file's actions to offer this user now (read from the transition table)."""

    file: bool  # 审核建档
    review: bool  # 年审
    out: bool  # 解困脱困 (a reviewer above, directly)
    close: bool  # 注销 (a reviewer above, directly)
    propose_out: bool  # 申请解困脱困 (the unit's own staff)
    propose_close: bool  # 申请注销 (the unit's own staff)
    decide: bool  # 同意 or 退回 the pending proposal (a reviewer above)
    withdraw: bool  # 撤回 the pending proposal (the unit's own staff)
    reopen: bool  # 恢复档案 (a reviewer above)
    plan: bool  # 四明确
    reveal: bool  # 查看完整号码
    pending: Proposal | None = None  # the proposal waiting for the reviewer above

    @property
    def any_change(self) -> bool:
        return (
            self.file
            or self.review
            or self.out
            or self.close
            or self.propose_out
            or self.propose_close
            or self.decide
            or self.withdraw
            or self.reopen
            or self.plan
        )


def may_review_yearly(user: User | AnonymousUser, household: Household) -> bool:
    return allows(Action.REVIEW, user, household, pending=None)  # a review needs no look at the proposals


def household_actions(user: User | AnonymousUser, household: Household) -> HouseholdActions:
    """The file page's buttons: what the transition table allows this user on this file now."""
    pending = pending_of(household)
    offered = available_actions(user, household, pending)
    return HouseholdActions(
        file=Action.FILE in offered,
        review=Action.REVIEW in offered,
        out=Action.OUT in offered,
        close=Action.CLOSE in offered,
        propose_out=Action.PROPOSE_OUT in offered,
        propose_close=Action.PROPOSE_CLOSE in offered,
        decide=Action.APPROVE in offered and Action.REJECT in offered,
        withdraw=Action.WITHDRAW in offered,
        reopen=Action.REOPEN in offered,
        plan=Action.PLAN in offered,
        reveal=may_see_personal_data(user, household.unit),
        pending=pending,
    )
