"""Writes to the unit tree and the accounts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.models import User as AuthUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from songnuan.orgs.models import Account, AuditEntry, Unit, path_ids, path_segment
from songnuan.orgs.permissions import (
    PERSONAL_DATA_PERMISSION,
    may_grant_personal_data,
    may_manage_account,
    may_manage_unit,
    may_restructure_unit,
)
from songnuan.orgs.signals import unit_moved, unit_moving


@transaction.atomic
def unit_create(
    *,
    name: str,
    kind: str,
    parent: Unit | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    sort_order: int = 0,
) -> Unit:
    unit = Unit.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        contact_name=contact_name,
        contact_phone=contact_phone,
        sort_order=sort_order,
        path="",
        depth=0 if parent is None else parent.depth + 1,
    )
    unit.path = (parent.path if parent else "") + path_segment(unit.pk)
    unit.save(update_fields=["path"])
    units_came(unit.path)
    return unit


def _add_below(unit_ids: Iterable[int], change: int) -> None:
    ids = list(unit_ids)
    if ids and change:
        Unit.objects.filter(pk__in=ids).update(units_below=F("units_below") + change)


def units_came(path: str) -> None:
    """A unit was added at `path`: one more unit below each unit above it."""
    _add_below(path_ids(path)[:-1], 1)


def units_went(path: str) -> None:
    """The unit at `path` was removed (only a unit with none below it can be): one fewer above it."""
    _add_below(path_ids(path)[:-1], -1)


def units_moved(old_path: str, new_path: str, units: int) -> None:
    """`units` units (a unit and its subtree) moved from `old_path` to `new_path`: the units above both
    stay as they were."""
    old_above, new_above = set(path_ids(old_path)[:-1]), set(path_ids(new_path)[:-1])
    _add_below(old_above - new_above, -units)
    _add_below(new_above - old_above, units)


def units_below_wrong() -> dict[int, tuple[int, int]]:
    """The units whose `units_below` is not what their paths say: {id: (kept, counted)}."""
    counts: dict[int, int] = {}
    kept: dict[int, int] = {}
    rows = Unit.objects.values_list("pk", "path", "units_below").iterator(chunk_size=5000)
    for pk, path, units_below in rows:
        kept[pk] = units_below
        counts.setdefault(pk, 0)
        for above in path_ids(path)[:-1]:
            counts[above] = counts.get(above, 0) + 1
    return {pk: (kept[pk], count) for pk, count in counts.items() if pk in kept and kept[pk] != count}


def count_units_below() -> int:
    """Set every wrong `units_below` from the paths (units written around the services: a bulk load, an
    older database); how many were wrong."""
    wrong = units_below_wrong()
    Unit.objects.bulk_update(
        [Unit(pk=pk, units_below=counted) for pk, (_kept, counted) in wrong.items()],
        ["units_below"],
        batch_size=1000,
    )
    return len(wrong)


@transaction.atomic
def account_create(
    *,
    username: str,
    password: str,
    unit: Unit,
    role: str,
    name: str = "",
    phone: str = "",
) -> Account:
    """A login for one person of a unit. The password must pass the validators (AUTH_PASSWORD_VALIDATORS:
    length, not common, not all digits, not like the username or name); otherwise a ValidationError in Chinese
    names the account and every reason, and nothing is created. (The demo's `songnuan-demo` passes them.)"""
    User = get_user_model()
    try:
        validate_password(password, User(username=username, first_name=name))
    except ValidationError as refused:
        raise ValidationError(
            _("账号“{username}”的密码不符合要求：{reasons}").format(
                username=username, reasons="；".join(refused.messages)
            ),
            code="password_invalid",
        ) from refused
    user = User.objects.create_user(username=username, password=password, first_name=name)
    return Account.objects.create(user=user, unit=unit, role=role, phone=phone)


# --- administration in the app: an admin's own subtree (rules in `songnuan.orgs.permissions`) -------------
#
# Every function below checks its rule first (PermissionDenied with a Chinese reason), then the input
# (ValidationError with a Chinese message naming the unit or account), and only then writes, in one
# transaction, with an AuditEntry for each change. A refusal leaves nothing written.

#: What keeps a unit from being closed, found through the reverse relations other apps declare on Unit (orgs
#: may not import reporting or archive): (related name, status field, the open statuses, what to call them).
#: A relation that does not exist (the app is not installed) is skipped. tests/orgs/test_manage.py checks
#: that the statuses named here are those of `reporting.Submission` and `archive.Household`.
OPEN_WORK: tuple[tuple[str, str, tuple[str, ...], str | Promise], ...] = (
    ("submissions", "status", ("draft", "submitted", "returned"), _lazy("未审核通过的统计表")),
    ("households", "status", ("applied", "filed"), _lazy("在档的困难职工档案")),
)

#: Letters and digits that cannot be mistaken for one another when read aloud or copied from a screen.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _audit(
    actor: AuthUser,
    action: str,
    unit: Unit,
    *,
    account: Account | None = None,
    old: str = "",
    new: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor, action=action, unit=unit, account=account, old=old[:255], new=new[:255]
    )


def _refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _clean_unit_name(name: str, parent: Unit | None, *, exclude: Unit | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("请填写单位名称。"), code="name_required")
    if len(name) > Unit._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError(_("单位名称“{name}”太长：最多100个字。").format(name=name), code="name_long")
    taken = Unit.objects.filter(parent=parent, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            _("“{parent}”下已有名为“{name}”的单位。").format(
                parent=parent.name if parent else _("顶层"), name=name
            ),
            code="name_taken",
        )
    return name


def _refuse_closed(unit: Unit) -> None:
    if unit.closed_at is not None:
        raise ValidationError(
            _("“{unit}”已撤销，不能再在其下增加单位或账号。").format(unit=unit.name), code="unit_closed"
        )


@transaction.atomic
def unit_add(
    actor: AuthUser,
    *,
    parent: Unit,
    name: str,
    kind: str,
    contact_name: str = "",
    contact_phone: str = "",
) -> Unit:
    """A new unit below `parent` (in the admin's subtree)."""
    _refuse_unless(
        may_manage_unit(actor, parent),
        _("您只能在本单位及下级单位之下增加单位，“{unit}”不在您的管理范围内。").format(unit=parent.name),
    )
    _refuse_closed(parent)
    if kind not in Unit.Kind.values:
        raise ValidationError(_("请选择单位类别。"), code="kind_invalid")
    name = _clean_unit_name(name, parent)
    unit = unit_create(
        name=name,
        kind=kind,
        parent=parent,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
    )
    _audit(actor, AuditEntry.Action.UNIT_CREATED, unit, old=parent.name, new=name)
    return unit


@transaction.atomic
def unit_rename(actor: AuthUser, unit: Unit, name: str) -> Unit:
    _refuse_unless(
        may_manage_unit(actor, unit),
        _("您只能修改本单位及下级单位的名称，“{unit}”不在您的管理范围内。").format(unit=unit.name),
    )
    old = unit.name
    name = _clean_unit_name(name, unit.parent, exclude=unit)
    if name == old:
        raise ValidationError(_("新名称与原名称“{name}”相同。").format(name=old), code="unchanged")
    unit.name = name
    unit.save(update_fields=["name"])
    _audit(actor, AuditEntry.Action.UNIT_RENAMED, unit, old=old, new=name)
    return unit


@transaction.atomic
def unit_move(actor: AuthUser, unit: Unit, new_parent: Unit) -> Unit:
    """Put `unit` (and everything below it) under `new_parent`; the materialised paths and depths of the whole
    subtree are rewritten in one UPDATE, inside this transaction."""
    _refuse_unless(
        may_restructure_unit(actor, unit),
        _("您只能调整本单位下级单位的隶属关系，不能调整“{unit}”。").format(unit=unit.name),
    )
    _refuse_unless(
        may_manage_unit(actor, new_parent),
        _("不能把“{unit}”移到您管理范围以外的“{parent}”之下。").format(
            unit=unit.name, parent=new_parent.name
        ),
    )
    unit_moving.send(sender=Unit, unit_id=unit.pk)  # the apps' campaign locks first (see the signal)
    # Read both again under a lock: the tree may have changed since the page was shown.
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.select_for_update().get(pk=new_parent.pk)
    if new_parent.is_within(unit):
        raise ValidationError(
            _("不能把“{unit}”移到它自己或它的下级单位“{parent}”之下。").format(
                unit=unit.name, parent=new_parent.name
            ),
            code="move_into_itself",
        )
    if unit.parent_id == new_parent.pk:
        raise ValidationError(
            _("“{unit}”已在“{parent}”之下。").format(unit=unit.name, parent=new_parent.name), code="unchanged"
        )
    if unit.closed_at is not None:
        raise ValidationError(_("“{unit}”已撤销，不能调整。").format(unit=unit.name), code="unit_closed")
    _refuse_closed(new_parent)
    _clean_unit_name(unit.name, new_parent, exclude=unit)
    old_path = unit.path
    new_path = new_parent.path + path_segment(unit.pk)
    subtree = Unit.objects.filter(path__startswith=old_path)
    longest = max(len(path) for path in subtree.values_list("path", flat=True))
    if longest - len(old_path) + len(new_path) > Unit._meta.get_field("path").max_length:  # type: ignore[operator]
        raise ValidationError(
            _("“{unit}”移到“{parent}”之下后层级太深，无法保存。").format(
                unit=unit.name, parent=new_parent.name
            ),
            code="too_deep",
        )
    old_parent_name = unit.parent.name if unit.parent else ""
    subtree.update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=CharField()),
        depth=F("depth") + (new_parent.depth + 1 - unit.depth),
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    units_moved(old_path, new_path, 1 + unit.units_below)
    unit_moved.send(sender=Unit, unit_id=unit.pk, old_path=old_path, new_path=new_path)
    unit.refresh_from_db()
    _audit(actor, AuditEntry.Action.UNIT_MOVED, unit, old=old_parent_name, new=new_parent.name)
    return unit


def open_work_of(unit: Unit) -> list[str]:
    """What keeps `unit` from being closed, as Chinese phrases ("未审核通过的统计表 2 张"); empty when nothing
    does. Looked up through `OPEN_WORK`'s reverse relations."""
    found = []
    for related_name, field, statuses, label in OPEN_WORK:
        try:
            related = getattr(unit, related_name)
        except AttributeError:  # the app that declares it is not installed
            continue
        count = related.filter(**{f"{field}__in": statuses}).count()
        if count:
            found.append(_("{what}{count}份").format(what=label, count=count))
    return found


@transaction.atomic
def unit_close(actor: AuthUser, unit: Unit) -> Unit:
    """Close (撤销) a unit with no open unit below it and no open work; its active accounts are disabled."""
    _refuse_unless(
        may_restructure_unit(actor, unit),
        _("您只能撤销本单位的下级单位，不能撤销“{unit}”。").format(unit=unit.name),
    )
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.closed_at is not None:
        raise ValidationError(_("“{unit}”已经撤销。").format(unit=unit.name), code="unit_closed")
    open_children = list(unit.children.filter(closed_at__isnull=True).values_list("name", flat=True))
    if open_children:
        raise ValidationError(
            _("“{unit}”下还有未撤销的单位：{children}。请先撤销或移走它们。").format(
                unit=unit.name, children="、".join(open_children)
            ),
            code="open_children",
        )
    work = open_work_of(unit)
    if work:
        raise ValidationError(
            _("“{unit}”还有{work}，不能撤销。请先处理完（统计表审核通过，档案解困脱困或注销）。").format(
                unit=unit.name, work="、".join(work)
            ),
            code="open_work",
        )
    unit.closed_at = timezone.now()
    unit.save(update_fields=["closed_at"])
    _audit(actor, AuditEntry.Action.UNIT_CLOSED, unit, old=_("正常"), new=_("已撤销"))
    for account in unit.accounts.select_related("user").filter(user__is_active=True):
        account.user.is_active = False
        account.user.save(update_fields=["is_active"])
        _audit(actor, AuditEntry.Action.ACCOUNT_DISABLED, unit, account=account, old=_("启用"), new=_("停用"))
    return unit


def _role_label(role: str) -> str:
    return str(dict(Account.Role.choices).get(role, role))


def _new_one_time_password(username: str, name: str) -> str:
    """A random password "abcd-efgh-jkmn" (≈ 59 bits) that passes the validators."""
    User = get_user_model()
    while True:
        password = "-".join("".join(secrets.choice(_OTP_ALPHABET) for _n in range(4)) for _group in range(3))
        try:
            validate_password(password, User(username=username, first_name=name))
        except ValidationError:
            continue
        return password


def _set_one_time_password(account: Account) -> str:
    password = _new_one_time_password(account.user.get_username(), account.user.first_name)
    account.user.set_password(password)
    account.user.save(update_fields=["password"])
    account.one_time_password = account.user.password  # the hash, never the password
    account.save(update_fields=["one_time_password"])
    return password


@transaction.atomic
def account_add(
    actor: AuthUser, *, username: str, name: str, unit: Unit, role: str, phone: str = ""
) -> tuple[Account, str]:
    """A new account with a one-time password, returned once to be shown once: the person must change it at
    the first login."""
    _refuse_unless(
        may_manage_unit(actor, unit),
        _("您只能为本单位及下级单位增加账号，“{unit}”不在您的管理范围内。").format(unit=unit.name),
    )
    _refuse_closed(unit)
    User = get_user_model()
    username = username.strip()
    if not username:
        raise ValidationError(_("请填写登录名。"), code="username_required")
    try:
        User.username_validator(username)
    except ValidationError as bad:
        raise ValidationError(
            _("登录名“{username}”只能包含字母、数字和 @ . + - _。").format(username=username),
            code="username_invalid",
        ) from bad
    if len(username) > 150:
        raise ValidationError(_("登录名太长：最多150个字符。"), code="username_long")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("登录名“{username}”已被使用。").format(username=username), code="username_taken"
        )
    if role not in Account.Role.values:
        raise ValidationError(_("请选择角色。"), code="role_invalid")
    name = name.strip()
    if not name:
        raise ValidationError(_("请填写姓名。"), code="name_required")
    password = _new_one_time_password(username, name)
    account = account_create(
        username=username, password=password, unit=unit, role=role, name=name, phone=phone.strip()
    )
    account.one_time_password = account.user.password
    account.save(update_fields=["one_time_password"])
    _audit(
        actor,
        AuditEntry.Action.ACCOUNT_CREATED,
        unit,
        account=account,
        new=f"{username}（{name}，{unit.name}，{_role_label(role)}）",
    )
    return account, password


def _refuse_unless_manages(actor: AuthUser, account: Account) -> None:
    if account.user_id == actor.pk:
        raise PermissionDenied(_("不能在这里修改自己的账号；修改自己的密码请用“修改密码”。"))
    _refuse_unless(
        may_manage_account(actor, account),
        _("账号“{username}”（{unit}）不在您的管理范围内。").format(
            username=account.user.get_username(), unit=account.unit.name
        ),
    )


@transaction.atomic
def account_set_active(actor: AuthUser, account: Account, active: bool) -> Account:
    _refuse_unless_manages(actor, account)
    user = account.user
    if user.is_active == active:
        state = _("启用") if active else _("停用")
        raise ValidationError(
            _("账号“{username}”已经是{state}状态。").format(username=user.get_username(), state=state),
            code="unchanged",
        )
    if active:
        _refuse_closed(account.unit)
    user.is_active = active
    user.save(update_fields=["is_active"])
    _audit(
        actor,
        AuditEntry.Action.ACCOUNT_ENABLED if active else AuditEntry.Action.ACCOUNT_DISABLED,
        account.unit,
        account=account,
        old=_("停用") if active else _("启用"),
        new=_("启用") if active else _("停用"),
    )
    return account


def password_stamp(account: Account) -> str:
    """A value the reset form carries: it changes with the password, so a form sent again (a reload of the
    page that showed a one-time password) no longer matches and shows nothing."""
    return salted_hmac(
        "songnuan.orgs.password-reset", f"{account.pk}:{account.user.password}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def account_reset_password(actor: AuthUser, account: Account, stamp: str) -> str:
    """A new one-time password for `account`, returned once; the old password stops working and the person
    must change the new one at the next login. `stamp` is `password_stamp` as the form was shown."""
    _refuse_unless_manages(actor, account)
    account = Account.objects.select_for_update().select_related("user", "unit").get(pk=account.pk)
    if not constant_time_compare(stamp, password_stamp(account)):
        raise ValidationError(
            _(
                "账号“{username}”的密码已经重置过，一次性密码只显示一次，不再显示。如需新密码，请重新重置。"
            ).format(username=account.user.get_username()),
            code="already_reset",
        )
    password = _set_one_time_password(account)
    _audit(
        actor, AuditEntry.Action.PASSWORD_RESET, account.unit, account=account, new=_("一次性密码（须修改）")
    )
    return password


@transaction.atomic
def account_set_role(actor: AuthUser, account: Account, role: str) -> Account:
    _refuse_unless_manages(actor, account)
    if role not in Account.Role.values:
        raise ValidationError(_("请选择角色。"), code="role_invalid")
    if role == account.role:
        raise ValidationError(
            _("账号“{username}”已经是{role}。").format(
                username=account.user.get_username(), role=_role_label(role)
            ),
            code="unchanged",
        )
    old = account.role
    account.role = role
    account.save(update_fields=["role"])
    _audit(
        actor,
        AuditEntry.Action.ROLE_CHANGED,
        account.unit,
        account=account,
        old=_role_label(old),
        new=_role_label(role),
    )
    return account


def _personal_data_permission() -> Permission:
    app_label, codename = PERSONAL_DATA_PERMISSION.split(".")
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist as missing:
        raise ValidationError(_("系统中没有“查看完整号码”这项权限。"), code="no_permission") from missing


def holds_personal_data_permission(account: Account) -> bool:
    """Whether the account's user holds the full-number permission itself (directly, not as a superuser)."""
    return account.user.user_permissions.filter(pk=_personal_data_permission().pk).exists()


@transaction.atomic
def account_set_personal_data(actor: AuthUser, account: Account, granted: bool) -> Account:
    """Grant or revoke the full-number permission: only by an admin who holds it."""
    _refuse_unless_manages(actor, account)
    _refuse_unless(
        may_grant_personal_data(actor, account),
        _("只有本身拥有“查看完整号码”权限的管理员才能授予或收回这项权限。"),
    )
    permission = _personal_data_permission()
    if holds_personal_data_permission(account) == granted:
        raise ValidationError(
            _("账号“{username}”{state}“查看完整号码”权限。").format(
                username=account.user.get_username(), state=_("已有") if granted else _("本来就没有")
            ),
            code="unchanged",
        )
    if granted:
        account.user.user_permissions.add(permission)
    else:
        account.user.user_permissions.remove(permission)
    _audit(
        actor,
        AuditEntry.Action.PERMISSION_GRANTED if granted else AuditEntry.Action.PERMISSION_REVOKED,
        account.unit,
        account=account,
        old=_("有") if not granted else _("无"),
        new=_("有") if granted else _("无"),
    )
    return account
