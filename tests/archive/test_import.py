"""Importing archives from spreadsheets: every bad row named with its reason, the good rows in, nothing
half-written, and the same file twice creates nothing new."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
import python_calamine
import xlsxwriter

from songnuan.archive import bulk
from songnuan.archive.generate import households, luhn_complete
from songnuan.archive.import_jobs import (
    ImportRefused,
    earlier_imports,
    import_job_run,
    import_job_start,
    import_progress,
)
from songnuan.archive.importing import MappingError, guess_mapping
from songnuan.archive.models import Household, ImportJob, OpenIdentity, Plan
from songnuan.archive.services import HouseholdInput, household_apply

from ..world import World

HEADER = ["序号", "姓名", "身份证号码", "类别", "手机", "家庭月收入（元）", "家庭人口", "建档单位", "卡号"]
ENTERPRISE = "东宝区恒力水泥有限公司工会"
GOOD_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def good_rows(count: int, *, unit: str = ENTERPRISE, seed: int = 7) -> list[list[Any]]:
    return [
        [
            index + 1,
            h.name,
            h.id_number,
            h.category,
            h.phone,
            str(h.monthly_income),
            h.household_size,
            unit,
            h.card_number,
        ]
        for index, h in enumerate(households(count, seed=seed))
    ]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["荆门市困难职工档案花名册"])
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("花名册")
    sheet.write_row(0, 0, ["荆门市困难职工档案花名册"])
    sheet.write_row(2, 0, HEADER)  # a blank line between the title and the header
    for number, row in enumerate(rows, start=3):
        for column, value in enumerate(row):
            if value is not None:
                sheet.write(number, column, value)
    workbook.close()
    return path


def run_import(
    world: World, path: Path, user: str = "county_reviewer", *, default: bool = False
) -> ImportJob:
    with path.open("rb") as stream:
        job = import_job_start(
            user=world.users[user],
            unit=world.enterprise if default else world.county,
            file_name=path.name,
            stream=stream,
        )
    import_job_run(user=world.users[user], job=job, mapping=job.mapping, use_default_unit=default)
    job.refresh_from_db()
    return job


def rejected_rows(job: ImportJob) -> dict[int, str]:
    """Row number in the uploaded file → reason, read back from the rejected-rows workbook."""
    assert job.rejected_file is not None
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(bytes(job.rejected_file)))
    rows = workbook.get_sheet_by_index(0).to_python()
    assert rows[1][:2] == ["原文件行号", "退回原因"]
    return {int(cast(float, row[0])): str(row[1]) for row in rows[2:]}


def test_the_header_is_found_under_a_title_and_mapped_by_its_wording() -> None:
    mapping = guess_mapping(
        ["序号", "户主姓名", "公民身份号码", "人员类别", "联系电话", "家庭月收入(元)", "所属工会"]
    )
    assert mapping == {
        "head_name": 1,
        "head_id_number": 2,
        "category": 3,
        "phone": 4,
        "monthly_income": 5,
        "unit": 6,
    }


def test_good_rows_go_in_filed_by_a_reviewer_with_search_keys_and_plans(world: World, tmp_path: Path) -> None:
    job = run_import(world, write_csv(tmp_path / "a.csv", good_rows(30)))
    assert (job.state, job.created, job.rejected, job.existing) == (ImportJob.State.DONE, 30, 0, 0)
    filed = Household.objects.filter(unit=world.enterprise, status=Household.Status.FILED)
    assert filed.count() == 30
    assert OpenIdentity.objects.count() == Plan.objects.count() == 30
    first = Household.objects.get(import_row=3)  # title, header, then the first record on line 3
    source = next(iter(households(1, seed=7)))
    assert (first.head_name, first.head_id_number, first.phone) == (
        source.name,
        source.id_number,
        source.phone,
    )
    assert first.monthly_income == source.monthly_income and first.household_size == source.household_size
    assert first.id_reversed == source.id_number[::-1] and first.name_initials
    assert first.reviewed_by == world.users["county_reviewer"] and first.filed_at is not None
    assert not Path(job.stored_path).exists()  # the upload is not kept once imported


def test_a_reporter_imports_applications_for_its_own_unit_only(world: World, tmp_path: Path) -> None:
    rows = good_rows(3, unit="")
    rows[2][7] = "钟祥市总工会"  # a sibling unit: not one this reporter may file for
    job = run_import(world, write_csv(tmp_path / "a.csv", rows), "enterprise_reporter", default=True)
    assert (job.created, job.rejected) == (2, 1)
    assert set(Household.objects.values_list("status", flat=True)) == {Household.Status.APPLIED}
    assert "钟祥市总工会" in rejected_rows(job)[5] and "不在您可以导入的单位" in rejected_rows(job)[5]


def test_every_kind_of_bad_row_is_refused_with_its_reason(world: World, tmp_path: Path) -> None:
    rows = good_rows(12)
    rows[0][2] = "110105194912310021"  # wrong check digit
    rows[1][2] = "110105194902300027"  # 30 February
    rows[2][2] = "110105491231002"  # 15 digits: converted, accepted
    rows[3][2] = rows[4][2]  # the same person twice in one file
    rows[5][7] = "不存在的工会"
    rows[6][5] = "三千"
    rows[7][1] = ""
    rows[8][3] = "低保户"
    rows[9][6] = "2.5"
    rows[10][8] = "6222021234567890"  # a card without a Luhn digit: a warning, not a refusal
    job = run_import(world, write_csv(tmp_path / "bad.csv", rows))
    reasons = rejected_rows(job)
    assert (job.created, job.rejected, job.warnings) == (4, 8, 1)
    assert "校验位" in reasons[3]
    assert "出生日期" in reasons[4] and "19490230" in reasons[4]
    assert "与本文件第6行相同" in reasons[7]
    assert "“不存在的工会”不存在" in reasons[8]
    assert "家庭月收入" in reasons[9] and "三千" in reasons[9]
    assert "户主姓名" in reasons[10] and "不能为空" in reasons[10]
    assert "类别" in reasons[11] and "低保户" in reasons[11]
    assert "家庭人口" in reasons[12]
    assert Household.objects.filter(head_id_number="11010519491231002X").exists()  # from the 15 digits
    assert not Household.objects.filter(import_row__in=reasons).exists()


def test_importing_the_same_file_again_creates_nothing_new(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", good_rows(20))
    first = run_import(world, path)
    again = run_import(world, path)
    assert (again.created, again.existing, again.rejected) == (0, 20, 0)
    assert Household.objects.count() == 20
    assert earlier_imports(again) == [first]


def test_a_household_on_another_units_file_is_refused_naming_no_one_the_importer_may_not_see(
    world: World, tmp_path: Path
) -> None:
    household_apply(
        user=world.users["sibling_reporter"],
        unit=world.sibling,
        data=HouseholdInput(head_name="王建国", head_id_number=GOOD_ID, category=Household.Category.WORKER),
    )
    rows = good_rows(2)
    rows[1][2] = GOOD_ID
    job = run_import(world, write_csv(tmp_path / "a.csv", rows))  # 东宝区's reviewer: 钟祥市 is not its
    reason = rejected_rows(job)[4]
    assert reason == "身份证号 1101**********002X 已在其他单位的困难职工档案中，一户只能建一份档案"
    assert job.created == 1


def test_a_household_on_a_file_the_importer_sees_is_refused_naming_the_holder(
    world: World, tmp_path: Path
) -> None:
    household_apply(
        user=world.users["county_reporter"],
        unit=world.county,
        data=HouseholdInput(head_name="王建国", head_id_number=GOOD_ID, category=Household.Category.WORKER),
    )
    rows = good_rows(2)
    rows[1][2] = GOOD_ID
    job = run_import(world, write_csv(tmp_path / "a.csv", rows), "city_reviewer")
    reason = rejected_rows(job)[4]
    assert reason == (
        "身份证号 1101**********002X 已在“东宝区总工会”的困难职工档案中（户主 王建国），一户只能建一份档案"
    )
    assert GOOD_ID not in reason


def test_xlsx_with_ids_typed_as_numbers_and_a_gbk_csv(world: World, tmp_path: Path) -> None:
    rows = good_rows(4)
    rows[1][2] = float(rows[1][2][:17] + "0")  # Excel kept 15 significant digits of an ID typed as a number
    rows[2][4] = float(rows[2][4])  # a phone typed as a number is fine
    job = run_import(world, write_xlsx(tmp_path / "a.xlsx", rows))
    assert (job.created, job.rejected) == (3, 1)
    assert "存成了数字" in rejected_rows(job)[5]  # the title, a blank line, the header on line 3
    assert Household.objects.get(import_row=6).phone == str(int(float(rows[2][4])))
    gbk = run_import(world, write_csv(tmp_path / "gbk.csv", good_rows(3, seed=99), encoding="gbk"))
    assert (gbk.created, gbk.rejected) == (3, 0)
    assert Household.objects.filter(import_job=gbk).first().head_name  # type: ignore[union-attr]


def test_a_failure_half_way_leaves_nothing_written(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("songnuan.archive.importing.BATCH_ROWS", 10)
    calls = {"n": 0}
    real_insert = bulk.insert_rows

    def insert_then_fail(model: Any, columns: Any, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # second batch, after the first one was written
            raise RuntimeError("disk full")
        real_insert(model, columns, rows)

    monkeypatch.setattr("songnuan.archive.importing.insert_rows", insert_then_fail)
    job = run_import(world, write_csv(tmp_path / "a.csv", good_rows(25)))
    assert job.state == ImportJob.State.FAILED and "没有导入任何数据" in job.error
    assert Household.objects.count() == OpenIdentity.objects.count() == Plan.objects.count() == 0


def test_a_hundred_thousand_rows_with_a_thousand_bad_ones(world: World, tmp_path: Path) -> None:
    rows = good_rows(100_000, seed=3)
    for index in range(0, 100_000, 100):  # every hundredth row gets a wrong check digit
        number = rows[index][2]
        rows[index][2] = number[:17] + ("0" if number[17] != "0" else "1")
    job = run_import(world, write_csv(tmp_path / "big.csv", rows))
    assert (job.created, job.rejected) == (99_000, 1_000)
    assert Household.objects.count() == 99_000
    reasons = rejected_rows(job)
    assert len(reasons) == 1_000 and all("校验位" in reason for reason in reasons.values())
    assert import_progress(job)["created"] == 99_000


def test_unreadable_uploads_and_mappings_are_refused_in_chinese(world: World, tmp_path: Path) -> None:
    user = world.users["county_reviewer"]
    for name, content, expected in (
        ("a.txt", b"hello", "不是可导入的文件"),
        ("empty.csv", b"", "0 字节"),
        ("a.xlsx", b"PK\x03\x04 damaged", "损坏"),
        ("title-only.csv", "只有标题\n".encode(), "找不到表头"),
    ):
        with pytest.raises(ImportRefused, match=expected):
            import_job_start(user=user, unit=world.county, file_name=name, stream=io.BytesIO(content))
    path = write_csv(tmp_path / "a.csv", good_rows(2))
    with path.open("rb") as stream:
        job = import_job_start(user=user, unit=world.county, file_name="a.csv", stream=stream)
    mapping = dict(job.mapping)
    del mapping["head_id_number"]
    with pytest.raises(MappingError, match="身份证号"):
        import_job_run(user=user, job=job, mapping=mapping, use_default_unit=False)
    with pytest.raises(MappingError, match="您不能为“东宝区总工会”建档：审核员只能为下级单位建档"):
        import_job_run(user=user, job=job, mapping=job.mapping, use_default_unit=True)
    assert Household.objects.count() == 0


def test_progress_is_reported_while_importing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("songnuan.archive.importing.BATCH_ROWS", 10)
    seen: list[tuple[int, float]] = []
    import songnuan.archive.importing as importing

    real = importing.household_import

    def spy(**arguments: Any) -> Any:
        report = arguments["progress"]

        def progress(rows: int, fraction: float) -> None:
            seen.append((rows, fraction))
            report(rows, fraction)

        return real(**(arguments | {"progress": progress}))

    monkeypatch.setattr("songnuan.archive.import_jobs.household_import", spy)
    run_import(world, write_csv(tmp_path / "a.csv", good_rows(35)))
    assert [rows for rows, _f in seen] == [10, 20, 30, 35]
    assert all(0 < fraction <= 1 for _r, fraction in seen) and seen[-1][1] == 1.0


def test_luhn_complete_makes_cards_that_pass() -> None:
    from songnuan.archive.idnumbers import luhn_valid

    assert luhn_valid(luhn_complete("622202123456789"))


def test_someone_filing_the_same_person_during_the_import_fails_it_cleanly(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import IntegrityError

    def collide(model: Any, columns: Any, rows: Any) -> None:
        raise IntegrityError("UNIQUE constraint failed: archive_openidentity.id_number")

    monkeypatch.setattr("songnuan.archive.importing.insert_rows", collide)
    job = run_import(world, write_csv(tmp_path / "a.csv", good_rows(3)))
    assert job.state == ImportJob.State.FAILED and "请重新导入" in job.error
    assert Household.objects.count() == 0


def test_a_difficulty_type_outside_the_configured_ones_is_refused(world: World, tmp_path: Path) -> None:
    path = tmp_path / "types.csv"
    rows = [
        [h.name, h.id_number, h.category, kind]
        for h, kind in zip(households(2), ("深度困难", "很困难"), strict=True)
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["姓名", "身份证号码", "类别", "困难类型"], *rows])
    with path.open("rb") as stream:
        job = import_job_start(
            user=world.users["county_reviewer"], unit=world.county, file_name="types.csv", stream=stream
        )
    job.unit = world.enterprise  # no unit column: the rows go to the unit chosen on upload
    job.save()
    import_job_run(user=world.users["county_reviewer"], job=job, mapping=job.mapping, use_default_unit=True)
    job.refresh_from_db()
    assert (job.created, job.rejected) == (1, 1)
    assert "困难类型应为" in rejected_rows(job)[3] and "很困难" in rejected_rows(job)[3]


def test_nan_and_infinity_are_not_amounts(world: World, tmp_path: Path) -> None:
    rows = good_rows(2)
    rows[0][5], rows[1][5] = "NaN", "Infinity"
    job = run_import(world, write_csv(tmp_path / "nan.csv", rows))
    assert job.rejected == 2
    assert all("应是数字" in reason for reason in rejected_rows(job).values())
