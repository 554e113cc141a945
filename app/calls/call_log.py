"""What a live call writes to its history, through the write-behind queue (never blocking)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol

from app.calls.records import CallRecord, CallState, NewCall, Outcome, Turn, TurnRole
from app.calls.write_behind import WriteBehind
from app.hotel.tools.registry import ToolInvocation


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


class ToolStore(Protocol):
    async def add(self, invocation: ToolInvocation) -> None: ...


class CallLog:
    def __init__(
        self, store: CallStore, writes: WriteBehind, tools: ToolStore | None = None
    ) -> None:
        self._store = store
        self._writes = writes
        self._tools = tools

    def record(self, invocation: ToolInvocation) -> None:
        """A tool ran (the registry's ToolLog): stored behind the call's other writes."""
        tools = self._tools
        if tools is not None:
            self._writes.submit(f"tool {invocation.name}", lambda: tools.add(invocation))

    def started(self, new: NewCall, at: dt.datetime) -> None:
        self._writes.submit(f"call {new.id} start", lambda: self._store.create(new, at))

    def state(self, call_id: uuid.UUID, state: CallState) -> None:
        self._writes.submit(
            f"call {call_id} {state}", lambda: self._store.set_state(call_id, state)
        )

    def ended(
        self,
        call_id: uuid.UUID,
        reason: str,
        *,
        transferred_to: str | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        self._writes.submit(
            f"call {call_id} end",
            lambda: self._store.end(
                call_id, reason, transferred_to=transferred_to, outcome=outcome
            ),
        )

    def turn(
        self,
        call_id: uuid.UUID,
        role: TurnRole,
        text: str,
        *,
        latency_ms: int | None = None,
        language: str | None = None,
    ) -> None:
        self._writes.submit(
            f"call {call_id} turn",
            lambda: self._store.add_turn(
                call_id, role, text, latency_ms=latency_ms, language=language
            ),
        )

    def mask_turns(self, call_id: uuid.UUID, seconds: float) -> None:
        """The caller's turns of the last `seconds` turned out to be card details (read in
        groups): stored again with every number masked, behind the writes of those turns."""
        self._writes.submit(
            f"call {call_id} mask turns", lambda: self._store.mask_turns(call_id, seconds)
        )
