"""Maintained ledger totals: each unit's own (本级) ledger-derived values, per campaign and form, kept in the
same transaction as every ledger write that can change them — so that the values of every unit of a city, a
province or the country are one row a unit to read, not an aggregate over every record (issue 12 (b) and
issue 14's "totals maintained as the ledger's approvals" in BENCHMARKS.md).

A unit's row is never adjusted by a delta: it is derived again from the records (`derive.derive_units` for
that unit, one indexed query a form) after the writer has taken the locks below, so it is exactly what the
live derivation says — distinct household counts and reversals included. A campaign's form gets its rows the
first time they are read (`unit_totals`), and again whenever its derivations or the help item and fund source
configuration they name have changed (the build's digest). `manage.py ledger_totals` compares them with the
live derivation and rebuilds them.

Who calls `changed`: every service that writes what a derivation reads — approving or reversing a help record,
receipts and allocations, activities, stations (kept across campaigns: `changed_everywhere`), and a filed
household's edit (its category: `household_changed`, from the archive's save signal).

Concurrency (PostgreSQL; SQLite writes one transaction at a time): a writer holds the campaign row in KEY
SHARE mode and its units' rows FOR UPDATE while it derives; a build holds the campaign row FOR UPDATE. So two
writers of one unit take turns (the second derives after the first has committed, and sees its records),
writers of different units do not wait for each other, and a build never misses a writer's records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.services import lock_campaign
from songnuan.formkit.definitions import Form, get_form
from songnuan.formkit.engine import Value as FormValue
from songnuan.ledger.derive import Codes, derivable, derive_units
from songnuan.ledger.models import DerivedTotals, DerivedTotalsBuild, HelpRecord
from songnuan.orgs.models import Unit

_BATCH = 2000


def _encode(values: dict[str, FormValue]) -> dict[str, Any]:
    # Strings for money: JSON numbers would pass through floats on the way back.
    return {code: str(value) if isinstance(value, Decimal) else value for code, value in values.items()}


def _decode(stored: dict[str, Any]) -> dict[str, FormValue]:
    return {code: Decimal(value) if value.__class__ is str else value for code, value in stored.items()}


def digest(form: Form, known: Codes | None = None) -> str:
    """What a form's maintained rows were derived by: its derivations and the configured help items and fund
    sources (their codes and the 附件1 items they count in: a filter may name either)."""
    hashed = hashlib.sha256()
    for item in derivable(form):
        hashed.update(repr((item.code, item.derivation)).encode())
    for row in sorted((known or Codes()).rows()):
        hashed.update(repr(tuple(row)).encode())
    return hashed.hexdigest()


def _forms(campaign: Campaign) -> list[Form]:
    found = []
    for code in campaign.form_codes:
        try:
            form = get_form(code)
        except KeyError:
            continue
        if derivable(form):
            found.append(form)
    return found


def _store(campaign_id: int, form: Form, derived: dict[int, dict[str, FormValue]]) -> None:
    DerivedTotals.objects.bulk_create(
        [
            DerivedTotals(
                campaign_id=campaign_id, unit_id=unit_id, form_code=form.code, values=_encode(values)
            )
            for unit_id, values in derived.items()
        ],
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=["campaign", "form_code", "unit"],
        update_fields=["values", "updated_at"],
    )


@transaction.atomic
def build(campaign: Campaign, form: Form) -> int:
    """Derive every unit's row of `form` in `campaign` afresh (how many units have ledger records)."""
    lock_campaign(campaign.pk, exclusive=True)
    DerivedTotals.objects.filter(campaign=campaign, form_code=form.code).delete()
    derived = derive_units(campaign, form)
    _store(campaign.pk, form, derived)
    DerivedTotalsBuild.objects.update_or_create(
        campaign=campaign, form_code=form.code, defaults={"digest": digest(form)}
    )
    return len(derived)


def unit_totals(
    campaign: Campaign, form: Form, units: Iterable[int] | None = None
) -> dict[int, dict[str, FormValue]]:
    """What `derive.derive_units` answers (per unit id with ledger records in the campaign, or of `units`:
    its own records' derivable items), read from the maintained rows — built first if they are missing or
    were derived by other declarations."""
    if not derivable(form):
        return {}
    current = digest(form)
    built = (
        DerivedTotalsBuild.objects.filter(campaign=campaign, form_code=form.code)
        .values_list("digest", flat=True)
        .first()
    )
    if built != current:
        build(campaign, form)
    rows = DerivedTotals.objects.filter(campaign=campaign, form_code=form.code)
    wanted = set(units) if units is not None else None
    if wanted is not None and len(wanted) <= 500:
        rows = rows.filter(unit_id__in=wanted)
    return {
        unit_id: _decode(values)
        for unit_id, values in rows.values_list("unit_id", "values").iterator(chunk_size=_BATCH)
        if wanted is None or unit_id in wanted
    }


def changed(campaign_id: int, unit_ids: Iterable[int]) -> None:
    """The units' ledger records in the campaign have changed: derive their rows again, for each form whose
    rows are built (a form not built yet is derived in full when first read). Call inside the writer's
    transaction, after its writes."""
    units = sorted(set(unit_ids))
    if not units:
        return
    with transaction.atomic():
        lock_campaign(campaign_id, exclusive=False)
        builds = DerivedTotalsBuild.objects.filter(campaign_id=campaign_id)
        built = list(builds.values_list("form_code", flat=True))
        if not built:
            return
        list(Unit.objects.select_for_update().filter(pk__in=units).order_by("pk").values_list("pk"))
        campaign = Campaign.objects.get(pk=campaign_id)
        for code in built:
            try:
                form = get_form(code)
            except KeyError:  # the form file is gone: its rows mean nothing any more
                DerivedTotalsBuild.objects.filter(campaign_id=campaign_id, form_code=code).delete()
                DerivedTotals.objects.filter(campaign_id=campaign_id, form_code=code).delete()
                continue
            derived = derive_units(campaign, form, units)
            DerivedTotals.objects.filter(campaign_id=campaign_id, form_code=code, unit_id__in=units).exclude(
                unit_id__in=list(derived)
            ).delete()
            _store(campaign_id, form, derived)


def changed_everywhere(unit_ids: Iterable[int]) -> None:
    """Records kept across campaigns (the station register) have changed: every campaign with built rows."""
    units = list(unit_ids)
    for campaign_id in DerivedTotalsBuild.objects.values_list("campaign_id", flat=True).distinct():
        changed(campaign_id, units)


def household_changed(household_id: int) -> None:
    """A filed household was written (its category may have changed): the campaigns and units that helped
    it derive their rows again. Nothing to do — one small query — when no campaign has rows built."""
    if not DerivedTotalsBuild.objects.exists():
        return
    pairs = (
        HelpRecord.objects.filter(household_id=household_id, state=HelpRecord.State.APPROVED)
        .values_list("campaign_id", "unit_id")
        .distinct()
    )
    by_campaign: dict[int, set[int]] = {}
    for campaign_id, unit_id in pairs:
        by_campaign.setdefault(campaign_id, set()).add(unit_id)
    for campaign_id, units in by_campaign.items():
        changed(campaign_id, units)


@dataclass(frozen=True)
class Difference:
    """A maintained value that is not what the live derivation says (None: no row, or the row has no such
    item)."""

    campaign_id: int
    form_code: str
    unit_id: int
    item: str
    stored: FormValue
    live: FormValue


def verify(campaign: Campaign) -> list[Difference]:
    """Compare the campaign's built rows with the live derivation, unit by unit and item by item."""
    differences: list[Difference] = []
    for form in _forms(campaign):
        if not DerivedTotalsBuild.objects.filter(campaign=campaign, form_code=form.code).exists():
            continue
        stored = {
            unit_id: _decode(values)
            for unit_id, values in DerivedTotals.objects.filter(campaign=campaign, form_code=form.code)
            .values_list("unit_id", "values")
            .iterator(chunk_size=_BATCH)
        }
        live = derive_units(campaign, form)
        for unit_id in sorted(set(stored) | set(live)):
            mine, theirs = stored.get(unit_id, {}), live.get(unit_id, {})
            for code in sorted(set(mine) | set(theirs)):
                if mine.get(code) != theirs.get(code):
                    differences.append(
                        Difference(campaign.pk, form.code, unit_id, code, mine.get(code), theirs.get(code))
                    )
    return differences


def rebuild(campaign: Campaign) -> dict[str, int]:
    """Build every derivable form of the campaign afresh: {form code: units with ledger records}."""
    return {form.code: build(campaign, form) for form in _forms(campaign)}


# --- the reversal marks -------------------------------------------------------------------------------------


def _marked_wrong(campaign: Campaign) -> Any:
    has_reversal = Exists(HelpRecord.objects.filter(reverses=OuterRef("pk")))
    return (
        HelpRecord.objects.filter(campaign=campaign)
        .alias(has_reversal=has_reversal)
        .filter(Q(is_reversed=True, has_reversal=False) | Q(is_reversed=False, has_reversal=True))
    )


def reversal_marks_wrong(campaign: Campaign) -> list[int]:
    """Records whose `is_reversed` disagrees with whether a reversal of them exists (a writer that went
    around `HelpRecord.save`, e.g. raw SQL): what stands would be wrong everywhere it is read."""
    return list(_marked_wrong(campaign).order_by("pk").values_list("pk", flat=True))


def mend_reversal_marks(campaign: Campaign) -> int:
    """Set every record's `is_reversed` from its reversals; how many were wrong."""
    with transaction.atomic():
        wrong = reversal_marks_wrong(campaign)
        reversed_ids = set(
            HelpRecord.objects.filter(reverses_id__in=wrong).values_list("reverses_id", flat=True)
        )
        HelpRecord.objects.filter(pk__in=[pk for pk in wrong if pk in reversed_ids]).update(is_reversed=True)
        HelpRecord.objects.filter(pk__in=[pk for pk in wrong if pk not in reversed_ids]).update(
            is_reversed=False
        )
    return len(wrong)
