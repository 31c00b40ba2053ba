"""A consistent backup of the database and the uploaded files, while the site runs (`songnuan.site.backup`).

.venv/bin/python manage.py backup                      # var/backups/songnuan-backup-<when>.tar
.venv/bin/python manage.py backup --output /srv/backups
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from songnuan.site.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one .tar file (consistent while the site runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="a directory (a dated file is made in it) or a .tar path")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["output"] or Path(settings.BASE_DIR) / "var" / "backups")
        if not target.suffix:
            target.mkdir(parents=True, exist_ok=True)
        try:
            made = backup(target)
        except BackupError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            f"备份完成：{made.path}（数据库 {made.database_bytes:,} 字节，上传文件 {made.files} 个）"
        )
