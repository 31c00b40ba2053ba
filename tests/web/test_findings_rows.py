"""The findings' rows of a check or save answer (`findings_html(...)["rows"]`), built in Python by
songnuan.reporting.findings.rows_html, are the HTML the template loop drew, byte for byte: that loop is kept
as the oracle, tests/web/templates/findings_rows_reference.html. Compared for every form with errors,
warnings, several messages on a row, a highlighted row without its own message, and hostile text; then
through the API's answer to a save."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.template import engines

from songnuan.formkit.definitions import builtin_forms, get_form
from songnuan.formkit.engine import compiled
from songnuan.reporting.catalogue import PrintedRow, printed_rows
from songnuan.reporting.findings import findings_context, rows_html
from songnuan.reporting.last_year import check_unit_table
from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

from ..world import World
from .test_entry_rows import ATTRIBUTE, SCRIPT, _rows, _values

REFERENCE = Path(__file__).parent / "templates" / "findings_rows_reference.html"


@cache
def _reference_template() -> Any:
    return engines["django"].from_string(REFERENCE.read_text(encoding="utf-8"))


def reference(rows: list[PrintedRow]) -> str:
    return str(_reference_template().render({"rows": rows}))


@pytest.mark.parametrize("form_code", sorted(builtin_forms()))
@pytest.mark.parametrize("hostile", [False, True], ids=["plain", "hostile"])
def test_the_rows_are_the_template_loops_html(form_code: str, hostile: bool) -> None:
    form = get_form(form_code)
    rows = _rows(form, _values(form, hostile), hostile)
    built = rows_html(rows)
    assert built == reference(rows)
    assert 'data-state="error"' in built and '<div class="msg warning">' in built
    if hostile:
        assert SCRIPT not in built and "<img src=x" not in built
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in built


def test_a_blank_table_is_the_template_loops_html() -> None:
    for form in builtin_forms().values():
        blank = dict.fromkeys(form.codes)
        rows = printed_rows(form, blank, compiled(form).validate(blank))
        assert rows_html(rows) == reference(rows)


def test_a_save_answers_the_rows_the_loop_drew(world: World) -> None:
    """Through the API: a save that breaks sums, with hostile text in an item the rules' messages quote."""
    campaign, unit = world.campaign, world.county
    form = get_form(campaign.form_codes[0])
    url = f"/api/campaigns/{campaign.pk}/units/{unit.pk}/forms/{form.code}"
    client = world.client("county_reporter")
    version = client.get(url).json()["version"]
    values: dict[str, Any] = dict.fromkeys(form.codes[:6], 5)
    values[form.codes[1]] = ATTRIBUTE
    answer = client.put(
        url, json.dumps({"version": version, "values": values}), content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    submission = Submission.objects.get(campaign=campaign, unit=unit, form_code=form.code)
    check = check_unit_table(form, stored_values(submission), campaign=campaign, unit_id=unit.pk)
    rows = findings_context(form, check, {}, missing=[], editable=True)["rows"]
    shown = answer.json()["findings_html"]["rows"]
    assert shown == reference(rows)
    assert 'data-state="error"' in shown and "<img src=x" not in shown
