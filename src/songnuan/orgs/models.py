"""The tree of union units, and the accounts that belong to them with a role."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: Digits of one unit's id in a materialised path. Every segment has this one width, which lets the
#: reports cut a child's segment out of a path by position (ledger.reports, checks.frames) and keeps a
#: subtree's paths in tree order. Ten digits: the country has ≈ 2.5 million grassroots unions, and ids are
#: never reused (six digits, as first written, ran out at 999,999). 23 levels fit the column.
PATH_DIGITS = 10


def path_segment(unit_id: int) -> str:
    """One unit's part of a path: "0000000123/". An id too long for the width is refused, not written
    wider: a wider segment would put the unit's subtree in the wrong branch of every report."""
    if not 0 <= unit_id < 10**PATH_DIGITS:
        raise ValueError(f"unit id {unit_id} does not fit a path segment of {PATH_DIGITS} digits")
    return f"{unit_id:0{PATH_DIGITS}d}/"


def path_ids(path: str) -> list[int]:
    """The ids of the units a path names, the root first and the unit itself last."""
    return [int(part) for part in path.split("/") if part]


class Unit(models.Model):
    """One union in the tree (市总, 县区总工会, 产业工会, 企业工会 …).

    `path` makes a subtree one indexed query.
    """

    class Kind(models.TextChoices):
        CITY = "city", _("市总工会")
        COUNTY = "county", _("县（市、区）总工会")
        ZONE = "zone", _("功能区工会")
        INDUSTRY = "industry", _("市直产业（委、局）工会")
        ENTERPRISE = "enterprise", _("企业工会")
        INSTITUTION = "institution", _("事业单位工会")
        ORGANS = "organs", _("机关工会工委")

    name = models.CharField(_("单位名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    #: "0000000001/0000000007/0000000003/": the ids of the unit and its ancestors (`path_segment`), so a
    #: subtree is `path__startswith`.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    #: How many units are below this one (its subtree less itself), kept by the services that add, move and
    #: remove units (`services.count_units_below` adds them up afresh): a roll-up at the root of the country
    #: counts the tables it expects from its children's rows, not by counting millions of units.
    units_below = models.PositiveIntegerField(default=0, editable=False)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=50, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    #: When an admin above closed (撤销) the unit, or None while it is open. A closed unit keeps its history
    #: (tables, files, accounts stay, its accounts disabled); it takes no new unit or account below it.
    closed_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unit_name_unique_under_parent")
        ]

    def __str__(self) -> str:
        return self.name

    def is_below(self, other: Unit) -> bool:
        """Strictly below `other` in the tree."""
        return self.path.startswith(other.path) and self.pk != other.pk

    def is_within(self, other: Unit) -> bool:
        """`other` itself or below it."""
        return self.path.startswith(other.path)

    def holds_every_unit(self) -> bool:
        """The one root: its subtree is the whole tree, so a query over it needs no condition on units (which
        would make the database read a campaign's rows unit by unit instead of in order). One query."""
        return (
            self.parent_id is None
            and not Unit.objects.filter(parent__isnull=True).exclude(pk=self.pk).exists()
        )


class Account(models.Model):
    """A user's place in the tree: the unit it belongs to and its role there."""

    class Role(models.TextChoices):
        REPORTER = "reporter", _("填报员")
        REVIEWER = "reviewer", _("审核员")
        ADMIN = "admin", _("管理员")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="accounts"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    phone = models.CharField(_("电话"), max_length=50, blank=True)
    #: The hash of a one-time password an admin set (new account, reset), or "". While the user's password is
    #: still that one (`must_change_password`), every page sends the user to /password/ (the middleware
    #: `songnuan.orgs.middleware.PasswordChangeRequiredMiddleware`). Changing it gives a new hash, which ends
    #: the obligation without any code having to clear this. The password itself is never stored in clear.
    one_time_password = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return f"{self.user.get_username()}（{self.unit.name}，{self.get_role_display()}）"

    @property
    def must_change_password(self) -> bool:
        return bool(self.one_time_password) and self.one_time_password == self.user.password


class AuditEntry(models.Model):
    """One change an admin made in the tree or to an account (管理操作记录): who, when, what, old, new."""

    class Action(models.TextChoices):
        UNIT_CREATED = "unit-created", _("新增单位")
        UNIT_RENAMED = "unit-renamed", _("单位改名")
        UNIT_MOVED = "unit-moved", _("调整上级单位")
        UNIT_CLOSED = "unit-closed", _("撤销单位")
        ACCOUNT_CREATED = "account-created", _("新增账号")
        ACCOUNT_DISABLED = "account-disabled", _("停用账号")
        ACCOUNT_ENABLED = "account-enabled", _("启用账号")
        PASSWORD_RESET = "password-reset", _("重置密码")
        ROLE_CHANGED = "role-changed", _("更改角色")
        PERMISSION_GRANTED = "permission-granted", _("授予查看完整号码权限")
        PERMISSION_REVOKED = "permission-revoked", _("收回查看完整号码权限")
        #: Written by the reporting app: a unit removed an activity report it had uploaded by mistake.
        REPORT_REMOVED = "report-removed", _("删除活动报告")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=30, choices=Action.choices)
    #: The unit concerned: the unit itself, or the account's unit (so a subtree's log is one path query).
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="audit_entries"
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    old = models.CharField(_("原值"), max_length=255, blank=True)
    new = models.CharField(_("新值"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("管理操作记录")
        verbose_name_plural = _("管理操作记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.old} → {self.new}"
