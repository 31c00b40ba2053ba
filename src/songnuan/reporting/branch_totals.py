"""Maintained roll-up totals: for every unit, the accepted tables of one form in one campaign from that unit
and every unit below it (its branch) added up, and how many tables that is — kept in the same transaction as
each accept and unlock, so that the roll-up of a city, a province or the country reads one row a branch, not
every value below it (issue 14 (3)).

What is kept is counts and exact sums, never the value as shown, so that a table taken out again (an unlock)
is subtracted exactly and blank stays blank: per item, the sum of the numbers and how many tables gave one,
and how many said 是 and how many 否 — what the flat GROUP BY of `rollup` counts. A table's values are added
to (or taken from) the row of its unit and of every unit above it; a unit moved elsewhere takes its branch's
row from its old units above to its new ones. A unit's row also keeps its own accepted table, so that the
tables below it (its branch less its own) are one row to read too: the entry page asks for them.

A campaign's form gets its rows the first time they are read (`_read`). `manage.py rollup_totals`
compares them with the accepted tables and `--rebuild` adds them up afresh. Only the services' transitions
keep them: a writer that sets a status around `reporting.services` must rebuild.

Concurrency (PostgreSQL; SQLite writes one transaction at a time): a writer holds the campaign row in KEY
SHARE mode and the rows it adjusts FOR UPDATE, always in unit order (so two writers never wait for each
other in a circle); a build holds the campaign row FOR UPDATE, and so does a unit's move, for every campaign
with kept rows (an accept below the moved unit then either finished first, and its table moves with the
branch, or starts after and reads the new paths).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, Q

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.services import lock_campaign
from songnuan.orgs.models import Unit, path_ids
from songnuan.reporting.models import BranchTotals, BranchTotalsBuild, Submission, SubmissionValue

_BATCH = 2000

#: One item of a branch: [sum of the numbers (a string), how many numbers, how many 是, how many 否].
Entry = list[Any]


@dataclass
class Branch:
    """A branch's accepted tables added up: `sums` is {item: {"total": Decimal | None, "yes": n, "no": n}},
    the shape of the roll-up's GROUP BY rows (an item no table filled has no entry)."""

    tables: int
    sums: dict[str, dict[str, Any]]


def _contribution(rows: Iterable[tuple[str, Decimal | None, str]]) -> dict[str, Entry]:
    """One table's value rows (item, number, text) as entries."""
    entries: dict[str, Entry] = {}
    for item, number, text in rows:
        entries[item] = [
            str(number if number is not None else 0),
            int(number is not None),
            int(text == "是"),
            int(text == "否"),
        ]
    return entries


def _added(kept: dict[str, Entry], change: Mapping[str, Entry], sign: int) -> dict[str, Entry]:
    """`kept` with `change` added (sign 1) or taken away (-1); an item left with nothing in it is dropped."""
    result = dict(kept)
    for item, (total, numbers, yes, no) in change.items():
        old = result.get(item, ["0", 0, 0, 0])
        entry = [
            str(Decimal(old[0]) + sign * Decimal(total)),
            old[1] + sign * numbers,
            old[2] + sign * yes,
            old[3] + sign * no,
        ]
        if entry[1] or entry[2] or entry[3]:
            result[item] = entry
        else:
            result.pop(item, None)
    return result


def _sums(kept: Mapping[str, Entry]) -> dict[str, dict[str, Any]]:
    return {
        item: {"total": Decimal(total) if numbers else None, "yes": yes, "no": no}
        for item, (total, numbers, yes, no) in kept.items()
    }


def _accepted(campaign_id: int, form_code: str) -> Any:
    return SubmissionValue.objects.filter(
        submission__campaign_id=campaign_id,
        submission__form_code=form_code,
        submission__status=Submission.Status.ACCEPTED,
    )


@dataclass
class Kept:
    """What a unit's row holds: its branch's tables and entries, and its own table (if accepted)."""

    tables: int = 0
    values: dict[str, Entry] = field(default_factory=dict)
    own_accepted: bool = False
    own: dict[str, Entry] = field(default_factory=dict)


def _added_up(campaign_id: int, form_code: str) -> dict[int, Kept]:
    """Every unit's row from the accepted tables: each unit's own table first, then each branch added to its
    parent's, the deepest first (every table is added once a level, not once a unit above it)."""
    own: dict[str, dict[str, Entry]] = {}
    rows = (
        _accepted(campaign_id, form_code)
        .values_list("submission__unit__path", "item", "number", "text")
        .order_by()
        .iterator(chunk_size=_BATCH)
    )
    for path, item, number, text in rows:
        own.setdefault(path, {}).update(_contribution([(item, number, text)]))
    accepted = Submission.objects.filter(
        campaign_id=campaign_id, form_code=form_code, status=Submission.Status.ACCEPTED
    ).values_list("unit__path", flat=True)
    kept = {
        path: Kept(1, own.get(path, {}), True, own.get(path, {}))
        for path in accepted.iterator(chunk_size=_BATCH)
    }
    by_depth: dict[int, list[str]] = {}
    for path in kept:
        by_depth.setdefault(path.count("/"), []).append(path)
    for depth in range(max(by_depth, default=0), 0, -1):
        for path in by_depth.get(depth, []):
            parent = path[: path.rstrip("/").rfind("/") + 1]
            if not parent:
                continue
            if parent not in kept:
                kept[parent] = Kept()
                by_depth.setdefault(depth - 1, []).append(parent)
            above, branch = kept[parent], kept[path]
            above.tables += branch.tables
            above.values = _added(above.values, branch.values, 1)
    return {path_ids(path)[-1]: row for path, row in kept.items()}


@transaction.atomic
def build(campaign_id: int, form_code: str) -> int:
    """Add up every branch of `form_code` in the campaign afresh; how many units have a row."""
    lock_campaign(campaign_id, exclusive=True)
    BranchTotals.objects.filter(campaign_id=campaign_id, form_code=form_code).delete()
    added_up = _added_up(campaign_id, form_code)
    BranchTotals.objects.bulk_create(
        (
            BranchTotals(
                campaign_id=campaign_id,
                form_code=form_code,
                unit_id=unit_id,
                tables=row.tables,
                values=row.values,
                own_accepted=row.own_accepted,
                own=row.own,
            )
            for unit_id, row in added_up.items()
        ),
        batch_size=_BATCH,
    )
    BranchTotalsBuild.objects.update_or_create(campaign_id=campaign_id, form_code=form_code)
    return len(added_up)


def _built(campaign_id: int, form_code: str) -> bool:
    return BranchTotalsBuild.objects.filter(campaign_id=campaign_id, form_code=form_code).exists()


def _read(campaign: Campaign, form_code: str, which: Q) -> dict[int, Kept]:
    """The rows `which` picks, built first if the campaign's form has none yet: one query when rows are
    found (it asks whether they are built as it reads them), two when none is."""
    built = Exists(BranchTotalsBuild.objects.filter(campaign=campaign, form_code=form_code))
    picked = (
        BranchTotals.objects.filter(which, campaign=campaign, form_code=form_code)
        .annotate(built=built)
        .values_list("unit_id", "tables", "values", "own_accepted", "own", "built")
    )
    rows = list(picked)
    if (rows and not rows[0][-1]) or (not rows and not _built(campaign.pk, form_code)):
        build(campaign.pk, form_code)
        rows = list(picked.all())
    return {
        unit_id: Kept(tables, values, own_accepted, own)
        for unit_id, tables, values, own_accepted, own, _ in rows
    }


def _row(campaign: Campaign, form_code: str, unit_id: int) -> Kept:
    return _read(campaign, form_code, Q(unit_id=unit_id)).get(unit_id, Kept())


def area(campaign: Campaign, form_code: str, unit_id: int) -> Branch:
    """The unit's branch: its own accepted table and every accepted table below it (one row)."""
    row = _row(campaign, form_code, unit_id)
    return Branch(row.tables, _sums(row.values))


def own(campaign: Campaign, form_code: str, unit_id: int) -> Branch:
    """The unit's own accepted table alone (one row)."""
    row = _row(campaign, form_code, unit_id)
    return Branch(int(row.own_accepted), _sums(row.own))


def below(campaign: Campaign, form_code: str, unit_id: int) -> Branch:
    """Every accepted table below the unit: its branch with its own table taken out (one row)."""
    row = _row(campaign, form_code, unit_id)
    return Branch(row.tables - int(row.own_accepted), _sums(_added(row.values, row.own, -1)))


def drill_down(
    campaign: Campaign, form_code: str, unit_id: int, child_ids: Iterable[int]
) -> tuple[dict[int, Branch], Branch]:
    """The branches of the unit's children (`child_ids`) that hold an accepted table, and the unit's own
    table (one query by the rows' key: a row a child)."""
    rows = _read(campaign, form_code, Q(unit_id__in=[unit_id, *child_ids]))
    mine = rows.pop(unit_id, Kept())
    children = {child: Branch(row.tables, _sums(row.values)) for child, row in rows.items() if row.tables}
    return children, Branch(int(mine.own_accepted), _sums(mine.own))


def _adjust(
    campaign_id: int,
    form_code: str,
    signs: Mapping[int, int],
    change: Mapping[str, Entry],
    tables: int,
    own_of: int | None = None,
) -> None:
    """Add `change` and `tables` to the rows of the units signed 1, take them from those signed -1 (and, for
    `own_of`, make `change` its own accepted table, or none when taken away); a row is made where missing.
    The rows are locked in one statement, in unit order."""
    units = sorted(unit_id for unit_id, sign in signs.items() if sign)
    if not units:
        return
    BranchTotals.objects.bulk_create(
        [BranchTotals(campaign_id=campaign_id, form_code=form_code, unit_id=unit_id) for unit_id in units],
        ignore_conflicts=True,
    )
    rows = list(
        BranchTotals.objects.select_for_update()
        .filter(campaign_id=campaign_id, form_code=form_code, unit_id__in=units)
        .order_by("unit_id")
    )
    for row in rows:
        sign = signs[row.unit_id]
        row.tables += sign * tables
        row.values = _added(row.values, change, sign)
        if row.unit_id == own_of:
            row.own_accepted = sign > 0
            row.own = dict(change) if sign > 0 else {}
    BranchTotals.objects.bulk_update(rows, ["tables", "values", "own_accepted", "own"])


def table_moved(submission: Submission, *, accepted: bool) -> None:
    """The table has just been accepted (`accepted`) or taken out of the accepted (an unlock): add it to, or
    take it from, its unit's branch and every branch above. Call inside the transition's transaction."""
    with transaction.atomic():
        lock_campaign(submission.campaign_id, exclusive=False)
        if not _built(submission.campaign_id, submission.form_code):
            return  # the first read adds up every accepted table, this one included
        change = _contribution(
            SubmissionValue.objects.filter(submission=submission).values_list("item", "number", "text")
        )
        sign = 1 if accepted else -1
        # The path as it is now, whatever the caller's copy of the unit says (a move may have come between).
        path = Unit.objects.filter(pk=submission.unit_id).values_list("path", flat=True).get()
        signs = dict.fromkeys(path_ids(path), sign)
        _adjust(submission.campaign_id, submission.form_code, signs, change, 1, own_of=submission.unit_id)


def lock_for_move() -> None:
    """Every campaign with kept rows, exclusively (a move is rare): an accept in flight below the moved unit
    has finished before its branch is read, and one that comes after reads the new paths. Taken before the
    move locks any unit (`orgs.signals.unit_moving`), as every writer takes its campaign before its units."""
    for campaign_id in sorted(set(BranchTotalsBuild.objects.values_list("campaign_id", flat=True))):
        lock_campaign(campaign_id, exclusive=True)


def unit_moved(unit_id: int, old_path: str, new_path: str) -> None:
    """A unit and its subtree were put under another unit: in every campaign and form its branch's row is
    taken from the units that were above it and added to those now above it. Inside the move's transaction."""
    old_above, new_above = set(path_ids(old_path)[:-1]), set(path_ids(new_path)[:-1])
    # The units above both stay as they are.
    signs = {**dict.fromkeys(old_above - new_above, -1), **dict.fromkeys(new_above - old_above, 1)}
    with transaction.atomic():
        lock_for_move()  # taken already when the move began (`unit_moving`); again for a caller that did not
        moved = BranchTotals.objects.filter(unit_id=unit_id, tables__gt=0).values_list(
            "campaign_id", "form_code", "tables", "values"
        )
        for campaign_id, form_code, count, entries in list(moved):
            _adjust(campaign_id, form_code, signs, entries, count)


@dataclass(frozen=True)
class Difference:
    """A kept row that is not what the accepted tables add up to: `item` names an item of the branch, "own
    <item>" one of the unit's own table, "" the count of tables, "own" whether its own table is accepted."""

    campaign_id: int
    form_code: str
    unit_id: int
    item: str
    kept: Any
    tables_say: Any


def verify(campaign: Campaign) -> list[Difference]:
    """Compare the campaign's built rows with the accepted tables, unit by unit and item by item."""
    differences: list[Difference] = []
    built = BranchTotalsBuild.objects.filter(campaign=campaign).values_list("form_code", flat=True)
    for form_code in built:
        kept = {
            unit_id: Kept(tables, values, own_accepted, own)
            for unit_id, tables, values, own_accepted, own in BranchTotals.objects.filter(
                campaign=campaign, form_code=form_code
            ).values_list("unit_id", "tables", "values", "own_accepted", "own")
        }
        fresh = _added_up(campaign.pk, form_code)
        for unit_id in sorted(set(kept) | set(fresh)):
            mine, theirs = kept.get(unit_id, Kept()), fresh.get(unit_id, Kept())
            compared: list[tuple[str, Any, Any]] = [
                ("", mine.tables, theirs.tables),
                ("own", mine.own_accepted, theirs.own_accepted),
            ]
            for ours, tables_say, prefix in (
                (_sums(mine.values), _sums(theirs.values), ""),
                (_sums(mine.own), _sums(theirs.own), "own "),
            ):
                compared += [
                    (prefix + item, ours.get(item), tables_say.get(item))
                    for item in sorted(set(ours) | set(tables_say))
                ]
            differences += [
                Difference(campaign.pk, form_code, unit_id, item, ours, tables_say)
                for item, ours, tables_say in compared
                if ours != tables_say
            ]
    return differences


def rebuild(campaign: Campaign) -> dict[str, int]:
    """Add up every form of the campaign afresh: {form code: branches holding an accepted table}."""
    codes = set(campaign.form_codes) | set(
        Submission.objects.filter(campaign=campaign).values_list("form_code", flat=True).distinct()
    )
    return {code: build(campaign.pk, code) for code in sorted(codes)}
