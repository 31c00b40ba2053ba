"""Put back a backup made by `manage.py backup`: the database and the uploaded files, replaced as a whole.

.venv/bin/python manage.py restore var/backups/songnuan-backup-20261203-200000.tar --yes
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from songnuan.site.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database and the uploaded files with a backup's (stop the site first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="the .tar file `manage.py backup` made")
        parser.add_argument("--yes", action="store_true", help="replace without asking")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["backup"])
        if not options["yes"]:
            answer = input(f"用 {source.name} 替换当前数据库和全部上传文件？输入 yes 继续：")
            if answer.strip().lower() != "yes":
                raise CommandError("没有恢复任何数据")
        try:
            manifest = restore(source)
        except BackupError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            f"已恢复 {manifest['created']} 的备份（上传文件 {len(manifest['media'])} 个）。"
            "如数据库结构比备份新，请再运行 manage.py migrate。"
        )
