"""No page, download or API endpoint shows anything to someone who is not logged in, except the public ones
listed here. A new URL added without a login check fails this test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ..world import World

#: Pages that are public on purpose: the tables, their templates, the stateless upload check, the login, the
#: API's description.
PUBLIC = {
    "reporting:home",
    "reporting:form-list",
    "reporting:form-detail",
    "reporting:form-template",
    "reporting:check",
    "login",
    "set_language",  # the header's 中文 / English switch, on the login page too (it only sets a cookie)
    "api:index",
    "api:api-root",  # ninja's name for /api/ (the index answers it)
    "api:openapi-json",
    "api:openapi-view",
    "api:not-found",  # a JSON 404 for any other path under /api/
}
#: The needy-worker archive: personal data, every page and download private (checked like all others above).
ARCHIVE = {
    "archive:list",
    "archive:new",
    "archive:export",
    "archive:plan-gaps",
    "archive:due",
    "archive:import",
    "archive:import-job",
    "archive:import-progress",
    "archive:import-rejected",
    "archive:import-template",  # the blank register (issue 11)
    "archive:detail",
    "archive:reveal",
    "archive:file",
    "archive:review",
    "archive:out",
    "archive:close",
    "archive:plan",
    # the archive's audit trail and proposals (issue 8)
    "archive:propose-out",
    "archive:propose-close",
    "archive:approve",
    "archive:reject",
    "archive:withdraw",
    "archive:reopen",
    "archive:history",
    "archive:edit",
}

#: One's own account: changing the password needs a login (at both addresses).
ACCOUNT = {"password-change", "password-change-alias", "password-change-done"}


def named_patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", prefix + str(pattern.pattern)


def concrete(route: str, world: World) -> str:
    values = {
        "campaign_id": world.campaign.pk,
        "unit_id": world.county.pk,
        "form_code": "warmth-2018",
        "code": "warmth-2018",
        "report_id": 1,
    }

    def fill(match: re.Match[str]) -> str:
        return str(values.get(match.group(2), 1))

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route).lstrip("^").rstrip("$")


def test_every_private_url_needs_a_login(world: World) -> None:
    client = Client()
    checked = 0
    for name, route in named_patterns(get_resolver()):
        if name in PUBLIC or name.startswith("admin:"):
            continue
        url = concrete(route, world)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            redirected_to_login = response.status_code == 302 and response["Location"].startswith("/login/")
            assert redirected_to_login or response.status_code in (401, 403, 405), (
                f"{name} {method.upper()} {url} answered {response.status_code} to an anonymous visitor"
            )
        checked += 1
    assert checked >= 20  # the campaign, review and API URLs are all here


def test_the_account_urls_are_there_and_need_a_login(world: World) -> None:
    routes = dict(named_patterns(get_resolver()))
    assert set(routes) >= ACCOUNT and not ACCOUNT & PUBLIC
    for name in sorted(ACCOUNT):
        for method in ("get", "post"):
            response = getattr(Client(), method)(concrete(routes[name], world))
            assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, method)


def test_the_archive_urls_are_all_there_and_none_is_public(world: World) -> None:
    routes = dict(named_patterns(get_resolver()))
    assert {name for name in routes if name.startswith("archive:")} == ARCHIVE
    assert not ARCHIVE & PUBLIC
    client = Client()
    for name in sorted(ARCHIVE):
        for method in ("get", "post"):
            response = getattr(client, method)(concrete(routes[name], world))
            assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, method)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_urls_exist(name: str) -> None:
    assert any(found == name for found, _route in named_patterns(get_resolver()))
