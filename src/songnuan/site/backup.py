"""A consistent backup of the whole site while it runs, and its restore: the database and the uploaded files.

A backup is one .tar file:

- `manifest.json`: the format, when, which database, the latest migration of every app, and every uploaded
  file with its size and SHA-256;
- `database.sqlite3` (SQLite's online backup API: a consistent copy page by page while others write) or
  `database.dump` (PostgreSQL: `pg_dump --format=custom`, one consistent snapshot);
- `media/…`: the uploaded files (MEDIA_ROOT: evidence, notices, imports waiting to run).

`restore` puts back both, after checking the manifest and every file's digest: the database replaced as a
whole (SQLite: the backup API again, into the live file; PostgreSQL: `pg_restore --clean` in one transaction)
and MEDIA_ROOT made exactly the backup's. Nothing here knows an app: it copies tables and files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = "songnuan-backup/1"
_SQLITE_NAME = "database.sqlite3"
_DUMP_NAME = "database.dump"
_MEDIA = "media"
#: Left free on the disk a restore unpacks to, beyond what the backup holds.
_SPARE_BYTES = 64 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (Chinese, for the command line)."""


@dataclass(frozen=True)
class Made:
    path: Path
    files: int
    database_bytes: int


def _digest(path: Path) -> str:
    found = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            found.update(block)
    return found.hexdigest()


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    """The connection arguments of pg_dump / pg_restore for the default database, and the password by
    environment (never on the command line)."""
    db = connection.settings_dict
    arguments = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        arguments += ["--host", db["HOST"]]
    if db.get("PORT"):
        arguments += ["--port", str(db["PORT"])]
    if db.get("USER"):
        arguments += ["--username", db["USER"]]
    environment = dict(os.environ)
    if db.get("PASSWORD"):
        environment["PGPASSWORD"] = db["PASSWORD"]
    return arguments, environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"找不到 {command[0]}：请安装与数据库同版本的 PostgreSQL 客户端")
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} 失败：{done.stderr.strip()[-2000:]}")


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("id").values_list("app", "name"):
        latest[app] = name
    return latest


def backup(target: Path) -> Made:
    """Write a backup to `target` (a .tar file; a directory gets a dated file name in it)."""
    if target.is_dir():
        target = target / f"songnuan-backup-{timezone.localtime():%Y%m%d-%H%M%S}.tar"
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="songnuan-backup-") as scratch:
        work = Path(scratch)
        if connection.vendor == "sqlite":
            database = work / _SQLITE_NAME
            source = sqlite3.connect(connection.settings_dict["NAME"])
            copy = sqlite3.connect(database)
            try:
                source.backup(copy)  # consistent: pages copied under the source's read lock, in steps
            finally:
                copy.close()
                source.close()
        elif connection.vendor == "postgresql":
            database = work / _DUMP_NAME
            arguments, environment = _pg_environment()
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--file", str(database), *arguments], environment
            )
        else:
            raise BackupError(f"不支持备份 {connection.vendor} 数据库")
        files = _media_files(media_root)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created": timezone.now().isoformat(),
            "vendor": connection.vendor,
            "database": {"name": database.name, "sha256": _digest(database)},
            "migrations": _migrations(),
            "media": [
                {"path": p.relative_to(media_root).as_posix(), "size": p.stat().st_size, "sha256": _digest(p)}
                for p in files
            ],
        }
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(database, database.name)
            for path in files:
                archive.add(path, f"{_MEDIA}/{path.relative_to(media_root).as_posix()}")
        partial.replace(target)  # a half-written backup never carries the final name
        return Made(target, len(files), database.stat().st_size)


def restore(source: Path) -> dict[str, Any]:
    """Replace the database and MEDIA_ROOT with the backup's. Checked first (format, database kind, every
    digest); returns the manifest."""
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}")
    with tempfile.TemporaryDirectory(prefix="songnuan-restore-") as scratch:
        work = Path(scratch)
        try:
            # "r:": a backup is never compressed, so nothing in it expands beyond the file's own size.
            with tarfile.open(source, "r:") as archive:
                members = archive.getmembers()
                needed = sum(member.size for member in members)  # a sparse member counts at its full size
                free = shutil.disk_usage(work).free
                if needed + _SPARE_BYTES > free:
                    raise BackupError(
                        f"{source.name} 解开需要 {needed:,} 字节，临时目录 {work.parent} 只剩 {free:,} 字节，"
                        "没有恢复任何数据"
                    )
                # The "data" filter: no absolute paths, no "..", no links out.
                archive.extractall(work, members=members, filter="data")
        except (tarfile.TarError, OSError) as problem:
            raise BackupError(
                f"{source.name} 不是可读的备份文件（备份文件是未压缩的 .tar）：{problem}"
            ) from None
        try:
            manifest: dict[str, Any] = json.loads((work / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError):
            raise BackupError(f"{source.name} 缺少备份清单 manifest.json") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source.name} 的格式是 {manifest.get('format')!r}，不是 {FORMAT}")
        if manifest.get("vendor") != connection.vendor:
            raise BackupError(
                f"这是 {manifest.get('vendor')} 数据库的备份，当前数据库是 {connection.vendor}，不能恢复"
            )
        database = work / manifest["database"]["name"]
        if not database.is_file() or _digest(database) != manifest["database"]["sha256"]:
            raise BackupError(f"{source.name} 中的数据库文件缺失或已损坏（摘要不符）")
        for entry in manifest["media"]:
            path = work / _MEDIA / entry["path"]
            if not path.is_file() or _digest(path) != entry["sha256"]:
                raise BackupError(f"{source.name} 中的上传文件 {entry['path']} 缺失或已损坏（摘要不符）")
        media_root = Path(settings.MEDIA_ROOT).resolve()
        if len(media_root.parts) < 3:  # never empty "/" or "/srv" by a mistaken setting
            raise BackupError(f"MEDIA_ROOT（{media_root}）不像上传文件目录，没有恢复任何数据")
        connections.close_all()
        if connection.vendor == "sqlite":
            backup_copy = sqlite3.connect(database)
            live = sqlite3.connect(connection.settings_dict["NAME"])
            try:
                backup_copy.backup(live)  # the live file becomes the backup's, page for page
            finally:
                live.close()
                backup_copy.close()
        else:
            arguments, environment = _pg_environment()
            restoring = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
            _run([*restoring, *arguments, str(database)], environment)
        if media_root.exists():
            shutil.rmtree(media_root)
        if (work / _MEDIA).exists():
            shutil.copytree(work / _MEDIA, media_root)
        else:
            media_root.mkdir(parents=True)
        return manifest
