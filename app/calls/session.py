"""A call's lifecycle as the domain sees it: states, the moves allowed between them, timing."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from app.calls.arrival import PLAIN, Arrival
from app.calls.card_guard import CardGuard
from app.calls.records import CallState, Outcome

# ringing → answered → talking ⇄ on_hold, talking → transferring → (talking | ended); any → ended.
# ringing → transferring: a call that fails before it is answered still goes to the front desk.
_ALLOWED: dict[CallState, set[CallState]] = {
    CallState.RINGING: {CallState.ANSWERED, CallState.TRANSFERRING, CallState.ENDED},
    CallState.ANSWERED: {CallState.TALKING, CallState.TRANSFERRING, CallState.ENDED},
    CallState.TALKING: {CallState.ON_HOLD, CallState.TRANSFERRING, CallState.ENDED},
    CallState.ON_HOLD: {CallState.TALKING, CallState.TRANSFERRING, CallState.ENDED},
    CallState.TRANSFERRING: {CallState.TALKING, CallState.ENDED},
    CallState.ENDED: set(),
}


# What a call achieved, strongest first: a booking beats a lead beats a callback…; abandoned
# (the caller went silent) only when nothing else was. A call staff took over from the agent
# is theirs: taken_over whatever the agent had done (the summary says what that was). Failed
# (our fault: no engine, a crash, media lost) beats the front desk the fault sent them to, but
# not what the caller already got (a booking made before the engine died stays booked).
_OUTCOME_RANK = [
    Outcome.TAKEN_OVER,
    Outcome.BOOKED,
    Outcome.LEAD,
    Outcome.CALLBACK,
    Outcome.FAILED,
    Outcome.TRANSFERRED,
    Outcome.INFO,
    Outcome.ABANDONED,
    Outcome.OTHER,
]


class InvalidTransition(Exception):
    """A move the call's state machine does not allow (a bug, not a caller's doing)."""


@dataclass
class CallSession:
    id: uuid.UUID
    property_id: str
    mode: str
    caller_e164: str | None = None
    dialled_e164: str | None = None
    arrival: Arrival = PLAIN  # how the call reached us (its Stasis arguments)
    language: str = "en"  # the channel's language, as the phone menu left it
    state: CallState = CallState.RINGING
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    ended_at: dt.datetime | None = None
    end_reason: str | None = None
    digits: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    history: list[CallState] = field(default_factory=lambda: [CallState.RINGING])
    cards: CardGuard = field(default_factory=CardGuard)  # is the caller giving card details?

    def achieved(self, outcome: Outcome) -> None:
        """Note what the call achieved; the strongest outcome stays (for analytics)."""
        if self.outcome is None or _OUTCOME_RANK.index(outcome) < _OUTCOME_RANK.index(self.outcome):
            self.outcome = outcome

    def move(self, state: CallState) -> bool:
        """Change state; returns False when already there. Ending twice is not an error
        (both sides may hang up at once)."""
        if state == self.state:
            return False
        if state not in _ALLOWED[self.state]:
            raise InvalidTransition(f"call {self.id}: {self.state} → {state} is not allowed")
        self.state = state
        self.history.append(state)
        return True

    def end(self, reason: str) -> bool:
        if self.state == CallState.ENDED:
            return False
        self.move(CallState.ENDED)
        self.ended_at = dt.datetime.now(dt.UTC)
        self.end_reason = reason
        return True

    @property
    def active(self) -> bool:
        return self.state != CallState.ENDED
