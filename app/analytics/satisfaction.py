"""A call's satisfaction score, 1 … 5, written at hang-up into calls.satisfaction: what the
caller would likely answer if asked, estimated from how the call went — and what they did
answer, when they pressed a key in the end-of-call survey.

The formula (a pure function, so a manager can check any call's figure by hand):

    survey given (1 … 5)  → that answer, exactly; nothing else counts
    otherwise             → clamp(1, 5, base[outcome] + sentiment − friction),
                            to 0.1 (halves up: 4.25 → 4.3)

    base[outcome]   booked 4.5 · lead, callback, info 4.0 · transferred, taken over, other
                    or unknown 3.5 (the caller needed a person: an escalation) ·
                    abandoned 2.5 · failed 1.5
    sentiment       the call's mean caller sentiment (−1 … 1, app/analytics/sentiment.py),
                    0 when not scored (a Spanish call is judged on the rest alone)
    friction        0.25 per agent turn the caller cut off (at most 0.75)
                  + 0.25 per time the caller was asked whether they were still there or
                    offered a person for their silence (at most 0.5)
                  + 0.5 per error (a tool that failed, a call ended by a fault; at most 1.0)

What it cannot see: a question the engine asked twice (the engine's dialog keeps that to
itself), tone of voice, and anything said in a language the sentiment model does not read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.calls.records import Outcome

LOWEST, HIGHEST = 1.0, 5.0
NO_OUTCOME = 3.5

BASE: dict[Outcome, float] = {
    Outcome.BOOKED: 4.5,
    Outcome.LEAD: 4.0,
    Outcome.CALLBACK: 4.0,
    Outcome.INFO: 4.0,
    Outcome.TRANSFERRED: 3.5,
    Outcome.TAKEN_OVER: 3.5,
    Outcome.OTHER: 3.5,
    Outcome.ABANDONED: 2.5,
    Outcome.FAILED: 1.5,
}

PER_INTERRUPTION, MAX_INTERRUPTIONS = 0.25, 0.75
PER_SILENCE_PROMPT, MAX_SILENCE_PROMPTS = 0.25, 0.5
PER_ERROR, MAX_ERRORS = 0.5, 1.0

# end reasons that are the system's fault, not the caller's choice (app/calls/summary.py)
FAULT_REASONS = frozenset(
    {"error", "failed", "setup_failed", "media_lost", "shutdown", "lost_while_disconnected"}
)


@dataclass(frozen=True)
class Friction:
    """What went wrong along a call, as counted by the call log."""

    interruptions: int = 0  # agent turns the caller cut off
    silence_prompts: int = 0  # "are you still there?" and the offer that follows
    errors: int = 0  # failed tools and a fault at the end

    def penalty(self) -> float:
        return (
            min(self.interruptions * PER_INTERRUPTION, MAX_INTERRUPTIONS)
            + min(self.silence_prompts * PER_SILENCE_PROMPT, MAX_SILENCE_PROMPTS)
            + min(self.errors * PER_ERROR, MAX_ERRORS)
        )


class InvalidSurveyScore(ValueError):
    """A keypad survey answer outside 1 … 5 reached the score (the caller of this must drop it)."""


def satisfaction(
    sentiment: float | None,
    outcome: Outcome | None,
    friction: Friction,
    survey: int | None = None,
) -> float:
    """The call's satisfaction, 1 … 5 (see the module's docstring for the formula)."""
    if survey is not None:
        if not 1 <= survey <= 5:
            raise InvalidSurveyScore(f"survey score {survey} is not 1 to 5")
        return float(survey)
    base = NO_OUTCOME if outcome is None else BASE[outcome]
    mood = 0.0 if sentiment is None else max(-1.0, min(1.0, sentiment))
    score = base + mood - friction.penalty()
    clamped = max(LOWEST, min(HIGHEST, score))
    return math.floor(clamped * 10 + 0.5 + 1e-9) / 10  # halves up, as by hand (round() is even)
