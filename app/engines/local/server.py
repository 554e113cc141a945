"""The offline engine as a Realtime (GA) WebSocket server: the same protocol as OpenAI's.

Per connection: server VAD on the caller's audio (input_audio_buffer.speech_started/stopped),
the utterance transcribed in a worker thread, the dialog manager's reply spoken by the
text-to-speech in chunks (response.output_audio.delta), function calls for transfer and
end_call when the client registered those tools, response.cancel and conversation.item.truncate.
Every event sent is built from the official SDK's models, so it is valid by construction.

Languages: a session.update naming the transcription language (audio.input.transcription
.language: the caller chose it in the phone menu) fixes the call's language; otherwise the
dialog greets in the engine's default language and the caller's first words decide. The
dialog, the speech-to-text and the voice follow the call's language.

Serve it: `frontdesk run` starts it in-process, or run it on its own (`frontdesk engine serve`).
Connect: ws://HOST:PORT/v1/realtime?property=<id>.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from openai.types.realtime import (
    ConversationItemAdded,
    ConversationItemInputAudioTranscriptionCompletedEvent,
    ConversationItemInputAudioTranscriptionDeltaEvent,
    ConversationItemTruncatedEvent,
    InputAudioBufferCommittedEvent,
    InputAudioBufferSpeechStartedEvent,
    InputAudioBufferSpeechStoppedEvent,
    RealtimeErrorEvent,
    ResponseAudioDeltaEvent,
    ResponseAudioDoneEvent,
    ResponseAudioTranscriptDeltaEvent,
    ResponseAudioTranscriptDoneEvent,
    ResponseCreatedEvent,
    ResponseDoneEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    SessionCreatedEvent,
    SessionUpdatedEvent,
)
from pydantic import BaseModel, ValidationError

from app.aio import cancel_and_wait
from app.calls.engine_port import EngineCapabilities
from app.calls.languages import base_language
from app.engines.local.dialog import DialogManager, Reply
from app.engines.local.early import EarlyHearing
from app.engines.local.language import LANGUAGES as DIALOG_LANGUAGES  # what it words replies in
from app.engines.local.voice import PhraseCache, Voice, prerender_texts, sentences
from app.engines.realtime_events import validate_client_event
from app.engines.speech import SpeechToText, TextToSpeech
from app.engines.ssml import plain
from app.hotel.config import HotelConfig, PropertyConfig
from app.log import get_logger
from app.media import g711
from app.media.levels import lead_trimmed
from app.media.resample import resample
from app.media.vad import SpeechDetector

log = get_logger(__name__)

FRAME = 160  # 20 ms of μ-law at 8 kHz
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets", weakref.WeakSet)
PHRASES: web.AppKey[PhraseCache] = web.AppKey("phrases", PhraseCache)
IDLE: web.AppKey[asyncio.Event] = web.AppKey("idle", asyncio.Event)
RENDERED: web.AppKey[asyncio.Event] = web.AppKey("rendered", asyncio.Event)  # the start-up render
AUDIO_CHUNK_MS = 200  # how much agent audio one delta carries
VAD_END_MS = 400  # silence that ends the caller's turn
NOISE_MS = 600  # a turn with no words, shorter than this, is not answered
VAD_QUIET_BELOW: float | None = 0.02  # the voice is quiet 34 dB under the turn's loudest (vad.py)
LEAD_IN_KEPT_MS: int | None = 20  # of the voice's silence before a reply's first word
# Utterances longer than this get partial transcripts (only shown, never answered)… A partial
# under way when the caller pauses holds back the turn's early transcript (one speech-to-text
# job at a time): at 2 s, a booking's 2-3 s answers ("I will take the double queen") lost most
# of the pause's head start (bench/phone_latency, bench/README.md).
FIRST_PARTIAL_MS = 4000
PARTIAL_EVERY_MS = 1500  # …this often
# What a client of this engine may rely on: the dialog is English (and Spanish for a property
# that lists it: capabilities()), and response.create's instructions are followed only as
# 'Say exactly: "…"'; a response.create without them is answered in the call's language.
CAPABILITIES = EngineCapabilities(languages=frozenset({"en"}), free_instructions=False)


def languages_of(prop: PropertyConfig) -> frozenset[str]:
    """The languages the engine converses in for this property: English, and those of its
    hotel.yaml `languages` the dialog speaks."""
    spoken = {base_language(code) for code in prop.languages}
    return frozenset({"en"} | spoken.intersection(DIALOG_LANGUAGES))


def capabilities(prop: PropertyConfig) -> EngineCapabilities:
    return EngineCapabilities(languages=languages_of(prop), free_instructions=False)


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class LocalRealtimeSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        dialog: DialogManager,
        stt: SpeechToText,
        voices: Callable[[str], Voice],
        languages: frozenset[str] = frozenset({"en"}),
    ) -> None:
        self._ws = ws
        self._dialog = dialog
        self._stt = stt
        self._voices = voices  # the voice for a language (the dialog's, reply by reply)
        self._speaks = languages  # what the dialog may switch to for this property
        self._out: asyncio.Queue[BaseModel | None] = asyncio.Queue(maxsize=1000)
        self._session: dict[str, Any] = {
            "type": "realtime",
            "model": "frontdesk-local",
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": {"type": "audio/pcmu"}},
                "output": {"format": {"type": "audio/pcmu"}},
            },
        }
        self._tools: set[str] = set()
        self._vad = SpeechDetector(
            sample_rate=8000, frame_ms=20, end_ms=VAD_END_MS, quiet_below=VAD_QUIET_BELOW
        )
        self._pending = bytearray()  # μ-law not yet a whole frame
        self._speech = bytearray()  # the current utterance, PCM16
        self._lead_in: list[bytes] = []  # a little audio from before speech was detected
        self._audio_ms = 0
        self._speech_item: str | None = None
        self._response: asyncio.Task[None] | None = None
        self._turn: asyncio.Task[None] | None = None
        # Items the client added that no response has answered yet, in order: ("user", text)
        # or ("tool", call_id, output json) of a replayed call. The latest user text may be
        # new input (keys typed, then response.create); everything before it is history.
        self._items: list[tuple[str, str, str]] = []
        self._call_names: dict[str, str] = {}  # call_id -> tool name, for the result's turn
        self._replayed: set[str] = set()  # call_ids of function calls the client replayed
        self._outputs: list[tuple[str, str]] = []  # function_call_output items: (call_id, json)
        # The language the caller is heard in: None until their first words decide it (or a
        # session.update names it); then every turn is transcribed in it.
        self._language: str | None = None
        self._hearing = EarlyHearing(stt)  # every speech-to-text job of the call goes through it
        self._partial: asyncio.Task[None] | None = None
        self._partial_text = ""
        self._next_partial_ms = FIRST_PARTIAL_MS
        self._cut_off = False  # this turn's speech stopped a reply under way
        self._greeted = False
        # When the caller's last turn ended, and what its reply cost so far (the reply's
        # first audio logs them: "reply timing", bench/phone_latency.py reads it).
        self._stopped_at: float | None = None
        self._timing: dict[str, int] = {}

    # --- one writer ---------------------------------------------------------------------------
    def _emit(self, event: BaseModel) -> None:
        self._out.put_nowait(event)

    async def _writer(self) -> None:
        while (event := await self._out.get()) is not None:
            await self._ws.send_str(event.model_dump_json(exclude_none=True))

    # --- the connection --------------------------------------------------------------------------
    async def run(self) -> None:
        writer = asyncio.create_task(self._writer(), name="local-engine-writer")
        self._emit(
            SessionCreatedEvent(
                type="session.created", event_id=_id("event"), session=self._session
            )
        )
        try:
            async for message in self._ws:
                if message.type != WSMsgType.TEXT:
                    continue
                self._handle(message.data)
        finally:
            await cancel_and_wait(self._response)
            await cancel_and_wait(self._turn)
            await cancel_and_wait(self._partial)
            await self._hearing.close()
            self._out.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2)
            await cancel_and_wait(writer)

    def _error(
        self, message: str, kind: str = "invalid_request_error", event_id: str | None = None
    ) -> None:
        self._emit(
            RealtimeErrorEvent(
                type="error",
                event_id=_id("event"),
                error={"type": kind, "message": message, "event_id": event_id},
            )
        )

    def _handle(self, text: str) -> None:
        try:
            data = json.loads(text)
            event = validate_client_event(data)
        except (ValueError, ValidationError) as exc:
            self._error(f"not a Realtime client event: {str(exc)[:300]}")
            return
        kind = data["type"]
        if kind == "session.update":
            self._session_update(data["session"])
        elif kind == "input_audio_buffer.append":
            self._append(base64.b64decode(event.audio))
        elif kind == "input_audio_buffer.clear":
            self._pending.clear()
            self._speech.clear()
            self._hearing.drop()
        elif kind == "response.create":
            instructions = (data.get("response") or {}).get("instructions") or ""
            scripted = _scripted(instructions)
            if scripted is not None:
                self._absorb_history()
                self._start_response(scripted)
            elif self._outputs:  # a tool answered: the dialog words its result
                call_id, output = self._outputs[-1]
                self._outputs.clear()
                self._absorb_history()
                self._start_response(self._tool_reply(call_id, output))
            elif self._items and self._items[-1][0] == "user":
                # what the caller keyed in, as text: answer it; anything before it is history
                latest = self._items.pop()[1]
                self._absorb_history()
                self._start_response(self._dialog.reply(latest))
            elif not self._greeted:
                self._absorb_history()
                self._start_response(self._dialog.greeting())
            self._greeted = True
        elif kind == "response.cancel":
            self._cancel_response()
        elif kind == "conversation.item.truncate":
            self._emit(
                ConversationItemTruncatedEvent(
                    type="conversation.item.truncated",
                    event_id=_id("event"),
                    item_id=event.item_id,
                    content_index=event.content_index,
                    audio_end_ms=event.audio_end_ms,
                )
            )
        elif kind == "conversation.item.create":
            item = data.get("item") or {}
            if item.get("type") == "message" and item.get("role") == "user":
                text = " ".join(
                    part.get("text", "")
                    for part in item.get("content") or []
                    if part.get("type") == "input_text"
                )
                if text:
                    self._items.append(("user", text, ""))
            elif item.get("type") == "function_call":
                # Only a replay adds a function call (ours come in our responses): history.
                call_id = str(item.get("call_id"))
                self._call_names[call_id] = str(item.get("name"))
                self._replayed.add(call_id)
            elif item.get("type") == "function_call_output":
                call_id, output = str(item.get("call_id")), str(item.get("output") or "{}")
                if call_id in self._replayed:
                    self._items.append(("tool", call_id, output))
                else:  # the client ran the tool we asked for; its response.create follows
                    self._outputs.append((call_id, output))
            # An assistant message needs nothing: the dialog's state follows from what the
            # caller said and what the tools returned, which rebuild it.
        else:
            self._error(
                f"{kind} is not supported by the offline engine", event_id=data.get("event_id")
            )

    def _absorb_history(self) -> None:
        """Items added before anything answered them are the conversation so far (a client
        replaying it into this new session after a reconnect): the dialog hears them to
        rebuild where it stood (the booking's dates, the quote), and says nothing."""
        items, self._items = self._items, []
        for kind, first, second in items:
            if kind == "user":
                self._dialog.reply(first)
            else:
                self._tool_reply(first, second)
        if items:
            self._greeted = True  # a conversation already under way is not greeted again
            log.info("conversation so far replayed", items=len(items))

    def _session_update(self, update: dict[str, Any]) -> None:
        for key in ("instructions", "tools", "audio", "output_modalities"):
            if key in update:
                self._session[key] = update[key]
        self._tools = {
            str(tool.get("name")) for tool in update.get("tools") or [] if isinstance(tool, dict)
        }
        self._dialog.tools = self._tools
        # GA's field for the language of the caller's audio: the client knows it (the phone
        # menu's choice), so it is not guessed from the first words.
        transcription = ((update.get("audio") or {}).get("input") or {}).get("transcription")
        language = transcription.get("language") if isinstance(transcription, dict) else None
        if isinstance(language, str) and language:
            self._adopt(base_language(language))
        self._emit(
            SessionUpdatedEvent(
                type="session.updated", event_id=_id("event"), session=self._session
            )
        )

    # --- the caller's audio: server VAD -----------------------------------------------------------
    def _append(self, ulaw: bytes) -> None:
        self._pending.extend(ulaw)
        while len(self._pending) >= FRAME:
            frame = bytes(self._pending[:FRAME])
            del self._pending[:FRAME]
            self._audio_ms += 20
            pcm = g711.ulaw_decode(frame)
            change = self._vad.push(pcm)
            if self._vad.speaking or change == "end":
                self._speech.extend(pcm)
            else:
                self._lead_in = [*self._lead_in[-9:], pcm]
            if change == "start":
                self._speech[:0] = b"".join(self._lead_in)
                self._speech_item = _id("item")
                self._emit(
                    InputAudioBufferSpeechStartedEvent(
                        type="input_audio_buffer.speech_started",
                        event_id=_id("event"),
                        audio_start_ms=max(0, self._audio_ms - 300),
                        item_id=self._speech_item,
                    )
                )
                # the caller talks over the agent: barge-in (a noise too, said again below)
                self._cut_off = self._response is not None and not self._response.done()
                self._cancel_response()
            elif change == "end":
                self._end_of_speech()
            elif self._vad.speaking:
                self._maybe_partial()
                self._hearing.heard(
                    self._speech,
                    self._vad.quiet_run * 20,
                    self._language,
                    self._dialog.expecting,
                )

    def _maybe_partial(self) -> None:
        """A long utterance still going on: what has been said so far, as transcript deltas,
        every PARTIAL_EVERY_MS of speech (one transcription at a time, in a worker thread)."""
        speech_ms = len(self._speech) // 16  # 16-bit PCM at 8 kHz
        if speech_ms < self._next_partial_ms:
            return
        if self._partial is not None and not self._partial.done():
            return
        if self._vad.quiet_run or self._hearing.busy:
            return  # a pause is for the turn's own transcript (early.py), not a partial
        self._next_partial_ms = speech_ms + PARTIAL_EVERY_MS
        self._partial = asyncio.create_task(
            self._transcribe_partial(self._speech_item or _id("item"), bytes(self._speech)),
            name="local-engine-partial",
        )

    async def _transcribe_partial(self, item_id: str, pcm: bytes) -> None:
        transcript = await self._hearing.transcribe(pcm, self._language, self._dialog.expecting())
        text = transcript.text.strip()
        # Deltas only ever add: a later guess that rewrites the start waits for the final one.
        if not text.startswith(self._partial_text) or text == self._partial_text:
            return
        delta, self._partial_text = text[len(self._partial_text) :], text
        self._emit(
            ConversationItemInputAudioTranscriptionDeltaEvent(
                type="conversation.item.input_audio_transcription.delta",
                event_id=_id("event"),
                item_id=item_id,
                content_index=0,
                delta=delta,
            )
        )

    def _end_of_speech(self) -> None:
        if self._partial is not None and not self._partial.done():
            self._partial.cancel()  # the final transcript supersedes it
        self._partial, self._partial_text = None, ""
        self._next_partial_ms = FIRST_PARTIAL_MS
        item_id = self._speech_item or _id("item")
        self._stopped_at = time.monotonic()
        self._timing = {
            "hangover_ms": self._vad.unvoiced_run * 20,
            "quiet_ms": self._vad.quiet_run * 20,
            "speech_ms": len(self._speech) // 16,
        }
        self._emit(
            InputAudioBufferSpeechStoppedEvent(
                type="input_audio_buffer.speech_stopped",
                event_id=_id("event"),
                audio_end_ms=self._audio_ms,
                item_id=item_id,
            )
        )
        self._emit(
            InputAudioBufferCommittedEvent(
                type="input_audio_buffer.committed", event_id=_id("event"), item_id=item_id
            )
        )
        self._emit(
            ConversationItemAdded(
                type="conversation.item.added",
                event_id=_id("event"),
                item={
                    "id": item_id,
                    "type": "message",
                    "role": "user",
                    "status": "completed",
                    "content": [{"type": "input_audio"}],
                },
            )
        )
        utterance, self._speech = bytes(self._speech), bytearray()
        self._hearing.ended()
        self._turn = asyncio.create_task(
            self._understand(item_id, utterance), name="local-engine-turn"
        )

    async def _understand(self, item_id: str, pcm: bytes) -> None:
        self._absorb_history()  # before the transcription: its hints follow the dialog's state
        # The call's first utterance decides its language; later ones keep it.
        started = time.monotonic()
        transcript = await self._hearing.transcript(pcm, self._language, self._dialog.expecting())
        self._timing["stt_ms"] = round((time.monotonic() - started) * 1000)
        if self._language is None and transcript.text:  # a cough does not decide it
            self._adopt(transcript.language or "en")
        # `language` is ours, beyond the GA fields (the SDK's models allow extra fields).
        self._emit(
            ConversationItemInputAudioTranscriptionCompletedEvent(
                type="conversation.item.input_audio_transcription.completed",
                event_id=_id("event"),
                item_id=item_id,
                content_index=0,
                transcript=transcript.text,
                usage={"type": "duration", "seconds": len(pcm) / 16000},
                language=self._language or transcript.language or "en",
            )
        )
        heard_ms = len(pcm) // 16 - VAD_END_MS  # 16-bit PCM at 8 kHz, less the closing quiet
        if not transcript.text.strip() and heard_ms < NOISE_MS:
            # A click, a breath, the line's noise as a call starts: no words and too short to
            # be speech missed. "Sorry, I didn't catch that" to it, before the caller has said
            # anything, was the first thing bench/conversation's callers heard.
            log.info("noise ignored", heard_ms=heard_ms, cut_off=self._cut_off)
            if self._cut_off:  # it stopped the agent mid-reply: the reply once more
                self._start_response(self._dialog.again())
            return
        self._start_response(self._dialog.reply(transcript.text))

    def _adopt(self, language: str) -> None:
        """The call's language from now on: speech-to-text hears it, and the dialog (with its
        voice) speaks it when it can for this property; otherwise it stays as it was."""
        self._language = language
        if language in self._speaks and language != self._dialog.language:
            log.info("conversation language", language=language)
            self._dialog.language = language

    # --- responses ------------------------------------------------------------------------------
    def _tool_reply(self, call_id: str, output: str) -> Reply:
        name = self._call_names.pop(call_id, "")
        try:
            result = json.loads(output)
        except ValueError:
            result = {"error": "Sorry, something went wrong on my side."}
        if not isinstance(result, dict):
            result = {"result": result}
        return self._dialog.tool_result(name, result)

    def _start_response(self, reply: Reply | str) -> None:
        self._cancel_response()
        if isinstance(reply, str):
            reply = Reply(reply)
        if reply.call is not None and reply.call.name not in self._tools:
            reply = self._dialog.tool_unavailable(reply.call.name)
        self._response = asyncio.create_task(self._speak(reply), name="local-engine-response")

    def _cancel_response(self) -> None:
        if self._response is not None and not self._response.done():
            self._response.cancel()

    async def _speak(self, reply: Reply) -> None:
        response_id, item_id = _id("resp"), _id("item")
        base = {"id": response_id, "object": "realtime.response", "output_modalities": ["audio"]}
        self._emit(
            ResponseCreatedEvent(
                type="response.created",
                event_id=_id("event"),
                response={**base, "status": "in_progress"},
            )
        )
        where = {
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
        }
        status = "completed"
        output: list[dict[str, Any]] = []
        try:
            text = plain(reply.text)  # what the transcript shows: no markup
            voice = self._voices(self._dialog.language)  # the words' language is the dialog's
            # Sentence by sentence: the caller hears the first one while the rest is rendered.
            for n, sentence in enumerate(sentences(reply.text)):
                rendering = time.monotonic()
                pcm = await asyncio.to_thread(voice.render, sentence)
                if voice.rate != 8000:
                    pcm = await asyncio.to_thread(resample, pcm, voice.rate, 8000)
                if n == 0 and LEAD_IN_KEPT_MS is not None:
                    # The voice's leading silence (flite: 200-280 ms) would be dead air before
                    # the answer; between sentences it is a pause, and stays.
                    pcm = lead_trimmed(pcm, 8000, LEAD_IN_KEPT_MS)
                self._reply_timing(rendering)
                await self._send_audio(g711.ulaw_encode(pcm), plain(sentence), where)
            self._emit(
                ResponseAudioDoneEvent(
                    type="response.output_audio.done", event_id=_id("event"), **where
                )
            )
            self._emit(
                ResponseAudioTranscriptDoneEvent(
                    type="response.output_audio_transcript.done",
                    event_id=_id("event"),
                    transcript=text,
                    **where,
                )
            )
            output.append(
                {
                    "id": item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_audio", "transcript": text}],
                }
            )
            for name, arguments in self._calls_for(reply):
                call_item = _id("item")
                call_id = _id("call")
                self._call_names[call_id] = name
                self._emit(
                    ResponseFunctionCallArgumentsDoneEvent(
                        type="response.function_call_arguments.done",
                        event_id=_id("event"),
                        response_id=response_id,
                        item_id=call_item,
                        output_index=len(output),
                        call_id=call_id,
                        name=name,
                        arguments=json.dumps(arguments),
                    )
                )
                output.append(
                    {
                        "id": call_item,
                        "type": "function_call",
                        "call_id": call_id,
                        "name": name,
                        "arguments": json.dumps(arguments),
                        "status": "completed",
                    }
                )
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        finally:
            self._emit(
                ResponseDoneEvent(
                    type="response.done",
                    event_id=_id("event"),
                    response={**base, "status": status, "output": output},
                )
            )

    def _reply_timing(self, rendering: float) -> None:
        """The first audio of the reply to a caller's turn: where the time since the end of
        their speech went (the VAD's hangover came before it)."""
        if self._stopped_at is None:
            return
        now = time.monotonic()
        log.info(
            "reply timing",
            **self._timing,
            tts_ms=round((now - rendering) * 1000),
            to_first_audio_ms=round((now - self._stopped_at) * 1000),
        )
        self._stopped_at = None

    async def _send_audio(self, ulaw: bytes, words_said: str, where: dict[str, Any]) -> None:
        """Audio deltas of AUDIO_CHUNK_MS, each with the words it roughly carries."""
        step = 8 * AUDIO_CHUNK_MS
        words = words_said.split(" ")
        per_chunk = max(1, len(words) * step // max(1, len(ulaw)))
        for n, start in enumerate(range(0, len(ulaw), step)):
            self._emit(
                ResponseAudioDeltaEvent(
                    type="response.output_audio.delta",
                    event_id=_id("event"),
                    delta=base64.b64encode(ulaw[start : start + step]).decode(),
                    **where,
                )
            )
            spoken = " ".join(words[n * per_chunk : (n + 1) * per_chunk])
            if spoken:
                self._emit(
                    ResponseAudioTranscriptDeltaEvent(
                        type="response.output_audio_transcript.delta",
                        event_id=_id("event"),
                        delta=spoken + " ",
                        **where,
                    )
                )
            await asyncio.sleep(0)  # let a cancel in between

    def _calls_for(self, reply: Reply) -> list[tuple[str, dict[str, Any]]]:
        calls: list[tuple[str, dict[str, Any]]] = []
        if reply.call is not None and reply.call.name in self._tools:
            calls.append((reply.call.name, reply.call.arguments))
        if reply.transfer_to and "transfer_call" in self._tools:
            arguments = {"department": reply.transfer_to, "mode": "blind"}
            if reply.transfer_summary:
                arguments.update(mode="warm", summary=reply.transfer_summary[:500])
            calls.append(("transfer_call", arguments))
        if reply.end_call and "end_call" in self._tools:
            calls.append(("end_call", {}))
        return calls


def _scripted(instructions: str) -> str | None:
    """`Say exactly: "…"` in response.create: prompts the client wants spoken word for word."""
    prefix = "say exactly:"
    if instructions.lower().startswith(prefix):
        return instructions[len(prefix) :].strip().strip('"').strip()
    return None


def _voice_for(
    prop: PropertyConfig,
    tts_factory: Callable[[str], TextToSpeech],
    cache: PhraseCache,
    language: str = "en",
) -> Voice:
    """The property's voice in a language: its flite voice for English; the factory's voice
    named by the language code otherwise (`tts_factory("es")`). The lexicon respells words for
    the English voice only."""
    if language != "en":
        return Voice(tts_factory(language), {}, cache, language)
    name = prop.agent.local_voice  # hotel.yaml's "default" is read as "joe" (config.py)
    return Voice(tts_factory(name), prop.lexicon, cache, name)


def _voices(
    prop: PropertyConfig, tts_factory: Callable[[str], TextToSpeech], cache: PhraseCache
) -> Callable[[str], Voice]:
    """A call's voices by language, each made the first time that language is spoken."""
    made: dict[str, Voice] = {}

    def voice(language: str) -> Voice:
        if language not in made:
            made[language] = _voice_for(prop, tts_factory, cache, language)
        return made[language]

    return voice


def create_engine_app(
    hotel: HotelConfig,
    stt: SpeechToText,
    tts_factory: Callable[[str], TextToSpeech],
    default_language: str = "en",
    prerender_all: bool = False,
) -> web.Application:
    """The engine's web app. `tts_factory(name)` makes a text-to-speech: a flite voice's name
    for English, a language code ("es") for another language's voice. `default_language`
    (DEFAULT_LANGUAGE) is the greeting's when the client names none, for a property that
    speaks it; the caller's first words then decide."""

    def opening_language(prop: PropertyConfig) -> str:
        language = base_language(default_language)
        return language if language in languages_of(prop) else "en"

    async def realtime(request: web.Request) -> web.StreamResponse:
        property_id = request.query.get("property") or hotel.default_property.id
        try:
            prop = hotel.get_property(property_id)
        except KeyError as exc:
            return web.json_response({"error": {"message": str(exc)}}, status=404)
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        request.app[SOCKETS].add(ws)
        request.app[IDLE].clear()
        try:
            dialog = DialogManager(prop, language=opening_language(prop))
            voices = _voices(prop, tts_factory, request.app[PHRASES])
            await LocalRealtimeSession(ws, dialog, stt, voices, languages_of(prop)).run()
        finally:
            request.app[SOCKETS].discard(ws)
            if not request.app[SOCKETS]:
                request.app[IDLE].set()
        return ws

    async def close_sockets(app: web.Application) -> None:
        # On shutdown, tell clients we are going away at once (they fall back to the front
        # desk) instead of leaving them hanging until the server's shutdown timeout.
        sockets: weakref.WeakSet[web.WebSocketResponse] = app[SOCKETS]
        for ws in list(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"engine shutting down")

    def voices_to_prerender(cache: PhraseCache) -> list[tuple[Voice, DialogManager]]:
        return [
            (
                _voice_for(prop, tts_factory, cache, language),
                DialogManager(prop, language=language),
            )
            for prop in hotel.properties
            for language in sorted(languages_of(prop))
        ]

    async def prerender(app: web.Application) -> AsyncIterator[None]:
        # Every call opens with its property's greeting: render each once (in each language
        # the property speaks) before the first call. Most replies open with a line that never
        # changes (a question, an FAQ answer): with `prerender_all`, those are rendered next,
        # in the background, so their first audio needs no synthesis either.
        for voice, dialog in voices_to_prerender(app[PHRASES]):
            for sentence in sentences(dialog.greeting()):
                await asyncio.to_thread(voice.render, sentence)

        async def the_rest() -> None:
            # Only while no call is connected: a piece rendered beside a caller's turn takes
            # the core its speech-to-text needs (bench/phone_latency: the first turn of the
            # first call after start-up 2.1 s). Calls in progress render what they say.
            for voice, dialog in voices_to_prerender(app[PHRASES]):
                for text in prerender_texts(dialog.greeting(), dialog.words.fixed_lines()):
                    await app[IDLE].wait()
                    await asyncio.to_thread(voice.render, text)
            app[RENDERED].set()

        task = None
        if prerender_all:
            task = asyncio.create_task(the_rest(), name="engine-prerender")
        else:
            app[RENDERED].set()
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = web.Application()
    app[SOCKETS] = weakref.WeakSet()
    app[IDLE] = asyncio.Event()  # set while no call is connected
    app[IDLE].set()
    app[RENDERED] = asyncio.Event()
    app[PHRASES] = PhraseCache(max_entries=512)
    app.cleanup_ctx.append(prerender)
    app.router.add_get("/v1/realtime", realtime)
    app.on_shutdown.append(close_sockets)
    return app
