"""What the archive pages accept from the browser, turned into the inputs of the services and selectors.

The forms check the form of what is typed (a number is a number, a date a date); whether it may be filed is
the services' question, and their refusals are shown on the same form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone
from songnuan.archive.importing import FIELDS
from songnuan.archive.models import Household, ImportJob, Member
from songnuan.archive.selectors import HouseholdSearch, sort_key
from songnuan.archive.services import HouseholdInput, MemberEdit, MemberInput
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import units_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_MEMBERS = 5
SECONDARY_CAUSES = 3
IMPORT_ACCEPT = ".xlsx,.xls,.ods,.csv"

_NUMBER_MESSAGES = {
    "invalid": _("请填写数字，例如 2400 或 2400.50"),
    "min_value": _("不能是负数"),
    "max_digits": _("数字太大"),
    "max_decimal_places": _("最多两位小数（到分）"),
    "max_whole_digits": _("数字太大"),
}
_DATE_MESSAGES = {"invalid": _("请填写日期，例如 2018-01-15")}


def _money(label: StrOrPromise, max_digits: int = 12) -> forms.DecimalField:
    # Blank stays blank (None): an unknown income is not an income of 0.
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=max_digits,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages=_NUMBER_MESSAGES,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )


def _text(label: StrOrPromise, max_length: int, *, required: bool = False, size: int = 20) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs={"size": size}),
    )


def _with_blank(choices: Iterable[tuple[str, Any]], blank: StrOrPromise = "——") -> list[tuple[str, Any]]:
    return [("", blank), *choices]


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    def label_from_instance(self, obj: Any) -> str:
        unit: Unit = obj
        return "　" * unit.depth + unit.name  # the tree shown by indentation


# --- the list ---------------------------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("查找"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "size": 28,
                "placeholder": _("姓名、拼音首字母、身份证号（或开头、后几位）、手机号"),
            }
        ),
    )
    unit = UnitChoiceField(
        label=_("单位"), queryset=Unit.objects.none(), required=False, empty_label=_("全部")
    )
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=_with_blank(Household.Category.choices, _("全部"))
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_with_blank(Household.Status.choices, _("全部"))
    )

    # Kept across a new search (a hidden field) and the pages (the pager keeps the query string); an unknown
    # value is the default order, never an error.
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_visible_to(user).order_by("path")  # type: ignore[attr-defined]

    def search(self) -> HouseholdSearch:
        """The search of the valid fields (an unknown unit or category is dropped and shown as an error)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return HouseholdSearch(
            text=data.get("q") or "",
            unit=data.get("unit"),
            category=data.get("category") or "",
            status=data.get("status") or "",
            sort=sort_key(self.data.get("sort") or ""),
        )


# --- a new file -------------------------------------------------------------------------------------------


class HouseholdForm(forms.Form):
    unit = UnitChoiceField(label=_("建档单位"), queryset=Unit.objects.none(), empty_label=None)
    head_name = _text(_("户主姓名"), 50, required=True, size=10)
    head_id_number = forms.CharField(
        label=_("户主身份证号"),
        max_length=25,
        widget=forms.TextInput(attrs={"size": 22, "autocomplete": "off", "spellcheck": "false"}),
    )
    category = forms.ChoiceField(label=_("类别"), choices=Household.Category.choices)
    phone = _text(_("手机号"), 20, size=14)
    employer = _text(_("工作单位"), 100, size=30)
    employer_kind = _text(_("单位性质"), 30, size=14)
    difficulty_type = forms.CharField(
        label=_("困难类型"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"size": 12, "list": "difficulty-types"}),
    )
    main_cause = _text(_("主要致困原因"), 50, size=16)
    secondary_cause_1 = _text(_("其他致困原因一"), 50, size=12)
    secondary_cause_2 = _text(_("其他致困原因二"), 50, size=12)
    secondary_cause_3 = _text(_("其他致困原因三"), 50, size=12)
    monthly_income = _money(_("家庭月收入（元）"))
    household_size = forms.IntegerField(
        label=_("家庭人口"),
        required=False,
        min_value=1,
        max_value=30,
        initial=1,
        error_messages={
            "invalid": _("请填写整数"),
            "min_value": _("至少1人"),
            "max_value": _("不超过30人"),
        },
        widget=forms.NumberInput(attrs={"class": "narrow"}),
    )
    minimum_living_line = _money(_("当地低保标准（元/人·月）"), max_digits=10)
    card_kind = forms.ChoiceField(
        label=_("发放卡类型"), required=False, choices=_with_blank(Household.CardKind.choices)
    )
    bank = _text(_("开户银行"), 50, size=16)
    bank_branch = _text(_("开户网点"), 100, size=24)
    card_number = _text(_("卡号"), 30, size=24)

    def __init__(self, *args: Any, units: Sequence[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = Unit.objects.filter(pk__in=[unit.pk for unit in units]).order_by("path")  # type: ignore[attr-defined]
        if len(units) == 1:
            field.initial = units[0].pk

    def household_input(self, members: Sequence[MemberInput]) -> HouseholdInput:
        data = self.cleaned_data
        causes = [data[f"secondary_cause_{n}"].strip() for n in range(1, SECONDARY_CAUSES + 1)]
        return HouseholdInput(
            head_name=data["head_name"],
            head_id_number=data["head_id_number"],
            category=data["category"],
            phone=data["phone"].strip(),
            employer=data["employer"].strip(),
            employer_kind=data["employer_kind"].strip(),
            difficulty_type=data["difficulty_type"].strip(),
            main_cause=data["main_cause"].strip(),
            secondary_causes=[cause for cause in causes if cause],
            monthly_income=data["monthly_income"],
            household_size=data["household_size"] or 1,
            minimum_living_line=data["minimum_living_line"],
            card_kind=data["card_kind"],
            bank=data["bank"].strip(),
            bank_branch=data["bank_branch"].strip(),
            card_number=data["card_number"].replace(" ", ""),
            members=members,
        )


class MemberForm(forms.Form):
    name = _text(_("姓名"), 50, required=True, size=8)
    relation = _text(_("与户主关系"), 20, required=True, size=6)
    id_number = forms.CharField(
        label=_("身份证号"), max_length=25, required=False, widget=forms.TextInput(attrs={"size": 20})
    )
    monthly_income = _money(_("月收入（元）"))
    health = _text(_("健康状况"), 50, size=8)
    school_or_employer = _text(_("就读学校或工作单位"), 100, size=18)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # the rows are a table: the column heads are the labels
            field.widget.attrs["aria-label"] = str(field.label)

    def member_input(self) -> MemberInput:
        data = self.cleaned_data
        return MemberInput(
            name=data["name"],
            relation=data["relation"],
            id_number=data["id_number"],
            monthly_income=data["monthly_income"],
            health=data["health"].strip(),
            school_or_employer=data["school_or_employer"].strip(),
        )


MemberFormSet = forms.formset_factory(
    MemberForm, extra=MAX_MEMBERS, max_num=MAX_MEMBERS, validate_max=True, absolute_max=MAX_MEMBERS
)


def member_inputs(formset: Any) -> list[MemberInput]:
    """The filled member rows of a valid formset (untouched rows are not members)."""
    return [form.member_input() for form in formset if form.has_changed() and form.cleaned_data]


# --- correcting a file -----------------------------------------------------------------------------------

#: Extra blank member rows on the correction page (for adding members), and the most rows it takes.
EDIT_EXTRA_MEMBERS = 2
EDIT_MAX_MEMBERS = 30
_KEEP_HINT = _("不修改请留空")


def _keep_blank(field: forms.Field, masked: str) -> None:
    """A personal number is never pre-filled (the page would hold it in full, unlogged): the field shows
    the stored number masked as its placeholder, and blank keeps it."""
    field.required = False
    if masked:
        field.widget.attrs["placeholder"] = masked
        field.widget.attrs["title"] = str(_KEEP_HINT)


class HouseholdEditForm(HouseholdForm):
    """The file's details for correcting: the new-file form without the unit (a file does not move), each
    field pre-filled with what is stored — except the ID, phone and card numbers, which are blank with the
    stored number masked as their placeholder: blank keeps the number, a number typed replaces it, and
    the phone and card numbers are cleared by their checkboxes."""

    clear_phone = forms.BooleanField(label=_("清空手机号"), required=False)
    clear_card_number = forms.BooleanField(label=_("清空卡号"), required=False)
    reason = _text(_("修改原因"), 200, size=40)

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        kwargs.setdefault("initial", details_initial(household))
        super().__init__(*args, units=[household.unit], **kwargs)
        del self.fields["unit"]
        self.household = household
        self.fields["head_name"].error_messages["required"] = gettext("户主姓名不能为空")
        _keep_blank(self.fields["head_id_number"], mask_id_number(household.head_id_number))
        _keep_blank(self.fields["phone"], mask_phone(household.phone) if household.phone else "")
        _keep_blank(
            self.fields["card_number"], mask_card(household.card_number) if household.card_number else ""
        )

    def household_input(self, members: Sequence[MemberInput] = ()) -> HouseholdInput:
        data = super().household_input(members)
        stored = self.household
        data.head_id_number = data.head_id_number.strip() or stored.head_id_number
        data.phone = "" if self.cleaned_data["clear_phone"] else data.phone or stored.phone
        data.card_number = (
            "" if self.cleaned_data["clear_card_number"] else data.card_number or stored.card_number
        )
        return data


def details_initial(household: Household) -> dict[str, Any]:
    """What the correction form shows filled in: the stored details, no personal number."""
    causes = list(household.secondary_causes) + [""] * SECONDARY_CAUSES
    initial: dict[str, Any] = {
        name: getattr(household, name)
        for name in (
            "head_name",
            "category",
            "employer",
            "employer_kind",
            "difficulty_type",
            "main_cause",
            "monthly_income",
            "household_size",
            "minimum_living_line",
            "card_kind",
            "bank",
            "bank_branch",
        )
    }
    initial.update({f"secondary_cause_{n}": causes[n - 1] for n in range(1, SECONDARY_CAUSES + 1)})
    return initial


class MemberEditForm(MemberForm):
    """A member's row on the correction page: `member` names a registered member (blank: a new one);
    the ID number is not pre-filled (blank keeps it); 删除 removes the member."""

    member = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = gettext("家庭成员姓名不能为空")
        self.fields["relation"].error_messages["required"] = gettext("请填写与户主的关系")
        masked = self.initial.get("masked_id", "")
        if masked:
            _keep_blank(self.fields["id_number"], masked)


class BaseMemberEditFormSet(forms.BaseFormSet):  # type: ignore[type-arg]  # generic only in the stubs
    def __init__(self, *args: Any, members: Sequence[Member] = (), **kwargs: Any) -> None:
        self.registered = {member.pk: member for member in members}
        kwargs.setdefault(
            "initial",
            [
                {
                    "member": member.pk,
                    "name": member.name,
                    "relation": member.relation,
                    "masked_id": mask_id_number(member.id_number) if member.id_number else "",
                    "monthly_income": member.monthly_income,
                    "health": member.health,
                    "school_or_employer": member.school_or_employer,
                }
                for member in members
            ],
        )
        super().__init__(*args, **kwargs)

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = gettext("删除")
        form.fields["DELETE"].widget.attrs["aria-label"] = gettext("删除")

    def edits(self) -> list[tuple[int, MemberEdit]]:
        """The rows of a valid formset that change something, each with its row's index: removals, changes
        (a blank ID number keeps the stored one) and new members (a blank extra row is none)."""
        found: list[tuple[int, MemberEdit]] = []
        for index, form in enumerate(self.forms):
            registered = (
                self.registered.get(form.cleaned_data.get("member") or 0) if form.cleaned_data else None
            )
            if index < self.initial_form_count() and registered is None:
                continue  # a row of a member not on this file (tampered with): nothing
            deleted = bool(form.cleaned_data.get("DELETE")) if form.cleaned_data else False
            if registered is not None:
                if deleted:
                    found.append((index, MemberEdit(registered.pk)))
                elif form.has_changed():
                    data = form.member_input()
                    data.id_number = data.id_number.strip() or registered.id_number
                    found.append((index, MemberEdit(registered.pk, data)))
            elif form.has_changed() and form.cleaned_data and not deleted:
                found.append((index, MemberEdit(None, form.member_input())))
        return found


MemberEditFormSet = cast(
    type[BaseMemberEditFormSet],
    forms.formset_factory(
        MemberEditForm,
        formset=BaseMemberEditFormSet,
        extra=EDIT_EXTRA_MEMBERS,
        can_delete=True,
        max_num=EDIT_MAX_MEMBERS,
        validate_max=True,
        absolute_max=EDIT_MAX_MEMBERS,
    ),
)


# --- the actions on a file --------------------------------------------------------------------------------


def _date_input() -> forms.DateInput:
    # The browser's date picker reads and sends ISO dates, whatever the locale's date format is.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _today() -> dt.date:
    return timezone.localdate()


class OutForm(forms.Form):
    # Not required here: the service names the four paths when none is chosen.
    path = forms.ChoiceField(
        label=_("脱困路径"), required=False, choices=Household.OutPath.choices, widget=forms.RadioSelect
    )
    on = forms.DateField(
        label=_("脱困日期"),
        initial=_today,
        error_messages=_DATE_MESSAGES,
        widget=_date_input(),
    )


class CloseForm(forms.Form):
    # Not required here: the service refuses an empty reason with its own message.
    reason = forms.CharField(
        label=_("注销原因"), max_length=200, required=False, widget=forms.TextInput(attrs={"size": 30})
    )
    on = forms.DateField(
        label=_("注销日期"),
        initial=_today,
        error_messages=_DATE_MESSAGES,
        widget=_date_input(),
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("年审情况"), max_length=500, required=False, widget=forms.TextInput(attrs={"size": 30})
    )


class NoteForm(forms.Form):
    """The reviewer's word when approving a proposal (optional)."""

    note = forms.CharField(
        label=_("审核意见"), max_length=500, required=False, widget=forms.TextInput(attrs={"size": 30})
    )


class ReasonForm(forms.Form):
    """Returning a proposal or reopening a file: a reason (the service names it when it is missing)."""

    reason = forms.CharField(
        label=_("原因"), max_length=500, required=False, widget=forms.TextInput(attrs={"size": 30})
    )


class PlanForm(forms.Form):
    contact = _text(_("帮扶联系人（单位）"), 100, size=30)
    deadline = forms.DateField(
        label=_("脱困期限"),
        required=False,
        error_messages=_DATE_MESSAGES,
        widget=_date_input(),
    )
    measures = forms.CharField(
        label=_("帮扶措施"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    path = forms.ChoiceField(
        label=_("脱困路径"), required=False, choices=_with_blank(Household.OutPath.choices)
    )


# --- import -----------------------------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("档案花名册（Excel、WPS 或 CSV 文件）"),
        # An empty file is passed on, so that the import says why it cannot be read in its own words.
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": IMPORT_ACCEPT}),
    )
    unit = UnitChoiceField(label=_("导入单位"), queryset=Unit.objects.none(), empty_label=None)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = units_visible_to(user).order_by("path")  # those `may_start_import` allows
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        first = units.first()
        if first is not None:
            self.fields["unit"].initial = first.pk


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel and WPS name it."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class MappingForm(forms.Form):
    """For each importable field, the column it is in (preselected from the header's wording)."""

    use_default_unit = forms.BooleanField(required=False)

    def __init__(self, *args: Any, job: ImportJob, offer_default_unit: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [
            (
                str(index),
                gettext("{column}列：{header}").format(
                    column=column_letter(index), header=text or gettext("（无标题）")
                ),
            )
            for index, text in enumerate(job.columns)
        ]
        for field in FIELDS:
            guessed = job.mapping.get(field.name)
            self.fields[field.name] = forms.ChoiceField(
                label=field.label,
                required=False,  # the import names every missing required field at once
                choices=_with_blank(columns, gettext("（不导入）")),
                initial="" if guessed is None else str(guessed),
            )
            required = field.required or (field.name == "unit" and not offer_default_unit)
            self.fields[field.name].widget.attrs["data-required"] = "1" if required else "0"
        if offer_default_unit:
            self.fields["use_default_unit"].label = gettext("没有建档单位列的行导入到“{unit}”").format(
                unit=job.unit.name
            )
            self.fields["use_default_unit"].initial = "unit" not in job.mapping
        else:
            del self.fields["use_default_unit"]

    def field_rows(self) -> list[tuple[Any, bool]]:
        # 建档单位 is required where the rows cannot fall back to the unit imported from.
        unit_required = "use_default_unit" not in self.fields
        return [
            (self[field.name], field.required or (field.name == "unit" and unit_required)) for field in FIELDS
        ]

    def mapping(self) -> dict[str, int]:
        return {
            field.name: int(self.cleaned_data[field.name])
            for field in FIELDS
            if self.cleaned_data[field.name]
        }

    def default_unit_chosen(self) -> bool:
        return bool(self.cleaned_data.get("use_default_unit"))
