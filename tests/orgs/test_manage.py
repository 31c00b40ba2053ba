"""Administration by a unit's 管理员 (songnuan.orgs.services, the rules in permissions.py): units (add,
rename, move, close) and accounts (add, disable, reset, role, the full-number permission), each audited,
each refusal in Chinese with nothing half-written; and `manage.py createadmin`.

The tree is tests/world.py's, with a county admin added:

    荆门市总工会 (city)        city_admin
    ├── 东宝区总工会 (county)   county_admin, county_reviewer, county_reporter
    │   └── 水泥厂工会 (enterprise)
    └── 钟祥市总工会 (sibling)
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from songnuan.archive.models import Household
from songnuan.archive.services import HouseholdInput, household_apply
from songnuan.orgs.models import PATH_DIGITS, Account, AuditEntry, Unit, path_segment
from songnuan.orgs.permissions import (
    may_grant_personal_data,
    may_manage_account,
    may_manage_unit,
    may_restructure_unit,
    units_to_manage,
)
from songnuan.orgs.services import (
    OPEN_WORK,
    account_add,
    account_create,
    account_reset_password,
    account_set_active,
    account_set_personal_data,
    account_set_role,
    open_work_of,
    password_stamp,
    unit_add,
    unit_close,
    unit_create,
    unit_move,
    unit_rename,
)
from songnuan.reporting.models import Submission

from ..world import PASSWORD, World


@pytest.fixture
def county_admin(world: World) -> User:
    user = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    world.users["county_admin"] = user
    return user


def reload(unit: Unit) -> Unit:
    return Unit.objects.get(pk=unit.pk)


def grant_personal_data(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached on the instance


# --- the rules ------------------------------------------------------------------------------------


def test_an_admin_manages_its_subtree_and_restructures_below_itself_only(
    world: World, county_admin: User
) -> None:
    assert [
        may_manage_unit(county_admin, u) for u in (world.county, world.enterprise, world.sibling, world.city)
    ] == [
        True,
        True,
        False,
        False,
    ]
    assert [
        may_restructure_unit(county_admin, u)
        for u in (world.county, world.enterprise, world.sibling, world.city)
    ] == [False, True, False, False]
    assert set(units_to_manage(county_admin)) == {world.county, world.enterprise}
    for name in ("county_reviewer", "county_reporter", "city_reviewer"):
        user = world.users[name]
        assert not any(may_manage_unit(user, u) for u in Unit.objects.all())
        assert not units_to_manage(user).exists()


def test_an_admin_manages_other_accounts_of_its_subtree_never_its_own_nor_a_superuser(
    world: World, county_admin: User
) -> None:
    reporter = world.users["county_reporter"].account
    assert may_manage_account(county_admin, reporter)
    assert not may_manage_account(county_admin, county_admin.account)
    assert not may_manage_account(county_admin, world.users["sibling_reporter"].account)
    assert not may_manage_account(county_admin, world.users["city_reviewer"].account)
    reporter.user.is_superuser = True
    reporter.user.save()
    assert not may_manage_account(county_admin, Account.objects.get(pk=reporter.pk))
    # the full-number permission: only by an admin who holds it
    other = world.users["county_reviewer"].account
    assert not may_grant_personal_data(county_admin, other)
    assert may_grant_personal_data(grant_personal_data(county_admin), other)


# --- units ----------------------------------------------------------------------------------------


def test_adding_and_renaming_a_unit_is_audited(world: World, county_admin: User) -> None:
    unit = unit_add(county_admin, parent=world.enterprise, name=" 水泥厂一车间 工会 ", kind="enterprise")
    assert unit.name == "水泥厂一车间 工会" and unit.parent == world.enterprise
    assert unit.path == world.enterprise.path + path_segment(unit.pk) and unit.depth == 3
    unit_rename(county_admin, unit, "水泥厂一车间工会")
    assert reload(unit).name == "水泥厂一车间工会"
    entries = list(
        AuditEntry.objects.filter(unit=unit).order_by("pk").values_list("action", "old", "new", "actor")
    )
    assert entries == [
        ("unit-created", "东宝区恒力水泥有限公司工会", "水泥厂一车间 工会", county_admin.pk),
        ("unit-renamed", "水泥厂一车间 工会", "水泥厂一车间工会", county_admin.pk),
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "请填写单位名称"),
        ("东宝区恒力水泥有限公司工会", "“东宝区总工会”下已有名为“东宝区恒力水泥有限公司工会”的单位"),
        ("长" * 101, "太长"),
    ],
)
def test_a_bad_unit_name_is_refused(world: World, county_admin: User, name: str, message: str) -> None:
    before = Unit.objects.count()
    with pytest.raises(ValidationError) as refused:
        unit_add(county_admin, parent=world.county, name=name, kind="enterprise")
    assert message in refused.value.messages[0]
    assert Unit.objects.count() == before and not AuditEntry.objects.exists()


def test_a_county_admin_cannot_add_rename_move_or_close_in_a_sibling_county(
    world: World, county_admin: User
) -> None:
    branch = unit_create(name="钟祥农场工会", kind="enterprise", parent=world.sibling)
    with pytest.raises(PermissionDenied, match="钟祥市总工会”不在您的管理范围内"):
        unit_add(county_admin, parent=world.sibling, name="新工会", kind="enterprise")
    with pytest.raises(PermissionDenied, match="钟祥市总工会”不在您的管理范围内"):
        unit_rename(county_admin, world.sibling, "改个名")
    with pytest.raises(PermissionDenied, match="不能调整“钟祥农场工会”"):
        unit_move(county_admin, branch, world.county)
    with pytest.raises(PermissionDenied, match="管理范围以外的“钟祥市总工会”"):
        unit_move(county_admin, world.enterprise, world.sibling)
    with pytest.raises(PermissionDenied, match="不能撤销“钟祥农场工会”"):
        unit_close(county_admin, branch)
    with pytest.raises(PermissionDenied, match="不能撤销“东宝区总工会”"):
        unit_close(county_admin, world.county)  # its own unit
    assert reload(branch).parent == world.sibling and reload(world.sibling).name == "钟祥市总工会"
    assert not AuditEntry.objects.exists()


def test_moving_a_subtree_rewrites_every_path_and_depth(world: World) -> None:
    admin = world.users["city_admin"]
    workshop = unit_create(name="一车间工会", kind="enterprise", parent=world.enterprise)
    team = unit_create(name="一班组工会", kind="enterprise", parent=workshop)
    unit_move(admin, world.enterprise, world.sibling)
    enterprise, workshop, team = reload(world.enterprise), reload(workshop), reload(team)
    assert enterprise.parent == world.sibling
    assert enterprise.path == world.sibling.path + path_segment(enterprise.pk) and enterprise.depth == 2
    assert workshop.path == enterprise.path + path_segment(workshop.pk) and workshop.depth == 3
    assert team.path == workshop.path + path_segment(team.pk) and team.depth == 4
    assert len(team.path) == 5 * (PATH_DIGITS + 1)
    assert team.is_below(world.sibling) and not team.is_below(world.county)
    # one level up: under the city itself
    unit_move(admin, workshop, world.city)
    workshop, team = reload(workshop), reload(team)
    assert (
        workshop.depth == 1
        and team.depth == 2
        and team.path == world.city.path + path_segment(workshop.pk) + path_segment(team.pk)
    )
    entry = AuditEntry.objects.filter(action="unit-moved").first()
    assert entry is not None and (entry.old, entry.new) == ("东宝区恒力水泥有限公司工会", "荆门市总工会")


def test_moving_a_unit_under_itself_or_its_descendant_is_refused(world: World) -> None:
    admin = world.users["city_admin"]
    workshop = unit_create(name="一车间工会", kind="enterprise", parent=world.enterprise)
    paths = dict(Unit.objects.values_list("pk", "path"))
    for target in (world.county, world.enterprise, workshop):
        with pytest.raises(ValidationError) as refused:
            unit_move(admin, world.county, target)
        assert f"不能把“东宝区总工会”移到它自己或它的下级单位“{target.name}”之下" in refused.value.messages[0]
    with pytest.raises(ValidationError, match="已在“东宝区总工会”之下"):
        unit_move(admin, world.enterprise, world.county)
    assert dict(Unit.objects.values_list("pk", "path")) == paths and not AuditEntry.objects.exists()


def test_moving_next_to_a_namesake_is_refused(world: World) -> None:
    unit_create(name="东宝区恒力水泥有限公司工会", kind="enterprise", parent=world.sibling)
    with pytest.raises(ValidationError, match="“钟祥市总工会”下已有名为“东宝区恒力水泥有限公司工会”的单位"):
        unit_move(world.users["city_admin"], world.enterprise, world.sibling)
    assert reload(world.enterprise).parent == world.county


def test_the_open_work_statuses_are_those_of_the_apps_that_own_them() -> None:
    """orgs names them as strings (it may not import reporting or archive): they must stay right."""
    by_name = {related: statuses for related, _field, statuses, _label in OPEN_WORK}
    assert set(by_name["submissions"]) == set(Submission.Status.values) - {Submission.Status.ACCEPTED}
    assert set(by_name["households"]) == {Household.Status.APPLIED, Household.Status.FILED}
    assert Unit._meta.get_field("submissions") and Unit._meta.get_field("households")


def test_closing_a_unit_with_an_open_table_or_file_is_refused(world: World, county_admin: User) -> None:
    submission = Submission.objects.create(
        campaign=world.campaign, unit=world.enterprise, form_code="warmth-2018"
    )
    household = household_apply(
        user=world.users["enterprise_reporter"],
        unit=world.enterprise,
        data=HouseholdInput(head_name="王建国", head_id_number="11010519491231002X", category="worker"),
    )
    assert open_work_of(world.enterprise) == ["未审核通过的统计表1份", "在档的困难职工档案1份"]
    with pytest.raises(ValidationError) as refused:
        unit_close(county_admin, world.enterprise)
    assert refused.value.messages[0] == (
        "“东宝区恒力水泥有限公司工会”还有未审核通过的统计表1份、在档的困难职工档案1份，不能撤销。"
        "请先处理完（统计表审核通过，档案解困脱困或注销）。"
    )
    assert (
        reload(world.enterprise).closed_at is None
        and User.objects.get(username="enterprise_reporter").is_active
    )
    # accepted tables and closed files no longer hold it
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.ACCEPTED)
    Household.objects.filter(pk=household.pk).update(status=Household.Status.CLOSED)
    unit_close(county_admin, world.enterprise)
    assert reload(world.enterprise).closed_at is not None
    assert not User.objects.get(username="enterprise_reporter").is_active
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "unit-closed",
        "account-disabled",
    ]


def test_a_unit_with_open_units_below_is_not_closed_and_a_closed_unit_takes_nothing_new(world: World) -> None:
    admin = world.users["city_admin"]
    with pytest.raises(ValidationError, match="“东宝区总工会”下还有未撤销的单位：东宝区恒力水泥有限公司工会"):
        unit_close(admin, world.county)
    unit_close(admin, world.enterprise)
    with pytest.raises(ValidationError, match="已经撤销"):
        unit_close(admin, world.enterprise)
    closed = reload(world.enterprise)
    with pytest.raises(ValidationError, match="已撤销，不能再在其下增加单位或账号"):
        unit_add(admin, parent=closed, name="新工会", kind="enterprise")
    with pytest.raises(ValidationError, match="已撤销，不能再在其下增加单位或账号"):
        account_add(admin, username="late", name="迟到", unit=closed, role="reporter")
    with pytest.raises(ValidationError, match="已撤销，不能调整"):
        unit_move(admin, closed, world.sibling)


# --- accounts -------------------------------------------------------------------------------------


def test_a_new_account_gets_a_one_time_password_it_must_change(world: World, county_admin: User) -> None:
    account, password = account_add(
        county_admin, username="cement_2", name="刘芳", unit=world.enterprise, role="reporter", phone="0724-1"
    )
    assert account.user.check_password(password) and account.must_change_password
    assert password not in account.one_time_password and account.one_time_password == account.user.password
    assert (account.unit, account.role, account.user.first_name) == (world.enterprise, "reporter", "刘芳")
    entry = AuditEntry.objects.get(account=account)
    assert (entry.action, entry.actor, entry.new) == (
        "account-created",
        county_admin,
        "cement_2（刘芳，东宝区恒力水泥有限公司工会，填报员）",
    )
    # changing the password ends the obligation, without anything clearing the flag
    account.user.set_password("a-new-phrase-of-her-own")
    account.user.save()
    assert not Account.objects.get(pk=account.pk).must_change_password


@pytest.mark.parametrize(
    ("username", "name", "role", "message"),
    [
        ("county_reporter", "重名", "reporter", "登录名“county_reporter”已被使用"),
        ("COUNTY_REPORTER", "重名", "reporter", "已被使用"),
        ("bad name!", "某人", "reporter", "只能包含字母、数字"),
        ("", "某人", "reporter", "请填写登录名"),
        ("someone", "", "reporter", "请填写姓名"),
        ("someone", "某人", "boss", "请选择角色"),
    ],
)
def test_a_bad_account_is_refused(
    world: World, county_admin: User, username: str, name: str, role: str, message: str
) -> None:
    before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        account_add(county_admin, username=username, name=name, unit=world.county, role=role)
    assert message in refused.value.messages[0]
    assert User.objects.count() == before and not AuditEntry.objects.exists()


def test_a_county_admin_cannot_touch_a_sibling_countys_accounts(world: World, county_admin: User) -> None:
    sibling = world.users["sibling_reporter"].account
    with pytest.raises(PermissionDenied, match="钟祥市总工会”不在您的管理范围内"):
        account_add(county_admin, username="intruder", name="某人", unit=world.sibling, role="admin")
    for act in (
        lambda: account_set_active(county_admin, sibling, False),
        lambda: account_set_role(county_admin, sibling, "admin"),
        lambda: account_reset_password(county_admin, sibling, password_stamp(sibling)),
        lambda: account_set_personal_data(grant_personal_data(county_admin), sibling, True),
    ):
        with pytest.raises(
            PermissionDenied, match="账号“sibling_reporter”（钟祥市总工会）不在您的管理范围内"
        ):
            act()
    user = User.objects.get(username="sibling_reporter")
    assert user.is_active and user.check_password(PASSWORD) and not user.user_permissions.exists()
    assert Account.objects.get(pk=sibling.pk).role == "reporter" and not AuditEntry.objects.exists()


def test_an_admin_cannot_change_its_own_account_here(world: World, county_admin: User) -> None:
    with pytest.raises(PermissionDenied, match="不能在这里修改自己的账号"):
        account_set_role(county_admin, county_admin.account, "reporter")
    with pytest.raises(PermissionDenied, match="不能在这里修改自己的账号"):
        account_set_active(county_admin, county_admin.account, False)


def test_disable_enable_and_role_are_audited(world: World, county_admin: User) -> None:
    reporter = world.users["county_reporter"].account
    account_set_active(county_admin, reporter, False)
    assert not User.objects.get(pk=reporter.user_id).is_active
    with pytest.raises(ValidationError, match="已经是停用状态"):
        account_set_active(county_admin, reporter, False)
    account_set_active(county_admin, reporter, True)
    account_set_role(county_admin, reporter, "reviewer")
    with pytest.raises(ValidationError, match="已经是审核员"):
        account_set_role(county_admin, reporter, "reviewer")
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "old", "new")) == [
        ("account-disabled", "启用", "停用"),
        ("account-enabled", "停用", "启用"),
        ("role-changed", "填报员", "审核员"),
    ]


def test_a_reset_password_is_given_once_and_a_second_send_is_refused(
    world: World, county_admin: User
) -> None:
    reporter = world.users["county_reporter"].account
    stamp = password_stamp(reporter)
    password = account_reset_password(county_admin, reporter, stamp)
    fresh = Account.objects.select_related("user").get(pk=reporter.pk)
    assert fresh.user.check_password(password) and not fresh.user.check_password(PASSWORD)
    assert fresh.must_change_password and password not in fresh.one_time_password
    with pytest.raises(ValidationError) as refused:  # the same form sent again (a reload)
        account_reset_password(county_admin, fresh, stamp)
    assert "一次性密码只显示一次，不再显示" in refused.value.messages[0]
    assert Account.objects.get(pk=reporter.pk).user.check_password(password)  # unchanged by the refusal
    entries = AuditEntry.objects.filter(action="password-reset")
    assert entries.count() == 1 and password not in entries.get().new


def test_the_full_number_permission_is_granted_only_by_a_holder(world: World, county_admin: User) -> None:
    reviewer = world.users["county_reviewer"].account
    with pytest.raises(PermissionDenied, match="只有本身拥有“查看完整号码”权限的管理员才能授予"):
        account_set_personal_data(county_admin, reviewer, True)
    assert not User.objects.get(pk=reviewer.user_id).has_perm("archive.view_personal_data")
    holder = grant_personal_data(county_admin)
    account_set_personal_data(holder, reviewer, True)
    assert User.objects.get(pk=reviewer.user_id).has_perm("archive.view_personal_data")
    with pytest.raises(ValidationError, match="已有“查看完整号码”权限"):
        account_set_personal_data(holder, reviewer, True)
    account_set_personal_data(holder, reviewer, False)
    assert not User.objects.get(pk=reviewer.user_id).has_perm("archive.view_personal_data")
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "actor", "old", "new")) == [
        ("permission-granted", holder.pk, "无", "有"),
        ("permission-revoked", holder.pk, "有", "无"),
    ]


# --- the first admin ------------------------------------------------------------------------------


def test_createadmin_makes_a_superuser_admin_of_a_new_top_unit(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONGNUAN_ADMIN_PASSWORD", PASSWORD)
    call_command(
        "createadmin", "--username", "root", "--name", "张三", "--unit", "荆门市总工会", "--no-input"
    )
    account = Account.objects.select_related("user", "unit").get(user__username="root")
    assert account.role == "admin" and account.unit.parent is None and account.unit.name == "荆门市总工会"
    assert account.user.is_superuser and account.user.is_staff and account.user.check_password(PASSWORD)
    with pytest.raises(CommandError, match="登录名“root”已被使用"):
        call_command(
            "createadmin", "--username", "root", "--name", "张三", "--unit", "荆门市总工会", "--no-input"
        )
    # an existing top unit is reused; a weak password is refused in Chinese with nothing created
    monkeypatch.setenv("SONGNUAN_ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="密码只包含数字"):
        call_command(
            "createadmin", "--username", "root2", "--name", "李四", "--unit", "荆门市总工会", "--no-input"
        )
    assert not User.objects.filter(username="root2").exists() and Unit.objects.count() == 1
    monkeypatch.delenv("SONGNUAN_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="SONGNUAN_ADMIN_PASSWORD"):
        call_command(
            "createadmin", "--username", "root3", "--name", "王五", "--unit", "荆门市总工会", "--no-input"
        )
