"""The AI receptionist's side of a call: caller audio to the engine, the engine's voice to the
caller, barge-in, function calls, and every turn into the call's history.

Barge-in: when the engine hears the caller start talking over the agent, the agent's queued
audio is flushed at once, the response is cancelled, and the agent's item is truncated to
`audio_end_ms = min(ms actually played to the caller, ms received)`, so the engine's memory
of what it said matches what the caller heard.

Echo guard: a phone line echoes some of the agent's voice back into the caller's audio. A
"speech started" within ECHO_GUARD_MS of the agent starting to talk is taken as that echo
(or the click of playback starting), not the caller; later ones are real barge-ins.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.aio import cancel_and_wait
from app.calls.call_log import CallLog
from app.calls.card_guard import WITHHELD, CardGuard
from app.calls.conversation import CallIO
from app.calls.engine_port import (
    AgentAudio,
    AgentTranscript,
    CallContext,
    CallerTranscript,
    EngineConnector,
    EngineError,
    EngineGone,
    EngineSession,
    FunctionCall,
    PastToolCall,
    PastTurn,
    ResponseDone,
    SpeechStarted,
    SpeechStopped,
)
from app.calls.languages import base_language, language_name
from app.calls.live import Activity
from app.calls.records import Outcome, TurnRole
from app.calls.session import CallSession
from app.calls.silence import END_REASON, SilenceWatch, Step, words
from app.hotel.config import PropertyConfig
from app.hotel.errors import ToolError
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.registry import (
    Hangup,
    Hold,
    ToolContext,
    ToolRegistry,
    ToolResult,
    Transfer,
)
from app.log import get_logger
from app.media.frames import FrameChunker
from app.media.pacer import FRAME_SECONDS
from app.redaction import redact_value

log = get_logger(__name__)

Opening = Callable[[PropertyConfig], str]  # the call's property -> the agent's first words

ECHO_GUARD_MS = 300
RENEWAL = "session renewal"
KEY_PAUSE = 1.5  # seconds without a key: the caller has finished typing
MAX_KEYED = 32  # digits in one keyed entry for the engine (a card number is 19 at most)
HOLD_AFTER = 0.5  # a tool slower than this gets hold music (after the agent's sentence)
APPEND_FRAMES = 2  # 40 ms of caller audio per append


@dataclass
class _Playing:
    response_id: str
    item_id: str
    started: float
    frames_queued: int = 0
    received_ms: int = 0


@dataclass
class Truncation:
    item_id: str
    audio_end_ms: int
    played_ms: int
    received_ms: int


@dataclass
class AgentConversation:
    connector: EngineConnector
    property_for: Callable[[str], PropertyConfig]  # property id -> its hotel.yaml entry
    fallback: tuple[str, str]
    call_log: CallLog | None = None
    tools: ToolRegistry = field(default_factory=lambda: ToolRegistry(call_tools()))
    # (property id, department key) -> (dialplan context, extension) for a blind transfer
    route: Callable[[str, str], tuple[str, str]] | None = None
    # the first words for the call's property, when not its greeting (app/hotel/openings.py)
    opening: Opening | None = None
    # Realtime sessions have a lifetime cap: open a fresh one (the conversation replayed) after
    # this many seconds, at a quiet moment. None: never.
    renew_after: float | None = None
    renewals: int = 0
    _on_hold: bool = False
    _held: asyncio.Event | None = None  # set while the agent holds the caller (hold_call)
    truncations: list[Truncation] = field(default_factory=list)  # for history and tests
    reconnects: int = 0
    # Everything said, keyed and done so far: replayed into a new engine session (reconnect,
    # renewal) so that it carries on where the last one was. Bounded by the call's duration.
    history: list[PastTurn | PastToolCall] = field(default_factory=list)
    _opening: asyncio.Task[EngineSession] | None = None
    _keys: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=64))
    # a caller who says nothing is asked, offered a person, then said goodbye to (silence.py)
    silence: SilenceWatch = field(default_factory=SilenceWatch)

    def on_dtmf(self, digit: str) -> None:
        self.silence.keyed()
        if self._held is not None:  # on hold (hold_call): any key brings the caller back
            self._held.set()
            return
        with contextlib.suppress(asyncio.QueueFull):  # a caller mashing keys loses the extras
            self._keys.put_nowait(digit)

    def prepare(self, session: CallSession) -> None:
        """Start connecting to the engine while the call is still being answered: the first
        greeting then comes without the connection's delay."""
        if self._opening is None:
            self._opening = asyncio.create_task(self._open(session), name="engine-connect")

    async def discard(self) -> None:
        """The call ended before (or without) the conversation: close what prepare opened."""
        opening, self._opening = self._opening, None
        if opening is None:
            return
        if not opening.done():
            await cancel_and_wait(opening)
        elif not opening.cancelled() and opening.exception() is None:
            await opening.result().close()

    async def _open(self, session: CallSession) -> EngineSession:
        return await self.connector.open(
            CallContext(session.property_id, session.caller_e164, session.arrival, session.language)
        )

    def _first_words(self, engine: EngineSession, words: str) -> None:
        """The call's first words as written, or in the caller's language when they chose
        another in the phone menu and the engine speaks it (else as written: better English
        than silence). An engine that words its own replies (the offline one) is asked for a
        response with nothing said yet: it greets by itself, in the caller's language or else
        in its default one (DEFAULT_LANGUAGE)."""
        session = self._session
        language = session.language if session is not None else "en"
        capabilities = engine.capabilities
        if language != "en" and capabilities.speaks(language):
            if capabilities.free_instructions:
                engine.respond(
                    f"Say this to the caller in {language_name(language)}, keeping its meaning "
                    f'and nothing more: "{words}"'
                )
            else:  # it has no words for the other openings: a greeting they understand, then
                engine.respond()
        elif (
            not capabilities.free_instructions
            and session is not None
            and (words == self.property_for(session.property_id).greeting_words)
        ):
            engine.respond()
        else:
            engine.say(words)

    async def run(self, io: CallIO, session: CallSession) -> None:
        self._session = session
        opening, self._opening = self._opening, None
        try:
            engine = await (opening or self._open(session))
        except EngineError as exc:
            log.error(
                "no conversation engine for this call", error=str(exc), retryable=exc.retryable
            )
            session.achieved(Outcome.FAILED)
            await io.transfer(*self.fallback)
            return
        prop = self.property_for(session.property_id)
        self._first_words(engine, self.opening(prop) if self.opening else prop.greeting_words)
        self.silence.reply_owed()
        while True:
            lost = await self._talk(io, engine)
            if lost is None:
                return  # the call has left us (transfer, hang-up)
            if lost == RENEWAL:
                log.info("renewing the engine session before its lifetime cap")
                self.renewals += 1
            else:
                log.warning("conversation engine lost, reconnecting", reason=lost)
            io.flush_audio()
            reopened = await self._reconnect(session)
            if reopened is None:
                log.error("conversation engine could not be reached again")
                session.achieved(Outcome.FAILED)
                await io.transfer(*self.fallback)  # the dialplan's fallback apologises
                return
            engine = reopened
            self.silence.restart()

    async def _talk(self, io: CallIO, engine: EngineSession) -> str | None:
        pump = asyncio.create_task(self._pump(io, engine), name="engine-pump")
        keys = asyncio.create_task(self._forward_keys(engine), name="engine-keys")
        try:
            return await self._converse(io, engine)
        finally:
            # Nested: a cancelled call (the caller hung up) re-raises from the first wait,
            # and would leave the keys task pending and the engine session open.
            try:
                await cancel_and_wait(pump)
            finally:
                try:
                    await cancel_and_wait(keys)
                finally:
                    await engine.close()

    async def _reconnect(self, session: CallSession, attempts: int = 3) -> EngineSession | None:
        """A new engine session that knows the conversation so far (replayed as items)."""
        for attempt in range(attempts):
            try:
                engine = await self._open(session)
            except EngineError as exc:
                if not exc.retryable:
                    return None
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            for past in self.history:
                if isinstance(past, PastTurn):
                    engine.add_history(past.role, past.text)
                else:
                    engine.add_tool_history(past.call_id, past.name, past.arguments, past.output)
            self.reconnects += 1
            return engine
        return None

    async def _pump(self, io: CallIO, engine: EngineSession) -> None:
        batch: list[bytes] = []
        while True:
            batch.append(await io.caller_audio.get())
            if self._on_hold:  # what comes back is our own hold music, not the caller
                batch.clear()
            elif len(batch) >= APPEND_FRAMES:
                engine.append_audio(b"".join(batch))
                batch.clear()

    async def _forward_keys(self, engine: EngineSession) -> None:
        """Keys reach the engine as one entry: the digits typed until # or a short pause
        (a phone number keyed in is one answer, not ten)."""
        while True:
            keyed = [await self._keys.get()]
            dropped = 0
            while keyed[-1] != "#":
                try:
                    key = await asyncio.wait_for(self._keys.get(), KEY_PAUSE)
                except TimeoutError:
                    break
                if len(keyed) < MAX_KEYED or key == "#":
                    keyed.append(key)
                else:
                    dropped += 1
            if dropped:
                log.warning("keyed entry too long, keys dropped", limit=MAX_KEYED, dropped=dropped)
            digits = "".join(k for k in keyed if k != "#") or "#"
            if self._session is not None and self._session.cards.active:
                text = WITHHELD  # card details: the engine never sees them
            elif len(digits) == 1:
                text = f"The caller pressed {digits} on the telephone keypad."
            else:
                text = f"The caller keyed {digits} on the telephone keypad."
            engine.user_text(text)
            self.history.append(PastTurn(TurnRole.CALLER, text))
            engine.respond()

    async def _converse(self, io: CallIO, engine: EngineSession) -> str | None:
        """Until the call leaves us (None) or the engine is lost (the reason)."""
        chunker = FrameChunker()
        playing: _Playing | None = None
        cancelled: set[str] = set()
        logged: set[str] = set()  # responses whose transcript is already a stored turn
        calls: dict[str, list[FunctionCall]] = {}
        speech_stopped_at: float | None = None
        caller_speaking = False
        latency: int | None = None  # end of the caller's speech → the agent's first audio
        opened = time.monotonic()
        while True:
            wait = self.silence.due_in(io.audio_pending() * FRAME_SECONDS)
            if wait is not None and wait <= 0:
                if await self._caller_silent(io, engine):
                    return None
                continue
            if self.renew_after is not None:
                renew = opened + self.renew_after - time.monotonic()
                quiet = (
                    not calls
                    and io.audio_pending() == 0
                    and speech_stopped_at is None
                    and not caller_speaking  # a renewal now would lose what they are saying
                )
                if renew <= 0 and quiet:
                    return RENEWAL  # nobody speaking, nothing playing, no tool pending
                renew = max(renew, 0.5)  # wake at the deadline, then look again every 0.5 s
                wait = renew if wait is None else min(wait, renew)
            try:
                event = await asyncio.wait_for(engine.next_event(), wait)
            except TimeoutError:
                continue
            if isinstance(event, AgentAudio):
                if event.response_id in cancelled:
                    continue
                self.silence.reply_owed()  # the agent is talking
                if playing is None or playing.item_id != event.item_id:
                    playing = _Playing(event.response_id, event.item_id, time.monotonic())
                    self._doing(Activity.SPEAKING)
                    if speech_stopped_at is not None:
                        latency = int((time.monotonic() - speech_stopped_at) * 1000)
                        speech_stopped_at = None
                playing.received_ms += len(event.ulaw) // 8
                for frame in chunker.push(event.ulaw):
                    io.send_audio(frame)
                    playing.frames_queued += 1
            elif isinstance(event, SpeechStarted):
                self._cards().caller_speaking()
                self._doing(Activity.LISTENING)
                caller_speaking = True
                self.silence.caller_started()
                if (
                    playing is not None
                    and playing.response_id not in cancelled
                    and io.audio_pending() > 0
                ):
                    if (time.monotonic() - playing.started) * 1000 < ECHO_GUARD_MS:
                        log.info("speech start ignored as echo of the agent")
                        continue
                    dropped = io.flush_audio() + len(chunker.flush())
                    played_ms = max(0, playing.frames_queued - dropped) * 20
                    end_ms = min(played_ms, playing.received_ms)
                    engine.cancel_response()
                    engine.truncate(playing.item_id, end_ms)
                    cancelled.add(playing.response_id)
                    if playing.response_id in logged:  # else flagged when it is logged
                        self._interrupted()
                    self.truncations.append(
                        Truncation(playing.item_id, end_ms, played_ms, playing.received_ms)
                    )
                    log.info("barge-in", played_ms=played_ms, audio_end_ms=end_ms)
            elif isinstance(event, SpeechStopped):
                caller_speaking = False
                speech_stopped_at = time.monotonic()
                self.silence.caller_stopped()
            elif isinstance(event, CallerTranscript):
                if event.text:
                    self.silence.caller_said()
                    # stored and replayed (to a renewed session) with card data masked
                    stored = self._cards().caller_said(event.text)
                    self._log(TurnRole.CALLER, stored, None, event.language)
                    self.history.append(PastTurn(TurnRole.CALLER, stored))
            elif isinstance(event, AgentTranscript):
                cut_off = event.response_id in cancelled
                logged.add(event.response_id)
                stored = self._cards().agent_said(event.text)
                # the row carries the flag (turns.interrupted), its text stays what was said;
                # a renewed engine session is still told, in words, that it was cut off
                self._log(TurnRole.AGENT, stored, latency, interrupted=cut_off)
                replayed = stored + (" [interrupted]" if cut_off else "")
                self.history.append(PastTurn(TurnRole.AGENT, replayed))
                latency = None
            elif isinstance(event, FunctionCall):
                calls.setdefault(event.response_id, []).append(event)
            elif isinstance(event, ResponseDone):
                if event.response_id not in cancelled:
                    self.silence.replied()
                # listening once the caller has heard the end of it
                self._doing(Activity.LISTENING, after=io.audio_pending() * FRAME_SECONDS)
                for tail in chunker.flush():
                    io.send_audio(tail)
                pending = calls.pop(event.response_id, [])
                if event.status != "completed":
                    if pending:
                        log.info(
                            "function calls of an unfinished response not run",
                            status=event.status,
                            names=[c.name for c in pending],
                        )
                    continue
                for call in pending:
                    if await self._run(call, io, engine):
                        return None
                if pending:
                    engine.respond()  # one answer to all of the response's results
                    self.silence.reply_owed()  # the engine words the tools' results
            elif isinstance(event, EngineGone):
                return event.reason

    async def _caller_silent(self, io: CallIO, engine: EngineSession) -> bool:
        """The caller has been silent for a while: the next step (ask, offer a person, say
        goodbye, hang up). True when the call has left us."""
        step = self.silence.step()
        log.info("caller silent", step=step.value)
        if step is Step.HANG_UP:
            assert self._session is not None
            self._session.achieved(Outcome.ABANDONED)  # unless the call achieved more
            await io.hangup(END_REASON)
            return True
        if step in (Step.REPROMPT, Step.OFFER) and self.call_log is not None:
            assert self._session is not None
            self.call_log.silence_prompt(self._session.id)
        self._say_scripted(engine, step)
        self.silence.reply_owed()
        return False

    def _say_scripted(self, engine: EngineSession, step: Step) -> None:
        """A silence step's words in the call's language, said by the engine as written
        (both engines; stored as an agent turn when its transcript comes back)."""
        language = base_language(self._session.language if self._session else None)
        said = words(step, language)
        if said is not None and engine.capabilities.speaks(language):
            engine.say(said)
        else:  # English, which _first_words has put in the caller's language if it can
            english = words(step, "en")
            assert english is not None
            self._first_words(engine, english)

    def _log(
        self,
        role: TurnRole,
        text: str,
        latency: int | None,
        language: str | None = None,
        *,
        interrupted: bool = False,
    ) -> None:
        if self.call_log is not None and self._session is not None:
            self.call_log.turn(
                self._session.id,
                role,
                text,
                latency_ms=latency,
                language=language,
                interrupted=interrupted,
            )

    def _interrupted(self) -> None:
        if self.call_log is not None and self._session is not None:
            self.call_log.interrupted(self._session.id)

    def _doing(self, activity: Activity, tool: str | None = None, after: float = 0.0) -> None:
        """What the agent is doing now (or `after` seconds from now, unless it does something
        else first), for the staff console."""
        if self._activity_later is not None:
            self._activity_later.cancel()
            self._activity_later = None
        log_to, session = self.call_log, self._session
        if log_to is None or session is None:
            return
        if after > 0:
            self._activity_later = asyncio.get_running_loop().call_later(
                after, log_to.activity, session.id, activity, tool
            )
        else:
            log_to.activity(session.id, activity, tool)

    _activity_later: asyncio.TimerHandle | None = None

    _session: CallSession | None = None

    def _cards(self) -> CardGuard:
        assert self._session is not None
        return self._session.cards

    async def _run(self, call: FunctionCall, io: CallIO, engine: EngineSession) -> bool:
        """Run one function call through the tool registry; True when the call has left us
        (transfer, hang-up). A ToolError goes back to the engine as words it may speak."""
        session = self._session
        assert session is not None
        context = ToolContext(
            prop=self.property_for(session.property_id),
            call_id=session.id,
            caller_e164=session.caller_e164,
            card_context=session.cards.active or session.cards.ever,
        )
        running = asyncio.create_task(
            self.tools.invoke(call.name, call.arguments, context), name=f"tool-{call.name}"
        )
        self._doing(Activity.TOOL, call.name)
        try:
            result = await self._with_hold_music(running, io)
        except ToolError as exc:
            self._output(engine, call, {"error": str(exc)})
            return False
        finally:
            self._doing(Activity.LISTENING)
        if result.outcome is not None:
            session.achieved(Outcome(result.outcome))
        if isinstance(result.action, Hangup):
            await self._drain(io)
            await io.hangup(result.action.reason)
            return True
        if isinstance(result.action, Hold):
            await self._drain(io)
            ended_by = await self._hold(io, result.action.seconds)
            self._output(engine, call, {**result.output, "hold_ended_by": ended_by})
            return False
        if isinstance(result.action, Transfer):
            await self._drain(io)
            department = result.action.department
            # Without department routing every transfer goes to the front desk fallback.
            target = self.route(session.property_id, department) if self.route else self.fallback
            whisper = None
            if result.action.warm:
                summary = session.cards.private(result.action.summary)
                whisper = self._staff_summary(context.prop, department, summary)
            await io.transfer(*target, whisper=whisper)
            return True
        self._output(engine, call, result.output)
        return False

    def _output(self, engine: EngineSession, call: FunctionCall, output: dict[str, Any]) -> None:
        """A tool's result to the engine (answered once all of the response's are in); kept
        for a replay."""
        engine.function_output(call.call_id, output)
        # kept (and replayed) without card numbers, as the turns are
        arguments = redact_value(call.arguments)
        self.history.append(PastToolCall(call.call_id, call.name, arguments, output))

    def _staff_summary(self, prop: PropertyConfig, department: str, summary: str) -> str:
        """What staff hear before a warm transfer joins them to the caller."""
        known = prop.departments.get(department)
        who = f" for {known.name}" if known else ""
        about = summary.strip() or "They asked to speak with you."
        return f"{prop.agent.name} here, with a caller{who}. {about} Putting them through now."

    async def _with_hold_music(self, running: asyncio.Task[ToolResult], io: CallIO) -> ToolResult:
        """A tool that takes longer than HOLD_AFTER: once the agent has finished its sentence,
        the caller hears hold music until the result is in. Never dead air."""
        try:
            done, _ = await asyncio.wait({running}, timeout=HOLD_AFTER)
            if not done:
                await self._drain(io, limit=5.0)
            if running.done():
                return running.result()
            self._on_hold = True
            try:
                await io.hold(True)
            except Exception:  # no hold music is better than no result
                log.exception("hold music did not start")
            try:
                return await running
            finally:
                with contextlib.suppress(Exception):
                    await io.hold(False)
                self._on_hold = False
        finally:
            if not running.done():
                await cancel_and_wait(running)

    async def _hold(self, io: CallIO, seconds: float) -> str:
        """The agent's own hold: music until `seconds` pass or the caller presses a key;
        what ended it ("time" or "caller_key")."""
        self._held = asyncio.Event()
        self._on_hold = True
        try:
            try:
                await io.hold(True)
            except Exception:  # the caller waits in silence rather than being dropped
                log.exception("hold music did not start")
            try:
                await asyncio.wait_for(self._held.wait(), seconds)
                return "caller_key"
            except TimeoutError:
                return "time"
        finally:
            with contextlib.suppress(Exception):
                await io.hold(False)
            self._on_hold = False
            self._held = None

    @staticmethod
    async def _drain(io: CallIO, limit: float = 30.0) -> None:
        """Let the caller hear the end of what the agent said before acting."""
        deadline = time.monotonic() + limit
        while io.audio_pending() > 0 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the pacer has no "drained" signal; a few seconds at most
