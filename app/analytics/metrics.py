"""One call's figures and the rules that classify it (automated, converted, sentiment bucket).

The rules live here; the SQL in app/storage/analytics_repo.py takes their sets as parameters
(HUMAN_OUTCOMES, STAY_TOOLS) so the aggregates and the per-call rows say the same thing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import phonenumbers

from app.analytics.period import QueryError

OUTCOMES = (
    "booked",
    "lead",
    "transferred",
    "taken_over",
    "callback",
    "info",
    "abandoned",
    "failed",
    "other",
)
LANGUAGES = ("en", "es")
SENTIMENTS = ("positive", "neutral", "negative", "unscored")
SENTIMENT_EDGE = 0.05  # VADER's usual cut: |compound| < 0.05 is neutral

# A person took part: the call was put through to staff, or staff took it over.
HUMAN_OUTCOMES = ("transferred", "taken_over")
# A caller "asked about a stay" when the agent looked for rooms, booked, or took a lead:
# the denominator of booking conversion.
STAY_TOOLS = ("check_availability", "create_reservation", "create_lead")
STAY_OUTCOMES = ("booked", "lead")
CONVERTED_OUTCOMES = ("booked",)  # a lead is not a booking: counted apart, never converted


def automated(outcome: str | None, transferred_to: str | None) -> bool:
    """No human: neither transferred nor taken over (outcome or a transfer target)."""
    return outcome not in HUMAN_OUTCOMES and transferred_to is None


def converted(outcome: str | None) -> bool:
    return outcome in CONVERTED_OUTCOMES


def sentiment_bucket(score: float | None) -> str:
    if score is None:
        return "unscored"
    if score >= SENTIMENT_EDGE:
        return "positive"
    if score <= -SENTIMENT_EDGE:
        return "negative"
    return "neutral"


def mask_caller(e164: str | None) -> str | None:
    """+1•••••0123: the country code and the last four digits, never the whole number."""
    if not e164:
        return None
    digits = "".join(ch for ch in e164 if ch.isdigit())
    try:
        code = str(phonenumbers.parse(e164, None).country_code)
    except phonenumbers.NumberParseException:
        code = ""
    if not digits.startswith(code) or len(digits) - len(code) <= 4:
        code = ""
    hidden = len(digits) - len(code) - 4
    return f"+{code}{'•' * max(hidden, 1)}{digits[-4:]}"


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the database says about one call (app/storage/analytics_repo.py)."""

    id: uuid.UUID
    property_id: str
    started_at: dt.datetime
    duration_s: float | None
    caller_e164: str | None
    direction: str
    language: str | None
    outcome: str | None
    transferred_to: str | None
    after_hours: bool | None
    turns: int
    interruptions: int
    tools: tuple[str, ...]
    tool_errors: int
    sentiment: float | None
    satisfaction: float | None
    survey_score: int | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ivr_wait_ms: int | None
    queue_wait_ms: int | None
    summary: str | None


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """One call as the API, the exports and the dashboard show it."""

    id: uuid.UUID
    property_id: str
    started_at: dt.datetime
    duration_s: float | None
    caller: str | None
    direction: str
    language: str | None
    outcome: str | None
    automated: bool
    converted: bool
    after_hours: bool | None
    turns: int
    interruptions: int
    tools: tuple[str, ...]
    errors: int
    sentiment: float | None
    satisfaction: float | None
    survey_score: int | None
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    ivr_wait_ms: int | None
    queue_wait_ms: int | None
    summary: str | None


def call_metrics(facts: CallFacts) -> CallMetrics:
    """Errors: the call's failed tool invocations, plus one when the call itself failed."""
    return CallMetrics(
        id=facts.id,
        property_id=facts.property_id,
        started_at=facts.started_at,
        duration_s=None if facts.duration_s is None else round(facts.duration_s, 1),
        caller=mask_caller(facts.caller_e164),
        direction=facts.direction,
        language=facts.language,
        outcome=facts.outcome,
        automated=automated(facts.outcome, facts.transferred_to),
        converted=converted(facts.outcome),
        after_hours=facts.after_hours,
        turns=facts.turns,
        interruptions=facts.interruptions,
        tools=facts.tools,
        errors=facts.tool_errors + (1 if facts.outcome == "failed" else 0),
        sentiment=facts.sentiment,
        satisfaction=facts.satisfaction,
        survey_score=facts.survey_score,
        latency_p50_ms=_ms(facts.latency_p50_ms),
        latency_p95_ms=_ms(facts.latency_p95_ms),
        ivr_wait_ms=facts.ivr_wait_ms,
        queue_wait_ms=facts.queue_wait_ms,
        summary=facts.summary,
    )


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def check_filter(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise QueryError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value
