"""What a conversation engine says to the calls orchestrator, in the domain's own words.

Adapters (the Realtime client for OpenAI and for our offline engine) translate their protocol
into these; the orchestrator never sees a WebSocket or an SDK type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from app.calls.arrival import PLAIN, Arrival
from app.calls.records import TurnRole


@dataclass(frozen=True)
class SpeechStarted:
    """The engine's VAD heard the caller start talking (barge-in candidate)."""


@dataclass(frozen=True)
class SpeechStopped:
    """End of the caller's utterance: the turn-latency clock starts here."""


@dataclass(frozen=True)
class CallerTranscript:
    text: str
    language: str | None = None


@dataclass(frozen=True)
class CallerPartial:
    """More of what the caller is saying, while they are still talking (streaming STT)."""

    delta: str


@dataclass(frozen=True)
class AgentAudio:
    response_id: str
    item_id: str
    ulaw: bytes  # 8 kHz μ-law, any length


@dataclass(frozen=True)
class AgentTranscript:
    response_id: str
    item_id: str
    text: str


@dataclass(frozen=True)
class FunctionCall:
    response_id: str
    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseDone:
    response_id: str
    status: str  # completed | cancelled | incomplete | failed


@dataclass(frozen=True)
class EngineGone:
    """The engine's connection is lost or it reported a fatal error."""

    reason: str


EngineEvent = (
    SpeechStarted
    | SpeechStopped
    | CallerTranscript
    | CallerPartial
    | AgentAudio
    | AgentTranscript
    | FunctionCall
    | ResponseDone
    | EngineGone
)


class EngineError(Exception):
    """The engine cannot be reached or refused us; `retryable` says whether trying again helps."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class EngineCapabilities:
    """What an engine can do beyond the protocol both share; the orchestrator asks, never
    guesses from the engine's name."""

    languages: frozenset[str] | None = None  # the languages it converses in; None: any
    free_instructions: bool = True  # follows free-form instructions, not only scripted lines

    def speaks(self, language: str) -> bool:
        return self.languages is None or language in self.languages


class EngineSession(Protocol):
    capabilities: EngineCapabilities

    async def next_event(self) -> EngineEvent: ...

    def append_audio(self, ulaw: bytes) -> None: ...

    def respond(self, instructions: str | None = None) -> None: ...

    def say(self, text: str) -> None:
        """Have the agent speak these words as they are (greeting, scripted prompts)."""
        ...

    def user_text(self, text: str) -> None: ...

    def add_history(self, role: TurnRole, text: str) -> None:
        """Replay an earlier turn into a new session (after a reconnect); no response follows."""
        ...

    def add_tool_history(
        self, call_id: str, name: str, arguments: dict[str, Any], output: dict[str, Any]
    ) -> None:
        """Replay an earlier function call and its output (after a reconnect); no response
        follows."""
        ...

    def cancel_response(self) -> None: ...

    def truncate(self, item_id: str, audio_end_ms: int) -> None: ...

    def function_output(self, call_id: str, output: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class PastTurn:
    """A turn of the conversation so far, kept to be replayed into a new engine session."""

    role: TurnRole  # CALLER (what they said or keyed, as the engine was told it) or AGENT
    text: str


@dataclass(frozen=True)
class PastToolCall:
    """A function call the agent made and what it returned, kept for replay."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    output: dict[str, Any]


@dataclass(frozen=True)
class CallContext:
    """What the engine is told about a call when its session opens."""

    property_id: str
    caller: str | None = None
    arrival: Arrival = PLAIN  # how the dialplan sent the caller
    language: str = "en"  # the channel's language: "es" when the caller chose Spanish in the menu


class EngineConnector(Protocol):
    async def open(self, context: CallContext) -> EngineSession: ...
