"""The spot check's forms: drawing a sample, one call, one interview's answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from songnuan.campaigns.models import Campaign
from songnuan.checks import sampling, stats
from songnuan.checks.models import SampledHousehold, SpotCheck
from songnuan.checks.services import AnswersInput, DrawRequest
from songnuan.orgs.models import Unit

_TRI_STATE = [("", _("未回答")), ("yes", _("是")), ("no", _("否"))]


def _tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class DrawForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    document_number = forms.CharField(label=_("通报文号"), max_length=100, required=False)
    bound_only = forms.BooleanField(label=_("只抽中央和省级帮扶资金的受助户"), required=False, initial=True)
    level = forms.IntegerField(label=_("分层：下几级单位"), min_value=1, max_value=10, initial=1)
    allocation = forms.ChoiceField(label=_("样本分配"), choices=SpotCheck.Allocation.choices)
    per_stratum = forms.IntegerField(
        label=_("每个单位抽取户数"), min_value=1, max_value=100000, required=False
    )
    total = forms.IntegerField(label=_("抽取总户数"), min_value=1, max_value=10000000, required=False)
    minimum = forms.IntegerField(
        label=_("每个单位最少抽取户数"), min_value=0, max_value=100000, required=False
    )
    margin = forms.DecimalField(
        label=_("允许误差"), max_digits=4, decimal_places=3, required=False, initial=Decimal("0.05")
    )
    confidence = forms.DecimalField(
        label=_("置信水平"), max_digits=4, decimal_places=3, required=False, initial=Decimal("0.95")
    )
    seed = forms.CharField(
        label=_("随机种子"),
        max_length=40,
        required=False,
        help_text=_("留空则自动生成；填写同一种子、同一抽样框可重现同一样本"),
    )

    def clean_seed(self) -> int | None:
        text = self.cleaned_data["seed"]
        if not text.strip():
            return None
        try:
            return sampling.parse_seed(text)
        except sampling.SamplingError as problem:
            raise forms.ValidationError(str(problem)) from None

    def request(self, campaign: Campaign, unit: Unit) -> DrawRequest:
        data: dict[str, Any] = self.cleaned_data
        return DrawRequest(
            campaign=campaign,
            unit=unit,
            title=data["title"],
            document_number=data["document_number"],
            allocation=data["allocation"],
            level=data["level"],
            bound_only=data["bound_only"],
            per_stratum=data["per_stratum"],
            total=data["total"],
            minimum=data["minimum"] or 0,
            margin=data["margin"],
            confidence=data["confidence"],
            seed=data["seed"],
        )


class CallForm(forms.Form):
    disposition = forms.ChoiceField(
        label=_("拨打结果"), choices=[(d.value, d.label) for d in stats.Disposition]
    )


class AnswersForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    received = forms.ChoiceField(label=_("是否收到帮扶"), choices=_TRI_STATE, required=False)
    amount = forms.DecimalField(
        label=_("收到金额（元）"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    how = forms.ChoiceField(
        label=_("发放方式"), choices=[("", _("未回答")), *SampledHousehold.How.choices], required=False
    )
    received_on = forms.CharField(label=_("收到时间"), max_length=50, required=False)
    brought_by = forms.CharField(label=_("由谁送达"), max_length=100, required=False)
    knows_contact = forms.ChoiceField(
        label=_("是否知道帮扶联系人（四明确）"), choices=_TRI_STATE, required=False
    )
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=[("", _("未回答")), *SampledHousehold.Satisfaction.choices], required=False
    )
    note = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    @staticmethod
    def initial_of(sampled: SampledHousehold) -> dict[str, Any]:
        def tri(value: bool | None) -> str:
            return "" if value is None else ("yes" if value else "no")

        return {
            "version": sampled.version,
            "received": tri(sampled.received),
            "amount": sampled.amount,
            "how": sampled.how,
            "received_on": sampled.received_on,
            "brought_by": sampled.brought_by,
            "knows_contact": tri(sampled.knows_contact),
            "satisfaction": sampled.satisfaction,
            "note": sampled.note,
        }

    def answers(self) -> AnswersInput:
        data = self.cleaned_data
        return AnswersInput(
            received=_tri_state(data["received"]),
            amount=data["amount"],
            how=data["how"],
            received_on=data["received_on"],
            brought_by=data["brought_by"],
            knows_contact=_tri_state(data["knows_contact"]),
            satisfaction=data["satisfaction"],
            note=data["note"],
        )
