"""The permission module as a matrix: who × which unit → the exact answer of every question in permissions.py.

A tree of its own, so that every relation appears once, seen from the county 东宝区 where the accounts sit:

    荆门市总工会 (parent)
    ├── 东宝区总工会 (own)            sort_order 2   reporter, reviewer, admin, a deactivated admin
    │   ├── 水泥厂工会 (child)
    │   │   └── 水泥厂一车间工会 (grandchild)
    │   └── 人民医院工会 (child2)
    ├── 钟祥市总工会 (sibling)         sort_order 1
    │   └── 钟祥农场工会 (branch: another branch of the tree)
    └── 高新区工会 (zone)              sort_order 2, made after 东宝区: after it among equals

plus a user without an account, and nobody logged in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db.models import QuerySet

from songnuan.orgs.models import PATH_DIGITS, Account, Unit, path_segment
from songnuan.orgs.permissions import (
    account_of,
    can_fill,
    can_review,
    can_see_rollup,
    has_personal_data_permission,
    import_jobs_owner,
    may_decide_file,
    may_keep_file,
    may_open_file,
    may_propose_file,
    may_review_table,
    may_see_personal_data,
    may_start_import,
    may_use_import_job,
    progress_unit_of,
    unit_visible,
    units_to_open_files_in,
    units_visible_to,
)
from songnuan.orgs.selectors import unit_subtree
from songnuan.orgs.services import account_create, unit_create

PASSWORD = "a-long-test-pass-phrase"
RELATIONS = ("own", "child", "grandchild", "parent", "sibling", "branch")
WHO = ("reporter", "reviewer", "admin", "inactive", "no-account", "anonymous")


@dataclass
class Tree:
    units: dict[str, Unit]
    users: dict[str, User | AnonymousUser]


@pytest.fixture
def tree(db: None) -> Tree:
    parent = unit_create(name="荆门市总工会", kind=Unit.Kind.CITY)
    own = unit_create(name="东宝区总工会", kind=Unit.Kind.COUNTY, parent=parent, sort_order=2)
    child = unit_create(name="水泥厂工会", kind=Unit.Kind.ENTERPRISE, parent=own)
    grandchild = unit_create(name="水泥厂一车间工会", kind=Unit.Kind.ENTERPRISE, parent=child)
    child2 = unit_create(name="人民医院工会", kind=Unit.Kind.INSTITUTION, parent=own)
    sibling = unit_create(name="钟祥市总工会", kind=Unit.Kind.COUNTY, parent=parent, sort_order=1)
    branch = unit_create(name="钟祥农场工会", kind=Unit.Kind.ENTERPRISE, parent=sibling)
    zone = unit_create(name="高新区工会", kind=Unit.Kind.ZONE, parent=parent, sort_order=2)
    units = {
        "own": own,
        "child": child,
        "grandchild": grandchild,
        "child2": child2,
        "parent": parent,
        "sibling": sibling,
        "branch": branch,
        "zone": zone,
    }
    users: dict[str, User | AnonymousUser] = {
        role: account_create(username=f"own_{role}", password=PASSWORD, unit=own, role=role).user
        for role in (Account.Role.REPORTER, Account.Role.REVIEWER, Account.Role.ADMIN)
    }
    inactive = account_create(
        username="own_inactive", password=PASSWORD, unit=own, role=Account.Role.ADMIN
    ).user
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    users["inactive"] = inactive
    users["no-account"] = User.objects.create_user(username="no_account", password=PASSWORD)
    users["anonymous"] = AnonymousUser()
    return Tree(units, users)


def _fresh(user: User | AnonymousUser) -> User | AnonymousUser:
    """The user as a request would load it: nothing cached from the fixture."""
    return user if isinstance(user, AnonymousUser) else User.objects.get(pk=user.pk)


def _names(units: QuerySet[Unit]) -> set[str]:
    return set(units.values_list("name", flat=True))


# --- account_of --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("reporter", "reporter"),
        ("reviewer", "reviewer"),
        ("admin", "admin"),
        ("inactive", None),  # deactivated: no powers left, even with an account
        ("no-account", None),
        ("anonymous", None),
    ],
)
def test_account_of(tree: Tree, who: str, role: str | None) -> None:
    user = _fresh(tree.users[who])
    account = account_of(user)
    if role is None:
        assert account is None
    else:
        assert account == Account.objects.get(user__username=f"own_{who}")
        assert (account.role, account.unit) == (role, tree.units["own"])


# --- units_visible_to --------------------------------------------------------------------------------------

OWN_SUBTREE = {"东宝区总工会", "水泥厂工会", "水泥厂一车间工会", "人民医院工会"}


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("reporter", {"东宝区总工会"}),
        ("reviewer", OWN_SUBTREE),
        ("admin", OWN_SUBTREE),
        ("inactive", set()),
        ("no-account", set()),
        ("anonymous", set()),
    ],
)
def test_units_visible_to(tree: Tree, who: str, visible: set[str]) -> None:
    units = units_visible_to(_fresh(tree.users[who]))
    assert isinstance(units, QuerySet)
    assert _names(units) == visible
    # A queryset the callers narrow further: it must still be one.
    assert _names(units.filter(kind=Unit.Kind.ENTERPRISE)) == visible & {"水泥厂工会", "水泥厂一车间工会"}


@pytest.mark.parametrize(
    ("at", "role", "visible"),
    [
        ("parent", "reviewer", {"荆门市总工会", "钟祥市总工会", "钟祥农场工会", "高新区工会"} | OWN_SUBTREE),
        ("parent", "reporter", {"荆门市总工会"}),
        ("grandchild", "reviewer", {"水泥厂一车间工会"}),
        ("grandchild", "admin", {"水泥厂一车间工会"}),
        ("sibling", "admin", {"钟祥市总工会", "钟祥农场工会"}),
        ("child2", "reporter", {"人民医院工会"}),
    ],
)
def test_units_visible_from_elsewhere_in_the_tree(tree: Tree, at: str, role: str, visible: set[str]) -> None:
    user = account_create(username=f"{at}_{role}", password=PASSWORD, unit=tree.units[at], role=role).user
    assert _names(units_visible_to(_fresh(user))) == visible
    # unit_visible agrees with the list, unit by unit.
    assert {u.name for u in tree.units.values() if unit_visible(_fresh(user), u)} == visible


# --- the matrix: who × relation → unit_visible, can_fill, can_review, can_see_rollup ---------------------

#                     own    child  grandchild parent sibling branch
MATRIX: dict[str, dict[str, tuple[bool, bool, bool, bool, bool, bool]]] = {
    "unit_visible": {
        "reporter": (True, False, False, False, False, False),
        "reviewer": (True, True, True, False, False, False),
        "admin": (True, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "can_fill": {
        "reporter": (True, False, False, False, False, False),
        "reviewer": (False, False, False, False, False, False),  # a reviewer reviews, it does not fill
        "admin": (True, False, False, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "can_review": {
        "reporter": (False, False, False, False, False, False),
        "reviewer": (False, True, True, False, False, False),  # never its own unit's tables
        "admin": (False, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "can_see_rollup": {
        "reporter": (False, False, False, False, False, False),  # a roll-up names the units below
        "reviewer": (True, True, True, False, False, False),
        "admin": (True, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    # --- the archive of needy households (a household's rule is asked with household.unit) ---
    "may_open_file": {
        "reporter": (True, False, False, False, False, False),  # its own unit's, as applications
        "reviewer": (False, True, True, False, False, False),  # those below, filed at once
        "admin": (True, True, True, False, False, False),  # both
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "may_keep_file": {
        "reporter": (True, False, False, False, False, False),
        "reviewer": (False, True, True, False, False, False),
        "admin": (True, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "may_decide_file": {
        "reporter": (False, False, False, False, False, False),  # it proposes
        "reviewer": (False, True, True, False, False, False),  # never its own unit's files
        "admin": (False, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "may_propose_file": {
        "reporter": (True, False, False, False, False, False),
        "reviewer": (False, False, False, False, False, False),  # it decides, or its own unit's staff propose
        "admin": (True, False, False, False, False, False),  # its own unit's files only
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "may_start_import": {
        "reporter": (True, False, False, False, False, False),
        "reviewer": (True, True, True, False, False, False),  # from its own unit: rows name the units below
        "admin": (True, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    # Without the permission nobody sees full numbers; with it, see PERSONAL_DATA below.
    "may_see_personal_data": {
        "reporter": (False, False, False, False, False, False),
        "reviewer": (False, False, False, False, False, False),
        "admin": (False, False, False, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
}
QUESTIONS: dict[str, Callable[[User | AnonymousUser, Unit], bool]] = {
    "unit_visible": unit_visible,
    "can_fill": can_fill,
    "can_review": can_review,
    "can_see_rollup": can_see_rollup,
    "may_open_file": may_open_file,
    "may_keep_file": may_keep_file,
    "may_decide_file": may_decide_file,
    "may_propose_file": may_propose_file,
    "may_start_import": may_start_import,
    "may_see_personal_data": may_see_personal_data,
}

CASES = [
    pytest.param(question, who, relation, expected, id=f"{question}-{who}-{relation}")
    for question, rows in MATRIX.items()
    for who, answers in rows.items()
    for relation, expected in zip(RELATIONS, answers, strict=True)
]


def test_the_matrix_covers_every_question_and_everyone() -> None:
    assert set(MATRIX) == set(QUESTIONS)
    assert all(tuple(rows) == WHO for rows in MATRIX.values())


@pytest.mark.parametrize(("question", "who", "relation", "expected"), CASES)
def test_permission(tree: Tree, question: str, who: str, relation: str, expected: bool) -> None:
    answer = QUESTIONS[question](_fresh(tree.users[who]), tree.units[relation])
    assert answer is expected


# --- may_review_table: who decides a campaign's table, by where the campaign's owner sits -----------------

#: owner → who → relation (own child grandchild parent sibling branch) → may return/accept/unlock the table.
#: The accounts sit in 东宝区 (own). Only where the campaign's owner is 东宝区 itself do its reviewer and
#: admin decide 东宝区's own tables (nobody is above it in that campaign); elsewhere the rule is `can_review`.
REVIEW_TABLE: dict[str | None, dict[str, tuple[bool, bool, bool, bool, bool, bool]]] = {
    "own": {
        "reporter": (False, False, False, False, False, False),  # it fills, never decides
        "reviewer": (True, True, True, False, False, False),  # its own unit: the campaign's owner
        "admin": (True, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "parent": {  # the city's campaign: 东宝区's own table goes up to the city
        "reporter": (False, False, False, False, False, False),
        "reviewer": (False, True, True, False, False, False),
        "admin": (False, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    "child": {  # a campaign of the unit below: 东宝区 is above its owner, and decides as above any unit
        "reporter": (False, False, False, False, False, False),
        "reviewer": (False, True, True, False, False, False),
        "admin": (False, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
    None: {  # the owner not known (a table not started): `can_review`
        "reporter": (False, False, False, False, False, False),
        "reviewer": (False, True, True, False, False, False),
        "admin": (False, True, True, False, False, False),
        "inactive": (False, False, False, False, False, False),
        "no-account": (False, False, False, False, False, False),
        "anonymous": (False, False, False, False, False, False),
    },
}


@pytest.mark.parametrize(
    ("owner", "who", "relation", "expected"),
    [
        pytest.param(owner, who, relation, expected, id=f"owner-{owner}-{who}-{relation}")
        for owner, rows in REVIEW_TABLE.items()
        for who, answers in rows.items()
        for relation, expected in zip(RELATIONS, answers, strict=True)
    ],
)
def test_may_review_table(tree: Tree, owner: str | None, who: str, relation: str, expected: bool) -> None:
    owner_id = tree.units[owner].pk if owner is not None else None
    assert may_review_table(_fresh(tree.users[who]), tree.units[relation], owner_id) is expected


def test_may_review_table_covers_everyone() -> None:
    assert all(tuple(rows) == WHO for rows in REVIEW_TABLE.values())


def test_the_owners_reviewer_elsewhere_in_the_tree_decides_only_its_own_owner_table(tree: Tree) -> None:
    """A reviewer of the city decides the city's own table in the city's campaign, but a sibling county's
    admin decides neither the city's table nor its own in the city's campaign."""
    city, sibling = tree.units["parent"], tree.units["sibling"]
    city_reviewer = account_create(username="city_rev", password=PASSWORD, unit=city, role="reviewer").user
    sibling_admin = account_create(username="sib_admin", password=PASSWORD, unit=sibling, role="admin").user
    assert may_review_table(_fresh(city_reviewer), city, city.pk)
    assert may_review_table(_fresh(city_reviewer), sibling, city.pk)
    assert not may_review_table(_fresh(sibling_admin), city, city.pk)
    assert not may_review_table(_fresh(sibling_admin), sibling, city.pk)
    assert may_review_table(_fresh(sibling_admin), sibling, sibling.pk)  # its own campaign


# --- full personal numbers: the permission, and the unit in sight -----------------------------------------


def _grant_personal_data(user: User | AnonymousUser) -> None:
    if isinstance(user, User):
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="archive", codename="view_personal_data")
        )


#                     own    child  grandchild parent sibling branch
PERSONAL_DATA: dict[str, tuple[bool, bool, bool, bool, bool, bool]] = {
    "reporter": (True, False, False, False, False, False),  # its own unit only
    "reviewer": (True, True, True, False, False, False),  # its own and those below, never above or aside
    "admin": (True, True, True, False, False, False),
    "inactive": (False, False, False, False, False, False),  # the permission dies with the account
    "no-account": (False, False, False, False, False, False),  # the permission, but no unit in sight
    "anonymous": (False, False, False, False, False, False),
}


@pytest.mark.parametrize(
    ("who", "relation", "expected"),
    [
        pytest.param(who, relation, expected, id=f"{who}-{relation}")
        for who, answers in PERSONAL_DATA.items()
        for relation, expected in zip(RELATIONS, answers, strict=True)
    ],
)
def test_may_see_personal_data_with_the_permission(
    tree: Tree, who: str, relation: str, expected: bool
) -> None:
    _grant_personal_data(tree.users[who])
    user = _fresh(tree.users[who])
    assert may_see_personal_data(user, tree.units[relation]) is expected
    # The permission alone is the export's and the search's question (their files are all in sight).
    assert has_personal_data_permission(user) is (who in ("reporter", "reviewer", "admin", "no-account"))


@pytest.mark.parametrize("who", WHO)
def test_nobody_holds_the_personal_data_permission_unless_granted(tree: Tree, who: str) -> None:
    assert has_personal_data_permission(_fresh(tree.users[who])) is False


def test_a_superuser_without_an_account_sees_no_full_numbers(tree: Tree) -> None:
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert has_personal_data_permission(root)
    assert not any(may_see_personal_data(root, unit) for unit in tree.units.values())


# --- the lists and the single answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "units"),
    [
        ("reporter", ["东宝区总工会"]),
        ("reviewer", ["水泥厂工会", "水泥厂一车间工会", "人民医院工会"]),
        ("admin", ["东宝区总工会", "水泥厂工会", "水泥厂一车间工会", "人民医院工会"]),
        ("inactive", []),
        ("no-account", []),
        ("anonymous", []),
    ],
)
def test_units_to_open_files_in(tree: Tree, who: str, units: list[str]) -> None:
    user = _fresh(tree.users[who])
    found = units_to_open_files_in(user)
    assert sorted(unit.name for unit in found) == sorted(units)
    assert [unit.path for unit in found] == sorted(unit.path for unit in found)  # tree order
    # The list and the single question agree, unit by unit.
    assert {u.pk for u in found} == {u.pk for u in tree.units.values() if may_open_file(user, u)}


@pytest.mark.parametrize(
    ("who", "unit"),
    [
        ("reporter", None),  # the dashboard names the units below: not for a reporter
        ("reviewer", "own"),
        ("admin", "own"),
        ("inactive", None),
        ("no-account", None),
        ("anonymous", None),
    ],
)
def test_progress_unit_of(tree: Tree, who: str, unit: str | None) -> None:
    expected = None if unit is None else tree.units[unit]
    assert progress_unit_of(_fresh(tree.users[who])) == expected


@pytest.mark.parametrize("who", WHO)
def test_an_import_job_is_its_starters_own(tree: Tree, who: str) -> None:
    user = _fresh(tree.users[who])
    owner = import_jobs_owner(user)
    assert owner == (None if who == "anonymous" else user.pk)
    for starter, user_of_starter in tree.users.items():
        if isinstance(user_of_starter, User):
            # Only the starter: not a reviewer or an admin of the same unit, not the one above.
            assert may_use_import_job(user, user_of_starter.pk) is (starter == who)


def test_a_reporter_moved_to_another_unit_loses_the_old_one(tree: Tree) -> None:
    account = Account.objects.get(user__username="own_reporter")
    account.unit = tree.units["sibling"]
    account.save(update_fields=["unit"])
    user = _fresh(tree.users["reporter"])
    assert _names(units_visible_to(user)) == {"钟祥市总工会"}
    assert not unit_visible(user, tree.units["own"]) and unit_visible(user, tree.units["sibling"])
    assert not can_fill(user, tree.units["own"]) and can_fill(user, tree.units["sibling"])


# --- unit_subtree ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "subtree"),
    [
        ("parent", {"荆门市总工会", "钟祥市总工会", "钟祥农场工会", "高新区工会"} | OWN_SUBTREE),
        ("own", OWN_SUBTREE),
        ("child", {"水泥厂工会", "水泥厂一车间工会"}),
        ("grandchild", {"水泥厂一车间工会"}),
        ("child2", {"人民医院工会"}),
        ("sibling", {"钟祥市总工会", "钟祥农场工会"}),
        ("branch", {"钟祥农场工会"}),
        ("zone", {"高新区工会"}),
    ],
)
def test_unit_subtree(tree: Tree, unit: str, subtree: set[str]) -> None:
    assert _names(unit_subtree(tree.units[unit])) == subtree


def test_a_subtree_holds_units_whose_ids_outgrow_six_digits(tree: Tree) -> None:
    """Paths are ids written with ten digits (six, as first written, ran out at 999,999 — short of the
    country's grassroots unions): ids on both sides of 1,000,000 have segments of one width, and the subtree
    (a prefix of the path) holds exactly the units below."""
    parent = tree.units["branch"]
    for pk, name in ((1_000_000, "甲车间工会"), (999_999, "乙车间工会"), (1_000_001, "丙车间工会")):
        Unit.objects.create(
            pk=pk,
            name=name,
            kind=Unit.Kind.ENTERPRISE,
            parent=parent,
            path=parent.path + path_segment(pk),
            depth=parent.depth + 1,
            sort_order=0 if pk != 1_000_001 else 1,
        )
    assert _names(unit_subtree(parent)) == {"钟祥农场工会", "甲车间工会", "乙车间工会", "丙车间工会"}
    assert {len(path_segment(pk)) for pk in (1, 999_999, 1_000_000, 2_500_000, 10**PATH_DIGITS - 1)} == {
        PATH_DIGITS + 1
    }
    with pytest.raises(ValueError):  # refused, never written wider (the reports cut segments by position)
        path_segment(10**PATH_DIGITS)
