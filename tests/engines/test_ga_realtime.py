"""Our Realtime client against the strict GA double (tests/fakes/ga_realtime.py): what OpenAI
does that our offline engine does not — errors before session.created, refused session
settings, server-side interruption, one response at a time, newer event values, `languages`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import numpy as np
import pytest
from structlog.testing import capture_logs

from app.calls.engine_port import (
    AgentAudio,
    CallContext,
    CallerTranscript,
    EngineError,
    EngineEvent,
    EngineGone,
    FunctionCall,
    ResponseDone,
    SpeechStarted,
)
from app.engines import realtime_client
from app.engines.realtime_client import RealtimeConnector, RealtimeSession
from app.media.g711 import ulaw_encode
from tests.fakes.ga_realtime import GaRealtime, GaSession, Reply

FRAME = 160  # 20 ms of μ-law


def _voice(ms: int) -> list[bytes]:
    """A loud tone for `ms`, then 600 ms of silence: one utterance to the double's VAD; in
    40 ms appends, as the agent sends them."""
    t = np.arange(8 * ms) / 8000
    tone = (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()
    ulaw = ulaw_encode(tone + b"\x00\x00" * 8 * 600)
    return [ulaw[i : i + 2 * FRAME] for i in range(0, len(ulaw), 2 * FRAME)]


@contextlib.asynccontextmanager
async def _ga(**options: Any) -> AsyncIterator[tuple[GaRealtime, RealtimeConnector]]:
    double = GaRealtime(pace=0)
    url = await double.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield double, RealtimeConnector(http, url, api_key="sk-test", **options)
    finally:
        await double.close()


@contextlib.asynccontextmanager
async def _opened(**options: Any) -> AsyncIterator[tuple[GaRealtime, GaSession, RealtimeSession]]:
    async with _ga(**options) as (double, connector):
        session = await connector.open(CallContext("harborview"))
        try:
            yield double, await double.session(), session
        finally:
            await session.close()


async def _next(session: RealtimeSession, kind: type[Any], timeout: float = 5) -> Any:
    async with asyncio.timeout(timeout):
        while not isinstance(event := await session.next_event(), kind):
            assert not isinstance(event, EngineGone), event
        return event


async def _until(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def _engine_tasks() -> list[asyncio.Task[object]]:
    names = ("engine-reader", "engine-writer")
    return [t for t in asyncio.all_tasks() if t.get_name() in names and not t.done()]


# --- 1. before session.created ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("instead", "retryable"),
    [("server_error", True), ("invalid_request_error", False), ("close", True)],
)
async def test_an_error_or_a_close_before_session_created_fails_the_handshake_at_once(
    instead: str, retryable: bool
) -> None:
    async with _ga(handshake_timeout=5) as (double, connector):
        double.before_created = instead
        with pytest.raises(EngineError) as caught:
            await connector.open(CallContext("harborview"))
    # the engine's own answer, not the handshake's timeout after a silent wait
    assert "in time" not in str(caught.value), caught.value
    assert caught.value.retryable is retryable
    assert not _engine_tasks()


# --- 5. the session's settings ------------------------------------------------------------------
async def test_a_refused_session_update_fails_the_session_before_any_audio() -> None:
    async with _ga() as (double, connector):
        double.reject_update = "session.audio.output.format"
        with pytest.raises(EngineError) as caught:
            await connector.open(CallContext("harborview"))
    assert "session.audio.output.format" in str(caught.value)
    assert not caught.value.retryable  # the same settings would be refused again
    assert not _engine_tasks()


async def test_a_session_update_never_confirmed_fails_the_session() -> None:
    async with _ga(handshake_timeout=0.5) as (double, connector):
        double.confirm_updates = False
        with pytest.raises(EngineError) as caught:
            await connector.open(CallContext("harborview"))
    assert caught.value.retryable
    assert not _engine_tasks()


# --- 3. turn detection: our echo guard decides barge-in ---------------------------------------------
async def test_turn_detection_leaves_interruption_to_the_agent() -> None:
    async with _opened() as (double, ga, session):
        [update] = [e for e in ga.received if e["type"] == "session.update"]
        detection = update["session"]["audio"]["input"]["turn_detection"]
        assert detection["type"] == "server_vad"
        assert detection["interrupt_response"] is False and detection["create_response"] is True
        double.pace = 1.0  # generated as fast as it is spoken: still going when the echo comes
        double.brain.replies.append(Reply("Thank you for calling.", audio_ms=2000))
        session.say("Thank you for calling.")
        await _next(session, AgentAudio)
        for chunk in _voice(200):  # the agent's own voice, echoed back by the line
            session.append_audio(chunk)
        await _next(session, SpeechStarted)
        done = await _next(session, ResponseDone)
        assert done.status == "completed"  # not cancelled by the service on the echo


# --- 4. one response.create at a time --------------------------------------------------------------
async def test_a_response_asked_for_while_one_is_active_is_sent_after_it() -> None:
    release = asyncio.Event()
    async with _opened() as (double, ga, session):
        double.brain.replies.extend([Reply("Welcome.", until=release), Reply("Thank you.")])
        session.say("Welcome.")
        await _next(session, AgentAudio)
        session.user_text("The caller pressed 1 on the telephone keypad.")
        session.respond()
        await _until(lambda: any(e["type"] == "conversation.item.create" for e in ga.received))
        await asyncio.sleep(0.1)  # a response.create sent now would have arrived
        release.set()
        first = await _next(session, ResponseDone)
        second = await _next(session, ResponseDone)
        assert first.response_id != second.response_id
        assert ga.errors() == []
        texts = [i["content"][0].get("text") for i in double.brain.turns[1].new]
        assert texts == ["The caller pressed 1 on the telephone keypad."]


async def test_a_response_create_crossing_a_vad_response_is_sent_again_after_it() -> None:
    release = asyncio.Event()
    async with _opened() as (double, ga, session):
        double.brain.transcripts.append(("Hello.", None))
        double.brain.replies.extend([Reply("Hello there.", until=release), Reply("One.")])
        for chunk in _voice(400):
            session.append_audio(chunk)
        # On the wire right behind the audio that ends the caller's turn: the service has
        # started its own response by the time it reads this one, and refuses it.
        session.user_text("The caller pressed 1 on the telephone keypad.")
        session.respond()
        await _until(ga.errors)
        assert [e["code"] for e in ga.errors()] == ["conversation_already_has_active_response"]
        release.set()
        await _until(lambda: len(ga.responses()) == 2)
        assert [r["status"] for r in ga.responses()] == ["completed", "completed"]


async def test_a_response_create_the_engine_ignored_does_not_hold_back_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not what OpenAI does (it answers every response.create, with a response or an error),
    # but an engine that does not must not leave the agent unanswered for the rest of the call.
    monkeypatch.setattr(realtime_client, "ASK_TIMEOUT", 0.2)
    async with _opened() as (double, ga, session):
        double.ignore.add("response.create")
        session.say("Hello.")  # never begun
        await _until(lambda: any(e["type"] == "response.create" for e in ga.received))
        await asyncio.sleep(0.3)
        double.ignore.clear()
        session.respond()
        done = await _next(session, ResponseDone)
        assert done.status == "completed" and len(ga.responses()) == 1


async def test_cancelling_when_nothing_is_active_is_quietly_harmless() -> None:
    async with _opened() as (_, ga, session):
        session.say("Hello.")
        done = await _next(session, ResponseDone)
        with capture_logs() as logs:
            session.cancel_response()  # the caller spoke just as the agent finished
            session.say("Sorry, go on.")
            await _next(session, ResponseDone)
        assert done.status == "completed"
        assert [e for e in logs if e["log_level"] in {"warning", "error"}] == []
        assert [e["code"] for e in ga.errors()] in ([], ["response_cancel_not_active"])


# --- 2. events newer than the pinned SDK -----------------------------------------------------------
def _newer(event: dict[str, Any]) -> dict[str, Any]:
    """Values a later service may send that the pinned SDK's models reject."""
    kind = event["type"]
    if kind in {"session.created", "session.updated"}:
        event["session"]["include"] = ["item.input_audio_transcription.confidence"]
    elif kind == "response.done":
        event["response"]["status_details"] = {"type": "completed", "reason": "turn_complete"}
    elif kind == "conversation.item.input_audio_transcription.completed":
        event["usage"] = {"type": "audio_tokens", "tokens": 42}
    elif kind in {"response.function_call_arguments.done", "response.output_audio.delta"}:
        event["output_index"] = None
    elif kind == "input_audio_buffer.speech_started":
        event["audio_start_ms"] = event["audio_start_ms"] + 0.5
    return event


async def test_events_with_values_newer_than_the_sdk_are_still_acted_on() -> None:
    async with _ga() as (double, connector):
        double.alter = _newer
        session = await connector.open(CallContext("harborview"))
        try:
            double.brain.transcripts.append(("What time is breakfast?", None))
            call = ("get_hotel_info", {"topic": "breakfast"})
            double.brain.replies.append(Reply("Let me see.", calls=[call]))
            for chunk in _voice(400):
                session.append_audio(chunk)
            seen: list[EngineEvent] = []
            async with asyncio.timeout(5):
                while not isinstance(event := await session.next_event(), ResponseDone):
                    assert not isinstance(event, EngineGone), event
                    seen.append(event)
            assert event.status == "completed"
            kinds = {type(e) for e in seen}
            assert {SpeechStarted, CallerTranscript, AgentAudio, FunctionCall} <= kinds, kinds
            [function_call] = [e for e in seen if isinstance(e, FunctionCall)]
            assert function_call.name == "get_hotel_info"
            assert function_call.arguments == {"topic": "breakfast"}
        finally:
            await session.close()


# --- 6. the caller's language ---------------------------------------------------------------------
def _offline_language(event: dict[str, Any]) -> dict[str, Any]:
    if event["type"] == "conversation.item.input_audio_transcription.completed":
        event["language"] = "es"  # what our offline engine adds, beyond the GA fields
    return event


@pytest.mark.parametrize(
    ("model", "alter"),
    [("gpt-transcribe", None), ("gpt-4o-mini-transcribe", _offline_language)],
    ids=["ga-languages", "offline-language"],
)
async def test_the_callers_language_is_read_from_the_transcription(model: str, alter: Any) -> None:
    async with _ga(transcribe_model=model) as (double, connector):
        double.alter = alter
        session = await connector.open(CallContext("harborview"))
        try:
            ga = await double.session()
            [update] = [e for e in ga.received if e["type"] == "session.update"]
            assert update["session"]["audio"]["input"]["transcription"]["model"] == model
            double.brain.transcripts.append(("Hola, quisiera una habitación.", "es"))
            for chunk in _voice(400):
                session.append_audio(chunk)
            heard = await _next(session, CallerTranscript)
            assert heard.text == "Hola, quisiera una habitación." and heard.language == "es"
        finally:
            await session.close()
