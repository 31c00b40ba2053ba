"""The sampling frame of a spot check: the households a campaign's standing help reached, by stratum.

A household is in the frame when an approved help record of the campaign, neither reversed nor a reversal,
paid it from a unit of the checking unit's subtree (and, for `bound_only`, from a fund the archive-first rule
binds). Its stratum is the unit `level` levels below the checking unit on the path of the unit that paid it
(the paying unit itself when it stands higher); a household paid by units of two strata belongs to the first
of them in path order. One query of plain ids (and one for the paying units' paths); the ids come sorted, as
`sampling.draw_sorted` takes them.
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
    records, units = HelpRecord._meta.db_table, Unit._meta.db_table
    conditions = [
        "r.campaign_id = %s",
        "r.state = %s",
        "r.household_id IS NOT NULL",
        "r.reverses_id IS NULL",
        f"r.unit_id IN (SELECT u.id FROM {units} u WHERE u.path LIKE %s)",
        f"NOT EXISTS (SELECT 1 FROM {records} rv WHERE rv.reverses_id = r.id)",
    ]
    params: list[Any] = [campaign_id, HelpRecord.State.APPROVED.value, f"{unit.path}%"]
    if bound_only:
        bound = list(FundSource.objects.filter(archive_first=True).values_list("pk", flat=True)) or [0]
        conditions.append(f"r.source_id IN ({', '.join(['%s'] * len(bound))})")
        params += bound
    # Plain ids, sorted by household: no join or string work per record in the database (the strata are
    # found from the paying units in Python, one dict lookup a row).
    sql = (
        f"SELECT DISTINCT r.household_id, r.unit_id FROM {records} r WHERE {' AND '.join(conditions)} "
        "ORDER BY r.household_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    prefix_length = (unit.depth + level + 1) * _SEGMENT
    paying = {
        u_id: path[:prefix_length]
        for u_id, path in Unit.objects.filter(pk__in={unit_id for _household, unit_id in pairs}).values_list(
            "pk", "path"
        )
    }
    by_prefix: dict[str, list[int]] = {}
    last_household, last_prefix = None, ""
    for household_id, unit_id in pairs:
        prefix = paying[unit_id]
        if household_id == last_household:
            if prefix < last_prefix:  # paid by two strata: the first in path order (rare)
                by_prefix[last_prefix].pop()
                by_prefix.setdefault(prefix, []).append(household_id)
                last_prefix = prefix
            continue
        found = by_prefix.get(prefix)
        if found is None:
            found = by_prefix[prefix] = []
        found.append(household_id)
        last_household, last_prefix = household_id, prefix
    # Households come in increasing order, so every list is sorted as it grows, whichever stratum takes them.
    stratum_units = {u.path: u for u in Unit.objects.filter(path__in=list(by_prefix))}
    return Frame(
        strata={stratum_units[prefix].pk: ids for prefix, ids in by_prefix.items() if ids},
        units={u.pk: u for u in stratum_units.values()},
    )
