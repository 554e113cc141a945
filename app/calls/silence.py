"""Silence on the line: what a receptionist does when the caller says nothing.

Once the agent has had its say (all its audio played to the caller) and the caller stays
silent: "are you still there?"; after a second silence, the front desk or a call back
offered; after a third, goodbye, and the call is hung up. Never while the caller is talking,
or is owed a reply (the engine thinking about what they said or keyed, a tool's result to be
worded), or the agent's audio is still playing. Hold and transfers need no rule of their own:
the agent runs them without looking at the watch. Words from the caller, or a key, start the
count over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.media.clock import Clock, LoopClock

END_REASON = "caller_silent"  # calls.end_reason of a call hung up for silence


class Step(StrEnum):
    REPROMPT = "reprompt"
    OFFER = "offer"
    GOODBYE = "goodbye"
    HANG_UP = "hang_up"


_STEPS = tuple(Step)  # in the order they come

# What the agent says at each step, by language. 0 is the operator key in every menu
# (hotel.yaml, departments): it reaches the front desk from the agent too.
WORDS: dict[str, dict[Step, str]] = {
    "en": {
        Step.REPROMPT: "Are you still there? How can I help you?",
        Step.OFFER: (
            "I'm sorry, I can't hear you. To speak to someone, press 0 or ask for the front "
            "desk, or ask me to have someone call you back. Otherwise I'll end the call."
        ),
        Step.GOODBYE: (
            "I still can't hear you, so I'll end the call now. Please call us again any time. "
            "Goodbye."
        ),
    },
    "es": {
        Step.REPROMPT: "¿Sigue ahí? ¿En qué puedo ayudarle?",
        Step.OFFER: (
            "Lo siento, no le oigo. Para hablar con alguien, pulse 0 o pida la recepción, o "
            "pídame que le devolvamos la llamada. Si no, terminaré la llamada."
        ),
        Step.GOODBYE: (
            "Sigo sin oírle, así que terminaré la llamada. Llámenos cuando quiera. Adiós."
        ),
    },
}


def words(step: Step, language: str) -> str | None:
    """The step's words in the language ("en", "es"); None when we have none in it."""
    return WORDS.get(language, {}).get(step)


@dataclass
class SilenceWatch:
    """Counts the caller's silences; the agent tells it what happens and asks when the next
    step is due."""

    reprompt_after: float = 8.0  # seconds of silence before "are you still there?", and again
    hangup_after: float = 10.0  # seconds of silence after the offer before the goodbye
    clock: Clock = field(default_factory=LoopClock)
    said: int = 0  # steps taken since the caller was last heard
    _speaking: bool = False
    _owed: bool = False  # a reply is on its way to the caller
    _quiet_since: float | None = None

    def caller_started(self) -> None:
        """Speech started: not silent (perhaps only a cough: the count waits for words)."""
        self._speaking = True

    def caller_stopped(self) -> None:
        """Speech stopped: the engine answers it."""
        self._speaking = False
        self.reply_owed()

    def caller_said(self) -> None:
        """Words from the caller: they are there."""
        self.said = 0

    def keyed(self) -> None:
        """A key: the caller is there, and the engine answers it."""
        self.said = 0
        self.reply_owed()

    def reply_owed(self) -> None:
        """The agent is about to speak, or is speaking (a response requested or under way)."""
        self._owed = True
        self._quiet_since = None

    def replied(self) -> None:
        """The engine finished a response (its audio may still be playing)."""
        self._owed = False

    def restart(self) -> None:
        """A new engine session: nothing is owed or being said (the count stays)."""
        self._speaking = self._owed = False
        self._quiet_since = None

    def due_in(self, playing: float) -> float | None:
        """Seconds until the next step is due (≤ 0: now), with `playing` seconds of the agent's
        audio still to reach the caller; None while the caller talks or a reply is owed (the
        engine's next event changes that)."""
        if self._speaking or self._owed:
            self._quiet_since = None
            return None
        now = self.clock.now()
        if playing > 0 or self._quiet_since is None:
            self._quiet_since = now + playing  # the silence starts when the agent's audio ends
        return self._quiet_since + self._wait() - now

    def step(self) -> Step:
        """The step now due, counted."""
        step = _STEPS[min(self.said, len(_STEPS) - 1)]
        self.said += 1
        self._quiet_since = None
        return step

    def _wait(self) -> float:
        if self.said < 2:
            return self.reprompt_after
        if self.said == 2:
            return self.hangup_after
        return 0.0  # the goodbye has been heard: hang up
