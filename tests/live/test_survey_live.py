"""The end-of-call survey in a real Asterisk: after the agent's goodbye the controller sends
the caller to [frontdesk-survey] (here the test does, as the controller would); the caller
hears the question, presses a key (RFC 4733, from the SIPp phone) and a 1 to 5 comes back into
Stasis as Stasis(frontdesk,survey,<key>); any other key does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from app.pbx.sandbox import AsteriskSandbox
from app.telephony.call import SURVEY_DIALPLAN
from tests.live.keypad import AriWatch, calling

HARBORVIEW = "+15550100100"
NIGHT = "2026/11/26 03:00:00 America/Los_Angeles"  # after hours: the AI answers at once


@pytest.fixture
def night(pbx: AsteriskSandbox) -> Iterator[None]:
    pbx.cli(f'dialplan set global TEST_CLOCK "{NIGHT}"')
    yield
    pbx.cli('dialplan set global TEST_CLOCK ""')


@pytest.fixture
async def watch(pbx: AsteriskSandbox) -> AsyncIterator[AriWatch]:
    async with AriWatch(pbx) as watching:
        yield watching


async def test_a_key_from_1_to_5_comes_back_to_the_app_after_the_question(
    pbx: AsteriskSandbox, night: None, watch: AriWatch
) -> None:
    async with calling(pbx, HARBORVIEW, wait_for_audio=False) as caller:
        start = await watch.next_start(timeout=10)
        channel = start["channel"]["id"]
        await watch.continue_in_dialplan(channel, *SURVEY_DIALPLAN)  # the agent's goodbye
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await asyncio.sleep(1.5)  # into "Please rate this call…"
        assert caller.level(asked, loop.time()) > 0, "the question was not heard"
        await caller.press("4")
        answer = await watch.next_start(timeout=10)
        await watch.hang_up(channel)
    assert answer["channel"]["id"] == channel  # the same caller, back
    assert answer["args"] == ["survey", "4"]


async def test_a_key_outside_1_to_5_ends_the_call_without_an_answer(
    pbx: AsteriskSandbox, night: None, watch: AriWatch
) -> None:
    async with calling(pbx, HARBORVIEW, wait_for_audio=False) as caller:
        start = await watch.next_start(timeout=10)
        await watch.continue_in_dialplan(start["channel"]["id"], *SURVEY_DIALPLAN)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await asyncio.sleep(1.5)
        assert caller.level(asked, loop.time()) > 0, "the question was not heard"
        await caller.press("7")
        with pytest.raises(TimeoutError):
            await watch.next_start(timeout=6)  # no survey answer reaches the app
    assert [s["args"][:1] for s in watch.started] == [["agent"]]
