"""The sampling frame of a spot check: the households a campaign's standing help reached, by stratum.

A household is in the frame when an approved help record of the campaign, neither reversed nor a reversal,
paid it from a unit of the checking unit's subtree (and, for `bound_only`, from a fund the archive-first rule
binds). Its stratum is the unit `level` levels below the checking unit on the path of the unit that paid it
(the paying unit itself when it stands higher); a household paid by units of two strata belongs to the first
of them in path order. One query; the ids come sorted, as `sampling.draw_sorted` takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from songnuan.ledger.models import FundSource, HelpRecord
from songnuan.orgs.models import PATH_DIGITS, Unit

_SEGMENT = PATH_DIGITS + 1  # "000123/"


@dataclass(frozen=True)
class Frame:
    """{stratum unit id: sorted household ids}, and the strata's units."""

    strata: dict[int, list[int]]
    units: dict[int, Unit]

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.strata.values())


def campaign_frame(*, campaign_id: int, unit: Unit, bound_only: bool, level: int) -> Frame:
    prefix_length = (unit.depth + level + 1) * _SEGMENT
    records, units = HelpRecord._meta.db_table, Unit._meta.db_table
    conditions = [
        "r.campaign_id = %s",
        "r.state = %s",
        "r.household_id IS NOT NULL",
        "r.reverses_id IS NULL",
        "u.path LIKE %s",
        f"NOT EXISTS (SELECT 1 FROM {records} rv WHERE rv.reverses_id = r.id)",
    ]
    params: list[Any] = [campaign_id, HelpRecord.State.APPROVED.value, f"{unit.path}%"]
    if bound_only:
        bound = list(FundSource.objects.filter(archive_first=True).values_list("pk", flat=True)) or [0]
        conditions.append(f"r.source_id IN ({', '.join(['%s'] * len(bound))})")
        params += bound
    sql = (
        f"SELECT r.household_id, MIN(SUBSTR(u.path, 1, {prefix_length})) FROM {records} r "
        f"JOIN {units} u ON u.id = r.unit_id WHERE {' AND '.join(conditions)} "
        "GROUP BY r.household_id ORDER BY r.household_id"
    )
    by_prefix: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for household_id, prefix in cursor.fetchall():
            found = by_prefix.get(prefix)
            if found is None:
                found = by_prefix[prefix] = []
            found.append(household_id)
    stratum_units = {u.path: u for u in Unit.objects.filter(path__in=list(by_prefix))}
    return Frame(
        strata={stratum_units[prefix].pk: ids for prefix, ids in by_prefix.items()},
        units={u.pk: u for u in stratum_units.values()},
    )
