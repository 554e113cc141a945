"""The phone menu in a real Asterisk: callers from the trunk press keys (RFC 4733) and reach
every department's phone (registered with its password), the AI receptionist, the queue's
hold music; hours are tried with a fixed clock (TEST_CLOCK, Asterisk's TESTTIME)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.pbx.sandbox import AsteriskSandbox
from app.telephony.ivr_wait import ivr_wait_ms
from tests.live.keypad import AriWatch, calling, free_port, sipp, staff_phone

ROOT = Path(__file__).resolve().parents[2]
HARBORVIEW = "+15550100100"
# Harborview's hours (config/hotel.yaml), in its time zone:
OPEN = "2026/11/25 10:00:00 America/Los_Angeles"  # a Wednesday morning: everyone is in
EVENING = "2026/11/25 22:30:00 America/Los_Angeles"  # the hotel is open, the concierge is not
NIGHT = "2026/11/26 03:00:00 America/Los_Angeles"  # nobody is at the desk
# The welcome (2.7 s), "para español, oprima dos" (2.3 s) and its 2 s wait: then the menu.
IN_THE_MENU = 8.5


def _global(pbx: AsteriskSandbox, name: str, value: str) -> None:
    pbx.cli(f'dialplan set global {name} "{value}"')


@pytest.fixture
def clock(pbx: AsteriskSandbox) -> Iterator[None]:
    """Each test sets the dialplan's clock; afterwards it is the real one again."""
    yield
    for name, value in (("TEST_CLOCK", ""), ("MENU_TRIES", "3"), ("MENU_WAIT", "5")):
        _global(pbx, name, value)


@pytest.fixture
async def watch(pbx: AsteriskSandbox) -> AsyncIterator[AriWatch]:
    async with AriWatch(pbx) as watching:
        yield watching


@pytest.mark.parametrize(
    ("key", "phone"),
    [("2", "2001"), ("3", "3100"), ("4", "3200"), ("5", "3400"), ("0", "2001")],
    ids=["front-desk-queue", "restaurant", "concierge", "events", "operator"],
)
async def test_a_key_in_the_menu_rings_the_department_phone(
    pbx: AsteriskSandbox, clock: None, key: str, phone: str
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    async with staff_phone(pbx, phone) as department, calling(pbx, HARBORVIEW) as caller:
        await asyncio.sleep(IN_THE_MENU)
        await caller.press(key)
        picked_up = await department.picks_up(pbx)
    assert picked_up, f"key {key} did not ring phone {phone}"
    assert department.answered  # the phone's own view: INVITE, answered, BYE


async def _key_to_the_ai(pbx: AsteriskSandbox, watch: AriWatch, key: str) -> dict[str, Any]:
    """Call Harborview, press `key` in the menu: the StasisStart it leads to (then hang up)."""
    async with calling(pbx, HARBORVIEW) as caller:
        await asyncio.sleep(IN_THE_MENU)
        await caller.press(key)
        start = await watch.next_start()
        await watch.hang_up(start["channel"]["id"])
    return start


@pytest.mark.parametrize(
    ("key", "why"),
    [("1", ["menu-reservations"]), ("9", ["menu"]), ("8", ["callback"])],
    ids=["reservations", "receptionist", "call-back"],
)
async def test_the_ai_keys_reach_the_receptionist_with_the_number_dialled(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch, key: str, why: list[str]
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    start = await _key_to_the_ai(pbx, watch, key)
    assert start["args"][0] == "agent"
    assert [a for a in start["args"][1:] if a] == why
    # the controller finds the property by the number dialled
    assert start["channel"]["dialplan"]["exten"] == HARBORVIEW
    # and the menu's wait from the dialplan's mark (calls.ivr_wait_ms): the welcome, the
    # Spanish offer and the key, as the caller spent them (TEST_CLOCK leaves the mark alone)
    waited = ivr_wait_ms(start["channel"].get("channelvars"), start["timestamp"])
    assert waited is not None and IN_THE_MENU * 1000 <= waited < (IN_THE_MENU + 4) * 1000, waited


async def test_two_during_the_welcome_gives_the_menu_in_spanish(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    async with calling(pbx, HARBORVIEW) as caller:
        await asyncio.sleep(4.0)  # "para español, oprima dos"
        await caller.press("2")
        await asyncio.sleep(2.0)
        await caller.press("9")
        start = await watch.next_start()
        await watch.hang_up(start["channel"]["id"])
    assert start["channel"]["language"] == "es"


async def test_a_wrong_key_is_explained_and_the_menu_comes_again(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    async with calling(pbx, HARBORVIEW) as caller:
        await asyncio.sleep(IN_THE_MENU)
        pressed = time.monotonic()
        await caller.press("7")  # Harborview has no department on 7
        await asyncio.sleep(4.0)  # "Sorry, that is not one of the choices." then the menu
        spoken = caller.level(pressed + 0.5, pressed + 2.5)
        await caller.press("9")
        start = await watch.next_start()
        tries = await watch.variable(start["channel"]["id"], "FRONTDESK_TRIES")
        await watch.hang_up(start["channel"]["id"])
    assert tries == "2"  # the menu played a second time
    assert spoken > 100, "the caller heard nothing after the wrong key"


async def test_a_caller_who_presses_nothing_reaches_the_operator(
    pbx: AsteriskSandbox, clock: None
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    _global(pbx, "MENU_TRIES", "1")  # one menu, not three: the same path, sooner
    _global(pbx, "MENU_WAIT", "1")
    async with staff_phone(pbx, "2001") as desk, calling(pbx, HARBORVIEW):
        picked_up = await desk.picks_up(pbx, timeout=45)  # the caller says nothing
    assert picked_up and desk.answered


async def test_out_of_hours_the_ai_answers_at_once(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch
) -> None:
    _global(pbx, "TEST_CLOCK", NIGHT)
    begun = time.monotonic()
    async with calling(pbx, HARBORVIEW, wait_for_audio=False):  # nothing plays before the AI
        start = await watch.next_start(timeout=10)
        waited = time.monotonic() - begun
        await watch.hang_up(start["channel"]["id"])
    assert [a for a in start["args"][1:] if a] == ["after-hours"]
    assert waited < IN_THE_MENU  # no welcome, no menu
    assert ivr_wait_ms(start["channel"].get("channelvars"), start["timestamp"]) is None


async def test_a_closed_department_key_reaches_the_ai_which_knows_why(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch
) -> None:
    _global(pbx, "TEST_CLOCK", EVENING)
    start = await _key_to_the_ai(pbx, watch, "4")  # the concierge: 07:00-21:00
    assert [a for a in start["args"][1:] if a] == ["closed", "3200"]


async def test_the_queue_plays_hold_music_while_the_caller_waits(
    pbx: AsteriskSandbox, clock: None
) -> None:
    _global(pbx, "TEST_CLOCK", OPEN)
    async with calling(pbx, HARBORVIEW) as caller:
        await asyncio.sleep(IN_THE_MENU)
        await caller.press("2")  # the front desk: nobody's phone is registered
        await asyncio.sleep(5.0)
        waiting = pbx.cli("queue show front-desk")
        listened = time.monotonic()
        await asyncio.sleep(4.0)
        music = caller.level(listened, listened + 4.0)
    assert "1 call" in waiting, waiting  # the caller waits in the queue …
    assert music > 300, f"hold music level {music:.0f}"  # … hearing the music, not silence


async def test_with_the_controller_stopped_callers_still_reach_the_front_desk(
    pbx: AsteriskSandbox, clock: None
) -> None:
    # No ARI application is connected: Stasis() fails, the fallback apologises and puts the
    # caller through to the front-desk queue, where a desk phone answers.
    _global(pbx, "TEST_CLOCK", NIGHT)  # the AI would answer at once
    async with staff_phone(pbx, "2001") as desk, calling(pbx, HARBORVIEW):
        picked_up = await desk.picks_up(pbx)
    assert picked_up and desk.answered


async def _reload(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "dialplan", "reload"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


async def test_dialplan_reload_goes_through_ami(pbx: AsteriskSandbox) -> None:
    assert pbx.ami is not None
    user, password = pbx.ami
    env = {
        **os.environ,
        "ASTERISK_AMI_PORT": str(pbx.ports.ami),
        "ASTERISK_AMI_USER": user,
        "ASTERISK_AMI_PASSWORD": password,
    }
    result = await _reload(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dialplan reloaded" in result.stdout
    refused = await _reload({**env, "ASTERISK_AMI_PASSWORD": "not-the-password"})
    assert refused.returncode != 0
    assert "refused" in refused.stderr


async def test_staff_phones_call_each_other_by_extension(pbx: AsteriskSandbox) -> None:
    async with staff_phone(pbx, "3100") as restaurant:
        code, out = await sipp(
            pbx,
            "staff_calls.xml",
            "-s",
            "3100",
            "-set",
            "me",
            "2101",
            "-au",
            "2101",
            "-ap",
            pbx.sip_passwords["2101"],
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-mp",
            str(free_port() & ~1),
            timeout=30,
        )
        assert code == 0, out  # reservations called the restaurant, talked, hung up
    assert restaurant.answered


async def test_a_menu_department_nobody_answers_comes_back_with_its_property(
    pbx: AsteriskSandbox, clock: None, watch: AriWatch
) -> None:
    # Pinecrest's 0 is its lodge desk, 4100 (no phone registered): the caller comes back to
    # the AI, which must answer as Pinecrest (the channel's extension is now "4100").
    _global(pbx, "TEST_CLOCK", "2026/11/25 10:00:00 America/Denver")
    async with calling(pbx, "+15550100200") as caller:
        await asyncio.sleep(3.0)  # the welcome
        await caller.press("0")
        start = await watch.next_start()
        await watch.hang_up(start["channel"]["id"])
    assert [a for a in start["args"][1:] if a] == ["unanswered", "4100", "pinecrest"]
