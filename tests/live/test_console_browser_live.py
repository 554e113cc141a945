"""The issue's whole story, against the real Asterisk, in a real browser: a caller (SIPp
signalling, our RTP) talks to the AI receptionist (the offline engine); a member of staff
signed in in chromium has the browser phone registered (extension 2002, through the app's
/ws) and the console open; the call and its transcript appear in the console; they take it
over, the browser phone rings, they answer, and the caller is with them while the AI's leg
(its UnicastRTP channel) is gone."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.hotel.config import load_hotel_config
from app.main import (
    build_phones,
)
from app.pbx.sandbox import AsteriskSandbox
from app.storage.calls_repo import CallRepository
from app.storage.seed import seed
from app.telephony.call_control import StasisCallControl
from app.web.console import add_console_routes
from app.web.phone import add_phone_routes
from tests.browser.conftest import CHROMIUM, sign_in_with_form
from tests.live.keypad import calling
from tests.live.running import ai_receptionist
from tests.live.test_browser_phone_live import _caller_wav, _media_args, _peak
from tests.live.test_calls_live import _tone_frames
from tests.live.test_console_live import AI_NUMBER, _channels
from tests.web_support import SeededUser, seed_users, serving, staff_app

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # pragma: no cover
    async_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
MASKED = re.compile(r"\+\*+0123")


def _skip_without_browser() -> None:
    from app.web.phone import BUNDLE  # noqa: PLC0415

    if async_playwright is None:
        pytest.skip("playwright (Python) is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (Debian's chromium)")
    if not BUNDLE.exists():
        pytest.skip("the phone's script is not built (make setup: node and npm)")


@contextlib.asynccontextmanager
async def _frontdesk(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> AsyncIterator[tuple[str, SeededUser]]:
    """`frontdesk run`'s pieces pointed at the sandbox: the Stasis app with the agent and the
    offline engine, the web app with sign-in, the phone and the console."""
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    staff = (await seed_users(pool))["staff"]  # extension 2002, a browser phone
    async with ai_receptionist(pbx, pool, (42280, 42299)) as ai:
        phones = build_phones(ai.settings, ai.hotel, ai.http)

        def routes(app: object) -> None:
            add_phone_routes(app, phones.setup)  # type: ignore[arg-type]
            add_console_routes(
                app,  # type: ignore[arg-type]
                ai.call_log.live,
                CallRepository(pool),
                StasisCallControl(ai.stasis),
            )

        async with serving(staff_app(pool, routes)) as url:
            yield url, staff


async def test_staff_watch_an_ai_call_in_the_console_and_take_it_over_on_the_browser_phone(
    pbx: AsteriskSandbox, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    _skip_without_browser()
    wav = _caller_wav(tmp_path / "staff.wav")  # what the member of staff says, looped
    async with _frontdesk(pbx, pool) as (url, staff), async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_media_args(wav)
        )
        try:
            context = await chromium.new_context(base_url=url)
            phone = await context.new_page()
            errors: list[str] = []
            phone.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in_with_form(phone, staff, "/phone")
            await expect(phone.locator("#status")).to_contain_text(
                "Ready: extension 2002", timeout=20000
            )
            console = await context.new_page()  # the same signed-in session, another tab
            console.on("pageerror", lambda exc: errors.append(str(exc)))
            await console.goto("/console")
            await expect(console.locator("#feed-status")).to_have_text(re.compile("^Live"))

            async with calling(pbx, AI_NUMBER, wait_for_audio=False) as caller:
                call = console.get_by_role("button", name=MASKED)
                await expect(call).to_be_visible(timeout=20000)
                await call.click()
                transcript = console.locator("#transcript")
                await expect(transcript.locator("li").first).to_contain_text(
                    "Receptionist: ", timeout=20000
                )
                await expect(transcript.locator("li").first).to_contain_text("Harborview")
                assert any(n.startswith("UnicastRTP/") for n in _channels(pbx))
                caller.speak(_tone_frames(30.0, 440))  # the caller goes on talking

                await console.get_by_role("button", name="Take over").click()
                dialog = console.get_by_role("dialog", name="Take over this call?")
                await dialog.get_by_role("button", name="Take over").click()
                await expect(console.locator("#action-status")).to_contain_text(
                    "Ringing your phone (2002)"
                )
                await expect(phone.locator("#incoming")).to_be_visible(timeout=20000)
                await phone.get_by_role("button", name="Answer").click()
                await expect(phone.locator("#call-state")).to_have_text("Connected", timeout=15000)
                await expect(console.locator("#action-status")).to_have_text(
                    "The caller is on your phone now.", timeout=15000
                )
                await expect(call).to_contain_text("With staff (extension 2002)")
                # the AI's leg is gone; the caller and the browser phone share one bridge
                async with asyncio.timeout(5):
                    while any(n.startswith("UnicastRTP/") for n in _channels(pbx)):
                        await asyncio.sleep(0.1)
                names = _channels(pbx)
                assert any(n.startswith("PJSIP/2002-") for n in names), names
                assert any(n.startswith("PJSIP/trunk-") for n in names), names
                # they hear each other: the caller's tone on the page's meter, the staff
                # member's fake microphone at the caller's end
                assert await _peak(phone, "remote-level", above=0.3), "staff hear nothing"
                # (the microphone's WAV is 8 s of quiet, a question, 8 s of quiet, looped)
                loudest = 0.0
                async with asyncio.timeout(25):
                    while loudest <= 100:
                        await asyncio.sleep(0.25)
                        loudest = max(loudest, caller.level(time.monotonic() - 1.0))
                assert loudest > 100, f"the caller heard {loudest:.0f} from staff"

                # the caller says goodbye and hangs up: the browser phone's call ends too
                [trunk] = [n for n in _channels(pbx) if n.startswith("PJSIP/trunk-")]
                await asyncio.to_thread(pbx.cli, f"channel request hangup {trunk}")
                await expect(console.get_by_text("No calls in progress.")).to_be_visible(
                    timeout=10000
                )
                await expect(phone.locator("#call")).to_be_hidden(timeout=10000)
            await expect(console.locator("#recent li").first).to_contain_text(
                "Taken over by staff at extension 2002.", timeout=10000
            )
            assert errors == []
        finally:
            await chromium.close()
    row = await pool.fetchrow("SELECT * FROM calls ORDER BY started_at DESC LIMIT 1")
    assert row["outcome"] == "taken_over" and row["end_reason"] == "caller_hangup"
