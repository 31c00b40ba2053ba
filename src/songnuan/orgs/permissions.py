"""Who may see and do what: every service, selector, page, download and API call asks this module, and nothing
else decides it.

- 填报员 (reporter): sees and fills its own unit only.
- 审核员 (reviewer): sees its own unit and every unit below it; accepts or returns the tables of the units
  below it, and — in a campaign its own unit sent out, where nobody is above — its own unit's tables
  (`may_review_table`).
- 管理员 (admin): what a reviewer may, and fills its own unit.

Roll-ups (the roll-up page, its drill-down, the comparison grid, their Excel and print) show the units
below a unit, so they are for the reviewing roles only (`can_see_rollup`), never a reporter, not even of its
own unit.

The archive of needy households (困难职工档案, `archive`) asks the `may_…_file` questions with the file's
unit (`household.unit`): this module imports nothing from the apps above it. The unit's own staff open and
keep a file and *propose* to end it; a reviewer above the unit decides (files, reviews, ends, reopens).
Full ID, phone and card numbers need the Django permission `archive.view_personal_data` as well as the
file's unit in sight. An import job is its starter's own.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet

from songnuan.orgs.models import Account, Unit

User = AuthUser | AnonymousUser

#: The Django permission (app label and codename of `archive.models`' Meta) to see full personal numbers.
PERSONAL_DATA_PERMISSION = "archive.view_personal_data"


def account_of(user: User) -> Account | None:
    """The user's account, or None: anonymous, no account, or deactivated. A deactivated user may still reach
    these checks without a session (an import job started before it was deactivated runs as its user), and
    keeps no power, as Django's own `has_perm` gives an inactive user none."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.account
    except Account.DoesNotExist:
        return None


def units_visible_to(user: User) -> QuerySet[Unit]:
    account = account_of(user)
    if account is None:
        return Unit.objects.none()
    if account.role == Account.Role.REPORTER:
        return Unit.objects.filter(pk=account.unit_id)
    return Unit.objects.filter(path__startswith=account.unit.path)


def unit_visible(user: User, unit: Unit) -> bool:
    account = account_of(user)
    if account is None:
        return False
    if account.role == Account.Role.REPORTER:
        return unit.pk == account.unit_id
    return unit.is_within(account.unit)


def can_fill(user: User, unit: Unit) -> bool:
    account = account_of(user)
    return (
        account is not None
        and account.unit_id == unit.pk
        and account.role in (Account.Role.REPORTER, Account.Role.ADMIN)
    )


def can_review(user: User, unit: Unit) -> bool:
    account = account_of(user)
    return (
        account is not None
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.is_below(account.unit)
    )


def may_review_table(user: User, unit: Unit, campaign_owner_id: int | None) -> bool:
    """Return, accept or unlock a statistical table of `unit` in a campaign whose notice `campaign_owner_id`
    sent out (None: not known, as for a table not started): a reviewer or admin above the unit
    (`can_review`), and — for the tables of the campaign's owner itself, which has nobody above it in the
    campaign — a reviewer or admin of the owner unit. That is the only place where a unit reviews its own
    tables: a county's own table still goes up to the city."""
    if can_review(user, unit):
        return True
    account = account_of(user)
    return (
        account is not None
        and campaign_owner_id is not None
        and unit.pk == campaign_owner_id
        and account.unit_id == unit.pk
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
    )


def can_see_rollup(user: User, unit: Unit) -> bool:
    """The roll-up of `unit` (and its drill-down, grid, downloads): a reviewer or admin of that unit or of a
    unit above it. A reporter sees its own unit only, and a roll-up names and sums the units below it."""
    account = account_of(user)
    return (
        account is not None
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.is_within(account.unit)
    )


def progress_unit_of(user: User) -> Unit | None:
    """The unit whose progress dashboard the user sees (its own unit, with the units below it), or None:
    the roll-up's rule (`can_see_rollup`), so a reporter has none."""
    account = account_of(user)
    if account is None or not can_see_rollup(user, account.unit):
        return None
    return account.unit


# --- the archive of needy households: a household's rule takes `household.unit` --------------------------


def may_open_file(user: User, unit: Unit) -> bool:
    """Open a new file for a household of `unit` (by hand or by import): the unit's own staff (reporter or
    admin; the file is then 已申请) and the reviewers and admins above it (who file it at once,
    `may_decide_file`)."""
    return can_fill(user, unit) or can_review(user, unit)


def units_to_open_files_in(user: User) -> list[Unit]:
    """The units `may_open_file` allows, in tree order: where a new file or an imported row may go."""
    return [unit for unit in units_visible_to(user) if may_open_file(user, unit)]


def may_keep_file(user: User, unit: Unit) -> bool:
    """Keep the 四明确 plan of a file of `unit`: the unit's own staff and the reviewers above it."""
    return can_fill(user, unit) or can_review(user, unit)


def may_decide_file(user: User, unit: Unit) -> bool:
    """Decide on a file of `unit` — file it (建档), review it yearly, take it out of difficulty or close it,
    approve or reject a proposal, reopen it: a reviewer or admin above the unit, never its own staff. A file
    such a user opens is filed at once."""
    return can_review(user, unit)


def may_propose_file(user: User, unit: Unit) -> bool:
    """Propose (and withdraw the proposal) to take a file of `unit` out of difficulty or to close it: the
    unit's own staff, who may not decide it themselves."""
    return can_fill(user, unit)


def has_personal_data_permission(user: User) -> bool:
    """Whether the user holds the permission to see full ID, phone and card numbers — only ever in the files
    it sees: the Excel export of its own search with full numbers, a search by the digits the masks hide.
    For one file, `may_see_personal_data`. Django gives an inactive user no permission, a superuser all."""
    return user.has_perm(PERSONAL_DATA_PERMISSION)


def may_see_personal_data(user: User, unit: Unit) -> bool:
    """Full ID, phone and card numbers of a file of `unit`: with the permission, and only for a unit the
    user sees (its own as a reporter, its own and those below as a reviewer or admin)."""
    return has_personal_data_permission(user) and unit_visible(user, unit)


def may_start_import(user: User, unit: Unit) -> bool:
    """Upload a list of households to import from `unit`: any unit the user sees (the upload form offers
    `units_visible_to`). Each row then lands in a unit where `may_open_file` allows it (the row's own, or
    `unit` itself when that is allowed there)."""
    return unit_visible(user, unit)


def import_jobs_owner(user: User) -> int | None:
    """The id of the user whose import jobs `user` sees and runs — its own only, not even a reviewer above
    sees another's upload — or None when nobody is logged in. The filter behind the list of import jobs."""
    return user.pk if user.is_authenticated else None


def may_use_import_job(user: User, started_by_id: int) -> bool:
    """See, run, follow and download the rejects of an import job started by `started_by_id`: its starter."""
    owner = import_jobs_owner(user)
    return owner is not None and owner == started_by_id


# --- administration in the app (管理员): units and accounts of the admin's own subtree ---------------------


def may_manage_unit(user: User, unit: Unit) -> bool:
    """See `unit` on the administration pages, add a unit below it, rename it, manage its accounts: an admin
    of that unit or of a unit above it. Never a reviewer or reporter, never a sibling's or a parent's unit."""
    account = account_of(user)
    return account is not None and account.role == Account.Role.ADMIN and unit.is_within(account.unit)


def may_restructure_unit(user: User, unit: Unit) -> bool:
    """Move `unit` under another unit, or close it: an admin above it (strictly). An admin cannot move or
    close its own unit, which would take the admin out of its own reach."""
    account = account_of(user)
    return account is not None and account.role == Account.Role.ADMIN and unit.is_below(account.unit)


def units_to_manage(user: User) -> QuerySet[Unit]:
    """The units `may_manage_unit` allows, in tree order: the admin's subtree (none for anyone else)."""
    account = account_of(user)
    if account is None or account.role != Account.Role.ADMIN:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=account.unit.path)


def may_manage_account(user: User, account: Account) -> bool:
    """Disable or enable `account`, reset its password, change its role: an admin of its unit or above, for
    another person's account (one's own password is changed on /password/), never a superuser's (the Django
    admin's business)."""
    return (
        may_manage_unit(user, account.unit) and account.user_id != user.pk and not account.user.is_superuser
    )


def may_grant_personal_data(user: User, account: Account) -> bool:
    """Grant or revoke the full-number permission (`PERSONAL_DATA_PERMISSION`) to `account`: an admin who may
    manage that account and holds the permission itself — nobody hands out what it does not have."""
    return may_manage_account(user, account) and has_personal_data_permission(user)


# --- campaigns in the app (管理员 of the unit that sends the notice) ----------------------------------------


def may_create_campaign(user: User, unit: Unit) -> bool:
    """Create, copy or edit a campaign (送温暖活动) whose notice `unit` sends out: an admin of that unit
    itself — not a reviewer or reporter, and not an admin above it (the city does not write a county's notice)
    nor below it (a county never writes one in the city's name). The addressees are then chosen within the
    unit's own subtree (`campaign_addressee_choices`)."""
    account = account_of(user)
    return (
        account is not None
        and account.role == Account.Role.ADMIN
        and account.unit_id == unit.pk
        and unit.closed_at is None
    )


def campaign_addressee_choices(owner: Unit) -> QuerySet[Unit]:
    """The units a campaign of `owner` may be addressed to (主送单位), in tree order: the open units strictly
    below `owner`. The owner itself takes part in its own campaign without being an addressee."""
    return Unit.objects.filter(path__startswith=owner.path, closed_at__isnull=True).exclude(pk=owner.pk)


# --- the relief ledger (帮扶台账): a record's rule takes its unit ----------------------------------------


def may_see_ledger(user: User, unit: Unit) -> bool:
    """See the ledger of `unit` (receipts, help records, batches, activities, 公示, downloads): the unit's own
    staff, and the reviewers and admins above it — the rule of `unit_visible`."""
    return unit_visible(user, unit)


def may_enter_ledger(user: User, unit: Unit) -> bool:
    """Record what `unit` raised, handed out and did (receipts, help records as drafts, rosters, activities),
    and change or delete its own drafts: any account of the unit itself. Not a unit above: the city records
    its own payments, a county its own."""
    account = account_of(user)
    return account is not None and account.unit_id == unit.pk and unit.closed_at is None


def may_approve_help(user: User, unit: Unit) -> bool:
    """Approve (审核) a help record of `unit`, reverse (冲销) an approved one, and make, send and reconcile
    the unit's bank batches: a reviewer or admin of the unit itself or above. The service adds the rule that
    the approver is not who entered the record (preparer ≠ approver)."""
    account = account_of(user)
    return (
        account is not None
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.is_within(account.unit)
    )


def may_allocate(user: User, giver: Unit, taker: Unit) -> bool:
    """Pass money down (下拨) from `giver` to `taker`: an account of the giver (`may_enter_ledger`), to a unit
    strictly below it."""
    return may_enter_ledger(user, giver) and taker.is_below(giver)


# --- spot checks (全总电话随机抽查, `checks`) ---------------------------------------------------------------

#: The Django permission of the callers (核查员) who phone the sampled households: full phone numbers on the
#: call sheets (each view logged) and the results they enter, in the checks of their own unit.
SPOT_CHECK_CALLER_PERMISSION = "checks.call_households"


def may_run_spot_check(user: User, unit: Unit) -> bool:
    """Draw a spot check over `unit`'s subtree, draw replacements, publish its bulletin: a reviewer or admin
    of the unit itself (the checking unit acts on its own subtree; a county does not run the city's check)."""
    account = account_of(user)
    return (
        account is not None
        and account.unit_id == unit.pk
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.closed_at is None
    )


def may_call_households(user: User, unit: Unit) -> bool:
    """See the call sheets (full phone numbers) of a check run by `unit` and enter what the calls found: an
    account of that unit with the callers' permission."""
    account = account_of(user)
    return account is not None and account.unit_id == unit.pk and user.has_perm(SPOT_CHECK_CALLER_PERMISSION)


def may_see_spot_check(user: User, unit: Unit) -> bool:
    """See a check run by `unit` — its plan, progress and results (numbers masked): whoever may run it or call
    for it, and the reviewers and admins above the unit."""
    account = account_of(user)
    if account is None:
        return False
    if may_call_households(user, unit):
        return True
    return account.role in (Account.Role.REVIEWER, Account.Role.ADMIN) and unit.is_within(account.unit)


# --- self-checks (自查, `checks`) ---------------------------------------------------------------------


def may_run_self_check(user: User, unit: Unit) -> bool:
    """Run a self-check of `unit`'s subtree: an account of the unit itself, or a reviewer or admin above it
    (who sees its ledger)."""
    return may_see_ledger(user, unit) and (may_enter_ledger(user, unit) or may_approve_help(user, unit))


def may_answer_finding(user: User, unit: Unit) -> bool:
    """Answer a self-check finding about `unit` (corrected or explained): the unit's own staff, or the
    reviewers and admins above it."""
    return may_enter_ledger(user, unit) or may_approve_help(user, unit)
