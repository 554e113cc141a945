"""The offline engine over its real protocol (a WebSocket, Realtime GA events), with a caller
voice unlike the engine's own (espeak-ng vs flite; in Spanish espeak-ng's male voice vs the
engine's female one) through 8 kHz μ-law."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import subprocess
import wave
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app.calls.engine_port import (
    AgentTranscript,
    CallContext,
    EngineGone,
    FunctionCall,
    ResponseDone,
)
from app.calls.records import TurnRole
from app.engines.local.dialog import DialogManager
from app.engines.local.server import RENDERED, create_engine_app
from app.engines.local.voice import sentences
from app.engines.local.voices import LocalVoices
from app.engines.local.whisper import WhisperSpeechToText
from app.engines.realtime_client import RealtimeConnector, RealtimeSession
from app.engines.realtime_events import validate_server_event
from app.engines.speech import SpeechToText, TextToSpeech, Transcript
from app.hotel.config import load_hotel_config
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample

# the offline engine's voices as `frontdesk run` gives them (Piper joe, espeak-ng es, flite)
local_tts = LocalVoices()
ROOT = Path(__file__).resolve().parents[2]
STT = WhisperSpeechToText()  # the model loads once for the module


def _caller_says(text: str, tmp: Path) -> bytes:
    """μ-law at 8 kHz: 0.5 s of silence, the words (espeak-ng), 1 s of silence."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(tmp / "say.wav"), text], check=True
    )
    with wave.open(str(tmp / "say.wav")) as reader:
        pcm = reader.readframes(reader.getnframes())
        rate = reader.getframerate()
    pcm = resample(pcm, rate, 8000) if rate != 8000 else pcm
    silence = b"\x00\x00" * 8000
    return ulaw_encode(silence[:8000] + pcm + silence)


class Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(event))

    async def until(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                event = json.loads(message.data)
                validate_server_event(event)  # every event the engine sends is a GA event
                self.events.append(event)
                if event["type"] == kind:
                    return event

    def audio(self, response_id: str) -> bytes:
        return b"".join(
            base64.b64decode(e["delta"])
            for e in self.events
            if e["type"] == "response.output_audio.delta" and e["response_id"] == response_id
        )


class NotedVoices:
    """The engine's own voices (local_tts: what `frontdesk run` gives it), noting
    which voice was asked to say which words."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []  # (voice name, text)

    def __call__(self, name: str) -> TextToSpeech:
        return _Noted(local_tts(name), name, self.said)

    def voices_of(self, reply: str) -> set[str]:
        """The voices that said the words of this reply."""
        return {name for name, text in self.said if text.strip() and text.strip() in reply}


class _Noted:
    def __init__(self, tts: TextToSpeech, name: str, said: list[tuple[str, str]]) -> None:
        self._tts, self._name, self._said = tts, name, said
        self.rate = tts.rate

    def synthesize(self, text: str) -> bytes:
        self._said.append((self._name, text))
        return self._tts.synthesize(text)


@contextlib.asynccontextmanager
async def _connected(
    stt: SpeechToText,
    voices: NotedVoices | None = None,
    default_language: str = "en",
    property_id: str = "harborview",
) -> AsyncIterator[Client]:
    """The offline engine with these ears (and voices, and DEFAULT_LANGUAGE), and a client
    connected to it (session created)."""
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    app = create_engine_app(hotel, stt, voices or local_tts, default_language)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(
                f"http://127.0.0.1:{server.port}/v1/realtime?property={property_id}"
            ) as ws,
        ):
            c = Client(ws)
            await c.until("session.created")
            yield c
    finally:
        await server.close()


async def _update(c: Client, language: str | None = None) -> None:
    """The client's session.update; `language`: the transcription's (GA's field for it)."""
    audio: dict[str, Any] = {
        "input": {"format": {"type": "audio/pcmu"}},
        "output": {"format": {"type": "audio/pcmu"}},
    }
    if language is not None:
        audio["input"]["transcription"] = {"model": "gpt-4o-mini-transcribe", "language": language}
    await c.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "You are Ava.",
                "audio": audio,
                "tools": [
                    {
                        "type": "function",
                        "name": "transfer_call",
                        "parameters": {"type": "object"},
                    },
                    {"type": "function", "name": "end_call", "parameters": {"type": "object"}},
                ],
            },
        }
    )
    await c.until("session.updated")


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with _connected(STT) as c:
        await _update(c)
        yield c


async def _speak(client: Client, ulaw: bytes) -> None:
    for start in range(0, len(ulaw), 320):  # 40 ms appends
        await client.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(ulaw[start : start + 320]).decode(),
            }
        )


async def test_a_scripted_greeting_is_spoken(client: Client) -> None:
    await client.send(
        {
            "type": "response.create",
            "response": {"instructions": 'Say exactly: "Harborview Hotel, this is Ava."'},
        }
    )
    done = await client.until("response.done")
    assert done["response"]["status"] == "completed"
    audio = client.audio(done["response"]["id"])
    assert 8000 * 1 < len(audio) < 8000 * 6  # one to six seconds of μ-law
    transcript = next(
        e for e in client.events if e["type"] == "response.output_audio_transcript.done"
    )
    assert transcript["transcript"] == "Harborview Hotel, this is Ava."


async def test_a_question_heard_understood_and_answered(client: Client, tmp_path: Path) -> None:
    await _speak(client, _caller_says("Is there wifi in the rooms?", tmp_path))
    started = await client.until("input_audio_buffer.speech_started")
    stopped = await client.until("input_audio_buffer.speech_stopped")
    assert (
        200 <= started["audio_start_ms"] <= 900
        and stopped["audio_end_ms"] > started["audio_start_ms"]
    )
    heard = await client.until("conversation.item.input_audio_transcription.completed")
    assert "wi" in heard["transcript"].lower().replace("-", "")
    done = await client.until("response.done")
    answer = next(e for e in client.events if e["type"] == "response.output_audio_transcript.done")
    assert "Wi-Fi is free" in answer["transcript"] and done["response"]["status"] == "completed"


async def test_asking_for_a_person_becomes_a_transfer_call(client: Client, tmp_path: Path) -> None:
    await _speak(
        client, _caller_says("Can I speak to a person at the front desk please?", tmp_path)
    )
    call = await client.until("response.function_call_arguments.done")
    assert (
        call["name"] == "transfer_call"
        and json.loads(call["arguments"])["department"] == "front_desk"
    )
    await client.until("response.done")


async def test_cancel_stops_the_response_and_truncate_is_confirmed(client: Client) -> None:
    long = "Say exactly: " + " ".join(["The pool is open from seven until ten."] * 6)
    await client.send({"type": "response.create", "response": {"instructions": long}})
    first = await client.until("response.output_audio.delta")
    await client.send({"type": "response.cancel"})
    done = await client.until("response.done")
    assert done["response"]["status"] == "cancelled"
    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": first["item_id"],
            "content_index": 0,
            "audio_end_ms": 640,
        }
    )
    truncated = await client.until("conversation.item.truncated")
    assert truncated["audio_end_ms"] == 640 and truncated["item_id"] == first["item_id"]


async def test_garbage_gets_a_protocol_error_and_the_session_goes_on(client: Client) -> None:
    await client.ws.send_str("{not json")
    error = await client.until("error")
    assert "not a Realtime client event" in error["error"]["message"]
    await client.send(
        {"type": "response.create", "response": {"instructions": 'Say exactly: "Still here."'}}
    )
    assert (await client.until("response.done"))["response"]["status"] == "completed"


def _caller_says_in(voice: str, text: str, tmp: Path) -> bytes:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "140", "-w", str(tmp / "say.wav"), text], check=True
    )
    with wave.open(str(tmp / "say.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    return ulaw_encode(b"\x00\x00" * 4000 + pcm + b"\x00\x00" * 8000)


async def test_a_spanish_speaking_caller_is_recognised_as_such(
    client: Client, tmp_path: Path
) -> None:
    await _speak(
        client,
        _caller_says_in("es", "Hola, quisiera reservar una habitación para dos noches", tmp_path),
    )
    heard = await client.until("conversation.item.input_audio_transcription.completed")
    assert heard["language"] == "es"
    assert "habitaci" in heard["transcript"].lower() or "reservar" in heard["transcript"].lower()
    await client.until("response.done")


async def test_an_english_caller_stays_english_on_tiny_en(client: Client, tmp_path: Path) -> None:
    before = Counter(STT.uses)
    await _speak(client, _caller_says_in("en-us", "Where can I park my car?", tmp_path))
    heard = await client.until("conversation.item.input_audio_transcription.completed")
    assert heard["language"] == "en" and "park" in heard["transcript"].lower()
    await client.until("response.done")
    await _speak(client, _caller_says_in("en-us", "Is there wifi in the rooms?", tmp_path))
    heard = await client.until("conversation.item.input_audio_transcription.completed")
    assert heard["language"] == "en" and "wi" in heard["transcript"].lower()
    await client.until("response.done")
    # the first words' language detected once; every turn on the fast English model
    assert Counter(STT.uses) - before == Counter({"detect": 1, "tiny.en": 2})


async def _reply(client: Client) -> tuple[str, bytes]:
    """The next response's words and audio."""
    said = await client.until("response.output_audio_transcript.done")
    done = await client.until("response.done")
    return said["transcript"], client.audio(done["response"]["id"])


def _language_heard(ulaw: bytes) -> str:
    """The language an independent ear (Whisper's detection) hears in the agent's audio."""
    detected = STT.detect_language(ulaw_decode(ulaw), 8000)
    assert detected is not None, "the multilingual model is not installed"
    return detected[0]


async def test_spanish_first_words_switch_the_conversation_to_spanish(tmp_path: Path) -> None:
    voices = NotedVoices()
    async with _connected(STT, voices) as client:
        await _update(client)  # no language: the caller's first words decide
        before = Counter(STT.uses)
        spanish = "Hola, quisiera reservar una habitación para el viernes"
        await _speak(client, _caller_says_in("es", spanish, tmp_path))
        heard = await client.until("conversation.item.input_audio_transcription.completed")
        assert heard["language"] == "es" and "reservar" in heard["transcript"].lower()
        reply, _ = await _reply(client)
        assert voices.voices_of(reply) == {"es"}, voices.said  # espeak-ng's Spanish voice
        assert Counter(STT.uses) - before == Counter({"detect": 1, "base": 1})
        # and the next turn is heard in Spanish too, by the multilingual model, undetected
        await _speak(client, _caller_says_in("es", "Sí, por favor.", tmp_path))
        heard = await client.until("conversation.item.input_audio_transcription.completed")
        assert heard["language"] == "es" and "por favor" in heard["transcript"].lower()
        reply, _ = await _reply(client)
        assert voices.voices_of(reply) == {"es"}, voices.said
        assert Counter(STT.uses) - before == Counter({"detect": 1, "base": 2})


async def test_a_caller_who_chose_spanish_is_greeted_and_heard_in_spanish(tmp_path: Path) -> None:
    async with _connected(STT) as client:
        await _update(client, language="es")  # what the client sends for a menu choice of 2
        await client.send({"type": "response.create", "response": {}})
        greeting, audio = await _reply(client)
        prop = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("harborview")
        assert greeting == DialogManager(prop, language="es").greeting() != prop.greeting_words
        assert _language_heard(audio) == "es"
        # A short answer, which detection alone takes for English: heard in Spanish, by the
        # multilingual model, with nothing detected.
        before = Counter(STT.uses)
        await _speak(client, _caller_says_in("es", "Sí, por favor.", tmp_path))
        heard = await client.until("conversation.item.input_audio_transcription.completed")
        assert heard["language"] == "es" and "por favor" in heard["transcript"].lower()
        await client.until("response.done")
        assert Counter(STT.uses) - before == Counter({"base": 1})


async def test_default_language_greets_in_spanish_then_an_english_caller_gets_english(
    tmp_path: Path,
) -> None:
    voices = NotedVoices()
    async with _connected(STT, voices, default_language="es-ES") as client:  # DEFAULT_LANGUAGE
        await _update(client)
        await client.send({"type": "response.create", "response": {}})
        greeting, audio = await _reply(client)
        assert _language_heard(audio) == "es", greeting
        before = Counter(STT.uses)
        await _speak(client, _caller_says_in("en-us", "Where can I park my car?", tmp_path))
        heard = await client.until("conversation.item.input_audio_transcription.completed")
        assert heard["language"] == "en" and "park" in heard["transcript"].lower()
        reply, _ = await _reply(client)
        # the property's English voice (hotel.yaml local_voice "default": Piper joe)
        assert "park" in reply.lower() and voices.voices_of(reply) == {"joe"}, voices.said
        assert Counter(STT.uses) - before == Counter({"detect": 1, "tiny.en": 1})


async def test_default_language_is_not_forced_on_a_property_without_it() -> None:
    async with _connected(STT, default_language="es-ES", property_id="pinecrest") as client:
        await _update(client)
        await client.send({"type": "response.create", "response": {}})
        greeting, _ = await _reply(client)
    prop = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("pinecrest")
    assert greeting == prop.greeting_words  # Pinecrest lists en-US only


async def test_a_long_utterance_is_transcribed_while_it_goes_on(
    client: Client, tmp_path: Path
) -> None:
    words = (
        "I would like to book a room for next Friday for three nights, for two adults and "
        "one child, and could you also tell me where we can park our car?"
    )
    ulaw = _caller_says(words, tmp_path)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, offset in enumerate(range(0, len(ulaw), 320)):  # in real time, as a call sends it
        await asyncio.sleep(max(0.0, start + n * 0.04 - loop.time()))
        await client.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(ulaw[offset : offset + 320]).decode(),
            }
        )
    final = await client.until("conversation.item.input_audio_transcription.completed")
    partials = [
        e for e in client.events if e["type"] == "conversation.item.input_audio_transcription.delta"
    ]
    assert partials, "no partial transcript during a long utterance"
    assert all(p["item_id"] == final["item_id"] for p in partials)
    so_far = "".join(p["delta"] for p in partials)
    assert so_far and final["transcript"].lower().startswith(so_far.lower()[:10])
    stopped = next(
        i for i, e in enumerate(client.events) if e["type"] == "input_audio_buffer.speech_stopped"
    )
    assert client.events.index(partials[0]) < stopped  # heard before the caller finished


async def test_a_booking_answer_of_a_few_seconds_gets_no_partial_transcript(
    client: Client, tmp_path: Path
) -> None:
    # A partial transcript under way when the caller pauses holds back the turn's early
    # transcript (one speech-to-text job at a time); a booking's answers of 2-4 s get none.
    await _speak(client, _caller_says("I'd like to book a room.", tmp_path))  # the language
    await client.until("response.done")
    ulaw = _caller_says("We would like the double queen room for the two of us please", tmp_path)
    speech_s = len(ulaw) / 8000 - 1.5  # less the silence around the words
    assert 2.5 < speech_s < 3.9, speech_s
    client.events.clear()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, offset in enumerate(range(0, len(ulaw), 320)):  # in real time, as a call sends it
        await asyncio.sleep(max(0.0, start + n * 0.04 - loop.time()))
        await client.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(ulaw[offset : offset + 320]).decode(),
            }
        )
    final = await client.until("conversation.item.input_audio_transcription.completed")
    assert "queen" in final["transcript"].lower()
    kinds = [e["type"] for e in client.events]
    assert "conversation.item.input_audio_transcription.delta" not in kinds


class ScriptedEars:
    """Speech-to-text that writes the given lines, one per utterance, and keeps what the
    engine told it to expect each time (real audio, real VAD, real protocol around it)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.expecting: list[str | None] = []

    def transcribe(
        self, pcm16: bytes, rate: int, language: str | None = None, expecting: str | None = None
    ) -> Transcript:
        self.expecting.append(expecting)
        return Transcript(self.lines.pop(0), "en")


async def test_the_question_asked_tells_speech_to_text_what_to_expect(tmp_path: Path) -> None:
    ears = ScriptedEars("I'd like to book a room for Friday.", "Two nights.")
    async with _connected(ears) as client:
        short = _caller_says("Hello there.", tmp_path)  # under 2 s: no partial transcripts
        for _ in range(2):
            await _speak(client, short)
            await client.until("response.done")
    first, second = ears.expecting
    assert first is None  # nothing asked yet
    assert second is not None and "nights" in second.lower()  # "how many nights?" was asked


async def test_a_short_sound_without_words_is_not_answered(tmp_path: Path) -> None:
    # A click or the line's noise as a call starts: "Sorry, I didn't catch that" to it was
    # the first thing bench/conversation's callers heard. Words not caught in a real
    # utterance are still asked again.
    ears = ScriptedEars("", "")
    async with _connected(ears) as client:
        hello = _caller_says("Hello there, how are you today?", tmp_path)
        quiet = b"\xff" * 8000  # 1 s of μ-law silence
        click = hello[: 4000 + 2000] + quiet  # 0.5 s of silence, the first 250 ms of words
        await _speak(client, click)
        await client.until("conversation.item.input_audio_transcription.completed")
        with contextlib.suppress(TimeoutError):
            await client.until("response.created", timeout=1.5)
        assert "response.created" not in [e["type"] for e in client.events]
        await _speak(client, hello)
        await client.until("response.done")
        said = [e for e in client.events if e["type"] == "response.output_audio_transcript.done"]
        assert said and "didn't catch" in said[-1]["transcript"]


async def test_a_noise_that_cut_the_agent_off_hears_the_reply_again(tmp_path: Path) -> None:
    # Barge-in stops the agent at the caller's first sound; when that sound proves to be a
    # click, the caller must not be left with half an answer and silence.
    ears = ScriptedEars("Where can I park my car?", "")
    async with _connected(ears) as client:
        await _speak(client, _caller_says("Where can I park my car?", tmp_path))
        await client.until("response.output_audio.delta")  # the answer has begun
        hello = _caller_says("Hello there, how are you today?", tmp_path)
        await _speak(client, hello[: 4000 + 2000] + b"\xff" * 8000)  # a 250 ms click
        first = await client.until("response.done")
        assert first["response"]["status"] == "cancelled"
        again = await client.until("response.done")
        assert again["response"]["status"] == "completed"
        said = [e for e in client.events if e["type"] == "response.output_audio_transcript.done"]
        assert "park" in said[-1]["transcript"].lower(), said  # the same answer, whole
        assert [e["type"] for e in client.events].count("response.created") == 2


@contextlib.asynccontextmanager
async def _booking_session() -> AsyncIterator[RealtimeSession]:
    """Our own Realtime client on the offline engine, offering the booking tools."""
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    server = TestServer(create_engine_app(hotel, STT, local_tts), host="127.0.0.1")
    await server.start_server()
    names = ["check_availability", "create_reservation", "transfer_call", "end_call"]
    tools = [{"type": "function", "name": n, "parameters": {"type": "object"}} for n in names]
    try:
        async with aiohttp.ClientSession() as http:
            connector = RealtimeConnector(
                http, f"ws://127.0.0.1:{server.port}/v1/realtime", tools=tools
            )
            session = await connector.open(CallContext("harborview"))
            try:
                yield session
            finally:
                await session.close()
    finally:
        await server.close()


async def _next(session: RealtimeSession, kind: type[Any], timeout: float = 30) -> Any:
    async with asyncio.timeout(timeout):
        while not isinstance(event := await session.next_event(), kind):
            assert not isinstance(event, EngineGone), event
        return event


async def test_replayed_turns_are_history_and_the_booking_goes_on_with_their_dates() -> None:
    # A new session after a reconnect: the client replays the conversation so far. The engine
    # answers none of it, and the next answer needs the dates said only in the replayed turns.
    async with _booking_session() as session:
        session.add_history(TurnRole.AGENT, "Harborview Hotel, this is Ava. How can I help?")
        session.add_history(TurnRole.CALLER, "I would like to book a room for Friday.")
        session.add_history(TurnRole.AGENT, "And how many nights will you be staying?")
        session.add_history(TurnRole.CALLER, "Two nights.")
        session.add_history(TurnRole.AGENT, "How many adults will be staying, and any children?")
        session.user_text("We are two adults.")
        session.respond()
        call = await _next(session, FunctionCall)
        assert call.name == "check_availability", call
        arrival = dt.date.fromisoformat(call.arguments["check_in"])
        assert arrival.weekday() == 4 and call.arguments["nights"] == 2, call.arguments
        assert call.arguments["adults"] == 2
        await _next(session, ResponseDone)
        with pytest.raises(TimeoutError):  # one answer, to the new words only
            await _next(session, ResponseDone, timeout=1.0)


async def test_a_replayed_tool_result_is_history_too() -> None:
    # The quote was read out before the drop: a "yes" after it picks the quoted room.
    async with _booking_session() as session:
        session.add_history(TurnRole.CALLER, "I would like to book a room for Friday.")
        session.add_history(TurnRole.CALLER, "Two nights.")
        session.add_history(TurnRole.CALLER, "We are two adults.")
        session.add_tool_history(
            "call_before_the_drop",
            "check_availability",
            {"adults": 2},
            {
                "summary": "The Double Queen Room is 189 dollars a night.",
                "options": [
                    {"room_type": "double-queen", "name": "Double Queen Room", "bookable": True}
                ],
            },
        )
        session.add_history(TurnRole.AGENT, "Would you like me to book the Double Queen Room?")
        session.user_text("Yes, please.")
        session.respond()
        said = await _next(session, AgentTranscript)
        assert "Double Queen" in said.text and "your name" in said.text, said


class _Counting:
    """A voice that only notes what it was asked to render (fast: no synthesis)."""

    rate = 16000

    def __init__(self, said: list[tuple[str, str]], name: str) -> None:
        self._said, self._name = said, name

    def synthesize(self, text: str) -> bytes:
        self._said.append((self._name, text))
        return b"\x00\x00" * 160


async def _prerendered(prerender_all: bool) -> list[tuple[str, str]]:
    """What the engine renders at start-up, before any call."""
    said: list[tuple[str, str]] = []
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    app = create_engine_app(
        hotel, STT, lambda name: _Counting(said, name), prerender_all=prerender_all
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with asyncio.timeout(30):  # the fixed lines render in the background
            await app[RENDERED].wait()
        return list(said)
    finally:
        await server.close()


async def test_the_engine_renders_the_fixed_lines_before_the_first_call() -> None:
    # Production (prerender_all): the questions' and FAQ answers' first pieces are in the
    # phrase cache before any caller, in each language a property speaks, so their first
    # audio needs no synthesis; without it, only the greetings are.
    harborview = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("harborview")
    nights = "And how many nights will you be staying?"
    spanish_arrival = "Con mucho gusto le ayudo con la reserva."
    faq_first = sentences(harborview.faq[0].answer)[0]
    everything = await _prerendered(prerender_all=True)
    texts = {text for _, text in everything}
    assert nights in texts and faq_first in texts
    assert ("es", spanish_arrival) in everything
    assert not any("{" in text for text in texts)  # nothing with a caller's value left out
    greetings_only = {text for _, text in await _prerendered(prerender_all=False)}
    assert nights not in greetings_only and greetings_only < texts
    assert sentences(harborview.greeting_words)[-1] in greetings_only


async def test_the_fixed_lines_wait_while_a_call_is_connected() -> None:
    # The background render takes a core; a caller's speech-to-text needs it more. While a
    # call is connected nothing more is rendered; when it hangs up the render goes on.
    said: list[tuple[str, str]] = []
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")

    class Slow(_Counting):
        def synthesize(self, text: str) -> bytes:
            import time  # noqa: PLC0415

            time.sleep(0.01)  # a worker thread: as long as a short piece takes
            return super().synthesize(text)

    app = create_engine_app(hotel, STT, lambda name: Slow(said, name), prerender_all=True)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(server.make_url("/v1/realtime")) as ws:
                await asyncio.sleep(0.1)  # a piece already under way may finish
                connected = len(said)
                await asyncio.sleep(0.5)  # time for ~50 pieces, were it rendering
                assert len(said) == connected, "rendered while a call was connected"
                await ws.close()
            for _ in range(100):
                await asyncio.sleep(0.02)
                if len(said) > connected:
                    break
            assert len(said) > connected, "the render did not go on after the call"
    finally:
        await server.close()
