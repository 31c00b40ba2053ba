"""The rows of the entry page's table (campaign/entry.html's tbody), built in Python.

A template loop cost more than half of the page (≈1,600 variable lookups per request). What does not change
between requests — the 编号 cell, letter, label, formula, unit and the attributes — is built once per form,
language and shape (editable or not, with the 上年 column or not, with the 全辖 / 下级合计 column or not)
and kept for the life of the process; each request fills in only the values, states, hints, ledger
figures, last year's values, the level cells and the messages.

The HTML is the one the template loop produced, byte for byte (tests/web/test_entry_rows.py compares it with
that loop, kept as tests/web/templates/entry_rows_reference.html), and it is escaped as autoescaping
escaped it: every value from the database or the user goes through `conditional_escape`; the texts of the
translation catalogue go in as they are, as `{% translate %}` puts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from songnuan.formkit.definitions import Form, ItemKind
from songnuan.reporting.catalogue import PrintedRow
from songnuan.reporting.findings import escaped as _e
from songnuan.reporting.findings import messages_html
from songnuan.reporting.last_year import LastYear
from songnuan.reporting.rollup import Levels


@dataclass(frozen=True)
class _Texts:
    """The catalogue's texts the rows carry, in one language, escaped as `{% translate %}` escapes them (the
    pattern of "台账：…" goes in as it is, as `{% blocktranslate %}` puts it; its figure is escaped)."""

    hint_title: str
    ledger_title: str
    ledger: str  # "台账：%(derived)s"
    discrepancy_title: str


@dataclass(frozen=True)
class _FixedRow:
    """One row's parts that every request shares, escaped; a request puts its figures between them."""

    code: str
    code_html: str
    head: str  # from <tr> to the end of the label (with the printed formula)
    middle: str  # from the end of the label cell to where last year's value goes
    value_open: str  # the value cell up to its data-state
    value_between: str  # after data-state, before the value
    value_close: str  # after the value, up to where the level cell goes


@dataclass(frozen=True)
class _Shape:
    form: Form
    texts: _Texts
    rows: tuple[_FixedRow, ...]


_SHAPES: dict[tuple[str, str, bool, bool], _Shape] = {}


def _texts() -> _Texts:
    return _Texts(
        hint_title=_e(_("本单位及下级单位困难职工档案中已建档的户数，供填报时参考")),
        ledger_title=_e(
            _("按帮扶台账（已审核的发放记录、筹集资金、活动记录、站点）计算的数，与填报数不符时须写说明")
        ),
        ledger=_("台账：%(derived)s"),
        discrepancy_title=_e(_("下级合计大于本单位填报的全辖数，请核对")),
    )


def _fixed_rows(form: Form, *, editable: bool, last_year: bool) -> tuple[_FixedRow, ...]:
    formula_title = _e(_("表中所印的公式"))
    yes_or_no = _e(_("是/否"))  # outside the f-string, where xgettext finds it
    yes_no = f'inputmode="text" list="yes-no" placeholder="{yes_or_no}"'
    rows: list[_FixedRow] = []
    for number, items in form.groups():
        for position, item in enumerate(items):
            code = _e(item.code)
            level = _e(item.level)
            number_cell = (
                f'<td class="num" rowspan="{_e(len(items))}">{_e(number)}</td>' if position == 0 else ""
            )
            formula = (
                f' <span class="formula" title="{formula_title}">{_e(item.formula)}</span>'
                if item.formula
                else ""
            )
            head = (
                f'\n      <tr id="item-{code}" data-item="{code}">\n        {number_cell}\n'
                f'        <td class="letter level-{level}">{_e(form.printed_letter(item))}</td>\n'
                f'        <td class="label level-{level}"><label for="input-{code}">{_e(item.label)}</label>'
                f"{formula}"
            )
            middle = f'</td>\n        <td class="unit">{_e(item.unit)}</td>\n        '
            if last_year:
                middle += f'<td class="last-year" data-last-year="{code}">'
            after_last_year = "</td>" if last_year else ""
            if editable:
                value_open = f'{after_last_year}\n\n        <td class="value"'
                value_between = f'><input id="input-{code}" name="{code}" data-item="{code}" value="'
                mode = yes_no if item.kind is ItemKind.YES_NO else 'inputmode="decimal"'
                value_close = f'" {mode}></td>\n        \n        '
            else:
                value_open = f'{after_last_year}\n\n        <td class="value readonly"'
                value_between = ">"
                value_close = "</td>\n        "
            rows.append(_FixedRow(item.code, code, head, middle, value_open, value_between, value_close))
    return tuple(rows)


def _shape(form: Form, *, editable: bool, last_year: bool) -> _Shape:
    # The translated texts differ per language: the language is part of the key. A form is loaded once per
    # process; should another object come with the same code, the parts are built anew from it.
    key = (form.code, get_language() or "", editable, last_year)
    shape = _SHAPES.get(key)
    if shape is None or shape.form is not form:
        shape = _Shape(form, _texts(), _fixed_rows(form, editable=editable, last_year=last_year))
        _SHAPES[key] = shape
    return shape


def rows_html(
    form: Form,
    rows: Sequence[PrintedRow],
    *,
    editable: bool,
    last_year: LastYear | None,
    ledger: Mapping[str, str],
    levels: Levels,
) -> SafeString:
    """The tbody's rows: `rows` (catalogue.printed_rows, in the form's order) with their values, states,
    hints and messages; `ledger`, the ledger's figures as shown; `levels`, the 全辖 / 下级合计 column
    (when the unit has units below it)."""
    shape = _shape(form, editable=editable, last_year=last_year is not None)
    texts = shape.texts
    scope: Mapping[str, str] | None = None
    discrepancies: set[str] = set()
    if levels.has_below:
        scope = levels.below_shown if levels.whole_area else levels.area_shown
        discrepancies = levels.discrepancies
    parts: list[str] = []
    add = parts.append
    for fixed, row in zip(shape.rows, rows, strict=True):
        if row.code != fixed.code:
            raise ValueError(f"row {row.code} where {fixed.code} is printed")
        add(fixed.head)
        if row.hint:
            add(f' <span class="archive-hint" title="{texts.hint_title}">{_e(row.hint)}</span>')
        derived = ledger.get(fixed.code, "")
        if derived:
            shown = _e(derived)
            add(f' <span class="ledger-hint" data-ledger="{shown}" title="{texts.ledger_title}">')
            add(texts.ledger % {"derived": shown})
            add("</span>")
        add(fixed.middle)
        if last_year is not None:
            add(_e(last_year.shown(fixed.code)))
        add(fixed.value_open)
        if row.state:
            add(f' data-state="{_e(row.state)}"')
        add(fixed.value_between)
        add(_e(row.value))
        add(fixed.value_close)
        if scope is not None:
            if fixed.code in discrepancies:
                add(
                    f'<td class="scope discrepancy" data-scope-item="{fixed.code_html}"'
                    f' title="{texts.discrepancy_title}">'
                )
            else:
                add(f'<td class="scope" data-scope-item="{fixed.code_html}">')
            add(_e(scope.get(fixed.code, "")))
            add("</td>")
        add(f'\n        <td class="msgs">{messages_html(row.messages)}</td>\n      </tr>\n    ')
    # Safe by construction: the fixed parts escape every item text and catalogue text, the loop escapes every
    # figure; the one raw piece is the pattern of "台账：…", as `{% blocktranslate %}` inserts it.
    return mark_safe("".join(parts))
