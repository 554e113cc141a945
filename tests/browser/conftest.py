"""Browser tests: Playwright (Python) driving Debian's chromium, headless, against the app on
a real port with a real database. Nothing is downloaded: no `playwright install`.

Fixtures for every page's tests (the softphone's and the console's too):
- `running_app`: the staff app (create_app with sign-in) on 127.0.0.1, a user of each role
  seeded (tests/web_support.py: SEEDS, password_for). Override `configure_app` in a test
  module to add routes before it starts, e.g.
      @pytest.fixture
      def configure_app(pool): return lambda app: add_console_routes(app, ...)
- `browser`: chromium; override `chromium_args` for flags (a fake microphone, say).
- `signed_in_page`: `await signed_in_page("staff")` is a page in a fresh context (its own
  cookies), signed in through the login form, on the page the role lands on. Override
  `context_options` for the context (permissions, viewport...). `page_errors(page)` lists the
  JavaScript errors the page raised.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from aiohttp import web

from app.staff.users import Role
from tests.web_support import SeededUser, seed_users, serving, staff_app

CHROMIUM = Path(os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium"))

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]


@dataclass
class RunningApp:
    url: str  # http://127.0.0.1:PORT
    app: web.Application
    pool: asyncpg.Pool
    users: dict[Role, SeededUser]


def _skip_without_a_browser() -> None:
    if async_playwright is None:
        pytest.skip("playwright (Python) is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (Debian's chromium: make test installs it)")


@pytest.fixture
def configure_app() -> Callable[[web.Application], None] | None:
    """Routes a test module adds to the app before it starts (override it)."""
    return None


@pytest.fixture
async def running_app(
    pool: asyncpg.Pool, configure_app: Callable[[web.Application], None] | None
) -> AsyncIterator[RunningApp]:
    users = await seed_users(pool)
    app = staff_app(pool, configure_app)
    async with serving(app) as url:
        yield RunningApp(url, app, pool, users)


@pytest.fixture
def chromium_args() -> list[str]:
    return []


@pytest.fixture
def context_options() -> dict[str, Any]:
    return {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
async def browser(chromium_args: list[str]) -> AsyncIterator[Browser]:
    _skip_without_a_browser()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args
        )
        try:
            yield chromium
        finally:
            await chromium.close()


_ERRORS: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def page_errors(page: Page) -> list[str]:
    """JavaScript errors and console errors of a page opened by these fixtures."""
    return _ERRORS.setdefault(page, [])


def _watch(page: Page) -> None:
    errors = page_errors(page)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )


async def sign_in_with_form(page: Page, user: SeededUser, next_path: str = "/") -> None:
    """Through the login page as a person does: type, press the button, wait for the next page."""
    await page.goto(f"/login?next={quote(next_path, safe='')}" if next_path != "/" else "/login")
    await page.get_by_label("Email").fill(user.email)
    await page.get_by_label("Password").fill(user.password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()


@pytest.fixture
async def new_page(
    browser: Browser, running_app: RunningApp, context_options: dict[str, Any]
) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """`await new_page(**context_options)`: a page in a fresh context, not signed in."""
    contexts: list[BrowserContext] = []

    async def open_page(**options: Any) -> Page:
        context = await browser.new_context(
            base_url=running_app.url, **{**context_options, **options}
        )
        contexts.append(context)
        page = await context.new_page()
        _watch(page)
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            await context.close()


@pytest.fixture
async def signed_in_page(
    new_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> Callable[..., Awaitable[Page]]:
    """`await signed_in_page("manager")`: a page signed in as that role's seeded user."""

    async def open_for(role: Role, next_path: str = "/", **options: Any) -> Page:
        page = await new_page(**options)
        await sign_in_with_form(page, running_app.users[role], next_path)
        return page

    return open_for
