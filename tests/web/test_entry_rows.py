"""The entry page's table rows, built in Python (songnuan.reporting.entry_rows), are the HTML the template
loop produced, byte for byte: that loop is kept as the oracle, tests/web/templates/entry_rows_reference.html.
Compared for every form in every state the rows can be in — editable or read-only, with or without the 上年
column (a table found last year or not), the ledger's figures, the 全辖 / 下级合计 column (own level and
whole area, with discrepancies), archive hints, errors, warnings, blank values, yes/no items, hostile
text — first on the builder directly, then on the page as the view draws it. Then the escaping of the whole
page, and its queries."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.definitions import Form, ItemKind, builtin_forms, get_form
from songnuan.formkit.engine import CheckResult, Value, compiled, value_text
from songnuan.ledger.models import Activity
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from songnuan.reporting import services
from songnuan.reporting.catalogue import PrintedRow, printed_rows
from songnuan.reporting.entry_rows import rows_html
from songnuan.reporting.last_year import LastYear
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.rollup import Levels

from ..filemakers import filled_example
from ..ledger.ledgerworld import household
from ..world import World
from .test_last_year import last_year_table, previous_campaign

REFERENCE = Path(__file__).parent / "templates" / "entry_rows_reference.html"
FORMS = sorted(builtin_forms())
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT, ATTRIBUTE, "a & b ' \" < >")


@cache
def _reference_template() -> Any:
    return engines["django"].from_string(REFERENCE.read_text(encoding="utf-8"))


def reference(
    form: Form,
    rows: list[PrintedRow],
    *,
    editable: bool,
    last_year: LastYear | None,
    ledger: Mapping[str, str],
    levels: Levels,
) -> str:
    """The rows as the template loop drew them."""
    context = {
        "rows": rows,
        "editable": editable,
        "last_year": last_year,
        "ledger": ledger,
        "levels": levels,
        "yes_no": {item.code for item in form.items if item.kind is ItemKind.YES_NO},
    }
    return str(_reference_template().render(context))


# --- the builder against the loop ----------------------------------------------------------------------


def _values(form: Form, hostile: bool) -> dict[str, Value]:
    """Every kind of value: numbers, blanks, yes/no (one left blank), typed text that is no number."""
    values: dict[str, Value] = {}
    for position, item in enumerate(form.items):
        if position % 5 == 4:
            values[item.code] = None
        elif item.kind is ItemKind.YES_NO:
            values[item.code] = "是" if position % 2 else "否"
        elif item.kind is ItemKind.COUNT:
            values[item.code] = position * 7
        else:
            values[item.code] = Decimal(position) / 4
    if hostile:
        values[form.items[1].code] = SCRIPT
        values[form.items[2].code] = ATTRIBUTE
    return values


def _rows(form: Form, values: dict[str, Value], hostile: bool) -> list[PrintedRow]:
    check: CheckResult = compiled(form).validate(values)
    codes = form.codes
    hints = {codes[3]: "档案在册 3 户", codes[4]: ATTRIBUTE if hostile else "档案在册 0 户"}
    rows = printed_rows(form, values, check, hints=hints)
    # Errors and warnings, whatever the rules found: a message on one row, several on another.
    rows[0].state, rows[0].messages = (
        "error",
        [("error", "合计不等于各项之和 " + (SCRIPT if hostile else ""))],
    )
    rows[1].state = "warning"
    rows[1].messages = [("warning", ATTRIBUTE if hostile else "超过上年的3倍"), ("error", "a < b & c")]
    rows[2].state = "error"  # highlighted, its message beside another item
    return rows


def _last_year(form: Form, variant: str) -> LastYear | None:
    if variant == "none":
        return None
    if variant == "not found":
        return LastYear(1, Decimal(3))
    values: dict[str, Value] = {
        code: (None if position % 3 == 0 else Decimal(position) + Decimal("0.50"))
        for position, code in enumerate(form.codes)
    }
    return LastYear(1, Decimal("2.5"), True, "2017年<送温暖>", values)


def _levels(form: Form, values: dict[str, Value], variant: str) -> Levels:
    own = {code: values.get(code) for code in form.codes}
    if variant == "no units below":
        return Levels(False, own, dict.fromkeys(form.codes), own, has_below=False)
    below: dict[str, Value] = {
        code: (None if position % 4 == 0 else Decimal(position * 100))
        for position, code in enumerate(form.codes)
    }
    if variant == "whole area":
        # Below adds up to more than the whole area on most numeric items: discrepancies.
        return Levels(True, own, below, own, has_below=True)
    area = {code: below[code] if own[code] is None else own[code] for code in form.codes}
    return Levels(False, own, below, area, has_below=True)


def _ledger(form: Form, variant: str, hostile: bool) -> dict[str, str]:
    if variant == "none":
        return {}
    shown = {
        code: value_text(Decimal(position) * 3) for position, code in enumerate(form.codes) if position % 2
    }
    if hostile:
        shown[form.codes[1]] = SCRIPT
    return shown


@pytest.mark.parametrize("form_code", FORMS)
@pytest.mark.parametrize("editable", [True, False], ids=["editable", "read-only"])
@pytest.mark.parametrize("last_year", ["none", "not found", "found"])
@pytest.mark.parametrize("levels", ["no units below", "own level", "whole area"])
@pytest.mark.parametrize("ledger", ["none", "figures"])
@pytest.mark.parametrize("hostile", [False, True], ids=["plain", "hostile"])
def test_the_rows_are_the_template_loops_html(
    form_code: str, editable: bool, last_year: str, levels: str, ledger: str, hostile: bool
) -> None:
    form = get_form(form_code)
    values = _values(form, hostile)
    rows = _rows(form, values, hostile)
    arguments: dict[str, Any] = {
        "editable": editable,
        "last_year": _last_year(form, last_year),
        "ledger": _ledger(form, ledger, hostile),
        "levels": _levels(form, values, levels),
    }
    built = rows_html(form, rows, **arguments)
    assert built == reference(form, rows, **arguments)
    if hostile:
        assert "<script>alert" not in built and "<img src=x" not in built


def test_a_blank_table_is_the_template_loops_html() -> None:
    for form in builtin_forms().values():
        rows = printed_rows(
            form, dict.fromkeys(form.codes), compiled(form).validate(dict.fromkeys(form.codes))
        )
        levels = Levels(False, {}, {}, {}, has_below=False)
        for editable in (True, False):
            arguments: dict[str, Any] = {
                "editable": editable,
                "last_year": None,
                "ledger": {},
                "levels": levels,
            }
            assert rows_html(form, rows, **arguments) == reference(form, rows, **arguments)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_language_gets_its_own_texts(language: str) -> None:
    """The fixed parts are kept per language: a page in English after one in Chinese is not Chinese."""
    form = get_form("service-centres-2017")
    values = _values(form, hostile=False)
    rows = _rows(form, values, hostile=False)
    arguments: dict[str, Any] = {
        "editable": True,
        "last_year": None,
        "ledger": _ledger(form, "figures", hostile=False),
        "levels": _levels(form, values, "whole area"),
    }
    with translation.override("zh-hans"):
        rows_html(form, rows, **arguments)  # kept in Chinese first
    with translation.override(language):
        assert rows_html(form, rows, **arguments) == reference(form, rows, **arguments)


# --- the page as the view draws it ----------------------------------------------------------------------

FORM = "warmth-2018"


def _url(world: World, unit: Unit, form_code: str = FORM) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{form_code}/"


def _tbody(page: str) -> str:
    found = re.search(r'<table class="printed entry">.*?<tbody>\n    (.*)\n    </tbody>', page, re.S)
    assert found, "the page has the printed table"
    return found.group(1)


def _page_matches_the_loop(response: Any, form_code: str) -> str:
    """The page's rows are those the loop draws from the page's own context (everything else on the page
    is drawn by the same template either way)."""
    assert response.status_code == 200
    page: str = response.content.decode()
    context = response.context
    expected = reference(
        get_form(form_code),
        context["rows"],
        editable=context["editable"],
        last_year=context["last_year"],
        ledger=context["ledger"],
        levels=context["levels"],
    )
    assert _tbody(page) == expected
    return page


def _table(
    world: World, unit: Unit, form_code: str = FORM, *, status: str = Submission.Status.DRAFT, **header: str
) -> Submission:
    """The unit's table with the filled example, saved as a reporter saves it, then put in `status`."""
    values, example_header = filled_example(form_code)
    user = next(
        u for u in world.users.values() if u.account.unit_id == unit.pk and u.account.role != "reviewer"
    )
    submission = services.submission_open(campaign=world.campaign, unit=unit, form_code=form_code, user=user)
    saved = services.submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        values=values,
        header={
            "reporter": header.get("reporter", example_header["reporter"]),
            "phone": header.get("phone", example_header["phone"]),
            "report_date": example_header["date"],
        },
    ).submission
    if status != Submission.Status.DRAFT:
        Submission.objects.filter(pk=saved.pk).update(status=status)
    return saved


def _set_values(submission: Submission, **values: str) -> None:
    """Values stored as typed (kept as text: the engine reports them), bypassing the save's parsing."""
    for code, text in values.items():
        SubmissionValue.objects.update_or_create(
            submission=submission, item=code, defaults={"number": None, "text": text}
        )


def _previous_campaign(world: World, unit: Unit) -> None:
    """Last year's campaign, where `unit` had an accepted table (1A and 2A)."""
    last_year_table(previous_campaign(world), unit, {"1A": 1, "2A": Decimal("2.5")})


def _talents_visited(world: World) -> None:
    """The ledger's 80 talents visited by the enterprise: its figure beside 1A (a warning if they differ)."""
    Activity.objects.create(
        campaign=world.campaign,
        unit=world.enterprise,
        kind=Activity.Kind.VISIT_TALENT,
        on=dt.date(2018, 1, 20),
        entered_by=world.users["enterprise_reporter"],
        people=80,
    )


@pytest.mark.parametrize("form_code", FORMS)
def test_the_page_of_a_draft_with_findings_is_the_loops_html(world: World, form_code: str) -> None:
    """Errors, warnings (one explained), blank items, yes/no items, archive hints, ledger figures."""
    submission = _table(world, world.enterprise, form_code)
    form = get_form(form_code)
    _set_values(submission, **{form.codes[0]: "-5", form.codes[1]: "", form.codes[2]: "12abc"})
    _talents_visited(world)
    for name, category in (("王一", "worker"), ("王二", "worker"), ("王三", "migrant")):
        household(world, name, unit=world.enterprise, category=category)
    page = _page_matches_the_loop(
        world.client("enterprise_reporter").get(_url(world, world.enterprise, form_code)), form_code
    )
    assert 'data-state="error"' in page
    page = _page_matches_the_loop(
        world.client("county_reviewer").get(_url(world, world.enterprise, form_code)), form_code
    )
    assert 'class="value readonly"' in page


@pytest.mark.parametrize("scope", [ReportingScope.OWN_LEVEL, ReportingScope.WHOLE_AREA])
def test_the_page_of_a_county_with_last_year_and_levels_is_the_loops_html(
    world: World, scope: ReportingScope
) -> None:
    world.campaign.reporting_scope = scope
    world.campaign.save(update_fields=["reporting_scope"])
    _previous_campaign(world, world.county)
    _table(world, world.enterprise, status=Submission.Status.ACCEPTED)
    _table(world, world.county)
    for username in ("county_reporter", "city_reviewer"):
        page = _page_matches_the_loop(world.client(username).get(_url(world, world.county)), FORM)
        assert 'data-last-year="1A">1<' in page and "data-scope-item" in page


def test_the_page_without_a_table_last_year_is_the_loops_html(world: World) -> None:
    _previous_campaign(world, world.county)  # the enterprise had no table last year
    page = _page_matches_the_loop(
        world.client("enterprise_reporter").get(_url(world, world.enterprise)), FORM
    )
    assert 'data-last-year="1A">—<' in page


# --- escaping -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", [SCRIPT, ATTRIBUTE])
@pytest.mark.parametrize("username", ["enterprise_reporter", "county_reviewer"])
def test_hostile_text_is_shown_escaped_everywhere_on_the_page(
    world: World, hostile: str, username: str
) -> None:
    """Values, explanations, the reporter and phone, the unit's name, the review comment and the rules'
    messages (which quote the value) hold markup: the page shows it as text, in every place."""
    Unit.objects.filter(pk=world.enterprise.pk).update(name=f"水泥厂{hostile}")
    submission = _table(world, world.enterprise, reporter=f"张三{hostile}", phone=hostile[:50])
    _set_values(submission, **{code: hostile for code in get_form(FORM).codes[:3]})
    _talents_visited(world)  # the ledger says 80 talents, the table 86: a warning to explain
    client = world.client(username)
    warnings = [w.warning.rule for w in client.get(_url(world, world.enterprise)).context["warnings"]]
    assert warnings, "a warning to explain"
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.RETURNED,
        explanations=dict.fromkeys(warnings, f"说明{hostile}"),
        review_comment=f"意见{hostile}",
    )
    response = client.get(_url(world, world.enterprise))
    page = _page_matches_the_loop(response, FORM)
    outside_config = re.sub(
        r'<script id="entry-config" type="application/json">.*?</script>', "", page, flags=re.S
    )
    assert "<script>alert" not in outside_config and "<img src=x" not in page
    escaped = html.escape(hostile)
    for shown in (
        f"水泥厂{escaped}",
        f"说明{escaped}",
        f"意见{escaped}",
        f"张三{escaped}",
        f'value="{escaped}"',
    ):
        if shown.startswith("value=") and username != "enterprise_reporter":
            shown = f">{escaped}</td>"  # read-only: the value as the cell's text
        assert shown in page, shown
    messages = [message for row in response.context["rows"] for _severity, message in row.messages]
    quoting = [message for message in messages if hostile in message]
    assert quoting, "a rule's message quotes the hostile value"
    assert all(html.escape(message) in page for message in quoting)
    config = re.search(r'<script id="entry-config" type="application/json">(.*?)</script>', page, re.S)
    assert config and "<" not in config.group(1)  # json_script escapes < > & too
    assert json.loads(config.group(1))["editable"] is (username == "enterprise_reporter")


# --- queries --------------------------------------------------------------------------------------------

#: Every page's: the session, the user, its account with its unit, and the header's unread notices.
EVERY_PAGE = ("django_session", "auth_user", "orgs_account", "notices_notice")


def _table_read(sql: str) -> str:
    found = re.search(r'\bFROM "?(\w+)"?', sql)
    return found[1] if found else ""


@pytest.mark.parametrize("form_code", FORMS)
@pytest.mark.parametrize(
    "username", ["enterprise_reporter", "county_reviewer"], ids=["editable", "read-only"]
)
def test_the_entry_page_asks_at_most_six_queries_of_its_own(
    world: World, form_code: str, username: str
) -> None:
    _table(world, world.enterprise, form_code)
    client = world.client(username)
    url = _url(world, world.enterprise, form_code)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    asked = [q["sql"] for q in queries.captured_queries]
    own = [sql for sql in asked if _table_read(sql) not in EVERY_PAGE]
    assert len(own) <= 6, "\n".join(own)
    assert len(asked) <= 6 + len(EVERY_PAGE), "\n".join(asked)


def test_the_values_read_with_the_submission_are_those_stored(world: World) -> None:
    """One query reads the submission with its values aggregated as JSON: the same values, of the same
    types, as reading the value rows themselves — numbers of every size and scale, zero, text kept as
    typed, yes/no, blanks."""
    form = get_form("service-centres-2017")
    submission = _table(world, world.enterprise, "service-centres-2017")
    numbers = ["0", "0.0000", "-3", "12.3400", "0.0001", "9999999999.9999", "123456789012", "1.5", "1E+3"]
    codes = [item.code for item in form.items if item.kind is not ItemKind.YES_NO]
    for code, number in zip(codes, numbers, strict=False):
        SubmissionValue.objects.update_or_create(
            submission=submission, item=code, defaults={"number": Decimal(number), "text": ""}
        )
    _set_values(submission, **{codes[len(numbers)]: "12abc", codes[len(numbers) + 1]: "1.23456"})
    SubmissionValue.objects.filter(submission=submission, item=codes[len(numbers) + 2]).delete()
    found, values = services.submission_with_values(world.campaign, world.enterprise, form)
    assert found is not None and found.pk == submission.pk
    expected = services.stored_values(Submission.objects.get(pk=submission.pk))
    assert values == expected
    assert [type(values[code]) for code in form.codes] == [type(expected[code]) for code in form.codes]
    assert values[codes[len(numbers) + 2]] is None
    empty = services.submission_with_values(world.campaign, world.county, form)
    assert empty == (None, dict.fromkeys(form.codes))


def test_the_campaign_and_unit_are_checked_as_before(world: World) -> None:
    """Read in two queries now (the unit with the units below it, the campaign with whether it concerns the
    unit): a unit the campaign does not concern is not found, a unit out of sight is refused, no such
    campaign or unit is not found; the campaign's owner fills its own table, with its 全辖 column."""
    stray = unit_create(
        name="荆门市某协会工会", kind=Unit.Kind.ENTERPRISE, parent=world.city
    )  # not addressed
    admin = world.client("city_admin")
    assert admin.get(_url(world, stray)).status_code == 404
    assert world.client("sibling_reporter").get(_url(world, world.enterprise)).status_code == 403
    assert (
        admin.get(f"/campaigns/{world.campaign.pk + 99}/units/{world.city.pk}/forms/{FORM}/").status_code
        == 404
    )
    assert admin.get(f"/campaigns/{world.campaign.pk}/units/{stray.pk + 99}/forms/{FORM}/").status_code == 404
    page = _page_matches_the_loop(admin.get(_url(world, world.city)), FORM)
    assert "data-scope-item" in page and 'class="value"' in page
    below = world.client("enterprise_reporter").get(_url(world, world.enterprise)).content.decode()
    assert "data-scope-item" not in below  # nothing below the enterprise
