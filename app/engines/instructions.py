"""The agent's instructions for OpenAI Realtime, from hotel.yaml: who it is, what it knows,
and how this caller reached it (the phone menu's path and language)."""

from __future__ import annotations

import datetime as dt

from app.calls.arrival import Why
from app.calls.engine_port import CallContext
from app.calls.languages import base_language, language_name
from app.hotel.config import PropertyConfig


def build_instructions(
    prop: PropertyConfig, context: CallContext, now: dt.datetime | None = None
) -> str:
    local = (now or dt.datetime.now(dt.UTC)).astimezone(prop.zone)
    caller = context.caller
    rooms = "\n".join(
        f"- {r.name}: {r.description} Up to {r.max_occupancy} guests. From {r.base_rate} {prop.currency} a night."
        for r in prop.room_types
    )
    faq = "\n".join(f"- {f.question} {f.answer}" for f in prop.faq)
    departments = ", ".join(f"{key} ({d.name})" for key, d in prop.departments.items())
    return f"""{prop.agent.persona}

You answer the phone for {prop.name}, {prop.address.street}, {prop.address.city}.
Today is {local:%A %d %B %Y}, {local:%H:%M} local time. The caller's number: {caller or "withheld"}.
{how_they_came(prop, context)}Speak briefly, one question at a time; say prices and dates the way people say them.
Never guess prices or availability: use check_availability, and read out its summary.
Book with create_reservation only after the caller chose a room and gave their name; read the
confirmation code back character by character. A caller not ready to book: offer create_lead
(with their consent). Payment: generate_payment_link texts a secure link; never take a card
number by voice, and stop a caller who starts reading one. A caller who wants us to ring them
later: schedule_callback. Facts you are unsure of: get_hotel_info. When a tool returns an
error, say its message in your own words and ask again for what is missing.
If you cannot help, or the caller asks for a person, use transfer_call. When the caller is done,
say goodbye and use end_call.

Check-in from {prop.check_in_time:%H:%M}, check-out by {prop.check_out_time:%H:%M}.
Policies: cancellation: {prop.policies.cancellation} Pets: {prop.policies.pets}
Parking: {prop.policies.parking} Deposit: {prop.policies.deposit} Smoking: {prop.policies.smoking}
Amenities: {", ".join(prop.amenities)}.
Rooms:
{rooms}
Departments you can transfer to: {departments}.
Questions guests ask:
{faq}
"""


def how_they_came(prop: PropertyConfig, context: CallContext) -> str:
    """A line or two on the caller's way here, from the dialplan's Stasis arguments
    (dialplan/extensions.conf [frontdesk-ai], [frontdesk-departments]; dialplan/hotel.conf),
    and the language to speak."""
    arrival = context.arrival
    why = arrival.why
    # the department the dialplan rang (closed, unanswered)
    rung = prop.department_at(arrival.destination) if arrival.destination else None
    where = rung.name if rung is not None else "a department"
    lines: list[str] = []
    if why is Why.AFTER_HOURS:
        lines.append(
            "The caller rang outside business hours: nobody is at the front desk. Help them "
            "yourself, take their details (create_lead) or arrange a call back."
        )
    elif why is Why.MENU:
        lines.append("The caller chose to speak to you in the phone menu.")
    elif why is Why.DEPARTMENT and arrival.department_key:
        department = prop.departments.get(arrival.department_key)
        name = department.name if department else arrival.department_key
        lines.append(f"The caller chose {name} in the phone menu; you handle it first.")
    elif why is Why.CALLBACK_KEY:
        lines.append(
            "The caller pressed the call-back key in the phone menu: ask for the number, a time "
            "that suits and what it is about, then use schedule_callback."
        )
    elif why is Why.UNANSWERED:
        lines.append(
            f"The caller was put through to {where}, but nobody answered. Offer a call back "
            "(schedule_callback) or help them yourself; do not transfer them there again."
        )
    elif why is Why.CLOSED:
        lines.append(
            f"The caller chose {where} in the phone menu, which is closed now. Help them "
            "yourself, take a message or arrange a call back for when it opens."
        )
    if base_language(context.language) != "en":
        # the call's language: the phone menu's choice, or what the caller was heard speaking
        language = language_name(context.language)
        lines.append(
            f"Speak {language} with this caller, from your first words: it is the language of "
            "their call. Keep tool arguments (names, dates, room types) as the tools expect."
        )
    else:
        lines.append("If the caller speaks to you in another language, carry on in theirs.")
    return "\n".join(lines) + "\n"
