"""What the analytics read from storage, beyond one call's figures (app/analytics/metrics.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from app.analytics.metrics import CallFacts


class RecordingUnavailable(Exception):
    """A recording exists but cannot be read back now (storage, key); the message says why."""


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    id: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: dt.date
    calls: int
    automated: int
    booked: int
    transferred: int
    abandoned: int
    avg_duration_s: float | None
    satisfaction: float | None
    sentiment: float | None
    after_hours_bookings: int


@dataclass(frozen=True, slots=True)
class CallFilter:
    outcome: str | None = None
    language: str | None = None
    sentiment: str | None = None
    limit: int | None = 50  # None: every call (exports)
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TurnFacts:
    call_id: uuid.UUID
    property_id: str
    seq: int
    role: str
    text: str
    language: str | None
    started_at: dt.datetime
    latency_ms: int | None
    interrupted: bool
    sentiment: float | None


@dataclass(frozen=True, slots=True)
class ToolUse:
    name: str
    status: str
    started_at: dt.datetime
    duration_ms: int
    error_message: str | None


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    id: uuid.UUID
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class CallDetailFacts:
    facts: CallFacts
    ivr_path: tuple[str, ...]
    turns: tuple[TurnFacts, ...]
    tool_invocations: tuple[ToolUse, ...]
    recording: RecordingInfo | None


@dataclass(frozen=True, slots=True)
class ToolCount:
    name: str
    uses: int
    errors: int
