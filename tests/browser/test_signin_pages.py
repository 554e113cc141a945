"""Sign-in and the staff shell in a real browser (chromium, headless): what staff see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import numpy as np
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from app.web.auth import ANY_ROLE, current_user, public, requires
from app.web.templates import render
from tests.browser.conftest import RunningApp, page_errors, sign_in_with_form
from tests.browser.png import read_png
from tests.web_support import serving, staff_app

PHONE_WIDTH = 375


def _stub(title: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def page(request: web.Request) -> web.StreamResponse:
        return render(request, "error.html", heading=title, message=f"{title} for "
                      f"{current_user(request).display_name}", reference=None,
                      action_href="/", action_label="Home")  # fmt: skip

    return page


@pytest.fixture
def configure_app() -> Callable[[web.Application], None]:
    """Stand-ins for the phone and console pages (their own helpers serve the real ones) and a
    managers-only page, so the landing pages and the nav can be seen."""

    def add(app: web.Application) -> None:
        served = {r.canonical for r in app.router.resources()}
        if "/phone" not in served:
            app.router.add_get("/phone", requires(*ANY_ROLE)(_stub("Phone")))
        if "/console" not in served:
            app.router.add_get("/console", requires(*ANY_ROLE)(_stub("Console")))
        app.router.add_get("/reports", requires("manager", "admin")(_stub("Reports")))

    return add


async def test_staff_signs_in_and_lands_on_the_phone(
    new_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> None:
    page = await new_page()
    await page.goto("/")
    await expect(page).to_have_url(f"{running_app.url}/login?next=%2F")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in_with_form(page, running_app.users["staff"])
    await expect(page).to_have_url(f"{running_app.url}/phone")
    await expect(page.get_by_text("Signed in as Sam Staff (staff)")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Phone")).to_have_attribute("aria-current", "page")
    await expect(nav.get_by_role("link", name="Console")).to_be_visible()
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert csrf and len(csrf) >= 40
    assert page_errors(page) == []


async def test_a_manager_lands_on_the_console(
    signed_in_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> None:
    page = await signed_in_page("manager")
    await expect(page).to_have_url(f"{running_app.url}/console")
    await expect(page.get_by_text("Console for Max Manager")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(2)


async def test_the_wrong_password_page_says_so_and_keeps_the_email(
    new_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> None:
    page = await new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(running_app.users["staff"].email)
    await page.get_by_label("Password").fill("not my password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(page.get_by_label("Email")).to_have_value(running_app.users["staff"].email)
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.get_by_label("Password")).to_be_focused()  # ready to type it again
    await expect(page).to_have_url(f"{running_app.url}/login")


async def test_sign_out_ends_the_session(
    signed_in_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> None:
    page = await signed_in_page("staff")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert await running_app.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    await page.goto("/phone")
    await expect(page).to_have_url(f"{running_app.url}/login?next=%2Fphone")


async def test_an_expired_session_asks_to_sign_in_again_then_returns(
    signed_in_page: Callable[..., Awaitable[Page]], running_app: RunningApp
) -> None:
    page = await signed_in_page("staff")
    await running_app.pool.execute("UPDATE web_sessions SET expires_at = now()")
    await page.goto("/console")
    await expect(page.get_by_role("status")).to_have_text(
        "Your session has ended. Please sign in again."
    )
    await page.get_by_label("Email").fill(running_app.users["staff"].email)
    await page.get_by_label("Password").fill(running_app.users["staff"].password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{running_app.url}/console")


async def test_a_page_for_another_role_is_a_clear_refusal(
    signed_in_page: Callable[..., Awaitable[Page]],
) -> None:
    page = await signed_in_page("staff")
    response = await page.goto("/reports")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_text(
        "Your role (staff) does not give access to this page."
    )
    await expect(page.get_by_role("link", name="Go to the start page")).to_be_visible()


async def test_what_is_typed_is_shown_as_text_never_run(
    new_page: Callable[..., Awaitable[Page]],
) -> None:
    attack = '"><img src=x onerror="window.pwned=1">@x.example'
    page = await new_page()
    await page.goto("/login")
    await page.get_by_label("Email").evaluate("(el) => el.setAttribute('type', 'text')")
    await page.get_by_label("Email").fill(attack)
    await page.get_by_label("Password").fill("whatever it is")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_label("Email")).to_have_value(attack)
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("img").count() == 0


async def test_the_keyboard_reaches_every_control_with_a_visible_focus(
    new_page: Callable[..., Awaitable[Page]],
) -> None:
    page = await new_page()
    await page.goto("/login")
    focused = "(() => { const e = document.activeElement; return e.id || e.textContent.trim(); })()"
    # the page opens ready to type; chromium applies autofocus at a rendering step that can
    # come after the load event goto waits for, so wait for the focus rather than read it once
    await expect(page.locator("#email")).to_be_focused()
    order = []
    for key in ("Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
        await page.keyboard.press(key)
        order.append(await page.evaluate(focused))
        style = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert style == "solid", f"no visible focus on {order[-1]}"
    assert order == ["password", "Sign in", "password", "email", "Skip to content"]
    await page.keyboard.press("Enter")  # the skip link moves focus to the main content
    assert await page.evaluate("document.activeElement.id") == "main"
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "email"
    # typing and Enter sign in without a mouse
    await page.keyboard.type("staff@harborview.example")
    await page.keyboard.press("Tab")
    await page.keyboard.type("staff-password-for-tests")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Signed in as Sam Staff")).to_be_visible()


@pytest.mark.parametrize("signed_in", [False, True])
async def test_pages_fit_a_phone_screen(
    new_page: Callable[..., Awaitable[Page]],
    running_app: RunningApp,
    signed_in: bool,
    tmp_path: object,
) -> None:
    page = await new_page(viewport={"width": PHONE_WIDTH, "height": 740}, device_scale_factor=1)
    if signed_in:
        await sign_in_with_form(page, running_app.users["manager"])
        await page.goto("/reports")
    else:
        await page.goto("/login")
        await page.get_by_role("button", name="Sign in").focus()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page scrolls sideways: {width} px wide"
    button = await page.get_by_role(
        "button", name="Sign out" if signed_in else "Sign in"
    ).bounding_box()
    assert button is not None and button["x"] >= 0
    assert button["x"] + button["width"] <= PHONE_WIDTH
    assert button["height"] >= 24 or signed_in  # a finger can press the main button

    image = read_png(await page.screenshot(full_page=True))
    height, shot_width, _ = image.shape
    assert shot_width == PHONE_WIDTH and height >= 300
    pixels = image[:, :, :3].reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 20, "the screenshot is blank"
    background = np.array([0xF4, 0xF5, 0xF7])  # --page
    dark = (pixels.sum(axis=1) < 200).mean()  # text
    assert 0.002 < dark < 0.5, f"{dark:.1%} of the pixels are text-dark"
    assert (np.abs(pixels.astype(int) - background).sum(axis=1) < 6).mean() > 0.2
    accent = np.array([0x0B, 0x5C, 0xAD])  # the button (login) or links (signed in)
    assert (np.abs(pixels.astype(int) - accent).sum(axis=1) < 30).any()


async def test_an_injected_inline_script_does_not_run(browser: Browser, pool: asyncpg.Pool) -> None:
    """Content-Security-Policy: were a page ever to let markup through, its inline script
    and inline handlers stay dead (only the app's own script files run)."""

    @public
    async def leaky(request: web.Request) -> web.Response:
        return web.Response(
            text='<!doctype html><p id="p" onclick="window.clicked=1">x</p>'
            "<script>window.ran = 1</script>",
            content_type="text/html",
        )

    async with serving(staff_app(pool, lambda app: app.router.add_get("/leaky", leaky))) as url:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            violations: list[str] = []
            page.on("console", lambda msg: violations.append(msg.text))
            await page.goto(f"{url}/leaky")
            await page.click("#p")
            assert await page.evaluate("window.ran") is None
            assert await page.evaluate("window.clicked") is None
            assert any("Content Security Policy" in v for v in violations), violations
        finally:
            await context.close()
