"""The findings of a check as the entry page shows them, rendered once, on the server.

`campaign/_findings.html` holds two of them as named partials: the summary line (`summary`) and the warnings
with their explanations (`explanations`). Every row's state and messages (`rows`) are built in Python
(`rows_html`): a template loop over the table's rows was a third of an autosave's answer. The entry page
includes the partials when it is first drawn, with the context `findings_context` builds (its rows come from
`entry_rows`); the API's check and save answers carry the three fragments rendered by `findings_html`, and
entry.js swaps them in. No script builds a finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from songnuan.formkit.definitions import Form
from songnuan.formkit.engine import CheckResult, Value, Violation
from songnuan.reporting.catalogue import PrintedRow, printed_rows

TEMPLATE = "campaign/_findings.html"


@dataclass(frozen=True)
class Explained:
    """A warning (核实性审核) with the explanation written for it."""

    warning: Violation
    text: str
    missing: bool  # no explanation written yet (blank does not count)


class Fragments(TypedDict):
    """The partials of campaign/_findings.html, rendered: what the page swaps in after a check or a save."""

    summary: str
    rows: str
    explanations: str


def is_empty(values: Mapping[str, Value] | None) -> bool:
    """Every value blank (None; a blank string is read as None before any check).
    Values not known (None): not empty."""
    return values is not None and all(value is None or value == "" for value in values.values())


def findings_context(
    form: Form,
    check: CheckResult,
    explanations: Mapping[str, str],
    *,
    missing: list[str],
    editable: bool,
    values: Mapping[str, Value] | None = None,
    hints: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the partials read: `result`, `missing`, `rows` (the printed rows with their states and messages;
    with the values and hints when the page draws the whole table), `warnings`, `editable`, and `empty`: every
    value is blank (the summary then says the table is still empty, not that every rule passed; without the
    values it is not known, and not said)."""
    return {
        "result": check,
        "empty": is_empty(values),
        "missing": missing,
        "rows": printed_rows(form, dict(values) if values is not None else None, check, hints=hints),
        "warnings": [
            Explained(warning, explanations.get(warning.rule, ""), warning.rule in missing)
            for warning in check.warnings
        ],
        "editable": editable,
    }


def escaped(value: object) -> str:
    """Text as autoescaping puts it into HTML (a SafeString as it is)."""
    return str(conditional_escape(str(value)))


def messages_html(messages: Sequence[tuple[str, str]]) -> str:
    """A row's messages, as its cell shows them (the entry page's rows and `rows_html` alike)."""
    return "".join(
        f'<div class="msg {escaped(severity)}">{escaped(message)}</div>' for severity, message in messages
    )


def rows_html(rows: Sequence[PrintedRow]) -> SafeString:
    """Each row's state and messages, as `<tr data-item data-state><td class="msgs">…</td></tr>` lines (the
    HTML the template loop drew, byte for byte: tests/web/test_findings_rows.py compares them), every text
    escaped as autoescaping escapes it."""
    parts: list[str] = []
    add = parts.append
    for row in rows:
        add(f'<tr data-item="{escaped(row.code)}"')
        if row.state:
            add(f' data-state="{escaped(row.state)}"')
        add(f'><td class="msgs">{messages_html(row.messages)}</td></tr>\n')
    # Safe by construction: every piece from a row is escaped above.
    return mark_safe("".join(parts))


def findings_html(
    form: Form,
    check: CheckResult,
    explanations: Mapping[str, str],
    *,
    missing: list[str],
    editable: bool,
    values: Mapping[str, Value] | None = None,
) -> Fragments:
    """The partials, rendered; `values` (the table's values, as checked) tells an empty table from one that
    passes.
    The rows carry only states and messages, never the values."""
    context = findings_context(form, check, explanations, missing=missing, editable=editable)
    context["empty"] = is_empty(values)
    return Fragments(
        summary=render_to_string(f"{TEMPLATE}#summary", context),
        rows=rows_html(context["rows"]),
        explanations=render_to_string(f"{TEMPLATE}#explanations", context),
    )
