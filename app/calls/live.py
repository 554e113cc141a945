"""The calls in progress, as the staff console sees them, and a feed of what happens on them.

The call path tells this registry what happens (through the call log, app/calls/call_log.py):
a call starts, changes state, the agent speaks or runs a tool, a line of transcript, the call
ends. Subscribers (the console's WebSockets) each get a bounded queue of typed events; one
that falls behind loses what it has not read and is told so (`Missed`), so that it asks for
a fresh snapshot: the call path never waits for a subscriber.

Events are published synchronously, in the order the call path reports them, so every
subscriber sees each call's events in order. Nothing here raises into the call path: a
failure is logged and the call goes on.

Callers' numbers are masked (all but the last four digits), transcript lines carry no card
data (app/redaction.py), as in the database.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal, ParamSpec

from app.calls.records import CallState, NewCall, Outcome, TurnRole
from app.log import get_logger
from app.redaction import redact_card_data, shown_caller

log = get_logger(__name__)

P = ParamSpec("P")

TRANSCRIPT_LINES = 200  # lines kept per live call (a late subscriber's snapshot)
SUBSCRIBER_EVENTS = 512  # events a subscriber may have unread before it misses them


class LiveState(StrEnum):
    """Where a call is, in the words of the front desk."""

    CONNECTING = "connecting"  # arrived, being answered and connected to the agent
    WITH_AGENT = "with_agent"
    ON_HOLD = "on_hold"
    TRANSFERRING = "transferring"
    WITH_STAFF = "with_staff"  # a member of staff took the call over


class Activity(StrEnum):
    """What the agent is doing on a call."""

    LISTENING = "listening"
    SPEAKING = "speaking"
    TOOL = "tool"  # running one of its tools (LiveCall.tool names it)


_STATES = {
    CallState.RINGING: LiveState.CONNECTING,
    CallState.ANSWERED: LiveState.CONNECTING,
    CallState.TALKING: LiveState.WITH_AGENT,
    CallState.ON_HOLD: LiveState.ON_HOLD,
    CallState.TRANSFERRING: LiveState.TRANSFERRING,
}


@dataclass(frozen=True)
class LiveCall:
    id: uuid.UUID
    property_id: str
    caller: str  # masked: +*******4567, or "withheld"
    language: str
    mode: str  # agent, callback, echo
    started_at: dt.datetime
    state: LiveState = LiveState.CONNECTING
    activity: Activity | None = None
    tool: str | None = None  # the tool running, when activity is TOOL
    staff: str | None = None  # the extension that took the call over
    listeners: tuple[str, ...] = ()  # extensions listening in


@dataclass(frozen=True)
class CallStarted:
    call: LiveCall
    type: Literal["call_started"] = "call_started"


@dataclass(frozen=True)
class CallChanged:
    call: LiveCall
    type: Literal["call_changed"] = "call_changed"


@dataclass(frozen=True)
class CallEnded:
    call_id: uuid.UUID
    property_id: str
    reason: str
    outcome: Outcome | None
    type: Literal["call_ended"] = "call_ended"


@dataclass(frozen=True)
class TranscriptLine:
    """One line said (or keyed) on a call. A line sent again with the same `seq` replaces
    the earlier one (its numbers masked once they turned out to be card details)."""

    call_id: uuid.UUID
    seq: int
    speaker: TurnRole
    text: str
    at: dt.datetime
    type: Literal["transcript"] = "transcript"


@dataclass(frozen=True)
class Missed:
    """Not about a call: this subscriber fell behind and `count` events were dropped for it;
    it should take a fresh snapshot."""

    count: int
    type: Literal["missed"] = "missed"


LiveEvent = CallStarted | CallChanged | CallEnded | TranscriptLine
FeedItem = LiveEvent | Missed


def _never_raises(method: Callable[P, None]) -> Callable[P, None]:
    """The call path's hooks: a bug here is logged, never felt by the call."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception:
            log.exception("live calls feed failed", hook=method.__name__)

    return guarded


class Subscription:
    """One subscriber's bounded queue of events (only its property's, when it has one)."""

    def __init__(self, capacity: int, property_id: str | None) -> None:
        self.property_id = property_id
        self._queue: asyncio.Queue[FeedItem] = asyncio.Queue(maxsize=capacity)
        self.missed = 0  # events dropped for this subscriber, in all

    def wants(self, property_id: str) -> bool:
        return self.property_id is None or self.property_id == property_id

    def offer(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
            return
        except asyncio.QueueFull:
            pass
        # Behind: what it has not read is dropped (it takes a fresh snapshot instead), and the
        # marker says so. Clearing the queue makes room for the marker and the event.
        dropped = events = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, Missed):  # an earlier marker, unread: one marker for both
                dropped += item.count
            else:
                dropped += 1
                events += 1
        self.missed += events
        self._queue.put_nowait(Missed(dropped))
        self._queue.put_nowait(event)

    async def next(self) -> FeedItem:
        return await self._queue.get()

    def pending(self) -> int:
        return self._queue.qsize()


@dataclass
class _Call:
    call: LiveCall
    lines: collections.deque[TranscriptLine] = field(
        default_factory=lambda: collections.deque(maxlen=TRANSCRIPT_LINES)
    )
    seq: int = 0


@dataclass(frozen=True)
class Snapshot:
    calls: list[LiveCall]
    transcripts: dict[uuid.UUID, list[TranscriptLine]]


class LiveCalls:
    """The registry of live calls and their feed (one per process)."""

    def __init__(
        self,
        *,
        subscriber_events: int = SUBSCRIBER_EVENTS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._calls: dict[uuid.UUID, _Call] = {}
        self._subscribers: set[Subscription] = set()
        self._capacity = subscriber_events
        self._clock = clock

    # --- what the console reads -----------------------------------------------------------
    def get(self, call_id: uuid.UUID) -> LiveCall | None:
        live = self._calls.get(call_id)
        return live.call if live is not None else None

    def snapshot(self, property_id: str | None = None) -> Snapshot:
        calls = [c for c in self._calls.values() if property_id in (None, c.call.property_id)]
        calls.sort(key=lambda c: c.call.started_at)
        return Snapshot([c.call for c in calls], {c.call.id: list(c.lines) for c in calls})

    @contextlib.contextmanager
    def subscribe(
        self, property_id: str | None = None, capacity: int | None = None
    ) -> Iterator[Subscription]:
        """Events from now on (a snapshot taken right after subscribing, with no await in
        between, misses nothing); only one property's when `property_id` is given."""
        subscription = Subscription(capacity or self._capacity, property_id)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    # --- what the call path reports (never raises) ----------------------------------------------
    @_never_raises
    def started(self, new: NewCall, at: dt.datetime) -> None:
        assert new.id is not None  # the call path names its calls before they are stored
        call = LiveCall(
            id=new.id,
            property_id=new.property_id,
            caller=shown_caller(new.caller_e164),
            language=new.language or "en",
            mode=new.mode,
            started_at=at,
        )
        self._calls[new.id] = _Call(call)
        self._publish(CallStarted(call), call.property_id)

    @_never_raises
    def moved(self, call_id: uuid.UUID, state: CallState) -> None:
        live = self._calls.get(call_id)
        if live is None or state not in _STATES or live.call.state is LiveState.WITH_STAFF:
            return
        self._change(live, state=_STATES[state])

    @_never_raises
    def activity(self, call_id: uuid.UUID, activity: Activity, tool: str | None = None) -> None:
        live = self._calls.get(call_id)
        if live is None or live.call.state is LiveState.WITH_STAFF:
            return
        self._change(live, activity=activity, tool=tool if activity is Activity.TOOL else None)

    @_never_raises
    def language(self, call_id: uuid.UUID, language: str) -> None:
        live = self._calls.get(call_id)
        if live is not None:
            self._change(live, language=language)

    @_never_raises
    def taken_over(self, call_id: uuid.UUID, extension: str) -> None:
        live = self._calls.get(call_id)
        if live is not None:
            self._change(
                live,
                state=LiveState.WITH_STAFF,
                staff=extension,
                activity=None,
                tool=None,
                listeners=tuple(x for x in live.call.listeners if x != extension),
            )

    @_never_raises
    def listening(self, call_id: uuid.UUID, extension: str, on: bool) -> None:
        live = self._calls.get(call_id)
        if live is None:
            return
        others = tuple(x for x in live.call.listeners if x != extension)
        self._change(live, listeners=(*others, extension) if on else others)

    @_never_raises
    def line(self, call_id: uuid.UUID, speaker: TurnRole, text: str) -> None:
        live = self._calls.get(call_id)
        if live is None or not text:
            return
        line = TranscriptLine(call_id, live.seq, speaker, redact_card_data(text), self._clock())
        live.seq += 1
        live.lines.append(line)
        self._publish(line, live.call.property_id)

    @_never_raises
    def mask_recent(self, call_id: uuid.UUID, seconds: float) -> None:
        """The caller's lines of the last `seconds` were card details read in groups: masked
        now, and sent again (same seq) so that screens replace them."""
        live = self._calls.get(call_id)
        if live is None:
            return
        since = self._clock() - dt.timedelta(seconds=seconds)
        for index, line in enumerate(live.lines):
            if line.speaker not in (TurnRole.CALLER, TurnRole.DTMF) or line.at < since:
                continue
            masked = redact_card_data(line.text, card_context=True)
            if masked != line.text:
                live.lines[index] = replace(line, text=masked)
                self._publish(live.lines[index], live.call.property_id)

    @_never_raises
    def ended(self, call_id: uuid.UUID, reason: str, outcome: Outcome | None) -> None:
        live = self._calls.pop(call_id, None)
        if live is not None:
            self._publish(
                CallEnded(call_id, live.call.property_id, reason, outcome), live.call.property_id
            )

    # --- inside ----------------------------------------------------------------------------------
    def _change(self, live: _Call, **changes: object) -> None:
        changed = replace(live.call, **changes)  # type: ignore[arg-type]
        if changed != live.call:
            live.call = changed
            self._publish(CallChanged(changed), changed.property_id)

    def _publish(self, event: LiveEvent, property_id: str) -> None:
        for subscription in list(self._subscribers):
            if subscription.wants(property_id):
                subscription.offer(event)
