"""`manage.py backup` and `manage.py restore`: the demo city backed up, wrecked (rows deleted, changed, added;
files changed, removed, added) and restored gives identical rows in every table and identical files; a
damaged or foreign backup is refused with a Chinese message and restores nothing."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from songnuan.archive.models import Household
from songnuan.orgs.models import Unit, path_segment
from songnuan.orgs.services import unit_create

pytestmark = pytest.mark.django_db(transaction=True)


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, every column (the ORM's own tables too: sessions, permissions)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        columns = [field.column for field in model._meta.concrete_fields if field.column]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(connection.ops.quote_name(c) for c in columns)} FROM {table} ORDER BY 1"
            )
            rows[model._meta.db_table] = [tuple(row) for row in cursor.fetchall()]
    return rows


def every_file(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def media(tmp_path: Path) -> Any:
    root = tmp_path / "media"
    (root / "ledger" / "evidence" / "2018").mkdir(parents=True)
    (root / "ledger" / "evidence" / "2018" / "签收表.jpg").write_bytes(b"\xff\xd8\xff" + b"1" * 500)
    (root / "notices" / "通知.pdf").parent.mkdir(parents=True)
    (root / "notices" / "通知.pdf").write_bytes(b"%PDF-1.4 notice")
    with override_settings(MEDIA_ROOT=root):
        yield root


def test_a_round_trip_of_the_demo_city_gives_identical_rows_and_files(media: Path, tmp_path: Path) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    rows_before, files_before = every_row(), every_file(media)
    assert sum(len(r) for r in rows_before.values()) > 1000 and len(files_before) == 2

    out = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=out)
    (made,) = (tmp_path / "backups").glob("songnuan-backup-*.tar")
    assert "备份完成" in out.getvalue() and not list((tmp_path / "backups").glob("*.partial"))

    # The site goes on after the backup: rows deleted, changed and added; files changed, removed, added.
    root = Unit.objects.get(parent__isnull=True)
    unit_create(name="备份后新建的工会", kind=Unit.Kind.ENTERPRISE, parent=root)
    Unit.objects.filter(pk=root.pk).update(contact_name="改过的联系人")
    Household.objects.filter(pk=Household.objects.order_by("pk").values("pk")[:1]).update(phone="")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_session")
    (media / "notices" / "通知.pdf").write_bytes(b"changed")
    (media / "ledger" / "evidence" / "2018" / "签收表.jpg").unlink()
    (media / "new.txt").write_text("after the backup")
    assert every_row() != rows_before and every_file(media) != files_before

    call_command("restore", str(made), yes=True, stdout=io.StringIO())
    assert every_row() == rows_before
    assert every_file(media) == files_before


def test_a_damaged_or_foreign_backup_is_refused_and_nothing_restored(media: Path, tmp_path: Path) -> None:
    Unit.objects.create(name="荆门市总工会", kind=Unit.Kind.CITY, path=path_segment(1))
    call_command("backup", output=str(tmp_path / "b.tar"), stdout=io.StringIO())
    good = tmp_path / "b.tar"
    before = every_row(), every_file(media)

    with tarfile.open(good) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]

    def variant(name: str, change: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w") as archive:
            for member, data in {**members, **change}.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return path

    database = manifest["database"]["name"]
    cases = {
        "摘要不符": variant("damaged.tar", {database: members[database][:-10] + b"0" * 10}),
        "上传文件 notices/通知.pdf 缺失或已损坏": variant(
            "file.tar", {"media/notices/通知.pdf": b"not the same"}
        ),
        "不能恢复": variant(
            "foreign.tar",
            {"manifest.json": json.dumps({**manifest, "vendor": "oracle"}).encode()},
        ),
        "格式": variant("format.tar", {"manifest.json": json.dumps({**manifest, "format": "x/9"}).encode()}),
    }
    for expected, path in cases.items():
        with pytest.raises(CommandError, match=expected):
            call_command("restore", str(path), yes=True, stdout=io.StringIO())
    with pytest.raises(CommandError, match="不是可读的备份文件"):
        (tmp_path / "junk.tar").write_bytes(b"no tar here")
        call_command("restore", str(tmp_path / "junk.tar"), yes=True, stdout=io.StringIO())
    with pytest.raises(CommandError, match="找不到备份文件"):
        call_command("restore", str(tmp_path / "missing.tar"), yes=True, stdout=io.StringIO())
    # Compressed, it could expand without bound: a backup is a plain .tar, and nothing else is opened.
    with tarfile.open(tmp_path / "packed.tar", "w:gz") as archive:
        archive.add(good, arcname="b.tar")
    with pytest.raises(CommandError, match="未压缩"):
        call_command("restore", str(tmp_path / "packed.tar"), yes=True, stdout=io.StringIO())
    assert (every_row(), every_file(media)) == before
    assert media == settings.MEDIA_ROOT


def test_a_backup_bigger_than_the_free_disk_is_refused_before_anything_is_unpacked(
    media: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    Unit.objects.create(name="荆门市总工会", kind=Unit.Kind.CITY, path=path_segment(1))
    call_command("backup", output=str(tmp_path / "b.tar"), stdout=io.StringIO())
    before = every_row(), every_file(media)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(1 << 20))
    monkeypatch.setattr(tarfile.TarFile, "extractall", lambda *args, **kwargs: pytest.fail("unpacked"))
    with pytest.raises(CommandError, match="只剩 1,048,576 字节"):
        call_command("restore", str(tmp_path / "b.tar"), yes=True, stdout=io.StringIO())
    assert (every_row(), every_file(media)) == before


class Usage:
    def __init__(self, free: int) -> None:
        self.free = free
