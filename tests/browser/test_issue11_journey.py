"""Issue 11's "Done when", walked in a real browser through the pages only (the starting world is the one
every browser test starts from, `tests/world.py`):

1. the city's admin copies this year's campaign into next year's (a new 文号 and title are what the copy
   page asks for; the rest is carried over, one year on);
2. adds an enterprise union under 东宝区 on /manage/ and a reporter account for it, whose one-time password
   is shown once;
3. the new reporter logs in with it, is sent to change it (the same password again is refused) and does;
4. fills the new unit's table and submits it: the header (填报人, 电话, 填报日期) is required, and 报送上级
   asks for confirmation first;
5. the county's reviewer returns it with a comment; the notice reaches the reporter's 待办 (/todo/); the
   reporter resubmits and the county accepts it;
6. the county's entry page shows its own level (本级, typed) beside its whole area (全辖 = 本级 + the
   accepted table below);
7. the city fills and submits its own table, its own reviewer accepts it, and the city's roll-up adds it in.

One test: each step starts from the world the steps before it made through the pages. The numbers follow
the issue's example: 东宝区 1A = 60 = its own 12 + the enterprise's 48.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.orgs.models import Account, Unit
from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = "warmth-2018"
NEW_NUMBER = "荆工办发电〔2018〕20号"
NEW_TITLE = "关于2019年元旦春节期间全市工会开展送温暖活动的通知"
NEW_UNIT = "东宝区石化有限公司工会"
NEW_USERNAME = "shihua_reporter"
NEW_PERSON = "陈静"
NEW_PASSWORD = "hong-mei-dongtian-2019"
COMMENT = "1B 慰问困难企业数请与附表核对"
STATUS_SUBMITTED = "#status-banner.status-submitted"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait for the server side to catch up with the page (autosave is asynchronous)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Dialogs:
    """The confirmation dialogs (data-confirm) a page opens: their messages, each accepted unless
    `dismiss_next` says to cancel the next one."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        self.dismiss_next = False
        page.on("dialog", self.answer)

    def answer(self, dialog: Any) -> None:
        self.seen.append(dialog.message)
        if self.dismiss_next:
            self.dismiss_next = False
            dialog.dismiss()
        else:
            dialog.accept()


@dataclass
class Person:
    """One person's browser tab, with the confirmation dialogs it has seen."""

    page: Any
    dialogs: Dialogs


def person(page: Any) -> Person:
    return Person(page, Dialogs(page))


def entry_path(campaign: Campaign, unit: Unit) -> str:
    return f"/campaigns/{campaign.pk}/units/{unit.pk}/forms/{FORM}/"


def submission_of(campaign: Campaign, unit: Unit) -> Submission:
    return Submission.objects.get(campaign=campaign, unit=unit, form_code=FORM)


def status_text(page: Any) -> str:
    return " ".join(page.inner_text("#status-banner").split())


def messages_text(page: Any) -> str:
    return " ".join(page.locator("ul.messages").inner_text().split())


def click_and_load(who: Person, button: str) -> str:
    """Click `button` of a form with data-confirm: the page asks first (accepted), then the answer loads.
    Returns the question asked."""
    asked = len(who.dialogs.seen)
    with who.page.expect_navigation():
        who.page.get_by_role("button", name=button).click()
    assert len(who.dialogs.seen) == asked + 1, f"{button}: no confirmation asked"
    return who.dialogs.seen[-1]


def send_up(who: Person, unit: Unit) -> None:
    """报送上级, confirmed; the page must say 已报送, or the test says why not."""
    question = click_and_load(who, "报送上级")
    assert question == f"确定把“{unit.name}”的附件1报送上级吗？报送后不能再修改，除非上级退回。"
    if who.page.locator(STATUS_SUBMITTED).count() == 0:
        refusal = " ".join(who.page.get_by_role("alert").all_inner_texts())
        pytest.fail(f"报送上级 refused: {refusal}")
    assert "已报送" in status_text(who.page)


def accept(who: Person, unit: Unit) -> None:
    """审核通过, confirmed."""
    question = click_and_load(who, "审核通过")
    assert question == f"确定审核通过“{unit.name}”的附件1吗？通过后这张表锁定，并计入汇总。"
    who.page.wait_for_selector("#status-banner.status-accepted")


# --- 1. next year's campaign, copied ---


def copy_campaign(browser: Any, live_server: Any, world: World) -> tuple[Person, Campaign]:
    admin = person(log_in(browser, live_server, "city_admin", f"/campaigns/{world.campaign.pk}/copy/"))
    page = admin.page
    assert page.get_by_role("heading", level=1).inner_text() == f"复制为新活动：{world.campaign.title}"
    # Carried over, one year on; the 文号 is this year's to write.
    assert page.get_by_label("文号").input_value() == ""
    assert page.get_by_label("通知标题").input_value() == world.campaign.title
    assert page.get_by_label("活动开始日期").input_value() == "2019-01-01"
    assert page.get_by_label("活动结束日期").input_value() == "2019-02-15"
    assert page.get_by_label("报送截止日期").input_value() == "2019-02-05"
    assert page.get_by_label("接收部门").input_value() == "市总权益保障部"
    assert page.get_by_label(re.compile(r"（warmth-2018）")).is_checked()
    assert page.get_by_label(re.compile(r"（service-centres-2017）")).is_checked()
    assert page.get_by_label("东宝区总工会").is_checked()
    assert page.get_by_label("钟祥市总工会").is_checked()
    assert not page.get_by_label("东宝区恒力水泥有限公司工会").is_checked()
    # This year's campaign becomes the one the new one compares with, and its 本级 setting is kept.
    previous = page.get_by_label("上一年活动").locator("option:checked").inner_text()
    assert world.campaign.document_number in previous or world.campaign.title in previous, previous
    assert page.get_by_label(re.compile(r"本级：各单位只填本单位自身的数")).is_checked()

    # Saved as it comes: the 文号 is asked for, beside its field, and nothing is written.
    page.get_by_role("button", name="保存").click()
    assert "请填写文号" in page.locator(".field-document_number .errors").inner_text()
    assert Campaign.objects.count() == 1

    page.get_by_label("文号").fill(NEW_NUMBER)
    page.get_by_label("通知标题").fill(NEW_TITLE)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/$"))
    assert f"已由“{world.campaign.title}”复制新建送温暖活动“{NEW_TITLE}”" in messages_text(page)
    assert page.get_by_role("heading", level=1).inner_text() == NEW_TITLE
    new = Campaign.objects.get(document_number=NEW_NUMBER)
    assert page.url == f"{live_server.url}/campaigns/{new.pk}/"
    assert new.owner == world.city and new.title == NEW_TITLE
    assert (str(new.period_start), str(new.period_end), str(new.deadline)) == (
        "2019-01-01",
        "2019-02-15",
        "2019-02-05",
    )
    assert sorted(new.form_codes) == sorted(world.campaign.form_codes)
    assert set(new.addressees.all()) == {world.county, world.sibling}
    assert new.previous == world.campaign and new.reporting_scope == ReportingScope.OWN_LEVEL
    return admin, new


# --- 2. a unit and its reporter's account, on /manage/ ---


def add_unit_and_account(admin: Person, live_server: Any, world: World) -> tuple[Unit, str]:
    page = admin.page
    page.goto(f"{live_server.url}/manage/")
    assert page.get_by_role("heading", level=1).inner_text() == "单位管理"
    county_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="东宝区总工会", exact=True))
    county_row.get_by_role("link", name="增加下级单位").click()
    assert page.get_by_role("heading", level=1).inner_text() == "在“东宝区总工会”下增加单位"
    page.get_by_label("单位名称").fill(NEW_UNIT)
    page.get_by_label("类别").select_option(label="企业工会")
    page.get_by_label("联系人").fill(NEW_PERSON)
    page.get_by_label("联系电话").fill("0724-2611234")
    page.get_by_role("button", name="保存").click()
    assert f"已在“东宝区总工会”下增加“{NEW_UNIT}”" in messages_text(page)
    new_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=NEW_UNIT, exact=True))
    assert "企业工会" in new_row.inner_text() and NEW_PERSON in new_row.inner_text()
    unit = Unit.objects.get(name=NEW_UNIT)
    assert unit.parent == world.county

    page.locator(".manage-nav").get_by_role("link", name="账号").click()
    page.get_by_role("link", name="增加账号").click()
    page.get_by_label("登录名").fill(NEW_USERNAME)
    page.get_by_label("姓名").fill(NEW_PERSON)
    units = page.get_by_label("所属单位")
    units.select_option(units.locator("option", has_text=NEW_UNIT).get_attribute("value"))
    page.get_by_label("角色").select_option(label="填报员")
    page.get_by_label("电话").fill("13907241234")
    page.get_by_role("button", name="保存").click()

    # The one-time password, shown this once: the account's page does not show it again.
    assert page.get_by_role("heading", level=1).inner_text() == "账号已创建"
    assert f"账号“{NEW_USERNAME}”（{NEW_PERSON}，{NEW_UNIT}）的一次性密码" in page.inner_text("main")
    password = page.inner_text(".one-time-password").strip()
    assert len(password) >= 10
    page.get_by_role("link", name="返回账号页面").click()
    assert password not in page.content()
    assert "待修改一次性密码" in page.inner_text("main")
    account = Account.objects.get(user__username=NEW_USERNAME)
    assert (account.unit, account.role, account.must_change_password) == (unit, Account.Role.REPORTER, True)
    return unit, password


# --- 3. the new reporter's first login ---


def change_password(page: Any, old: str, new: str) -> None:
    page.get_by_label("旧密码", exact=True).fill(old)
    page.get_by_label("新密码", exact=True).fill(new)
    page.get_by_label("新密码确认", exact=True).fill(new)
    page.get_by_role("button", name="修改密码").click()


def first_login(browser: Any, live_server: Any, entry: str, one_time: str) -> Person:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(30_000)
    reporter = person(context.new_page())
    page = reporter.page
    page.goto(f"{live_server.url}/login/?next={entry}")
    page.get_by_label("用户名").fill(NEW_USERNAME)
    page.get_by_label("密码").fill(one_time)
    page.get_by_role("button", name="登录").click()
    # Sent to change the password first, wherever it was going.
    page.wait_for_url(f"{live_server.url}/password/")
    page.goto(f"{live_server.url}{entry}")
    page.wait_for_url(f"{live_server.url}/password/")
    assert page.get_by_role("heading", level=1).inner_text() == "修改密码"

    # The one-time password again is not a change.
    change_password(page, one_time, one_time)
    assert page.url == f"{live_server.url}/password/", "the one-time password was taken as the new one"
    refusal = " ".join(page.get_by_role("alert").all_inner_texts())
    assert "新密码不能与当前密码（包括管理员给的一次性密码）相同" in refusal, refusal
    assert Account.objects.get(user__username=NEW_USERNAME).must_change_password

    change_password(page, one_time, NEW_PASSWORD)
    page.wait_for_url(f"{live_server.url}/password/done/")
    assert not Account.objects.get(user__username=NEW_USERNAME).must_change_password
    page.goto(f"{live_server.url}{entry}")
    assert page.url == f"{live_server.url}{entry}"
    return reporter


# --- 4. fill and submit ---


def fill_and_submit(reporter: Person, campaign: Campaign, unit: Unit) -> dict[str, Any]:
    page = reporter.page
    values, header = filled_example(FORM)
    assert page.inner_text(".header-line").startswith(f"填报单位：{unit.name}")
    # Nothing below it: the input is its own level (本级), and there is no 全辖 column.
    headings = [" ".join(t.split()) for t in page.locator("table.entry thead th").all_inner_texts()]
    assert "本级" in headings and not any(h.startswith("全辖") for h in headings), headings
    for code, value in values.items():
        page.fill(f"#input-{code}", str(value))
    page.locator(f"#input-{list(values)[-1]}").blur()
    until(lambda: stored_values(submission_of(campaign, unit)) == values, "the filled table to be saved")
    page.reload()
    assert page.locator("td.value[data-state=error]").count() == 0
    assert page.locator("td.value[data-state=warning]").count() == 0

    # Without 填报人, 电话 and 填报日期 the table is not sent up.
    click_and_load(reporter, "报送上级")
    assert submission_of(campaign, unit).status == Submission.Status.DRAFT, "submitted without the header"
    refusal = " ".join(page.get_by_role("alert").all_inner_texts())
    assert "报送前请填写表头的填报人、电话、填报日期" in refusal, refusal

    page.get_by_label("填报人").fill(header["reporter"])
    page.get_by_label("电话").fill(header["phone"])
    page.get_by_label("填报日期").fill("2019-02-03")
    page.get_by_label("填报日期").blur()
    until(lambda: str(submission_of(campaign, unit).report_date) == "2019-02-03", "the header to be saved")
    page.reload()

    # Cancelling the confirmation sends nothing.
    reporter.dialogs.dismiss_next = True
    page.get_by_role("button", name="报送上级").click()
    until(lambda: reporter.dialogs.dismiss_next is False, "the confirmation to be asked")
    assert page.locator("#status-banner.status-draft").count() == 1
    assert submission_of(campaign, unit).status == Submission.Status.DRAFT

    send_up(reporter, unit)
    submitted = submission_of(campaign, unit)
    assert submitted.status == Submission.Status.SUBMITTED
    assert (submitted.reporter, submitted.phone) == (header["reporter"], header["phone"])
    return values


# --- 5. returned with a comment, the notice on the reporter's 待办, resubmitted, accepted ---


def return_notice_resubmit_accept(
    browser: Any, live_server: Any, reporter: Person, campaign: Campaign, unit: Unit
) -> None:
    entry = entry_path(campaign, unit)
    reviewer = person(log_in(browser, live_server, "county_reviewer", entry))
    reviewer.page.get_by_label("审核意见（退回时必填）").fill(COMMENT)
    reviewer.page.get_by_role("button", name="退回修改").click()
    reviewer.page.wait_for_selector("#status-banner.status-returned")
    assert submission_of(campaign, unit).review_comment == COMMENT

    # The notice reaches the reporter's 待办: counted in the site's header, listed with the comment, and
    # opening it leads to the table (and marks it read).
    page = reporter.page
    page.goto(f"{live_server.url}/campaigns/")
    page.get_by_role("link", name="待办 (1)").click()
    page.wait_for_url(f"{live_server.url}/todo/")
    assert page.get_by_role("heading", level=1).inner_text() == "我的待办"
    notice = page.locator("ul.notices.unread > li")
    assert notice.count() == 1
    text = " ".join(notice.inner_text().split())
    assert text.startswith("表格被退回"), text
    assert f"{unit.name}的附件1" in text and "被county_reviewer退回" in text, text
    assert f"审核意见：{COMMENT}" in text, text
    notice.get_by_role("button", name="查看").click()
    page.wait_for_url(f"{live_server.url}{entry}")
    assert COMMENT in page.inner_text(".review-comment")
    assert page.get_by_role("link", name="待办 (0)").count() == 1

    send_up(reporter, unit)
    reviewer.page.goto(f"{live_server.url}{entry}")
    accept(reviewer, unit)
    assert submission_of(campaign, unit).status == Submission.Status.ACCEPTED


# --- 6. the county's own level and whole area ---


def county_sees_own_level_and_whole_area(
    browser: Any, live_server: Any, world: World, campaign: Campaign
) -> None:
    page = log_in(browser, live_server, "county_reporter", entry_path(campaign, world.county))
    headings = [" ".join(t.split()) for t in page.locator("table.entry thead th").all_inner_texts()]
    assert "本级" in headings and "全辖（含下级已审核的表）" in headings, headings
    assert "“全辖”为本级加下级已审核通过的表，由系统计算" in page.inner_text(".scope-note")
    # The county types its own level; 全辖 = 本级 + the accepted table below (12 + 48). 1B has no 本级 yet:
    # 全辖 is the table below alone (blank is not zero, and does not hide what is below).
    page.fill("#input-1A", "12")
    page.locator("#input-1A").blur()
    until(lambda: stored_values(submission_of(campaign, world.county))["1A"] == 12, "the county's 1A")
    page.reload()
    assert page.locator("#input-1A").input_value() == "12"
    assert page.locator("#item-1A td[data-scope-item]").inner_text().strip() == "60"
    assert page.locator("#input-1B").input_value() == ""
    assert page.locator("#item-1B td[data-scope-item]").inner_text().strip() == "9"


# --- 7. the city's own table, accepted by its own reviewer, in the roll-up ---


def city_own_table_accepted_and_rolled_up(
    browser: Any, live_server: Any, admin: Person, world: World, campaign: Campaign, below: dict[str, Any]
) -> None:
    entry = entry_path(campaign, world.city)
    rollup = f"/campaigns/{campaign.pk}/rollup/{world.city.pk}/{FORM}/"
    page = admin.page
    page.goto(f"{live_server.url}{entry}")
    page.fill("#input-1A", "30")
    page.fill("#input-1B", "6")
    page.get_by_label("填报人").fill("刘洋")
    page.get_by_label("电话").fill("0724-2331234")
    page.get_by_label("填报日期").fill("2019-02-01")
    page.get_by_label("填报日期").blur()
    until(
        lambda: (
            stored_values(submission_of(campaign, world.city))["1B"] == 6
            and str(submission_of(campaign, world.city).report_date) == "2019-02-01"
        ),
        "the city's own table to be saved",
    )
    page.reload()
    send_up(admin, world.city)

    reviewer = person(log_in(browser, live_server, "city_reviewer", rollup))
    before = " ".join(reviewer.page.inner_text("p.included").split())
    assert "荆门市总工会（已报送待审核）" in before, before
    assert reviewer.page.inner_text("#item-1A td.value").strip() == str(below["1A"])

    # Nobody is above the city: its own reviewer accepts its table.
    reviewer.page.goto(f"{live_server.url}{entry}")
    accept(reviewer, world.city)
    accepted = submission_of(campaign, world.city)
    assert accepted.status == Submission.Status.ACCEPTED
    assert accepted.reviewed_by == world.users["city_reviewer"]

    # The roll-up now counts it: the city's own 30 and 6 added to the enterprise's accepted table
    # (东宝区's own table is not sent up yet, nor 钟祥市's).
    reviewer.page.goto(f"{live_server.url}{rollup}")
    included = reviewer.page.locator("p.included")
    after = " ".join(included.inner_text().split())
    assert included.get_attribute("data-accepted") == "2", after
    pending = after.split("未纳入汇总")[-1]
    assert "荆门市总工会" not in pending and "东宝区总工会" in pending and "钟祥市总工会" in pending, after
    assert reviewer.page.inner_text("#item-1A td.value").strip() == str(below["1A"] + 30)
    assert reviewer.page.inner_text("#item-1B td.value").strip() == str(below["1B"] + 6)
    assert reviewer.page.inner_text("#item-2A td.value").strip() == str(below["2A"])
    assert Decimal(reviewer.page.inner_text("#item-3A td.value").strip()) == below["3A"]

    # And the city's dashboard has a row for the city itself, its 附件1 accepted.
    reviewer.page.goto(f"{live_server.url}/campaigns/{campaign.pk}/dashboard/")
    own = reviewer.page.get_by_role("row").filter(has_text="荆门市总工会（本级）")
    assert own.count() == 1
    assert own.locator(f"td[data-form={FORM}]").get_by_role("link", name="审核通过").count() == 1


def test_issue11_journey(browser: Any, live_server: Any, world: World) -> None:
    admin, campaign = copy_campaign(browser, live_server, world)
    unit, one_time = add_unit_and_account(admin, live_server, world)
    reporter = first_login(browser, live_server, entry_path(campaign, unit), one_time)
    values = fill_and_submit(reporter, campaign, unit)
    return_notice_resubmit_accept(browser, live_server, reporter, campaign, unit)
    county_sees_own_level_and_whole_area(browser, live_server, world, campaign)
    city_own_table_accepted_and_rolled_up(browser, live_server, admin, world, campaign, values)
