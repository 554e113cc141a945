"""A call's summary, written at hang-up into calls.summary: what the caller asked, what was
done for them (booked, quoted, texted, arranged), where the call went and how it ended.

Built from what the call log saw go by (the caller's turns, the tools that ran); short
enough to read at a glance in the console's recent calls. Card data never reaches it (the
turns and tool arguments it is built from are already redacted, and it is redacted again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.calls.records import Outcome, TurnRole
from app.hotel.tools.registry import ToolInvocation
from app.redaction import redact_card_data

MAX_ASKED = 160  # characters of the caller's first words
MAX_SUMMARY = 600

_REASONS = {
    "caller_hangup": "the caller hung up",
    "agent_goodbye": "the agent said goodbye",
    "transferred": "put through",
    "rtp_timeout": "no audio from the caller",
    "max_duration": "the call reached its time limit",
    "setup_failed": "the call could not be set up",
    "media_lost": "the call's audio was lost",
    "error": "a fault (the caller went to the front desk)",
    "shutdown": "the service was restarting (the caller went to the front desk)",
    "lost_while_disconnected": "the call was lost while the service was disconnected",
    "staff_hangup": "the member of staff hung up",
    "hung_up_from_console": "hung up from the console",
    "caller_silent": "the caller stayed silent",
    "failed": "a fault",
}


@dataclass
class CallNotes:
    """What one call did, as it goes by."""

    asked: str | None = None  # the caller's first words
    done: list[str] = field(default_factory=list)  # what the agent did for them, in order
    keyed: bool = False
    taken_over_by: str | None = None  # the extension that took the call over
    # friction, for the satisfaction score (app/analytics/satisfaction.py)
    interruptions: int = 0
    silence_prompts: int = 0
    errors: int = 0

    def turn(self, role: TurnRole, text: str) -> None:
        if role is TurnRole.CALLER and self.asked is None and text.strip():
            words = text.strip()
            if len(words) > MAX_ASKED:
                words = words[: MAX_ASKED - 1].rstrip() + "…"
            self.asked = words
        elif role is TurnRole.DTMF:
            self.keyed = True

    def tool(self, invocation: ToolInvocation) -> None:
        if invocation.status == "error":
            self.errors += 1
        if invocation.status != "ok":
            return
        said = _tool_words(invocation.name, invocation.arguments, invocation.result or {})
        if said and said not in self.done:
            self.done.append(said)


def _day(value: object) -> str:
    """An ISO date as words (Fri 4 Dec): a run of digits would read as a card number."""
    try:
        return f"{dt.date.fromisoformat(str(value)[:10]):%a %-d %b}"
    except ValueError:
        return "?"


def _stay(result: dict[str, Any]) -> str:
    return f"{_day(result.get('check_in'))} to {_day(result.get('check_out'))}"


def _tool_words(name: str, args: dict[str, Any], result: dict[str, Any]) -> str | None:
    if name == "create_reservation":
        code = result.get("confirmation_code", "")
        room = result.get("room_type", "a room")
        return f"Booked {room}, {_stay(result)} (confirmation {code})"
    if name == "check_availability":
        return f"Quoted {_stay(result)}"
    if name == "create_lead":
        return f"Noted their interest for the sales team: {args.get('interest', '')}".strip()
    if name == "schedule_callback":
        due = str(result.get("due_at", ""))
        try:
            when = f"{dt.datetime.fromisoformat(due):%a %-d %b %H:%M}"
        except ValueError:
            when = "?"
        return f"Arranged a call back ({when})"
    if name == "generate_payment_link":
        return f"Texted a payment link ({result.get('amount', '')})"
    if name == "get_hotel_info":
        return f"Answered about {args.get('topic', 'the hotel')}"
    if name == "transfer_call":
        about = str(args.get("summary", "")).strip()
        where = str(args.get("department", "")).replace("_", " ")
        return f"Put through to {where}" + (f": {about}" if about else "")
    if name == "hold_call":
        return "Put them on hold"
    return None  # end_call and the like say nothing worth reading


def summarise(
    notes: CallNotes,
    reason: str,
    outcome: Outcome | None,
    transferred_to: str | None = None,
) -> str:
    """One short paragraph for calls.summary."""
    parts: list[str] = []
    if notes.asked:
        parts.append(f"Asked: “{notes.asked}”")
    elif notes.keyed:
        parts.append("Keyed in digits.")
    parts.extend(f"{done}." for done in notes.done)
    if notes.taken_over_by:
        parts.append(f"Taken over by staff at extension {notes.taken_over_by}.")
    if transferred_to and not any(d.startswith("Put through") for d in notes.done):
        parts.append(f"Put through to {transferred_to.split(',')[-1]}.")
    if outcome is not None:
        parts.append(f"Outcome: {outcome.value.replace('_', ' ')}.")
    parts.append(f"Ended: {_REASONS.get(reason, reason.replace('_', ' '))}.")
    text = redact_card_data(" ".join(parts))
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"
