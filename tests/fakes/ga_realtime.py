"""A strict double of OpenAI Realtime (GA) for tests, over a real WebSocket (aiohttp).

It does what the GA documentation (and the pinned `openai` SDK's models) say the service does,
where our offline engine (app/engines/local/server.py) is lenient, so that tests against it
alone cannot see our client's mistakes:
- `session.created` is the first event; or, when a test asks, an `error` or a close before it;
- every client event is checked against the SDK's models; an invalid one gets an `error` that
  names it (`error.event_id`); `session.update` is answered with `session.updated` (the whole
  effective session) or with an `error` naming the bad `param`;
- server VAD on the appended audio, done simply (an energy threshold on each 20 ms frame, so
  deterministic): speech_started / speech_stopped, the committed user item, its transcription
  when the session asks for one, and a response when `turn_detection.create_response` is true
  (the default); a speech start cancels the response in progress only when
  `turn_detection.interrupt_response` is true (the GA default) — never otherwise;
- one response at a time: `response.create` while one is active is an `error`
  (`conversation_already_has_active_response`, with no event_id, as OpenAI sends it);
  `response.cancel` with none active is `response_cancel_not_active`;
- a `function_call_output` must answer a function call in the conversation; a truncation must
  fall inside the item's audio.

Every event it sends is validated against the SDK's server event models first (a mistake here
fails loudly). What its "model" says is up to a Brain: ScriptedBrain (tests program the
transcripts and the replies: words, spoken as a tone as long as they would take, and function
calls) or DialogBrain (the offline engine's rule-based dialog and a speech-to-text, so that the
whole-call tests can book a room through this double as well).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestServer
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import TypeAdapter, ValidationError

from app.engines.local.dialog import DialogManager
from app.engines.local.dialog import Reply as DialogReply
from app.engines.speech import SpeechToText
from app.engines.ssml import plain
from app.hotel.config import PropertyConfig
from app.media import g711

_SERVER: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)
_CLIENT: TypeAdapter[Any] = TypeAdapter(RealtimeClientEvent)

FRAME_MS = 20
CHUNK_MS = 100  # agent audio per delta
MS_PER_CHARACTER = 60  # how long words take to say, roughly (the tone lasts as long)
FORMATS = {"audio/pcmu", "audio/pcma", "audio/pcm"}


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# --- what the model says --------------------------------------------------------------------
@dataclass
class Reply:
    """One response: words (spoken as a tone) and function calls, in that order."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    audio_ms: int | None = None  # how long the words sound; None: from their length
    until: asyncio.Event | None = None  # the response stays in progress until this is set


@dataclass
class Turn:
    """What a response is asked to answer."""

    new: list[dict[str, Any]]  # the conversation's items no response has seen yet
    conversation: list[dict[str, Any]]
    instructions: str | None
    tools: set[str]


class Brain(Protocol):
    async def transcribe(self, pcm16: bytes) -> tuple[str, str | None]:
        """What the caller said (8 kHz PCM16) and in which language, if known."""
        ...

    async def reply(self, turn: Turn) -> Reply: ...


class ScriptedBrain:
    """Transcripts and replies a test programs, in order; what each response was asked."""

    def __init__(self) -> None:
        self.transcripts: collections.deque[tuple[str, str | None]] = collections.deque()
        self.replies: collections.deque[Reply] = collections.deque()
        self.turns: list[Turn] = []

    async def transcribe(self, pcm16: bytes) -> tuple[str, str | None]:
        return self.transcripts.popleft() if self.transcripts else ("", None)

    async def reply(self, turn: Turn) -> Reply:
        self.turns.append(turn)
        return self.replies.popleft() if self.replies else Reply("Okay.")


def _say_exactly(instructions: str | None) -> str | None:
    prefix = "say exactly:"
    if instructions and instructions.lower().startswith(prefix):
        return instructions[len(prefix) :].strip().strip('"').strip()
    return None


def _text_of(item: dict[str, Any]) -> str:
    return " ".join(
        str(part.get("text") or part.get("transcript") or "") for part in item.get("content") or []
    ).strip()


class DialogBrain:
    """The offline engine's dialog manager as the double's model: every item a response has
    not seen is heard in order (the conversation so far, after a reconnect, included), and the
    answer is the dialog's reply to the last of them."""

    def __init__(self, prop: PropertyConfig, stt: SpeechToText) -> None:
        self.dialog = DialogManager(prop)
        self._stt = stt
        self._language: str | None = None
        self._greeted = False

    async def transcribe(self, pcm16: bytes) -> tuple[str, str | None]:
        heard = await asyncio.to_thread(
            self._stt.transcribe, pcm16, 8000, self._language, self.dialog.expecting()
        )
        self._language = heard.language or "en"
        return heard.text, heard.language

    async def reply(self, turn: Turn) -> Reply:
        self.dialog.tools = turn.tools
        names = {
            str(i.get("call_id")): str(i.get("name"))
            for i in turn.conversation
            if i.get("type") == "function_call"
        }
        answer: DialogReply | None = None
        for item in turn.new:
            if item.get("type") == "message" and item.get("role") == "user":
                if text := _text_of(item):
                    answer = self.dialog.reply(text)
            elif item.get("type") == "function_call_output":
                try:
                    output = json.loads(str(item.get("output") or "{}"))
                except ValueError:
                    output = {"error": "unreadable tool output"}
                name = names.get(str(item.get("call_id")), "")
                answer = self.dialog.tool_result(name, output if isinstance(output, dict) else {})
        scripted = _say_exactly(turn.instructions)
        if scripted is not None:
            self._greeted = True
            return Reply(plain(scripted))
        if answer is None:
            if self._greeted:
                return Reply()  # nothing new to answer
            answer = DialogReply(self.dialog.greeting())
        self._greeted = True
        if answer.call is not None and answer.call.name not in turn.tools:
            answer = self.dialog.tool_unavailable(answer.call.name)
        calls: list[tuple[str, dict[str, Any]]] = []
        if answer.call is not None:
            calls.append((answer.call.name, answer.call.arguments))
        if answer.transfer_to and "transfer_call" in turn.tools:
            arguments: dict[str, Any] = {"department": answer.transfer_to, "mode": "blind"}
            if answer.transfer_summary:
                arguments.update(mode="warm", summary=answer.transfer_summary[:500])
            calls.append(("transfer_call", arguments))
        if answer.end_call and "end_call" in turn.tools:
            calls.append(("end_call", {}))
        return Reply(plain(answer.text), calls)


# --- one connection ---------------------------------------------------------------------------
def _default_session() -> dict[str, Any]:
    """What session.created carries: the GA defaults (PCM at 24 kHz, server VAD that creates
    responses and interrupts them)."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": _id("sess"),
        "model": "gpt-realtime",
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"},
        },
    }


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    """session.update changes only the fields it names (nested objects field by field; a
    turn_detection or format given is taken whole)."""
    for key, value in update.items():
        whole = key in {"turn_detection", "format", "transcription", "noise_reduction"}
        if isinstance(value, dict) and isinstance(into.get(key), dict) and not whole:
            _merge(into[key], value)
        else:
            into[key] = value


class _Rejected(Exception):
    def __init__(self, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.param = code, param


class GaSession:
    def __init__(self, server: GaRealtime, ws: web.WebSocketResponse, brain: Brain) -> None:
        self._server = server
        self._ws = ws
        self.brain = brain
        self.session = _default_session()
        self.received: list[dict[str, Any]] = []  # every client event, as sent
        self.sent: list[dict[str, Any]] = []  # every server event
        self.items: list[dict[str, Any]] = []  # the conversation
        self._seen: set[str] = set()  # items some response has answered (or produced)
        self._audio_ms_of: dict[str, int] = {}  # assistant item -> its audio so far
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._response: asyncio.Task[None] | None = None
        self._active_id: str | None = None
        self._cancel_reason = "client_cancelled"
        self._transcribing: dict[str, asyncio.Task[None]] = {}
        # server VAD
        self._pending = bytearray()
        self._audio_ms = 0
        self._speaking = False
        self._loud_run = 0
        self._quiet_ms = 0
        self._lead: collections.deque[bytes] = collections.deque(maxlen=15)
        self._utterance = bytearray()
        self._speech_item: str | None = None

    # --- what tests look at -------------------------------------------------------------------
    def errors(self) -> list[dict[str, Any]]:
        """The `error` objects of the error events sent."""
        return [e["error"] for e in self.sent if e["type"] == "error"]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.sent if e["type"] == kind]

    def responses(self) -> list[dict[str, Any]]:
        """The finished responses (response.done's `response`), in order."""
        return [e["response"] for e in self.of_type("response.done")]

    @property
    def responding(self) -> bool:
        return self._response is not None and not self._response.done()

    # --- sending ----------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        event = {"event_id": _id("event"), **event}
        _SERVER.validate_python(event)  # the double must say only what the service may say
        if self._server.alter is not None:
            event = self._server.alter(json.loads(json.dumps(event)))
        self.sent.append(event)
        self._out.put_nowait(event)

    def _error(
        self,
        message: str,
        code: str | None,
        *,
        kind: str = "invalid_request_error",
        event_id: str | None = None,
        param: str | None = None,
    ) -> None:
        error = {"type": kind, "code": code, "message": message, "param": param}
        self.emit({"type": "error", "error": {**error, "event_id": event_id}})

    async def _writer(self) -> None:
        while (event := await self._out.get()) is not None:
            await self._ws.send_str(json.dumps(event))

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- the connection -----------------------------------------------------------------------
    async def run(self) -> None:
        writer = asyncio.create_task(self._writer(), name="ga-double-writer")
        try:
            before = self._server.before_created
            if before == "close":
                await self._ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"upstream failed")
                return
            if before is not None:  # "invalid_request_error" or "server_error"
                self._error(f"the session could not start ({before})", None, kind=before)
                self._out.put_nowait(None)
                await writer
                await self._ws.close()
                return
            self.emit({"type": "session.created", "session": self.session})
            async for message in self._ws:
                if message.type == WSMsgType.TEXT:
                    self._handle(message.data)
        finally:
            for task in [*self._tasks]:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._out.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            self._error("We could not parse the JSON body of your request.", "invalid_json")
            return
        self.received.append(data)
        event_id = data.get("event_id") if isinstance(data, dict) else None
        try:
            _CLIENT.validate_python(data)
        except ValidationError as exc:
            self._error(
                f"Invalid client event: {str(exc)[:300]}", "invalid_value", event_id=event_id
            )
            return
        if data["type"] in self._server.ignore:
            return
        handler = {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._append,
            "input_audio_buffer.clear": self._clear,
            "conversation.item.create": self._item_create,
            "conversation.item.truncate": self._truncate,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
        }.get(data["type"])
        if handler is None:
            self._error(f"{data['type']} is not supported by this double", "unsupported")
            return
        try:
            handler(data)
        except _Rejected as exc:
            self._error(str(exc), exc.code, event_id=event_id, param=exc.param)

    # --- session --------------------------------------------------------------------------------
    def _session_update(self, data: dict[str, Any]) -> None:
        update = data["session"]
        if update.get("type") != "realtime":
            raise _Rejected("session.type must be realtime", "invalid_value", "session.type")
        if (param := self._server.reject_update) is not None:
            raise _Rejected(f"Invalid value for '{param}'.", "invalid_value", param)
        for direction in ("input", "output"):
            fmt = ((update.get("audio") or {}).get(direction) or {}).get("format")
            if fmt is None:
                continue
            where = f"session.audio.{direction}.format"
            if fmt.get("type") not in FORMATS:
                raise _Rejected(f"Invalid value: '{fmt.get('type')}'.", "invalid_value", where)
            if fmt["type"] == "audio/pcm" and fmt.get("rate", 24000) != 24000:
                raise _Rejected("Only a 24kHz sample rate is supported.", "invalid_value", where)
        _merge(self.session, update)
        if not self._server.confirm_updates:
            return
        self.emit({"type": "session.updated", "session": self.session})

    def _input(self) -> dict[str, Any]:
        return dict(self.session["audio"]["input"])

    def _turn_detection(self) -> dict[str, Any] | None:
        detection = self._input().get("turn_detection")
        return dict(detection) if detection else None

    # --- conversation items -----------------------------------------------------------------------
    def _add(self, item: dict[str, Any], *, seen: bool = False) -> None:
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        if seen:
            self._seen.add(item["id"])
        self.emit({"type": "conversation.item.added", "item": item, "previous_item_id": previous})

    def _item_create(self, data: dict[str, Any]) -> None:
        item = {"object": "realtime.item", "status": "completed", **data["item"]}
        item.setdefault("id", _id("item"))
        if item["type"] == "function_call_output":
            calls = {i.get("call_id") for i in self.items if i["type"] == "function_call"}
            if item.get("call_id") not in calls:
                raise _Rejected(
                    f"Tool call ID '{item.get('call_id')}' not found in conversation.",
                    "invalid_tool_call_id",
                    "item.call_id",
                )
        self._add(item)
        self.emit({"type": "conversation.item.done", "item": item})

    def _truncate(self, data: dict[str, Any]) -> None:
        item_id = data["item_id"]
        if item_id not in self._audio_ms_of:
            raise _Rejected(f"Item '{item_id}' has no audio to truncate.", "invalid_value")
        if data["audio_end_ms"] > self._audio_ms_of[item_id]:
            raise _Rejected(
                f"audio_end_ms {data['audio_end_ms']} is past the item's audio "
                f"({self._audio_ms_of[item_id]} ms).",
                "invalid_value",
                "audio_end_ms",
            )
        self._audio_ms_of[item_id] = data["audio_end_ms"]
        self.emit(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": data["content_index"],
                "audio_end_ms": data["audio_end_ms"],
            }
        )

    # --- the caller's audio: server VAD -------------------------------------------------------------
    def _clear(self, data: dict[str, Any]) -> None:
        self._pending.clear()
        self._utterance.clear()
        self.emit({"type": "input_audio_buffer.cleared"})

    def _pcm(self, audio: bytes) -> tuple[bytes, int]:
        """The appended audio as PCM16 and its rate, by the session's input format."""
        kind = self._input()["format"]["type"]
        if kind == "audio/pcmu":
            return g711.ulaw_decode(audio), 8000
        if kind == "audio/pcma":
            return g711.alaw_decode(audio), 8000
        return audio, 24000

    def _append(self, data: dict[str, Any]) -> None:
        pcm, rate = self._pcm(base64.b64decode(data["audio"]))
        self._pending.extend(pcm)
        frame_bytes = rate * FRAME_MS // 1000 * 2
        while len(self._pending) >= frame_bytes:
            frame = bytes(self._pending[:frame_bytes])
            del self._pending[:frame_bytes]
            if rate != 8000:  # the VAD and the brain hear 8 kHz, as a phone line carries
                frame = np.frombuffer(frame, "<i2")[::3].tobytes()
            self._audio_ms += FRAME_MS
            self._vad(frame)

    def _vad(self, frame: bytes) -> None:
        detection = self._turn_detection()
        if detection is None or detection["type"] != "server_vad":
            return  # no turn detection: the client commits (not needed by our client)
        samples = np.frombuffer(frame, "<i2").astype(np.float64)
        loud = float(np.sqrt(np.mean(samples**2))) > 1200 * float(detection.get("threshold", 0.5))
        if not self._speaking:
            self._lead.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run >= 2:
                self._speech_started(detection)
            return
        self._utterance.extend(frame)
        self._quiet_ms = 0 if loud else self._quiet_ms + FRAME_MS
        if self._quiet_ms >= int(detection.get("silence_duration_ms", 500)):
            self._speech_stopped(detection)

    def _speech_started(self, detection: dict[str, Any]) -> None:
        self._speaking, self._quiet_ms = True, 0
        padding = int(detection.get("prefix_padding_ms", 300)) // FRAME_MS
        lead = list(self._lead)[-max(padding, 2) :]
        self._utterance = bytearray(b"".join(lead))
        self._lead.clear()
        self._speech_item = _id("item")
        self.emit(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": self._audio_ms - len(lead) * FRAME_MS,
                "item_id": self._speech_item,
            }
        )
        if detection.get("interrupt_response", True) and self.responding:
            self._cancel("turn_detected")

    def _speech_stopped(self, detection: dict[str, Any]) -> None:
        self._speaking, self._loud_run = False, 0
        item_id = self._speech_item or _id("item")
        self.emit(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": self._audio_ms,
                "item_id": item_id,
            }
        )
        previous = self.items[-1]["id"] if self.items else None
        self.emit(
            {
                "type": "input_audio_buffer.committed",
                "item_id": item_id,
                "previous_item_id": previous,
            }
        )
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self._add(item)
        utterance, self._utterance = bytes(self._utterance), bytearray()
        self._transcribing[item_id] = self._spawn(
            self._transcribe(item, utterance), "ga-double-transcription"
        )
        if detection.get("create_response", True) and not self.responding:
            self._start_response({})
        # else: with interrupt_response false a response in progress keeps the floor

    async def _transcribe(self, item: dict[str, Any], pcm: bytes) -> None:
        text, language = await self.brain.transcribe(pcm)
        item["content"][0]["transcript"] = text
        transcription = self._input().get("transcription")
        if not transcription:
            return  # the model heard it; nobody asked for a transcript
        event: dict[str, Any] = {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item["id"],
            "content_index": 0,
            "transcript": text,
            "usage": {"type": "duration", "seconds": len(pcm) / 16000},
        }
        if transcription.get("model") == "gpt-transcribe":  # the only one that says (GA)
            event["languages"] = [{"code": language}] if language else []
        self.emit(event)

    # --- responses ------------------------------------------------------------------------------
    def _response_create(self, data: dict[str, Any]) -> None:
        if self.responding:
            self._error(
                f"Conversation already has an active response in progress: {self._active_id}. Wait "
                "until the response is finished before creating a new one.",
                "conversation_already_has_active_response",
            )
            return
        self._start_response(data.get("response") or {})

    def _response_cancel(self, data: dict[str, Any]) -> None:
        if not self.responding:
            raise _Rejected(
                "Cancellation failed: no active response found", "response_cancel_not_active"
            )
        self._cancel("client_cancelled")

    def _cancel(self, reason: str) -> None:
        assert self._response is not None
        self._cancel_reason = reason
        self._response.cancel()

    def _start_response(self, params: dict[str, Any]) -> None:
        response_id = self._active_id = _id("resp")
        self._response = self._spawn(self._respond(response_id, params), "ga-double-response")

    async def _respond(self, response_id: str, params: dict[str, Any]) -> None:
        base: dict[str, Any] = {
            "id": response_id,
            "object": "realtime.response",
            "conversation_id": "conv_double",
            "output_modalities": ["audio"],
            "metadata": params.get("metadata"),
        }
        self.emit(
            {
                "type": "response.created",
                "response": {**base, "status": "in_progress", "output": []},
            }
        )
        output: list[dict[str, Any]] = []
        status, details = "completed", None
        try:
            new = [i for i in self.items if i["id"] not in self._seen]
            for item in new:  # the model hears the caller's audio itself
                if (task := self._transcribing.get(item["id"])) is not None:
                    await asyncio.shield(task)
            self._seen.update(i["id"] for i in new)
            tools = {str(t.get("name")) for t in self.session.get("tools") or []}
            reply = await self.brain.reply(
                Turn(new, list(self.items), params.get("instructions"), tools)
            )
            if reply.text:
                await self._speak(response_id, reply, output)
            for name, arguments in reply.calls:
                self._function_call(response_id, name, arguments, output)
            if reply.until is not None:
                await reply.until.wait()
        except asyncio.CancelledError:
            status = "cancelled"
            details = {"type": "cancelled", "reason": self._cancel_reason}
            raise
        finally:
            if self._response is asyncio.current_task():
                self._response = None  # before response.done: a response.create may follow it
            done = {**base, "status": status, "status_details": details, "output": output}
            self.emit({"type": "response.done", "response": done})

    async def _speak(self, response_id: str, reply: Reply, output: list[dict[str, Any]]) -> None:
        item_id = _id("item")
        index = len(output)
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        output.append(item)
        where = {"response_id": response_id, "item_id": item_id, "output_index": index}
        self.emit(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": index,
                "item": item,
            }
        )
        self._add(item, seen=True)
        self.emit(
            {
                "type": "response.content_part.added",
                **where,
                "content_index": 0,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        total_ms = reply.audio_ms or max(300, MS_PER_CHARACTER * len(reply.text))
        words = reply.text.split(" ")
        chunks = max(1, -(-total_ms // CHUNK_MS))
        self._audio_ms_of[item_id] = 0
        said: list[str] = []
        try:
            for n in range(chunks):
                ms = min(CHUNK_MS, total_ms - n * CHUNK_MS)
                audio = self._tone(ms)
                self.emit(
                    {
                        "type": "response.output_audio.delta",
                        **where,
                        "content_index": 0,
                        "delta": base64.b64encode(audio).decode(),
                    }
                )
                self._audio_ms_of[item_id] += ms
                piece = words[n * len(words) // chunks : (n + 1) * len(words) // chunks]
                if piece:
                    said.extend(piece)
                    self.emit(
                        {
                            "type": "response.output_audio_transcript.delta",
                            **where,
                            "content_index": 0,
                            "delta": " ".join(piece) + " ",
                        }
                    )
                pace = self._server.pace
                await asyncio.sleep(ms / 1000 / pace if pace > 0 else 0)
        finally:
            # what was generated stays in the conversation, cut short or not
            item["content"] = [{"type": "output_audio", "transcript": " ".join(said)}]
            item["status"] = "completed" if len(said) == len(words) else "incomplete"
        self.emit({"type": "response.output_audio.done", **where, "content_index": 0})
        self.emit(
            {
                "type": "response.output_audio_transcript.done",
                **where,
                "content_index": 0,
                "transcript": reply.text,
            }
        )
        self.emit(
            {
                "type": "response.content_part.done",
                **where,
                "content_index": 0,
                "part": {"type": "audio", "transcript": reply.text},
            }
        )
        self.emit(
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": index,
                "item": item,
            }
        )
        self.emit({"type": "conversation.item.done", "item": item})

    def _tone(self, ms: int) -> bytes:
        """A 440 Hz tone in the session's output format."""
        fmt = self.session["audio"]["output"]["format"]
        rate = 24000 if fmt["type"] == "audio/pcm" else 8000
        t = np.arange(rate * ms // 1000) / rate
        pcm = (np.sin(2 * np.pi * 440 * t) * 6000).astype("<i2").tobytes()
        if fmt["type"] == "audio/pcmu":
            return g711.ulaw_encode(pcm)
        if fmt["type"] == "audio/pcma":
            return g711.alaw_encode(pcm)
        return pcm

    def _function_call(
        self, response_id: str, name: str, arguments: dict[str, Any], output: list[dict[str, Any]]
    ) -> None:
        index = len(output)
        item: dict[str, Any] = {
            "id": _id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": _id("call"),
            "name": name,
            "arguments": "",
        }
        self.emit(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": index,
                "item": item,
            }
        )
        self._add(item, seen=True)
        text = json.dumps(arguments)
        where = {
            "response_id": response_id,
            "item_id": item["id"],
            "output_index": index,
            "call_id": item["call_id"],
        }
        self.emit({"type": "response.function_call_arguments.delta", **where, "delta": text})
        self.emit(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "name": name,
                "arguments": text,
            }
        )
        item.update(status="completed", arguments=text)
        output.append(item)
        self.emit(
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": index,
                "item": item,
            }
        )
        self.emit({"type": "conversation.item.done", "item": item})


# --- the server -------------------------------------------------------------------------------
class GaRealtime:
    """The double's server: `await start()` gives its ws:// URL. Tests set `before_created`
    ("close", "invalid_request_error" or "server_error": what new sessions get instead of
    session.created), `reject_update` (the param every session.update is refused for),
    `confirm_updates`, `alter` and `pace`."""

    def __init__(
        self, brain_for: Callable[[str], Brain] | None = None, *, pace: float = 4.0
    ) -> None:
        self.brain = ScriptedBrain()
        # each connection's model, by the property it is for (?property=)
        self.brain_for = brain_for or (lambda _property: self.brain)
        self.pace = pace  # how much faster than real time responses are generated; 0: at once
        self.before_created: str | None = None
        self.reject_update: str | None = None
        self.confirm_updates = True  # False: session.update is never answered
        self.ignore: set[str] = set()  # client event types read and then ignored (not GA!)
        # What a service newer than the pinned SDK may send: applied to each event after it
        # was checked against the SDK's models.
        self.alter: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.sessions: list[GaSession] = []
        self._sockets: set[web.WebSocketResponse] = set()
        app = web.Application()
        app.router.add_get("/v1/realtime", self._realtime)
        app.on_shutdown.append(self._going_away)
        self.server = TestServer(app, host="127.0.0.1")

    async def start(self) -> str:
        await self.server.start_server()
        return f"ws://127.0.0.1:{self.server.port}/v1/realtime"

    async def close(self) -> None:
        await self.server.close()

    async def _going_away(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"going away")

    def sockets(self) -> list[web.WebSocketResponse]:
        return list(self._sockets)

    async def session(self, n: int = 0, timeout: float = 5.0) -> GaSession:
        """The nth connection's session, once it is there."""
        async with asyncio.timeout(timeout):
            while len(self.sessions) <= n:
                await asyncio.sleep(0.01)
        return self.sessions[n]

    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self._sockets.add(ws)
        session = GaSession(self, ws, self.brain_for(request.query.get("property", "")))
        self.sessions.append(session)
        try:
            await session.run()
        finally:
            self._sockets.discard(ws)
        return ws
