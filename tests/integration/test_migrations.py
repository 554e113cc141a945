"""The schema: up, down and up again leave the same schema; constraints keep data sane."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from app.storage import migrate

SCHEMA_SNAPSHOT = {
    "columns": """SELECT table_name, column_name, data_type, domain_name, is_nullable,
                         column_default
                  FROM information_schema.columns WHERE table_schema = 'public'
                  ORDER BY 1, 2""",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                      ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes
                  WHERE schemaname = 'public' ORDER BY 1, 2""",
    "triggers": """SELECT event_object_table, trigger_name, action_statement
                   FROM information_schema.triggers ORDER BY 1, 2""",
    "functions": """SELECT proname, pg_get_functiondef(oid) FROM pg_proc
                    WHERE pronamespace = 'public'::regnamespace AND prokind = 'f'
                      AND proname = 'set_updated_at'""",
}

TABLES = {
    "calls",
    "turns",
    "tool_invocations",
    "recordings",
    "room_types",
    "rates",
    "inventory",
    "reservations",
    "leads",
    "payment_links",
    "sms_messages",
    "sms_opt_outs",
    "callbacks",
    "sync_outbox",
    "users",
    "audit_log",
    "properties",
    "property_numbers",
    "web_sessions",
}


async def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(url)
    try:
        return {k: [tuple(r) for r in await conn.fetch(q)] for k, q in SCHEMA_SNAPSHOT.items()}
    finally:
        await conn.close()


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} - {"alembic_version"}


async def test_upgrade_downgrade_upgrade_gives_the_same_schema(empty_db_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db_url)
    first = await _snapshot(empty_db_url)
    assert await _tables(empty_db_url) == TABLES
    assert len(first["constraints"]) > 60

    await asyncio.to_thread(migrate.downgrade, empty_db_url, "base")
    assert await _tables(empty_db_url) == set()

    await asyncio.to_thread(migrate.upgrade, empty_db_url)
    assert await _snapshot(empty_db_url) == first


async def test_every_hotel_table_carries_a_property(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            """SELECT table_name FROM information_schema.columns
               WHERE table_schema = 'public' AND column_name = 'property_id'"""
        )
    finally:
        await conn.close()
    with_property = {r["table_name"] for r in rows}
    # Children of a call reach their property through the call; opt-outs are per phone; a web
    # session through its user.
    assert TABLES - with_property == {
        "turns",
        "tool_invocations",
        "properties",
        "sms_opt_outs",
        "web_sessions",
    }


@pytest.fixture
async def conn(db_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(db_url)
    await conn.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency)
           VALUES ('demo', 'Demo', 'UTC', '+15550100001', 'USD')"""
    )
    room_id = await conn.fetchval(
        """INSERT INTO room_types (property_id, code, name, max_adults, max_children,
                                   max_occupancy, inventory_count, base_rate_cents)
           VALUES ('demo', 'king', 'King', 2, 1, 3, 1, 18900) RETURNING id"""
    )
    await conn.execute(
        "INSERT INTO inventory (property_id, room_type_id, stay_date, total) VALUES ('demo', $1, $2, 1)",
        room_id,
        dt.date(2027, 3, 1),
    )
    yield conn
    await conn.close()


BAD_ROWS = [
    pytest.param(
        "UPDATE inventory SET booked = 2", asyncpg.CheckViolationError, id="oversold-inventory"
    ),
    pytest.param("UPDATE inventory SET held = -1", asyncpg.CheckViolationError, id="negative-held"),
    pytest.param(
        """INSERT INTO reservations (property_id, room_type_id, confirmation_code, status, check_in,
               check_out, adults, guest_name, guest_email, total_cents, currency)
           SELECT 'demo', id, 'ABC123', 'confirmed', '2027-03-02', '2027-03-01', 2, 'Ann',
                  'ann@example.com', 100, 'USD' FROM room_types""",
        asyncpg.CheckViolationError,
        id="check-out-before-check-in",
    ),
    pytest.param(
        """INSERT INTO reservations (property_id, room_type_id, confirmation_code, status, check_in,
               check_out, adults, guest_name, total_cents, currency)
           SELECT 'demo', id, 'ABC123', 'confirmed', '2027-03-01', '2027-03-02', 2, 'Ann', 100, 'USD'
           FROM room_types""",
        asyncpg.CheckViolationError,
        id="reservation-without-contact",
    ),
    pytest.param(
        """INSERT INTO reservations (property_id, room_type_id, confirmation_code, status, check_in,
               check_out, adults, guest_name, guest_email, total_cents, currency)
           SELECT 'demo', id, 'ABC123', 'held', '2027-03-01', '2027-03-02', 2, 'Ann',
                  'ann@example.com', 100, 'USD' FROM room_types""",
        asyncpg.CheckViolationError,
        id="hold-without-expiry",
    ),
    pytest.param(
        """INSERT INTO calls (property_id, direction, caller_e164) VALUES ('demo', 'inbound', '5551234')""",
        asyncpg.CheckViolationError,
        id="phone-not-e164",
    ),
    pytest.param(
        """INSERT INTO calls (property_id, direction) VALUES ('nowhere', 'inbound')""",
        asyncpg.ForeignKeyViolationError,
        id="call-for-unknown-property",
    ),
    pytest.param(
        """INSERT INTO calls (property_id, direction, state) VALUES ('demo', 'inbound', 'ended')""",
        asyncpg.CheckViolationError,
        id="ended-call-without-end-time",
    ),
    pytest.param(
        """INSERT INTO rates (property_id, room_type_id, name, starts_on, ends_on, nightly_rate_cents)
           SELECT 'demo', id, 'summer', date '2027-06-01', date '2027-08-31', 20000 FROM room_types
           UNION ALL
           SELECT 'demo', id, 'late summer', date '2027-08-15', date '2027-09-15', 21000 FROM room_types""",
        asyncpg.ExclusionViolationError,
        id="overlapping-seasons",
    ),
    pytest.param(
        """INSERT INTO rates (property_id, room_type_id, name, starts_on, ends_on, nightly_rate_cents)
           SELECT 'other', id, 'summer', '2027-06-01', '2027-08-31', 20000 FROM room_types""",
        asyncpg.ForeignKeyViolationError,
        id="rate-for-another-propertys-room",
    ),
    pytest.param(
        """INSERT INTO room_types (property_id, code, name, max_adults, max_children, max_occupancy,
               inventory_count, base_rate_cents) VALUES ('demo', 'twin', 'Twin', 2, 0, 3, 4, 100)""",
        asyncpg.CheckViolationError,
        id="occupancy-above-adults-plus-children",
    ),
    pytest.param(
        """INSERT INTO users (email, password_hash, role) VALUES ('A@x.io', 'h', 'admin'),
                                                             ('a@X.io', 'h', 'staff')""",
        asyncpg.UniqueViolationError,
        id="email-unique-ignoring-case",
    ),
]


@pytest.mark.parametrize(("sql", "error"), BAD_ROWS)
async def test_constraints_refuse_bad_rows(
    conn: asyncpg.Connection, sql: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await conn.execute(sql)


async def test_confirmation_codes_are_unique_across_properties(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency)
           VALUES ('other', 'Other', 'UTC', '+15550100002', 'USD')"""
    )
    other_room = await conn.fetchval(
        """INSERT INTO room_types (property_id, code, name, max_adults, max_children,
               max_occupancy, inventory_count, base_rate_cents)
           VALUES ('other', 'king', 'King', 2, 0, 2, 3, 100) RETURNING id"""
    )
    insert = """INSERT INTO reservations (property_id, room_type_id, confirmation_code, status,
                    check_in, check_out, adults, guest_name, guest_email, total_cents, currency)
                VALUES ($1, $2, 'HV7K2Q', 'confirmed', '2027-03-01', '2027-03-02', 1, 'Ann',
                        'ann@example.com', 100, 'USD')"""
    demo_room = await conn.fetchval("SELECT id FROM room_types WHERE property_id = 'demo'")
    await conn.execute(insert, "demo", demo_room)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, "other", other_room)


async def test_updated_at_moves_on_update(conn: asyncpg.Connection) -> None:
    before = await conn.fetchval("SELECT updated_at FROM properties WHERE id = 'demo'")
    await asyncio.sleep(0.01)
    await conn.execute("UPDATE properties SET name = 'Demo Hotel' WHERE id = 'demo'")
    after = await conn.fetchval("SELECT updated_at FROM properties WHERE id = 'demo'")
    assert after > before


async def test_staff_web_sessions_and_taken_over(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO calls (property_id, direction, outcome) VALUES ('demo', 'inbound', 'taken_over')"
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "INSERT INTO calls (property_id, direction, outcome) VALUES ('demo', 'inbound', 'nope')"
        )
    user_id = await conn.fetchval(
        """INSERT INTO users (email, password_hash, role, extension)
           VALUES ('s@x.io', 'h', 'staff', '201') RETURNING id"""
    )
    insert = """INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at)
                VALUES ($1, $2, 'c', now() + interval '1 hour')"""
    await conn.execute(insert, b"\x01" * 32, user_id)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, b"\x01" * 32, user_id)
    await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    assert await conn.fetchval("SELECT count(*) FROM web_sessions") == 0
