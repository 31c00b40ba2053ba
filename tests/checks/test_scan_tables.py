"""What a self-check scan reads through: the helped households' files copied into a temporary table
(`selfcheck.helped_files`) and the ledger's records seen with their households there (`ScannedRecord`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, models, transaction

from songnuan.archive.models import Household
from songnuan.checks import selfcheck
from songnuan.checks.models import HelpedFile, ScannedRecord
from songnuan.checks.selfcheck import Scope
from songnuan.ledger.models import HelpRecord
from tests.ledger.ledgerworld import LedgerWorld, build_ledger_world
from tests.world import World

from .test_selfcheck import record


@pytest.fixture
def ledger(world: World) -> LedgerWorld:
    return build_ledger_world(world)


def columns(model: type[models.Model]) -> dict[str, str | None]:
    """Each column's type as a column holding its values would have it (an automatic key: the integer)."""
    return {str(field.column): field.rel_db_type(connection) for field in model._meta.concrete_fields}


@pytest.mark.parametrize(("scanned", "source"), [(ScannedRecord, HelpRecord), (HelpedFile, Household)])
def test_the_scans_models_read_the_source_tables_columns_as_they_are(
    scanned: type[models.Model], source: type[models.Model]
) -> None:
    """A column renamed or retyped in the ledger or the archive must not leave the scan reading another."""
    theirs = columns(source)
    ours = columns(scanned)
    if scanned is HelpedFile:  # the file's plan, and whether it is complete: worked out beside them
        del ours["plan_id"], ours["plan_complete"]
    assert {column: theirs.get(column) for column in ours} == ours


def temporary_table_exists() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {HelpedFile._meta.db_table}")
    except DatabaseError:  # no such table
        return False
    return True


def test_the_files_are_those_the_scope_helped_and_gone_after_the_scan(ledger: LedgerWorld) -> None:
    world = ledger.world
    record(ledger, ledger.wang)
    record(ledger, ledger.li, unit=world.enterprise)
    scope = Scope(world.campaign, world.enterprise)
    with selfcheck.helped_files(scope):
        assert list(HelpedFile.objects.values_list("pk", flat=True)) == [ledger.li.pk]
        with selfcheck.helped_files(scope):  # open already: the same table
            assert HelpedFile.objects.get().head_name == ledger.li.head_name
        assert temporary_table_exists()
    assert not temporary_table_exists()
    selfcheck.scan(world.campaign, world.county)
    assert not temporary_table_exists()


def test_a_scan_that_fails_leaves_no_table_and_the_transaction_usable(
    ledger: LedgerWorld, monkeypatch: Any
) -> None:
    record(ledger, ledger.wang)

    def broken(scope: Scope) -> list[selfcheck.Breach]:
        assert HelpedFile.objects.count() == 1
        raise RuntimeError("a rule broke")

    monkeypatch.setattr(selfcheck, "SET_FAMILIES", ((broken, ("phone-shared",)),))
    with pytest.raises(RuntimeError):
        selfcheck.scan(ledger.world.campaign, ledger.world.county)
    assert not temporary_table_exists()
    monkeypatch.undo()
    selfcheck.scan(ledger.world.campaign, ledger.world.county)  # the table made anew, in the same transaction
    assert HelpRecord.objects.count() == 1
