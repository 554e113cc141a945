"""The silence watch on a clock the tests drive, and the agent's words and hang-up for a caller
who says nothing. (The whole call: tests/engines/test_silence_calls.py.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app.calls.agent import AgentConversation
from app.calls.engine_port import EngineCapabilities
from app.calls.records import Outcome
from app.calls.session import CallSession
from app.calls.silence import END_REASON, WORDS, SilenceWatch, Step, words
from app.hotel.config import load_hotel_config
from app.media.clock import VirtualClock
from app.settings import PROJECT_ROOT, SettingsError, load_settings

HOTEL = load_hotel_config(PROJECT_ROOT / "config" / "hotel.yaml")
ENGLISH_ONLY = EngineCapabilities(languages=frozenset({"en"}), free_instructions=False)


def _watch() -> tuple[SilenceWatch, VirtualClock]:
    clock = VirtualClock()
    return SilenceWatch(reprompt_after=8.0, hangup_after=10.0, clock=clock), clock


def test_the_steps_come_in_order_each_after_its_silence() -> None:
    watch, clock = _watch()
    taken = []
    for expected_wait in (8.0, 8.0, 10.0, 0.0):
        assert watch.due_in(0.0) == expected_wait
        clock.advance(expected_wait)
        assert watch.due_in(0.0) == 0.0
        taken.append(watch.step())
        watch.reply_owed()  # the agent says the step's words…
        watch.replied()  # …and the engine has sent them all
    assert taken == [Step.REPROMPT, Step.OFFER, Step.GOODBYE, Step.HANG_UP]


def test_the_silence_starts_when_the_agents_audio_has_played() -> None:
    watch, clock = _watch()
    assert watch.due_in(5.0) == 13.0  # 5 s of the agent still to be heard, then 8 s
    clock.advance(3.0)
    assert watch.due_in(2.5) == 10.5  # the pacer fell behind: later still
    clock.advance(2.5)
    assert watch.due_in(0.0) == 8.0


def test_nothing_is_due_while_the_caller_talks_or_a_reply_is_owed() -> None:
    watch, clock = _watch()
    watch.caller_started()
    clock.advance(60)
    assert watch.due_in(0.0) is None  # a long utterance
    watch.caller_stopped()
    clock.advance(60)
    assert watch.due_in(0.0) is None  # the engine thinking, a tool to be worded
    watch.replied()
    assert watch.due_in(0.0) == 8.0  # counted from now, not from before


def test_words_or_a_key_start_the_count_over() -> None:
    watch, clock = _watch()
    clock.advance(8.0)
    watch.due_in(0.0)
    assert watch.step() is Step.REPROMPT
    watch.caller_started()
    watch.caller_stopped()
    watch.caller_said()
    watch.replied()
    clock.advance(watch.due_in(0.0) or 0.0)
    assert watch.step() is Step.REPROMPT  # not the offer
    watch.keyed()
    assert watch.due_in(0.0) is None  # a reply to the key is owed
    watch.replied()
    clock.advance(watch.due_in(0.0) or 0.0)
    assert watch.step() is Step.REPROMPT


def test_a_cough_does_not_start_the_count_over() -> None:
    watch, clock = _watch()
    clock.advance(8.0)
    watch.due_in(0.0)
    watch.step()
    watch.caller_started()  # speech detected, but no words came of it
    watch.caller_stopped()
    watch.replied()
    clock.advance(watch.due_in(0.0) or 0.0)
    assert watch.step() is Step.OFFER


def test_a_new_engine_session_owes_nothing_and_keeps_the_count() -> None:
    watch, clock = _watch()
    clock.advance(8.0)
    watch.due_in(0.0)
    watch.step()
    watch.caller_started()  # the engine was lost mid-utterance: no stop will come
    watch.restart()
    assert watch.due_in(0.0) == 8.0
    clock.advance(8.0)
    assert watch.step() is Step.OFFER


def test_every_step_has_words_in_english_and_spanish() -> None:
    for language in ("en", "es"):
        assert set(WORDS[language]) == {Step.REPROMPT, Step.OFFER, Step.GOODBYE}
    offer = words(Step.OFFER, "en")
    assert offer is not None and "press 0" in offer and "call you back" in offer
    assert words(Step.REPROMPT, "fr") is None


class Engine:
    def __init__(self, capabilities: EngineCapabilities) -> None:
        self.capabilities = capabilities
        self.said: list[str] = []
        self.asked: list[str | None] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def respond(self, instructions: str | None = None) -> None:
        self.asked.append(instructions)


class IO:
    def __init__(self) -> None:
        self.hung_up: list[str] = []

    async def hangup(self, reason: str) -> None:
        self.hung_up.append(reason)


def _agent(language: str = "en") -> AgentConversation:
    agent = AgentConversation(
        connector=None,  # type: ignore[arg-type]
        property_for=HOTEL.get_property,
        fallback=("frontdesk-fallback", "s"),
        silence=SilenceWatch(clock=VirtualClock()),
    )
    agent._session = CallSession(uuid.uuid4(), "harborview", "agent", language=language)
    return agent


@pytest.mark.parametrize(
    ("language", "capabilities", "expected"),
    [
        ("es", EngineCapabilities(), WORDS["es"][Step.REPROMPT]),  # OpenAI: any language
        ("en", EngineCapabilities(), WORDS["en"][Step.REPROMPT]),
        ("es", ENGLISH_ONLY, WORDS["en"][Step.REPROMPT]),  # better English than silence
    ],
)
async def test_the_reprompt_is_said_as_written_in_the_calls_language(
    language: str, capabilities: EngineCapabilities, expected: str
) -> None:
    agent, engine = _agent(language), Engine(capabilities)
    left = await agent._caller_silent(IO(), engine)  # type: ignore[arg-type]
    assert left is False
    assert engine.said == [expected] and engine.asked == []
    assert agent.silence.due_in(0.0) is None  # its words are on their way


async def test_a_language_without_words_of_ours_is_asked_for_in_it() -> None:
    agent, engine = _agent("fr"), Engine(EngineCapabilities())
    await agent._caller_silent(IO(), engine)  # type: ignore[arg-type]
    [asked] = engine.asked
    assert asked is not None and "in French" in asked and WORDS["en"][Step.REPROMPT] in asked


async def test_after_the_goodbye_the_call_is_hung_up_as_abandoned() -> None:
    agent, engine, io = _agent(), Engine(EngineCapabilities()), IO()
    agent.silence.said = 3  # asked, offered, said goodbye
    assert await agent._caller_silent(io, engine) is True  # type: ignore[arg-type]
    assert io.hung_up == [END_REASON] and engine.said == []
    assert agent._session is not None and agent._session.outcome is Outcome.ABANDONED


async def test_a_call_that_achieved_something_keeps_its_outcome() -> None:
    agent, io = _agent(), IO()
    assert agent._session is not None
    agent._session.achieved(Outcome.INFO)  # they had their answer, then went quiet
    agent.silence.said = 3
    await agent._caller_silent(io, Engine(EngineCapabilities()))  # type: ignore[arg-type]
    assert io.hung_up == [END_REASON] and agent._session.outcome is Outcome.INFO


def test_a_key_resets_the_count() -> None:
    agent = _agent()
    agent.silence.said = 2
    agent.on_dtmf("5")
    assert agent.silence.said == 0


def test_silence_times_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = load_settings()
    assert (settings.silence_reprompt_seconds, settings.silence_hangup_seconds) == (8.0, 10.0)
    monkeypatch.setenv("SILENCE_REPROMPT_SECONDS", "1")
    with pytest.raises(SettingsError, match="SILENCE_REPROMPT_SECONDS='1'"):
        load_settings()
