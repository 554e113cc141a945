"""The browser phone (/phone) in a real chromium, headless, with a fake microphone, against the
app on a real port and a stand-in Asterisk (tests/phone_rig.py: ARI for the login, a minimal
SIP registrar behind the app's /ws relay). What staff see: ready, a refused call, a refused
login, a lost connection and its reconnection, a blocked or missing microphone, no
extension, and the page at 375 px. Calls with audio run against the real Asterisk
(tests/live/test_browser_phone_live.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from playwright.async_api import Page, expect

from app.telephony.ari.client import AriClient
from app.telephony.phone_logins import AriPhoneLogins
from app.web.phone import BUNDLE, PhoneSetup, add_phone_routes
from app.web.sip_relay import RelayTarget
from tests.browser.conftest import page_errors
from tests.browser.png import read_png
from tests.phone_rig import ARI_PASSWORD, ARI_USER, FakeAsterisk

FAKE_MEDIA = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
OK_GREEN = (0x1A, 0x7F, 0x37)  # phone.css: button.ok

pytestmark = pytest.mark.skipif(
    not BUNDLE.exists(), reason="the phone's script is not built (make setup: node and npm)"
)


@pytest.fixture
async def asterisk() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(mode="registrar")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def configure_app(
    asterisk: FakeAsterisk, http: aiohttp.ClientSession
) -> Callable[[web.Application], None]:
    def add(app: web.Application) -> None:
        client = AriClient(http, asterisk.ari_url, ARI_USER, ARI_PASSWORD)
        add_phone_routes(
            app, PhoneSetup(AriPhoneLogins(client), RelayTarget(asterisk.ws_url, http))
        )

    return add


@pytest.fixture
def chromium_args() -> list[str]:
    return FAKE_MEDIA


async def _phone(signed_in_page: Callable[..., Awaitable[Page]], **options: object) -> Page:
    page = await signed_in_page("staff", "/phone", **options)
    await expect(page).to_have_url(re.compile(r"/phone$"))
    return page


async def test_the_phone_registers_as_the_users_extension_and_is_ready(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    page = await _phone(signed_in_page)
    await expect(page.locator("#status")).to_have_text(
        "Ready: extension 2002 (Sam Staff).", timeout=15000
    )
    await expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()
    await expect(page.locator("#mic-status")).to_have_text("Microphone ready.")
    register = next(m for m in asterisk.received if m.startswith("REGISTER "))
    assert "sip:2002@frontdesk" in register
    # it answered the digest challenge with the password the app gave Asterisk through ARI:
    # nobody typed one, and the page shows none
    assert asterisk.authenticated == ["2002"]
    assert asterisk.auths["2002"]["password"] not in await page.content()
    await expect(page.get_by_role("button", name="AI receptionist (2500)")).to_be_visible()
    assert page_errors(page) == []


async def test_a_number_the_dialplan_refuses_is_explained(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    asterisk.invite_code = 403  # as [frontdesk-staff] answers a number past STAFF_DIAL_OUT
    page = await _phone(signed_in_page)
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=15000)
    await page.get_by_label("Number or extension").fill("+44 20 7946 0000")
    await page.get_by_role("button", name="Call", exact=True).click()
    await expect(page.locator("#problem")).to_have_text(
        "The call was refused: this number is outside what the hotel's phones may dial.",
        timeout=15000,
    )
    invite = next(m for m in asterisk.received if m.startswith("INVITE "))
    assert invite.startswith("INVITE sip:9442079460000@frontdesk SIP/2.0")
    assert "m=audio" in invite  # a real offer, from the (fake) microphone
    await expect(page.locator("#call")).to_be_hidden()
    await expect(page.get_by_label("Number or extension")).to_be_visible()


async def test_something_that_is_not_a_number_is_not_dialled(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    page = await _phone(signed_in_page)
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=15000)
    await page.get_by_label("Number or extension").fill("sip:2001@elsewhere")
    await page.get_by_role("button", name="Call", exact=True).click()
    await expect(page.locator("#problem")).to_contain_text("not a number the phone can dial")
    assert not [m for m in asterisk.received if m.startswith("INVITE ")]


async def test_a_refused_login_is_explained(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    asterisk.register_code = 403
    page = await _phone(signed_in_page)
    await expect(page.locator("#problem")).to_contain_text(
        "Registration failed: the phone system refused extension 2002's login (403).",
        timeout=20000,
    )
    await expect(page.get_by_role("button", name="Call", exact=True)).to_be_disabled()
    # it asked the app for a fresh login once before giving up
    assert sum(m.startswith("REGISTER ") for m in asterisk.received) >= 2


async def test_a_lost_connection_is_said_and_the_phone_reconnects(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    page = await _phone(signed_in_page)
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=15000)
    registers = sum(m.startswith("REGISTER ") for m in asterisk.received)
    await asterisk.drop_connections()
    await expect(page.locator("#problem")).to_have_text(
        "The connection to the phone system was lost. Reconnecting…", timeout=10000
    )
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=20000)
    await expect(page.locator("#problem")).to_be_hidden()
    assert sum(m.startswith("REGISTER ") for m in asterisk.received) > registers


@pytest.mark.parametrize("chromium_args", [["--use-fake-device-for-media-stream"]])
async def test_a_blocked_microphone_is_explained(
    signed_in_page: Callable[..., Awaitable[Page]],
) -> None:
    page = await _phone(signed_in_page, permissions=[])  # no prompt to accept: refused
    await expect(page.locator("#mic-status")).to_contain_text(
        "not letting this page use the microphone", timeout=15000
    )
    await expect(page.locator("#mic-status")).to_have_attribute("role", "alert")


@pytest.mark.parametrize(
    "chromium_args",
    [["--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"]],
)
async def test_a_missing_microphone_is_explained(
    signed_in_page: Callable[..., Awaitable[Page]],
) -> None:
    page = await _phone(signed_in_page)  # allowed, but this machine has no microphone
    await expect(page.locator("#mic-status")).to_have_text(
        "No microphone was found. Plug in a headset or microphone, then reload the page.",
        timeout=15000,
    )


async def test_a_user_without_an_extension_gets_a_clear_page(
    signed_in_page: Callable[..., Awaitable[Page]], asterisk: FakeAsterisk
) -> None:
    page = await signed_in_page("manager", "/phone")
    await expect(page.locator("#no-extension")).to_contain_text("You have no phone extension")
    await expect(page.get_by_label("Number or extension")).to_have_count(0)
    assert asterisk.auths == {} and asterisk.sockets == []
    assert page_errors(page) == []


async def test_the_keyboard_reaches_the_dialler_and_the_pad_by_their_labels(
    signed_in_page: Callable[..., Awaitable[Page]],
) -> None:
    page = await _phone(signed_in_page)
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=15000)
    await page.get_by_label("Number or extension").focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "call-button"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.dataset.key") == "1"
    for name in ("2", "5", "star", "pound", "0"):
        await page.get_by_role("button", name=name, exact=True).press("Enter")
    await expect(page.get_by_label("Number or extension")).to_have_value("25*#0")


async def test_the_phone_fits_a_375_px_screen(
    signed_in_page: Callable[..., Awaitable[Page]], tmp_path: Path
) -> None:
    page = await _phone(signed_in_page, viewport={"width": 375, "height": 812})
    await expect(page.locator("#status")).to_contain_text("Ready", timeout=15000)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("Call", "1", "0", "pound", "AI receptionist (2500)"):
        box = await page.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, name
        assert box["height"] >= 44, f"{name}: a finger needs 44 px"
    shot = await page.screenshot(full_page=True, path=str(tmp_path / "phone-375.png"))
    image = read_png(shot)
    assert image.shape[1] == 375
    # the green Call button is drawn where the page says it is
    box = await page.get_by_role("button", name="Call", exact=True).bounding_box()
    assert box is not None
    y, x = int(box["y"] + box["height"] / 2), int(box["x"] + 6)
    pixel = tuple(int(v) for v in image[y, x, :3])
    assert all(abs(a - b) < 12 for a, b in zip(pixel, OK_GREEN, strict=True)), pixel
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 20  # not blank
