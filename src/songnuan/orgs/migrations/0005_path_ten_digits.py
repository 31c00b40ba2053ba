"""Every unit's path rewritten with ten digits a segment (`orgs.models.PATH_DIGITS`): six ran out at unit id
999,999, short of the country's ≈ 2.5 million grassroots unions."""

from typing import Any

from django.db import migrations

BATCH = 2000


def _rewrite(apps: Any, digits: int) -> None:
    Unit = apps.get_model("orgs", "Unit")
    batch: list[Any] = []
    for pk, path in Unit.objects.order_by("pk").values_list("pk", "path").iterator(chunk_size=BATCH):
        ids = [int(part) for part in path.split("/") if part]
        if any(unit_id >= 10**digits for unit_id in ids):
            raise ValueError(f"unit id above {10**digits - 1} in {path!r}: cannot write {digits}-digit paths")
        batch.append(Unit(pk=pk, path="".join(f"{unit_id:0{digits}d}/" for unit_id in ids)))
        if len(batch) == BATCH:
            Unit.objects.bulk_update(batch, ["path"])
            batch = []
    if batch:
        Unit.objects.bulk_update(batch, ["path"])


def ten_digits(apps: Any, schema_editor: Any) -> None:
    _rewrite(apps, 10)


def six_digits(apps: Any, schema_editor: Any) -> None:
    _rewrite(apps, 6)


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0004_units_below"),
    ]

    operations = [
        migrations.RunPython(ten_digits, six_digits),
    ]
