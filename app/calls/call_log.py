"""What a live call writes to its history, through the write-behind queue (never blocking);
the same goes to the live calls' feed (the staff console, app/calls/live.py) as it happens,
and at hang-up the call's summary (app/calls/summary.py) and its caller's sentiment
(app/analytics/sentiment.py, per turn and for the call) are written with its end."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Protocol

from app.analytics.satisfaction import FAULT_REASONS, Friction, satisfaction
from app.analytics.sentiment import CallSentiment, score_call
from app.calls.live import Activity, LiveCalls
from app.calls.records import CallRecord, CallState, NewCall, Outcome, Turn, TurnRole
from app.calls.summary import CallNotes, summarise
from app.calls.write_behind import WriteBehind
from app.hotel.tools.registry import ToolInvocation
from app.log import get_logger

log = get_logger(__name__)

SURVEY_KEYS = frozenset("12345")  # the keypad survey's answers


class CallStore(Protocol):
    async def create(self, new: NewCall, started_at: dt.datetime | None = None) -> CallRecord: ...

    async def set_state(self, call_id: uuid.UUID, state: CallState) -> None: ...

    async def end(
        self,
        call_id: uuid.UUID,
        reason: str,
        *,
        outcome: Outcome | None = None,
        summary: str | None = None,
        sentiment: float | None = None,
        transferred_to: str | None = None,
        satisfaction: float | None = None,
    ) -> None: ...

    async def add_turn(
        self,
        call_id: uuid.UUID,
        role: TurnRole,
        text: str,
        *,
        started_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
        language: str | None = None,
        latency_ms: int | None = None,
        interrupted: bool = False,
    ) -> Turn: ...

    async def mask_turns(self, call_id: uuid.UUID, seconds: float) -> int: ...

    async def get(self, call_id: uuid.UUID) -> CallRecord | None: ...

    async def set_turn_sentiments(self, call_id: uuid.UUID, scores: dict[int, float]) -> None: ...

    async def mark_last_agent_turn_interrupted(self, call_id: uuid.UUID) -> bool: ...

    async def record_survey(self, channel_id: str, score: int) -> bool: ...

    async def set_queue_wait(self, call_id: uuid.UUID, wait_ms: int) -> None: ...


class ToolStore(Protocol):
    async def add(self, invocation: ToolInvocation) -> None: ...


class CallLog:
    def __init__(
        self,
        store: CallStore,
        writes: WriteBehind,
        tools: ToolStore | None = None,
        live: LiveCalls | None = None,
    ) -> None:
        self._store = store
        self._writes = writes
        self._tools = tools
        self.live = live or LiveCalls()  # nobody watching costs a dict entry per call
        self._notes: dict[uuid.UUID, CallNotes] = {}  # live calls' notes for their summary

    def record(self, invocation: ToolInvocation) -> None:
        """A tool ran (the registry's ToolLog): stored behind the call's other writes."""
        if invocation.call_id is not None and (notes := self._notes.get(invocation.call_id)):
            notes.tool(invocation)
        tools = self._tools
        if tools is not None:
            self._writes.submit(f"tool {invocation.name}", lambda: tools.add(invocation))

    def started(self, new: NewCall, at: dt.datetime) -> None:
        if new.id is not None:
            self._notes[new.id] = CallNotes()
            self.live.started(new, at)
        self._writes.submit(f"call {new.id} start", lambda: self._store.create(new, at))

    def state(self, call_id: uuid.UUID, state: CallState) -> None:
        self.live.moved(call_id, state)
        self._writes.submit(
            f"call {call_id} {state}", lambda: self._store.set_state(call_id, state)
        )

    def activity(self, call_id: uuid.UUID, activity: Activity, tool: str | None = None) -> None:
        """What the agent is doing (listening, speaking, a tool): for the console, not stored."""
        self.live.activity(call_id, activity, tool)

    def taken_over(self, call_id: uuid.UUID, extension: str) -> None:
        """A member of staff took the call over from the agent (their phone's extension)."""
        if notes := self._notes.get(call_id):
            notes.taken_over_by = extension
        self.live.taken_over(call_id, extension)

    def listening(self, call_id: uuid.UUID, extension: str, on: bool) -> None:
        """A member of staff started (or stopped) listening in from their extension."""
        self.live.listening(call_id, extension, on)

    def ended(
        self,
        call_id: uuid.UUID,
        reason: str,
        *,
        transferred_to: str | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        notes = self._notes.pop(call_id, CallNotes())
        if reason in FAULT_REASONS:
            notes.errors += 1
        try:
            summary: str | None = summarise(notes, reason, outcome, transferred_to)
        except Exception:  # a summary is not worth a call's end
            log.exception("call summary failed")
            summary = None
        self.live.ended(call_id, reason, outcome)
        store = self._store

        async def end() -> None:
            # behind the call's turns in the queue: they are all stored by now
            scored = await self._sentiment(call_id)
            mood = scored.call if scored else None
            friction = Friction(notes.interruptions, notes.silence_prompts, notes.errors)
            await store.end(
                call_id,
                reason,
                transferred_to=transferred_to,
                outcome=outcome,
                summary=summary,
                sentiment=mood,
                satisfaction=satisfaction(mood, outcome, friction),
            )

        self._writes.submit(f"call {call_id} end", end)

    async def _sentiment(self, call_id: uuid.UUID) -> CallSentiment | None:
        """The call's caller turns scored (in a worker thread: VADER is plain Python) and
        their scores stored; None when the call is unknown or scoring failed."""
        record = await self._store.get(call_id)
        if record is None:
            return None
        try:
            scored = await asyncio.to_thread(score_call, record.turns, record.language)
        except Exception:  # a score is not worth a call's end
            log.exception("sentiment scoring failed")
            return None
        known = {seq: score for seq, score in scored.turns.items() if score is not None}
        await self._store.set_turn_sentiments(call_id, known)
        return scored

    def turn(
        self,
        call_id: uuid.UUID,
        role: TurnRole,
        text: str,
        *,
        latency_ms: int | None = None,
        language: str | None = None,
        interrupted: bool = False,
    ) -> None:
        """A turn as it goes by; `interrupted`: an agent turn the caller cut off (barge-in)."""
        if notes := self._notes.get(call_id):
            notes.turn(role, text)
            notes.interruptions += interrupted
        self.live.line(call_id, role, text)
        if role is TurnRole.CALLER and language:
            self.live.language(call_id, language)
        self._writes.submit(
            f"call {call_id} turn",
            lambda: self._store.add_turn(
                call_id,
                role,
                text,
                latency_ms=latency_ms,
                language=language,
                interrupted=interrupted,
            ),
        )

    def interrupted(self, call_id: uuid.UUID) -> None:
        """The caller cut off the agent's turn already logged (its transcript came first):
        flagged behind that turn's write."""
        if notes := self._notes.get(call_id):
            notes.interruptions += 1
        self._writes.submit(
            f"call {call_id} interrupted",
            lambda: self._store.mark_last_agent_turn_interrupted(call_id),
        )

    def survey(self, channel_id: str, key: str) -> None:
        """The caller's answer to the end-of-call survey (the key they pressed, after the
        call's end): 1 to 5 is stored as calls.survey_score and becomes its satisfaction;
        anything else is not an answer and is dropped."""
        if key not in SURVEY_KEYS:
            log.warning("survey answer not 1 to 5, not stored", key=key[:3])
            return
        score = int(key)
        store = self._store

        async def answer() -> None:
            if not await store.record_survey(channel_id, score):
                log.warning("survey answer for no known call", channel=channel_id)

        self._writes.submit(f"survey {channel_id}", answer)

    def queue_wait(self, call_id: uuid.UUID, wait_ms: int) -> None:
        """How long the caller waited in the staff queue the AI put them through to (known
        after the call's row has ended: app/telephony/queue_waits.py says what it spans)."""
        store = self._store
        self._writes.submit(
            f"call {call_id} queue wait", lambda: store.set_queue_wait(call_id, wait_ms)
        )

    def silence_prompt(self, call_id: uuid.UUID) -> None:
        """The caller was silent and the agent asked whether they were there, or offered a
        person: friction, for the satisfaction score (not stored on its own)."""
        if notes := self._notes.get(call_id):
            notes.silence_prompts += 1

    def mask_turns(self, call_id: uuid.UUID, seconds: float) -> None:
        """The caller's turns of the last `seconds` turned out to be card details (read in
        groups): stored again with every number masked, behind the writes of those turns."""
        self.live.mask_recent(call_id, seconds)
        self._writes.submit(
            f"call {call_id} mask turns", lambda: self._store.mask_turns(call_id, seconds)
        )
