"""Stays, prices and bookings: the hotel's rules, free of any database or engine.

A stay is a set of nights [check_in, check_out). Each night is priced on its own: a season
covering that night wins over the room's own rates, and Friday and Saturday nights take the
weekend rate where one is set. The longest minimum stay among the room and the seasons the
stay touches applies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.hotel.errors import ToolError

MAX_NIGHTS = 30
WEEKEND_NIGHTS = (4, 5)  # Friday and Saturday


@dataclass(frozen=True)
class Season:
    name: str
    starts_on: dt.date
    ends_on: dt.date  # inclusive: the season's last night
    nightly_cents: int
    weekend_cents: int | None = None
    min_stay: int | None = None

    def covers(self, night: dt.date) -> bool:
        return self.starts_on <= night <= self.ends_on


@dataclass(frozen=True)
class RoomType:
    code: str
    name: str
    description: str
    max_adults: int
    max_children: int
    max_occupancy: int
    base_cents: int
    weekend_cents: int | None
    min_stay: int
    seasons: tuple[Season, ...] = ()

    def fits(self, adults: int, children: int) -> bool:
        return (
            adults <= self.max_adults
            and children <= self.max_children
            and adults + children <= self.max_occupancy
        )

    def night_price(self, night: dt.date) -> int:
        weekend = night.weekday() in WEEKEND_NIGHTS
        for season in self.seasons:
            if season.covers(night):
                if weekend and season.weekend_cents is not None:
                    return season.weekend_cents
                return season.nightly_cents
        if weekend and self.weekend_cents is not None:
            return self.weekend_cents
        return self.base_cents

    def minimum_nights(self, nights: Sequence[dt.date]) -> int:
        touched = [s.min_stay for s in self.seasons if s.min_stay and any(map(s.covers, nights))]
        return max([self.min_stay, *touched])


@dataclass(frozen=True)
class Stay:
    check_in: dt.date
    check_out: dt.date
    adults: int
    children: int = 0

    @property
    def nights(self) -> list[dt.date]:
        count = (self.check_out - self.check_in).days
        return [self.check_in + dt.timedelta(days=i) for i in range(count)]

    @classmethod
    def checked(
        cls, check_in: dt.date, check_out: dt.date, adults: int, children: int, today: dt.date
    ) -> Stay:
        """A stay the hotel can quote, or a ToolError saying why not, in the caller's terms."""
        if check_in < today:
            raise ToolError(
                "That arrival date has already passed. Which date would you like to arrive?"
            )
        if check_out <= check_in:
            raise ToolError("The check-out date needs to be after the check-in date.")
        if (check_out - check_in).days > MAX_NIGHTS:
            raise ToolError(
                f"I can book up to {MAX_NIGHTS} nights at a time; for a longer stay our "
                "reservations team will make you an offer."
            )
        if adults < 1:
            raise ToolError("At least one adult needs to be on the booking.")
        if children < 0:
            raise ToolError("The number of children can't be negative.")
        return cls(check_in, check_out, adults, children)


@dataclass(frozen=True)
class Option:
    """One room type quoted for a stay."""

    room: RoomType
    available: int
    nightly_cents: tuple[int, ...]
    minimum_nights: int

    @property
    def total_cents(self) -> int:
        return sum(self.nightly_cents)

    @property
    def bookable(self) -> bool:
        return self.available > 0 and len(self.nightly_cents) >= self.minimum_nights


@dataclass(frozen=True)
class Guest:
    name: str
    phone_e164: str | None
    email: str | None


@dataclass(frozen=True)
class Booking:
    id: uuid.UUID
    confirmation_code: str
    room: RoomType
    stay: Stay
    guest: Guest
    total_cents: int
    currency: str


@dataclass(frozen=True)
class Lead:
    interest: str
    name: str | None
    phone_e164: str | None
    email: str | None
    consent_to_contact: bool
    check_in: dt.date | None = None
    check_out: dt.date | None = None
    adults: int | None = None
    children: int | None = None
    room_type_code: str | None = None


@dataclass
class Availability:
    """Free rooms per room type code for every night of a stay (min over the nights);
    None when some night lies beyond the inventory the hotel has opened for booking."""

    free: dict[str, int | None] = field(default_factory=dict)


class BookingStore(Protocol):
    """What the booking tools need from storage (implemented in app/storage)."""

    async def room_types(self, property_id: str) -> list[RoomType]: ...

    async def availability(self, property_id: str, stay: Stay) -> Availability: ...

    async def hold(
        self,
        property_id: str,
        room: RoomType,
        stay: Stay,
        guest: Guest,
        total_cents: int,
        currency: str,
        call_id: uuid.UUID | None,
        hold_minutes: int,
    ) -> Booking:
        """Reserve one room for every night (status held); SoldOut when any night is full."""
        ...

    async def confirm(self, booking_id: uuid.UUID) -> None: ...

    async def add_lead(
        self, property_id: str, lead: Lead, call_id: uuid.UUID | None
    ) -> uuid.UUID: ...


def find_room(rooms: Sequence[RoomType], wanted: str) -> RoomType:
    """A room type by code or by (part of) its name, as a caller or a model would say it."""
    key = wanted.strip().lower().replace("_", "-")
    for room in rooms:
        if key in (room.code, room.name.lower()):
            return room
    spoken = key.replace("-", " ")
    matches = [r for r in rooms if spoken in r.name.lower() or spoken in r.code.replace("-", " ")]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(r.name for r in rooms)
    if matches:
        names = ", ".join(r.name for r in matches)
        raise ToolError(f"Did you mean the {names}?")
    raise ToolError(f"We don't have a room called {wanted}. Our rooms are: {names}.")


def quote(rooms: Sequence[RoomType], stay: Stay, availability: Availability) -> list[Option]:
    """Every room type that fits the party, priced night by night, cheapest first."""
    nights = stay.nights
    options = []
    for room in rooms:
        if not room.fits(stay.adults, stay.children):
            continue
        free = availability.free.get(room.code)
        options.append(
            Option(
                room=room,
                available=free or 0,
                nightly_cents=tuple(room.night_price(n) for n in nights),
                minimum_nights=room.minimum_nights(nights),
            )
        )
    return sorted(options, key=lambda o: (not o.bookable, o.total_cents))


def party_too_big(rooms: Sequence[RoomType], stay: Stay) -> ToolError:
    largest = max(r.max_occupancy for r in rooms)
    return ToolError(
        f"Our largest rooms take {largest} guests, so a party of {stay.adults + stay.children} "
        "would need more than one room. I can book them one at a time, or pass you to our "
        "reservations team."
    )
