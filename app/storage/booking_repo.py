"""Rooms, rates, inventory, reservations and leads: the SQL behind the booking tools.

Overbooking is impossible by construction: a hold takes one room on every night with a
single UPDATE … WHERE held + booked < total, in the same transaction that inserts the
reservation; if any night is full the UPDATE touches fewer rows and the whole transaction
is rolled back. Row locks serialise concurrent holds on the same nights, and the
inventory table's CHECK (held + booked <= total) is the last line whatever the code does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid

import asyncpg

from app.hotel.booking import Availability, Booking, Guest, Lead, RoomType, Season, Stay
from app.hotel.errors import SoldOut

# No 0/O or 1/I: a code read over the phone must not be misheard.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_confirmation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class BookingRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def room_types(self, property_id: str) -> list[RoomType]:
        async with self._pool.acquire() as conn:
            rooms = await conn.fetch(
                """SELECT id, code, name, description, max_adults, max_children, max_occupancy,
                          base_rate_cents, weekend_rate_cents, min_stay
                   FROM room_types WHERE property_id = $1 AND active ORDER BY id""",
                property_id,
            )
            seasons = await conn.fetch(
                """SELECT room_type_id, name, starts_on, ends_on, nightly_rate_cents,
                          weekend_rate_cents, min_stay
                   FROM rates WHERE property_id = $1 ORDER BY starts_on""",
                property_id,
            )
        by_room: dict[int, list[Season]] = {}
        for s in seasons:
            by_room.setdefault(s["room_type_id"], []).append(
                Season(
                    s["name"],
                    s["starts_on"],
                    s["ends_on"],
                    s["nightly_rate_cents"],
                    s["weekend_rate_cents"],
                    s["min_stay"],
                )
            )
        return [
            RoomType(
                code=r["code"],
                name=r["name"],
                description=r["description"],
                max_adults=r["max_adults"],
                max_children=r["max_children"],
                max_occupancy=r["max_occupancy"],
                base_cents=r["base_rate_cents"],
                weekend_cents=r["weekend_rate_cents"],
                min_stay=r["min_stay"],
                seasons=tuple(by_room.get(r["id"], [])),
            )
            for r in rooms
        ]

    async def availability(self, property_id: str, stay: Stay) -> Availability:
        nights = len(stay.nights)
        rows = await self._pool.fetch(
            """SELECT rt.code, count(i.stay_date) AS nights, min(i.total - i.held - i.booked) AS free
               FROM room_types rt
               LEFT JOIN inventory i ON i.room_type_id = rt.id
                    AND i.stay_date >= $2 AND i.stay_date < $3
               WHERE rt.property_id = $1 AND rt.active
               GROUP BY rt.code""",
            property_id,
            stay.check_in,
            stay.check_out,
        )
        return Availability(
            {r["code"]: (r["free"] if r["nights"] == nights else None) for r in rows}
        )

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
        booking = Booking(uuid.uuid4(), "", room, stay, guest, total_cents, currency)
        for _ in range(5):  # a fresh code on the (rare) collision
            booking = dataclasses.replace(booking, confirmation_code=new_confirmation_code())
            try:
                await self._hold(property_id, booking, call_id, hold_minutes)
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name != "reservations_confirmation_code_key":
                    raise
                continue
            except asyncpg.ForeignKeyViolationError as exc:
                # The call's own row is still in the write-behind queue (database was
                # briefly away): keep the booking, lose only its link to the call.
                if exc.constraint_name != "reservations_call_id_fkey" or call_id is None:
                    raise
                call_id = None
                continue
            return booking
        raise RuntimeError("could not find a free confirmation code")

    async def _hold(
        self, property_id: str, booking: Booking, call_id: uuid.UUID | None, hold_minutes: int
    ) -> None:
        stay, room, guest = booking.stay, booking.room, booking.guest
        async with self._pool.acquire() as conn, conn.transaction():
            room_type_id = await conn.fetchval(
                "SELECT id FROM room_types WHERE property_id = $1 AND code = $2",
                property_id,
                room.code,
            )
            taken = await conn.fetch(
                """UPDATE inventory SET held = held + 1
                   WHERE room_type_id = $1 AND stay_date >= $2 AND stay_date < $3
                     AND held + booked < total
                   RETURNING stay_date""",
                room_type_id,
                stay.check_in,
                stay.check_out,
            )
            if len(taken) != len(stay.nights):
                # Raising rolls back the nights already taken.
                raise SoldOut(
                    f"I'm sorry, the last {room.name} for those dates has just been taken. "
                    "Shall I look at another room?"
                )
            await conn.execute(
                """INSERT INTO reservations (id, property_id, room_type_id, confirmation_code,
                       call_id, status, check_in, check_out, adults, children, guest_name,
                       guest_phone_e164, guest_email, total_cents, currency, hold_expires_at)
                   VALUES ($1, $2, $3, $4, $5, 'held', $6, $7, $8, $9, $10, $11, $12, $13, $14,
                           now() + make_interval(mins => $15))""",
                booking.id,
                property_id,
                room_type_id,
                booking.confirmation_code,
                call_id,
                stay.check_in,
                stay.check_out,
                stay.adults,
                stay.children,
                guest.name,
                guest.phone_e164,
                guest.email,
                booking.total_cents,
                booking.currency,
                hold_minutes,
            )

    async def confirm(self, booking_id: uuid.UUID) -> None:
        """Held → confirmed: the room moves from held to booked on every night."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """UPDATE reservations SET status = 'confirmed', hold_expires_at = NULL
                   WHERE id = $1 AND status = 'held'
                   RETURNING room_type_id, check_in, check_out""",
                booking_id,
            )
            if row is None:
                raise SoldOut("I'm sorry, that hold has expired. Shall I check again?")
            await conn.execute(
                """UPDATE inventory SET held = held - 1, booked = booked + 1
                   WHERE room_type_id = $1 AND stay_date >= $2 AND stay_date < $3""",
                row["room_type_id"],
                row["check_in"],
                row["check_out"],
            )

    async def release_expired_holds(self, now: dt.datetime | None = None) -> int:
        """Holds nobody confirmed in time give their rooms back; returns how many expired."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """UPDATE reservations SET status = 'expired'
                   WHERE status = 'held' AND hold_expires_at <= coalesce($1, now())
                   RETURNING room_type_id, check_in, check_out""",
                now,
            )
            for r in rows:
                await conn.execute(
                    """UPDATE inventory SET held = held - 1
                       WHERE room_type_id = $1 AND stay_date >= $2 AND stay_date < $3""",
                    r["room_type_id"],
                    r["check_in"],
                    r["check_out"],
                )
        return len(rows)

    async def add_lead(self, property_id: str, lead: Lead, call_id: uuid.UUID | None) -> uuid.UUID:
        return await self._pool.fetchval(  # type: ignore[no-any-return]
            """INSERT INTO leads (property_id, call_id, name, phone_e164, email, interest,
                   check_in, check_out, adults, children, room_type_code, consent_to_contact)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id""",
            property_id,
            call_id,
            lead.name,
            lead.phone_e164,
            lead.email,
            lead.interest,
            lead.check_in,
            lead.check_out,
            lead.adults,
            lead.children,
            lead.room_type_code,
            lead.consent_to_contact,
        )
