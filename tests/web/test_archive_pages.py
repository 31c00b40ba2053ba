"""The archive's pages: numbers masked unless asked for and logged, search, who sees which file, the actions
on a file and their refusals, the 四明确 and yearly-review reports, export, and importing a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pytest
import python_calamine
import xlsxwriter
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from songnuan.archive.generate import households
from songnuan.archive.models import (
    Household,
    HouseholdEvent,
    ImportJob,
    Member,
    OpenIdentity,
    PersonalDataView,
    Plan,
    Proposal,
)
from songnuan.archive.services import (
    HouseholdInput,
    MemberInput,
    household_apply,
    household_file,
    household_review_yearly,
    plan_set,
)
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create

from ..world import FROZEN_NOW, FROZEN_TODAY, PASSWORD, World

HEAD = "11010519491231002X"
HEAD_MASKED = "1101**********002X"
SPOUSE = "440524188001010014"
SPOUSE_MASKED = "4405**********0014"
PHONE = "13812345678"
PHONE_MASKED = "138****5678"
CARD = "6222021234567890123"
CARD_MASKED = "6222***********0123"
ENTERPRISE = "东宝区恒力水泥有限公司工会"
#: Every POST on a file, by its URL under /archive/<id>/.
ARCHIVE_ACTIONS = (
    "reveal",
    "file",
    "review",
    "out",
    "close",
    "plan",
    "propose-out",
    "propose-close",
    "proposal/approve",
    "proposal/reject",
    "proposal/withdraw",
    "reopen",
    "history",
)
IMPORT_HEADER = [
    "序号",
    "姓名",
    "身份证号码",
    "类别",
    "手机",
    "家庭月收入（元）",
    "家庭人口",
    "建档单位",
    "卡号",
]


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


# --- helpers ---------------------------------------------------------------------------------------------


def apply(
    world: World,
    *,
    name: str = "王建国",
    head: str = HEAD,
    phone: str = PHONE,
    reporter: str = "county_reporter",
    spouse: str = "",
    category: str = Household.Category.WORKER,
) -> Household:
    members = [MemberInput(name="李秀英", relation="配偶", id_number=spouse)] if spouse else []
    user = world.users[reporter]
    return household_apply(
        user=user,
        unit=user.account.unit,
        data=HouseholdInput(
            head_name=name,
            head_id_number=head,
            category=category,
            phone=phone,
            card_number=CARD,
            monthly_income=Decimal("2400"),
            household_size=3,
            members=members,
        ),
    )


def filed(world: World, **changes: Any) -> Household:
    household = apply(world, **changes)
    reviewer = "county_reviewer" if changes.get("reporter") == "enterprise_reporter" else "city_reviewer"
    return household_file(user=world.users[reviewer], household=household)


def grant_full_numbers(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def listed(response: Any) -> set[int]:
    return {household.pk for household in response.context["page"]}


def xlsx_rows(content: bytes) -> list[list[Any]]:
    """The records of an exported list (a title row and the header come first)."""
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python()
    assert rows[1][:3] == ["建档单位", "户主姓名", "身份证号"]
    return rows[2:]


def new_file_form(world: World, **changes: str) -> dict[str, str]:
    data = {
        "unit": str(world.county.pk),
        "head_name": "王建国",
        "head_id_number": HEAD,
        "category": Household.Category.WORKER,
        "phone": PHONE,
        "monthly_income": "2400",
        "household_size": "3",
        "minimum_living_line": "",
        "members-TOTAL_FORMS": "5",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "5",
    }
    data.update(changes)
    return data


# --- the list and search ---------------------------------------------------------------------------------


def test_the_list_masks_every_number_and_counts_the_households(world: World) -> None:
    household = apply(world, spouse=SPOUSE)
    response = world.client("county_reporter").get("/archive/")
    page = response.content.decode()
    assert response.status_code == 200
    assert HEAD_MASKED in page and PHONE_MASKED in page
    assert HEAD not in page and PHONE not in page and SPOUSE not in page
    assert "共 1 户" in page
    assert f'href="/archive/{household.pk}/"' in page
    for link in ("/archive/new/", "/archive/import/", "/archive/plan-gaps/", "/archive/yearly-review/"):
        assert f'href="{link}"' in page
    assert 'href="/archive/export.xlsx?"' in page or 'href="/archive/export.xlsx"' in page


@pytest.mark.parametrize(
    "query", ["王建", "wjg", "WJG", "002X", "002x", "1231002X", "138", PHONE, HEAD, SPOUSE]
)
def test_search_finds_the_household_by_name_initials_id_tail_phone_and_member(
    world: World, query: str
) -> None:
    wanted = apply(world, spouse=SPOUSE)
    other = apply(world, name="赵敏", head="110105198001010016", phone="13900001111")
    response = world.client("county_reporter").get("/archive/", {"q": query})
    assert listed(response) == {wanted.pk}, query
    assert other.head_name not in response.content.decode()


def test_filters_by_unit_category_and_status_and_pages_by_fifty(world: World) -> None:
    for number, generated in enumerate(households(51, seed=11)):
        apply(
            world,
            name=generated.name,
            head=generated.id_number,
            phone=generated.phone,
            reporter="enterprise_reporter" if number == 0 else "county_reporter",
            category=Household.Category.MIGRANT if number < 3 else Household.Category.WORKER,
        )
    client = world.client("county_reviewer")
    first = client.get("/archive/")
    assert len(first.context["page"].object_list) == 50 and "共 51 户" in first.content.decode()
    assert len(client.get("/archive/", {"page": 2}).context["page"].object_list) == 1
    only_enterprise = client.get("/archive/", {"unit": world.enterprise.pk})
    assert {h.unit_id for h in only_enterprise.context["page"]} == {world.enterprise.pk}
    assert only_enterprise.context["page"].paginator.count == 1
    migrants = client.get("/archive/", {"category": Household.Category.MIGRANT})
    assert migrants.context["page"].paginator.count == 3
    assert client.get("/archive/", {"status": Household.Status.FILED}).context["page"].paginator.count == 0
    # The export follows the same filter.
    exported = client.get("/archive/export.xlsx", {"category": Household.Category.MIGRANT})
    assert len(xlsx_rows(exported.content)) == 3
    # A unit the user may not see is not a filter that widens anything.
    sibling = client.get("/archive/", {"unit": world.sibling.pk})
    assert sibling.context["form"].errors and sibling.context["page"].paginator.count == 51


# --- who sees which file ---------------------------------------------------------------------------------


def test_a_sibling_unit_sees_nothing_of_another_units_file(world: World) -> None:
    household = filed(world)
    grant_full_numbers(world.users["sibling_reporter"])
    sibling = world.client("sibling_reporter")
    assert sibling.get(f"/archive/{household.pk}/").status_code == 404
    assert sibling.get(f"/archive/{household.pk}/history/").status_code == 404
    for action in ARCHIVE_ACTIONS:
        assert sibling.post(f"/archive/{household.pk}/{action}/", {"reason": "x"}).status_code == 404
    assert listed(sibling.get("/archive/")) == set()
    assert listed(sibling.get("/archive/", {"q": HEAD})) == set()
    assert xlsx_rows(sibling.get("/archive/export.xlsx", {"full": "1"}).content) == []
    assert not PersonalDataView.objects.exists()
    household.refresh_from_db()
    assert household.status == Household.Status.FILED


def test_the_unit_above_sees_the_file_the_unit_below_does_not(world: World) -> None:
    household = apply(world)
    above = world.client("city_reviewer").get(f"/archive/{household.pk}/")
    assert above.status_code == 200
    page = above.content.decode()
    assert "王建国" in page and HEAD_MASKED in page and PHONE_MASKED in page and "东宝区总工会" in page
    assert HEAD not in page and PHONE not in page  # the reviewer above has no permission for full numbers
    below = world.client("enterprise_reporter").get(f"/archive/{household.pk}/")
    assert below.status_code == 404 and "王建国" not in below.content.decode()


# --- who may do what on a file: the permission matrix ----------------------------------------------------

#: Each role acts from the county (东宝区) on a file of: its own unit, the enterprise below, the sibling, the
#: city above. For pages the cell is the status code (404: a file the user may not see is not found); for an
#: action it is what happened (the request is redirected back to the file): filed, rev (reviewed), out,
#: closed, prop (proposed), ok (the proposal approved: closed), back (the proposal rejected), wdrn
#: (withdrawn), reop (reopened), saved; refu is a redirect with the service's Chinese refusal (the unit's own
#: staff may only propose: p-out, p-close). 403, 404 and refu always mean nothing changed.
ARCHIVE_MATRIX = """
role     target  detail history file  review out  close  p-out p-close approve reject withdraw reopen plan
reporter own     200    200     403   403    refu refu   prop  prop    403     403    wdrn     403    saved
reporter below   404    404     404   404    404  404    404   404     404     404    404      404    404
reporter sibling 404    404     404   404    404  404    404   404     404     404    404      404    404
reporter above   404    404     404   404    404  404    404   404     404     404    404      404    404
reviewer own     200    200     403   403    403  403    403   403     403     403    403      403    403
reviewer below   200    200     filed rev    out  closed 403   403     ok      back   403      reop   saved
reviewer sibling 404    404     404   404    404  404    404   404     404     404    404      404    404
reviewer above   404    404     404   404    404  404    404   404     404     404    404      404    404
admin    own     200    200     403   403    refu refu   prop  prop    403     403    wdrn     403    saved
admin    below   200    200     filed rev    out  closed 403   403     ok      back   403      reop   saved
admin    sibling 404    404     404   404    404  404    404   404     404     404    404      404    404
admin    above   404    404     404   404    404  404    404   404     404     404    404      404    404
"""
ARCHIVE_ROLES = {"reporter": "county_reporter", "reviewer": "county_reviewer", "admin": "county_admin"}
#: Who applies for a file of each target unit (its own reporter or admin).
ARCHIVE_FILERS = {
    "own": "county_reporter",
    "below": "enterprise_reporter",
    "sibling": "sibling_reporter",
    "above": "city_admin",
}
#: The state a file must be in for the action to be possible at all ("pending": filed, with a proposal).
ARCHIVE_NEEDS = {
    "file": "applied",
    "approve": "pending",
    "reject": "pending",
    "withdraw": "pending",
    "reopen": "closed",
}
ARCHIVE_POSTS: dict[str, tuple[str, dict[str, str]]] = {  # action → URL under /archive/<id>/, the form
    "file": ("file/", {}),
    "review": ("review/", {"note": "仍困难"}),
    "out": ("out/", {"path": "employment", "on": "2018-06-01"}),
    "close": ("close/", {"reason": "迁出本市", "on": "2018-03-01"}),
    "p-out": ("propose-out/", {"path": "employment", "on": "2018-06-01"}),
    "p-close": ("propose-close/", {"reason": "迁出本市", "on": "2018-03-01"}),
    "approve": ("proposal/approve/", {"note": "同意"}),
    "reject": ("proposal/reject/", {"reason": "情况未变"}),
    "withdraw": ("proposal/withdraw/", {}),
    "reopen": ("reopen/", {"reason": "注销有误"}),
    "plan": ("plan/", {"contact": "市总 李红"}),
}


def archive_matrix_cases() -> list[Any]:
    heading, *rows = [line.split() for line in ARCHIVE_MATRIX.strip().splitlines()]
    cases = []
    for role, target, *cells in rows:
        for action, cell in zip(heading[2:], cells, strict=True):
            expected: int | str = int(cell) if cell.isdigit() else cell
            cases.append(pytest.param(role, target, action, expected, id=f"{role}-{target}-{action}"))
    return cases


def archive_state(household: Household) -> tuple[Any, ...]:
    household.refresh_from_db()
    return (
        household.status,
        household.last_reviewed_at,
        Plan.objects.get(household=household).contact,
        list(Proposal.objects.filter(household=household).values_list("state", flat=True)),
        HouseholdEvent.objects.filter(household=household).count(),
    )


@pytest.mark.parametrize(("role", "target", "action", "expected"), archive_matrix_cases())
def test_archive_permission_matrix(
    world: World, role: str, target: str, action: str, expected: int | str
) -> None:
    admin = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    )
    world.users["county_admin"] = admin.user
    filer = world.users[ARCHIVE_FILERS[target]]
    household = household_apply(
        user=filer,
        unit=filer.account.unit,
        data=HouseholdInput(head_name="王建国", head_id_number=HEAD, category=Household.Category.WORKER),
    )
    need = ARCHIVE_NEEDS.get(action, "filed")
    if need != "applied":  # set up directly: whoever is above the target files it
        Household.objects.filter(pk=household.pk).update(status="filed", filed_at=FROZEN_NOW)
    if need == "pending":
        Proposal.objects.create(
            household=household, kind="close", reason="迁出本市", on=dt.date(2018, 3, 1), proposed_by=filer
        )
    if need == "closed":
        Household.objects.filter(pk=household.pk).update(
            status="closed", closed_reason="误", ended_on=dt.date(2018, 3, 1)
        )
        OpenIdentity.objects.filter(household=household).delete()
    before = archive_state(household)
    client = world.client(ARCHIVE_ROLES[role])

    if action in ("detail", "history"):
        response = client.get(f"/archive/{household.pk}/{'' if action == 'detail' else 'history/'}")
    else:
        suffix, data = ARCHIVE_POSTS[action]
        response = client.post(f"/archive/{household.pk}/{suffix}", data)

    after = archive_state(household)
    if isinstance(expected, int):
        assert response.status_code == expected
        if expected != 200:
            assert after == before
            assert household.head_name not in response.content.decode()  # nothing of the file leaks
        return
    assert response.status_code == 302 and response["Location"] == f"/archive/{household.pk}/"
    messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    if expected == "refu":
        assert after == before
        assert any("须由上级工会审核确认" in m for m in messages), messages
        return
    status, reviewed_at, contact, proposals, events = after
    assert events == before[-1] + 1  # one change, one event
    last = HouseholdEvent.objects.filter(household=household).order_by("-id").first()
    assert last is not None and last.user == world.users[ARCHIVE_ROLES[role]]
    outcome = {
        "filed": status == "filed" and before[0] == "applied",
        "rev": reviewed_at is not None and reviewed_at != before[1],
        "out": status == "out",
        "closed": status == "closed",
        "prop": proposals == ["pending"],
        "ok": status == "closed" and proposals == ["approved"],
        "back": status == "filed" and proposals == ["rejected"],
        "wdrn": status == "filed" and proposals == ["withdrawn"],
        "reop": status == "filed" and before[0] == "closed",
        "saved": contact == "市总 李红",
    }
    assert outcome[str(expected)], (after, messages)


# --- full numbers ----------------------------------------------------------------------------------------


def test_revealing_without_the_permission_is_refused_and_not_logged(world: World) -> None:
    household = apply(world, spouse=SPOUSE)
    client = world.client("county_reviewer")
    detail = client.get(f"/archive/{household.pk}/").content.decode()
    assert HEAD_MASKED in detail and SPOUSE_MASKED in detail and CARD_MASKED in detail
    assert HEAD not in detail and CARD not in detail
    assert 'id="reveal-form"' not in detail and 'id="access-log"' not in detail
    assert client.post(f"/archive/{household.pk}/reveal/").status_code == 403
    assert client.get(f"/archive/{household.pk}/reveal/").status_code == 405
    assert not PersonalDataView.objects.exists()


def test_revealing_with_the_permission_shows_the_numbers_and_logs_the_view(world: World) -> None:
    household = apply(world, spouse=SPOUSE)
    grant_full_numbers(world.users["county_reviewer"])
    client = world.client("county_reviewer")
    detail = client.get(f"/archive/{household.pk}/").content.decode()
    assert 'id="reveal-form"' in detail and HEAD not in detail
    assert "还没有人查看过完整号码" in detail
    revealed = client.post(f"/archive/{household.pk}/reveal/")
    page = revealed.content.decode()
    assert revealed.status_code == 200
    assert HEAD in page and SPOUSE in page and PHONE in page and CARD in page
    assert "no-store" in revealed["Cache-Control"]
    (view,) = PersonalDataView.objects.all()
    assert (view.user, view.household, view.via) == (
        world.users["county_reviewer"],
        household,
        PersonalDataView.Via.PAGE,
    )
    again = client.get(f"/archive/{household.pk}/").content.decode()
    assert HEAD not in again  # masked again on the next visit
    listing = client.get("/archive/").content.decode()
    assert HEAD_MASKED in listing and HEAD not in listing and PHONE not in listing  # the list: always masked
    log = again[again.index('id="access-log"') :]
    assert "county_reviewer" in log and "档案页面" in log


def test_export_is_masked_unless_full_numbers_are_asked_for_with_the_permission(
    world: World, frozen_now: dt.datetime
) -> None:
    first = apply(world)
    second = apply(world, name="赵敏", head="110105198001010016", phone="13900001111")
    client = world.client("county_reviewer")
    masked = client.get("/archive/export.xlsx")
    assert masked["Content-Type"].startswith("application/vnd.openxmlformats")
    # Named after the day in China (00:30 there, still the day before in UTC).
    assert "filename*=utf-8''" + quote("困难职工档案_2026-12-02.xlsx") in masked["Content-Disposition"]
    rows = xlsx_rows(masked.content)
    assert {row[2] for row in rows} == {HEAD_MASKED, "1101**********0016"}
    assert PHONE_MASKED in {row[8] for row in rows}
    assert client.get("/archive/export.xlsx", {"full": "1"}).status_code == 403
    assert not PersonalDataView.objects.exists()

    grant_full_numbers(world.users["county_reviewer"])
    full = client.get("/archive/export.xlsx", {"full": "1", "q": "wjg"})
    (row,) = xlsx_rows(full.content)
    assert (row[1], row[2], row[8], row[16]) == ("王建国", HEAD, PHONE, CARD)
    (view,) = PersonalDataView.objects.all()
    assert (view.household, view.via) == (first, PersonalDataView.Via.EXPORT)
    client.get("/archive/export.xlsx", {"full": "1"})
    assert set(PersonalDataView.objects.values_list("household", flat=True)) == {first.pk, second.pk}
    assert PersonalDataView.objects.count() == 3


# --- a new file ------------------------------------------------------------------------------------------


def test_a_reporter_applies_with_a_member_and_the_reviewer_above_files_and_reviews_it(world: World) -> None:
    reporter = world.client("county_reporter")
    form = reporter.get("/archive/new/")
    assert form.status_code == 200
    assert [unit.pk for unit in form.context["form"].fields["unit"].queryset] == [world.county.pk]
    response = reporter.post(
        "/archive/new/",
        new_file_form(
            world,
            **{
                "secondary_cause_1": "子女教育",
                "card_kind": Household.CardKind.UNION_CARD,
                "card_number": CARD,
                "members-0-name": "王小明",
                "members-0-relation": "子",
                "members-0-id_number": SPOUSE,
                "members-0-monthly_income": "",
                "members-0-school_or_employer": "荆门市第一中学",
            },
        ),
        follow=True,
    )
    household = Household.objects.get()
    assert response.redirect_chain[-1][0] == f"/archive/{household.pk}/"
    assert "等待上级审核建档" in " ".join(messages_of(response))
    assert (household.status, household.unit, household.secondary_causes) == (
        Household.Status.APPLIED,
        world.county,
        ["子女教育"],
    )
    (member,) = Member.objects.filter(household=household)
    assert (member.name, member.id_number, member.monthly_income) == ("王小明", SPOUSE, None)
    assert household.monthly_income == Decimal("2400") and household.minimum_living_line is None
    page = response.content.decode()
    assert SPOUSE_MASKED in page and SPOUSE not in page

    # The reporter itself and the reviewer of the same unit may not file it; the reviewer above may.
    assert 'id="file-form"' not in page
    assert reporter.post(f"/archive/{household.pk}/file/").status_code == 403
    assert world.client("county_reviewer").post(f"/archive/{household.pk}/file/").status_code == 403
    household.refresh_from_db()
    assert household.status == Household.Status.APPLIED
    city = world.client("city_reviewer")
    assert 'id="file-form"' in city.get(f"/archive/{household.pk}/").content.decode()
    filed_page = city.post(f"/archive/{household.pk}/file/", follow=True)
    assert "已审核建档" in " ".join(messages_of(filed_page))
    household.refresh_from_db()
    assert (
        household.status == Household.Status.FILED and household.reviewed_by == world.users["city_reviewer"]
    )
    assert "已建档" in filed_page.content.decode()

    # Filing again is refused with the service's reason; the yearly review is the next step.
    again = city.post(f"/archive/{household.pk}/file/", follow=True)
    assert "只有已申请的档案可以审核建档" in " ".join(messages_of(again))
    before = household.last_reviewed_at
    reviewed = city.post(f"/archive/{household.pk}/review/", follow=True)
    assert "年审" in " ".join(messages_of(reviewed))
    household.refresh_from_db()
    assert before is not None and household.last_reviewed_at is not None
    assert household.last_reviewed_at > before


def test_blank_is_not_zero_and_bad_numbers_get_chinese_field_errors(world: World) -> None:
    reporter = world.client("county_reporter")
    refused = reporter.post(
        "/archive/new/",
        new_file_form(world, monthly_income="三千", household_size="两", **{"members-0-name": "王小明"}),
    )
    assert refused.status_code == 400
    errors = refused.context["form"].errors
    assert "请填写数字" in errors["monthly_income"][0] and "请填写整数" in errors["household_size"][0]
    member_errors = refused.context["members"].forms[0].errors
    assert "relation" in member_errors  # a member row begun needs its relation
    assert not Household.objects.exists()

    reporter.post("/archive/new/", new_file_form(world, monthly_income="", household_size=""))
    household = Household.objects.get()
    assert household.monthly_income is None and household.income_per_person is None
    assert household.household_size == 1


def test_a_bad_id_number_is_refused_on_the_form_with_the_reason(world: World) -> None:
    response = world.client("county_reporter").post(
        "/archive/new/", new_file_form(world, head_id_number="110105194912310021")
    )
    assert response.status_code == 400
    assert "校验位" in " ".join(response.context["form"].non_field_errors())
    assert not Household.objects.exists()


def test_filing_the_same_person_twice_is_refused_beside_the_id_naming_no_one_unseen(world: World) -> None:
    apply(world)
    response = world.client("sibling_reporter").post(
        "/archive/new/", new_file_form(world, unit=str(world.sibling.pk), head_name="王建国")
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert not form.non_field_errors()
    (error,) = form.errors["head_id_number"]  # beside the head's ID field, not at the top
    assert error == f"身份证号 {HEAD_MASKED} 已在其他单位的困难职工档案中，一户只能建一份档案"
    assert "东宝区总工会" not in response.content.decode()
    assert Household.objects.count() == 1


def test_a_unit_the_user_may_not_file_in_is_not_a_choice(world: World) -> None:
    response = world.client("county_reporter").post(
        "/archive/new/", new_file_form(world, unit=str(world.sibling.pk))
    )
    assert response.status_code == 400 and "unit" in response.context["form"].errors
    assert not Household.objects.exists()


def test_a_reviewer_above_files_a_new_household_at_once(world: World) -> None:
    """A reviewer is offered the units below (not its own) and its new file needs no second review."""
    client = world.client("county_reviewer")
    offered = client.get("/archive/new/").context["form"].fields["unit"].queryset
    assert [unit.pk for unit in offered] == [world.enterprise.pk]
    response = client.post("/archive/new/", new_file_form(world, unit=str(world.enterprise.pk)), follow=True)
    household = Household.objects.get()
    assert (household.unit, household.status) == (world.enterprise, Household.Status.FILED)
    assert household.reviewed_by == world.users["county_reviewer"] and household.filed_at is not None
    assert "已为“" in " ".join(messages_of(response))
    city = world.client("city_reviewer").get("/archive/new/")
    assert [unit.pk for unit in city.context["form"].fields["unit"].queryset] == [
        world.county.pk,
        world.enterprise.pk,
        world.sibling.pk,
    ]
    sibling = world.client("sibling_reporter").get("/archive/new/")
    assert [unit.pk for unit in sibling.context["form"].fields["unit"].queryset] == [world.sibling.pk]
    assert 'name="head_id_number"' in sibling.content.decode()


# --- the plan, leaving difficulty, closing ---------------------------------------------------------------


def test_the_plan_report_lists_a_filed_household_until_its_plan_is_complete(world: World) -> None:
    household = filed(world)
    apply(world, name="赵敏", head="110105198001010016", phone="13900001111")  # applied only: not listed
    client = world.client("county_reporter")
    report = client.get("/archive/plan-gaps/")
    ((unit, rows),) = report.context["gaps"]
    assert unit == world.county and [gap.household for gap in rows] == [household]
    assert rows[0].missing == ["联系人（单位）", "期限", "措施", "路径"]
    assert f'href="/archive/{household.pk}/"' in report.content.decode()

    partly = client.post(
        f"/archive/{household.pk}/plan/",
        {"contact": "东宝区总工会 李红", "deadline": "2018-12-31", "measures": "", "path": ""},
        follow=True,
    )
    assert "还缺：措施、路径" in " ".join(messages_of(partly))
    assert client.get("/archive/plan-gaps/").context["gaps"][0][1][0].missing == ["措施", "路径"]

    bad_date = client.post(f"/archive/{household.pk}/plan/", {"deadline": "年底"}, follow=True)
    assert "请填写日期" in " ".join(messages_of(bad_date))
    complete = client.post(
        f"/archive/{household.pk}/plan/",
        {
            "contact": "东宝区总工会 李红",
            "deadline": "2018-12-31",
            "measures": "介绍到环卫所就业",
            "path": Household.OutPath.EMPLOYMENT,
        },
        follow=True,
    )
    assert "四明确已齐全" in " ".join(messages_of(complete))
    plan = Plan.objects.get(household=household)
    assert (plan.deadline, plan.path) == (dt.date(2018, 12, 31), "employment")
    assert client.get("/archive/plan-gaps/").context["gaps"] == []


def test_closing_needs_a_reason_and_leaving_difficulty_a_path(world: World, frozen_now: dt.datetime) -> None:
    """The reviewer above ends a file directly (the unit's own reporter may only propose it: below)."""
    household = filed(world)
    client = world.client("city_reviewer")
    detail = client.get(f"/archive/{household.pk}/").content.decode()
    # The date pickers start at today in China (not UTC's date), as ISO dates they can read.
    assert 'type="date" name="on" value="2026-12-02"' in detail and 'id="close-on"' in detail
    assert "2026-12-01" not in detail
    no_reason = client.post(
        f"/archive/{household.pk}/close/", {"reason": " ", "on": "2018-03-01"}, follow=True
    )
    assert "注销须写明原因" in " ".join(messages_of(no_reason))
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and household.ended_on is None

    no_path = client.post(f"/archive/{household.pk}/out/", {"path": "", "on": "2018-06-01"}, follow=True)
    assert "请选择脱困路径" in " ".join(messages_of(no_path))
    out = client.post(
        f"/archive/{household.pk}/out/",
        {"path": Household.OutPath.SOCIAL_INSURANCE, "on": "2018-06-01"},
        follow=True,
    )
    assert "解困脱困" in " ".join(messages_of(out))
    household = Household.objects.get(pk=household.pk)  # (not refresh_from_db: mypy kept the narrowing)
    assert (household.status, household.out_path, household.ended_on) == (
        Household.Status.OUT,
        "social-insurance",
        dt.date(2018, 6, 1),
    )
    page = out.content.decode()
    assert 'id="close-form"' not in page and 'id="out-form"' not in page and "纳入社会保险" in page
    assert 'id="reopen-form"' in page  # ended by mistake? the reviewer above may reopen it

    other = apply(world, name="赵敏", head="110105198001010016", phone="13900001111")
    closed = client.post(
        f"/archive/{other.pk}/close/", {"reason": "迁出本市", "on": "2018-03-01"}, follow=True
    )
    assert "已注销" in " ".join(messages_of(closed))
    other.refresh_from_db()
    assert (other.status, other.closed_reason) == (Household.Status.CLOSED, "迁出本市")
    assert "迁出本市" in closed.content.decode()


def test_the_reporter_proposes_and_the_reviewer_above_rejects_or_approves(
    world: World, frozen_now: dt.datetime
) -> None:
    household = filed(world)
    reporter = world.client("county_reporter")
    url = f"/archive/{household.pk}"
    today = FROZEN_TODAY.isoformat()
    detail = reporter.get(f"{url}/").content.decode()
    assert 'id="propose-out-form"' in detail and 'id="propose-close-form"' in detail
    assert (
        'id="out-form"' not in detail and 'id="close-form"' not in detail and 'id="reopen-form"' not in detail
    )
    assert f'type="date" name="on" value="{today}"' in detail and 'id="propose-close-on"' in detail

    # Directly: refused with the reason, nothing changes.
    direct = reporter.post(f"{url}/close/", {"reason": "迁出本市", "on": "2018-03-01"}, follow=True)
    assert "注销档案须由上级工会审核确认" in " ".join(messages_of(direct))
    direct = reporter.post(f"{url}/out/", {"path": "employment", "on": "2018-03-01"}, follow=True)
    assert "解困脱困须由上级工会审核确认" in " ".join(messages_of(direct))
    no_reason = reporter.post(f"{url}/propose-close/", {"reason": "", "on": "2018-03-01"}, follow=True)
    assert "注销须写明原因" in " ".join(messages_of(no_reason))
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and not Proposal.objects.exists()

    # Proposed: the file stays filed, the proposal shows, a second one waits for the first.
    proposed = reporter.post(
        f"{url}/propose-out/", {"path": Household.OutPath.SOCIAL_INSURANCE, "on": "2018-06-01"}, follow=True
    )
    assert "等待上级审核" in " ".join(messages_of(proposed))
    page = proposed.content.decode()
    pending = page[page.index('id="pending-proposal"') :]
    assert "解困脱困" in pending and "纳入社会保险" in pending and "2018-06-01" in pending
    assert 'id="withdraw-form"' in page and 'id="approve-form"' not in page
    assert 'id="propose-out-form"' not in page and 'id="propose-close-form"' not in page
    household.refresh_from_db()
    assert household.status == Household.Status.FILED
    second = reporter.post(f"{url}/propose-close/", {"reason": "迁出本市", "on": "2018-03-01"}, follow=True)
    assert "已有待上级审核的解困脱困申请" in " ".join(messages_of(second))
    assert reporter.post(f"{url}/proposal/approve/").status_code == 403

    # The county's own reviewer sees it but does not decide it; the city's reviewer does.
    county = world.client("county_reviewer")
    assert 'id="approve-form"' not in county.get(f"{url}/").content.decode()
    assert county.post(f"{url}/proposal/approve/").status_code == 403
    city = world.client("city_reviewer")
    city_page = city.get(f"{url}/").content.decode()
    assert 'id="approve-form"' in city_page and 'id="reject-form"' in city_page
    no_reason = city.post(f"{url}/proposal/reject/", {"reason": " "}, follow=True)
    assert "退回申请须写明原因" in " ".join(messages_of(no_reason))
    rejected = city.post(f"{url}/proposal/reject/", {"reason": "仍无稳定收入"}, follow=True)
    assert "已退回" in " ".join(messages_of(rejected))
    household.refresh_from_db()
    assert household.status == Household.Status.FILED
    assert Proposal.objects.get().state == Proposal.State.REJECTED

    reporter.post(f"{url}/propose-close/", {"reason": "户主迁出本市", "on": "2018-03-01"})
    approved = city.post(f"{url}/proposal/approve/", {"note": "已核实"}, follow=True)
    assert "已同意申请" in " ".join(messages_of(approved))
    household.refresh_from_db()
    assert (household.status, household.closed_reason, household.ended_on) == (
        Household.Status.CLOSED,
        "户主迁出本市",
        dt.date(2018, 3, 1),
    )
    actions = [row.event.action for row in city.get(f"{url}/history/").context["rows"]]
    assert actions == [  # newest first
        "closed",
        "close-proposed",
        "proposal-rejected",
        "out-proposed",
        "filed",
        "applied",
    ]


def test_a_reviewer_above_reopens_a_file_closed_by_mistake(world: World) -> None:
    household = filed(world)
    city = world.client("city_reviewer")
    city.post(f"/archive/{household.pk}/close/", {"reason": "误操作", "on": "2018-03-01"})
    assert world.client("county_reporter").post(f"/archive/{household.pk}/reopen/").status_code == 403
    no_reason = city.post(f"/archive/{household.pk}/reopen/", {"reason": ""}, follow=True)
    assert "恢复档案须写明原因" in " ".join(messages_of(no_reason))
    reopened = city.post(f"/archive/{household.pk}/reopen/", {"reason": "注销有误"}, follow=True)
    assert "已恢复" in " ".join(messages_of(reopened))
    household.refresh_from_db()
    assert (household.status, household.closed_reason, household.ended_on) == (
        Household.Status.FILED,
        "",
        None,
    )
    assert 'id="close-form"' in reopened.content.decode()


# --- a file's history ------------------------------------------------------------------------------------


def test_the_history_page_lists_every_change_in_beijing_time_with_numbers_masked(world: World) -> None:
    household = apply(world, spouse=SPOUSE)
    household_file(user=world.users["city_reviewer"], household=household)
    plan_set(
        user=world.users["county_reporter"],
        household=household,
        contact="李红",
        deadline=dt.date(2018, 12, 31),
        measures="",
        path="",
    )
    household_review_yearly(user=world.users["city_admin"], household=household, note="仍困难")
    reporter = world.client("county_reporter")
    detail = reporter.get(f"/archive/{household.pk}/").content.decode()
    assert f'href="/archive/{household.pk}/history/"' in detail

    response = reporter.get(f"/archive/{household.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = response.context["rows"]
    assert [(row.event.action, row.who) for row in rows] == [
        ("yearly-review", "city_admin"),
        ("plan-changed", "county_reporter"),
        ("filed", "city_reviewer"),
        ("member-added", "county_reporter"),
        ("applied", "county_reporter"),
    ]
    for event in HouseholdEvent.objects.all():
        assert timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert "仍困难" in page and "李红" in page and "2018-12-31" in page and "帮扶联系人（单位）" in page
    assert "审核建档" in page and "已申请" in page and "已建档" in page  # actions and statuses in Chinese
    assert HEAD_MASKED in page and SPOUSE_MASKED in page and PHONE_MASKED in page and CARD_MASKED in page
    assert HEAD not in page and SPOUSE not in page and PHONE not in page and CARD not in page
    assert 'id="reveal-form"' not in page
    assert reporter.post(f"/archive/{household.pk}/history/").status_code == 403
    assert not PersonalDataView.objects.exists()

    # With the permission: masked until asked for; then in full, and the view is logged.
    grant_full_numbers(world.users["county_reviewer"])
    reviewer = world.client("county_reviewer")
    masked = reviewer.get(f"/archive/{household.pk}/history/").content.decode()
    assert 'id="reveal-form"' in masked and HEAD not in masked
    full = reviewer.post(f"/archive/{household.pk}/history/")
    assert full.status_code == 200 and "no-store" in full["Cache-Control"]
    shown = full.content.decode()
    assert HEAD in shown and SPOUSE in shown and PHONE in shown and CARD in shown
    (view,) = PersonalDataView.objects.all()
    assert (view.user, view.household, view.via) == (
        world.users["county_reviewer"],
        household,
        PersonalDataView.Via.PAGE,
    )

    # The same visibility as the file: another unit's reporter, the unit below: not found.
    grant_full_numbers(world.users["sibling_reporter"])
    for name in ("sibling_reporter", "enterprise_reporter"):
        other = world.client(name)
        assert other.get(f"/archive/{household.pk}/history/").status_code == 404
        assert other.post(f"/archive/{household.pk}/history/").status_code == 404
    assert PersonalDataView.objects.count() == 1


def test_a_reporter_of_the_unit_below_may_not_close_the_countys_file(world: World) -> None:
    household = apply(world, reporter="enterprise_reporter")
    county_file = apply(world, name="赵敏", head="110105198001010016", phone="13900001111")
    enterprise = world.client("enterprise_reporter")
    assert (
        enterprise.post(f"/archive/{county_file.pk}/close/", {"reason": "x", "on": "2018-03-01"}).status_code
        == 404
    )
    county = world.client("county_reporter")  # sees only its own unit's files
    assert (
        county.post(f"/archive/{household.pk}/close/", {"reason": "x", "on": "2018-03-01"}).status_code == 404
    )
    above = world.client("city_reviewer")  # the reviewer above keeps the county's plan with it
    assert above.post(f"/archive/{county_file.pk}/plan/", {"contact": "市总"}).status_code == 302
    assert Plan.objects.get(household=county_file).contact == "市总"


# --- the yearly review -----------------------------------------------------------------------------------


def test_the_yearly_reviews_due_are_listed_with_a_button_for_the_reviewer_above(
    world: World, frozen_now: dt.datetime
) -> None:
    due = filed(world)
    recent = filed(world, name="赵敏", head="110105198001010016", phone="13900001111")
    # Due: last reviewed before the start (in China) of the same day a year ago: 2025-12-02 00:00 there.
    a_year_ago = dt.datetime(2025, 12, 1, 16, 0, tzinfo=dt.UTC)
    long_ago = a_year_ago - dt.timedelta(seconds=1)
    Household.objects.filter(pk=due.pk).update(last_reviewed_at=long_ago, filed_at=long_ago)
    Household.objects.filter(pk=recent.pk).update(last_reviewed_at=a_year_ago, filed_at=a_year_ago)

    reporter_view = world.client("county_reporter").get("/archive/yearly-review/")
    assert [h.pk for h, _reviewable in reporter_view.context["rows"]] == [due.pk]
    assert "由上级工会年审" in reporter_view.content.decode()
    assert 'class="review-form"' not in reporter_view.content.decode()

    city = world.client("city_reviewer")
    page = city.get("/archive/yearly-review/")
    assert [(h.pk, reviewable) for h, reviewable in page.context["rows"]] == [(due.pk, True)]
    assert recent.head_name not in page.content.decode()
    done = city.post(f"/archive/{due.pk}/review/", {"next": "/archive/yearly-review/"}, follow=True)
    assert done.redirect_chain[-1][0] == "/archive/yearly-review/"
    assert "已完成“王建国”的年审" in " ".join(messages_of(done))
    assert done.context["rows"] == []
    # A "next" leading off the site is not followed.
    elsewhere = city.post(f"/archive/{due.pk}/review/", {"next": "https://example.com/"})
    assert elsewhere["Location"] == f"/archive/{due.pk}/"


# --- import ----------------------------------------------------------------------------------------------


def import_rows(count: int = 4, *, seed: int = 7) -> list[list[Any]]:
    """`count` good rows for the enterprise, then three bad ones (check digit, category, unknown unit)."""
    rows: list[list[Any]] = [
        [
            n + 1,
            h.name,
            h.id_number,
            h.category,
            h.phone,
            str(h.monthly_income),
            h.household_size,
            ENTERPRISE,
            "",
        ]
        for n, h in enumerate(households(count, seed=seed))
    ]
    rows.append([count + 1, "错校验", "110105194912310021", "困难职工", "", "", 1, ENTERPRISE, ""])
    rows.append([count + 2, "错类别", "110105198001010016", "低保户", "", "", 1, ENTERPRISE, ""])
    rows.append([count + 3, "错单位", SPOUSE, "困难职工", "", "", 1, "不存在的工会", ""])
    return rows


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["荆门市困难职工档案花名册"])
    writer.writerow(IMPORT_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("花名册")
    sheet.write_row(0, 0, IMPORT_HEADER)
    text = workbook.add_format({"num_format": "@"})
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(number, column, value, text)
            else:
                sheet.write_number(number, column, value)
    workbook.close()
    return buffer.getvalue()


def upload(client: Client, name: str, content: bytes, unit: Unit) -> Any:
    return client.post("/archive/import/", {"file": SimpleUploadedFile(name, content), "unit": unit.pk})


def chosen_mapping(page: Any) -> dict[str, str]:
    """What the mapping form sends as the browser shows it: each select at its preselected column."""
    form = page.context["form"]
    return {name: str(form[name].value() or "") for name in form.fields if name != "use_default_unit"}


def rejected_reasons(content: bytes) -> dict[int, str]:
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows = workbook.get_sheet_by_index(0).to_python()
    assert rows[1][:2] == ["原文件行号", "退回原因"]
    return {int(cast(float, row[0])): str(row[1]) for row in rows[2:]}


@pytest.mark.parametrize(
    ("name", "make", "first_row"), [("花名册.csv", csv_bytes, 3), ("花名册.xlsx", xlsx_bytes, 2)]
)
def test_an_import_end_to_end_with_good_and_bad_rows(
    world: World, name: str, make: Any, first_row: int
) -> None:
    client = world.client("county_reviewer")
    uploaded = upload(client, name, make(import_rows()), world.county)
    job = ImportJob.objects.get()
    assert uploaded.status_code == 302 and uploaded["Location"] == f"/archive/import/{job.pk}/"

    mapping_page = client.get(f"/archive/import/{job.pk}/")
    page = mapping_page.content.decode()
    assert job.state == ImportJob.State.MAPPING
    assert "身份证号码" in page and "B列：姓名" in page and 'id="earlier-imports"' not in page
    assert (
        "use_default_unit" not in mapping_page.context["form"].fields
    )  # a reviewer does not file its own unit
    chosen = chosen_mapping(mapping_page)
    assert chosen["head_name"] == "1" and chosen["head_id_number"] == "2" and chosen["unit"] == "7"

    done = client.post(f"/archive/import/{job.pk}/", chosen, follow=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert (job.created, job.existing, job.rejected) == (4, 0, 3)
    page = done.content.decode()
    assert 'id="import-done"' in page and 'id="count-created">4<' in page and 'id="count-rejected">3<' in page
    assert f'href="/archive/import/{job.pk}/rejected.xlsx"' in page
    assert Household.objects.filter(unit=world.enterprise, status=Household.Status.FILED).count() == 4

    rejected = client.get(f"/archive/import/{job.pk}/rejected.xlsx")
    assert "filename*=utf-8''" + quote("未导入的行_花名册.xlsx") in rejected["Content-Disposition"]
    reasons = rejected_reasons(rejected.content)
    last = first_row + 4
    assert "校验位" in reasons[last]
    assert "低保户" in reasons[last + 1]
    assert "不存在的工会" in reasons[last + 2]

    progress = client.get(f"/archive/import/{job.pk}/progress.json").json()
    assert (progress["state"], progress["created"], progress["rejected"]) == ("done", 4, 3)
    listing = client.get("/archive/import/").content.decode()
    assert name in listing and f'href="/archive/import/{job.pk}/"' in listing


def test_importing_the_same_file_again_warns_and_creates_nothing_new(world: World) -> None:
    client = world.client("county_reviewer")
    content = csv_bytes(import_rows())
    upload(client, "a.csv", content, world.county)
    first = ImportJob.objects.get()
    client.post(f"/archive/import/{first.pk}/", chosen_mapping(client.get(f"/archive/import/{first.pk}/")))
    upload(client, "a-again.csv", content, world.county)
    second = ImportJob.objects.exclude(pk=first.pk).get()
    mapping_page = client.get(f"/archive/import/{second.pk}/")
    assert "导入过；再次导入不会重复建档" in mapping_page.content.decode()
    done = client.post(f"/archive/import/{second.pk}/", chosen_mapping(mapping_page), follow=True)
    second.refresh_from_db()
    assert (second.created, second.existing) == (0, 4)
    assert 'id="count-existing">4<' in done.content.decode()
    assert Household.objects.count() == 4
    # The finished import cannot be started again.
    again = client.post(f"/archive/import/{second.pk}/", chosen_mapping(mapping_page), follow=True)
    assert "已经开始导入" in " ".join(messages_of(again))
    assert Household.objects.count() == 4


def test_a_reporter_imports_rows_without_a_unit_column_into_its_own_unit(world: World) -> None:
    client = world.client("enterprise_reporter")
    rows = [row[:7] for row in import_rows(2)[:2]]
    out = io.StringIO()
    csv.writer(out).writerows([IMPORT_HEADER[:7], *rows])
    upload(client, "own.csv", out.getvalue().encode(), world.enterprise)
    job = ImportJob.objects.get()
    page = client.get(f"/archive/import/{job.pk}/")
    assert "没有建档单位列的行导入到“东宝区恒力水泥有限公司工会”" in page.content.decode()
    assert page.context["form"]["use_default_unit"].value() is True
    refused = client.post(f"/archive/import/{job.pk}/", chosen_mapping(page))  # unchecked: no unit at all
    assert refused.status_code == 400 and "建档单位" in " ".join(refused.context["form"].non_field_errors())
    client.post(f"/archive/import/{job.pk}/", {**chosen_mapping(page), "use_default_unit": "on"})
    job.refresh_from_db()
    assert job.created == 2
    assert set(Household.objects.values_list("unit", "status")) == {(world.enterprise.pk, "applied")}


def test_a_mapping_without_a_required_column_is_refused_naming_it(world: World) -> None:
    client = world.client("county_reviewer")
    upload(client, "a.csv", csv_bytes(import_rows()), world.county)
    job = ImportJob.objects.get()
    chosen = chosen_mapping(client.get(f"/archive/import/{job.pk}/"))
    refused = client.post(f"/archive/import/{job.pk}/", {**chosen, "head_id_number": ""})
    assert refused.status_code == 400
    assert "请为这些项目选择所在的列：身份证号" in refused.content.decode()
    twice = client.post(f"/archive/import/{job.pk}/", {**chosen, "phone": chosen["head_name"]})
    assert "同一列不能对应两个项目" in twice.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING and not Household.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("名单.txt", b"hello", "不是可导入的文件"),
        ("empty.csv", b"", "文件是空的"),
        ("broken.xlsx", b"PK\x03\x04 damaged", "broken.xlsx："),
    ],
)
def test_an_unreadable_upload_gets_a_chinese_message(
    world: World, name: str, content: bytes, expected: str
) -> None:
    response = upload(world.client("county_reviewer"), name, content, world.county)
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["file"])
    assert expected in errors
    assert expected in response.content.decode()
    assert not ImportJob.objects.exists()


def test_someone_elses_import_is_not_found(world: World) -> None:
    owner = world.client("county_reviewer")
    upload(owner, "a.csv", csv_bytes(import_rows()), world.county)
    job = ImportJob.objects.get()
    owner.post(f"/archive/import/{job.pk}/", chosen_mapping(owner.get(f"/archive/import/{job.pk}/")))
    other = world.client("city_reviewer")  # sees the county, but the import is the county reviewer's own
    for suffix in ("", "progress.json", "rejected.xlsx"):
        assert other.get(f"/archive/import/{job.pk}/{suffix}").status_code == 404
    assert other.post(f"/archive/import/{job.pk}/", {}).status_code == 404
    assert job.file_name not in other.get("/archive/import/").content.decode()


def test_no_rejected_file_is_a_404(world: World) -> None:
    client = world.client("county_reviewer")
    upload(client, "good.csv", csv_bytes(import_rows()[:4]), world.county)
    job = ImportJob.objects.get()
    client.post(f"/archive/import/{job.pk}/", chosen_mapping(client.get(f"/archive/import/{job.pk}/")))
    job.refresh_from_db()
    assert (job.created, job.rejected) == (4, 0)
    assert client.get(f"/archive/import/{job.pk}/rejected.xlsx").status_code == 404


def test_a_running_import_shows_a_progress_bar_that_polls(world: World) -> None:
    client = world.client("county_reviewer")
    upload(client, "a.csv", csv_bytes(import_rows()), world.county)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    page = client.get(f"/archive/import/{job.pk}/").content.decode()
    assert "<progress" in page and f'data-progress-url="/archive/import/{job.pk}/progress.json"' in page
    assert "archive/import_progress.js" in page
    assert client.get(f"/archive/import/{job.pk}/progress.json").json()["state"] == "running"


# --- the admin -------------------------------------------------------------------------------------------


def test_the_admin_shows_the_archive_masked_and_read_only(world: World) -> None:
    household = apply(world, spouse=SPOUSE)
    plan_set(
        user=world.users["county_reporter"],
        household=household,
        contact="李红",
        deadline=None,
        measures="",
        path="",
    )
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="a-long-test-pass-phrase"))
    event = HouseholdEvent.objects.get(household=household, action=HouseholdEvent.Action.APPLIED)
    expected_lists: dict[str, list[Any]] = {
        "/admin/archive/household/": [household],
        "/admin/archive/importjob/": [],
        "/admin/archive/personaldataview/": [],
        "/admin/archive/householdevent/": list(HouseholdEvent.objects.order_by("-at", "-id")),
    }
    for url in (
        "/admin/archive/household/",
        f"/admin/archive/household/{household.pk}/change/",
        "/admin/archive/importjob/",
        "/admin/archive/personaldataview/",
        "/admin/archive/householdevent/",  # the audit trail: its values (with the numbers) are not shown
        f"/admin/archive/householdevent/{event.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert HEAD not in page and SPOUSE not in page and CARD not in page, url
        if "cl" in response.context:  # a change list: the records it lists
            listed = list(response.context["cl"].result_list)
            assert listed == expected_lists[url], url
        else:  # a change page: the record's own, masked; the audit trail's read-only
            assert "王建国" in page, url
            assert ('name="_save"' in page) == ("householdevent" not in url), url
    assert HEAD_MASKED in client.get("/admin/archive/household/").content.decode()
    assert client.get("/admin/archive/household/add/").status_code == 403
    assert client.get("/admin/archive/personaldataview/add/").status_code == 403
    assert client.get("/admin/archive/householdevent/add/").status_code == 403
