"""Last year's values of a unit's table, and the one check path of a unit's table.

Last year's values are those of the previous campaign's (`Campaign.previous`) table of the same unit, for the
form the form file names (`[previous]`, by default the same form code), item codes mapped the same way —
and only of an ACCEPTED table: a draft or a table still waiting for review may change and is no yardstick.

`check_table` is what every check of a unit's table runs (the entry page, the API's check and save answers,
submit, the import preview): the rules of the form, then the comparison with last year
(`songnuan.formkit.yearly`) and with the relief ledger (`songnuan.formkit.derived`, the ledger's values from
`songnuan.ledger.derive`), whose warnings need an explanation before submission like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, ItemKind, builtin_forms
from songnuan.formkit.derived import ledger_warnings
from songnuan.formkit.engine import CheckResult, Value, compiled, value_text
from songnuan.formkit.yearly import last_year_warnings
from songnuan.ledger.derive import derive, whole_area
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionValue


@dataclass(frozen=True)
class LastYear:
    """Last year's table of one unit, as this year's form names its items."""

    campaign_id: int
    ratio: Decimal
    #: Whether the unit has an accepted table last year at all (else every value is blank).
    found: bool = False
    campaign_title: str = ""
    #: This year's item code → last year's value (blank: None).
    values: dict[str, Value] = field(default_factory=dict)

    @property
    def ratio_shown(self) -> str:
        return value_text(self.ratio)  # 3.00 → "3", 2.50 → "2.5"

    def shown(self, code: str) -> str:
        """The value as the page shows it; blank (or no counterpart) is "—", never 0."""
        return value_text(self.values.get(code)) or "—"


def _typed(row: SubmissionValue, kind: ItemKind | None) -> Value:
    if kind is ItemKind.YES_NO or kind is None:
        return None  # yes/no items, and items of no known kind, are not compared
    if row.number is None:
        return None  # kept as typed text last year: not a number to compare with
    return row.as_value(kind is ItemKind.COUNT)


def last_year_values(campaign: Campaign, unit_id: int, form: Form) -> LastYear | None:
    """Last year's accepted values of the unit for `form` (one query); None when the campaign has no
    previous campaign."""
    if campaign.previous_id is None:
        return None
    earlier = builtin_forms().get(form.previous_form_code)
    rows = list(
        Submission.objects.filter(
            campaign_id=campaign.previous_id,
            unit_id=unit_id,
            form_code=form.previous_form_code,
            status=Submission.Status.ACCEPTED,
        ).values_list("campaign__title", "value_rows__item", "value_rows__number", "value_rows__text")
    )
    if not rows:
        return LastYear(campaign.previous_id, campaign.change_ratio)
    by_old = {
        item: SubmissionValue(item=item, number=number, text=text or "")
        for _t, item, number, text in rows
        if item
    }
    values: dict[str, Value] = {}
    for item in form.items:
        old = form.previous_item(item.code)
        row = by_old.get(old) if old else None
        kind = earlier.item(old).kind if earlier is not None and old and earlier.has_item(old) else None
        values[item.code] = _typed(row, kind) if row is not None else None
    return LastYear(campaign.previous_id, campaign.change_ratio, True, rows[0][0], values)


def check_table(
    form: Form,
    values: Mapping[str, Value],
    last: LastYear | None,
    ledger: Mapping[str, Value] | None = None,
) -> CheckResult:
    """The rules of the form on `values`, then the comparison with last year's values (`last`, from
    `last_year_values`) and with the ledger's (`ledger`, from `ledger_values`), findings in the order of the
    table's rows."""
    result = compiled(form).validate(values)
    add_comparison(form, result, values, last)
    found = ledger_warnings(form, values, ledger)
    if found:
        result.extend(found)
        result.sort(compiled(form).index)
    return result


def ledger_values(campaign: Campaign, unit: Unit | int, form: Form) -> dict[str, Value]:
    """What the relief ledger derives for the unit's own table (本级 or 全辖 as the campaign says); nothing
    when the form derives no item (no query)."""
    if not any(item.derivation is not None for item in form.items):
        return {}
    if not isinstance(unit, Unit):
        # 本级 needs only the unit's id; 全辖 its path (one query).
        unit = Unit.objects.get(pk=unit) if whole_area(campaign) else Unit(pk=unit)
    return derive(campaign, form, unit)


def add_comparison(
    form: Form,
    result: CheckResult,
    values: Mapping[str, Value],
    last: LastYear | None,
    cells: Mapping[str, str] | None = None,
) -> None:
    """Add the comparison with last year to a check of `values` (the import preview's check comes from the
    file reader, with the sheet cell of each item: `cells`)."""
    if last is None or not last.found:
        return
    found = last_year_warnings(form, values, last.values, last.ratio)
    if not found:
        return
    for violation in found:
        violation.cells = {code: cells[code] for code in violation.items if cells and code in cells}
    result.extend(found)
    result.sort(compiled(form).index)


def check_unit_table(
    form: Form, values: Mapping[str, Value], *, campaign: Campaign, unit_id: int
) -> CheckResult:
    """`check_table` with last year's values and the ledger's values of the unit looked up."""
    return check_table(
        form, values, last_year_values(campaign, unit_id, form), ledger_values(campaign, unit_id, form)
    )
