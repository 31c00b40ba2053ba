"""A notice to one person (站内通知): a table returned, accepted or unlocked, a deadline near or passed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Unit


class Notice(models.Model):
    class Kind(models.TextChoices):
        RETURNED = "returned", _("表格被退回")
        ACCEPTED = "accepted", _("表格审核通过")
        UNLOCKED = "unlocked", _("表格被解锁")
        DEADLINE_SOON = "deadline-soon", _("报送即将截止")
        OVERDUE = "overdue", _("逾期未报")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("活动"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    form_code = models.CharField(_("统计表"), max_length=100, blank=True)
    text = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)  # UTC (USE_TZ)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_read")]
        constraints = [
            # A deadline reminder goes once per person, campaign and unit, even when two runs of the
            # command overlap.
            models.UniqueConstraint(
                fields=["recipient", "kind", "campaign", "unit"],
                condition=Q(kind__in=["deadline-soon", "overdue"]),
                name="notice_deadline_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.get_kind_display()}"

    @property
    def unread(self) -> bool:
        return self.read_at is None
