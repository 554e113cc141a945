"""A Realtime (GA) client on aiohttp: the one code path to OpenAI and to our offline engine.

One writer task owns the socket's sending side; one reader task validates each server event
against the SDK's models and translates it into the calls domain's engine events.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from pydantic import ValidationError

from app.aio import cancel_and_wait
from app.calls.engine_port import (
    AgentAudio,
    AgentTranscript,
    CallContext,
    CallerPartial,
    CallerTranscript,
    EngineCapabilities,
    EngineError,
    EngineEvent,
    EngineGone,
    FunctionCall,
    ResponseDone,
    SpeechStarted,
    SpeechStopped,
)
from app.calls.records import TurnRole
from app.engines.realtime_events import validate_client_event, validate_server_event
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.registry import ToolRegistry
from app.log import get_logger
from app.media import g711
from app.media.resample import Resampler

log = get_logger(__name__)

# Connecting and the engine's session.created, at most: a caller waits in silence meanwhile.
HANDSHAKE_TIMEOUT = 10.0


# Sessions being closed after a failed handshake: a task must be referenced until it ends.
_CLOSING: set[asyncio.Task[None]] = set()


class RealtimeSession:
    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        capabilities: EngineCapabilities | None = None,
    ) -> None:
        self._ws = ws
        self.capabilities = capabilities or EngineCapabilities()
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=2000)
        self._events: asyncio.Queue[EngineEvent] = asyncio.Queue(maxsize=2000)
        self._writer = asyncio.create_task(self._write(), name="engine-writer")
        self._reader = asyncio.create_task(self._read(), name="engine-reader")
        self.created = asyncio.Event()
        # What the engine says it speaks and hears (session.updated): μ-law at 8 kHz needs no
        # conversion; 24 kHz PCM16 or A-law are converted here, at the edge.
        self.input_format = "audio/pcmu"
        self.output_format = "audio/pcmu"
        self._to_engine: Resampler | None = None
        self._from_engine: Resampler | None = None

    # --- sending (one writer) -----------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        validate_client_event(event)  # a bug here is ours: fail loudly, before the wire
        try:
            self._out.put_nowait(event)
        except asyncio.QueueFull:
            log.error("engine send queue full, event dropped", event_type=event.get("type"))

    async def _write(self) -> None:
        while (event := await self._out.get()) is not None:
            await self._ws.send_str(json.dumps(event))

    def update_session(
        self,
        instructions: str,
        voice: str | None,
        tools: list[dict[str, Any]],
        language: str | None = None,
    ) -> None:
        """`language`: the caller's, when known (ISO 639-1), for the transcription."""
        audio: dict[str, Any] = {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {"type": "server_vad"},
                "transcription": {"model": "gpt-4o-mini-transcribe"},
            },
            "output": {"format": {"type": "audio/pcmu"}},
        }
        if voice:
            audio["output"]["voice"] = voice
        if language:
            audio["input"]["transcription"]["language"] = language
        self.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "instructions": instructions,
                    "audio": audio,
                    "tools": tools,
                    "output_modalities": ["audio"],
                },
            }
        )

    def append_audio(self, ulaw: bytes) -> None:
        if self.input_format == "audio/pcm" and self._to_engine is not None:
            data = self._to_engine.process(g711.ulaw_decode(ulaw))
        elif self.input_format == "audio/pcma":
            data = g711.alaw_encode(g711.ulaw_decode(ulaw))
        else:
            data = ulaw
        self.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(data).decode()})

    def _agent_ulaw(self, data: bytes) -> bytes:
        if self.output_format == "audio/pcm" and self._from_engine is not None:
            return g711.ulaw_encode(self._from_engine.process(data))
        if self.output_format == "audio/pcma":
            return g711.ulaw_encode(g711.alaw_decode(data))
        return data

    def _formats(self, session: dict[str, Any]) -> None:
        audio = session.get("audio") or {}
        for direction in ("input", "output"):
            fmt = (audio.get(direction) or {}).get("format") or {}
            kind = fmt.get("type", "audio/pcmu")
            rate = int(fmt.get("rate") or 24000)
            if direction == "input":
                self.input_format = kind
                self._to_engine = Resampler(8000, rate) if kind == "audio/pcm" else None
            else:
                self.output_format = kind
                self._from_engine = Resampler(rate, 8000) if kind == "audio/pcm" else None
        if (self.input_format, self.output_format) != ("audio/pcmu", "audio/pcmu"):
            log.warning(
                "engine audio is not μ-law: converting",
                input=self.input_format,
                output=self.output_format,
            )

    def respond(self, instructions: str | None = None) -> None:
        self.send(
            {
                "type": "response.create",
                "response": {"instructions": instructions} if instructions else {},
            }
        )

    def say(self, text: str) -> None:
        self.respond(f'Say exactly: "{text}"')

    def user_text(self, text: str) -> None:
        self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            }
        )

    def add_history(self, role: TurnRole, text: str) -> None:
        if role is TurnRole.CALLER:
            content = [{"type": "input_text", "text": text}]
            self.send(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "message", "role": "user", "content": content},
                }
            )
        elif role is TurnRole.AGENT:
            self.send(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": text}],
                    },
                }
            )

    def add_tool_history(
        self, call_id: str, name: str, arguments: dict[str, Any], output: dict[str, Any]
    ) -> None:
        self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call",
                    "call_id": call_id,
                    "name": name,
                    "arguments": json.dumps(arguments),
                },
            }
        )
        self.function_output(call_id, output)

    def cancel_response(self) -> None:
        self.send({"type": "response.cancel"})

    def truncate(self, item_id: str, audio_end_ms: int) -> None:
        self.send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    def function_output(self, call_id: str, output: dict[str, Any]) -> None:
        self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": json.dumps(output),
                },
            }
        )

    # --- receiving ----------------------------------------------------------------------------
    async def next_event(self) -> EngineEvent:
        return await self._events.get()

    def _put(self, event: EngineEvent) -> None:
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            log.error("engine event queue full, event dropped", event_type=type(event).__name__)

    async def _read(self) -> None:
        reason = "closed"
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                self._translate(message.data)
            reason = f"engine closed the connection ({self._ws.close_code})"
        except (aiohttp.ClientError, OSError) as exc:
            reason = f"engine connection lost: {exc}"
        self._put(EngineGone(reason))

    def _translate(self, text: str) -> None:
        try:
            data = json.loads(text)
            validate_server_event(data)
        except (ValueError, ValidationError) as exc:
            log.warning("unreadable engine event", error=str(exc)[:200])
            return
        kind = data["type"]
        if kind == "session.created":
            self.created.set()
        elif kind == "session.updated":
            self._formats(data.get("session") or {})
        elif kind == "input_audio_buffer.speech_started":
            self._put(SpeechStarted())
        elif kind == "input_audio_buffer.speech_stopped":
            self._put(SpeechStopped())
        elif kind == "conversation.item.input_audio_transcription.delta":
            self._put(CallerPartial(data.get("delta") or ""))
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._put(CallerTranscript(data["transcript"], data.get("language")))
        elif kind == "response.output_audio.delta":
            ulaw = self._agent_ulaw(base64.b64decode(data["delta"]))
            self._put(AgentAudio(data["response_id"], data["item_id"], ulaw))
        elif kind == "response.output_audio.done" and self._from_engine is not None:
            # The resampler holds back its filter's delay: let it out at the end of the audio.
            tail = g711.ulaw_encode(self._from_engine.flush())
            self._from_engine = Resampler(self._from_engine.in_rate, 8000)
            if tail:
                self._put(AgentAudio(data["response_id"], data["item_id"], tail))
        elif kind == "response.output_audio_transcript.done":
            self._put(AgentTranscript(data["response_id"], data["item_id"], data["transcript"]))
        elif kind == "response.function_call_arguments.done":
            try:
                arguments = json.loads(data["arguments"] or "{}")
            except ValueError:
                arguments = {}
            self._put(FunctionCall(data["response_id"], data["call_id"], data["name"], arguments))
        elif kind == "response.done":
            self._put(
                ResponseDone(data["response"]["id"], data["response"].get("status", "completed"))
            )
        elif kind == "error":
            log.warning("engine reported an error", message=data["error"].get("message"))

    async def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._out.put_nowait(None)  # let the writer finish what is queued
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
            await asyncio.wait_for(asyncio.shield(self._writer), 2)
        await cancel_and_wait(self._writer)
        await self._ws.close()
        await cancel_and_wait(self._reader)


class RealtimeConnector:
    """Opens a session on OpenAI (`wss://…/v1/realtime?model=…`, a bearer key) or on the
    offline engine (`ws://127.0.0.1:PORT/v1/realtime?property=…`)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        *,
        api_key: str | None = None,
        instructions: Callable[[CallContext], str] | None = None,
        voice: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        # one for every session, or by the call's property (the offline engine's languages)
        capabilities: EngineCapabilities | Callable[[str], EngineCapabilities] | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        self._http = http
        self._handshake_timeout = handshake_timeout
        self._capabilities = capabilities or EngineCapabilities()
        # The function tools the agent is offered (the registry's schemas); by default the
        # call-control ones, which need no database.
        self._tools = tools if tools is not None else ToolRegistry(call_tools()).schemas()
        self._url = url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._instructions = instructions  # (CallContext) -> str
        self._voice = voice

    async def open(self, context: CallContext) -> RealtimeSession:
        try:
            async with asyncio.timeout(self._handshake_timeout):
                session = await self._handshake(context)
        except TimeoutError as exc:
            raise EngineError("engine did not start a session in time", retryable=True) from exc
        instructions = self._instructions(context) if self._instructions else ""
        # "en" is the channel's default, not a choice: the caller's first words may decide.
        language = context.language if context.language != "en" else None
        session.update_session(instructions, self._voice, self._tools, language)
        return session

    async def _handshake(self, context: CallContext) -> RealtimeSession:
        separator = "&" if "?" in self._url else "?"
        url = f"{self._url}{separator}property={context.property_id}"
        try:
            ws = await self._http.ws_connect(
                url,
                headers=self._headers,
                heartbeat=20,
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise EngineError(
                f"engine refused the session: {exc.status} {exc.message}",
                retryable=exc.status >= 500 or exc.status == 429,
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"engine unreachable: {exc}", retryable=True) from exc
        capabilities = self._capabilities
        if callable(capabilities):
            capabilities = capabilities(context.property_id)
        session = RealtimeSession(ws, capabilities)
        try:
            await session.created.wait()
        except BaseException:
            # Timed out, or cancelled (the caller hung up meanwhile): the socket and the
            # session's tasks must not outlive this. Closed in a task of its own, because
            # ours is being cancelled and would stop at the close's first await.
            closing = asyncio.create_task(session.close(), name="engine-close")
            _CLOSING.add(closing)  # owned until done, even if we are cancelled again
            closing.add_done_callback(_CLOSING.discard)
            await asyncio.shield(closing)
            raise
        return session
