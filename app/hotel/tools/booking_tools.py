"""Availability and quotes, reservations and leads: the tools that sell rooms.

Each tool checks what the caller asked for (past dates, check-out before check-in, too many
guests, unknown room type) before touching storage, so a bad request writes nothing, and
answers with a `summary` written to be read aloud.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.hotel.booking import (
    MAX_NIGHTS,
    BookingStore,
    Guest,
    Lead,
    Option,
    RoomType,
    Stay,
    find_room,
    party_too_big,
    quote,
)
from app.hotel.errors import ToolError
from app.hotel.spoken import decimal_amount, last_digits, spelled, spoken_date, spoken_money
from app.hotel.tools.registry import Tool, ToolContext, ToolResult

HOLD_MINUTES = 15
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StayArgs(_Args):
    check_in: dt.date = Field(description="Arrival date, YYYY-MM-DD")
    check_out: dt.date | None = Field(
        None, description="Departure date, YYYY-MM-DD; or give nights instead"
    )
    nights: Annotated[int, Field(ge=1, le=MAX_NIGHTS)] | None = Field(
        None, description="Number of nights, when no check_out is given"
    )
    adults: Annotated[int, Field(ge=1, le=20)] = Field(description="Adults staying")
    children: Annotated[int, Field(ge=0, le=20)] = Field(0, description="Children staying")

    @model_validator(mode="after")
    def _length(self) -> StayArgs:
        if self.check_out is None and self.nights is None:
            raise ValueError("say how many nights, or the check-out date")
        return self

    def stay(self, today: dt.date) -> Stay:
        check_out = self.check_out or self.check_in + dt.timedelta(days=self.nights or 1)
        return Stay.checked(self.check_in, check_out, self.adults, self.children, today)


class CheckAvailabilityArgs(StayArgs):
    room_type: str | None = Field(None, description="A room type code or name; omit for all")


class CreateReservationArgs(StayArgs):
    room_type: str = Field(description="The room type the caller chose (code or name)")
    guest_name: Annotated[str, Field(min_length=2, max_length=120)] = Field(
        description="The guest's full name"
    )
    phone: str | None = Field(
        None, description="Guest phone; omit to use the number the caller is calling from"
    )
    email: str | None = Field(None, description="Guest email address, if given")


class CreateLeadArgs(_Args):
    interest: Annotated[str, Field(min_length=3, max_length=500)] = Field(
        description="What the caller wants, in a sentence"
    )
    name: str | None = None
    phone: str | None = Field(None, description="Omit to use the number calling")
    email: str | None = None
    consent_to_contact: bool = Field(
        description="The caller agreed that the hotel may contact them about this"
    )
    check_in: dt.date | None = None
    check_out: dt.date | None = None
    adults: Annotated[int, Field(ge=1, le=50)] | None = None
    children: Annotated[int, Field(ge=0, le=50)] | None = None
    room_type: str | None = None


def guest_phone(raw: str | None, context: ToolContext) -> str | None:
    """E.164 from what the caller said (national form in the property's country is fine);
    none given means the number they are calling from."""
    if raw is None or not raw.strip():
        return context.caller_e164
    try:
        number = phonenumbers.parse(raw, context.prop.address.country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ToolError(
            "That phone number doesn't look complete. Could you give it to me again, "
            "with the area code?"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def guest_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = raw.strip().lower().replace(" at ", "@").replace(" dot ", ".").replace(" ", "")
    if not _EMAIL.match(email):
        raise ToolError("That email address doesn't look right. Could you spell it for me?")
    return email


def _count(n: int, thing: str) -> str:
    return f"{_NUMBER_WORDS.get(n, str(n))} {thing}{'' if n == 1 else 's'}"


def _party(stay: Stay) -> str:
    party = _count(stay.adults, "adult")
    if stay.children:
        party += f" and {_count(stay.children, 'child').replace('childs', 'children')}"
    return party


def _stay_words(stay: Stay, today: dt.date) -> str:
    return (
        f"{_count(len(stay.nights), 'night')} from {spoken_date(stay.check_in, today)} "
        f"to {spoken_date(stay.check_out, today)}"
    )


def _too_small(room: RoomType) -> ToolError:
    children = _count(room.max_children, "child").replace("childs", "children")
    return ToolError(
        f"The {room.name} takes up to {room.max_adults} adults and {children}, "
        f"{room.max_occupancy} guests in all. Shall I look at a larger room?"
    )


def _option_json(option: Option, currency: str) -> dict[str, Any]:
    return {
        "room_type": option.room.code,
        "name": option.room.name,
        "rooms_left": option.available,
        "bookable": option.bookable,
        "minimum_nights": option.minimum_nights,
        "nightly_prices": [decimal_amount(c) for c in option.nightly_cents],
        "total": decimal_amount(option.total_cents),
        "currency": currency,
    }


def _option_words(option: Option, currency: str) -> str:
    nights = len(option.nightly_cents)
    text = f"the {option.room.name} at {spoken_money(option.total_cents, currency)} in total"
    if nights > 1 and len(set(option.nightly_cents)) == 1:
        text += f", {spoken_money(option.nightly_cents[0], currency)} a night"
    return text


def _summary(stay: Stay, options: list[Option], today: dt.date, currency: str) -> str:
    bookable = [o for o in options if o.bookable]
    head = f"For {_stay_words(stay, today)}, for {_party(stay)}"
    notes = [
        f"The {o.room.name} needs at least {_count(o.minimum_nights, 'night')} then."
        for o in options
        if o.available > 0 and not o.bookable
    ]
    if not bookable:
        text = f"I'm sorry, we have nothing available {head[4:]}."
    else:
        shown = bookable[:3]
        listed = "; ".join(_option_words(o, currency) for o in shown)
        text = f"{head}, I have {listed}."
        if len(shown) == 1 and shown[0].available <= 2:
            text += f" That is one of our last {_count(shown[0].available, 'room')} of that kind."
    return " ".join([text, *notes])


class BookingTools:
    def __init__(self, store: BookingStore) -> None:
        self.store = store

    def tools(self) -> list[Tool[Any]]:
        return [
            Tool(
                "check_availability",
                "Rooms free for a stay with their nightly and total prices (a quote). "
                "Use before offering or booking a room.",
                CheckAvailabilityArgs,
                self.check_availability,
            ),
            Tool(
                "create_reservation",
                "Book one room once the caller has chosen it and given their name. "
                "Read the confirmation code back to them.",
                CreateReservationArgs,
                self.create_reservation,
            ),
            Tool(
                "create_lead",
                "Save a caller's interest and contact details when they are not ready to book, "
                "so the team can follow up. Only with their consent.",
                CreateLeadArgs,
                self.create_lead,
            ),
        ]

    async def _rooms(self, context: ToolContext) -> list[RoomType]:
        rooms = await self.store.room_types(context.prop.id)
        if not rooms:
            raise ToolError("I can't see our rooms right now. Let me put you through to the desk.")
        return rooms

    async def check_availability(
        self, args: CheckAvailabilityArgs, context: ToolContext
    ) -> ToolResult:
        stay = args.stay(context.today)
        rooms = await self._rooms(context)
        if args.room_type:
            room = find_room(rooms, args.room_type)
            if not room.fits(stay.adults, stay.children):
                raise _too_small(room)
            rooms = [room]
        elif not any(r.fits(stay.adults, stay.children) for r in rooms):
            raise party_too_big(rooms, stay)
        options = quote(rooms, stay, await self.store.availability(context.prop.id, stay))
        currency = context.prop.currency
        return ToolResult(
            {
                "check_in": stay.check_in.isoformat(),
                "check_out": stay.check_out.isoformat(),
                "nights": len(stay.nights),
                "adults": stay.adults,
                "children": stay.children,
                "options": [_option_json(o, currency) for o in options],
                "summary": _summary(stay, options, context.today, currency),
            }
        )

    async def create_reservation(
        self, args: CreateReservationArgs, context: ToolContext
    ) -> ToolResult:
        stay = args.stay(context.today)
        rooms = await self._rooms(context)
        room = find_room(rooms, args.room_type)
        if not room.fits(stay.adults, stay.children):
            raise _too_small(room)
        phone, email = guest_phone(args.phone, context), guest_email(args.email)
        if phone is None and email is None:
            raise ToolError("I need a phone number or an email address for the booking.")
        [option] = quote([room], stay, await self.store.availability(context.prop.id, stay))
        if option.available > 0 and not option.bookable:
            raise ToolError(
                f"The {room.name} needs at least {_count(option.minimum_nights, 'night')} "
                "for those dates."
            )
        currency = context.prop.currency
        booking = await self.store.hold(
            context.prop.id,
            room,
            stay,
            Guest(args.guest_name, phone, email),
            option.total_cents,
            currency,
            context.call_id,
            HOLD_MINUTES,
        )
        await self.store.confirm(booking.id)
        today = context.today
        summary = (
            f"You're booked in the {room.name} for {_stay_words(stay, today)}, for "
            f"{_party(stay)}, {spoken_money(booking.total_cents, currency)} in total. "
            f"Your confirmation code is {spelled(booking.confirmation_code)}."
        )
        return ToolResult(
            {
                "confirmation_code": booking.confirmation_code,
                "confirmation_code_spoken": spelled(booking.confirmation_code),
                "room_type": room.code,
                "check_in": stay.check_in.isoformat(),
                "check_out": stay.check_out.isoformat(),
                "total": decimal_amount(booking.total_cents),
                "currency": currency,
                "summary": summary,
            },
            outcome="booked",
        )

    async def create_lead(self, args: CreateLeadArgs, context: ToolContext) -> ToolResult:
        if not args.consent_to_contact:
            raise ToolError(
                "I can only pass your details to the team if you're happy for us to contact "
                "you. Is that all right?"
            )
        phone, email = guest_phone(args.phone, context), guest_email(args.email)
        if phone is None and email is None:
            raise ToolError("What's the best phone number or email address to reach you?")
        if args.check_in and args.check_out and args.check_out <= args.check_in:
            raise ToolError("The check-out date needs to be after the check-in date.")
        room_code = None
        if args.room_type:
            room_code = find_room(await self._rooms(context), args.room_type).code
        lead = Lead(
            interest=context.private(args.interest),  # for the sales team
            name=args.name,
            phone_e164=phone,
            email=email,
            consent_to_contact=True,
            check_in=args.check_in,
            check_out=args.check_out,
            adults=args.adults,
            children=args.children,
            room_type_code=room_code,
        )
        lead_id = await self.store.add_lead(context.prop.id, lead, context.call_id)
        reach = f"the number ending {last_digits(phone)}" if phone else f"{email}"
        who = f"{args.name}, " if args.name else ""
        return ToolResult(
            {
                "lead_id": str(lead_id),
                "summary": (
                    f"I've noted it: {who}{args.interest}. The team will contact you on {reach}."
                ),
            },
            outcome="lead",
        )
