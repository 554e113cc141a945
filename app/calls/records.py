"""What is kept about a call: the call itself and its turns, as the rest of the code sees them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    TALKING = "talking"
    ON_HOLD = "on_hold"
    TRANSFERRING = "transferring"
    ENDED = "ended"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class TurnRole(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"
    DTMF = "dtmf"


class Outcome(StrEnum):
    BOOKED = "booked"
    LEAD = "lead"
    TRANSFERRED = "transferred"
    CALLBACK = "callback"
    INFO = "info"
    ABANDONED = "abandoned"
    FAILED = "failed"
    OTHER = "other"
    TAKEN_OVER = "taken_over"  # a member of staff took the call over from the agent


@dataclass(frozen=True)
class NewCall:
    property_id: str
    direction: Direction
    id: uuid.UUID | None = None  # given when the call must exist before the database hears of it
    channel_id: str | None = None
    caller_e164: str | None = None
    caller_name: str | None = None
    dialled_e164: str | None = None
    mode: str = "agent"
    engine: str | None = None
    language: str | None = None
    ivr_path: tuple[str, ...] = ()
    after_hours: bool | None = None  # outside the property's staffed hours (None: not known)
    ivr_wait_ms: int | None = None  # the dialplan's answer → this call reaching the app


@dataclass(frozen=True)
class Turn:
    seq: int
    role: TurnRole
    text: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    language: str | None = None
    latency_ms: int | None = None
    interrupted: bool = False
    sentiment: float | None = None  # a caller turn's, scored at hang-up; None = not scored


@dataclass(frozen=True)
class CallRecord:
    id: uuid.UUID
    property_id: str
    direction: Direction
    state: CallState
    started_at: dt.datetime
    channel_id: str | None = None
    caller_e164: str | None = None
    caller_name: str | None = None
    dialled_e164: str | None = None
    mode: str = "agent"
    engine: str | None = None
    language: str | None = None
    ivr_path: tuple[str, ...] = ()
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    outcome: Outcome | None = None
    summary: str | None = None
    sentiment: float | None = None
    transferred_to: str | None = None
    # for the managers' analytics (migration 0005)
    satisfaction: float | None = None  # 1 … 5, estimated at hang-up or the survey's answer
    survey_score: int | None = None  # the caller's keypad answer, 1 … 5
    after_hours: bool | None = None  # the call came outside the front desk's hours
    ivr_wait_ms: int | None = None  # answer in the dialplan → the agent or a person
    queue_wait_ms: int | None = None
    turn_count: int = 0
    turns: tuple[Turn, ...] = field(default=())

    @property
    def duration(self) -> dt.timedelta | None:
        return None if self.ended_at is None else self.ended_at - self.started_at
