"""What the ledger's pages accept from the browser, turned into the services' and selectors' inputs.

The forms check the form of what is typed (an amount is yuan with at most two decimals, a date a date);
whether a payment may be made is the services' question (`services.check_help`), and their refusals come
back beside the fields they concern (`Problem.field`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from songnuan.archive.models import Household
from songnuan.campaigns.services import notice_file_refusal
from songnuan.ledger import rules
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord
from songnuan.ledger.selectors import RecordFilter
from songnuan.ledger.services import HelpInput
from songnuan.orgs.models import Unit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EVIDENCE_ACCEPT = ".pdf,.jpg,.jpeg,.png,.doc,.docx,.wps,.ofd"
_DATE_MESSAGES = {"invalid": _("请填写日期，例如 2018-01-25"), "required": _("请填写日期")}


def _with_blank(choices: Iterable[tuple[Any, Any]], blank: StrOrPromise = "——") -> list[tuple[Any, Any]]:
    return [("", blank), *choices]


def _text(label: StrOrPromise, max_length: int, *, required: bool = False, size: int = 20) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=forms.TextInput(attrs={"size": size})
    )


def _date(label: StrOrPromise, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        error_messages=_DATE_MESSAGES,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class YuanField(forms.CharField):
    """An amount in yuan read by `rules.parse_yuan` (its Chinese messages: not a number, not above zero,
    more than two decimals, too large). Blank is None — not zero — unless the field is required."""

    def __init__(self, label: StrOrPromise, *, required: bool = False) -> None:
        super().__init__(
            label=label,
            required=required,
            max_length=30,
            error_messages={"required": _("金额不能为空")},
            widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
        )

    def clean(self, value: Any) -> Decimal | None:
        text = super().clean(value)
        try:
            return rules.parse_yuan(text, allow_blank=not self.required)
        except rules.AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from None


class QuantityField(forms.DecimalField):
    def __init__(self, label: StrOrPromise) -> None:
        super().__init__(
            label=label,
            required=False,
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0.01"),
            error_messages={
                "invalid": _("请填写数字"),
                "min_value": _("数量应大于零"),
                "max_decimal_places": _("最多两位小数"),
                "max_digits": _("数字太大"),
                "max_whole_digits": _("数字太大"),
            },
            widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
        )


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: Any) -> str:
        unit: Unit = obj
        return "　" * unit.depth + unit.name


class HouseholdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A filed household of the unit, shown by name, masked ID number and unit."""

    def label_from_instance(self, obj: Any) -> str:
        household: Household = obj
        from songnuan.archive.idnumbers import mask_id_number

        return f"{household.head_name}（{mask_id_number(household.head_id_number)}，{household.unit.name}）"


# --- a help record ---------------------------------------------------------------------------------------


class HelpRecordForm(forms.Form):
    """A help record as typed: the recipient (a file of the unit's archive, a person, an enterprise), what was
    handed out, how, and the evidence. `household` is chosen among the files the search found."""

    recipient_kind = forms.ChoiceField(
        label=_("发放对象"),
        choices=HelpRecord.RecipientKind.choices,
        initial=HelpRecord.RecipientKind.HOUSEHOLD,
        widget=forms.RadioSelect,
    )
    household_q = forms.CharField(
        label=_("查找档案"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={"type": "search", "size": 24, "placeholder": _("姓名、拼音首字母或身份证号后几位")}
        ),
    )
    household = HouseholdChoiceField(
        label=_("建档困难职工家庭"),
        queryset=Household.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("本单位及下级单位的档案中没有这户")},
    )
    name = _text(_("姓名或企业名称"), 100, size=16)
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=25,
        required=False,
        widget=forms.TextInput(attrs={"size": 22, "autocomplete": "off", "spellcheck": "false"}),
    )
    person_category = forms.ChoiceField(
        label=_("人员类别"), required=False, choices=_with_blank(HelpRecord.PersonCategory.choices)
    )
    credit_code = _text(_("统一社会信用代码"), 18, size=20)
    enterprise_kind = forms.ChoiceField(
        label=_("企业困难类型"), required=False, choices=_with_blank(HelpRecord.EnterpriseKind.choices)
    )
    item = forms.ChoiceField(label=_("帮扶项目"), choices=())
    source = forms.ChoiceField(label=_("资金来源"), choices=())
    amount = YuanField(_("发放金额（元）"))
    goods_description = _text(_("物品"), 100, size=16)
    goods_quantity = QuantityField(_("数量"))
    goods_value = YuanField(_("物品折价（元）"))
    cost_basis = YuanField(_("个人自付费用（元，医疗救助）"))
    channel = forms.ChoiceField(label=_("发放方式"), choices=HelpRecord.Channel.choices)
    cash_reason = _text(_("现金发放原因"), 200, size=30)
    card_number = forms.CharField(
        label=_("卡号（不填则用档案中的卡号）"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off", "inputmode": "numeric"}),
    )
    bank = _text(_("开户行"), 100, size=16)
    paid_on = _date(_("发放日期"))
    note = _text(_("备注"), 200, size=30)
    evidence = forms.FileField(
        label=_("凭证（签收表、照片：PDF、JPG、PNG 等）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )
    explanation = forms.CharField(
        label=_("情况说明（有提醒时填写）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(
        self,
        *args: Any,
        households: Any,
        candidates: Sequence[Household] = (),
        **kwargs: Any,
    ) -> None:
        """`households`: every file the record may name (a queryset); `candidates`: those to offer now (the
        search's results and the chosen one)."""
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        field.queryset = households  # type: ignore[attr-defined]
        self.candidates = list(candidates)
        field.widget.choices = [(h.pk, field.label_from_instance(h)) for h in self.candidates]  # type: ignore[attr-defined]
        self.fields["item"].choices = [(i.code, i.name) for i in HelpItem.objects.all()]  # type: ignore[attr-defined]
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            (s.code, f"{s.name}（{_('依档帮扶')}）" if s.archive_first else s.name)
            for s in FundSource.objects.all()
        ]

    def clean_evidence(self) -> Any:
        upload = self.cleaned_data.get("evidence")
        if upload:
            refusal = notice_file_refusal(upload)
            if refusal:
                # The campaigns' check speaks of a notice file; here it is the evidence.
                raise forms.ValidationError(refusal.replace("通知文件", "凭证文件"))
        return upload

    def help_input(self) -> HelpInput:
        data = self.cleaned_data
        household = data.get("household")
        kind = data["recipient_kind"]
        return HelpInput(
            recipient_kind=kind,
            item=data["item"],
            source=data["source"],
            channel=data["channel"],
            paid_on=data["paid_on"],
            household_id=household.pk if household is not None and kind == "household" else None,
            name=data["name"],
            id_number=data["id_number"].strip().upper() if kind != "enterprise" else "",
            person_category=data["person_category"],
            credit_code=data["credit_code"].strip(),
            enterprise_kind=data["enterprise_kind"],
            amount=data["amount"],
            goods_description=data["goods_description"],
            goods_quantity=data["goods_quantity"],
            goods_value=data["goods_value"],
            cost_basis=data["cost_basis"],
            cash_reason=data["cash_reason"],
            card_number=data["card_number"],
            bank=data["bank"],
            note=data["note"],
            explanation=data["explanation"],
        )


def record_initial(record: HelpRecord) -> dict[str, Any]:
    """A draft's values for its edit form; the ID and card numbers are not pre-filled (blank keeps the
    file's, and a person's ID is asked again)."""
    return {
        "recipient_kind": record.recipient_kind,
        "household": record.household_id,
        "name": record.name if record.recipient_kind != HelpRecord.RecipientKind.HOUSEHOLD else "",
        "person_category": record.person_category,
        "credit_code": record.credit_code,
        "enterprise_kind": record.enterprise_kind,
        "item": record.item.code,
        "source": record.source.code,
        "amount": record.amount,
        "goods_description": record.goods_description,
        "goods_quantity": record.goods_quantity,
        "goods_value": record.goods_value,
        "cost_basis": record.cost_basis,
        "channel": record.channel,
        "cash_reason": record.cash_reason,
        "bank": record.bank,
        "paid_on": record.paid_on,
        "note": record.note,
        "explanation": record.explanation,
    }


class ExplanationForm(forms.Form):
    explanation = forms.CharField(
        label=_("情况说明"),
        max_length=2000,
        error_messages={"required": _("请写明情况说明")},
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("冲销原因"),
        max_length=200,
        error_messages={"required": _("冲销须写明原因")},
        widget=forms.TextInput(attrs={"size": 30}),
    )


# --- the records list ------------------------------------------------------------------------------------


class RecordFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"), required=False, choices=_with_blank(HelpRecord.State.choices, _("全部"))
    )
    item = forms.ModelChoiceField(
        label=_("帮扶项目"), queryset=HelpItem.objects.all(), required=False, empty_label=_("全部")
    )
    source = forms.ModelChoiceField(
        label=_("资金来源"), queryset=FundSource.objects.all(), required=False, empty_label=_("全部")
    )
    channel = forms.ChoiceField(
        label=_("发放方式"), required=False, choices=_with_blank(HelpRecord.Channel.choices, _("全部"))
    )
    recipient_kind = forms.ChoiceField(
        label=_("对象类型"),
        required=False,
        choices=_with_blank(HelpRecord.RecipientKind.choices, _("全部")),
    )
    q = forms.CharField(
        label=_("姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search", "size": 12}),
    )
    start = _date(_("发放日期从"), required=False)
    end = _date(_("至"), required=False)
    warnings = forms.BooleanField(label=_("只看有提醒的"), required=False)
    subtree = forms.BooleanField(label=_("含下级单位"), required=False)

    def __init__(self, *args: Any, may_subtree: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_subtree:
            del self.fields["subtree"]

    def chosen(self) -> RecordFilter:
        """The filter of the valid fields (an invalid one is dropped and shown as an error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return RecordFilter(
            state=data.get("state") or "",
            item=data.get("item"),
            source=data.get("source"),
            channel=data.get("channel") or "",
            recipient_kind=data.get("recipient_kind") or "",
            name=data.get("q") or "",
            start=data.get("start"),
            end=data.get("end"),
            warnings_only=bool(data.get("warnings")),
            subtree=bool(data.get("subtree")),
        )


# --- money raised and passed down ------------------------------------------------------------------------


class ReceiptForm(forms.Form):
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.all(), empty_label=None)
    amount = YuanField(_("金额（元）"), required=True)
    received_on = _date(_("到账日期"))
    reference = _text(_("文件或凭证号"), 100, size=20)
    note = _text(_("备注"), 200, size=24)


class AllocationForm(forms.Form):
    taker = UnitChoiceField(label=_("下拨给"), queryset=Unit.objects.none(), empty_label=None)
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.all(), empty_label=None)
    amount = YuanField(_("金额（元）"), required=True)
    on = _date(_("下拨日期"))
    reference = _text(_("文件或凭证号"), 100, size=20)

    def __init__(self, *args: Any, takers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taker"].queryset = takers  # type: ignore[attr-defined]


def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
