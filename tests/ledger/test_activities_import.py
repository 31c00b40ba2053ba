"""Importing media reports, return trips and visits from Excel: headers by their usual names, every bad row
with its row, column and reason, the good rows in together, one history entry per import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied

from songnuan.ledger.activities import StationInput, TeamInput, station_register, team_create
from songnuan.ledger.activity_import import LISTS, ImportRefused, guess_columns, import_activities
from songnuan.ledger.models import Activity, LedgerEvent
from tests.ledger.ledgerworld import LedgerWorld


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, "2018年送温暖活动媒体报道统计")  # a title row above the header
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _import(ledger: LedgerWorld, code: str, path: Path, user: str = "county_reporter") -> Any:
    world = ledger.world
    return import_activities(
        user=world.users[user],
        campaign=world.campaign,
        unit=world.county,
        list_code=code,
        path=path,
        file_name=path.name,
    )


def test_headers_are_found_by_their_usual_names() -> None:
    header = ["序号", "媒体级别", "报道媒体", "刊播日期", "报道标题", "网址", "备注"]
    assert guess_columns(LISTS["media"], header) == {
        "subkind": 1,
        "place": 2,
        "on": 3,
        "title": 4,
        "link": 5,
        "note": 6,
    }


def test_media_reports_good_and_bad_rows(ledger: LedgerWorld, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "媒体.xlsx",
        [
            ["级别", "媒体", "日期", "标题", "链接"],
            ["中央级", "工人日报", dt.date(2018, 1, 20), "荆门送温暖", "http://www.workercn.cn/1"],
            ["省部级", "湖北日报", "2018年1月22日", "困难职工过暖冬", None],
            ["自媒体", "荆门晚报", dt.date(2018, 1, 23), "标题", None],  # 5: unknown level
            ["省级", "湖北电视台", dt.date(2018, 3, 1), "标题", None],  # 6: after the campaign
            ["成果展示", "", dt.date(2018, 1, 24), "展览", "www.no-scheme.cn"],  # 7: no outlet, bad link
            [None, None, None, None, None],  # blank: skipped
            ["中央", "新华社", "昨天", "", None],  # 9: not a date, no title
        ],
    )
    outcome = _import(ledger, "media", path)
    assert outcome.created == 2
    # the title is row 1, the header row 2 (as Excel numbers them)
    assert [row.row for row in outcome.rejected] == [5, 6, 7, 9]
    reasons = {row.row: " ".join(row.reasons) for row in outcome.rejected}
    assert "第5行" in reasons[5] and "A列“级别”" in reasons[5] and "自媒体" in reasons[5]
    assert "D列" not in reasons[6] and "C列“日期”" in reasons[6] and "不在活动期间" in reasons[6]
    assert "B列“媒体”" in reasons[7] and "E列“链接”" in reasons[7]
    assert "C列“日期”" in reasons[9] and "D列“标题”" in reasons[9]
    made = Activity.objects.order_by("on")
    assert [(a.subkind, a.place, a.on) for a in made] == [
        ("central", "工人日报", dt.date(2018, 1, 20)),
        ("provincial", "湖北日报", dt.date(2018, 1, 22)),
    ]
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.ACTIVITIES_IMPORTED)
    assert event.new["imported"] == "2"
    assert "媒体.xlsx" in event.note and "退回4行" in event.note


def test_return_trips_from_gbk_csv(ledger: LedgerWorld, tmp_path: Path) -> None:
    text = (
        "交通工具,包租数量,运送农民工（人次）,发车日期,线路,费用（元）\n"
        '汽车,4,180,2018-02-01,荆门—信阳,"12,000.00"\n'
        "专列,1,1200,2018/2/3,荆门—成都,\n"
        "火箭,1,10,2018-02-03,,\n"
        "汽车,2.5,80,2018-02-03,,\n"
        "船,1,0,2018-02-03,,\n"
        "飞机,1,100,2018-02-03,,-5\n"
        "包机,1,150,2018-02-04,,100.005\n"
    )
    outcome = _import(ledger, "return-trip", _csv(tmp_path / "返乡.csv", text, "gbk"))
    assert outcome.created == 2
    rejected = {row.row: " ".join(row.reasons) for row in outcome.rejected}
    assert sorted(rejected) == [4, 5, 6, 7, 8]
    assert "交通工具" in rejected[4] and "火箭" in rejected[4]
    assert "B列“数量”" in rejected[5] and "不是整数" in rejected[5]
    assert "C列“运送人数”" in rejected[6] and "大于零" in rejected[6]
    assert "F列“费用（元）”" in rejected[7]
    assert "两位小数" in rejected[8]
    coach = Activity.objects.get(subkind="coach")
    assert (coach.quantity, coach.people, coach.amount) == (4, 180, Decimal("12000.00"))
    assert Activity.objects.get(subkind="train").amount is None  # blank is not zero


def test_visits_with_kinds_teams_and_households(ledger: LedgerWorld, tmp_path: Path) -> None:
    world = ledger.world
    team = team_create(
        user=world.users["county_reporter"],
        campaign=world.campaign,
        unit=world.county,
        data=TeamInput(name="第一工作组", leader="刘"),
    )
    path = _xlsx(
        tmp_path / "走访.xlsx",
        [
            ["走访类型", "日期", "人数", "企业数", "企业类型", "走访对象", "档案编号", "工作组"],
            ["走访企业", dt.date(2018, 1, 15), None, 2, "特困企业", "水泥厂", None, "第一工作组"],
            ["一线职工", dt.date(2018, 1, 16), 50, None, None, "环卫工人", None, None],
            ["困难家庭", dt.date(2018, 1, 17), None, None, None, "", ledger.wang.pk, "第一工作组"],
            ["送政策到户", dt.date(2018, 1, 18), 30, None, None, "", None, None],
            ["走访企业", dt.date(2018, 1, 19), None, 1, None, "", None, None],  # 6: no kind of enterprise
            [
                "慰问一线职工",
                dt.date(2018, 1, 19),
                5,
                None,
                "特困企业",
                "",
                None,
                None,
            ],  # 7: kind not for this
            ["参观", dt.date(2018, 1, 19), 5, None, None, "", None, None],  # 8: unknown visit kind
            ["一线职工", dt.date(2018, 1, 19), 5, None, None, "", None, "第九组"],  # 9: unknown team
            ["困难家庭", dt.date(2018, 1, 19), None, None, None, "", 999999, None],  # 10: no such file
        ],
    )
    outcome = _import(ledger, "visits", path)
    assert outcome.created == 4
    rejected = {row.row: " ".join(row.reasons) for row in outcome.rejected}
    assert sorted(rejected) == [7, 8, 9, 10, 11]
    assert "E列“企业类型”" in rejected[7]
    assert "E列“企业类型”" in rejected[8]
    assert "A列“走访类型”" in rejected[9] and "参观" in rejected[9]
    assert "H列“工作组”" in rejected[10] and "第九组" in rejected[10]
    assert "G列“档案编号”" in rejected[11]
    assert team.activities.count() == 2
    assert Activity.objects.get(kind=Activity.Kind.VISIT_HOUSEHOLD).household == ledger.wang
    assert Activity.objects.get(kind=Activity.Kind.VISIT_ENTERPRISE).subkind == "needy"


def test_a_file_of_only_bad_rows_writes_nothing(ledger: LedgerWorld, tmp_path: Path) -> None:
    text = "级别,媒体,日期,标题\n自媒体,荆门晚报,2018-01-20,标题\n"
    outcome = _import(ledger, "media", _csv(tmp_path / "m.csv", text))
    assert outcome.created == 0 and len(outcome.rejected) == 1
    assert (
        not Activity.objects.exists()
        and not LedgerEvent.objects.filter(activity__isnull=True, action__startswith="activity").exists()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "空"),
        ("媒体,日期,标题\n工人日报,2018-01-20,标题\n".encode(), "级别"),
        (b"\x00\x01\x02garbage", "电子表格"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(
    ledger: LedgerWorld, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportRefused) as refused:
        _import(ledger, "media", path)
    assert message in str(refused.value) and "bad.csv" in str(refused.value)
    assert (
        not Activity.objects.exists()
        and not LedgerEvent.objects.filter(activity__isnull=True, action__startswith="activity").exists()
    )


def test_an_unknown_list_is_refused(ledger: LedgerWorld, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused):
        _import(ledger, "stations", _csv(tmp_path / "s.csv", "a,b,c\n"))


@pytest.mark.parametrize("user", ["city_reviewer", "sibling_reporter", "enterprise_reporter"])
def test_only_the_units_accounts_import(ledger: LedgerWorld, tmp_path: Path, user: str) -> None:
    text = "级别,媒体,日期,标题\n中央级,工人日报,2018-01-20,标题\n"
    with pytest.raises(PermissionDenied):
        _import(ledger, "media", _csv(tmp_path / "m.csv", text), user=user)
    assert not Activity.objects.exists()


def test_station_list_is_not_imported_but_a_station_is_kept(ledger: LedgerWorld) -> None:
    # stations are a register entered on their page; the import covers media, return trips and visits
    assert set(LISTS) == {"media", "return-trip", "visits"}
    station = station_register(
        user=ledger.world.users["county_reporter"],
        unit=ledger.world.county,
        data=StationInput(name="站", address="路", opened_on=dt.date(2017, 1, 1)),
    )
    assert station.closed_on is None


def test_importing_the_same_list_again_creates_nothing_new(ledger: LedgerWorld, tmp_path: Path) -> None:
    text = (
        "交通工具,包租数量,运送农民工（人次）,发车日期,线路\n"
        "汽车,1,45,2018-02-01,荆门—信阳\n"
        "汽车,1,45,2018-02-01,荆门—信阳\n"  # two coaches booked alike: two activities
        "专列,1,1200,2018-02-03,荆门—成都\n"
    )
    first = _import(ledger, "return-trip", _csv(tmp_path / "返乡.csv", text))
    assert (first.created, first.existing) == (3, 0)
    again = _import(ledger, "return-trip", _csv(tmp_path / "返乡（再次）.csv", text))
    assert (again.created, again.existing, again.rows) == (0, 3, 3)
    # The list grown by a row: only that row is new.
    grown = _import(
        ledger, "return-trip", _csv(tmp_path / "返乡（补充）.csv", text + "汽车,1,45,2018-02-01,荆门—信阳\n")
    )
    assert (grown.created, grown.existing) == (1, 3)
    assert Activity.objects.filter(subkind="coach").count() == 3
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.ACTIVITIES_IMPORTED).count() == 2
    assert Activity.objects.filter(import_key="").count() == 0  # every imported row carries its key


def test_a_refused_activity_is_in_the_history(ledger: LedgerWorld) -> None:
    from songnuan.ledger.activities import ActivityInput, activity_add, activity_edit
    from songnuan.ledger.services import LedgerError

    world = ledger.world
    user = world.users["county_reporter"]
    bad = ActivityInput(kind="return-trip", subkind="coach", on=dt.date(2019, 5, 1), quantity=1, people=40)
    with pytest.raises(LedgerError):
        activity_add(user=user, campaign=world.campaign, unit=world.county, data=bad)
    refused = LedgerEvent.objects.get(action=LedgerEvent.Action.REFUSED)
    assert refused.user == user and refused.unit == world.county and "不能保存" in refused.note
    assert refused.new["subkind"] == "coach" and refused.new["people"] == "40"
    good = activity_add(
        user=user,
        campaign=world.campaign,
        unit=world.county,
        data=ActivityInput(
            kind="return-trip", subkind="coach", on=dt.date(2018, 2, 1), quantity=1, people=40
        ),
    )
    with pytest.raises(LedgerError):
        activity_edit(user=user, activity=good, data=bad)
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.REFUSED, activity=good).count() == 1
    good.refresh_from_db()
    assert good.on == dt.date(2018, 2, 1)  # the refused edit changed nothing
