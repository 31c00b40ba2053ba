"""Administration in the app (/manage/…) for a unit's 管理员: the units and accounts of its own subtree.

Thin views: the rules are `songnuan.orgs.permissions` (may_manage_unit, may_restructure_unit,
may_manage_account, may_grant_personal_data), the writes and their checks `songnuan.orgs.services`. A refusal
of the rule is a 403 page with its Chinese reason; bad input is the form again with the message. The Django
admin stays for superusers.

A one-time password (new account, reset) is shown once, in the answer to the POST that made it, marked
`no-store`; it is never stored in clear, and sending the same form again (a reload) shows nothing new: the
form carries `password_stamp`, which the reset changed.
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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from songnuan.orgs import services
from songnuan.orgs.models import Account, AuditEntry, Unit
from songnuan.orgs.permissions import (
    account_of,
    has_personal_data_permission,
    may_grant_personal_data,
    may_manage_account,
    may_manage_unit,
    may_restructure_unit,
    units_to_manage,
)

LOG_SHOWN = 200


# --- forms (the services check the content; these only carry it) -----------------------------------------


class UnitAddForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("单位名称"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("类别"), choices=Unit.Kind.choices)
    contact_name = forms.CharField(label=gettext_lazy("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=50, required=False)


class UnitRenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("新名称"), max_length=100)


class UnitMoveForm(forms.Form):
    parent = forms.TypedChoiceField(label=gettext_lazy("新的上级单位"), coerce=int)

    def __init__(self, *args: Any, parents: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(u.pk, _indented(u, parents[0].depth if parents else 0)) for u in parents]


class AccountAddForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("登录名"), max_length=150)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=150)
    unit = forms.TypedChoiceField(label=gettext_lazy("所属单位"), coerce=int)
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Account.Role.choices)
    phone = forms.CharField(label=gettext_lazy("电话"), max_length=50, required=False)

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(u.pk, _indented(u, units[0].depth if units else 0)) for u in units]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Account.Role.choices)


# --- helpers -----------------------------------------------------------------------------------------------


def _indented(unit: Unit, top_depth: int) -> str:
    return "　" * (unit.depth - top_depth) + unit.name


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _admin(request: HttpRequest) -> tuple[User, Account]:
    """The logged-in admin and its account; anyone else is refused with the reason."""
    user = _user(request)
    account = account_of(user)
    if account is None or account.role != Account.Role.ADMIN:
        raise PermissionDenied(_("只有管理员可以管理单位和账号。"))
    return user, account


def _unit(request: HttpRequest, unit_id: int) -> tuple[User, Unit]:
    user, _account = _admin(request)
    unit = get_object_or_404(Unit.objects.select_related("parent"), pk=unit_id)
    if not may_manage_unit(user, unit):
        raise PermissionDenied(
            _("“{unit}”不在您的管理范围内：您只能管理本单位及下级单位。").format(unit=unit.name)
        )
    return user, unit


def _account(request: HttpRequest, account_id: int) -> tuple[User, Account]:
    user, _mine = _admin(request)
    account = get_object_or_404(Account.objects.select_related("user", "unit"), pk=account_id)
    if not may_manage_unit(user, account.unit):
        raise PermissionDenied(
            _("账号“{username}”（{unit}）不在您的管理范围内。").format(
                username=account.user.get_username(), unit=account.unit.name
            )
        )
    return user, account


def _message(refusal: ValidationError) -> str:
    return "；".join(refusal.messages)


def _form_errors(form: forms.Form) -> str:
    return "；".join(
        f"{form.fields[name].label}：{''.join(map(str, errors))}"
        if name in form.fields
        else "".join(map(str, errors))
        for name, errors in form.errors.items()
    )


def _once(request: HttpRequest, account: Account, password: str, *, created: bool) -> HttpResponse:
    """The page that shows a one-time password: only in this answer, never cached."""
    response = render(
        request,
        "orgs/manage/password_once.html",
        {"account": account, "password": password, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- units -------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def units(request: HttpRequest) -> HttpResponse:
    user, account = _admin(request)
    tree = list(units_to_manage(user).select_related("parent"))
    rows = [
        {
            "unit": unit,
            "indent": min(unit.depth - account.unit.depth, 9),
            "restructure": may_restructure_unit(user, unit) and unit.closed_at is None,
            "accounts": unit.accounts.count(),
        }
        for unit in tree
    ]
    return render(request, "orgs/manage/units.html", {"rows": rows, "top": account.unit})


@login_required
@require_http_methods(["GET", "POST"])
def unit_add(request: HttpRequest, unit_id: int) -> HttpResponse:
    user, parent = _unit(request, unit_id)
    form = UnitAddForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                unit = services.unit_add(user, parent=parent, **form.cleaned_data)
            except ValidationError as refusal:
                error = _message(refusal)
            else:
                messages.success(
                    request, _("已在“{parent}”下增加“{unit}”。").format(parent=parent.name, unit=unit.name)
                )
                return redirect("manage-units")
        else:
            error = _form_errors(form)
    title = _("在“{unit}”下增加单位").format(unit=parent.name)
    return render(request, "orgs/manage/form.html", {"form": form, "title": title, "error": error})


@login_required
@require_http_methods(["GET", "POST"])
def unit_rename(request: HttpRequest, unit_id: int) -> HttpResponse:
    user, unit = _unit(request, unit_id)
    form = UnitRenameForm(request.POST or None, initial={"name": unit.name})
    error = ""
    if request.method == "POST":
        if form.is_valid():
            old = unit.name
            try:
                services.unit_rename(user, unit, form.cleaned_data["name"])
            except ValidationError as refusal:
                error = _message(refusal)
            else:
                messages.success(request, _("“{old}”已改名为“{new}”。").format(old=old, new=unit.name))
                return redirect("manage-units")
        else:
            error = _form_errors(form)
    title = _("修改“{unit}”的名称").format(unit=unit.name)
    return render(request, "orgs/manage/form.html", {"form": form, "title": title, "error": error})


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request: HttpRequest, unit_id: int) -> HttpResponse:
    user, unit = _unit(request, unit_id)
    if not may_restructure_unit(user, unit):
        raise PermissionDenied(
            _("您只能调整本单位下级单位的隶属关系，不能调整“{unit}”。").format(unit=unit.name)
        )
    # Offered: the admin's subtree except the unit's own (the service refuses those too, with a message).
    parents = [u for u in units_to_manage(user) if not u.is_within(unit) and u.closed_at is None]
    form = UnitMoveForm(request.POST or None, parents=parents, initial={"parent": unit.parent_id})
    error = ""
    if request.method == "POST":
        # The target is looked up as sent, not only among the offered ones: the service decides and explains.
        try:
            target = Unit.objects.get(pk=int(request.POST.get("parent", "")))
        except (ValueError, Unit.DoesNotExist):
            error = _("请选择新的上级单位。")
        else:
            try:
                services.unit_move(user, unit, target)
            except ValidationError as refusal:
                error = _message(refusal)
            else:
                messages.success(
                    request, _("“{unit}”已移到“{parent}”之下。").format(unit=unit.name, parent=target.name)
                )
                return redirect("manage-units")
    title = _("调整“{unit}”的上级单位").format(unit=unit.name)
    hint = _("它的下级单位随它一起移动。")
    return render(
        request, "orgs/manage/form.html", {"form": form, "title": title, "error": error, "hint": hint}
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_close(request: HttpRequest, unit_id: int) -> HttpResponse:
    user, unit = _unit(request, unit_id)
    if not may_restructure_unit(user, unit):
        raise PermissionDenied(_("您只能撤销本单位的下级单位，不能撤销“{unit}”。").format(unit=unit.name))
    error = ""
    if request.method == "POST":
        try:
            services.unit_close(user, unit)
        except ValidationError as refusal:
            error = _message(refusal)
        else:
            messages.success(request, _("“{unit}”已撤销，其账号已停用。").format(unit=unit.name))
            return redirect("manage-units")
    context = {
        "unit": unit,
        "error": error,
        "work": services.open_work_of(unit),
        "active_accounts": unit.accounts.filter(user__is_active=True).count(),
    }
    return render(request, "orgs/manage/unit_close.html", context)


# --- accounts ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def accounts(request: HttpRequest) -> HttpResponse:
    user, _mine = _admin(request)
    visible = units_to_manage(user)
    rows = (
        Account.objects.filter(unit__in=visible)
        .select_related("user", "unit")
        .order_by("unit__path", "role", "user__username")
    )
    return render(request, "orgs/manage/accounts.html", {"accounts": rows})


@login_required
@require_http_methods(["GET", "POST"])
def account_add(request: HttpRequest) -> HttpResponse:
    user, mine = _admin(request)
    choices = [u for u in units_to_manage(user) if u.closed_at is None]
    form = AccountAddForm(request.POST or None, units=choices, initial={"unit": mine.unit_id})
    error = ""
    if request.method == "POST":
        try:
            unit = Unit.objects.get(pk=int(request.POST.get("unit", "")))
        except (ValueError, Unit.DoesNotExist):
            unit = None
        if form.is_valid() or (unit is not None and set(form.errors) == {"unit"}):
            if unit is None:
                error = _("请选择所属单位。")
            else:
                data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
                try:
                    account, password = services.account_add(user, unit=unit, **data)
                except ValidationError as refusal:
                    error = _message(refusal)
                else:
                    return _once(request, account, password, created=True)
        else:
            error = _form_errors(form)
    title = _("增加账号")
    hint = _("系统生成一次性密码，只显示一次；本人首次登录后须修改密码。")
    return render(
        request, "orgs/manage/form.html", {"form": form, "title": title, "error": error, "hint": hint}
    )


@login_required
@never_cache
@require_http_methods(["GET"])
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    user, account = _account(request, account_id)
    context = {
        "account": account,
        "manageable": may_manage_account(user, account),
        "may_grant": may_grant_personal_data(user, account),
        "actor_holds": has_personal_data_permission(user),
        "holds": services.holds_personal_data_permission(account),
        "stamp": services.password_stamp(account),
        "role_form": RoleForm(initial={"role": account.role}),
        "entries": account.audit_entries.select_related("actor")[:LOG_SHOWN],
    }
    return render(request, "orgs/manage/account.html", context)


def _account_action(request: HttpRequest, account_id: int, act: Any) -> HttpResponse:
    user, account = _account(request, account_id)
    try:
        done = act(user, account)
    except ValidationError as refusal:
        messages.error(request, _message(refusal))
    else:
        if isinstance(done, HttpResponse):
            return done
        messages.success(request, done)
    return redirect("manage-account", account_id=account.pk)


@login_required
@require_POST
def account_active(request: HttpRequest, account_id: int) -> HttpResponse:
    def act(user: User, account: Account) -> str:
        active = request.POST.get("active") == "1"
        services.account_set_active(user, account, active)
        name = account.user.get_username()
        return (_("账号“{name}”已启用。") if active else _("账号“{name}”已停用。")).format(name=name)

    return _account_action(request, account_id, act)


@login_required
@require_POST
def account_role(request: HttpRequest, account_id: int) -> HttpResponse:
    def act(user: User, account: Account) -> str:
        services.account_set_role(user, account, request.POST.get("role", ""))
        return _("账号“{name}”的角色已改为{role}。").format(
            name=account.user.get_username(), role=account.get_role_display()
        )

    return _account_action(request, account_id, act)


@login_required
@require_POST
def account_reset(request: HttpRequest, account_id: int) -> HttpResponse:
    def act(user: User, account: Account) -> HttpResponse:
        password = services.account_reset_password(user, account, request.POST.get("stamp", ""))
        return _once(request, account, password, created=False)

    return _account_action(request, account_id, act)


@login_required
@require_POST
def account_personal_data(request: HttpRequest, account_id: int) -> HttpResponse:
    def act(user: User, account: Account) -> str:
        granted = request.POST.get("granted") == "1"
        services.account_set_personal_data(user, account, granted)
        name = account.user.get_username()
        if granted:
            return _("已授予账号“{name}”查看完整号码的权限。").format(name=name)
        return _("已收回账号“{name}”查看完整号码的权限。").format(name=name)

    return _account_action(request, account_id, act)


# --- the log -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def log(request: HttpRequest) -> HttpResponse:
    account = _admin(request)[1]
    entries = AuditEntry.objects.filter(unit__path__startswith=account.unit.path).select_related(
        "actor", "unit", "account__user"
    )[:LOG_SHOWN]
    return render(request, "orgs/manage/log.html", {"entries": entries, "shown": LOG_SHOWN})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("manage-units"))
