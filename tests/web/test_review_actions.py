"""The review workflow through the pages, the campaign pages, the activity report, and who may do what."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import get_form
from songnuan.formkit.excel_writer import write_form
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create, unit_create
from songnuan.reporting.models import ActivityReport, Submission
from songnuan.reporting.services import (
    activity_report_upload,
    stored_values,
    submission_open,
    submission_save,
)

from ..filemakers import filled_example
from ..world import PASSWORD, World

FORM = "warmth-2018"
WARNING = "warmth-2018.4A.within-raised"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def fast_passwords_and_media(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def url(world: World, unit: Unit, action: str = "") -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}/{action}"


def rollup_url(world: World, page: str, unit: Unit) -> str:
    """The roll-up ("rollup") or comparison grid ("grid") of `unit`, as the reviewer's pages name them."""
    return f"/campaigns/{world.campaign.pk}/{page}/{unit.pk}/{FORM}/"


def report_url(world: World, unit: Unit) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/report/"


def post_json(client: Client, address: str, payload: Any) -> Any:
    return client.post(address, data=json.dumps(payload), content_type="application/json")


def api_url(world: World, unit: Unit, action: str = "") -> str:
    """The table in the API, where the entry page checks (…/check) and saves (PUT) as it is typed."""
    address = f"/api/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}"
    return f"{address}/{action}" if action else address


def put_json(client: Client, address: str, payload: Any) -> Any:
    return client.put(address, data=json.dumps(payload), content_type="application/json")


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def example(**changes: str) -> dict[str, str]:
    values, _header = filled_example(FORM)
    return {code: str(value) for code, value in values.items()} | changes


def status_of(world: World, unit: Unit) -> str:
    return Submission.objects.get(campaign=world.campaign, unit=unit, form_code=FORM).status


# --- the whole workflow ----------------------------------------------------------------------------------


def test_fill_check_explain_submit_return_resubmit_accept(world: World) -> None:
    reporter = world.client("enterprise_reporter")
    reviewer = world.client("county_reviewer")
    entry = url(world, world.enterprise)
    empty = reporter.get(entry)
    assert empty.status_code == 200
    page = empty.content.decode()
    assert "2018年各地工会送温暖统计表" in page and "东宝区恒力水泥有限公司工会" in page
    assert 'id="input-1A"' in page and 'id="input-3A"' in page and 'class="banner status-draft"' in page

    # Fill with a mistake: the save answers with the error, the live check too.
    saved = put_json(
        reporter,
        api_url(world, world.enterprise),
        {
            "version": 1,
            "values": example(**{"2C": "400"}),
            "header": {"reporter": "张三", "phone": "0724-1234567", "report_date": "2018-02-03"},
        },
    )
    assert saved.status_code == 200
    version = saved.json()["version"]
    assert [f["rule"] for f in saved.json()["errors"]] == ["warmth-2018.2C.sum"]
    checked = post_json(
        reporter, api_url(world, world.enterprise, "check"), {"values": example(**{"2C": "400"})}
    ).json()
    assert checked["errors"][0]["items"][0] == "2C" and checked["errors"][0]["difference"] == -12
    response = reporter.post(url(world, world.enterprise, "submit"), follow=True)
    assert any("个错误" in m for m in messages_of(response)) and status_of(world, world.enterprise) == "draft"

    # Fix it, but disburse more than raised: a warning that needs a written explanation.
    saved = put_json(
        reporter,
        api_url(world, world.enterprise),
        {"version": version, "values": {"2C": "412", "4A": "66.95"}},
    ).json()
    assert saved["errors"] == [] and saved["missing_explanations"] == [WARNING]
    version = saved["version"]
    page = reporter.get(entry).content.decode()
    assert f'name="explain-{WARNING}"' in page and 'data-state="warning"' in page
    response = reporter.post(url(world, world.enterprise, "submit"), follow=True)
    assert any("还没有写说明" in m for m in messages_of(response))

    saved = put_json(
        reporter,
        api_url(world, world.enterprise),
        {"version": version, "explanations": {WARNING: "含上年结转款0.04万元"}},
    ).json()
    assert saved["missing_explanations"] == []
    response = reporter.post(url(world, world.enterprise, "submit"), follow=True)
    assert response.redirect_chain[-1][0] == entry
    assert "已报送（逾期报送），等待上级审核" in messages_of(response)  # the deadline (2018) has passed
    page = response.content.decode()
    assert "已报送" in page and "逾期" in page and 'id="input-1A"' not in page

    # The county returns it; a comment is required.
    page = reviewer.get(entry).content.decode()
    assert "含上年结转款0.04万元" in page and 'id="return-form"' in page and 'id="accept-form"' in page
    response = reviewer.post(url(world, world.enterprise, "return"), {"comment": ""}, follow=True)
    assert (
        any("审核意见" in m for m in messages_of(response))
        and status_of(world, world.enterprise) == "submitted"
    )
    response = reviewer.post(
        url(world, world.enterprise, "return"), {"comment": "4A请与财务再核对"}, follow=True
    )
    assert status_of(world, world.enterprise) == "returned"
    assert any("已退回" in m for m in messages_of(response))

    # The reporter sees the comment, corrects, resubmits.
    page = reporter.get(entry).content.decode()
    assert "已退回" in page and "4A请与财务再核对" in page and 'id="input-1A"' in page
    version = json.loads(re.search(r'"version": (\d+)', page).group(1))  # type: ignore[union-attr]
    saved = put_json(
        reporter, api_url(world, world.enterprise), {"version": version, "values": {"4A": "61.48"}}
    )
    assert saved.status_code == 200 and saved.json()["warnings"] == []
    reporter.post(url(world, world.enterprise, "submit"))
    assert status_of(world, world.enterprise) == "submitted"

    # Accepted: locked.
    response = reviewer.post(url(world, world.enterprise, "accept"), follow=True)
    assert status_of(world, world.enterprise) == "accepted"
    assert "已审核通过，这张表已锁定并计入汇总" in messages_of(response)
    locked = put_json(reporter, api_url(world, world.enterprise), {"version": 99, "values": {"1A": "1"}})
    assert locked.status_code == 409 and "审核通过" in locked.json()["message"]  # the state does not allow it
    assert 'id="unlock-form"' in reviewer.get(entry).content.decode()


def test_unlock_needs_a_reason_and_returns_the_table(world: World) -> None:
    fill(world, world.enterprise, "accepted")
    reviewer = world.client("county_reviewer")
    response = reviewer.post(url(world, world.enterprise, "unlock"), {"reason": ""}, follow=True)
    assert "解锁须写明原因" in messages_of(response) and status_of(world, world.enterprise) == "accepted"
    response = reviewer.post(url(world, world.enterprise, "unlock"), {"reason": "1A应为50"}, follow=True)
    assert status_of(world, world.enterprise) == "returned"
    assert "解锁：1A应为50" in response.content.decode()
    history = reviewer.get(url(world, world.enterprise, "history")).content.decode()
    assert "解锁：1A应为50" in history


def test_the_action_pages_accept_only_post(world: World) -> None:
    fill(world, world.enterprise, "submitted")
    reviewer = world.client("county_reviewer")
    for action in ("submit", "return", "accept", "unlock", "import"):
        assert reviewer.get(url(world, world.enterprise, action)).status_code == 405, action
    assert status_of(world, world.enterprise) == "submitted"


# --- campaign pages --------------------------------------------------------------------------------------


def test_campaign_list_shows_campaigns_that_concern_the_unit(world: World) -> None:
    other = Campaign.objects.create(
        title="另一次活动",
        document_number="钟工发〔2018〕1号",
        owner=world.sibling,
        period_start=world.campaign.period_start,
        period_end=world.campaign.period_end,
        deadline=world.campaign.deadline,
        form_codes=[FORM],
    )
    below_sibling = unit_create(name="钟祥某厂工会", kind=Unit.Kind.ENTERPRISE, parent=world.sibling)
    other.addressees.set([below_sibling])
    for username, sees_other in [
        ("city_admin", True),
        ("city_reviewer", True),
        ("county_reviewer", False),
        ("enterprise_reporter", False),
        ("sibling_reporter", True),  # it sent the other notice
    ]:
        page = world.client(username).get("/campaigns/").content.decode()
        assert world.campaign.title in page, username
        assert ("另一次活动" in page) is sees_other, username
    assert world.client("county_reporter").get(f"/campaigns/{other.pk}/").status_code == 403


def test_campaign_home_shows_the_notice_and_the_units_the_user_may_see(world: World) -> None:
    fill(world, world.enterprise, "submitted")
    page = world.client("county_reviewer").get(f"/campaigns/{world.campaign.pk}/").content.decode()
    for text in ("荆工办发电〔2017〕18号", "2018年2月5日", "市总权益保障部", "附件1", "附件2"):
        assert text in page
    assert (
        world.enterprise.name in page
        and world.sibling.name not in page.split("主送单位")[1].split("</dd>")[1]
    )
    assert url(world, world.enterprise) in page and "审核" in page
    assert f"/campaigns/{world.campaign.pk}/dashboard/" in page

    page = world.client("enterprise_reporter").get(f"/campaigns/{world.campaign.pk}/").content.decode()
    assert url(world, world.enterprise) in page and "已报送" in page
    assert "/dashboard/" not in page
    assert f"units/{world.county.pk}/" not in page and f"units/{world.sibling.pk}/" not in page


def test_objects_that_do_not_exist_are_404(world: World) -> None:
    client = world.client("city_admin")
    campaign, county = world.campaign.pk, world.county.pk
    for address in (
        "/campaigns/999/",
        f"/campaigns/999/units/{county}/forms/{FORM}/",
        f"/campaigns/{campaign}/units/999/forms/{FORM}/",
        f"/campaigns/{campaign}/units/{county}/forms/no-such-form/",
        f"/campaigns/{campaign}/units/{county}/forms/{FORM}/history",
        f"/campaigns/{campaign}/units/{county}/report/999/",
    ):
        assert client.get(address).status_code == 404, address
    assert client.post(f"/campaigns/{campaign}/units/{county}/forms/{FORM}/accept").status_code == 404


def test_a_unit_the_notice_does_not_concern_is_404(world: World) -> None:
    world.campaign.addressees.set([world.sibling])
    client = world.client("county_reporter")
    response = client.get(url(world, world.county))
    assert response.status_code == 404 and 'id="input-1A"' not in response.content.decode()
    saved = put_json(client, api_url(world, world.county), {"version": 1, "values": {"1A": "1"}})
    # The API: the campaign (not addressed to the county any more) is not the county's to see.
    assert saved.status_code == 403 and saved.json() == {"message": "您无权查看这个活动"}
    assert not Submission.objects.exists()


# --- the activity report ---------------------------------------------------------------------------------


def test_a_pdf_activity_report_is_uploaded_listed_and_downloaded(world: World) -> None:
    client = world.client("enterprise_reporter")
    upload = SimpleUploadedFile("送温暖活动报告.pdf", PDF, content_type="application/pdf")
    response = client.post(report_url(world, world.enterprise), {"report": upload}, follow=True)
    assert response.status_code == 200
    assert "已上传活动报告“送温暖活动报告.pdf”" in messages_of(response)
    report = ActivityReport.objects.get()
    assert (report.file_type, report.size, report.unit) == ("pdf", len(PDF), world.enterprise)
    download = f"{report_url(world, world.enterprise)}{report.pk}/"
    assert download in response.content.decode()

    for username in ("enterprise_reporter", "county_reviewer", "city_admin"):
        response = world.client(username).get(download)
        assert response.status_code == 200, username
        assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
    assert world.client("sibling_reporter").get(download).status_code == 403
    assert world.client("county_reporter").get(download).status_code == 403
    # The id of the enterprise's report under another unit's address is not found, whoever asks.
    assert world.client("city_admin").get(f"{report_url(world, world.county)}{report.pk}/").status_code == 404


def test_a_text_file_named_pdf_is_refused_with_the_chinese_message(world: World) -> None:
    upload = SimpleUploadedFile("报告.pdf", "这其实是一个文本文件".encode(), content_type="application/pdf")
    response = world.client("enterprise_reporter").post(
        report_url(world, world.enterprise), {"report": upload}, follow=True
    )
    assert (
        "“报告.pdf”不是 Word、WPS 或 PDF 文件（按文件内容判断），请上传 .doc、.docx、.wps 或 .pdf"
        in messages_of(response)
    )
    assert not ActivityReport.objects.exists()


def test_an_oversize_report_is_refused(world: World, settings: Any) -> None:
    settings.SONGNUAN_MAX_REPORT_BYTES = 1024 * 1024
    big = PDF + b"0" * (1024 * 1024)
    upload = SimpleUploadedFile("大报告.pdf", big, content_type="application/pdf")
    response = world.client("enterprise_reporter").post(
        report_url(world, world.enterprise), {"report": upload}, follow=True
    )
    assert "活动报告文件不能超过 1 MB" in messages_of(response)
    assert not ActivityReport.objects.exists()


def test_a_report_page_without_a_file_shows_the_form_error(world: World) -> None:
    response = world.client("enterprise_reporter").post(report_url(world, world.enterprise), {})
    assert response.status_code == 400 and "这个字段是必填项" in response.content.decode()


# --- who may do what: the permission matrix --------------------------------------------------------------

#: Each role acts from the county (东宝区) on: its own unit, the enterprise below, the sibling, the city.
#: For pages and JSON the cell is the status code; for "upload" 302 means the report was stored; for the
#: workflow actions it is the status the table has afterwards (the request is redirected back to the table),
#: and 403 always means nothing changed.
MATRIX = """
role     target  entry history report download check save import upload submit    return   accept   unlock
reporter own     200   200     200    200      200   200  200    302    submitted 403      403      403
reporter below   403   403     403    403      403   403  403    403    403       403      403      403
reporter sibling 403   403     403    403      403   403  403    403    403       403      403      403
reporter above   403   403     403    403      403   403  403    403    403       403      403      403
reviewer own     200   200     200    200      403   403  403    403    403       403      403      403
reviewer below   200   200     200    200      403   403  403    403    403       returned accepted returned
reviewer sibling 403   403     403    403      403   403  403    403    403       403      403      403
reviewer above   403   403     403    403      403   403  403    403    403       403      403      403
admin    own     200   200     200    200      200   200  200    302    submitted 403      403      403
admin    below   200   200     200    200      403   403  403    403    403       returned accepted returned
admin    sibling 403   403     403    403      403   403  403    403    403       403      403      403
admin    above   403   403     403    403      403   403  403    403    403       403      403      403
"""
#: The reviewer's side of the same units: the table's own download and print (a reporter's too: the notice
#: wants it stamped), then what shows the units below — roll-up, drill-down, grid, their Excel and print —
#: for reviewers and admins only, a reporter not even for its own unit.
READ_MATRIX = """
role     target  export print rollup drill rollup.xlsx rollup.print grid grid.xlsx
reporter own     200    200   403    403   403         403          403  403
reporter below   403    403   403    403   403         403          403  403
reporter sibling 403    403   403    403   403         403          403  403
reporter above   403    403   403    403   403         403          403  403
reviewer own     200    200   200    200   200         200          200  200
reviewer below   200    200   200    200   200         200          200  200
reviewer sibling 403    403   403    403   403         403          403  403
reviewer above   403    403   403    403   403         403          403  403
admin    own     200    200   200    200   200         200          200  200
admin    below   200    200   200    200   200         200          200  200
admin    sibling 403    403   403    403   403         403          403  403
admin    above   403    403   403    403   403         403          403  403
"""
ROLES = {"reporter": "county_reporter", "reviewer": "county_reviewer", "admin": "county_admin"}


def matrix_cases() -> list[Any]:
    cases = []
    for table in (MATRIX, READ_MATRIX):
        heading, *rows = [line.split() for line in table.strip().splitlines()]
        actions = heading[2:]
        for role, target, *cells in rows:
            for action, cell in zip(actions, cells, strict=True):
                expected: int | str = int(cell) if cell.isdigit() else cell
                cases.append(pytest.param(role, target, action, expected, id=f"{role}-{target}-{action}"))
    return cases


#: Who fills each target unit when a test needs its table to exist.
FILLERS = {
    "own": "county_reporter",
    "below": "enterprise_reporter",
    "sibling": "sibling_reporter",
    "above": "city_admin",
}
#: The state a table must be in for the action to be possible at all.
NEEDS = {"return": "submitted", "accept": "submitted", "unlock": "accepted"}


def target_unit(world: World, target: str) -> Unit:
    return {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        target
    ]


def fill(world: World, unit: Unit, status: str = "draft", filler: str | None = None) -> Submission:
    """The unit's table filled with the valid example and put in `status` (set directly: setup only)."""
    username = (
        filler or {world.enterprise.pk: "enterprise_reporter", world.county.pk: "county_reporter"}[unit.pk]
    )
    user = world.users[username]
    submission = submission_open(campaign=world.campaign, unit=unit, form_code=FORM, user=user)
    values, header = filled_example(FORM)
    submission = submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        values=values,
        header={"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
    ).submission
    Submission.objects.filter(pk=submission.pk).update(status=status)
    submission.refresh_from_db()
    return submission


def xlsx_upload() -> SimpleUploadedFile:
    values, header = filled_example(FORM)
    buffer = io.BytesIO()
    write_form(get_form(FORM), buffer, values={**values, "1A": 7}, header=header)
    return SimpleUploadedFile("附件1.xlsx", buffer.getvalue())


def do(client: Client, world: World, unit: Unit, action: str, report: ActivityReport) -> Any:
    version = Submission.objects.get(unit=unit, form_code=FORM).version
    requests: dict[str, Callable[[], Any]] = {
        "entry": lambda: client.get(url(world, unit)),
        "history": lambda: client.get(url(world, unit, "history")),
        "report": lambda: client.get(report_url(world, unit)),
        "download": lambda: client.get(f"{report_url(world, unit)}{report.pk}/"),
        "check": lambda: post_json(client, api_url(world, unit, "check"), {"values": {"1A": "3"}}),
        "save": lambda: put_json(client, api_url(world, unit), {"version": version, "values": {"1A": "3"}}),
        "import": lambda: client.post(url(world, unit, "import"), {"table": xlsx_upload()}),
        "upload": lambda: client.post(report_url(world, unit), {"report": SimpleUploadedFile("r.pdf", PDF)}),
        "submit": lambda: client.post(url(world, unit, "submit")),
        "return": lambda: client.post(url(world, unit, "return"), {"comment": "请核实"}),
        "accept": lambda: client.post(url(world, unit, "accept")),
        "unlock": lambda: client.post(url(world, unit, "unlock"), {"reason": "更正"}),
        "export": lambda: client.get(url(world, unit, "export.xlsx")),
        "print": lambda: client.get(url(world, unit, "print/")),
        "rollup": lambda: client.get(rollup_url(world, "rollup", unit)),
        "drill": lambda: client.get(rollup_url(world, "rollup", unit) + "?item=1A"),
        "rollup.xlsx": lambda: client.get(rollup_url(world, "rollup", unit) + "rollup.xlsx"),
        "rollup.print": lambda: client.get(rollup_url(world, "rollup", unit) + "print/"),
        "grid": lambda: client.get(rollup_url(world, "grid", unit)),
        "grid.xlsx": lambda: client.get(rollup_url(world, "grid", unit) + "grid.xlsx"),
    }
    return requests[action]()


@pytest.mark.parametrize("role, target, action, expected", matrix_cases())
def test_permission_matrix(world: World, role: str, target: str, action: str, expected: int | str) -> None:
    account_create(username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN)
    unit = target_unit(world, target)
    filler = FILLERS[target]
    before = fill(world, unit, NEEDS.get(action, "draft"), filler)
    report = activity_report_upload(
        campaign=world.campaign,
        unit=unit,
        user=world.users[filler],
        upload=SimpleUploadedFile("报告.pdf", PDF),
    )
    client = Client()
    client.force_login(Account.objects.get(user__username=ROLES[role]).user)

    response = do(client, world, unit, action, report)

    after = Submission.objects.get(pk=before.pk)
    if expected == 403:
        assert response.status_code == 403
        unchanged = (before.status, before.version, stored_values(before))
        assert (after.status, after.version, stored_values(after)) == unchanged
        assert ActivityReport.objects.count() == 1
        # Nothing of the unit leaks (the user's own unit may be named, in the page's account bar: then
        # nothing of the unit below it).
        leak = world.enterprise.name if target == "own" else unit.name
        assert leak not in response.content.decode()
    elif isinstance(expected, str):  # a workflow action: redirected back, the table moved on
        assert response.status_code == 302 and response["Location"] == url(world, unit)
        assert after.status == expected
    else:
        assert response.status_code == expected
        if action == "save":
            assert stored_values(after)["1A"] == 3 and after.version == before.version + 1
        elif action == "upload":
            assert ActivityReport.objects.count() == 2
        elif action == "import":
            assert "导入预览" in response.content.decode() and stored_values(after) == stored_values(before)
        elif action in ("check", "entry", "history", "report"):
            assert after.version == before.version
        elif action in ("rollup", "drill", "grid") and unit == world.county:
            assert world.enterprise.name in response.content.decode()  # what a reporter must not see
        elif action.endswith("xlsx") or action == "export":
            assert response["Content-Type"].startswith("application/vnd.openxmlformats")


CITY, COUNTY, ENTERPRISE, SIBLING = (
    "荆门市总工会",
    "东宝区总工会",
    "东宝区恒力水泥有限公司工会",
    "钟祥市总工会",
)


@pytest.mark.parametrize(
    ("username", "own", "others"),
    [
        ("city_admin", [CITY], [COUNTY, ENTERPRISE, SIBLING]),
        ("city_reviewer", [], [CITY, COUNTY, ENTERPRISE, SIBLING]),
        ("county_reviewer", [], [COUNTY, ENTERPRISE]),
        ("county_reporter", [COUNTY], []),  # a reporter sees its own unit only
        ("enterprise_reporter", [ENTERPRISE], []),
        ("sibling_reporter", [SIBLING], []),
    ],
)
def test_everyone_sees_the_campaign_list_and_home_with_their_part_of_the_tree(
    world: World, username: str, own: list[str], others: list[str]
) -> None:
    """The home lists the units the user fills ("own") and those below it sees; no other unit's row."""
    client = world.client(username)
    listed = client.get("/campaigns/")
    assert listed.status_code == 200 and list(listed.context["campaigns"]) == [world.campaign]
    assert (
        world.campaign.title in listed.content.decode()
        and "荆工办发电〔2017〕18号" in listed.content.decode()
    )
    home = client.get(f"/campaigns/{world.campaign.pk}/")
    assert home.status_code == 200
    assert [row.unit.name for row in home.context["own_rows"]] == own
    assert [row.unit.name for row in home.context["other_rows"]] == others
    page = home.content.decode()
    assert world.campaign.title in page and "2018年各地工会送温暖统计表" in page
    entry = f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"
    assert (entry in page) == (ENTERPRISE in own + others)


def test_pages_need_a_login(world: World) -> None:
    fill(world, world.enterprise)
    client = Client()
    for address in (
        "/campaigns/",
        f"/campaigns/{world.campaign.pk}/",
        url(world, world.enterprise),
        url(world, world.enterprise, "history"),
        report_url(world, world.enterprise),
    ):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), address
    response = put_json(client, api_url(world, world.enterprise), {"version": 2, "values": {"1A": "1"}})
    assert response.status_code == 401  # the API answers JSON, never a redirect to the login page
    assert stored_values(Submission.objects.get())["1A"] == 48
