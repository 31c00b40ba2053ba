"""A unit's filled table for a campaign, its values, its history, and the written activity report."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.engine import Value
from songnuan.orgs.models import Unit


class Submission(models.Model):
    """One unit's table (one form) in one campaign, from draft to accepted."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("已退回")
        ACCEPTED = "accepted", _("审核通过")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="submissions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="submissions")
    form_code = models.CharField(_("统计表"), max_length=50)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    reporter = models.CharField(_("填报人"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=50, blank=True)
    report_date = models.DateField(_("填报日期"), null=True, blank=True)
    #: rule id → the written explanation a warning needs before submission (核实性审核).
    explanations = models.JSONField(default=dict, blank=True)
    #: Raised on every save; a save that names an older version is refused (no silent overwrite).
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(_("逾期报送"), default=False)
    review_comment = models.TextField(_("审核意见"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("统计表报送")
        verbose_name_plural = _("统计表报送")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "form_code"], name="one_submission_per_form")
        ]
        indexes = [
            models.Index(fields=["campaign", "form_code", "status"]),
            # A reviewer's 待办: the tables submitted in every campaign, few at any time, among millions.
            models.Index(fields=["status", "unit"]),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.form_code} · {self.get_status_display()}"


class SubmissionValue(models.Model):
    """One reported value. No row means blank (not reported) — never the same as 0."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="value_rows")
    item = models.CharField(max_length=10)
    #: Counts and 万元 amounts (at most 4 decimals); exact, never float.
    number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    #: 是/否 items, and text that is not a valid value (kept so the person sees what they typed).
    text = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "item"], name="one_value_per_item")]
        indexes = [models.Index(fields=["item"])]

    def __str__(self) -> str:
        return f"{self.item}={self.number if self.number is not None else self.text}"

    def as_value(self, kind_is_count: bool) -> Value:
        return stored_value(self.number, self.text, kind_is_count)


def stored_value(number: Decimal | None, text: str, kind_is_count: bool) -> Value:
    """A value as a SubmissionValue row keeps it (`number`, else `text` as typed), read back."""
    if number is None:
        return text or None
    if kind_is_count and number == number.to_integral_value():
        return int(number)
    return number.normalize() if number != 0 else Decimal(0)


class BranchTotals(models.Model):
    """The accepted tables of one form in one campaign from a unit and every unit below it (its branch),
    added up, kept current in the same transaction as each accept and unlock (`reporting.branch_totals`):
    derived data, rebuilt from the tables at will."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    form_code = models.CharField(max_length=50)
    #: How many accepted tables the branch holds (the units included).
    tables = models.PositiveIntegerField(default=0)
    #: {item code: ["12.5000" (the sum of the numbers, a string: JSON would pass it through a float), how many
    #: tables gave a number, how many said 是, how many said 否]}; an item no table filled has no entry.
    values = models.JSONField(default=dict)
    #: The unit's own table, if accepted (`own_accepted`), as entries of the same shape: what 全辖 takes
    #: away to give the tables below (the entry page's 下级合计), without another query.
    own_accepted = models.BooleanField(default=False)
    own = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("下级汇总合计")
        verbose_name_plural = _("下级汇总合计")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "form_code", "unit"], name="branch_totals_one_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_code} {self.unit_id}: {self.tables}"


class BranchTotalsBuild(models.Model):
    """That a campaign's form has its `BranchTotals` for every branch: from then on accepts and unlocks keep
    them; before it, the first read builds them from the accepted tables."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    form_code = models.CharField(max_length=50)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("下级汇总合计的生成")
        verbose_name_plural = _("下级汇总合计的生成")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "form_code"], name="branch_totals_built_once")
        ]

    def __str__(self) -> str:
        return f"{self.form_code} {self.built_at:%Y-%m-%d %H:%M}"


class SubmissionEvent(models.Model):
    """What changed, who changed it, when, and what it was before (values, status, explanations)."""

    class Kind(models.TextChoices):
        VALUE = "value", _("数值")
        STATUS = "status", _("状态")
        EXPLANATION = "explanation", _("说明")
        HEADER = "header", _("表头")
        IMPORT = "import", _("导入Excel")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    #: The item code, the rule id or the header field the event is about ("" for the status).
    subject = models.CharField(max_length=60, blank=True)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.subject}: {self.old} → {self.new}"


class ActivityReport(models.Model):
    """The written 送温暖活动报告 a unit sends with its tables."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="activity_reports")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="activity_reports")
    file = models.FileField(upload_to="activity-reports/%Y/")
    original_name = models.CharField(max_length=200)
    file_type = models.CharField(max_length=10)  # doc, docx, wps, pdf — judged by content, not by name
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name
