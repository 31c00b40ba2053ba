"""The needy-worker archive: one file per household, its members, its way out (四明确), its lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from songnuan.orgs.models import Unit


class SearchKeyField(models.CharField):  # type: ignore[type-arg]
    """A column searched by prefix with a plain B-tree range (key >= 'zs' AND key < 'zt').

    The range only matches a prefix when the column sorts by code point: SQLite's default (BINARY) does,
    PostgreSQL's language collations do not, so there the column gets the "C" collation.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        parameters: dict[str, Any] = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class Household(models.Model):
    """A household's file (困难职工档案), kept by one union unit; real-name: bound to the head's ID number."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("已申请")
        FILED = "filed", _("已建档")
        OUT = "out", _("已解困脱困")
        CLOSED = "closed", _("已注销")

    class Category(models.TextChoices):
        WORKER = "worker", _("困难职工")
        MIGRANT = "migrant", _("困难农民工")
        MODEL_WORKER = "model-worker", _("困难劳模")

    class OutPath(models.TextChoices):
        # The notice's four ways out of difficulty.
        EMPLOYMENT = "employment", _("就业创业")
        SOCIAL_INSURANCE = "social-insurance", _("纳入社会保险")
        MEDICAL_INSURANCE = "medical-insurance", _("大病保险和医疗互助")
        SAFETY_NET = "safety-net", _("低保兜底")

    class CardKind(models.TextChoices):
        UNION_CARD = "union-card", _("阳光5·1卡")
        BANK_CARD = "bank-card", _("银行卡")

    unit = models.ForeignKey(
        Unit, verbose_name=_("建档单位"), on_delete=models.PROTECT, related_name="households"
    )
    head_name = SearchKeyField(_("户主姓名"), max_length=50)
    # Also a search key: its start (the area code, "4208") is searched by prefix.
    head_id_number = SearchKeyField(_("户主身份证号"), max_length=18, db_index=True)
    # Search keys, derived when the file is written: 张三 → "zs"; the ID number read backwards, so that
    # "the last digits" is a prefix.
    name_initials = SearchKeyField(max_length=50, blank=True, editable=False)
    id_reversed = SearchKeyField(max_length=18, default="", editable=False)
    head_sex = models.CharField(_("性别"), max_length=1)  # derived from the ID number
    head_birth_date = models.DateField(_("出生日期"))  # derived from the ID number
    phone = SearchKeyField(_("手机号"), max_length=20, blank=True)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    employer_kind = models.CharField(_("单位性质"), max_length=30, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    difficulty_type = models.CharField(
        _("困难类型"), max_length=30, blank=True
    )  # 深度困难 / 相对困难 / 意外致困 …
    main_cause = models.CharField(_("主要致困原因"), max_length=50, blank=True)
    secondary_causes = models.JSONField(_("其他致困原因"), default=list, blank=True)  # at most three
    monthly_income = models.DecimalField(
        _("家庭月收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    household_size = models.PositiveSmallIntegerField(_("家庭人口"), default=1)
    minimum_living_line = models.DecimalField(
        _("当地低保标准（元/人·月）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    card_kind = models.CharField(_("发放卡类型"), max_length=20, choices=CardKind.choices, blank=True)
    bank = models.CharField(_("开户银行"), max_length=50, blank=True)
    bank_branch = models.CharField(_("开户网点"), max_length=100, blank=True)
    card_number = models.CharField(_("卡号"), max_length=30, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.APPLIED)
    applied_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("建档时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_reviewed_at = models.DateTimeField(_("最近年审"), null=True, blank=True)
    out_path = models.CharField(_("脱困路径"), max_length=30, choices=OutPath.choices, blank=True)
    ended_on = models.DateField(_("脱困或注销日期"), null=True, blank=True)
    closed_reason = models.CharField(_("注销原因"), max_length=200, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="households"
    )
    import_row = models.PositiveIntegerField(_("导入文件行号"), null=True, blank=True)

    class Meta:
        verbose_name = _("困难职工档案")
        verbose_name_plural = _("困难职工档案")
        indexes = [
            models.Index(fields=["unit", "status", "category"]),
            # Search: a prefix range on the key, results in key order; the unit last, so that counting the
            # matches the user may see (pinyin "ly": 16,000 of a million) reads the index alone.
            models.Index(fields=["head_name", "id", "unit"], name="household_name_search"),
            models.Index(fields=["name_initials", "id", "unit"], name="household_initials_search"),
            models.Index(fields=["id_reversed", "id", "unit"], name="household_id_tail_search"),
            models.Index(fields=["phone", "id", "unit"], name="household_phone_search"),
        ]

    def __str__(self) -> str:
        return f"{self.head_name}（{self.unit.name}）"

    @property
    def open(self) -> bool:
        return self.status in (self.Status.APPLIED, self.Status.FILED)

    def pending_proposal(self) -> Proposal | None:
        """The unit's proposal to end the file (out of difficulty or closing) not yet decided, if any."""
        return self.proposals.filter(state=Proposal.State.PENDING).select_related("proposed_by").first()

    @property
    def income_per_person(self) -> Decimal | None:
        if self.monthly_income is None or not self.household_size:
            return None
        return (self.monthly_income / self.household_size).quantize(Decimal("0.01"))


class Member(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与户主关系"), max_length=20)
    id_number = SearchKeyField(
        _("身份证号"), max_length=18, blank=True, db_index=True
    )  # searched by prefix too
    monthly_income = models.DecimalField(
        _("月收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    health = models.CharField(_("健康状况"), max_length=50, blank=True)
    school_or_employer = models.CharField(_("就读学校或工作单位"), max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


class Plan(models.Model):
    """四明确: the household's way out — a contact (person or unit), a deadline, measures, a path."""

    household = models.OneToOneField(Household, on_delete=models.CASCADE, related_name="plan")
    contact = models.CharField(_("帮扶联系人（单位）"), max_length=100, blank=True)
    deadline = models.DateField(_("脱困期限"), null=True, blank=True)
    measures = models.TextField(_("帮扶措施"), blank=True)
    path = models.CharField(_("脱困路径"), max_length=30, choices=Household.OutPath.choices, blank=True)

    def __str__(self) -> str:
        return f"{self.household.head_name} 的帮扶计划"

    def missing(self) -> list[str]:
        labels = {
            "contact": _("联系人（单位）"),
            "deadline": _("期限"),
            "measures": _("措施"),
            "path": _("路径"),
        }
        return [str(label) for name, label in labels.items() if not getattr(self, name)]


class OpenIdentity(models.Model):
    """Each ID number (head or member) on an open file, once in the whole system: one household, one file."""

    id_number = models.CharField(max_length=18, unique=True)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="identities")

    def __str__(self) -> str:
        return self.id_number


class PersonalDataView(models.Model):
    """Who saw a file's full ID, phone or card number, and when (the numbers are masked everywhere else)."""

    class Via(models.TextChoices):
        PAGE = "page", _("档案页面")
        EXPORT = "export", _("导出")
        API = "api", _("接口")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="personal_data_views")
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    via = models.CharField(_("途径"), max_length=10, choices=Via.choices)

    class Meta:
        verbose_name = _("完整号码查看记录")
        verbose_name_plural = _("完整号码查看记录")
        permissions = [("view_personal_data", _("可查看完整身份证号、手机号和卡号（每次查看都留记录）"))]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M} {self.household_id}"


class ImportJob(models.Model):
    """One upload of an archive spreadsheet: its column mapping, progress, outcome and rejected rows."""

    class State(models.TextChoices):
        MAPPING = "mapping", _("待确认列")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("默认建档单位"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    stored_path = models.CharField(max_length=500)
    columns = models.JSONField(default=list)  # the header row as read
    mapping = models.JSONField(default=dict)  # field name → column index
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.MAPPING)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # known for spreadsheets, not for CSV
    rows_done = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)  # 0…1, for the progress bar only
    created = models.PositiveIntegerField(_("新建"), default=0)
    existing = models.PositiveIntegerField(_("已在档"), default=0)
    rejected = models.PositiveIntegerField(_("退回"), default=0)
    warnings = models.PositiveIntegerField(_("提醒"), default=0)
    rejected_file = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("档案导入")
        verbose_name_plural = _("档案导入")

    def __str__(self) -> str:
        return self.file_name


class HouseholdEvent(models.Model):
    """One change of a file: who, when (UTC, shown in Beijing time), what, the fields before and after.

    `old` and `new` hold only the fields that changed, by field name, their values as text (choices as their
    codes, dates as ISO dates, people as their names). ID, phone and card numbers are stored as they are and
    masked when shown, as everywhere else. Written by `songnuan.archive.services` in the transaction of the
    change itself (and by the import, one row per file it creates); never changed afterwards.
    """

    class Action(models.TextChoices):
        APPLIED = "applied", _("申请建档")
        FILED = "filed", _("审核建档")
        EDITED = "edited", _("修改档案")
        MEMBER_ADDED = "member-added", _("增加家庭成员")
        MEMBER_CHANGED = "member-changed", _("修改家庭成员")
        MEMBER_REMOVED = "member-removed", _("删除家庭成员")
        PLAN_CHANGED = "plan-changed", _("修改帮扶计划")
        YEARLY_REVIEW = "yearly-review", _("年审")
        OUT_PROPOSED = "out-proposed", _("申请解困脱困")
        OUT = "out", _("解困脱困")
        CLOSE_PROPOSED = "close-proposed", _("申请注销")
        CLOSED = "closed", _("注销")
        PROPOSAL_REJECTED = "proposal-rejected", _("退回申请")
        PROPOSAL_WITHDRAWN = "proposal-withdrawn", _("撤回申请")
        REOPENED = "reopened", _("恢复档案")
        IMPORTED = "imported", _("导入建档")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    # Read per file (the household index); no index of its own, which the import would pay for on every row.
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    action = models.CharField(_("操作"), max_length=30, choices=Action.choices)
    old = models.JSONField(_("原值"), default=dict, blank=True)
    new = models.JSONField(_("新值"), default=dict, blank=True)
    note = models.TextField(_("原因或备注"), blank=True)

    class Meta:
        verbose_name = _("档案变更记录")
        verbose_name_plural = _("档案变更记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.household_id} {self.action}"


class Proposal(models.Model):
    """A unit's request to take its filed household out of difficulty or to close its file.

    The unit's reporter may only propose; a reviewer above the unit approves (which does it) or rejects it.
    At most one is pending per household.
    """

    class Kind(models.TextChoices):
        OUT = "out", _("解困脱困")
        CLOSE = "close", _("注销")

    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意")
        REJECTED = "rejected", _("已退回")
        WITHDRAWN = "withdrawn", _("已撤回")
        SUPERSEDED = "superseded", _("已由上级直接办理")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(_("申请事项"), max_length=10, choices=Kind.choices)
    out_path = models.CharField(_("脱困路径"), max_length=30, choices=Household.OutPath.choices, blank=True)
    on = models.DateField(_("脱困或注销日期"))
    reason = models.CharField(_("注销原因"), max_length=200, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.TextField(_("处理意见"), blank=True)

    class Meta:
        verbose_name = _("解困脱困或注销申请")
        verbose_name_plural = _("解困脱困或注销申请")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(state="pending"),
                name="one_pending_proposal_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.state}"
