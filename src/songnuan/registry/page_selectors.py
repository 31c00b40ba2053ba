"""What the archive pages ask before they show a button or a choice: read-only, no writes.

The services decide again when the button is pressed; these answers only keep the pages from offering what
the services would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import can_fill, can_review, units_visible_to
from songnuan.registry.importing import may_file_in
from songnuan.registry.models import Household
from songnuan.registry.selectors import may_see_personal_data


def units_to_file_in(user: User | AnonymousUser) -> list[Unit]:
    """The units whose files the user may open (its own as a reporter or admin, those below as a reviewer)."""
    if not isinstance(user, User):
        return []
    return [unit for unit in units_visible_to(user).order_by("path") if may_file_in(user, unit)]


@dataclass(frozen=True)
class HouseholdActions:
    """Which of a file's actions to offer this user now."""

    file: bool  # 审核建档
    review: bool  # 年审
    out: bool  # 解困脱困
    close: bool  # 注销
    plan: bool  # 四明确
    reveal: bool  # 查看完整号码

    @property
    def any_change(self) -> bool:
        return self.file or self.review or self.out or self.close or self.plan


def household_actions(user: User | AnonymousUser, household: Household) -> HouseholdActions:
    reviews = can_review(user, household.unit)
    keeps = can_fill(user, household.unit) or reviews
    status = household.status
    return HouseholdActions(
        file=reviews and status == Household.Status.APPLIED,
        review=reviews and status == Household.Status.FILED,
        out=keeps and status == Household.Status.FILED,
        close=keeps and household.open,
        plan=keeps and household.open,
        reveal=may_see_personal_data(user, household),
    )
