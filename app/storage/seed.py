"""Loading `config/hotel.yaml` into the database (`frontdesk seed`), idempotently.

Running it twice changes nothing the second time: rows are upserted by their natural keys
(property id, dialled number, room-type code, season name) and keep their ids. A room type
that left the configuration is deactivated, not deleted: reservations still point at it.
Inventory rows are made for every night from today (in the property's time zone) over the
horizon; lowering a room count below what is already held or booked is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import asyncpg

from app.hotel.config import HotelConfig, PropertyConfig, RoomTypeConfig, to_cents

DEFAULT_HORIZON_DAYS = 400


class SeedError(Exception):
    """The configuration cannot be applied to the data already there; nothing was changed."""


@dataclass
class SeedReport:
    properties: int = 0
    numbers: int = 0
    room_types: int = 0
    deactivated_room_types: list[str] = field(default_factory=list)
    rates: int = 0
    inventory_rows_added: int = 0
    inventory_rows_changed: int = 0


async def seed(
    pool: asyncpg.Pool,
    config: HotelConfig,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    now: dt.datetime | None = None,
) -> SeedReport:
    """Apply the whole configuration in one transaction: all of it or none of it."""
    report = SeedReport()
    now = now or dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        # One seeder at a time (two app instances starting together).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('frontdesk.seed'))")
        for prop in config.properties:
            today = now.astimezone(ZoneInfo(prop.timezone)).date()
            await _seed_property(conn, prop, today, horizon_days, report)
    return report


async def _seed_property(
    conn: asyncpg.Connection,
    prop: PropertyConfig,
    today: dt.date,
    horizon_days: int,
    report: SeedReport,
) -> None:
    await conn.execute(
        """
        INSERT INTO properties (id, name, timezone, phone_e164, currency)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,
            phone_e164 = excluded.phone_e164, currency = excluded.currency
        WHERE (properties.name, properties.timezone, properties.phone_e164, properties.currency)
              IS DISTINCT FROM (excluded.name, excluded.timezone, excluded.phone_e164, excluded.currency)
        """,
        prop.id,
        prop.name,
        prop.timezone,
        prop.phone,
        prop.currency,
    )
    report.properties += 1

    numbers = list(prop.dialled_numbers)
    await conn.execute(
        "DELETE FROM property_numbers WHERE property_id = $1 AND NOT e164 = ANY($2::text[])",
        prop.id,
        numbers,
    )
    await conn.executemany(
        """INSERT INTO property_numbers (e164, property_id) VALUES ($1, $2)
           ON CONFLICT (e164) DO UPDATE SET property_id = excluded.property_id
           WHERE property_numbers.property_id <> excluded.property_id""",
        [(number, prop.id) for number in numbers],
    )
    report.numbers += len(numbers)

    codes = [room.code for room in prop.room_types]
    deactivated = await conn.fetch(
        """UPDATE room_types SET active = false
           WHERE property_id = $1 AND active AND NOT code = ANY($2::text[]) RETURNING code""",
        prop.id,
        codes,
    )
    report.deactivated_room_types += [f"{prop.id}/{row['code']}" for row in deactivated]
    for room in prop.room_types:
        room_type_id = await _upsert_room_type(conn, prop.id, room)
        report.room_types += 1
        report.rates += await _sync_rates(conn, prop.id, room_type_id, room)
        added, changed = await _sync_inventory(
            conn, prop.id, room_type_id, room, today, horizon_days
        )
        report.inventory_rows_added += added
        report.inventory_rows_changed += changed


async def _upsert_room_type(
    conn: asyncpg.Connection, property_id: str, room: RoomTypeConfig
) -> int:
    values = (
        room.name,
        room.description,
        room.max_adults,
        room.max_children,
        room.max_occupancy,
        room.inventory,
        to_cents(room.base_rate),
        to_cents(room.weekend_rate) if room.weekend_rate is not None else None,
        room.min_stay,
    )
    row_id = await conn.fetchval(
        """
        INSERT INTO room_types AS r (property_id, code, name, description, max_adults, max_children,
                                max_occupancy, inventory_count, base_rate_cents, weekend_rate_cents,
                                min_stay)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (property_id, code) DO UPDATE SET
            name = excluded.name, description = excluded.description,
            max_adults = excluded.max_adults, max_children = excluded.max_children,
            max_occupancy = excluded.max_occupancy, inventory_count = excluded.inventory_count,
            base_rate_cents = excluded.base_rate_cents,
            weekend_rate_cents = excluded.weekend_rate_cents, min_stay = excluded.min_stay,
            active = true
        WHERE (r.name, r.description, r.max_adults, r.max_children, r.max_occupancy,
               r.inventory_count, r.base_rate_cents, r.weekend_rate_cents, r.min_stay, r.active)
              IS DISTINCT FROM
              (excluded.name, excluded.description, excluded.max_adults, excluded.max_children,
               excluded.max_occupancy, excluded.inventory_count, excluded.base_rate_cents,
               excluded.weekend_rate_cents, excluded.min_stay, true)
        RETURNING id
        """,
        property_id,
        room.code,
        *values,
    )
    if row_id is None:  # unchanged: the conditional upsert returns nothing
        row_id = await conn.fetchval(
            "SELECT id FROM room_types WHERE property_id = $1 AND code = $2", property_id, room.code
        )
    return int(row_id)


async def _sync_rates(
    conn: asyncpg.Connection, property_id: str, room_type_id: int, room: RoomTypeConfig
) -> int:
    wanted = {
        (
            season.name,
            season.start,
            season.end,
            to_cents(season.rate),
            to_cents(season.weekend_rate) if season.weekend_rate is not None else None,
            season.min_stay,
        )
        for season in room.seasonal_rates
    }
    rows = await conn.fetch(
        """SELECT name, starts_on, ends_on, nightly_rate_cents, weekend_rate_cents, min_stay
           FROM rates WHERE room_type_id = $1""",
        room_type_id,
    )
    if {tuple(row.values()) for row in rows} == wanted:
        return len(wanted)
    # Seasons changed: replace them together, so moved dates never collide half-way
    # with the no-overlap constraint.
    await conn.execute("DELETE FROM rates WHERE room_type_id = $1", room_type_id)
    await conn.executemany(
        """INSERT INTO rates (property_id, room_type_id, name, starts_on, ends_on,
                              nightly_rate_cents, weekend_rate_cents, min_stay)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [(property_id, room_type_id, *season) for season in sorted(wanted)],
    )
    return len(wanted)


async def _sync_inventory(
    conn: asyncpg.Connection,
    property_id: str,
    room_type_id: int,
    room: RoomTypeConfig,
    today: dt.date,
    horizon_days: int,
) -> tuple[int, int]:
    last = today + dt.timedelta(days=horizon_days - 1)
    clash = await conn.fetchrow(
        """SELECT stay_date, held + booked AS taken FROM inventory
           WHERE room_type_id = $1 AND stay_date BETWEEN $2 AND $3 AND held + booked > $4
           ORDER BY stay_date LIMIT 1""",
        room_type_id,
        today,
        last,
        room.inventory,
    )
    if clash:
        raise SeedError(
            f"{property_id}: cannot set {room.code} inventory to {room.inventory}: "
            f"{clash['taken']} rooms are already held or booked for {clash['stay_date']}"
        )
    changed = await conn.fetchval(
        """WITH changed AS (
               UPDATE inventory SET total = $4
               WHERE room_type_id = $1 AND stay_date BETWEEN $2 AND $3 AND total <> $4
               RETURNING 1)
           SELECT count(*) FROM changed""",
        room_type_id,
        today,
        last,
        room.inventory,
    )
    added = await conn.fetchval(
        """WITH added AS (
               INSERT INTO inventory (property_id, room_type_id, stay_date, total)
               SELECT $1, $2, d::date, $5 FROM generate_series($3::date, $4::date, interval '1 day') d
               ON CONFLICT (room_type_id, stay_date) DO NOTHING
               RETURNING 1)
           SELECT count(*) FROM added""",
        property_id,
        room_type_id,
        today,
        last,
        room.inventory,
    )
    return int(added), int(changed)
