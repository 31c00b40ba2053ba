"""Campaigns in the app (/campaigns/new/, /campaigns/<id>/copy/, /campaigns/<id>/edit/): an admin of the unit
that sends the notice writes its facts, copies last year's campaign as a start, or corrects one.

Thin views: the rule is `songnuan.orgs.permissions.may_create_campaign` (a 403 with its Chinese reason), the
checks and the write `songnuan.campaigns.services`; each refusal of the facts is shown beside its field.
The campaign's own pages (its home, the entry and review pages) live in `songnuan.reporting`; these answer
only here, before them in the project's URLs. Attaching the notice *file* is not offered yet: the notice's
text is pasted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from songnuan.campaigns import services
from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import builtin_forms
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import account_of, campaign_addressee_choices, may_create_campaign

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
#: The fields the page marks with *: the service refuses a campaign without them.
REQUIRED = ("document_number", "title", "period_start", "period_end", "deadline", "form_codes", "addressees")


class AddresseeField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    """The units below the owner as checkboxes, indented by depth."""

    def __init__(self, owner: Unit, **kwargs: Any) -> None:
        self.top_depth = owner.depth + 1
        super().__init__(campaign_addressee_choices(owner).order_by("path"), **kwargs)

    def label_from_instance(self, obj: Unit) -> str:
        return "　" * max(obj.depth - self.top_depth, 0) + obj.name


class CampaignForm(forms.Form):
    """The notice's facts. Every field is optional here: the service says what is missing, in one place."""

    document_number = forms.CharField(label=gettext_lazy("文号"), required=False)
    title = forms.CharField(label=gettext_lazy("通知标题"), required=False)
    period_start = forms.DateField(label=gettext_lazy("活动开始日期"), required=False, widget=DATE_WIDGET)
    period_end = forms.DateField(label=gettext_lazy("活动结束日期"), required=False, widget=DATE_WIDGET)
    period_text = forms.CharField(
        label=gettext_lazy("活动时间（通知原文）"),
        required=False,
        help_text=gettext_lazy("可不填；如“2018年元旦春节期间”，照通知原样写出。"),
    )
    deadline = forms.DateField(label=gettext_lazy("报送截止日期"), required=False, widget=DATE_WIDGET)
    receiving_department = forms.CharField(label=gettext_lazy("接收部门"), required=False)
    contact_name = forms.CharField(label=gettext_lazy("联系人"), required=False)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话"), required=False)
    contact_email = forms.CharField(label=gettext_lazy("邮箱"), required=False)
    form_codes = forms.MultipleChoiceField(
        label=gettext_lazy("统计表"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notice_text = forms.CharField(
        label=gettext_lazy("通知全文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy("可把通知正文粘贴在这里备查。"),
    )

    def __init__(self, *args: Any, owner: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["form_codes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (code, f"{form.attachment}《{form.title}》（{code}）")
            for code, form in sorted(builtin_forms().items())
        ]
        self.fields["addressees"] = AddresseeField(
            owner,
            label=gettext_lazy("主送单位"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=gettext_lazy("本单位自己也参加本次活动，不必选择。"),
        )
        self.order_fields([*(name for name in self.fields if name != "notice_text"), "notice_text"])

    def facts(self) -> services.CampaignFacts:
        data = dict(self.cleaned_data)
        data["addressees"] = list(data.get("addressees") or [])
        data["form_codes"] = list(data.get("form_codes") or [])
        return services.CampaignFacts(**data)


def initial_of(facts: services.CampaignFacts) -> dict[str, Any]:
    initial = {name: getattr(facts, name) for name in CampaignForm.base_fields}
    initial["addressees"] = [unit.pk for unit in facts.addressees]
    return initial


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _refuse_unless_allowed(user: User, owner: Unit) -> None:
    if not may_create_campaign(user, owner):
        raise PermissionDenied(
            _("只有“{unit}”的管理员可以新建、复制或修改该单位发出的送温暖活动。").format(unit=owner.name)
        )


def _own_campaign(request: HttpRequest, campaign_id: int) -> tuple[User, Campaign]:
    campaign = get_object_or_404(Campaign.objects.select_related("owner"), pk=campaign_id)
    user = _user(request)
    _refuse_unless_allowed(user, campaign.owner)
    return user, campaign


def _page(request: HttpRequest, form: CampaignForm, title: str, **context: Any) -> HttpResponse:
    return render(
        request, "campaigns/form.html", {"form": form, "title": title, "required": REQUIRED, **context}
    )


def _saved(request: HttpRequest, campaign: Campaign, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("campaign:home", args=[campaign.pk]))


def _refused(form: CampaignForm, refusal: ValidationError) -> None:
    """Each message of the service beside its field (a message without a field above the form)."""
    if hasattr(refusal, "error_dict"):
        for name, errors in refusal.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, refusal)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    account = account_of(user)
    if account is None:
        raise PermissionDenied
    owner = account.unit
    _refuse_unless_allowed(user, owner)
    form = CampaignForm(request.POST or None, owner=owner)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(user, owner, form.facts())
        except ValidationError as refusal:
            _refused(form, refusal)
        else:
            return _saved(request, campaign, _("已新建送温暖活动“{title}”。").format(title=campaign.title))
    return _page(request, form, _("新建送温暖活动"), owner=owner)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_copy(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user, source = _own_campaign(request, campaign_id)
    draft = services.copy_draft(source)
    form = CampaignForm(request.POST or None, owner=source.owner, initial=initial_of(draft.facts))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_copy(user, source, vars(form.facts()))
        except ValidationError as refusal:
            _refused(form, refusal)
        else:
            return _saved(
                request,
                campaign,
                _("已由“{source}”复制新建送温暖活动“{title}”。").format(
                    source=source.title, title=campaign.title
                ),
            )
    return _page(
        request,
        form,
        _("复制为新活动：{title}").format(title=source.title),
        owner=source.owner,
        source=source,
        missing_forms=draft.missing_forms,
        closed_addressees=draft.closed_addressees,
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user, campaign = _own_campaign(request, campaign_id)
    form = CampaignForm(
        request.POST or None, owner=campaign.owner, initial=initial_of(services.facts_of(campaign))
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_update(user, campaign, form.facts())
        except ValidationError as refusal:
            _refused(form, refusal)
        else:
            return _saved(
                request, campaign, _("已保存对送温暖活动“{title}”的修改。").format(title=campaign.title)
            )
    return _page(
        request,
        form,
        _("修改送温暖活动：{title}").format(title=campaign.title),
        owner=campaign.owner,
        campaign=campaign,
    )
