"""The archive's rough edges of issue 11: sorting the list, searching by the start of an ID number (and what
the masks allow), the members in the export, the blank register for the import, the reason a reviewer cannot
import into its own unit, a duplicate ID number beside its field, the confirmation before closing a file,
people's names instead of login names, the household-size warning."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
import python_calamine
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from songnuan.archive.idnumbers import check_character
from songnuan.archive.importing import FIELDS, guess_mapping
from songnuan.archive.models import Household, ImportJob, Member
from songnuan.archive.selectors import HouseholdSearch, search_households
from songnuan.archive.services import (
    HouseholdInput,
    MemberInput,
    household_apply,
    household_close,
    household_file,
)
from songnuan.orgs.models import Unit

from ..world import FROZEN_TODAY, World


def valid_id(first17: str) -> str:
    return first17 + check_character(first17)


A = "420802198001010018"  # 荆门东宝区
D = valid_id("42080219800101003")  # the same first 16 digits as A
B = valid_id("42088119750315002")  # a member's number (京山)
C = "11010519491231002X"  # 北京
E = valid_id("11010519800101004")  # the head of the file whose member is B


def grant_full_numbers(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))


def new_file(
    world: World,
    name: str,
    number: str,
    *,
    reporter: str = "county_reporter",
    members: list[MemberInput] | None = None,
    filed: bool = True,
    **extra: Any,
) -> Household:
    user = world.users[reporter]
    household = household_apply(
        user=user,
        unit=user.account.unit,
        data=HouseholdInput(
            head_name=name,
            head_id_number=number,
            category=Household.Category.WORKER,
            members=members or [],
            **extra,
        ),
    )
    if filed:
        household = household_file(user=world.users["city_reviewer"], household=household)
    return household


def names(world: World, user: str, **search: Any) -> list[str]:
    return [h.head_name for h in search_households(world.users[user], HouseholdSearch(**search))]


# --- 1. sorting the list ---------------------------------------------------------------------------------


@pytest.fixture
def sortable(world: World) -> list[Household]:
    """Five files: two heads of the same name (the tie), in three units, in every state but 'out'."""
    files = [
        new_file(world, "王芳", A),
        new_file(world, "李明", D, reporter="enterprise_reporter"),
        new_file(world, "王芳", C, reporter="sibling_reporter"),
        new_file(world, "张伟", E, filed=False),  # 已申请, no 建档日期
        new_file(world, "赵敏", valid_id("42080219900101005")),
    ]
    household_close(user=world.users["city_reviewer"], household=files[4], reason="迁出", on=FROZEN_TODAY)
    return files


def ids(world: World, sort: str, user: str = "city_reviewer") -> list[int]:
    return [h.pk for h in search_households(world.users[user], HouseholdSearch(sort=sort))]


def test_sorting_by_a_column_breaks_ties_by_id_and_descending_is_the_exact_reverse(
    world: World, sortable: list[Household]
) -> None:
    wang1, li, wang2, zhang, zhao = (h.pk for h in sortable)
    by_name = ids(world, "name")
    # Code-point order of the names (李 U+674E, 王 U+738B, 张 U+5F20, 赵 U+8D75); the two 王芳 by id.
    assert by_name == sorted([wang1, li, wang2, zhang, zhao], key=lambda pk: (_name(sortable, pk), pk))
    assert by_name.index(wang1) + 1 == by_name.index(wang2)
    assert ids(world, "-name") == by_name[::-1]
    # The lifecycle, not the codes' alphabet: 已申请, 已建档 (by id), 已注销.
    assert ids(world, "status") == [zhang, wang1, li, wang2, zhao]
    # A file not yet filed has no date: last both ways.
    assert ids(world, "filed")[-1] == zhang and ids(world, "-filed")[-1] == zhang
    assert ids(world, "unit") == sorted(ids(world, ""), key=lambda pk: (_unit(sortable, pk), pk))


def _name(files: list[Household], pk: int) -> str:
    return str(next(h.head_name for h in files if h.pk == pk))


def _unit(files: list[Household], pk: int) -> str:
    return str(next(h.unit.name for h in files if h.pk == pk))


@pytest.mark.parametrize("sort", ["", "password", "head_id_number", "-phone", "-", "name;drop", "--name"])
def test_an_unknown_sort_is_the_default_order_without_an_error(
    world: World, sortable: list[Household], sort: str
) -> None:
    assert ids(world, sort) == sorted((h.pk for h in sortable), reverse=True)  # newest first
    response = world.client("city_reviewer").get("/archive/", {"sort": sort})
    assert response.status_code == 200
    assert [h.pk for h in response.context["page"]] == ids(world, "")
    assert "errorlist" not in response.content.decode()


def test_the_headers_sort_with_an_arrow_and_the_order_is_kept_across_search_pages_and_export(
    world: World, sortable: list[Household]
) -> None:
    client = world.client("city_reviewer")
    page = client.get("/archive/", {"sort": "name", "status": "filed"}).content.decode()
    name_header = re.search(
        r'<th aria-sort="ascending"><a class="sort" data-sort="-name" href="([^"]+)"', page
    )
    assert name_header is not None and "▲" in page[name_header.start() : name_header.start() + 300]
    assert "sort=-name" in name_header.group(1) and "status=filed" in name_header.group(1)
    for column in ("unit", "category", "type", "size", "status", "filed"):  # the others: ascending first
        assert f'data-sort="{column}"' in page
    assert 'data-sort="id' not in page and "sort=phone" not in page  # no personal number is sortable
    assert '<input type="hidden" name="sort" value="name"' in page  # a new search keeps the order
    export = re.search(r'id="export-link"', page)
    assert export is not None and "sort=name" in page[export.start() - 200 : export.start()]
    descending = client.get("/archive/", {"sort": "-name"}).content.decode()
    assert '<th aria-sort="descending"><a class="sort" data-sort="name"' in descending and "▼" in descending
    exported = client.get("/archive/export.xlsx", {"sort": "-name"}).content
    rows = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(exported)).get_sheet_by_index(0)
    assert [row[1] for row in rows.to_python()[2:]] == names(world, "city_reviewer", sort="-name")


def test_the_order_is_kept_from_page_to_page(world: World) -> None:
    from songnuan.archive.generate import households

    for generated in households(53, seed=5):
        new_file(world, generated.name, generated.id_number, filed=False)
    client = world.client("county_reporter")
    first = client.get("/archive/", {"sort": "name"})
    pager = re.findall(r'href="\?([^"]*)" rel="next"', first.content.decode())
    assert pager and "sort=name" in pager[0].replace("&amp;", "&")
    second = client.get("/archive/", {"sort": "name", "page": "2"})
    shown = [h.head_name for h in first.context["page"]] + [h.head_name for h in second.context["page"]]
    everyone = Household.objects.order_by("head_name", "id").values_list("head_name", flat=True)
    assert shown == list(everyone)


# --- 2. the start of an ID number ------------------------------------------------------------------------


@pytest.fixture
def numbered(world: World) -> dict[str, Household]:
    return {
        "a": new_file(world, "单田芳", A),
        "d": new_file(world, "田芳", D),
        "c": new_file(world, "王建国", C),
        "e": new_file(world, "李秀英", E, members=[MemberInput(name="张强", relation="子", id_number=B)]),
    }


def found(world: World, text: str, user: str = "city_reviewer") -> set[str]:
    return set(names(world, user, text=text))


def test_the_start_of_an_id_number_finds_heads_and_members_with_the_permission(
    world: World, numbered: dict[str, Household]
) -> None:
    grant_full_numbers(world.users["city_reviewer"])
    assert found(world, "4208") == {"单田芳", "田芳", "李秀英"}  # 李秀英's son 张强 is 4208…
    assert found(world, "420802") == {"单田芳", "田芳"}
    assert found(world, "4208021980010100") == {"单田芳", "田芳"}
    assert found(world, A[:17]) == {"单田芳"}
    assert found(world, "420881") == {"李秀英"}  # a member's number
    assert found(world, B[:12]) == {"李秀英"}
    assert found(world, "1101") == {"王建国", "李秀英"}
    assert found(world, "0018") == {"单田芳"}  # the last digits, as before
    assert found(world, "4209") == set()


def test_without_the_permission_only_the_digits_the_mask_shows_are_searched(
    world: World, numbered: dict[str, Household]
) -> None:
    """Typing the hidden digits one at a time ("42080", "42081", …) must not tell them: the search uses only
    the first four (and the last four) digits, which the mask shows (4208**********0018)."""
    assert found(world, "4208") == {"单田芳", "田芳", "李秀英"}
    for number in (A, B, D):
        for length in range(5, 15):  # digits 5 to 14 are hidden by the mask
            right = number[:length]
            wrong = right[:-1] + str((int(right[-1]) + 1) % 10)
            assert found(world, right) == found(world, wrong), right
            assert found(world, right) >= found(world, number[:4]), right
    assert found(world, A) == {"单田芳"}  # the whole number, typed, still finds the person
    assert found(world, B) == {"李秀英"}


def test_the_limit_is_explained_in_chinese_to_whoever_lacks_the_permission(
    world: World, numbered: dict[str, Household]
) -> None:
    client = world.client("city_reviewer")
    limited = client.get("/archive/", {"q": "42080219"}).content.decode()
    notice = re.search(
        r'<p class="msg warning" role="status" id="partial-number-notice">([^<]+)</p>', limited
    )
    assert notice is not None
    assert "您没有查看完整号码的权限" in notice.group(1) and "开头4位（4208）" in notice.group(1)
    assert "末尾4位（0219）" in notice.group(1) and "请输入完整的身份证号" in notice.group(1)
    for text in ("4208", A, "单田芳", "13812345678"):  # nothing was left out of these
        assert 'id="partial-number-notice"' not in client.get("/archive/", {"q": text}).content.decode()
    grant_full_numbers(world.users["city_reviewer"])
    full = world.client("city_reviewer").get("/archive/", {"q": "42080219"})
    assert 'id="partial-number-notice"' not in full.content.decode()
    assert {h.head_name for h in full.context["page"]} == {"单田芳", "田芳"}


def test_the_id_numbers_are_searched_through_an_index(world: World, numbered: dict[str, Household]) -> None:
    """The prefix is a range on the column (key >= '4208' AND key < '4209'); on PostgreSQL the columns sort by
    code point (collation "C", migration 0006), without which the range would not be a prefix."""
    heads = Household.objects.filter(head_id_number__gte="4208", head_id_number__lt="4209")
    members = Member.objects.filter(id_number__gte="4208", id_number__lt="4209")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE (table_name, column_name) IN "
                "(('archive_household', 'head_id_number'), ('archive_member', 'id_number'))"
            )
            assert {row[2] for row in cursor.fetchall()} == {"C"}
    else:
        assert "USING INDEX" in heads.explain() or "USING COVERING INDEX" in heads.explain()
        assert "INDEX" in members.explain()
    assert heads.count() == 2 and members.count() == 1


# --- 3. the members in the export ------------------------------------------------------------------------


def sheets(content: bytes) -> dict[str, list[list[Any]]]:
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names}


def test_the_export_lists_every_member_masked_with_its_file(world: World) -> None:
    with_members = new_file(
        world,
        "李秀英",
        E,
        members=[
            MemberInput(name="张强", relation="子", id_number=B, monthly_income=Decimal("800")),
            MemberInput(name="张丽", relation="女", id_number="", health="良好"),
        ],
    )
    new_file(world, "单田芳", A)  # no members: no row
    new_file(world, "王建国", C, reporter="sibling_reporter")  # another county's: not the reporter's
    content = world.client("county_reporter").get("/archive/export.xlsx").content
    found_sheets = sheets(content)
    assert list(found_sheets) == ["困难职工档案", "家庭成员"]
    members = found_sheets["家庭成员"]
    assert members[1] == [
        "档案编号",
        "建档单位",
        "户主姓名",
        "户主身份证号",
        "成员姓名",
        "与户主关系",
        "身份证号",
        "月收入（元）",
        "健康状况",
        "就读学校或工作单位",
    ]
    pk = float(with_members.pk)
    head_masked = "1101" + "*" * 10 + E[-4:]
    assert members[2][:8] == [
        pk,
        "东宝区总工会",
        "李秀英",
        head_masked,
        "张强",
        "子",
        "4208**********" + B[-4:],
        800.0,
    ]
    assert members[3][:7] == [pk, "东宝区总工会", "李秀英", head_masked, "张丽", "女", ""]
    assert len(members) == 4
    assert B not in str(found_sheets) and E not in str(found_sheets)


def test_the_full_export_gives_the_members_full_numbers_to_the_permission_holder(world: World) -> None:
    new_file(world, "李秀英", E, members=[MemberInput(name="张强", relation="子", id_number=B)])
    grant_full_numbers(world.users["county_reviewer"])
    content = world.client("county_reviewer").get("/archive/export.xlsx", {"full": "1"}).content
    members = sheets(content)["家庭成员"]
    assert members[2][3:7] == [E, "张强", "子", B]


# --- 4. the blank register -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user", ["county_reporter", "enterprise_reporter", "county_reviewer", "city_reviewer", "city_admin"]
)
def test_whoever_may_import_gets_the_blank_register(world: World, user: str) -> None:
    response = world.client(user).get("/archive/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    register = sheets(response.content)
    rows = register["花名册"]
    assert rows[1] == [field.label for field in FIELDS]
    assert all(cell == "" for row in rows[2:] for cell in row)  # no data, no personal data
    assert set(guess_mapping(rows[1])) == {field.name for field in FIELDS}  # the importer reads it back
    assert [row[0] for row in register["填写说明"][2:]] == [field.label for field in FIELDS]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        notes = "".join(
            archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/comments")
        )
    assert "18位居民身份证号" in notes and "困难职工、困难农民工或困难劳模（必填）" in notes


def test_the_register_is_refused_to_a_user_without_a_unit_and_linked_from_the_import_page(
    world: World,
) -> None:
    stranger = User.objects.create_user("stranger", password="x-long-enough-pass")
    client = Client()
    client.force_login(stranger)
    assert client.get("/archive/import/template.xlsx").status_code == 403
    assert client.post("/archive/import/template.xlsx").status_code == 405
    anonymous = Client().get("/archive/import/template.xlsx")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    page = world.client("county_reporter").get("/archive/import/").content.decode()
    assert 'href="/archive/import/template.xlsx"' in page


# --- 5. a reviewer importing into its own unit -----------------------------------------------------------


def test_a_reviewer_importing_into_its_own_unit_is_told_why_the_unit_column_is_needed(
    world: World, settings: Any, tmp_path: Any
) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"
    client = world.client("county_reviewer")
    roster = f"姓名,身份证号码,类别\n王建国,{C},困难职工\n".encode()
    client.post(
        "/archive/import/", {"file": SimpleUploadedFile("花名册.csv", roster), "unit": world.county.pk}
    )
    job = ImportJob.objects.get()
    mapping_page = client.get(f"/archive/import/{job.pk}/")
    page = mapping_page.content.decode()
    reason = "您不能为“东宝区总工会”建档：审核员只能为下级单位建档"
    assert 'id="unit-refusal"' in page and reason in page
    unit_row = dict((field.name, required) for field, required in mapping_page.context["form"].field_rows())
    assert unit_row["unit"] is True  # marked * here, not optional
    chosen = {name: str(mapping_page.context["form"][name].value() or "") for name in ("head_name",)}
    chosen |= {"head_id_number": "1", "category": "2"}
    refused = client.post(f"/archive/import/{job.pk}/", chosen)
    assert refused.status_code == 400
    (error,) = refused.context["form"].non_field_errors()
    assert error.startswith(reason) and "请为这些项目选择所在的列" not in error
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING and not Household.objects.exists()


def test_a_reporter_importing_into_its_own_unit_is_offered_the_unit_and_told_nothing(
    world: World, settings: Any, tmp_path: Any
) -> None:
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"
    client = world.client("county_reporter")
    roster = f"姓名,身份证号码,类别\n王建国,{C},困难职工\n".encode()
    client.post(
        "/archive/import/", {"file": SimpleUploadedFile("花名册.csv", roster), "unit": world.county.pk}
    )
    page = client.get(f"/archive/import/{ImportJob.objects.get().pk}/")
    assert 'id="unit-refusal"' not in page.content.decode()
    assert "use_default_unit" in page.context["form"].fields


# --- 6. a duplicate ID number, beside its field ----------------------------------------------------------


def new_file_form(unit: Unit, **changes: str) -> dict[str, str]:
    data = {
        "unit": str(unit.pk),
        "head_name": "赵德明",
        "head_id_number": E,
        "category": Household.Category.WORKER,
        "household_size": "2",
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "5",
    }
    data.update(changes)
    return data


def test_a_members_duplicate_id_is_shown_on_its_row_naming_no_one_unseen(world: World) -> None:
    new_file(world, "单田芳", A, reporter="sibling_reporter")  # 钟祥市's file
    response = world.client("enterprise_reporter").post(
        "/archive/new/",
        new_file_form(
            world.enterprise,
            **{
                "members-0-name": "钱七",
                "members-0-relation": "配偶",
                "members-1-name": "钱八",
                "members-1-relation": "子",
                "members-1-id_number": A.lower(),
            },
        ),
    )
    assert response.status_code == 400 and not Household.objects.filter(head_id_number=E).exists()
    expected = "身份证号 4208**********0018 已在其他单位的困难职工档案中，一户只能建一份档案"
    assert response.context["members"].forms[1].errors == {"id_number": [expected]}
    assert not response.context["form"].errors and not response.context["members"].forms[0].errors
    page = response.content.decode()
    rows = re.findall(r'<tr class="member">(.*?)</tr>', page, re.S)
    assert expected in rows[1] and expected not in rows[0]
    assert "钟祥市" not in page
    assert "单田芳" not in page


def test_a_duplicate_names_the_holder_to_a_reviewer_who_sees_its_file(world: World) -> None:
    new_file(world, "单田芳", A, reporter="enterprise_reporter")
    response = world.client("county_reviewer").post(
        "/archive/new/", new_file_form(world.enterprise, head_id_number=A)
    )
    assert response.context["form"].errors == {
        "head_id_number": [
            "身份证号 4208**********0018 已在“东宝区恒力水泥有限公司工会”的困难职工档案中（户主 单田芳），"
            "一户只能建一份档案"
        ]
    }


# --- 7. closing a file asks first ------------------------------------------------------------------------


def test_the_close_form_asks_for_a_confirmation(world: World) -> None:
    household = new_file(world, "单田芳", A)
    page = world.client("city_reviewer").get(f"/archive/{household.pk}/").content.decode()
    form = re.search(r'<form [^>]*id="close-form"[^>]*>', page)
    assert form is not None
    assert 'data-confirm="确定注销“单田芳”的档案吗？注销后档案结束，需由上级恢复。"' in form.group(0)


# --- 8. people's names, not login names ------------------------------------------------------------------


def test_the_file_and_its_history_name_people_not_logins(world: World) -> None:
    User.objects.filter(username="county_reporter").update(first_name="红", last_name="李")
    User.objects.filter(username="city_reviewer").update(first_name="张三")
    for user in world.users.values():
        user.refresh_from_db()
    household = new_file(
        world, "单田芳", A, members=[MemberInput(name="钱七", relation="配偶", id_number="")]
    )
    grant_full_numbers(world.users["city_reviewer"])
    client = world.client("city_reviewer")
    client.post(f"/archive/{household.pk}/reveal/")
    detail = client.get(f"/archive/{household.pk}/").content.decode()
    history = client.get(f"/archive/{household.pk}/history/").content.decode()
    for page in (detail, history):
        assert "county_reporter" not in page and "city_reviewer" not in page
    assert "红 李" in detail and "张三" in detail  # get_full_name: "first last"
    who = re.findall(r'<td rowspan="\d+" class="who">([^<]*)</td>', history)
    assert set(who) == {"红 李", "张三"}
    # Without a name, the login name is what there is.
    User.objects.filter(username="city_reviewer").update(first_name="")
    history = client.get(f"/archive/{household.pk}/history/").content.decode()
    assert "city_reviewer" in re.findall(r'class="who">([^<]*)<', history)


# --- 9. the household size against the members -----------------------------------------------------------


def test_a_household_size_unlike_the_members_is_a_warning_on_the_file(world: World) -> None:
    household = new_file(world, "单田芳", A, household_size=4)
    page = world.client("county_reporter").get(f"/archive/{household.pk}/").content.decode()
    assert 'id="size-mismatch"' in page and "家庭人口填的是 4 人，登记的是 1 人" in page
    matching = new_file(world, "王建国", C, household_size=1, reporter="sibling_reporter")
    page = world.client("sibling_reporter").get(f"/archive/{matching.pk}/").content.decode()
    assert 'id="size-mismatch"' not in page


# --- the formkit ListWriter with several sheets ----------------------------------------------------------


def test_the_list_writer_writes_several_sheets_each_keeping_text_as_text() -> None:
    from songnuan.formkit.excel_writer import ListWriter

    from ..formkit.test_template import read_cells

    buffer = io.BytesIO()
    writer = ListWriter(buffer, title="一", header=["甲", "乙"], sheet_name="第一", comments={1: "=1+1 说明"})
    writer.write(['=HYPERLINK("http://evil.example")', 3])
    writer.add_sheet(title="二", header=["丙"], sheet_name="第二", text_columns=[0])
    writer.write(["<r>=1+1</r>"])
    writer.write(["0724"])
    writer.close()
    first, second = read_cells(buffer.getvalue()).values()  # fails on any formula or link
    assert (first["A1"], first["B2"], first["A3"], first["B3"]) == (
        "一",
        "乙",
        '=HYPERLINK("http://evil.example")',
        "3",
    )
    assert (second["A1"], second["A2"], second["A3"], second["A4"]) == ("二", "丙", "<r>=1+1</r>", "0724")
    assert list(sheets(buffer.getvalue())) == ["第一", "第二"]
    with zipfile.ZipFile(buffer) as archive:
        assert any(name.startswith("xl/comments") for name in archive.namelist())


def test_the_register_keeps_the_headings_the_importer_reads_whatever_the_language() -> None:
    from django.utils import translation

    from songnuan.archive.exports import import_template_xlsx

    with translation.override("en"):
        content = import_template_xlsx()
    register = next(iter(sheets(content).values()))
    assert register[1] == [field.label for field in FIELDS]
    assert set(guess_mapping(register[1])) == {field.name for field in FIELDS}
