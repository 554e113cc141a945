"""The Realtime client against a server that speaks 24 kHz PCM (as OpenAI may): it checks what
session.updated reports and converts at the edge, so the call still gets 8 kHz μ-law."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app.calls.arrival import Arrival
from app.calls.engine_port import AgentAudio, CallContext, EngineError
from app.engines.local.server import capabilities
from app.engines.realtime_client import RealtimeConnector
from app.hotel.config import load_hotel_config
from app.main import build_engine
from app.media.g711 import ULAW_DECODE
from app.settings import PROJECT_ROOT, load_settings

RATE = 24000


def _tone(hz: int, seconds: float, rate: int) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 10000).astype("<i2").tobytes()


@pytest.fixture
async def pcm_engine() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    async def realtime(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {"type": "session.created", "event_id": "e1", "session": {"type": "realtime"}}
        )
        async for message in ws:
            event = json.loads(message.data)
            received.append(event)
            if event["type"] == "session.update":
                await ws.send_json(
                    {
                        "type": "session.updated",
                        "event_id": "e2",
                        "session": {
                            "type": "realtime",
                            "audio": {
                                "input": {"format": {"type": "audio/pcm", "rate": RATE}},
                                "output": {"format": {"type": "audio/pcm", "rate": RATE}},
                            },
                        },
                    }
                )
                await ws.send_json(
                    {
                        "type": "response.output_audio.delta",
                        "event_id": "e3",
                        "response_id": "r",
                        "item_id": "i",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": base64.b64encode(_tone(1000, 0.5, RATE)).decode(),
                    }
                )
                await ws.send_json(
                    {
                        "type": "response.output_audio.done",
                        "event_id": "e4",
                        "response_id": "r",
                        "item_id": "i",
                        "output_index": 0,
                        "content_index": 0,
                    }
                )
        return ws

    app = web.Application()
    app.router.add_get("/v1/realtime", realtime)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"ws://127.0.0.1:{server.port}/v1/realtime", received
    await server.close()


async def test_pcm_engines_are_converted_to_and_from_ulaw(
    pcm_engine: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = pcm_engine
    async with aiohttp.ClientSession() as http:
        session = await RealtimeConnector(http, url).open(CallContext("harborview"))
        audio = await asyncio.wait_for(session.next_event(), 5)
        tail = await asyncio.wait_for(session.next_event(), 5)  # what the resampler held back
        assert isinstance(audio, AgentAudio) and isinstance(tail, AgentAudio)
        assert session.output_format == "audio/pcm"
        ulaw = audio.ulaw + tail.ulaw
        samples = ULAW_DECODE[np.frombuffer(ulaw, np.uint8)].astype(float)
        assert abs(len(ulaw) - 4000) < 40  # 0.5 s at 8 kHz, all of it
        peak = np.argmax(np.abs(np.fft.rfft(samples))) * 8000 / len(samples)
        assert abs(peak - 1000) < 20
        for _ in range(10):  # a second of μ-law silence, in 100 ms appends
            session.append_audio(b"\xff" * 160 * 5)
        async with asyncio.timeout(5):
            while sum(e["type"] == "input_audio_buffer.append" for e in received) < 10:
                await asyncio.sleep(0.01)
        sent = sum(
            len(base64.b64decode(str(e["audio"])))
            for e in received
            if e["type"] == "input_audio_buffer.append"
        )
        # a second of 24 kHz PCM16, less what the resampler's filter still holds (< 50 ms)
        assert 48000 - 2 * 1200 <= sent <= 48000
        await session.close()


async def test_an_engine_refusing_the_session_is_an_engine_error() -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(EngineError) as caught:
            await RealtimeConnector(http, "ws://127.0.0.1:9/v1/realtime").open(
                CallContext("harborview")
            )
        assert caught.value.retryable


async def test_the_engines_say_what_they_can_and_hear_how_the_caller_came(
    pcm_engine: tuple[str, list[dict[str, object]]],
) -> None:
    """build_engine (the composition root) over a real WebSocket: the offline engine's
    capabilities (by property) come with its sessions; both are told the language the caller
    chose (GA's transcription language); OpenAI's instructions tell how the caller came."""
    url, received = pcm_engine
    hotel = load_hotel_config(PROJECT_ROOT / "config" / "hotel.yaml")
    context = CallContext(
        "harborview", "+15551230000", Arrival.parse(["agent", "closed", "3300"]), "es"
    )

    async def transcription() -> dict[str, object]:
        async with asyncio.timeout(5):
            while not any(e["type"] == "session.update" for e in received):
                await asyncio.sleep(0.01)
        [update] = [e for e in received if e["type"] == "session.update"]
        return update["session"]["audio"]["input"]["transcription"]  # type: ignore[index,no-any-return]

    async with aiohttp.ClientSession() as http:
        offline = build_engine(load_settings(engine="local", local_engine_url=url), hotel, http)
        session = await offline.open(context)
        assert session.capabilities == capabilities(hotel.get_property("harborview"))
        assert session.capabilities.speaks("es") and not session.capabilities.free_instructions
        assert (await transcription())["language"] == "es"
        await session.close()
        received.clear()
        session = await offline.open(CallContext("pinecrest"))  # English only; no choice
        assert not session.capabilities.speaks("es")
        assert "language" not in await transcription()  # the first words will decide
        await session.close()

        received.clear()
        settings = load_settings(
            engine="openai",
            openai_api_key="sk-test",
            openai_realtime_url=url,
            openai_transcribe_model="gpt-transcribe",
        )
        session = await build_engine(settings, hotel, http).open(context)
        assert session.capabilities.speaks("es") and session.capabilities.free_instructions
        assert (await transcription())["language"] == "es"
        async with asyncio.timeout(5):
            while not any(e["type"] == "session.update" for e in received):
                await asyncio.sleep(0.01)
        [update] = [e for e in received if e["type"] == "session.update"]
        instructions = str(update["session"]["instructions"])  # type: ignore[index]
        assert "chose housekeeping in the phone menu, which is closed" in instructions
        assert "Speak Spanish with this caller" in instructions
        transcription = update["session"]["audio"]["input"]["transcription"]  # type: ignore[index]
        # OPENAI_TRANSCRIBE_MODEL, in the language the caller chose in the menu
        assert transcription == {"model": "gpt-transcribe", "language": "es"}
        await session.close()


@pytest.fixture
async def silent_engine() -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Event]]:
    """Accepts the WebSocket and never says session.created; tells when a client connected
    and when that client's socket closed."""
    opened, closed = asyncio.Event(), asyncio.Event()

    async def realtime(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        opened.set()
        async for _ in ws:
            pass
        closed.set()
        return ws

    app = web.Application()
    app.router.add_get("/v1/realtime", realtime)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"ws://127.0.0.1:{server.port}/v1/realtime", opened, closed
    await server.close()


def _engine_tasks() -> list[asyncio.Task[object]]:
    names = ("engine-reader", "engine-writer")
    return [t for t in asyncio.all_tasks() if t.get_name() in names and not t.done()]


async def test_a_call_cancelled_during_the_handshake_leaves_no_session_behind(
    silent_engine: tuple[str, asyncio.Event, asyncio.Event],
) -> None:
    url, opened, closed = silent_engine
    async with aiohttp.ClientSession() as http:
        connector = RealtimeConnector(http, url)
        opening = asyncio.create_task(connector.open(CallContext("harborview")))
        await asyncio.wait_for(opened.wait(), 5)
        opening.cancel()  # the caller hung up while the engine was still starting
        with pytest.raises(asyncio.CancelledError):
            await opening
        await asyncio.wait_for(closed.wait(), 5)  # the engine saw our socket close
        assert not _engine_tasks()


async def test_an_engine_that_never_starts_the_session_times_out_and_is_closed(
    silent_engine: tuple[str, asyncio.Event, asyncio.Event],
) -> None:
    url, _, closed = silent_engine
    async with aiohttp.ClientSession() as http:
        connector = RealtimeConnector(http, url, handshake_timeout=0.3)
        with pytest.raises(EngineError) as caught:
            await connector.open(CallContext("harborview"))
        assert caught.value.retryable and "did not start a session" in str(caught.value)
        await asyncio.wait_for(closed.wait(), 5)
        assert not _engine_tasks()
