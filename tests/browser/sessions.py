"""Logging a browser in, as every flow starts."""

from __future__ import annotations

from typing import Any

from ..world import PASSWORD


def log_in(browser: Any, live_server: Any, username: str, next_path: str) -> Any:
    """A new page of a new browser context (zh-CN, Shanghai time), logged in as `username`, at `next_path`."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}{next_path}")
    return page
