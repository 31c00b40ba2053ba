"""The entry page beside the relief ledger: "台账：N" beside each item the ledger derives, the button that
fills blank items from it, and a typed value that differs from the ledger as a warning (核实性审核)
through the one check path — on the page, in the API's check answer, and blocking submission until
explained."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.definitions import get_form
from songnuan.formkit.derived import ledger_warnings, rule_id, rule_ids
from songnuan.ledger.models import Activity, FundSource, Receipt
from songnuan.reporting import services
from songnuan.reporting.last_year import check_unit_table, ledger_values
from tests.world import World

from .test_workflow_services import FORM, draft

pytestmark = pytest.mark.django_db

TALENT = rule_id(get_form(FORM), "2B")  # warmth-2018.2B.ledger


def activity(world: World, kind: str, unit: Any = None, **fields: Any) -> Activity:
    return Activity.objects.create(
        campaign=world.campaign,
        unit=unit or world.enterprise,
        kind=kind,
        on=dt.date(2018, 1, 20),
        entered_by=world.users["enterprise_reporter"],
        **fields,
    )


def ledger(world: World) -> None:
    """The enterprise's ledger: 1,260 front-line workers visited (as the filled example says), 80 talents
    (the example says 86), 12,345 yuan of union money raised (the example says 3D = 60.5 万元)."""
    activity(world, Activity.Kind.VISIT_FRONTLINE, people=1260)
    activity(world, Activity.Kind.VISIT_TALENT, people=80)
    Receipt.objects.create(
        campaign=world.campaign,
        unit=world.enterprise,
        source=FundSource.objects.get(code="union"),
        amount=Decimal("12345"),
        received_on=dt.date(2018, 1, 2),
        entered_by=world.users["enterprise_reporter"],
    )


def entry_url(world: World) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"


def page(world: World, username: str = "enterprise_reporter") -> str:
    response = world.client(username).get(entry_url(world))
    assert response.status_code == 200
    return response.content.decode()


def config(html: str) -> dict[str, Any]:
    start = html.index(">", html.index('id="entry-config"')) + 1
    return dict(json.loads(html[start : html.index("</script>", start)]))


def test_the_ledger_figure_stands_beside_each_derived_item(world: World) -> None:
    ledger(world)
    draft(world)
    html = page(world)
    assert '<span class="ledger-hint" data-ledger="1260"' in html and "台账：1260" in html
    assert "台账：80" in html
    assert "台账：1.2345" in html  # 3D in 万元
    assert "台账：0" in html  # 1A: activities are kept, no enterprise visited
    assert 'data-ledger="' not in html.split('id="item-2C"')[1].split("</tr>")[0]  # no help records: nothing
    assert 'id="fill-from-ledger"' in html and "从台账填入空白项" in html
    assert config(html)["ledger"]["2B"] == "80"


def test_without_a_ledger_the_page_says_nothing_of_it(world: World) -> None:
    draft(world)
    html = page(world)
    assert "ledger-hint" not in html and "fill-from-ledger" not in html
    assert config(html)["ledger"] == {}


def test_a_value_that_differs_from_the_ledger_is_a_warning_on_the_page(world: World) -> None:
    ledger(world)
    draft(world)
    html = page(world)
    assert "2B（慰问工匠劳模、技能人才、学科带头人等专业人才）填报 86，与台账不符：台账 80" in html
    assert f'data-rule="{TALENT}"' in html  # in the explanations to write
    assert "2A（慰问一线职工）" not in html.split('id="explanations"')[1]  # 1260 = 1260: no warning


def test_a_reader_sees_the_warning_without_the_button(world: World) -> None:
    ledger(world)
    draft(world)
    html = page(world, "county_reviewer")
    assert "与台账不符：台账 80" in html and "台账：80" in html
    assert 'id="fill-from-ledger"' not in html


def test_the_one_check_path_warns_in_the_api_and_at_submission(world: World) -> None:
    ledger(world)
    submission = draft(world)
    client = world.client("enterprise_reporter")
    answer = client.post(
        f"/api/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/check",
        {"values": {"2B": "80", "2A": "1000"}},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    rules = [w["rule"] for w in answer.json()["warnings"]]
    assert rule_id(get_form(FORM), "2A") in rules and TALENT not in rules
    with pytest.raises(services.ReportingError, match=TALENT):
        services.submission_submit(submission=submission, user=world.users["enterprise_reporter"])


def test_an_explained_difference_may_be_submitted(world: World) -> None:
    ledger(world)
    submission = draft(world, **{"3D": Decimal("1.2345"), "3A": Decimal("1.2345")})
    user = world.users["enterprise_reporter"]
    unexplained = services.submission_save(submission=submission, user=user, version=submission.version)
    missing = services.missing_explanations(unexplained.submission, unexplained.check)
    assert TALENT in missing
    saved = services.submission_save(
        submission=unexplained.submission,
        user=user,
        version=unexplained.submission.version,
        explanations={rule: "另有6人未入台账" if rule == TALENT else "经核实无误" for rule in missing},
    )
    assert services.missing_explanations(saved.submission, saved.check) == []


def test_the_ledger_scope_follows_the_campaign(world: World) -> None:
    ledger(world)
    activity(world, Activity.Kind.VISIT_TALENT, unit=world.county, people=1)
    form = get_form(FORM)
    assert ledger_values(world.campaign, world.county.pk, form)["2B"] == 1  # 本级
    world.campaign.reporting_scope = ReportingScope.WHOLE_AREA
    world.campaign.save()
    assert ledger_values(world.campaign, world.county.pk, form)["2B"] == 81  # 全辖


def test_blank_is_no_difference() -> None:
    form = get_form(FORM)
    assert ledger_warnings(form, {"2B": None, "2A": 5}, {"2B": 80, "2A": None}) == []
    assert ledger_warnings(form, {"3A": Decimal("1.2300")}, {"3A": Decimal("1.23")}) == []
    assert [w.rule for w in ledger_warnings(form, {"3A": Decimal("1.23")}, {"3A": Decimal("1.2301")})] == [
        rule_id(form, "3A")
    ]
    assert rule_id(form, "9A") in rule_ids(form)


def test_check_unit_table_without_a_ledger_adds_nothing(world: World) -> None:
    submission = draft(world)
    check = check_unit_table(
        get_form(FORM),
        services.stored_values(submission),
        campaign=world.campaign,
        unit_id=world.enterprise.pk,
    )
    assert not [w for w in check.warnings if w.rule.endswith(".ledger")]
