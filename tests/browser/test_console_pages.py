"""The console in a real browser (Playwright, Debian's chromium, headless): calls driven
through the Stasis app and the recorded-ARI fake, a real database, the page's own JavaScript.
Every state a member of staff meets: no calls, a live call with its duration ticking and its
transcript streaming, confirmations, take-over, refusals, hang-up, recent calls with their
summary, no extension, not taking calls, session ended, and the page at 375 px."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from aiohttp import web
from playwright.async_api import Page, expect

from app.calls.records import TurnRole
from app.storage.calls_repo import CallRepository
from app.storage.console_audit import ConsoleAudit
from app.telephony.call_control import StasisCallControl
from app.telephony.call_services import CallLimits
from app.web.console import add_console_routes
from tests.browser.conftest import RunningApp, page_errors
from tests.browser.png import read_png
from tests.fakes.ari import FakeCall
from tests.integration.test_stasis_calls import Rig, _until, rig

__all__ = ["rig"]

PHONE_WIDTH = 375
MASKED = re.compile(r"\+\*+0123")

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
def taking_calls() -> bool:
    return True


@pytest.fixture
def configure_app(
    rig: Rig, pool: asyncpg.Pool, taking_calls: bool
) -> Callable[[web.Application], None]:
    rig.app.services = replace(
        rig.app.services,
        limits=CallLimits(rtp_inactivity=60.0, max_duration=120.0, staff_ring_seconds=1),
    )
    return lambda app: (
        add_console_routes(
            app,
            rig.app.services.call_log.live,
            CallRepository(pool),
            StasisCallControl(rig.app) if taking_calls else None,
            ConsoleAudit(pool),
            session_recheck=0.5,
        ),
        None,
    )[1]


async def _console(signed_in_page: OpenPage, role: str = "staff", **options: object) -> Page:
    page = await signed_in_page(role, "/console", **options)
    assert page.url.endswith("/console")
    await expect(page.locator("#feed-status")).to_have_text(re.compile("^Live"))
    return page


async def _call(rig: Rig) -> FakeCall:
    fake = await rig.fake.incoming_call(["echo"], caller="+14155550123")
    await _until(lambda: fake.bridge_id and len(rig.fake.bridges.get(fake.bridge_id, [])) == 2)
    await _until(lambda: all(c.ready for c in rig.app.calls))
    return fake


async def test_a_live_call_ticks_and_its_transcript_streams(
    signed_in_page: OpenPage, rig: Rig
) -> None:
    page = await _console(signed_in_page)
    await expect(page.get_by_text("No calls in progress.")).to_be_visible()
    await expect(page.locator("#live-count")).to_have_text("(0)")
    fake = await _call(rig)
    call = page.get_by_role("button", name=MASKED)
    await expect(call).to_be_visible()
    await expect(call).to_contain_text("With the receptionist")
    await expect(page.get_by_text("No calls in progress.")).to_be_hidden()
    assert "+14155550123" not in await page.content()  # the number never reaches the page
    first = await call.locator(".duration").text_content()
    await asyncio.sleep(2.2)  # the clock updates once a second
    assert await call.locator(".duration").text_content() != first  # the clock ticks

    await call.focus()  # by keyboard
    await page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name=MASKED)
    await expect(heading).to_be_focused()
    await expect(call).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_text("Nothing said yet.")).to_be_visible()
    [live] = rig.app.calls
    rig.app.services.call_log.turn(live.session.id, TurnRole.AGENT, "Harborview Hotel, Ava.")
    transcript = page.locator("#transcript")
    await expect(transcript.locator("li")).to_have_text(["Receptionist: Harborview Hotel, Ava."])
    await rig.fake.press(fake, "1")
    await rig.fake.press(fake, "2")
    await expect(transcript.locator("li").nth(1)).to_have_text("Keys: 1 2", timeout=6000)
    await rig.fake.caller_hangs_up(fake)
    await expect(page.get_by_text("This call has ended (caller hangup).")).to_be_visible()
    await expect(page.get_by_role("button", name="Hang up")).to_be_disabled()
    recent = page.locator("#recent li").first
    await expect(recent).to_contain_text("Keyed in digits. Ended: the caller hung up.")
    await recent.get_by_role("button", name="Show transcript").click()
    await expect(recent.locator(".transcript li")).to_have_text(
        ["Receptionist: Harborview Hotel, Ava.", "Keys: 1 2"]
    )
    assert page_errors(page) == []


async def test_taking_over_asks_first_then_the_caller_is_on_my_phone(
    signed_in_page: OpenPage, rig: Rig, running_app: RunningApp
) -> None:
    rig.fake.staff_phones["2002"] = "answers"  # the staff member's phone
    page = await _console(signed_in_page)
    await expect(page.get_by_text("extension 2002")).to_be_visible()
    await _call(rig)
    await page.get_by_role("button", name=MASKED).click()
    dialog = page.get_by_role("dialog", name="Take over this call?")
    await page.get_by_role("button", name="Take over").click()
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await page.keyboard.press("Escape")  # changed my mind
    await expect(dialog).to_be_hidden()
    assert rig.fake.originated == []

    await page.get_by_role("button", name="Take over").click()
    await dialog.get_by_role("button", name="Take over").click()
    await expect(page.locator("#action-status")).to_have_text("The caller is on your phone now.")
    call = page.get_by_role("button", name=MASKED)
    await expect(call).to_contain_text("With staff (extension 2002)")
    await expect(page.get_by_role("button", name="Take over")).to_be_disabled()
    await expect(page.get_by_role("button", name="Listen in")).to_be_disabled()
    leg = rig.fake.staff_leg("2002")
    assert leg is not None
    await rig.fake.staff_hangs_up(leg.id)
    await expect(page.get_by_text("No calls in progress.")).to_be_visible()
    await expect(page.locator("#recent li").first).to_contain_text(
        "Taken over by staff at extension 2002."
    )
    await expect(page.locator("#recent li").first.locator(".outcome")).to_have_text("Taken over")
    assert page_errors(page) == []


async def test_a_phone_that_is_not_registered_is_said_plainly_and_the_caller_stays(
    signed_in_page: OpenPage, rig: Rig
) -> None:
    page = await _console(signed_in_page)
    fake = await _call(rig)
    await page.get_by_role("button", name=MASKED).click()
    await page.get_by_role("button", name="Listen in").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Your phone (2002) is not registered")
    await expect(alert).to_contain_text("The caller stays with the receptionist.")
    await expect(page.get_by_role("button", name=MASKED)).to_contain_text("With the receptionist")
    assert fake.media_in_stasis
    await rig.fake.caller_hangs_up(fake)


async def test_without_an_extension_only_hang_up_is_offered(
    signed_in_page: OpenPage, rig: Rig
) -> None:
    page = await _console(signed_in_page, "manager")
    await expect(page.get_by_text("Your account has no phone extension")).to_be_visible()
    await _call(rig)
    await page.get_by_role("button", name=MASKED).click()
    await expect(page.get_by_role("button", name="Listen in")).to_be_disabled()
    await expect(page.get_by_role("button", name="Take over")).to_be_disabled()
    await page.get_by_role("button", name="Hang up").click()
    dialog = page.get_by_role("dialog", name="Hang up this call?")
    await dialog.get_by_role("button", name="Hang up").click()
    await expect(page.locator("#action-status")).to_have_text(
        re.compile("The call was hung up|This call has ended")
    )
    await expect(page.get_by_text("No calls in progress.")).to_be_visible()
    await expect(page.locator("#recent li").first).to_contain_text("hung up from the console")


@pytest.mark.parametrize("taking_calls", [False])
async def test_a_server_not_taking_calls_says_so_and_offers_no_action(
    signed_in_page: OpenPage, rig: Rig
) -> None:
    page = await _console(signed_in_page)
    await expect(page.get_by_text("This server is not taking calls right now")).to_be_visible()
    fake = await _call(rig)
    await page.get_by_role("button", name=MASKED).click()
    for name in ("Listen in", "Take over", "Hang up"):
        await expect(page.get_by_role("button", name=name)).to_be_disabled()
    await rig.fake.caller_hangs_up(fake)


async def test_the_page_says_when_the_session_has_ended(signed_in_page: OpenPage) -> None:
    page = await _console(signed_in_page)
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    signed_out = await page.request.post("/logout", form={"csrf_token": token}, max_redirects=0)
    assert signed_out.status == 303
    await expect(page.locator("#feed-status")).to_have_text(
        "Your session has ended. Reload the page to sign in again."
    )


async def test_the_console_at_phone_width(
    signed_in_page: OpenPage, rig: Rig, tmp_path: Path
) -> None:
    page = await _console(
        signed_in_page, viewport={"width": PHONE_WIDTH, "height": 740}, device_scale_factor=1
    )
    fake = await _call(rig)
    await page.get_by_role("button", name=MASKED).click()
    [live] = rig.app.calls
    rig.app.services.call_log.turn(
        live.session.id, TurnRole.CALLER, "I would like a room with a view of the bay for Friday."
    )
    await expect(page.locator("#transcript li")).to_have_count(1)
    await expect(page.get_by_text("No calls have ended yet.")).to_be_visible()
    await expect(page.get_by_role("button", name="Show older calls")).to_be_hidden()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page scrolls sideways: {width} px wide"
    for name in ("Listen in", "Take over", "Hang up"):
        box = await page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
        assert box["height"] >= 40, f"{name} is too small for a finger"
    listed = await page.get_by_role("button", name=MASKED).bounding_box()
    detail = await page.locator("#detail").bounding_box()
    assert listed is not None and detail is not None
    assert detail["y"] >= listed["y"] + listed["height"]  # one column: the call, then its detail

    shot = await page.screenshot(full_page=True)
    (tmp_path / "console-375.png").write_bytes(shot)  # to look at when it fails
    image = read_png(shot)
    height, shot_width, _ = image.shape
    assert shot_width == PHONE_WIDTH and height >= 600
    pixels = image[:, :, :3].reshape(-1, 3).astype(int)
    assert len(np.unique(pixels, axis=0)) > 20, "the screenshot is blank"
    dark = (pixels.sum(axis=1) < 200).mean()
    assert 0.002 < dark < 0.5, f"{dark:.1%} of the pixels are text-dark"
    for colour, what in (
        ((0x0B, 0x5C, 0xAD), "the accent (buttons, the selected call's border)"),
        ((0xA4, 0x0E, 0x26), "the hang-up button"),
    ):
        assert (np.abs(pixels - np.array(colour)).sum(axis=1) < 30).any(), what
    await rig.fake.caller_hangs_up(fake)
    assert page_errors(page) == []
