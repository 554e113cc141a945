"""A caller who says nothing, over the whole call path: fake ARI (recorded), real RTP both ways
(the caller's phone sends silence every 20 ms, as phones do), the offline engine over its real
WebSocket protocol, a real database. Silence times are small here (SILENCE_*_SECONDS)."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.calls.agent import AgentConversation
from app.calls.engine_port import PastTurn
from app.calls.records import TurnRole
from app.calls.silence import Step, words
from app.media.g711 import ulaw_encode
from tests.engines.test_agent_calls import Rig, _quiet, _speech, _turns, _until
from tests.fakes.ari import FakeCall

REPROMPT = 3.0  # SILENCE_REPROMPT_SECONDS in these tests
HANGUP = 3.0  # SILENCE_HANGUP_SECONDS
STILL_THERE = words(Step.REPROMPT, "en")
OFFER = words(Step.OFFER, "en")
GOODBYE = words(Step.GOODBYE, "en")
SILENCE = ulaw_encode(b"\x00\x00" * 160)


@pytest.fixture(autouse=True)
def _short_silences(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read by the rig's settings, wired into each call's agent by build_telephony."""
    monkeypatch.setenv("SILENCE_REPROMPT_SECONDS", str(REPROMPT))
    monkeypatch.setenv("SILENCE_HANGUP_SECONDS", str(HANGUP))


class Phone:
    """The caller's phone: a frame every 20 ms on a steady clock, silence unless it is saying
    something."""

    def __init__(self, rig: Rig, call: FakeCall) -> None:
        self._rig, self._call = rig, call
        self._words: collections.deque[bytes] = collections.deque()

    def say(self, frames: list[bytes]) -> None:
        self._words.extend(frames)

    async def said(self) -> None:
        await _until(lambda: not self._words, timeout=30)

    async def run(self) -> None:
        host = self._call.media_host
        assert host is not None
        loop = asyncio.get_running_loop()
        start, seq = loop.time(), 0
        while True:
            seq += 1
            await asyncio.sleep(max(0.0, start + seq * 0.02 - loop.time()))
            frame = self._words.popleft() if self._words else SILENCE
            self._rig.rtp.send(host, seq, frame)


@pytest.fixture
async def phone(rig: Rig) -> AsyncIterator[tuple[FakeCall, Phone]]:
    """A call to the Harborview, its phone sending from the moment media is up."""
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
    await _until(lambda: call.media_host is not None)
    handset = Phone(rig, call)
    task = asyncio.create_task(handset.run(), name="test-phone")
    yield call, handset
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _agent(rig: Rig) -> AgentConversation:
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    return conversation


def _agent_turns(conversation: AgentConversation) -> list[str]:
    """What the agent has said so far (its transcripts, as they came back from the engine)."""
    return [
        p.text for p in conversation.history if isinstance(p, PastTurn) and p.role is TurnRole.AGENT
    ]


async def _agent_said(conversation: AgentConversation, text: str | None, after: int) -> int:
    """Wait for an agent turn saying `text` after the first `after`; the turns then."""
    assert text is not None
    await _until(lambda: text in _agent_turns(conversation)[after:], timeout=40)
    return len(_agent_turns(conversation))


async def test_a_silent_caller_is_asked_offered_a_person_then_said_goodbye_to(
    rig: Rig, phone: tuple[FakeCall, Phone]
) -> None:
    call, _ = phone
    await _until(lambda: rig.app.calls)
    conversation = _agent(rig)
    row = None
    async with asyncio.timeout(90):
        while row is None:
            row = await rig.pool.fetchrow(
                "SELECT * FROM calls WHERE channel_id = $1 AND state = 'ended'", call.caller_id
            )
            await asyncio.sleep(0.1)
    assert row["end_reason"] == "caller_silent" and row["outcome"] == "abandoned"
    turns = await _turns(rig, call)
    agent = [text for role, text, _ in turns if role == "agent"]
    assert "Harborview Hotel" in agent[0]
    assert agent[1:] == [STILL_THERE, OFFER, GOODBYE], agent  # each once, in order
    assert [role for role, _, _ in turns] == ["agent"] * 4  # the caller never said a word
    # Hung up by us through ARI, after the goodbye had been played; nothing left behind.
    assert ("DELETE", f"/channels/{call.caller_id}") in [(m, p) for m, p, _ in rig.fake.requests]
    assert conversation.silence.said == 4
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_a_caller_who_answers_the_reprompt_carries_on_and_the_count_starts_over(
    rig: Rig, phone: tuple[FakeCall, Phone], tmp_path: Path
) -> None:
    call, handset = phone
    # Longer than the silence time: no prompt while they talk or while the engine hears it.
    question = _speech("Hello? Yes, sorry, I am still here. Do you have free wifi?", tmp_path)
    assert len(question) * 0.02 > REPROMPT
    await _until(lambda: rig.app.calls)
    conversation = _agent(rig)
    heard = await _agent_said(conversation, STILL_THERE, 1)
    await _quiet(rig)
    handset.say(question)
    await handset.said()
    answered = await _agent_said_containing(conversation, "wi-fi", heard)
    since = _agent_turns(conversation)[heard:]
    # the answer and nothing else: no offer while they talked or waited for it
    assert len(since) == 1 and "Wi-Fi is free" in since[0], since
    # Silent again: the count started over, so "are you still there?" again, not the offer.
    await _agent_said(conversation, STILL_THERE, answered)
    assert _agent_turns(conversation)[answered:] == [STILL_THERE]
    turns = await _turns(rig, call)
    assert any(role == "caller" and "wi" in text.lower() for role, text, _ in turns), turns
    assert rig.app.calls  # still on the line


async def test_no_reprompt_while_the_agents_long_words_are_still_playing(
    rig: Rig, phone: tuple[FakeCall, Phone]
) -> None:
    await _until(lambda: rig.app.calls)
    conversation = _agent(rig)
    await _until(lambda: _agent_turns(conversation))  # the greeting's transcript: all rendered
    # The engine has sent the whole greeting; it takes longer to play than the silence time.
    await _quiet(rig)
    greeting_frames = len(rig.rtp.received)
    assert greeting_frames * 0.02 > REPROMPT
    assert len(_agent_turns(conversation)) == 1  # nothing said while it played
    await _agent_said(conversation, STILL_THERE, 1)
    await _quiet(rig)
    # The re-prompt came after the greeting had played, as audio of its own.
    assert len(rig.rtp.received) > greeting_frames + 25


async def test_no_reprompt_while_the_caller_is_on_hold(
    rig: Rig, phone: tuple[FakeCall, Phone], tmp_path: Path
) -> None:
    _, handset = phone
    script = [
        ("I would like to book a room for Friday.", "how many nights"),
        ("Two nights.", "how many adults"),
    ]
    spoken = [(_speech(words_, tmp_path), expected) for words_, expected in script]
    adults = _speech("We are two adults.", tmp_path)
    await _until(lambda: rig.app.calls)
    conversation = _agent(rig)
    heard = 1
    await _until(lambda: _agent_turns(conversation))
    await _quiet(rig)
    for frames, expected in spoken:
        handset.say(frames)
        heard = await _agent_said_containing(conversation, expected, heard)
        await _quiet(rig)
    # The availability check waits on the inventory (locked here): the caller hears hold
    # music for longer than two silences.
    async with rig.pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE inventory IN ACCESS EXCLUSIVE MODE")
        handset.say(adults)
        await _until(lambda: rig.fake.moh, timeout=40)
        during = len(_agent_turns(conversation))
        await asyncio.sleep(REPROMPT * 3)
        assert len(rig.fake.moh) == 1  # still on hold
        assert len(_agent_turns(conversation)) == during, _agent_turns(conversation)
    await _until(lambda: len(rig.fake.moh) == 2)  # the music stopped: the result is in
    quoted = await _agent_said_containing(conversation, "dollars", during)
    assert STILL_THERE not in _agent_turns(conversation)[during:quoted]
    # Once the quote has been heard, a silence is a silence again.
    await _agent_said(conversation, STILL_THERE, quoted)
    assert rig.app.calls  # still on the line


async def _agent_said_containing(conversation: AgentConversation, text: str, after: int) -> int:
    """Wait for an agent turn containing `text` (any case) after the first `after`."""

    def found() -> bool:
        return any(text in t.lower() for t in _agent_turns(conversation)[after:])

    await _until(found, timeout=40)
    return len(_agent_turns(conversation))
