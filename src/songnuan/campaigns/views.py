"""Campaigns in the app (/campaigns/new/, /campaigns/<id>/copy/, /campaigns/<id>/edit/): an admin of the unit
that sends the notice writes its facts, copies last year's campaign as a start, or corrects one.

Thin views: the rule is `songnuan.orgs.permissions.may_create_campaign` (a 403 with its Chinese reason), the
checks and the write `songnuan.campaigns.services`; each refusal of the facts is shown beside its field.
The campaign's own pages (its home, the entry and review pages) live in `songnuan.reporting`; these answer
only here, before them in the project's URLs. The notice file (`notice_file`) is downloaded by whoever sees
the campaign's home page (`songnuan.campaigns.selectors.campaigns_visible_to`, the same rule as that page).
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from songnuan.campaigns import services
from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.campaigns.selectors import campaigns_visible_to
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
        self.owner = owner
        super().__init__(campaign_addressee_choices(owner).order_by("path"), **kwargs)

    def label_from_instance(self, obj: Unit) -> str:
        return "　" * max(obj.depth - self.top_depth, 0) + obj.name

    def clean(self, value: Any) -> Any:
        """A closed unit is not offered; one posted anyway (an old page, a crafted request) is refused by
        name rather than with Django's anonymous "not one of the available choices"."""
        ids = [v for v in (value or []) if str(v).isdigit()]
        closed = list(
            Unit.objects.filter(pk__in=ids, path__startswith=self.owner.path, closed_at__isnull=False)
            .order_by("path")
            .values_list("name", flat=True)
        )
        if closed:
            raise ValidationError(
                _("“{units}”已撤销，不能作为主送单位，请取消选择。").format(units="、".join(closed)),
                code="closed_unit",
            )
        return super().clean(value)


class PreviousField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    """The owner's own campaigns (never the one being edited), newest first; the service refuses a later
    one."""

    def label_from_instance(self, obj: Campaign) -> str:
        return f"{obj.period_start:%Y}年 · {obj.title}（{obj.document_number}）"


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

    reporting_scope = forms.ChoiceField(
        label=gettext_lazy("填报口径"),
        required=False,
        choices=ReportingScope.choices,
        initial=ReportingScope.OWN_LEVEL,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "本次活动中各单位的表填什么数：只填本单位自身的（本级），还是本单位连同所属下级的合计（全辖）。"
        ),
    )
    change_ratio = forms.CharField(
        label=gettext_lazy("与上年相比的警告倍数"),
        required=False,
        initial="3",
        help_text=gettext_lazy(
            "填报的数超过上年的这么多倍，或不到上年的几分之一时，提醒填报单位核实（核实性审核）；大于1，最多两位小数。"
        ),
    )
    notice_file = forms.FileField(
        label=gettext_lazy("通知文件"),
        required=False,
        allow_empty_file=True,  # refused by the service, naming the file
        help_text=gettext_lazy(
            "可附上通知的正式文本：PDF、Word、WPS、OFD 文件或 JPG、PNG 扫描件，不超过 20 MB。"
            "修改活动时不选文件，保留原有的文件。"
        ),
    )

    def __init__(self, *args: Any, owner: Unit, editing: Campaign | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        earlier = Campaign.objects.filter(owner=owner).order_by("-period_start", "-pk")
        if editing is not None:
            earlier = earlier.exclude(pk=editing.pk).filter(period_start__lt=editing.period_start)
        self.fields["previous"] = PreviousField(
            earlier,
            label=gettext_lazy("上一年活动"),
            required=False,
            empty_label=gettext_lazy("（无）"),
            help_text=gettext_lazy("填报页在每项旁显示上一年活动中审核通过的数，供对比。"),
        )
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
        last = ("notice_text", "notice_file")
        self.order_fields([*(name for name in self.fields if name not in last), *last])

    def facts(self) -> services.CampaignFacts:
        data = dict(self.cleaned_data)
        data["addressees"] = list(data.get("addressees") or [])
        data["form_codes"] = list(data.get("form_codes") or [])
        data["notice_file"] = data.get("notice_file") or None
        # Not sent (an older page, a script): what the page showed, i.e. the campaign's value or the default.
        for name in ("reporting_scope", "change_ratio"):
            if not str(data.get(name) or "").strip():
                data[name] = self.get_initial_for_field(self.fields[name], name)
        return services.CampaignFacts(**data)


def initial_of(facts: services.CampaignFacts) -> dict[str, Any]:
    initial = {name: getattr(facts, name) for name in CampaignForm.base_fields}
    initial["addressees"] = [unit.pk for unit in facts.addressees]
    initial["previous"] = facts.previous.pk if facts.previous is not None else None
    initial["change_ratio"] = str(facts.change_ratio)
    initial.pop("notice_file", None)
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
    form = CampaignForm(request.POST or None, request.FILES or None, owner=owner)
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
    form = CampaignForm(
        request.POST or None, request.FILES or None, owner=source.owner, initial=initial_of(draft.facts)
    )
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
        request.POST or None,
        request.FILES or None,
        owner=campaign.owner,
        editing=campaign,
        initial=initial_of(services.facts_of(campaign)),
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
        notice_name=os.path.basename(campaign.notice_file.name or ""),
    )


@login_required
@require_GET
def notice_file(request: HttpRequest, campaign_id: int) -> HttpResponseBase:
    """The campaign's notice file, as an attachment (never shown inline: it came from a user)."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if not campaigns_visible_to(_user(request)).filter(pk=campaign.pk).exists():
        raise PermissionDenied(_("您所在的单位不在这次活动之中，不能下载它的通知文件。"))
    if not campaign.notice_file:
        raise Http404(_("这次活动没有上传通知文件。"))
    try:
        handle = campaign.notice_file.open("rb")
    except FileNotFoundError:
        raise Http404(_("这次活动的通知文件已不在服务器上。")) from None
    name = os.path.basename(campaign.notice_file.name or "")
    response = FileResponse(handle, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
