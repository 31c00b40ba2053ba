"""`make run` serves with gunicorn: a browser against a real gunicorn process (two sync workers, the test
database) logs in, finds its page styled (the static files served by WhiteNoise from the app) and its session
good in whichever worker answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.browser.sessions import log_in
from tests.processes import environment
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@dataclass(frozen=True)
class Served:
    url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn(world: World, tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "songnuan.config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:]) from None
                time.sleep(0.1)
        yield Served(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def test_a_browser_logs_in_and_works_against_gunicorn(browser: Any, gunicorn: Served, world: World) -> None:
    # The suite hashes passwords with MD5 for speed; the server runs the real settings' hashers.
    reporter = world.users["county_reporter"]
    reporter.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    reporter.save(update_fields=["password"])
    page = log_in(browser, gunicorn, "county_reporter", "/archive/")
    assert "送温暖" in page.title() or page.locator("header").count() == 1
    stylesheets = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
    assert stylesheets, "the page links its stylesheet"
    for href in stylesheets:
        answer = page.request.get(href)
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/css")
    # Several requests: each worker of the two answers with the same session (kept in the database).
    for _ in range(6):
        page.goto(f"{gunicorn.url}/archive/")
        assert "/login/" not in page.url
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""
