"""The browser phone end to end, against the real Asterisk: chromium (headless) with a fake
microphone fed from a WAV signs in, registers through the app's /ws relay with the login the
app provisioned through ARI, dials 2500 and hears the AI receptionist's greeting (the offline
engine, wired as `frontdesk run` wires it): the energy of the audio it receives is measured
in the page by the remote level meter (a WebAudio AnalyserNode)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import numpy as np
import pytest

from app.calls.arrival import Arrival
from app.calls.conversation import Conversation
from app.hotel.config import load_hotel_config
from app.main import (
    build_phones,
)
from app.pbx.sandbox import AsteriskSandbox
from app.settings import load_settings
from app.storage.seed import seed
from app.web.phone import BUNDLE, add_phone_routes
from tests.browser.conftest import CHROMIUM, sign_in_with_form
from tests.live.keypad import calling
from tests.live.running import ai_receptionist, running_app
from tests.live.test_calls_live import ECHO_NUMBER
from tests.live.test_transfers_live import Scripted
from tests.web_support import SeededUser, seed_users, serving, staff_app

ROOT = Path(__file__).resolve().parents[2]

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover
    async_playwright = None  # type: ignore[assignment]


def _skip_without_browser() -> None:
    if async_playwright is None:
        pytest.skip("playwright (Python) is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (Debian's chromium)")
    if not BUNDLE.exists():
        pytest.skip("the phone's script is not built (make setup: node and npm)")


def _caller_wav(path: Path) -> Path:
    """What the fake microphone says, looped: a quiet line, then a question, then quiet."""
    spoken = path.with_suffix(".spoken.wav")
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(spoken), "Do you have free wifi?"],
        check=True,
        capture_output=True,
    )
    with wave.open(str(spoken)) as w:
        rate = w.getframerate()
        voice = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    quiet = np.zeros(rate * 8, dtype=np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.concatenate([quiet, voice, quiet]).tobytes())
    return path


def _media_args(wav: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
        "--allow-loopback-in-peer-connection",
    ]


async def _peak(page: Page, meter: str, above: float, seconds: float = 20.0) -> bool:
    """Whether the meter's loudest level this call (data-peak) goes above `above` in time.
    (Read from here: the page's Content-Security-Policy allows no evaluated script.)"""
    for _ in range(int(seconds * 5)):
        peak = await page.locator(f"#{meter}").get_attribute("data-peak")
        if peak is not None and float(peak) > above:
            return True
        await asyncio.sleep(0.2)
    return False


@dataclass
class Stack:
    url: str
    pool: asyncpg.Pool
    staff: SeededUser


@contextlib.asynccontextmanager
async def the_app(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Stack]:
    """The Stasis app with the real agent and offline engine, the web app with sign-in and
    the phone routes: `frontdesk run`'s pieces, pointed at the sandbox."""
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    users = await seed_users(pool)
    async with ai_receptionist(pbx, pool, (42200, 42219)) as ai:
        phones = build_phones(ai.settings, ai.hotel, ai.http)
        app = staff_app(pool, lambda app: add_phone_routes(app, phones.setup))
        async with serving(app) as url:
            yield Stack(url, pool, users["staff"])


async def test_a_browser_phone_calls_the_ai_receptionist_and_hears_its_greeting(
    pbx: AsteriskSandbox, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    _skip_without_browser()
    wav = _caller_wav(tmp_path / "caller.wav")
    async with the_app(pbx, pool) as stack, async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=_media_args(wav),
        )
        try:
            context = await chromium.new_context(base_url=stack.url)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in_with_form(page, stack.staff, "/phone")
            await expect(page.locator("#status")).to_contain_text(
                "Ready: extension 2002", timeout=20000
            )
            assert "Contact:  2002/sip:" in pbx.cli("pjsip show contacts")  # through /ws
            await page.get_by_role("button", name="AI receptionist (2500)").click()
            await expect(page.locator("#call-state")).to_have_text("Connected", timeout=20000)
            # the greeting: loud enough on the remote meter (-60 dBFS is 0, full scale 1)
            heard = await _peak(page, "remote-level", above=0.45)
            assert heard, pbx.cli("core show channels")
            # our fake microphone's audio reached the page's own meter too
            assert await _peak(page, "local-level", above=0.3), "the microphone is silent"
            await expect(page.locator("#q-mos")).to_have_text(
                re.compile(r"^\d\.\d \("), timeout=10000
            )
            row = await pool.fetchrow(
                "SELECT id, caller_e164 FROM calls ORDER BY started_at DESC LIMIT 1"
            )
            assert row is not None
            first = await pool.fetchval(
                "SELECT text FROM turns WHERE call_id = $1 AND role = 'agent' ORDER BY seq LIMIT 1",
                row["id"],
            )
            assert first and "Harborview" in first, first
            await page.get_by_role("button", name="Hang up").click()
            await expect(page.locator("#call")).to_be_hidden(timeout=10000)
            await expect(page.locator("#status")).to_contain_text("Call ended", timeout=5000)
            assert errors == []
        finally:
            await chromium.close()


SUMMARY = (
    "Ava here, with a caller for the front desk. They would like a late check-out on "
    "Sunday, room 12 (about 2 p.m.). Putting them through now."
)


async def test_a_warm_transfer_rings_the_browser_phone_with_the_summary_as_text(
    pbx: AsteriskSandbox, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """The agent puts a trunk caller through, warm, to extension 2002: the browser phone rings
    with the AI's summary on screen (X-Frontdesk-Summary, from FRONTDESK_SUMMARY), staff
    answer, hear the spoken summary, and the caller is joined."""
    _skip_without_browser()
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=2)
    staff = (await seed_users(pool))["staff"]
    visits: list[list[str]] = []

    def conversation(arrival: Arrival) -> Conversation:
        return Scripted(list(arrival.path), visits, whisper=SUMMARY, destination="2002")

    settings = load_settings(
        asterisk_ari_url=pbx.ari_url,
        asterisk_ari_user=pbx.ari_user,
        asterisk_ari_password=pbx.ari_password,
        asterisk_ws_url=f"ws://127.0.0.1:{pbx.ports.http}/ws",
    )
    wav = _caller_wav(tmp_path / "staff.wav")
    async with (
        aiohttp.ClientSession() as http,
        running_app(pbx, pool, conversation, (42240, 42259)),
    ):
        phones = build_phones(settings, hotel, http)
        app = staff_app(pool, lambda app: add_phone_routes(app, phones.setup))
        async with serving(app) as url, async_playwright() as playwright:
            chromium = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=_media_args(wav)
            )
            try:
                page = await (await chromium.new_context(base_url=url)).new_page()
                await sign_in_with_form(page, staff, "/phone")
                await expect(page.locator("#status")).to_contain_text("Ready", timeout=20000)
                async with calling(pbx, ECHO_NUMBER, wait_for_audio=False):
                    await expect(page.locator("#incoming")).to_be_visible(timeout=30000)
                    await expect(page.locator("#incoming-summary")).to_have_text(SUMMARY)
                    await expect(page.get_by_role("button", name="Answer")).to_be_focused()
                    await page.get_by_role("button", name="Answer").click()
                    await expect(page.locator("#call-state")).to_have_text(
                        "Connected", timeout=15000
                    )
                    await expect(page.locator("#call-summary")).to_have_text(SUMMARY)
                    # staff hear the spoken summary, then the caller (SIPp's echo of them)
                    assert await _peak(page, "remote-level", above=0.4), "nothing heard"
                    await page.get_by_role("button", name="Hang up").click()
                    await expect(page.locator("#call")).to_be_hidden(timeout=10000)
            finally:
                await chromium.close()
    assert visits[:1] == [[]]
