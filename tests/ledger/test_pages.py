"""The ledger's main pages: who may see and do what on each (the permission matrix), numbers masked unless
the permission, the record form's refusals beside their fields, warnings explained and approved, reversal,
evidence, the lists' filters, totals and Excel, the receipts page, the history."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import python_calamine
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import PersonalDataView
from songnuan.archive.services import HouseholdInput, household_apply, household_file
from songnuan.ledger.models import FundSource, HelpRecord, LedgerEvent, Receipt
from songnuan.ledger.services import allocate
from tests.ledger.ledgerworld import LedgerWorld, help_input, household, new_id_number, raise_money
from tests.matrix import matrix_cases

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# --- helpers ---------------------------------------------------------------------------------------------


def grant_full_numbers(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))


def unit_url(ledger: LedgerWorld, tail: str = "") -> str:
    world = ledger.world
    return f"/ledger/{world.campaign.pk}/{world.county.pk}/{tail}"


def form_data(**changes: Any) -> dict[str, Any]:
    """A valid central-fund card payment of 1,000 yuan to a household (give `household`)."""
    data: dict[str, Any] = {
        "recipient_kind": "household",
        "household_q": "",
        "name": "",
        "id_number": "",
        "person_category": "",
        "credit_code": "",
        "enterprise_kind": "",
        "item": "visit",
        "source": "central",
        "amount": "1000",
        "goods_description": "",
        "goods_quantity": "",
        "goods_value": "",
        "cost_basis": "",
        "channel": "union-card",
        "cash_reason": "",
        "card_number": "",
        "bank": "",
        "paid_on": "2018-01-25",
        "note": "",
        "explanation": "",
    }
    data.update(changes)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def xlsx_rows(content: bytes) -> list[list[Any]]:
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python()
    return rows[2:]


def ledger_state() -> tuple[Any, ...]:
    return (
        sorted(HelpRecord.objects.values_list("pk", "state", "amount", "explanation")),
        sorted(Receipt.objects.values_list("pk", "amount")),
        LedgerEvent.objects.exclude(action=LedgerEvent.Action.REFUSED).count(),
    )


# --- the permission matrix -------------------------------------------------------------------------------

#: Each role on the county's (东宝区) ledger. reporter: the county's own reporter; reviewer: a reviewer of the
#: city above; sibling: 钟祥's reporter; anon: nobody logged in. Cells: a status code (403 and 404 change
#: nothing, 302 for anon is the login page), or what happened: made, saved, gone, ok (approved), rev
#: (reversed), raised, given, undone (a receipt reversed). post-reveal: the full ID and card numbers.
MATRIX = """
action            reporter reviewer sibling anon
home              200      200      200     302
overview          200      200      403     302
records           200      200      403     302
records-export    200      200      403     302
record            200      200      404     302
record-evidence   200      200      404     302
record-new        200      403      403     302
record-edit       200      403      404     302
receipts          200      200      403     302
receipts-export   200      200      403     302
history           200      200      403     302
post-record-new   made     403      403     302
post-record-edit  saved    403      404     302
post-delete       gone     403      404     302
post-approve      403      ok       404     302
post-reverse      403      rev      404     302
post-receipt      raised   403      403     302
post-allocate     given    403      403     302
post-receipt-rev  undone   403      404     302
post-reveal       403      403      404     302
"""
ROLES = {"reporter": "county_reporter", "reviewer": "city_reviewer", "sibling": "sibling_reporter"}


@pytest.mark.parametrize(("action", "role", "expected"), matrix_cases(MATRIX))
def test_permission_matrix(ledger: LedgerWorld, action: str, role: str, expected: int | str) -> None:
    world = ledger.world
    draft = ledger.add(help_input(ledger.wang, amount=Decimal("500")))
    draft.evidence.save("roster.pdf", SimpleUploadedFile("roster.pdf", PDF), save=True)
    approved = ledger.approve(ledger.add(help_input(ledger.li, source="union", amount=Decimal("300"))))
    raise_money(world, world.county, "other", "800")
    receipt = Receipt.objects.filter(source__code="other").get()
    client = Client() if role == "anon" else world.client(ROLES[role])
    before = ledger_state()
    c, u = world.campaign.pk, world.county.pk
    gets = {
        "home": "/ledger/",
        "overview": f"/ledger/{c}/{u}/",
        "records": f"/ledger/{c}/{u}/records/",
        "records-export": f"/ledger/{c}/{u}/records/export.xlsx",
        "record": f"/ledger/records/{draft.pk}/",
        "record-evidence": f"/ledger/records/{draft.pk}/evidence/",
        "record-new": f"/ledger/{c}/{u}/records/new/",
        "record-edit": f"/ledger/records/{draft.pk}/edit/",
        "receipts": f"/ledger/{c}/{u}/receipts/",
        "receipts-export": f"/ledger/{c}/{u}/receipts/export.xlsx",
        "history": f"/ledger/{c}/{u}/history/",
    }
    posts = {
        "post-record-new": (f"/ledger/{c}/{u}/records/new/", form_data(household=ledger.wang.pk)),
        "post-record-edit": (
            f"/ledger/records/{draft.pk}/edit/",
            form_data(household=ledger.wang.pk, amount="600"),
        ),
        "post-delete": (f"/ledger/records/{draft.pk}/delete/", {}),
        "post-approve": (f"/ledger/records/{draft.pk}/approve/", {}),
        "post-reverse": (f"/ledger/records/{approved.pk}/reverse/", {"reason": "重复发放"}),
        "post-receipt": (
            f"/ledger/{c}/{u}/receipts/add/",
            {
                "receipt-source": FundSource.objects.get(code="donation").pk,
                "receipt-amount": "2000",
                "receipt-received_on": "2018-01-05",
            },
        ),
        "post-allocate": (
            f"/ledger/{c}/{u}/receipts/allocate/",
            {
                "allocation-taker": world.enterprise.pk,
                "allocation-source": FundSource.objects.get(code="union").pk,
                "allocation-amount": "1000",
                "allocation-on": "2018-01-06",
            },
        ),
        "post-receipt-rev": (f"/ledger/receipts/{receipt.pk}/reverse/", {"reason": "登记错误"}),
        # the full numbers need the personal-data permission on top of the role (none has it here; granted
        # in test_numbers_are_masked_everywhere_and_full_only_when_asked_for_and_logged)
        "post-reveal": (f"/ledger/records/{draft.pk}/reveal/", {}),
    }
    if action in gets:
        response = client.get(gets[action])
    else:
        url, data = posts[action]
        response = client.post(url, data)

    if role == "anon":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert ledger_state() == before
        return
    if isinstance(expected, int):
        assert response.status_code == expected, response.content.decode()[:2000]
        if expected != 200:
            assert ledger_state() == before
            assert "王建国" not in response.content.decode()
        return
    assert response.status_code == 302, response.content.decode()[:3000]
    draft_now = HelpRecord.objects.filter(pk=draft.pk).first()
    outcome = {
        "made": HelpRecord.objects.filter(state="draft", household=ledger.wang).count() == 2,
        "saved": draft_now is not None and draft_now.amount == Decimal("600.00"),
        "gone": draft_now is None,
        "ok": draft_now is not None and draft_now.state == "approved",
        "rev": HelpRecord.objects.filter(reverses=approved).exists(),
        "raised": Receipt.objects.filter(source__code="donation", amount=Decimal("2000")).exists(),
        "given": Receipt.objects.filter(unit=world.enterprise, kind="allocation").exists(),
        "undone": Receipt.objects.filter(reverses=receipt).exists(),
    }
    assert outcome[str(expected)], messages_of(response)


def test_the_login_page_is_where_anonymous_visitors_go(ledger: LedgerWorld) -> None:
    response = Client().get("/ledger/")
    assert response.status_code == 302 and "next=/ledger/" in response["Location"]


def test_a_unit_outside_the_campaign_or_unknown_is_not_found(ledger: LedgerWorld) -> None:
    world = ledger.world
    world.campaign.addressees.set([world.sibling])
    client = world.client("county_reporter")
    assert client.get(f"/ledger/{world.campaign.pk}/{world.county.pk}/").status_code == 404
    assert client.get(f"/ledger/9999/{world.county.pk}/").status_code == 404
    assert client.get("/ledger/records/9999/").status_code == 404


def test_the_reporter_of_the_unit_below_does_not_see_the_countys_ledger(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.add(help_input(ledger.wang))
    client = world.client("enterprise_reporter")
    assert client.get(unit_url(ledger)).status_code == 403
    assert client.get(f"/ledger/records/{record.pk}/").status_code == 404


# --- numbers masked unless the permission ----------------------------------------------------------------


@pytest.mark.parametrize("permitted", [False, True])
def test_numbers_are_masked_everywhere_and_full_only_when_asked_for_and_logged(
    ledger: LedgerWorld, permitted: bool
) -> None:
    world = ledger.world
    record = ledger.add(help_input(ledger.wang))
    ledger.add(help_input(ledger.wang, item="living"), unit=world.county)  # a second record: a refused edit
    user = world.users["county_reporter"]
    if permitted:
        grant_full_numbers(user)
    client = world.client("county_reporter")
    id_number, card = ledger.wang.head_id_number, ledger.wang.card_number
    masked_id, masked_card = mask_id_number(id_number), mask_card(card)
    record_url = f"/ledger/records/{record.pk}/"
    pages = [
        client.get(record_url).content.decode(),
        client.get(unit_url(ledger, "records/")).content.decode(),
        client.get(unit_url(ledger, "history/")).content.decode(),
    ]
    for page in pages:  # as in the archive: masked, whoever looks, until the full numbers are asked for
        assert masked_id in page and masked_card in page
        assert id_number not in page and card not in page
    rows = xlsx_rows(client.get(unit_url(ledger, "records/export.xlsx")).content)
    assert {row[4] for row in rows} == {masked_id} and {row[13] for row in rows} == {masked_card}
    assert ('id="reveal-form"' in pages[0]) is permitted

    revealed = client.post(f"/ledger/records/{record.pk}/reveal/")
    viewed = LedgerEvent.objects.filter(action=LedgerEvent.Action.NUMBERS_VIEWED, record=record)
    logged = PersonalDataView.objects.filter(household=ledger.wang, user=user)
    if not permitted:
        assert revealed.status_code == 403
        assert not viewed.exists() and not logged.exists()
        return
    page = revealed.content.decode()
    assert revealed.status_code == 200 and "no-cache" in revealed["Cache-Control"]
    assert id_number in page and card in page and 'id="full-numbers"' in page
    assert viewed.get().user == user  # in the record's history …
    assert logged.get().via == PersonalDataView.Via.PAGE  # … and in the archive's access log
    assert id_number not in client.get(record_url).content.decode()  # once, not from now on


def test_a_reviewer_above_with_the_permission_sees_full_numbers_a_sibling_never(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.add(help_input(ledger.wang))
    grant_full_numbers(world.users["city_reviewer"])
    grant_full_numbers(world.users["sibling_reporter"])
    page = world.client("city_reviewer").post(f"/ledger/records/{record.pk}/reveal/").content.decode()
    assert ledger.wang.head_id_number in page
    sibling = world.client("sibling_reporter").post(f"/ledger/records/{record.pk}/reveal/")
    assert sibling.status_code == 404 and ledger.wang.head_id_number not in sibling.content.decode()
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.NUMBERS_VIEWED).count() == 1


def test_a_person_not_on_file_is_logged_in_the_record_history_alone(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.add(
        help_input(
            recipient_kind=HelpRecord.RecipientKind.PERSON,
            name="孙强",
            id_number=new_id_number(),
            person_category=HelpRecord.PersonCategory.FRONTLINE,
            source="union",
            channel=HelpRecord.Channel.BANK_CARD,
            card_number="6222020200112233445",
            bank="中国工商银行",
            amount=Decimal("500.00"),
        )
    )
    grant_full_numbers(world.users["county_reviewer"])
    page = world.client("county_reviewer").post(f"/ledger/records/{record.pk}/reveal/").content.decode()
    assert record.id_number in page
    assert LedgerEvent.objects.get(action=LedgerEvent.Action.NUMBERS_VIEWED).record == record
    assert not PersonalDataView.objects.exists()


# --- the record form ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("一千", "金额“一千”不是数字"),
        ("-5", "金额应大于零"),
        ("0", "金额应大于零"),
        ("1.234", "最多两位小数"),
    ],
)
def test_a_bad_amount_is_refused_beside_the_field_and_nothing_is_written(
    ledger: LedgerWorld, amount: str, message: str
) -> None:
    client = ledger.world.client("county_reporter")
    events = LedgerEvent.objects.count()
    response = client.post(
        unit_url(ledger, "records/new/"), form_data(household=ledger.wang.pk, amount=amount)
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors["amount"]), form.errors
    assert message in response.content.decode()
    assert f'value="{amount}"' in response.content.decode()  # the input is kept
    assert not HelpRecord.objects.exists()
    # Stopped by the form, before the ledger: no change and no event at all.
    assert LedgerEvent.objects.count() == events


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {
                "recipient_kind": "person",
                "name": "孙立",
                "id_number": "11010519491231002X",
                "person_category": "frontline",
            },
            "source",
            "不是建档困难职工",
        ),
        ({"channel": "cash", "cash_reason": "老人无卡"}, "channel", "不得以现金发放"),
        ({"source": "union", "channel": "cash"}, "cash_reason", "现金发放须写明原因"),
    ],
)
def test_a_broken_rule_is_shown_beside_its_field_and_only_the_refusal_is_written(
    ledger: LedgerWorld, changes: dict[str, str], field: str, message: str
) -> None:
    client = ledger.world.client("county_reporter")
    before = ledger_state()
    response = client.post(unit_url(ledger, "records/new/"), form_data(household=ledger.wang.pk, **changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    page = response.content.decode()
    assert message in page and "这次尝试已记入台账变更记录" in page
    assert ledger_state() == before
    refused = LedgerEvent.objects.get(action=LedgerEvent.Action.REFUSED)
    assert message in refused.note and refused.user == ledger.world.users["county_reporter"]
    assert "11010519491231002X" not in str(refused.new)  # the ID number masked in the history too
    # The refused attempt is on the unit's history page.
    history = client.get(unit_url(ledger, "history/")).content.decode()
    assert "拒绝保存" in history and message in history


def test_the_archive_first_refusal_for_a_file_closed_before_the_payment(ledger: LedgerWorld) -> None:
    client = ledger.world.client("county_reporter")
    response = client.post(unit_url(ledger, "records/new/"), form_data(household=ledger.zhang.pk))
    assert response.status_code == 400
    assert any("已注销" in e for e in response.context["form"].errors["household"])
    assert not HelpRecord.objects.exists()


def test_finding_a_household_by_name_keeps_the_input_and_offers_the_file(ledger: LedgerWorld) -> None:
    client = ledger.world.client("county_reporter")
    response = client.post(
        unit_url(ledger, "records/new/"), form_data(household_q="王建国", amount="88", find="1")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{ledger.wang.pk}"' in page and mask_id_number(ledger.wang.head_id_number) in page
    assert 'value="88"' in page and not HelpRecord.objects.exists()
    # Enter in a field presses the first submit button: saving, not the archive search.
    assert page.index('class="default-submit"') < page.index('name="find"')
    tail = ledger.li.head_id_number[-4:]
    found = client.post(unit_url(ledger, "records/new/"), form_data(household_q=tail, find="1"))
    assert f'value="{ledger.li.pk}"' in found.content.decode()


def test_a_household_of_another_unit_cannot_be_posted(ledger: LedgerWorld) -> None:
    world = ledger.world
    other = household(world, "周强", unit=world.enterprise)
    sibling_file = household_file(
        user=world.users["city_reviewer"],
        household=household_apply(
            user=world.users["sibling_reporter"],
            unit=world.sibling,
            data=HouseholdInput(head_name="钱多", head_id_number=new_id_number(), category="worker"),
        ),
    )
    client = ledger.world.client("enterprise_reporter")
    url = f"/ledger/{ledger.world.campaign.pk}/{ledger.world.enterprise.pk}/records/new/"
    response = client.post(url, form_data(household=sibling_file.pk, source="union"))
    assert response.status_code == 400 and "household" in response.context["form"].errors
    assert other.pk  # a file of the unit itself is a choice (the search finds it)
    assert not HelpRecord.objects.exists()


def test_a_warning_is_explained_on_the_record_page_then_approved_and_reversed(ledger: LedgerWorld) -> None:
    world = ledger.world
    reporter = world.client("county_reporter")
    first = reporter.post(unit_url(ledger, "records/new/"), form_data(household=ledger.wang.pk))
    assert first.status_code == 302
    second = reporter.post(unit_url(ledger, "records/new/"), form_data(household=ledger.wang.pk), follow=True)
    record = HelpRecord.objects.order_by("-pk").first()
    assert record is not None and record.warnings
    page = second.content.decode()
    assert "是否重复发放" in page and 'id="explanation-form"' in page
    assert "须写明情况说明" in page
    reviewer = world.client("city_reviewer")
    review_page = reviewer.get(f"/ledger/records/{record.pk}/").content.decode()
    assert 'id="approve-refusal"' in review_page and 'id="approve-form"' not in review_page
    refused = reviewer.post(f"/ledger/records/{record.pk}/approve/")
    assert refused.status_code == 302 and any("情况说明" in m for m in messages_of(refused))
    explained = reporter.post(
        f"/ledger/records/{record.pk}/edit/", {"explanation_only": "1", "explanation": "春节、元旦各慰问一次"}
    )
    assert explained.status_code == 302
    record.refresh_from_db()
    assert record.explanation == "春节、元旦各慰问一次" and record.state == "draft"
    # The preparer may not approve its own record: the county's reporter has no approval at all anyway.
    page = reviewer.get(f"/ledger/records/{record.pk}/").content.decode()
    assert 'id="approve-form"' in page and "data-confirm" in page
    assert reviewer.post(f"/ledger/records/{record.pk}/approve/").status_code == 302
    record.refresh_from_db()
    assert record.state == "approved" and record.approved_by == world.users["city_reviewer"]
    detail = reporter.get(f"/ledger/records/{record.pk}/").content.decode()
    assert 'id="edit-form"' not in detail and 'id="delete-form"' not in detail
    assert reporter.post(f"/ledger/records/{record.pk}/delete/").status_code == 302
    assert HelpRecord.objects.filter(pk=record.pk).exists()
    no_reason = reviewer.post(f"/ledger/records/{record.pk}/reverse/", {"reason": ""})
    assert any("冲销须写明原因" in m for m in messages_of(no_reason))
    reversed_ = reviewer.post(f"/ledger/records/{record.pk}/reverse/", {"reason": "重复发放"}, follow=True)
    reversal = HelpRecord.objects.get(reverses=record)
    assert reversal.amount == Decimal("-1000.00")
    assert "这是一条冲销记录" in reversed_.content.decode()
    history = reviewer.get(f"/ledger/records/{record.pk}/").content.decode()
    for action in ("录入发放记录", "修改发放记录", "审核发放记录", "冲销发放记录"):
        assert action in history
    assert "重复发放" in history


def test_the_preparer_who_reviews_may_not_approve_its_own_record(ledger: LedgerWorld) -> None:
    world = ledger.world
    record = ledger.add(help_input(ledger.wang), user="county_reviewer")
    client = world.client("county_reviewer")
    page = client.get(f"/ledger/records/{record.pk}/").content.decode()
    assert "录入人不能审核自己录入的记录" in page and 'id="approve-form"' not in page
    client.post(f"/ledger/records/{record.pk}/approve/")
    record.refresh_from_db()
    assert record.state == "draft"


def test_editing_a_draft_keeps_its_input_on_refusal_and_saves_otherwise(ledger: LedgerWorld) -> None:
    record = ledger.add(help_input(ledger.wang))
    client = ledger.world.client("county_reporter")
    form = client.get(f"/ledger/records/{record.pk}/edit/")
    assert form.status_code == 200 and 'value="1000.00"' in form.content.decode()
    assert ledger.wang.card_number not in form.content.decode()  # numbers are not pre-filled
    refused = client.post(
        f"/ledger/records/{record.pk}/edit/", form_data(household=ledger.wang.pk, amount="500000")
    )
    assert refused.status_code == 400 and "超出" in " ".join(refused.context["form"].errors["amount"])
    record.refresh_from_db()
    assert record.amount == Decimal("1000.00")
    assert LedgerEvent.objects.filter(action="refused", record=record).count() == 1
    saved = client.post(
        f"/ledger/records/{record.pk}/edit/", form_data(household=ledger.wang.pk, amount="900")
    )
    assert saved.status_code == 302
    record.refresh_from_db()
    assert record.amount == Decimal("900.00") and record.card_number == ledger.wang.card_number


def test_a_person_and_an_enterprise_are_recorded_from_other_funds(ledger: LedgerWorld) -> None:
    client = ledger.world.client("county_reporter")
    person = client.post(
        unit_url(ledger, "records/new/"),
        form_data(
            recipient_kind="person",
            name="孙立",
            id_number="11010519491231002X",
            person_category="model-worker",
            source="union",
            channel="goods",
            amount="",
            goods_description="米面油",
            goods_quantity="1",
            goods_value="300",
        ),
    )
    assert person.status_code == 302
    enterprise = client.post(
        unit_url(ledger, "records/new/"),
        form_data(
            recipient_kind="enterprise",
            name="荆门市某某机械厂",
            enterprise_kind="restructuring",
            source="union",
            channel="bank-card",
            card_number="6222021234567890128",
        ),
    )
    assert enterprise.status_code == 302
    assert HelpRecord.objects.get(name="荆门市某某机械厂").enterprise_kind == "restructuring"
    made = HelpRecord.objects.get(name="孙立")
    assert made.goods_value == Decimal("300.00") and made.amount is None


# --- evidence -----------------------------------------------------------------------------------------------


def test_evidence_is_checked_on_upload_and_served_only_through_the_view(ledger: LedgerWorld) -> None:
    world = ledger.world
    client = world.client("county_reporter")
    fake = SimpleUploadedFile("签收表.pdf", b"not a pdf at all")
    bad = client.post(
        unit_url(ledger, "records/new/"), {**form_data(household=ledger.wang.pk), "evidence": fake}
    )
    assert bad.status_code == 400
    assert any("凭证文件" in e for e in bad.context["form"].errors["evidence"])
    assert not HelpRecord.objects.exists()
    good = SimpleUploadedFile("签收表.pdf", PDF)
    made = client.post(
        unit_url(ledger, "records/new/"), {**form_data(household=ledger.wang.pk), "evidence": good}
    )
    assert made.status_code == 302
    record = HelpRecord.objects.get()
    download = client.get(f"/ledger/records/{record.pk}/evidence/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert download["Content-Security-Policy"].startswith("sandbox")
    assert world.client("sibling_reporter").get(f"/ledger/records/{record.pk}/evidence/").status_code == 404
    page = client.get(f"/ledger/records/{record.pk}/").content.decode()
    assert "/media/" not in page and f"/ledger/records/{record.pk}/evidence/" in page


# --- lists, totals, exports ------------------------------------------------------------------------------


def test_the_records_list_filters_totals_and_exports_what_it_shows(ledger: LedgerWorld) -> None:
    world = ledger.world
    a = ledger.approve(ledger.add(help_input(ledger.wang, amount=Decimal("1000"))))
    ledger.add(help_input(ledger.li, source="union", amount=Decimal("200.50")))
    ledger.add(
        help_input(
            ledger.li,
            item="living",
            source="union",
            channel="cash",
            cash_reason="无卡",
            amount=Decimal("100"),
        )
    )
    client = world.client("county_reporter")
    everything = client.get(unit_url(ledger, "records/"))
    assert everything.context["sums"].records == 3
    assert everything.context["sums"].amount == Decimal("1300.50")
    assert "subtree" not in everything.context["form"].fields  # a reporter sees its own unit only
    approved = client.get(unit_url(ledger, "records/"), {"state": "approved"})
    assert [row.record.pk for row in approved.context["rows"]] == [a.pk]
    union = FundSource.objects.get(code="union")
    cash = client.get(unit_url(ledger, "records/"), {"source": str(union.pk), "channel": "cash"})
    assert cash.context["sums"].amount == Decimal("100.00")
    named = client.get(unit_url(ledger, "records/"), {"q": "李秀"})
    assert named.context["sums"].records == 2
    dated = client.get(unit_url(ledger, "records/"), {"start": "2018-01-26", "end": "2018-02-15"})
    assert dated.context["sums"].records == 0
    bad_date = client.get(unit_url(ledger, "records/"), {"start": "明天"})
    assert bad_date.status_code == 200 and "请填写日期" in bad_date.content.decode()
    warned = client.get(unit_url(ledger, "records/"), {"warnings": "on"})
    assert all(row.record.warnings for row in warned.context["rows"])
    export = client.get(unit_url(ledger, "records/export.xlsx"), {"channel": "cash"})
    rows = xlsx_rows(export.content)
    assert len(rows) == 1 and rows[0][3] == "李秀英" and rows[0][8] == 100


def test_a_reviewer_sees_the_subtree_and_its_totals(ledger: LedgerWorld) -> None:
    world = ledger.world
    below = household(world, "周强", unit=world.enterprise)
    raise_money(world, world.enterprise, "union", "5000", user="enterprise_reporter")
    ledger.approve(
        ledger.add(
            help_input(below, source="union", amount=Decimal("700")),
            user="enterprise_reporter",
            unit=world.enterprise,
        )
    )
    ledger.approve(ledger.add(help_input(ledger.wang, amount=Decimal("1000"))))
    client = world.client("city_reviewer")
    own = client.get(unit_url(ledger, "records/"))
    assert own.context["sums"].records == 1
    subtree = client.get(unit_url(ledger, "records/"), {"subtree": "on"})
    assert subtree.context["sums"].records == 2 and "恒力水泥" in subtree.content.decode()
    overview = client.get(unit_url(ledger))
    sections = overview.context["sections"]
    assert len(sections) == 2
    own_totals, all_totals = sections[0][1], sections[1][1]
    assert own_totals.source_sum["raised"] == Decimal("150000") and own_totals.source_sum["spent"] == Decimal(
        "1000"
    )
    assert all_totals.source_sum["raised"] == Decimal("155000") and all_totals.source_sum["spent"] == Decimal(
        "1700"
    )
    reporter_overview = world.client("county_reporter").get(unit_url(ledger))
    assert len(reporter_overview.context["sections"]) == 1
    assert "155000.00" in overview.content.decode() and "1700.00" in overview.content.decode()


def test_the_home_page_offers_the_campaign_and_goes_to_the_units_overview(ledger: LedgerWorld) -> None:
    world = ledger.world
    client = world.client("county_reporter")
    home = client.get("/ledger/")
    assert world.campaign.title in home.content.decode()
    assert [u.pk for u in home.context["units"]] == [world.county.pk]
    go = client.get("/ledger/", {"campaign": world.campaign.pk, "unit": world.county.pk})
    assert go.status_code == 302 and go["Location"] == unit_url(ledger)
    stay = client.get("/ledger/", {"campaign": world.campaign.pk, "unit": world.sibling.pk})
    assert stay.status_code == 200  # a unit the user does not see is not a choice
    reviewer_units = world.client("city_reviewer").get("/ledger/").context["units"]
    assert {u.pk for u in reviewer_units} == {
        world.city.pk,
        world.county.pk,
        world.enterprise.pk,
        world.sibling.pk,
    }
    overview = client.get(unit_url(ledger)).content.decode()
    for name in ("nav-records", "nav-record-new", "nav-receipts", "nav-history"):
        assert name in overview


def test_the_receipts_page_adds_allocates_and_reverses_with_chinese_refusals(ledger: LedgerWorld) -> None:
    world = ledger.world
    client = world.client("county_reporter")
    union = FundSource.objects.get(code="union")
    bad = client.post(
        unit_url(ledger, "receipts/add/"),
        {"receipt-source": union.pk, "receipt-amount": "12.345", "receipt-received_on": "2018-01-05"},
    )
    assert bad.status_code == 400 and "最多两位小数" in bad.content.decode()
    too_much = client.post(
        unit_url(ledger, "receipts/allocate/"),
        {
            "allocation-taker": world.enterprise.pk,
            "allocation-source": union.pk,
            "allocation-amount": "60000",
            "allocation-on": "2018-01-06",
        },
    )
    assert too_much.status_code == 400 and "不够下拨" in too_much.content.decode()
    sibling = client.post(
        unit_url(ledger, "receipts/allocate/"),
        {
            "allocation-taker": world.sibling.pk,
            "allocation-source": union.pk,
            "allocation-amount": "100",
            "allocation-on": "2018-01-06",
        },
    )
    assert sibling.status_code == 400  # only units below are choices
    assert not Receipt.objects.filter(kind="allocation").exists()
    allocate(
        user=world.users["county_reporter"],
        campaign=world.campaign,
        giver=world.county,
        taker=world.enterprise,
        source=union,
        amount=Decimal("1000"),
        on=dt.date(2018, 1, 6),
    )
    page = client.get(unit_url(ledger, "receipts/"))
    text = page.content.decode()
    assert "下拨给 东宝区恒力水泥有限公司工会" in text
    enterprise_page = world.client("enterprise_reporter").get(
        f"/ledger/{world.campaign.pk}/{world.enterprise.pk}/receipts/"
    )
    assert "东宝区总工会 下拨" in enterprise_page.content.decode()
    rows = xlsx_rows(client.get(unit_url(ledger, "receipts/export.xlsx")).content)
    assert sorted(row[5] for row in rows) == [1000, 50000, 100000]
    receipt = Receipt.objects.get(source__code="central")
    no_reason = client.post(f"/ledger/receipts/{receipt.pk}/reverse/", {"reason": ""})
    assert any("冲销须写明原因" in m for m in messages_of(no_reason))
    done = client.post(f"/ledger/receipts/{receipt.pk}/reverse/", {"reason": "重复登记"})
    assert done.status_code == 302 and Receipt.objects.filter(reverses=receipt).exists()


def test_the_history_page_lists_events_in_beijing_time(ledger: LedgerWorld) -> None:
    ledger.add(help_input(ledger.wang))
    client = ledger.world.client("county_reporter")
    response = client.get(unit_url(ledger, "history/"))
    rows = response.context["rows"]
    assert [row.event.action for row in rows][:1] == ["record-added"]
    assert rows[0].who == "county_reporter"
    page = response.content.decode()
    assert "录入发放记录" in page and "登记筹集资金" in page and "时间为北京时间" in page
    shown = rows[0].event.at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert shown in page
    refused_only = client.get(unit_url(ledger, "history/"), {"refused": "1"})
    assert refused_only.context["rows"] == []


def test_a_drafts_buttons_ask_before_deleting_and_an_approved_records_before_reversing(
    ledger: LedgerWorld,
) -> None:
    world = ledger.world
    draft = ledger.add(help_input(ledger.wang))
    page = world.client("county_reporter").get(f"/ledger/records/{draft.pk}/").content.decode()
    assert 'id="edit-form"' in page and 'id="delete-form"' in page
    assert page.count("data-confirm=") == 1  # delete; the reporter is offered no approval
    approved = ledger.approve(ledger.add(help_input(ledger.li, source="union")))
    reviewer_page = world.client("city_reviewer").get(f"/ledger/records/{approved.pk}/").content.decode()
    assert 'id="reverse-form"' in reviewer_page and "data-confirm=" in reviewer_page
    assert 'id="edit-form"' not in reviewer_page and 'id="approve-form"' not in reviewer_page
    receipts = world.client("county_reporter").get(unit_url(ledger, "receipts/")).content.decode()
    assert 'class="receipt-reverse" data-confirm=' in receipts
