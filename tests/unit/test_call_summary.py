"""The summary written at hang-up: what was asked, what was done, where it went, how it ended."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.calls.records import Outcome, TurnRole
from app.calls.summary import MAX_SUMMARY, CallNotes, summarise
from app.hotel.tools.registry import ToolInvocation


def _ran(name: str, args: dict[str, Any], result: dict[str, Any], status: str = "ok") -> Any:
    return ToolInvocation(
        uuid.uuid4(),
        name,
        args,
        result,
        status,
        None,
        dt.datetime.now(dt.UTC),
        12,  # type: ignore[arg-type]
    )


def test_a_booking_call_says_what_was_asked_booked_and_how_it_ended() -> None:
    notes = CallNotes()
    notes.turn(TurnRole.AGENT, "Harborview Hotel, this is Ava.")
    notes.turn(TurnRole.CALLER, "I need a room for two nights from Friday.")
    notes.turn(TurnRole.CALLER, "The king, please.")
    notes.tool(
        _ran("check_availability", {}, {"check_in": "2026-12-04", "check_out": "2026-12-06"})
    )
    notes.tool(
        _ran(
            "create_reservation",
            {"guest_name": "Ann Lee"},
            {
                "confirmation_code": "HV7K2P",
                "room_type": "KING",
                "check_in": "2026-12-04",
                "check_out": "2026-12-06",
            },
        )
    )
    text = summarise(notes, "agent_goodbye", Outcome.BOOKED)
    assert text == (
        "Asked: “I need a room for two nights from Friday.” "
        "Quoted Fri 4 Dec to Sun 6 Dec. "
        "Booked KING, Fri 4 Dec to Sun 6 Dec (confirmation HV7K2P). "
        "Outcome: booked. Ended: the agent said goodbye."
    )


def test_a_transfer_carries_the_agents_note_for_staff() -> None:
    notes = CallNotes()
    notes.turn(TurnRole.CALLER, "Can I talk to someone about a wedding?")
    notes.tool(
        _ran(
            "transfer_call",
            {"department": "events", "mode": "warm", "summary": "A wedding for 80 in June."},
            {},
        )
    )
    text = summarise(notes, "transferred", Outcome.TRANSFERRED, "frontdesk-departments,3400")
    assert "Put through to events: A wedding for 80 in June." in text
    assert "3400" not in text  # said once, by the agent's note
    assert text.endswith("Outcome: transferred. Ended: put through.")


def test_a_failed_tool_is_not_reported_as_done() -> None:
    notes = CallNotes()
    notes.tool(_ran("create_reservation", {}, {"confirmation_code": "X"}, status="error"))
    assert "Booked" not in summarise(notes, "caller_hangup", None)


def test_a_taken_over_call_names_the_extension() -> None:
    notes = CallNotes(taken_over_by="2001")
    notes.turn(TurnRole.CALLER, "I'm very unhappy with my room.")
    text = summarise(notes, "staff_hangup", Outcome.TAKEN_OVER)
    assert "Taken over by staff at extension 2001." in text
    assert text.endswith("Outcome: taken over. Ended: the member of staff hung up.")


def test_a_callback_says_when() -> None:
    notes = CallNotes()
    notes.tool(_ran("schedule_callback", {}, {"due_at": "2026-12-05T10:30:00-08:00"}))
    assert summarise(notes, "agent_goodbye", Outcome.CALLBACK).startswith(
        "Arranged a call back (Sat 5 Dec 10:30)."
    )


def test_a_silent_call_still_gets_a_summary() -> None:
    assert summarise(CallNotes(), "rtp_timeout", None) == "Ended: no audio from the caller."
    keyed = CallNotes()
    keyed.turn(TurnRole.DTMF, "1 2")
    assert summarise(keyed, "some_new_reason", None) == "Keyed in digits. Ended: some new reason."


def test_the_summary_is_short_and_carries_no_card_number() -> None:
    notes = CallNotes()
    notes.turn(TurnRole.CALLER, "card 4111 1111 1111 1111 " + "and more words " * 40)
    for n in range(30):
        notes.tool(_ran("get_hotel_info", {"topic": f"topic {n} " * 5}, {}))
    text = summarise(notes, "caller_hangup", Outcome.INFO)
    assert len(text) <= MAX_SUMMARY
    assert "4111 1111 1111 1111" not in text
