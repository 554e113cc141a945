"""A Realtime (GA) client on aiohttp: the one code path to OpenAI and to our offline engine.

One writer task owns the socket's sending side; one reader task reads each server event
(leniently: app/engines/realtime_events.py) and translates it into the calls domain's engine
events.

A session is usable once the engine has said session.created and confirmed our settings
(session.updated): an error or a close before either fails the opening at once, and settings
the engine refuses fail it for good (both sides must agree on the audio formats).

One response at a time, as the service requires: a response.create asked for while a response
is in progress (or while ours is on its way) waits for that response's end; asked for several
times meanwhile, one is sent. One the service refused because it had started a response of its
own (server VAD) is sent again after that one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

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
from app.engines.realtime_events import read_server_event, validate_client_event
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.registry import ToolRegistry
from app.log import get_logger
from app.media import g711
from app.media.resample import Resampler

log = get_logger(__name__)

# Connecting, session.created and session.updated, at most: a caller waits in silence meanwhile.
HANDSHAKE_TIMEOUT = 10.0
TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"
# Server VAD, set deliberately. The service detects the caller's turns and answers them
# (create_response), but never cancels the agent by itself on a speech start (its default
# interrupt_response is true): that may be the agent's own voice echoed by the line, and the
# agent's echo guard decides (app/calls/agent.py), then cancels and truncates.
TURN_DETECTION: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": False,
}
FORMATS = {"audio/pcmu", "audio/pcma", "audio/pcm"}  # what we convert to and from
REQUEST_KEY = "frontdesk_request"  # response.create's metadata: which request a response answers
# A response.create neither begun nor refused after this long is taken as lost (an engine that
# ignores one with nothing to answer), so that the agent's next ones are not held back forever.
ASK_TIMEOUT = 5.0


@dataclass(frozen=True)
class _Request:
    """A response.create the agent asked for."""

    tag: str
    instructions: str | None


def _future() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # retrieved even when nobody awaits it any more (the session failed after opening)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


def _fail(future: asyncio.Future[None], error: EngineError) -> None:
    if not future.done():
        future.set_exception(error)


def _language(data: dict[str, Any]) -> str | None:
    """The caller's language in a transcription: GA's `languages` (gpt-transcribe reports
    them), else the `language` our offline engine adds."""
    languages = data.get("languages")
    if isinstance(languages, list) and languages and isinstance(languages[0], dict):
        code = languages[0].get("code")
        if isinstance(code, str) and code:
            return code
    language = data.get("language")
    return language if isinstance(language, str) and language else None


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
        self.started = _future()  # session.created, or why not
        self.configured = _future()  # session.updated for our settings, or why not
        self._updates: set[str] = set()  # event ids of our session.update events
        self._requests = itertools.count(1)
        self._active: str | None = None  # the response in progress
        self._asked: _Request | None = None  # sent; its response.created not seen yet
        self._asked_at = 0.0
        # sent, and a response began that does not say it is ours (the service's own, or an
        # engine that does not echo metadata): ours may yet be refused, until that one ends
        self._unconfirmed: _Request | None = None
        self._waiting: list[_Request] = []
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
        transcribe_model: str = TRANSCRIBE_MODEL,
        language: str | None = None,
    ) -> None:
        """`language`: the caller's, when known (ISO 639-1), for the transcription."""
        audio: dict[str, Any] = {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": TURN_DETECTION,
                "transcription": {"model": transcribe_model},
            },
            "output": {"format": {"type": "audio/pcmu"}},
        }
        if voice:
            audio["output"]["voice"] = voice
        if language:
            audio["input"]["transcription"]["language"] = language
        event_id = f"event_frontdesk_update_{len(self._updates) + 1}"
        self._updates.add(event_id)  # an error naming it: the settings were refused
        self.send(
            {
                "type": "session.update",
                "event_id": event_id,
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
        """The audio formats the engine confirmed; one we cannot convert is an EngineError."""
        audio = session.get("audio") or {}
        formats = {}
        for direction in ("input", "output"):
            fmt = (audio.get(direction) or {}).get("format") or {}
            kind = fmt.get("type", "audio/pcmu")
            if kind not in FORMATS:
                raise EngineError(f"engine {direction} audio is {kind!r}", retryable=False)
            formats[direction] = (kind, int(fmt.get("rate") or 24000))
        (self.input_format, rate_in), (self.output_format, rate_out) = formats.values()
        self._to_engine = Resampler(8000, rate_in) if self.input_format == "audio/pcm" else None
        pcm_out = self.output_format == "audio/pcm"
        self._from_engine = Resampler(rate_out, 8000) if pcm_out else None
        if (self.input_format, self.output_format) != ("audio/pcmu", "audio/pcmu"):
            log.warning(
                "engine audio is not μ-law: converting",
                input=self.input_format,
                output=self.output_format,
            )

    # --- responses: one at a time -------------------------------------------------------------
    def respond(self, instructions: str | None = None) -> None:
        request = _Request(f"request-{next(self._requests)}", instructions)
        if self._asked is not None and time.monotonic() - self._asked_at > ASK_TIMEOUT:
            log.warning("engine never began the response asked for", request=self._asked.tag)
            self._asked = None
        if self._active is None and self._asked is None:
            self._create(request)
        elif instructions is None and any(w.instructions is None for w in self._waiting):
            pass  # one response answers everything added meanwhile
        else:
            self._waiting.append(request)

    def _create(self, request: _Request) -> None:
        self._asked, self._asked_at = request, time.monotonic()
        response: dict[str, Any] = {"metadata": {REQUEST_KEY: request.tag}}
        if request.instructions:
            response["instructions"] = request.instructions
        self.send({"type": "response.create", "response": response})

    def _response_created(self, response: dict[str, Any]) -> None:
        self._active = response["id"]
        tag = (response.get("metadata") or {}).get(REQUEST_KEY)
        if tag is not None:
            # ours (one thought refused, too: it was not)
            self._waiting = [w for w in self._waiting if w.tag != tag]
            if self._asked is not None and self._asked.tag == tag:
                self._asked = None
        elif self._asked is not None:
            self._unconfirmed, self._asked = self._asked, None

    def _response_done(self, response_id: str) -> None:
        if self._active == response_id:
            self._active = None
        self._unconfirmed = None  # not refused while that response lasted: it was answered
        if self._active is None and self._asked is None and self._waiting:
            self._create(self._waiting.pop(0))

    def _refused_for_active(self) -> None:
        """conversation_already_has_active_response: ours crossed a response the service
        began itself; it goes again when that one is done."""
        refused = self._asked or self._unconfirmed
        self._asked = self._unconfirmed = None
        if refused is not None:
            self._waiting.insert(0, refused)
            log.debug("response.create crossed the engine's own response: sent after it")

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
        if self._active is None:
            return  # it ended as the caller started speaking: nothing to cancel
        self.send({"type": "response.cancel", "response_id": self._active})

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
        for future in (self.started, self.configured):
            _fail(future, EngineError(f"{reason} before the session was ready", retryable=True))
        self._put(EngineGone(reason))

    def _unusable(self, reason: str) -> None:
        """The engine refused the session's settings: the session must not carry the call."""
        log.error("engine session unusable", reason=reason)
        if self.configured.done():
            self._put(EngineGone(reason))  # the agent reconnects, or sends the caller on
        else:
            _fail(self.configured, EngineError(reason, retryable=False))

    def _error(self, error: dict[str, Any]) -> None:
        code, message, param = error.get("code"), error.get("message"), error.get("param")
        if not self.started.done():
            retryable = error.get("type") == "server_error" or "rate_limit" in str(code)
            failure = f"engine refused the session: {message} ({code or error.get('type')})"
            _fail(self.started, EngineError(failure, retryable=retryable))
        elif error.get("event_id") in self._updates or str(param).startswith("session."):
            self._unusable(f"engine refused the session settings ({param}): {message}")
        elif code == "conversation_already_has_active_response":
            self._refused_for_active()
        elif code == "response_cancel_not_active":
            log.debug("cancelled a response that had already ended")
        else:
            log.warning("engine reported an error", code=code, message=message, param=param)

    def _translate(self, text: str) -> None:
        try:
            raw = json.loads(text)
        except ValueError:
            log.warning("unreadable engine event", text=text[:80])
            return
        data = read_server_event(raw)
        if data is None:
            return
        kind = data["type"]
        if kind == "session.created":
            if not self.started.done():
                self.started.set_result(None)
        elif kind == "session.updated":
            try:
                self._formats(data["session"])
            except EngineError as exc:
                self._unusable(str(exc))
                return
            if not self.configured.done():
                self.configured.set_result(None)
        elif kind == "input_audio_buffer.speech_started":
            self._put(SpeechStarted())
        elif kind == "input_audio_buffer.speech_stopped":
            self._put(SpeechStopped())
        elif kind == "conversation.item.input_audio_transcription.delta":
            delta = data.get("delta")
            self._put(CallerPartial(delta if isinstance(delta, str) else ""))
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._put(CallerTranscript(data["transcript"], _language(data)))
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
            if not isinstance(arguments, dict):
                arguments = {}
            self._put(FunctionCall(data["response_id"], data["call_id"], data["name"], arguments))
        elif kind == "response.created":
            self._response_created(data["response"])
        elif kind == "response.done":
            response = data["response"]
            status = response.get("status")
            self._put(
                ResponseDone(response["id"], status if isinstance(status, str) else "completed")
            )
            self._response_done(response["id"])
        elif kind == "error":
            self._error(data["error"])

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
        transcribe_model: str = TRANSCRIBE_MODEL,
    ) -> None:
        self._http = http
        self._transcribe_model = transcribe_model
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
            await session.started
            instructions = self._instructions(context) if self._instructions else ""
            # "en" is the channel's default, not a choice: the caller's first words may decide.
            language = context.language if context.language != "en" else None
            session.update_session(
                instructions, self._voice, self._tools, self._transcribe_model, language
            )
            await session.configured  # before any audio: both sides agree on its format
        except BaseException:
            # Refused, timed out, or cancelled (the caller hung up meanwhile): the socket and the
            # session's tasks must not outlive this. Closed in a task of its own, because
            # ours is being cancelled and would stop at the close's first await.
            closing = asyncio.create_task(session.close(), name="engine-close")
            _CLOSING.add(closing)  # owned until done, even if we are cancelled again
            closing.add_done_callback(_CLOSING.discard)
            await asyncio.shield(closing)
            raise
        return session
