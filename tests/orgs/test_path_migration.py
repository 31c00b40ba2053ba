"""orgs migration 0005 rewrites every unit's path from six digits a segment to ten (`PATH_DIGITS`), and back
when unapplied; back to six is refused, with nothing written, once an id has outgrown six digits."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from songnuan.orgs.models import Unit, path_ids
from songnuan.orgs.services import unit_create

from ..world import World

migration = importlib.import_module("songnuan.orgs.migrations.0005_path_ten_digits")


def _paths() -> dict[int, str]:
    return dict(Unit.objects.values_list("pk", "path"))


def _six(path: str) -> str:
    return "".join(f"{unit_id:06d}/" for unit_id in path_ids(path))


def test_paths_of_six_digits_become_ten_and_back(world: World) -> None:
    unit_create(name="东宝区恒力水泥有限公司一车间工会", kind=Unit.Kind.ENTERPRISE, parent=world.enterprise)
    now = _paths()
    assert all(len(segment) == 10 for path in now.values() for segment in path.split("/") if segment)
    migration.six_digits(apps, None)
    assert _paths() == {pk: _six(path) for pk, path in now.items()}
    migration.ten_digits(apps, None)
    assert _paths() == now
    assert Unit.objects.filter(path__startswith=world.county.path).count() == 3  # the subtree still a prefix


def test_back_to_six_digits_is_refused_once_an_id_outgrew_them(world: World) -> None:
    Unit.objects.create(
        pk=1_000_000,
        name="甲车间工会",
        kind=Unit.Kind.ENTERPRISE,
        parent=world.enterprise,
        path=world.enterprise.path + "0001000000/",
        depth=world.enterprise.depth + 1,
    )
    before = _paths()
    with pytest.raises(ValueError, match="1000000"):
        migration.six_digits(apps, None)
    assert _paths() == before
