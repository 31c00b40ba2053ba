"""What the archive pages ask before they show a button or a choice: read-only, no writes.

The services decide again when the button is pressed; these answers only keep the pages from offering what
the services would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import units_visible_to
from songnuan.registry.importing import may_file_in
from songnuan.registry.models import Household, Proposal
from songnuan.registry.selectors import may_see_personal_data
from songnuan.registry.services import may_decide, may_keep, may_propose


def units_to_file_in(user: User | AnonymousUser) -> list[Unit]:
    """The units whose files the user may open (its own as a reporter or admin, those below as a reviewer)."""
    if not isinstance(user, User):
        return []
    return [unit for unit in units_visible_to(user).order_by("path") if may_file_in(user, unit)]


@dataclass(frozen=True)
class HouseholdActions:
    """Which of a file's actions to offer this user now (the rules are the services' `may_*`)."""

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
    return household.status == Household.Status.FILED and may_decide(user, household)


def household_actions(user: User | AnonymousUser, household: Household) -> HouseholdActions:
    decides = may_decide(user, household)
    proposes = may_propose(user, household)
    keeps = may_keep(user, household)
    status = household.status
    pending = household.pending_proposal() if household.open else None
    return HouseholdActions(
        file=decides and status == Household.Status.APPLIED,
        review=may_review_yearly(user, household),
        out=decides and status == Household.Status.FILED,
        close=decides and household.open,
        propose_out=proposes and status == Household.Status.FILED and pending is None,
        propose_close=proposes and household.open and pending is None,
        decide=decides and pending is not None,
        withdraw=proposes and pending is not None,
        reopen=decides and not household.open,
        plan=keeps and household.open,
        reveal=may_see_personal_data(user, household),
        pending=pending,
    )
