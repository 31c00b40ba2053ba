"""A campaign: what one notice asks for, of whom, by when."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from songnuan.orgs.models import Unit


class ReportingScope(models.TextChoices):
    """What a unit's own table holds: its own level only, or its whole area (itself and all units below)."""

    OWN_LEVEL = "own_level", _("本级：各单位只填本单位自身的数，上级的全辖数由系统把本级与下级已审核的表相加")
    WHOLE_AREA = "whole_area", _("全辖：各单位填本单位及所属下级的合计数，下级的表只供核对，汇总时不再相加")


class Campaign(models.Model):
    title = models.CharField(_("标题"), max_length=200)
    document_number = models.CharField(_("文号"), max_length=100)
    owner = models.ForeignKey(
        Unit, verbose_name=_("发文单位"), on_delete=models.PROTECT, related_name="campaigns"
    )
    period_start = models.DateField(_("活动开始"))
    period_end = models.DateField(_("活动结束"))
    period_text = models.CharField(_("活动时间（原文）"), max_length=100, blank=True)
    deadline = models.DateField(_("报送截止日期"))
    receiving_department = models.CharField(_("接收部门"), max_length=100, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=50, blank=True)
    contact_email = models.CharField(_("邮箱"), max_length=100, blank=True)
    #: Codes of the built-in forms the notice asks for, e.g. ["warmth-2018", "service-centres-2017"].
    form_codes = models.JSONField(_("统计表"), default=list)
    addressees = models.ManyToManyField(Unit, verbose_name=_("主送单位"), related_name="addressed_campaigns")
    notice_text = models.TextField(_("通知全文"), blank=True)
    notice_file = models.FileField(_("通知文件"), upload_to="notices/%Y/", blank=True)
    reporting_scope = models.CharField(
        _("填报口径"), max_length=20, choices=ReportingScope.choices, default=ReportingScope.OWN_LEVEL
    )
    #: Last year's campaign, whose accepted tables each unit's entry page shows beside its inputs.
    previous = models.ForeignKey(
        "self",
        verbose_name=_("上一年活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: A value more than this many times last year's (or less than last year's divided by it) is a warning.
    change_ratio = models.DecimalField(
        _("与上年相比的警告倍数"), max_digits=6, decimal_places=2, default=Decimal("3")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("送温暖活动")
        verbose_name_plural = _("送温暖活动")
        ordering = ["-deadline", "-id"]

    def __str__(self) -> str:
        return f"{self.title}（{self.document_number}）"

    def is_late(self, moment: dt.datetime) -> bool:
        """Whether `moment` is after the deadline day in China Standard Time (the deadline is a whole day)."""
        from django.utils import timezone

        return timezone.localdate(moment) > self.deadline
