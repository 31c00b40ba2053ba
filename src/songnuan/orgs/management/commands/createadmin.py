"""`manage.py createadmin`: the first administrator — a Django superuser (the /admin/ site) with a 管理员
account at the top unit (the /manage/ pages), creating the top unit if there is none yet.

    manage.py createadmin --username root --name 张三 --unit 荆门市总工会
    SONGNUAN_ADMIN_PASSWORD=… manage.py createadmin --username root --name 张三 --unit 荆门市总工会 --no-input
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create, unit_create

PASSWORD_VARIABLE = "SONGNUAN_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = "创建第一个管理员：超级用户（/admin/）兼顶层单位的管理员账号（/manage/）；没有该单位时新建它。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="登录名")
        parser.add_argument("--name", required=True, help="姓名")
        parser.add_argument("--unit", required=True, help="顶层单位名称，如“荆门市总工会”（没有则新建）")
        parser.add_argument(
            "--kind", default=Unit.Kind.CITY, choices=Unit.Kind.values, help="新建单位时的类别（默认 city）"
        )
        parser.add_argument(
            "--no-superuser", action="store_true", help="只建管理员账号，不给 Django 管理后台的超级用户权限"
        )
        parser.add_argument(
            "--no-input", action="store_true", help=f"不询问密码，从环境变量 {PASSWORD_VARIABLE} 读取"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if get_user_model().objects.filter(username=options["username"]).exists():
            raise CommandError(f"登录名“{options['username']}”已被使用。")
        password = self._password(options["no_input"])
        try:
            with transaction.atomic():
                unit = Unit.objects.filter(parent=None, name=options["unit"]).first()
                if unit is None:
                    unit = unit_create(name=options["unit"], kind=options["kind"])
                account = account_create(
                    username=options["username"],
                    password=password,
                    unit=unit,
                    role=Account.Role.ADMIN,
                    name=options["name"],
                )
                if not options["no_superuser"]:
                    account.user.is_staff = account.user.is_superuser = True
                    account.user.save(update_fields=["is_staff", "is_superuser"])
        except ValidationError as refused:
            raise CommandError("；".join(refused.messages)) from refused
        kind = "超级用户兼管理员" if not options["no_superuser"] else "管理员"
        self.stdout.write(f"已创建{kind}“{options['username']}”（{unit.name}）。")

    def _password(self, no_input: bool) -> str:
        if no_input:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"--no-input 时须在环境变量 {PASSWORD_VARIABLE} 中给出密码。")
            return password
        first = getpass.getpass("密码：")
        if first != getpass.getpass("再输入一次密码："):
            raise CommandError("两次输入的密码不一致。")
        return first
